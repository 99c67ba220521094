"""source-edgy: emits Airbyte protocol edge cases on demand, driven by its config (see SPEC)."""

from __future__ import annotations

import argparse
import json
import sys
import time

STREAMS = ("alpha", "beta", "gamma")

SPEC = {
    "documentationUrl": "https://example.invalid/edgy",
    "connectionSpecification": {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "Edgy",
        "type": "object",
        "required": ["api_key"],
        "additionalProperties": True,
        "properties": {
            "api_key": {"type": "string", "airbyte_secret": True, "minLength": 4},
            "records": {"type": "integer", "minimum": 0, "default": 10},
            "streams": {"type": "integer", "minimum": 1, "maximum": 3, "default": 1},
            "state_kind": {"type": "string", "enum": ["STREAM", "GLOBAL", "LEGACY"], "default": "STREAM"},
            "state_every": {"type": "integer", "minimum": 1, "default": 1000},
            "extra_column": {"type": "boolean", "default": False},
            "drop_name": {"type": "boolean", "default": False},
            "log_secret": {"type": "boolean", "default": False},
            "bad_line": {"type": "boolean", "default": False},
            "non_utf8": {"type": "boolean", "default": False},
            "huge_record_mb": {"type": "integer", "minimum": 0, "default": 0},
            "trace_error": {"type": "string"},
            "control_config": {"type": "boolean", "default": False},
            "crash": {"type": "boolean", "default": False},
            "sleep_forever": {"type": "boolean", "default": False},
            "spawn_child": {"type": "boolean", "default": False},
            "check_fail": {"type": "boolean", "default": False},
            "keys": {"type": "integer", "minimum": 0, "default": 0, "description": "ids repeat every `keys` records"},
            "overlap": {
                "type": "integer",
                "minimum": 0,
                "default": 0,
                "description": "re-send records before the cursor",
            },
            "sleep_ms": {"type": "integer", "minimum": 0, "default": 0, "description": "pause after each record"},
            "auth": {
                "type": "object",
                "oneOf": [
                    {
                        "title": "Token",
                        "required": ["kind", "token"],
                        "properties": {
                            "kind": {"type": "string", "const": "token"},
                            "token": {"type": "string", "airbyte_secret": True},
                        },
                    },
                    {
                        "title": "None",
                        "required": ["kind"],
                        "properties": {"kind": {"type": "string", "const": "none"}},
                    },
                ],
            },
        },
    },
}


def emit(message: dict) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def log(level: str, message: str) -> None:
    emit({"type": "LOG", "log": {"level": level, "message": message}})


