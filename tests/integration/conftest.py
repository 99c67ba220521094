"""One real Prefect stack (server + orchestrator + process worker) per test session.

The stack's worker runs flows that set Django up themselves, so it gets the test session's DALGO_*
settings with DALGO_DATABASE_URL pointing at pytest-django's test database.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest

from tests.stack import PrefectStack


def _database_url(settings_dict: dict[str, Any]) -> str:
    engine, name = settings_dict["ENGINE"], settings_dict["NAME"]
    if "sqlite" in engine:
        return f"sqlite:///{name}"
    user = quote(settings_dict.get("USER") or "", safe="")
    password = settings_dict.get("PASSWORD") or ""
    auth = f"{user}:{quote(password, safe='')}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    return f"postgresql://{auth}{host}{port}/{name}"


@pytest.fixture(scope="session")
def prefect_stack(django_db_setup: None, django_db_blocker: Any) -> Iterator[PrefectStack]:
    from django.db import connection

    extra_env = {key: value for key, value in os.environ.items() if key.startswith("DALGO_")}
    extra_env["DALGO_DATABASE_URL"] = _database_url(connection.settings_dict)  # the test database
    extra_env["DALGO_CELERY_EAGER"] = "false"
    stack = PrefectStack(extra_env=extra_env)
    stack.start()
    print(f"\nPrefect test stack ready in {stack.timings['total']:.1f}s: {stack.timings}")
    try:
        yield stack
    finally:
        stack.stop()


@pytest.fixture
def orchestrator_url(prefect_stack: PrefectStack, settings: Any) -> str:
    """The stack's orchestrator, also set as DALGO_ORCHESTRATOR_URL for code under test."""
    settings.DALGO_ORCHESTRATOR_URL = prefect_stack.orchestrator_url
    return prefect_stack.orchestrator_url
