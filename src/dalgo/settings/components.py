"""Where each platform component lives. Consumed by Django settings, Celery, the CLI and health."""

from __future__ import annotations

from dalgo.settings.env import data_dir, env_bool, env_int, env_str, fernet_keys

DALGO_DATA_DIR = data_dir()
DALGO_PRODUCTION = env_bool("DALGO_PRODUCTION", False)
DALGO_BASE_URL = env_str("DALGO_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
DALGO_WEB_HOST = env_str("DALGO_WEB_HOST", "127.0.0.1")
DALGO_WEB_PORT = env_int("DALGO_WEB_PORT", 8000)

DALGO_REDIS_URL = env_str("DALGO_REDIS_URL")
DALGO_PREFECT_API_URL = env_str("DALGO_PREFECT_API_URL", "http://127.0.0.1:4200/api")
DALGO_ORCHESTRATOR_URL = env_str("DALGO_ORCHESTRATOR_URL", "http://127.0.0.1:8001").rstrip("/")
DALGO_PREFECT_WORK_POOL = env_str("DALGO_PREFECT_WORK_POOL", "dalgo")
DALGO_FERNET_KEYS = fernet_keys(DALGO_DATA_DIR)
DALGO_WAREHOUSE_QUERY_TIMEOUT = env_int("DALGO_WAREHOUSE_QUERY_TIMEOUT", 30)
DALGO_RUN_HEARTBEAT_TIMEOUT = env_int("DALGO_RUN_HEARTBEAT_TIMEOUT", 90)
DALGO_SYNC_TIMEOUT = env_int("DALGO_SYNC_TIMEOUT", 6 * 3600)
DALGO_SYNC_CHECKPOINT_SECONDS = env_int("DALGO_SYNC_CHECKPOINT_SECONDS", 5)
# Custom connectors run any pip package the org's admins name, as code on the workers: off unless the
# operator trusts every org's admins (embedded single-machine installs default to on).
DALGO_CUSTOM_CONNECTORS = env_bool("DALGO_CUSTOM_CONNECTORS", False)
DALGO_ALLOW_SIGNUP = env_bool("DALGO_ALLOW_SIGNUP", True)
DALGO_SIGNUP_CREATES_ORGS = env_bool("DALGO_SIGNUP_CREATES_ORGS", True)

# Celery: Redis in production; kombu's filesystem transport in embedded mode (no server needed,
# 51 ms round trip at a 0.05 s polling interval, measured: see ARCHITECTURE.md).
if DALGO_REDIS_URL:
    CELERY_BROKER_URL = DALGO_REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {}
else:
    _broker_dir = DALGO_DATA_DIR / "broker"
    for _sub in ("in", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "dalgofs://"  # kombu's filesystem transport with atomic writes (dalgo.celery)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "in"),
        "data_folder_out": str(_broker_dir / "in"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),  # kombu's default is ./control, in the cwd
        "store_processed": False,
        "polling_interval": 0.05,
    }
CELERY_TASK_ALWAYS_EAGER = env_bool("DALGO_CELERY_EAGER", False)
CELERY_HEARTBEAT_SECONDS = env_int("DALGO_HEARTBEAT_SECONDS", 30)
