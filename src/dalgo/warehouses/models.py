"""An org's warehouse (one per org) and the statistics computed on its tables."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from dalgo.core.crypto import EncryptedJSONField
from dalgo.core.models import OrgScopedModel


class WarehouseType(models.TextChoices):
    DUCKDB = "duckdb", "DuckDB (managed by Dalgo)"
    POSTGRES = "postgres", "PostgreSQL"
    BIGQUERY = "bigquery", "BigQuery"


class Warehouse(OrgScopedModel):
    type = models.CharField(max_length=16, choices=WarehouseType.choices)
    name = models.CharField(max_length=100)
    config = models.JSONField(default=dict, blank=True)  # never holds a secret
    secrets = EncryptedJSONField(blank=True, default="")  # the secret fields, encrypted at rest
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    last_tested_at = models.DateTimeField(null=True, blank=True)
    last_test_ok = models.BooleanField(null=True)
    last_test_message = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["org"], name="warehouse_one_per_org")]

    def __str__(self) -> str:
        return f"{self.name} ({self.type})"


class StatisticsStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class TableStatistics(OrgScopedModel):
    """The latest statistics of one table, computed in the warehouse by a background job."""

    warehouse = models.ForeignKey(Warehouse, on_delete=models.CASCADE, related_name="statistics")
    schema_name = models.CharField(max_length=255)
    table_name = models.CharField(max_length=255)
    status = models.CharField(max_length=16, choices=StatisticsStatus.choices, default=StatisticsStatus.QUEUED)
    progress = models.JSONField(default=dict, blank=True)
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    requested_at = models.DateTimeField(auto_now=True)
    computed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["warehouse", "schema_name", "table_name"], name="statistics_one_per_table")
        ]
