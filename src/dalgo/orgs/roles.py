"""Roles (fixed, ordered) and the permission slugs each grants: `<area>.<verb>`.

Every area of the product has its slugs here from day one, so later features only use them.
"""

from __future__ import annotations

from enum import StrEnum
from itertools import pairwise


class Role(StrEnum):
    MEMBER = "member"
    ANALYST = "analyst"
    ADMIN = "admin"
    SUPER_ADMIN = "super-admin"

    @property
    def rank(self) -> int:
        return ROLE_ORDER.index(self)

    @property
    def label(self) -> str:
        return self.value.replace("-", " ").capitalize()


ROLE_ORDER: list[Role] = [Role.MEMBER, Role.ANALYST, Role.ADMIN, Role.SUPER_ADMIN]

# What each area means, for the UI and docs.
PERMISSIONS: dict[str, str] = {
    "org.view": "See the organisation",
    "org.edit": "Rename the organisation and change its settings",
    "org.delete": "Delete the organisation",
    "member.view": "See members and invitations",
    "member.invite": "Invite people",
    "member.manage": "Change members' roles and remove members",
    "token.manage": "Create and revoke one's own API tokens",
    "audit.view": "Read the audit log",
    "system.view": "See platform component status",
    "system.check": "Run the platform check",
    "warehouse.view": "See warehouse settings",
    "warehouse.edit": "Set up and change the warehouse",
    "explore.view": "Browse warehouse tables, previews and statistics",
    "source.view": "See sources",
    "source.edit": "Create and change sources",
    "connection.view": "See connections and sync history",
    "connection.edit": "Create and change connections",
    "connection.sync": "Start, cancel and reset syncs",
    "transform.view": "See the dbt project and canvas",
    "transform.edit": "Change the dbt project and canvas",
    "transform.run": "Run dbt models and tests",
    "pipeline.view": "See pipelines and runs",
    "pipeline.edit": "Create and change pipelines",
    "pipeline.run": "Start, retry and cancel pipeline runs",
    "chart.view": "See charts",
    "chart.edit": "Build charts",
    "dashboard.view": "See dashboards",
    "dashboard.edit": "Build dashboards",
    "dashboard.share": "Share dashboards publicly",
    "metric.view": "See metrics and KPIs",
    "metric.edit": "Define metrics and KPIs",
    "alert.view": "See alerts",
    "alert.edit": "Create and change alerts",
    "report.view": "See reports",
    "report.edit": "Create reports",
    "report.comment": "Comment on reports",
    "ai.use": "Use AI features",
    "ai.configure": "Configure AI for the organisation",
    "notification.view": "Read one's notifications",
    "notification.configure": "Configure the organisation's notification channels",
}

_MEMBER = {
    "org.view",
    "token.manage",
    "chart.view",
    "dashboard.view",
    "metric.view",
    "report.view",
    "report.comment",
    "notification.view",
    "ai.use",
}
_ANALYST = _MEMBER | {
    "warehouse.view",
    "explore.view",
    "source.view",
    "connection.view",
    "pipeline.view",
    "transform.view",
    "transform.edit",
    "transform.run",
    "chart.edit",
    "dashboard.edit",
    "dashboard.share",
    "metric.edit",
    "alert.view",
    "alert.edit",
    "report.edit",
}
_ADMIN = set(PERMISSIONS) - {"org.delete"}
_SUPER_ADMIN = set(PERMISSIONS)

ROLE_PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.MEMBER: frozenset(_MEMBER),
    Role.ANALYST: frozenset(_ANALYST),
    Role.ADMIN: frozenset(_ADMIN),
    Role.SUPER_ADMIN: frozenset(_SUPER_ADMIN),
}

ADMIN_ROLES = (Role.ADMIN, Role.SUPER_ADMIN)


def role_permissions(role: str) -> frozenset[str]:
    return ROLE_PERMISSIONS[Role(role)]


def role_may_grant(*, granter: str, role: str) -> bool:
    """Nobody grants a role above their own."""
    return Role(role).rank <= Role(granter).rank


def role_is_admin(role: str) -> bool:
    return Role(role) in ADMIN_ROLES


assert all(ROLE_PERMISSIONS[a] <= ROLE_PERMISSIONS[b] for a, b in pairwise(ROLE_ORDER))
assert all(slug in PERMISSIONS for perms in ROLE_PERMISSIONS.values() for slug in perms)
