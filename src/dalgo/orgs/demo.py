"""The demo NGO that `make demo` seeds: one org, an admin, an analyst and a member. Idempotent."""

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
    return logins
