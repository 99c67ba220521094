"""Sources: an Airbyte source connector (package + pinned version) with the org's config for it."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from dalgo.core.crypto import EncryptedJSONField
from dalgo.core.models import OrgScopedModel


class Source(OrgScopedModel):
    name = models.CharField(max_length=100)
    connector_slug = models.CharField(max_length=100)
    package = models.CharField(max_length=120)
    version = models.CharField(max_length=40)
    config = models.JSONField(default=dict, blank=True)  # secret values removed (see `secrets`)
    secrets = EncryptedJSONField(blank=True, default="")  # {"json/pointer": value} of airbyte_secret fields
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_check_ok = models.BooleanField(null=True)
    last_check_message = models.TextField(blank=True)
    streams = models.JSONField(default=list, blank=True)  # the connector's last `discover` (CATALOG streams)
    discovered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["org", "name"], name="source_unique_name_per_org")]

    def __str__(self) -> str:
        return f"{self.name} ({self.connector_slug})"
