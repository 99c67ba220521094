"""Typed reading of DALGO_* environment variables: the one place settings come from."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def data_dir() -> Path:
    """All embedded-mode state lives under one directory (DALGO_DATA_DIR)."""
    path = Path(env_str("DALGO_DATA_DIR", str(Path.cwd() / ".dalgo"))).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def secret_key(directory: Path) -> str:
    """DALGO_SECRET_KEY, or a key generated once and kept in the data directory."""
    explicit = env_str("DALGO_SECRET_KEY")
    if explicit:
        return explicit
    key_file = directory / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def fernet_keys(directory: Path) -> list[str]:
    """DALGO_FERNET_KEYS (comma-separated, newest first), or one key generated into the data dir."""
    explicit = env_list("DALGO_FERNET_KEYS", [])
    if explicit:
        return explicit
    key_file = directory / "fernet_key"
    if not key_file.exists():
        import base64

        key_file.write_text(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())
        key_file.chmod(0o600)
    return [key_file.read_text().strip()]
