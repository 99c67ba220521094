"""Django settings for every Dalgo process, read from DALGO_* environment variables.

Embedded mode (the default) needs no server: SQLite app DB, kombu's filesystem broker, a file
cache, all under DALGO_DATA_DIR. Production mode is chosen by setting DALGO_DATABASE_URL,
DALGO_REDIS_URL, DALGO_PREFECT_API_URL and DALGO_ORCHESTRATOR_URL (see README).
"""

from __future__ import annotations

from dalgo.settings.components import *  # noqa: F403
from dalgo.settings.django import *  # noqa: F403
