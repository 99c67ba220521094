"""A connection's saved checkpoint, kept the way the connector sent it.

Connectors checkpoint in one of three protocol shapes: per stream (STREAM), one global state with
per-stream parts (GLOBAL, used by CDC sources), or one opaque blob (LEGACY). Stored as
{"kind": ..., "streams": {name: state}, "global": state | None, "legacy": data | None} and handed
back on the next `read` as the connector expects it (`state_input`). Resetting streams removes
their part only.
"""

from __future__ import annotations

import copy
from typing import Any

from dalgo.ingestion.protocol import State

EMPTY: dict[str, Any] = {}


def state_apply(stored: dict[str, Any], state: State) -> dict[str, Any]:
    """The stored checkpoint after the connector's `state` (a STATE message's `state` object)."""
    raw = copy.deepcopy(state.raw)
    if state.kind == "STREAM":
        name = state.stream
        if not name:
            return stored
        streams = dict(stored.get("streams") or {}) if stored.get("kind") == "STREAM" else {}
        streams[name] = raw
        return {"kind": "STREAM", "streams": streams}
    if state.kind == "GLOBAL":
        return {"kind": "GLOBAL", "global": raw}
    data = raw.get("data", raw) if raw.get("type") in (None, "LEGACY") else raw
    return {"kind": "LEGACY", "legacy": data}


def state_input(stored: dict[str, Any], streams: set[str]) -> list[dict[str, Any]] | dict[str, Any] | None:
    """What the connector's `read --state` gets for the given (incremental) streams: a list of state
    messages, or the legacy blob. Full-refresh streams get no state, so they read from the start."""
    if not streams:
        return None
    others = {name for name in state_streams(stored) if name not in streams}
    stored = state_without(stored, others) if others else stored
    kind = stored.get("kind")
    if kind == "STREAM":
        return list((stored.get("streams") or {}).values()) or None
    if kind == "GLOBAL" and stored.get("global"):
        return [stored["global"]]
    if kind == "LEGACY" and stored.get("legacy") is not None:
        legacy: dict[str, Any] = stored["legacy"]
        return legacy
    return None


def state_streams(stored: dict[str, Any]) -> dict[str, Any]:
    """Each stream's own part of the checkpoint, for people to read (the legacy blob as a whole)."""
    kind = stored.get("kind")
    if kind == "STREAM":
        return {
            name: ((raw.get("stream") or {}).get("stream_state")) for name, raw in (stored.get("streams") or {}).items()
        }
    if kind == "GLOBAL":
        global_state = (stored.get("global") or {}).get("global") or {}
        return {
            str((entry.get("stream_descriptor") or {}).get("name")): entry.get("stream_state")
            for entry in global_state.get("stream_states") or []
        }
    if kind == "LEGACY":
        legacy = stored.get("legacy")
        return dict(legacy) if isinstance(legacy, dict) else {"(all streams)": legacy}
    return {}


def state_without(stored: dict[str, Any], names: set[str] | None) -> dict[str, Any]:
    """The checkpoint with the given streams' parts removed (`None`: everything)."""
    if names is None or not stored:
        return dict(EMPTY)
    stored = copy.deepcopy(stored)
    kind = stored.get("kind")
    if kind == "STREAM":
        streams = {n: s for n, s in (stored.get("streams") or {}).items() if n not in names}
        return {"kind": "STREAM", "streams": streams} if streams else dict(EMPTY)
    if kind == "GLOBAL":
        global_state = (stored.get("global") or {}).get("global") or {}
        kept = [
            entry for entry in global_state.get("stream_states") or []
            if (entry.get("stream_descriptor") or {}).get("name") not in names
        ]  # fmt: skip
        if not kept:
            return dict(EMPTY)  # the shared part (e.g. a CDC position) means nothing without streams
        global_state["stream_states"] = kept
        return stored
    if kind == "LEGACY" and isinstance(stored.get("legacy"), dict):
        legacy = {k: v for k, v in stored["legacy"].items() if k not in names}
        return {"kind": "LEGACY", "legacy": legacy} if legacy else dict(EMPTY)
    return dict(EMPTY)
