"""Loaded with `-p` before Django starts: the test session's DALGO_* settings.

Tests run against the real PostgreSQL (test database created by pytest-django) and real Redis.
Each variable can be overridden from the environment.
"""

import os
import tempfile

_data_dir = tempfile.mkdtemp(prefix="dalgo-test-")
os.environ.setdefault("DALGO_DATA_DIR", _data_dir)
# One database per session (pytest-django creates test_<name>), so parallel runs never collide.
os.environ.setdefault("DALGO_DATABASE_URL", f"postgresql://postgres@127.0.0.1:5432/dalgo_{os.getpid()}")
os.environ.setdefault("DALGO_REDIS_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("DALGO_BASE_URL", "http://testserver")
os.environ.setdefault("DALGO_CELERY_EAGER", "true")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DALGO_ORCHESTRATOR_URL", "http://127.0.0.1:9")  # closed port: unit tests never reach Prefect
os.environ.setdefault("DALGO_CACHE_PREFIX", f"test{os.getpid()}")  # parallel sessions share Redis db 15
