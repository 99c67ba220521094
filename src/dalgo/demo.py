"""The demo NGO that `make demo` seeds: one org with an admin, an analyst and a member, a managed
DuckDB warehouse, and two sources synced into it for real once the platform is up: a File source
over the bundled household survey CSV (`demo_data/household_survey.csv`) and Faker. Idempotent."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from dalgo.accounts.models import User
from dalgo.orgs.models import Membership, Org
from dalgo.orgs.roles import Role

DEMO_ORG_NAME = "Sahyog Demo NGO"
DEMO_ORG_SLUG = "sahyog-demo"
DEMO_PASSWORD = "dalgo-demo-2026"
DEMO_USERS = [
    ("admin@demo.dalgo.org", "Asha Admin", Role.SUPER_ADMIN),
    ("analyst@demo.dalgo.org", "Ravi Analyst", Role.ANALYST),
    ("member@demo.dalgo.org", "Meena Member", Role.MEMBER),
]


@transaction.atomic
def demo_seed() -> list[tuple[str, str, str]]:
    """Create (or leave as is) the demo org and its users; returns (email, password, role)."""
    org, _ = Org.objects.get_or_create(slug=DEMO_ORG_SLUG, defaults={"name": DEMO_ORG_NAME})
    logins = []
    for email, name, role in DEMO_USERS:
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(email=email, password=DEMO_PASSWORD, name=name)
            user.email_verified_at = timezone.now()
            user.last_org_slug = org.slug
            user.save(update_fields=["email_verified_at", "last_org_slug"])
        Membership.objects.get_or_create(org=org, user=user, defaults={"role": role.value})
        logins.append((email, DEMO_PASSWORD, role.value))
    admin = User.objects.get(email=DEMO_USERS[0][0])
    transaction.on_commit(lambda: demo_warehouse_seed(org=org, actor=admin))
    return logins


def demo_warehouse_seed(*, org: Org, actor: User) -> None:
    """The demo org's managed DuckDB warehouse (the syncs of `demo_ingest` fill it)."""
    from dalgo.warehouses import services as warehouse_services
    from dalgo.warehouses.selectors import warehouse_find

    if warehouse_find(org=org) is None:
        warehouse_services.warehouse_save(
            org=org, actor=actor, warehouse_type="duckdb", name="Demo warehouse", config={}
        )


BUNDLED_SURVEY = Path(__file__).parent / "demo_data" / "household_survey.csv"


def _survey_config() -> dict[str, Any]:
    """The File connector reading the survey from the data dir (a copy of the bundled CSV)."""
    target = Path(settings.DALGO_DATA_DIR) / "demo" / "household_survey.csv"
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        shutil.copyfile(BUNDLED_SURVEY, target)
    return {"dataset_name": "household_survey", "format": "csv", "url": str(target),
            "provider": {"storage": "local"}}  # fmt: skip


# (source name, connector, config, connection name, destination schema)
DEMO_INGEST: list[tuple[str, str, Callable[[], dict[str, Any]], str, str]] = [
    ("Household survey (CSV)", "file", _survey_config, "Household survey", "survey"),
    ("Faker", "faker", lambda: {"count": 500, "seed": 42}, "Faker people", "faker"),
]


def demo_ingest(*, start_syncs: bool = True, log: Callable[[str], None] = print) -> list[Any]:
    """Create the demo's sources and connections (installing their connectors on first use) and
    start a first sync of each connection that never synced. Returns the runs started."""
    from dalgo.ingestion import connections as connection_services
    from dalgo.ingestion import services as source_services
    from dalgo.ingestion.models import Connection, Source
    from dalgo.ingestion.selectors import connection_runs

    org = Org.objects.get(slug=DEMO_ORG_SLUG)
    actor = User.objects.get(email=DEMO_USERS[0][0])
    runs = []
    for source_name, connector, config, connection_name, schema in DEMO_INGEST:
        source = Source.objects.for_org(org).filter(name=source_name).first()
        if source is None:
            log(f"Demo: adding the {source_name} source (installs its connector on first use)...")
            source = source_services.source_create(org=org, actor=actor, connector=connector, name=source_name,
                                                   config=config())  # fmt: skip
        connection = Connection.objects.for_org(org).filter(name=connection_name).first()
        if connection is None:
            connection = connection_services.connection_create(
                org=org, actor=actor, name=connection_name, source_id=source.pk, destination_schema=schema,
                streams=None,
            )  # fmt: skip
        if start_syncs and not connection_runs(org=org, connection_id=connection.pk).exists():
            run = connection_services.connection_sync_start(org=org, connection_id=connection.pk, actor=actor)
            log(f"Demo: syncing {connection_name} into {schema} (run {run.id})")
            runs.append(run)
    return runs
