"""Tenancy base and the audit log."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from django.conf import settings
from django.db import models

if TYPE_CHECKING:
    from dalgo.orgs.models import Org

M = TypeVar("M", bound=models.Model)


class OrgScopedQuerySet(models.QuerySet[M]):
    def for_org(self, org: Org) -> OrgScopedQuerySet[M]:
        return self.filter(org=org)


class OrgScopedModel(models.Model):
    """Every tenant-owned model inherits this; selectors always filter by `org`."""

    org = models.ForeignKey("orgs.Org", on_delete=models.CASCADE, related_name="+")

    objects: Any = OrgScopedQuerySet.as_manager()

    class Meta:
        abstract = True


class AuditEvent(models.Model):
    """Who did what, when, with the state before and after. Org is empty for account-level events."""

    org = models.ForeignKey("orgs.Org", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_email = models.CharField(max_length=254, blank=True)
    action = models.CharField(max_length=64, db_index=True)
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_label = models.CharField(max_length=255, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["org", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_email} {self.action}"
