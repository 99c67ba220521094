"""Secret fields of connector configs, found through nested objects and oneOf branches."""

from __future__ import annotations

from dalgo.ingestion.secrets import MASK, secret_paths, secrets_masked, secrets_merge, secrets_split

SCHEMA = {
    "type": "object",
    "properties": {
        "api_key": {"type": "string", "airbyte_secret": True},
        "start_date": {"type": "string"},
        "credentials": {
            "type": "object",
            "oneOf": [
                {"properties": {"auth_type": {"const": "oauth"},
                                "client_secret": {"type": "string", "airbyte_secret": True},
                                "client_id": {"type": "string"}}},
                {"properties": {"auth_type": {"const": "password"},
                                "password": {"type": "string", "airbyte_secret": True}}},
            ],
        },
    },
}  # fmt: skip


def test_secret_paths_follow_objects_and_branches() -> None:
    assert secret_paths(SCHEMA) == [("api_key",), ("credentials", "client_secret"), ("credentials", "password")]


def test_split_keeps_secrets_apart_and_masks_them() -> None:
    config = {"api_key": "k-123456", "start_date": "2024-01-01",
              "credentials": {"auth_type": "oauth", "client_id": "cid", "client_secret": "s-abcdef"}}  # fmt: skip
    public, secrets = secrets_split(config=config, schema=SCHEMA, stored={})
    assert public == {"start_date": "2024-01-01", "credentials": {"auth_type": "oauth", "client_id": "cid"}}
    assert secrets == {"/api_key": "k-123456", "/credentials/client_secret": "s-abcdef"}
    assert secrets_merge(config=public, secrets=secrets) == config
    masked = secrets_masked(config=public, secrets=secrets)
    assert masked["api_key"] == MASK and masked["credentials"]["client_secret"] == MASK


def test_masked_values_keep_what_is_stored_and_new_values_replace_it() -> None:
    stored = {"/api_key": "k-123456", "/credentials/client_secret": "s-abcdef"}
    edited = {"api_key": MASK, "start_date": "2025-01-01",
              "credentials": {"auth_type": "oauth", "client_id": "cid", "client_secret": "new-secret"}}  # fmt: skip
    public, secrets = secrets_split(config=edited, schema=SCHEMA, stored=stored)
    assert secrets == {"/api_key": "k-123456", "/credentials/client_secret": "new-secret"}
    assert "api_key" not in public


def test_switching_branch_drops_the_old_branch_secret() -> None:
    stored = {"/credentials/client_secret": "s-abcdef"}
    edited = {"credentials": {"auth_type": "password", "password": "pw-123456"}}
    _public, secrets = secrets_split(config=edited, schema=SCHEMA, stored=stored)
    assert secrets == {"/credentials/password": "pw-123456"}
    full = secrets_merge(config=_public, secrets=secrets)
    assert full == edited
