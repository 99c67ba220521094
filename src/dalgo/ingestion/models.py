"""Sources (an Airbyte source connector, package + pinned version, with the org's config for it) and
connections (a source loaded into the org's warehouse)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from dalgo.core.crypto import EncryptedJSONField
from dalgo.core.models import OrgScopedModel

SYNC_KIND = "connection-sync"  # Run.kind of a connection's sync
CUSTOM_CONNECTOR = "custom"  # Source.connector_slug of a custom connector; `package` holds its requirement or path


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


class Connection(OrgScopedModel):
    """A source loaded into the org's warehouse, into one destination schema.

    `streams` is the user's configuration, one entry per stream the source offers (selected or not):
    {"name", "namespace", "selected", "sync_mode", "destination_mode", "primary_key": [[...]],
    "cursor_field": [...], "selected_columns": [...] | null}. `state` holds the connector's last
    committed checkpoint (see `ingestion.state`). `sync_run` is the lock: the run syncing it now.
    """

    name = models.CharField(max_length=100)
    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="connections")
    destination_schema = models.CharField(max_length=63)
    streams = models.JSONField(default=list, blank=True)
    catalog = models.JSONField(default=list, blank=True)  # the discovered streams the config was made against
    state = models.JSONField(default=dict, blank=True)
    sync_run = models.ForeignKey("runs.Run", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    schema_change = models.JSONField(default=dict, blank=True)  # the pending diff, when the source changed
    schema_change_breaking = models.BooleanField(default=False)  # syncs wait for an admin's approval
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["org", "name"], name="connection_unique_name_per_org")]

    def __str__(self) -> str:
        return f"{self.name} ({self.source.name} -> {self.destination_schema})"
