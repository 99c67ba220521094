"""Writes for sources: the connector's spec, checks, create/update/delete."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from dalgo.accounts.models import User
from dalgo.core.audit import audit_record
from dalgo.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed, field_error
from dalgo.ingestion.connectors.catalog import CatalogEntry, catalog_entry
from dalgo.ingestion.connectors.errors import ConnectorFailed, ConnectorInstallFailed
from dalgo.ingestion.connectors.install import ConnectorEnv, connector_env, connector_env_custom
from dalgo.ingestion.connectors.runner import ConnectorRunner, validate_config
from dalgo.ingestion.models import CUSTOM_CONNECTOR, Connection, Source
from dalgo.ingestion.secrets import secrets_merge, secrets_split
from dalgo.ingestion.selectors import source_get
from dalgo.orgs.models import Org

CHECK_TIMEOUT_SECONDS = 120.0


@dataclass
class ConnectorSpec:
    entry: CatalogEntry
    spec: dict[str, Any]  # the SPEC message's `spec`: connectionSpecification, documentationUrl, ...

    @property
    def schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = self.spec.get("connectionSpecification") or {}
        return schema


def connector_spec(*, slug: str, package: str | None = None) -> ConnectorSpec:
    """The connector's spec: installs the connector on first use (cached per version after). A
    custom connector (`slug="custom"`) is named by its pip requirement or local path."""
    if slug == CUSTOM_CONNECTOR:
        return _custom_spec(package or "")
    entry = catalog_entry(slug)
    if entry is None:
        raise NotFound(f"No connector {slug!r} in the catalogue.", code="connector_not_found")
    runner = ConnectorRunner(connector_env(entry["package"], entry["version"]))
    return ConnectorSpec(entry=entry, spec=runner.spec())


def _custom_spec(package: str) -> ConnectorSpec:
    if not settings.DALGO_CUSTOM_CONNECTORS:
        raise PermissionDenied(
            "Custom connectors are turned off on this deployment (DALGO_CUSTOM_CONNECTORS).", code="custom_disabled"
        )
    package = package.strip()
    if not package:
        raise field_error("package", "Give the pip requirement (e.g. airbyte-source-foo==1.2.3) or a local path.")
    longest = Source._meta.get_field("package").max_length or 0
    if len(package) > longest:
        raise field_error("package", f"The package or path is longer than {longest} characters.")
    env = connector_env_custom(package)
    spec = ConnectorRunner(env).spec()
    docs = str(spec.get("documentationUrl") or "")
    version = env.version[: Source._meta.get_field("version").max_length]  # what pip installed, else "custom"
    entry = CatalogEntry(name=f"Custom: {package}", slug=CUSTOM_CONNECTOR, package=package, version=version,
                         category="custom", summary="Custom", docs_url=docs, favourite_rank=None)  # fmt: skip
    return ConnectorSpec(entry=entry, spec=spec)


def source_env(source: Source) -> ConnectorEnv:
    """The source's connector, installed on first use (a custom one from its requirement or path)."""
    if source.connector_slug == CUSTOM_CONNECTOR:
        return connector_env_custom(source.package)
    return connector_env(source.package, source.version)


def source_config(source: Source) -> dict[str, Any]:
    """The full config the connector gets: public settings with the decrypted secrets put back."""
    return secrets_merge(config=source.config, secrets=source.secrets)


def source_config_replace(*, source: Source, config: dict[str, Any], schema: dict[str, Any]) -> None:
    """A connector's CONTROL message asked to persist a new config (e.g. a refreshed token)."""
    public, secrets = secrets_split(config=config, schema=schema, stored=source.secrets)
    source.config, source.secrets = public, secrets
    source.save(update_fields=["config", "secrets", "updated_at"])
    audit_record(action="source.config_updated_by_connector", actor=None, org=source.org, target_type="source",
                 target_id=source.pk, target_label=source.name, after={"config": public,
                 "secrets_set": sorted(secrets)})  # fmt: skip


