"""The demo NGO that `make demo` seeds: one org with an admin, an analyst and a member, and a
managed DuckDB warehouse holding a household survey to explore. Idempotent."""

from __future__ import annotations

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


DEMO_SURVEY_SQL = """
CREATE SCHEMA IF NOT EXISTS demo;
CREATE OR REPLACE TABLE demo.household_survey AS
SELECT i AS household_id,
       ['Barwani', 'Dhar', 'Jhabua', 'Khargone', 'Alirajpur'][1 + i % 5] AS district,
       ['Rampura', 'Sondwa', 'Kakrana', 'Bhabra', 'Udaygarh', 'Jobat', 'Pati', 'Sendhwa'][1 + (i * 7) % 8] AS village,
       DATE '2025-01-06' + ((i * 37) % 330)::INTEGER AS survey_date,
       (2 + (i * 13) % 8)::INTEGER AS household_size,
       CASE WHEN i % 17 = 0 THEN NULL ELSE ((i * 7919) % 18000 + 2500)::INTEGER END AS monthly_income_inr,
       ['handpump', 'piped', 'well', 'tanker', 'river'][1 + (i * 3) % 5] AS water_source,
       CASE WHEN i % 23 = 0 THEN NULL ELSE (i * 11) % 3 <> 0 END AS has_toilet,
       (i * 5) % 4 AS children_in_school,
       CASE WHEN i % 9 = 0 THEN 'Needs follow-up: ' || ['ration card', 'pension', 'MGNREGA job card'][1 + i % 3]
            WHEN i % 4 = 0 THEN '' ELSE NULL END AS surveyor_notes
FROM range(1, 1201) t(i);
"""


def demo_warehouse_seed(*, org: Org, actor: User) -> None:
    """The demo org's DuckDB warehouse with a household survey (until ingestion lands real syncs)."""
    from dalgo.warehouses import services as warehouse_services
    from dalgo.warehouses.selectors import warehouse_adapter, warehouse_find

    warehouse = warehouse_find(org=org) or warehouse_services.warehouse_save(
        org=org, actor=actor, warehouse_type="duckdb", name="Demo warehouse", config={}
    )
    if warehouse.type == "duckdb":
        warehouse_adapter(warehouse=warehouse).execute_script(DEMO_SURVEY_SQL)  # type: ignore[attr-defined]
