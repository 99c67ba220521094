"""Secret fields of connector configs: the spec marks them `airbyte_secret`; they are kept apart
(encrypted), masked in every response, and a masked value sent back keeps the stored one."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

MASK = "********"
Path = tuple[str, ...]


def secret_paths(schema: dict[str, Any]) -> list[Path]:
    """Every property path marked airbyte_secret, through nested objects and oneOf/anyOf branches."""
    found: set[Path] = set()

    def walk(node: Any, path: Path) -> None:
        if not isinstance(node, dict):
            return
        if node.get("airbyte_secret") and path:
            found.add(path)
        for name, child in (node.get("properties") or {}).items():
            walk(child, (*path, str(name)))
        for key in ("oneOf", "anyOf", "allOf"):
            for branch in node.get(key) or []:
                walk(branch, path)

    walk(schema, ())
    return sorted(found)


def _get(config: dict[str, Any], path: Path) -> tuple[bool, Any]:
    node: Any = config
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return False, None
        node = node[part]
    return True, node


def _set(config: dict[str, Any], path: Path, value: Any) -> None:
    node = config
    for part in path[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            return  # the branch holding this secret is not in use
        node = child
    node[path[-1]] = value


def _pointer(path: Path) -> str:
    return "/" + "/".join(path)


def _paths_in(secrets: dict[str, Any]) -> Iterator[tuple[Path, Any]]:
    for pointer, value in secrets.items():
        yield tuple(pointer.strip("/").split("/")), value


def secrets_split(
    *, config: dict[str, Any], schema: dict[str, Any], stored: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(config without secret values, secrets by JSON pointer). A secret sent as MASK (or empty) keeps
    the stored value; a secret left out is dropped (its oneOf branch is no longer in use)."""
    public = copy.deepcopy(config)
    secrets: dict[str, Any] = {}
    for path in secret_paths(schema):
        present, value = _get(public, path)
        pointer = _pointer(path)
        if present and value not in (MASK, None, ""):
            secrets[pointer] = value
        elif present and pointer in stored:
            secrets[pointer] = stored[pointer]
        if present:
            _remove(public, path)
    return public, secrets


def _parent_present(config: dict[str, Any], path: Path) -> bool:
    return len(path) == 1 or _get(config, path[:-1])[0]


def _remove(config: dict[str, Any], path: Path) -> None:
    present, parent = _get(config, path[:-1]) if len(path) > 1 else (True, config)
    if present and isinstance(parent, dict):
        parent.pop(path[-1], None)


def secrets_merge(*, config: dict[str, Any], secrets: dict[str, Any]) -> dict[str, Any]:
    """The full config a connector needs."""
    full = copy.deepcopy(config)
    for path, value in _paths_in(secrets):
        if _parent_present(full, path):
            _set(full, path, value)
    return full


def secrets_masked(*, config: dict[str, Any], secrets: dict[str, Any]) -> dict[str, Any]:
    """The config as the API shows it: each stored secret as MASK."""
    return secrets_merge(config=config, secrets=dict.fromkeys(secrets, MASK))
