"""Secrets at rest: Fernet with a list of keys (the first encrypts; all decrypt), so keys rotate.

Keys come from DALGO_FERNET_KEYS (comma-separated, newest first). Embedded mode generates one into
the data directory. `EncryptedJSONField` stores a dict encrypted; `secrets_rotate_all` re-encrypts
every such field with the newest key (`dalgo rotate-keys`).
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.apps import apps
from django.conf import settings
from django.db import models, transaction


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in keys])


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.DALGO_FERNET_KEYS))


def secret_encrypt(value: dict[str, Any]) -> str:
    return fernet().encrypt(json.dumps(value, sort_keys=True).encode()).decode()


def secret_decrypt(token: str) -> dict[str, Any]:
    if not token:
        return {}
    try:
        data: dict[str, Any] = json.loads(fernet().decrypt(token.encode()))
    except InvalidToken:
        raise RuntimeError("A stored secret cannot be decrypted with the configured DALGO_FERNET_KEYS.") from None
    return data


class EncryptedJSONField(models.TextField):  # type: ignore[type-arg]
    """A dict kept encrypted in the database; Python code sees the plain dict."""

    description = "JSON encrypted with the platform's Fernet keys"

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> dict[str, Any]:
        return secret_decrypt(value or "")

    def to_python(self, value: Any) -> dict[str, Any]:
        if isinstance(value, dict):
            return value
        return secret_decrypt(value or "")

    def get_prep_value(self, value: Any) -> str:
        return secret_encrypt(value or {})


def secrets_rotate_all() -> int:
    """Re-encrypt every EncryptedJSONField value with the newest key. Returns rows rewritten."""
    rewritten = 0
    for model in apps.get_models():
        fields = [f.name for f in model._meta.get_fields() if isinstance(f, EncryptedJSONField)]
        if not fields:
            continue
        with transaction.atomic():
            for obj in model._default_manager.select_for_update().all():
                obj.save(update_fields=fields)  # decrypted on load, encrypted with the first key on save
                rewritten += 1
    return rewritten
