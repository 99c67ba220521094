"""The sync flow: deployed by module entrypoint (`dalgo.ingestion.flows:connection_sync`), run by a
Prefect process worker with the Run's id only. All the work is `connections.connection_sync_execute`;
the connector's and the loader's log lines go to the flow run's log."""

from __future__ import annotations

from typing import Any

from prefect import flow

from dalgo.runs.flow_support import django_setup, prefect_log


@flow(name="connection-sync", log_prints=False, retries=0)
def connection_sync(run_id: str) -> dict[str, Any]:
    django_setup()
    from django.db import connections

    from dalgo.ingestion.connections import connection_sync_execute

    try:
        return connection_sync_execute(run_id=run_id, log=prefect_log())
    finally:
        connections.close_all()