def schema(config: dict) -> dict:
    properties = {"id": {"type": "integer"}, "updated_at": {"type": "integer"}, "name": {"type": ["null", "string"]}}
    if config.get("extra_column"):
        properties["extra"] = {"type": ["null", "string"]}
    if config.get("drop_name"):
        del properties["name"]
    return {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object", "properties": properties}


def catalog(config: dict) -> dict:
    return {
        "streams": [
            {
                "name": name,
                "json_schema": schema(config),
                "supported_sync_modes": ["full_refresh", "incremental"],
                "source_defined_cursor": True,
                "default_cursor_field": ["updated_at"],
                "source_defined_primary_key": [["id"]],
            }
            for name in STREAMS[: int(config.get("streams", 1))]
        ]
    }


def cursor_from_state(state, stream: str) -> int:
    if not state:
        return 0
    if isinstance(state, dict):  # LEGACY: {"alpha": {"updated_at": n}}
        return int((state.get(stream) or {}).get("updated_at", 0))
    for message in state:
        kind = message.get("type", "LEGACY")
        if kind == "STREAM" and message["stream"]["stream_descriptor"]["name"] == stream:
            return int(message["stream"]["stream_state"].get("updated_at", 0))
        if kind == "GLOBAL":
            for entry in message["global"]["stream_states"]:
                if entry["stream_descriptor"]["name"] == stream:
                    return int(entry["stream_state"].get("updated_at", 0))
        if kind == "LEGACY":
            return int((message.get("data", {}).get(stream) or {}).get("updated_at", 0))
    return 0


def state_message(kind: str, cursors: dict[str, int], stream: str) -> dict:
    if kind == "STREAM":
        state = {
            "type": "STREAM",
            "stream": {"stream_descriptor": {"name": stream}, "stream_state": {"updated_at": cursors[stream]}},
        }
    elif kind == "GLOBAL":
        state = {
            "type": "GLOBAL",
            "global": {
                "shared_state": {"cursors": len(cursors)},
                "stream_states": [
                    {"stream_descriptor": {"name": name}, "stream_state": {"updated_at": value}}
                    for name, value in cursors.items()
                ],
            },
        }
    else:
        state = {"type": "LEGACY", "data": {name: {"updated_at": value} for name, value in cursors.items()}}
    return {"type": "STATE", "state": state}


def read(config: dict, configured: dict, state) -> None:
    if config.get("log_secret"):
        log("INFO", f"connecting with key {config['api_key']}")
        print(f"stderr sees {config['api_key']} and {json.dumps(config)}", file=sys.stderr, flush=True)
    if config.get("control_config"):
        new = {**config, "api_key": config["api_key"] + "-refreshed"}
        emit(
            {
                "type": "CONTROL",
                "control": {"type": "CONNECTOR_CONFIG", "emitted_at": 0.0, "connectorConfig": {"config": new}},
            }
        )
    if config.get("spawn_child"):
        import subprocess

        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"])
    if config.get("sleep_forever"):
        log("INFO", "sleeping forever")
        while True:
            time.sleep(1)
    kind = config.get("state_kind", "STREAM")
    every = int(config.get("state_every", 1000))
    total = int(config.get("records", 10))
    names = [entry["stream"]["name"] for entry in configured["streams"]]
    cursors = {name: cursor_from_state(state, name) for name in names}
    now = int(time.time() * 1000)
    for name in names:
        emit(
            {
                "type": "TRACE",
                "trace": {
                    "type": "STREAM_STATUS",
                    "emitted_at": now,
                    "stream_status": {"stream_descriptor": {"name": name}, "status": "STARTED"},
                },
            }
        )
        start = max(0, cursors[name] - int(config.get("overlap", 0)))
        keys = int(config.get("keys", 0))
        pause = int(config.get("sleep_ms", 0)) / 1000
        for i in range(start + 1, total + 1):
            data = {"id": (i - 1) % keys + 1 if keys else i, "updated_at": i, "name": f"{name} #{i}"}
            if pause:
                time.sleep(pause)
            if config.get("extra_column"):
                data["extra"] = f"x{i}"
            if config.get("drop_name"):
                del data["name"]
            emit({"type": "RECORD", "record": {"stream": name, "data": data, "emitted_at": now}})
            cursors[name] = i
            if (i - start) % every == 0:
                emit(state_message(kind, cursors, name))
        emit(state_message(kind, cursors, name))
        emit(
            {
                "type": "TRACE",
                "trace": {
                    "type": "STREAM_STATUS",
                    "emitted_at": now,
                    "stream_status": {"stream_descriptor": {"name": name}, "status": "COMPLETE"},
                },
            }
        )
    if config.get("non_utf8"):
        sys.stdout.flush()
        head = b'{"type": "RECORD", "record": {"stream": "' + names[0].encode() + b'", "emitted_at": 1, '
        sys.stdout.buffer.write(head + b'"data": {"id": 0, "name": "caf\xe9 \xff\xfe"}}}\n')
        sys.stdout.buffer.flush()
    if config.get("huge_record_mb"):
        blob = "x" * (int(config["huge_record_mb"]) * 1024 * 1024)
        emit(
            {
                "type": "RECORD",
                "record": {"stream": names[0], "emitted_at": now, "data": {"id": -1, "updated_at": 0, "name": blob}},
            }
        )
    if config.get("bad_line"):
        sys.stdout.write(f"this is not json (key {config['api_key']})\n")
        sys.stdout.flush()
        emit({"type": "RECORD", "record": {"stream": names[0], "data": {"id": 999}, "emitted_at": now}})
    if config.get("trace_error"):
        emit(
            {
                "type": "TRACE",
                "trace": {
                    "type": "ERROR",
                    "emitted_at": now,
                    "error": {
                        "message": config["trace_error"],
                        "internal_message": f"internal detail {config['api_key']}",
                        "stack_trace": "Traceback: edgy",
                        "failure_type": "config_error",
                    },
                },
            }
        )
        sys.exit(1)
    if config.get("crash"):
        print("Traceback (most recent call last):\nRuntimeError: edgy crashed on purpose", file=sys.stderr, flush=True)
        sys.exit(1)


def main() -> None:
    parser = argparse.ArgumentParser(prog="source-edgy")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("spec")
    for name in ("check", "discover", "read"):
        command = sub.add_parser(name)
        command.add_argument("--config", required=True)
        if name == "read":
            command.add_argument("--catalog", required=True)
            command.add_argument("--state")
    args = parser.parse_args()
    if args.command == "spec":
        emit({"type": "SPEC", "spec": SPEC})
        return
    with open(args.config) as handle:
        config = json.load(handle)
    if args.command == "check":
        if config.get("check_fail"):
            emit({"type": "CONNECTION_STATUS", "connectionStatus": {"status": "FAILED", "message": "bad key"}})
        else:
            emit({"type": "CONNECTION_STATUS", "connectionStatus": {"status": "SUCCEEDED"}})
        return
    if args.command == "discover":
        emit({"type": "CATALOG", "catalog": catalog(config)})
        return
    with open(args.catalog) as handle:
        configured = json.load(handle)
    state = None
    if args.state:
        with open(args.state) as handle:
            state = json.load(handle)
    read(config, configured, state)
