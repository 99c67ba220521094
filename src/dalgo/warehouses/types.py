"""The warehouse types: the JSON schema of each one's settings form, which fields are secret, and
how to build its adapter. The same schema validates input on the server and draws the form."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings

from dalgo.core.errors import ValidationFailed
from dalgo.warehouses.adapters.base import WarehouseAdapter

MASK = "********"


@dataclass(frozen=True)
class WarehouseTypeSpec:
    type: str
    label: str
    description: str
    schema: dict[str, Any]
    ui_schema: dict[str, Any] = field(default_factory=dict)
    secret_fields: tuple[str, ...] = ()


BIGQUERY_LOCATIONS = [
    "US", "EU", "asia-south1", "asia-south2", "asia-southeast1", "asia-east1", "asia-northeast1",
    "australia-southeast1", "europe-west1", "europe-west2", "europe-west3", "me-central1", "africa-south1",
    "northamerica-northeast1", "southamerica-east1", "us-central1", "us-east1", "us-west1",
]  # fmt: skip

TYPES: dict[str, WarehouseTypeSpec] = {
    "duckdb": WarehouseTypeSpec(
        type="duckdb",
        label="DuckDB (managed by Dalgo)",
        description="A warehouse file Dalgo creates and looks after for you. Nothing to set up: the best start.",
        schema={"type": "object", "title": "DuckDB", "properties": {}, "additionalProperties": False},
    ),
    "postgres": WarehouseTypeSpec(
        type="postgres",
        label="PostgreSQL",
        description="Your own PostgreSQL database (version 12 or newer).",
        schema={
            "type": "object",
            "title": "PostgreSQL",
            "required": ["host", "port", "database", "username"],
            "properties": {
                "host": {"type": "string", "title": "Host", "minLength": 1, "maxLength": 255},
                "port": {"type": "integer", "title": "Port", "default": 5432, "minimum": 1, "maximum": 65535},
                "database": {"type": "string", "title": "Database", "minLength": 1, "maxLength": 63},
                "username": {"type": "string", "title": "User", "minLength": 1, "maxLength": 63},
                "password": {"type": "string", "title": "Password", "maxLength": 1024},
                "sslmode": {
                    "type": "string",
                    "title": "SSL mode",
                    "enum": ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"],
                    "default": "prefer",
                },
                "ssl_root_cert": {
                    "type": "string",
                    "title": "CA certificate (PEM, optional)",
                    "description": "Needed for verify-ca / verify-full with a private certificate authority.",
                    "maxLength": 20000,
                },
            },
            "additionalProperties": False,
        },
        ui_schema={"password": {"ui:widget": "password"}, "ssl_root_cert": {"ui:widget": "textarea"}},
        secret_fields=("password",),
    ),
    "bigquery": WarehouseTypeSpec(
        type="bigquery",
        label="BigQuery",
        description="Google BigQuery with a service account (roles: BigQuery Data Editor and Job User).",
        schema={
            "type": "object",
            "title": "BigQuery",
            "required": ["project", "location", "service_account_json"],
            "properties": {
                "project": {"type": "string", "title": "Project ID", "minLength": 1, "maxLength": 100},
                "location": {
                    "type": "string",
                    "title": "Dataset location",
                    "enum": BIGQUERY_LOCATIONS,
                    "default": "US",
                },
                "dataset": {"type": "string", "title": "Default dataset (optional)", "maxLength": 1024},
                "service_account_json": {
                    "type": "string",
                    "title": "Service account key (JSON)",
                    "description": "The JSON key file of the service account.",
                    "maxLength": 20000,
                },
            },
            "additionalProperties": False,
        },
        ui_schema={"service_account_json": {"ui:widget": "textarea", "ui:options": {"rows": 6}}},
        secret_fields=("service_account_json",),
    ),
}


def type_spec(warehouse_type: str) -> WarehouseTypeSpec:
    spec = TYPES.get(warehouse_type)
    if spec is None:
        raise ValidationFailed(
            f"Unknown warehouse type {warehouse_type!r}: choose one of {', '.join(TYPES)}.",
            fields={"type": "Unknown warehouse type."},
        )
    return spec


def config_validate(*, warehouse_type: str, config: dict[str, Any]) -> dict[str, Any]:
    """Validate against the type's JSON schema; field errors name `config.<field>`. Applies defaults."""
    import jsonschema

    spec = type_spec(warehouse_type)
    values = {k: v for k, v in config.items() if v is not None and v != ""}
    for name, prop in spec.schema.get("properties", {}).items():
        if name not in values and "default" in prop:
            values[name] = prop["default"]
    validator = jsonschema.Draft7Validator(spec.schema)
    fields: dict[str, str] = {}
    for error in validator.iter_errors(values):
        if error.validator == "required":
            missing = error.message.split("'")[1]
            fields.setdefault(f"config.{missing}", "This field is required.")
        elif error.validator == "additionalProperties":
            fields.setdefault("config", error.message)
        else:
            name = ".".join(str(p) for p in error.absolute_path) or "config"
            fields.setdefault(f"config.{name}", error.message)
    if fields:
        raise ValidationFailed("Some settings are not valid.", fields=fields)
    return values


def duckdb_path(org_id: int) -> Path:
    directory = Path(settings.DALGO_DATA_DIR) / "warehouses"
    directory.mkdir(parents=True, exist_ok=True)
    return directory / f"org-{org_id}.duckdb"


def bigquery_settings(*, config: dict[str, Any], secrets: dict[str, Any]) -> dict[str, Any]:
    """A BigQuery warehouse's settings as the REST client takes them (the adapter's and the loader's)."""
    import json

    try:
        info = json.loads(secrets.get("service_account_json") or "")
    except ValueError:
        raise ValidationFailed(
            "The service account key is not valid JSON.",
            fields={"config.service_account_json": "Paste the whole JSON key file."},
        ) from None
    return {"service_account_info": info, "project": config["project"], "location": config["location"],
            "dataset": config.get("dataset") or None}  # fmt: skip


def adapter_build(
    *, warehouse_type: str, config: dict[str, Any], secrets: dict[str, Any], org_id: int
) -> WarehouseAdapter:
    if warehouse_type == "duckdb":
        from dalgo.warehouses.adapters.duckdb import DuckDBAdapter

        return DuckDBAdapter(path=duckdb_path(org_id))
    if warehouse_type == "postgres":
        from dalgo.warehouses.adapters.postgres import PostgresAdapter

        return PostgresAdapter(**config, password=secrets.get("password") or "")
    if warehouse_type == "bigquery":
        from dalgo.warehouses.adapters.bigquery import BigQueryAdapter

        return BigQueryAdapter(**bigquery_settings(config=config, secrets=secrets))
    raise ValidationFailed(f"Unknown warehouse type {warehouse_type!r}.", fields={"type": "Unknown."})