def _full_config(
    *, spec: ConnectorSpec, config: dict[str, Any], stored: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(public, secrets, full) for a config from the API, validated against the spec."""
    if not isinstance(config, dict):
        raise field_error("config", "The configuration must be an object.")
    public, secrets = secrets_split(config=config, schema=spec.schema, stored=stored)
    full = secrets_merge(config=public, secrets=secrets)
    validate_config(full, spec.spec)
    return public, secrets, full


def _env(spec: ConnectorSpec) -> ConnectorEnv:
    if spec.entry["slug"] == CUSTOM_CONNECTOR:
        return connector_env_custom(spec.entry["package"])
    return connector_env(spec.entry["package"], spec.entry["version"])


def _check(*, spec: ConnectorSpec, full: dict[str, Any]) -> tuple[bool, str]:
    runner = ConnectorRunner(_env(spec))
    return runner.check(full, timeout_seconds=CHECK_TIMEOUT_SECONDS)


def source_check_config(
    *, org: Org, connector: str, config: dict[str, Any], source_id: int | None = None, package: str | None = None
) -> tuple[bool, str]:
    """Check settings before saving them (secrets left masked use the stored source's values)."""
    stored = source_get(org=org, source_id=source_id).secrets if source_id else {}
    if source_id and connector == CUSTOM_CONNECTOR and not package:
        package = source_get(org=org, source_id=source_id).package
    spec = connector_spec(slug=connector, package=package)
    _public, _secrets, full = _full_config(spec=spec, config=config, stored=stored)
    return _check(spec=spec, full=full)


def name_checked(name: str, *, model: type[Source | Connection], org: Org, exclude_id: int | None = None) -> str:
    """A source's or connection's name: given, at most 100 characters, not used by another in the org."""
    noun = str(model._meta.verbose_name)
    name = (name or "").strip()
    if not name:
        raise field_error("name", f"Give the {noun} a name.")
    if len(name) > 100:
        raise field_error("name", "The name is longer than 100 characters.")
    others = model.objects.for_org(org).filter(name=name)
    if exclude_id is not None:
        others = others.exclude(pk=exclude_id)
    if others.exists():
        raise _name_taken(name, noun=noun)
    return name


def _name_taken(name: str, *, noun: str) -> Conflict:
    return Conflict(f"A {noun} named {name!r} already exists.", code=f"{noun}_exists",
                    fields={"name": f"Already used by another {noun}."})  # fmt: skip


def saved_with_audit(
    obj: Source | Connection, *, actor: User, action: str, after: dict[str, Any], before: dict[str, Any] | None = None
) -> None:
    """Save with its audit event in one transaction; losing a race for the name is the same 409."""
    noun = str(obj._meta.verbose_name)
    try:
        with transaction.atomic():
            obj.save()
            audit_record(action=action, actor=actor, org=obj.org, target_type=noun, target_id=obj.pk,
                         target_label=obj.name, before=before, after=after)  # fmt: skip
    except IntegrityError:
        raise _name_taken(obj.name, noun=noun) from None


def _save(source: Source, *, actor: User, action: str, before: dict[str, Any] | None = None) -> Source:
    after = {"name": source.name, "connector": source.connector_slug, "package": source.package,
             "version": source.version, "config": source.config, "secrets_set": sorted(source.secrets)}  # fmt: skip
    saved_with_audit(source, actor=actor, action=action, after=after, before=before)
    return source


def source_create(
    *, org: Org, actor: User, connector: str, name: str, config: dict[str, Any], package: str | None = None
) -> Source:
    """Validate against the connector's spec, run its check, then save."""
    name = name_checked(name, model=Source, org=org)
    spec = connector_spec(slug=connector, package=package)
    public, secrets, full = _full_config(spec=spec, config=config, stored={})
    ok, message = _check(spec=spec, full=full)
    if not ok:
        raise ValidationFailed(f"The connection check failed: {message}", code="check_failed")
    source = Source(
        org=org, name=name, connector_slug=connector, package=spec.entry["package"], version=spec.entry["version"],
        config=public, created_by=actor, last_checked_at=timezone.now(), last_check_ok=True,
        last_check_message=message,
    )  # fmt: skip
    source.secrets = secrets
    return _save(source, actor=actor, action="source.create")


def source_update(
    *, org: Org, actor: User, source_id: int, name: str, config: dict[str, Any], package: str | None = None
) -> Source:
    """Validate against the connector's spec, run its check, then save. A custom source may name a new
    `package`: it is installed and the config validated and checked against its spec before anything
    is saved; the streams discovered with the old package are forgotten. A custom source's version
    becomes the one installed and checked now (what pip installed, see `connector_env_custom`)."""
    source = source_get(org=org, source_id=source_id)
    name = name_checked(name, model=Source, org=org, exclude_id=source.pk)
    new_package = package is not None and package.strip() != source.package
    if new_package:
        spec = _new_package_spec(source, package=package or "")
    else:
        spec = connector_spec(slug=source.connector_slug, package=source.package)
    public, secrets, full = _full_config(spec=spec, config=config, stored=source.secrets)
    ok, message = _check(spec=spec, full=full)
    if not ok:
        raise ValidationFailed(f"The connection check failed: {message}", code="check_failed")
    before = {"package": source.package, "version": source.version} if new_package else None
    source.name, source.config, source.secrets = name, public, secrets
    source.last_checked_at, source.last_check_ok, source.last_check_message = timezone.now(), True, message
    if new_package or source.connector_slug == CUSTOM_CONNECTOR:  # a custom one: the version just checked
        source.package, source.version = spec.entry["package"], spec.entry["version"]
    if new_package:
        source.streams, source.discovered_at = [], None  # discovered with the old package: discover again
    return _save(source, actor=actor, action="source.update", before=before)


def _new_package_spec(source: Source, *, package: str) -> ConnectorSpec:
    """The spec of the package a custom source switches to (installed now, as on create). Install and
    spec failures are errors on `package`; only custom sources have a package of their own."""
    if source.connector_slug != CUSTOM_CONNECTOR:
        reason = (
            f"Only a custom connector's package can be changed; this source uses the catalogue connector "
            f"{source.connector_slug!r} ({source.package}). Create a custom source to use another package."
        )
        raise field_error("package", reason)
    try:
        return _custom_spec(package)
    except (ConnectorInstallFailed, ConnectorFailed) as exc:
        raise ValidationFailed(exc.detail, code=exc.code, fields={"package": exc.detail}) from exc


def source_check(*, org: Org, source_id: int) -> tuple[bool, str]:
    """Check a saved source now and remember the outcome."""
    source = source_get(org=org, source_id=source_id)
    runner = ConnectorRunner(source_env(source))
    ok, message = runner.check(source_config(source), timeout_seconds=CHECK_TIMEOUT_SECONDS)
    Source.objects.filter(pk=source.pk).update(
        last_checked_at=timezone.now(), last_check_ok=ok, last_check_message=message
    )
    return ok, message


def source_delete(*, org: Org, actor: User, source_id: int) -> None:
    source = source_get(org=org, source_id=source_id)
    used_by = sorted(source.connections.values_list("name", flat=True))
    if used_by:
        raise Conflict(f"Connections use this source: {', '.join(used_by)}. Delete them first.",
                       code="source_in_use")  # fmt: skip
    with transaction.atomic():
        before = {"name": source.name, "connector": source.connector_slug}
        audit_record(action="source.delete", actor=actor, org=org, target_type="source", target_id=source.pk,
                     target_label=source.name, before=before)  # fmt: skip
        source.delete()


DISCOVER_TIMEOUT_SECONDS = 300.0


def source_streams(*, org: Org, source_id: int, refresh: bool = False) -> Source:
    """The source's streams as its connector discovers them; cached on the source until refreshed."""
    source = source_get(org=org, source_id=source_id)
    if source.discovered_at is not None and not refresh:
        return source
    streams = source_discover(source)
    source.streams, source.discovered_at = streams, timezone.now()
    Source.objects.filter(pk=source.pk).update(streams=streams, discovered_at=source.discovered_at)
    return source


def source_discover(source: Source) -> list[dict[str, Any]]:
    """The connector's `discover` now (CATALOG streams)."""
    return ConnectorRunner(source_env(source)).discover(source_config(source), timeout_seconds=DISCOVER_TIMEOUT_SECONDS)
