"""The protocol runner against a real subprocess: the edgy test connector (tests/connectors/edgy),
installed once per session from its local path with connector_env_custom."""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from dalgo.core.errors import ValidationFailed
from dalgo.ingestion.connectors import runner as runner_module
from dalgo.ingestion.connectors.errors import ConnectorCancelled, ConnectorFailed, ConnectorTimeout
from dalgo.ingestion.connectors.install import ConnectorEnv, connector_env_custom
from dalgo.ingestion.connectors.runner import MALFORMED_LINE, MASK, ConnectorRunner
from dalgo.ingestion.protocol import (
    ConfiguredStream,
    ControlConfig,
    DestinationMode,
    Log,
    Message,
    Other,
    Record,
    State,
    SyncMode,
    Trace,
    parse_message,
)
from tests.connectors.support import EDGY_PATH, LogSink, processes_with_env

SECRET = "s3cr3t-edgy-key"
TOKEN = "tok-9f8e7d6c"


@pytest.fixture(scope="module")
def edgy(tmp_path_factory: pytest.TempPathFactory) -> ConnectorEnv:
    return connector_env_custom(str(EDGY_PATH), data_dir=tmp_path_factory.mktemp("edgy-data"))


def config(**extra: Any) -> dict[str, Any]:
    return {"api_key": SECRET, "auth": {"kind": "token", "token": TOKEN}, **extra}


def streams(
    runner: ConnectorRunner, cfg: dict[str, Any], mode: SyncMode = SyncMode.INCREMENTAL
) -> list[ConfiguredStream]:
    return [
        ConfiguredStream(
            name=s["name"],
            json_schema=s["json_schema"],
            sync_mode=mode,
            destination_mode=DestinationMode.APPEND_DEDUP,
            primary_key=(("id",),),
            cursor_field=("updated_at",),
        )
        for s in runner.discover(cfg)
    ]


def read_all(
    runner: ConnectorRunner, cfg: dict[str, Any], state: Any = None, **kw: Any
) -> tuple[list[Message], LogSink]:
    sink = LogSink()
    messages = list(
        runner.read(cfg, kw.pop("catalog", None) or streams(runner, cfg), state, timeout_seconds=60, on_log=sink, **kw)
    )
    return messages, sink


def test_spec_is_cached_per_env(edgy: ConnectorEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = ConnectorRunner(edgy).spec()
    assert spec["connectionSpecification"]["properties"]["api_key"]["airbyte_secret"] is True
    assert (edgy.path / "spec.json").exists()
    monkeypatch.setattr(runner_module.subprocess, "Popen", _no_process)
    assert ConnectorRunner(edgy).spec() == spec


def _no_process(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("no process may start")


def test_check_and_discover(edgy: ConnectorEnv) -> None:
    runner = ConnectorRunner(edgy)
    assert runner.check(config()) == (True, "Connected.")
    assert runner.check(config(check_fail=True)) == (False, "bad key")
    found = runner.discover(config(streams=3))
    assert [s["name"] for s in found] == ["alpha", "beta", "gamma"]
    assert set(found[0]["json_schema"]["properties"]) == {"id", "updated_at", "name"}
    # Schema changes driven by config: a column added, a column removed.
    changed = runner.discover(config(extra_column=True, drop_name=True))
    assert set(changed[0]["json_schema"]["properties"]) == {"id", "updated_at", "extra"}


def test_config_is_validated_before_any_process(edgy: ConnectorEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = ConnectorRunner(edgy)
    runner.spec()  # cached, so from here on no process is needed to validate
    monkeypatch.setattr(runner_module.subprocess, "Popen", _no_process)
    bad = {"records": -1, "streams": "two", "auth": {"kind": "token"}, "api_key": "ab"}
    with pytest.raises(ValidationFailed) as caught:
        runner.check(bad)
    fields = caught.value.fields
    assert "config.records" in fields and "config.streams" in fields
    assert "config.auth" in fields  # oneOf: no branch matches
    assert "config.api_key" in fields  # too short; the value itself is masked
    assert "'ab'" not in fields["config.api_key"]
    with pytest.raises(ValidationFailed) as missing:
        runner.discover({})
    assert missing.value.fields == {"config.api_key": "This field is required."}
    with pytest.raises(ValidationFailed):
        list(runner.read({"api_key": 5}, [], None, timeout_seconds=5, on_log=LogSink()))


@pytest.mark.parametrize("kind", ["STREAM", "GLOBAL", "LEGACY"])
def test_read_incremental_with_state(edgy: ConnectorEnv, kind: str) -> None:
    runner = ConnectorRunner(edgy)
    cfg = config(records=250, streams=3, state_kind=kind, state_every=100)
    messages, _ = read_all(runner, cfg)
    records = [m for m in messages if isinstance(m, Record)]
    states = [m for m in messages if isinstance(m, State)]
    assert len(records) == 750
    assert {r.stream for r in records} == {"alpha", "beta", "gamma"}
    assert all(s.kind == kind for s in states)
    if kind == "STREAM":
        assert [s.stream for s in states[:3]] == ["alpha", "alpha", "alpha"]
        state_arg: Any = list({s.stream: s.raw for s in states}.values())  # the latest per stream
    elif kind == "GLOBAL":
        assert states[-1].stream is None
        state_arg = [states[-1].raw]
    else:
        state_arg = states[-1].raw["data"]  # the legacy form: one object
    again, _ = read_all(runner, cfg, state_arg)
    assert [m for m in again if isinstance(m, Record)] == []
    more, _ = read_all(runner, {**cfg, "records": 260}, state_arg)
    assert len([m for m in more if isinstance(m, Record)]) == 30  # only the new ones


def test_every_message_type(edgy: ConnectorEnv) -> None:
    runner = ConnectorRunner(edgy)
    messages, sink = read_all(runner, config(records=2, control_config=True, log_secret=True))
    kinds = {type(m) for m in messages}
    assert {Record, State, Log, Trace, ControlConfig} <= kinds
    statuses = [m.raw["stream_status"]["status"] for m in messages if isinstance(m, Trace)]
    assert statuses == ["STARTED", "COMPLETE"]
    control = next(m for m in messages if isinstance(m, ControlConfig))
    assert control.config["api_key"] == SECRET + "-refreshed"
    assert "The connector updated its configuration." in sink.text


def test_zero_records(edgy: ConnectorEnv) -> None:
    messages, _ = read_all(ConnectorRunner(edgy), config(records=0))
    assert [m for m in messages if isinstance(m, Record)] == []
    assert [m for m in messages if isinstance(m, State)]


def test_secrets_never_reach_the_log(edgy: ConnectorEnv) -> None:
    runner = ConnectorRunner(edgy)
    cfg = config(records=1, log_secret=True, control_config=True, trace_error=f"bad key {SECRET}")
    sink = LogSink()
    yielded: list[Message] = []
    with pytest.raises(ConnectorFailed) as caught:
        yielded.extend(runner.read(cfg, streams(runner, cfg), None, timeout_seconds=30, on_log=sink))
    assert sink.lines, "the connector logged on stdout (LOG) and stderr"
    assert any(level == "STDERR" for level, _ in sink.lines)
    for secret in (SECRET, TOKEN):
        assert secret not in sink.text
        assert secret not in caught.value.detail
        assert secret not in caught.value.internal_message
    assert MASK in sink.text
    logs = [m for m in yielded if isinstance(m, Log)]
    assert logs and all(SECRET not in m.message for m in logs)


def test_malformed_line_fails_cleanly(edgy: ConnectorEnv) -> None:
    sink = LogSink()
    runner = ConnectorRunner(edgy)
    cfg = config(records=3, bad_line=True)
    got: list[Message] = []
    with pytest.raises(ConnectorFailed) as caught:
        got.extend(runner.read(cfg, streams(runner, cfg), None, timeout_seconds=30, on_log=sink))
    assert caught.value.detail == MALFORMED_LINE
    assert "this is not json" in sink.text and SECRET not in sink.text
    assert len([m for m in got if isinstance(m, Record)]) == 3  # nothing after the bad line


def test_trace_error_is_raised_after_the_process_ends(edgy: ConnectorEnv) -> None:
    sink = LogSink()
    runner = ConnectorRunner(edgy)
    cfg = config(records=5, trace_error="The API refused the key.")
    got: list[Message] = []
    with pytest.raises(ConnectorFailed) as caught:
        got.extend(runner.read(cfg, streams(runner, cfg), None, timeout_seconds=30, on_log=sink))
    assert caught.value.code == "connector_failed"
    assert caught.value.detail == "The API refused the key."
    assert "internal detail" in sink.text  # the internal message goes to the log
    assert len([m for m in got if isinstance(m, Record)]) == 5
    assert any(isinstance(m, Trace) and m.type == "ERROR" for m in got)


def test_crash_shows_the_last_stderr_lines(edgy: ConnectorEnv) -> None:
    runner = ConnectorRunner(edgy)
    with pytest.raises(ConnectorFailed) as caught:
        read_all(runner, config(records=1, crash=True))
    assert "exited with code 1" in caught.value.detail
    assert "edgy crashed on purpose" in caught.value.detail


def test_timeout_kills_the_whole_process_group(edgy: ConnectorEnv) -> None:
    marker = f"EDGY_MARK_{uuid.uuid4().hex}"
    runner = ConnectorRunner(edgy, extra_env={marker: "1"})
    cfg = config(sleep_forever=True, spawn_child=True)
    started = time.monotonic()
    with pytest.raises(ConnectorTimeout) as caught:
        list(runner.read(cfg, streams(runner, cfg), None, timeout_seconds=1.5, on_log=LogSink()))
    assert caught.value.code == "connector_timeout"
    assert time.monotonic() - started < 10
    assert _gone(marker)


def test_cancel_from_another_thread(edgy: ConnectorEnv) -> None:
    marker = f"EDGY_MARK_{uuid.uuid4().hex}"
    runner = ConnectorRunner(edgy, extra_env={marker: "1"})
    cfg = config(sleep_forever=True, spawn_child=True)
    catalog = streams(runner, cfg)
    threading.Timer(1.0, runner.cancel).start()
    with pytest.raises(ConnectorCancelled):
        list(runner.read(cfg, catalog, None, timeout_seconds=60, on_log=LogSink()))
    assert _gone(marker)


def test_closing_the_generator_early_stops_the_connector(edgy: ConnectorEnv) -> None:
    marker = f"EDGY_MARK_{uuid.uuid4().hex}"
    runner = ConnectorRunner(edgy, extra_env={marker: "1"})
    cfg = config(sleep_forever=True, spawn_child=True)
    messages = runner.read(cfg, streams(runner, cfg), None, timeout_seconds=60, on_log=LogSink())
    assert isinstance(next(messages), Log)  # "sleeping forever"
    messages.close()
    assert _gone(marker)


def _gone(marker: str) -> bool:
    deadline = time.monotonic() + 5
    while processes_with_env(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    return processes_with_env(marker) == []


def test_ten_megabyte_record(edgy: ConnectorEnv) -> None:
    messages, _ = read_all(ConnectorRunner(edgy), config(records=1, huge_record_mb=10))
    huge = [m for m in messages if isinstance(m, Record) and m.data["id"] == -1]
    assert len(huge) == 1 and len(huge[0].data["name"]) == 10 * 1024 * 1024


def test_non_utf8_bytes_are_replaced(edgy: ConnectorEnv) -> None:
    messages, _ = read_all(ConnectorRunner(edgy), config(records=1, non_utf8=True))
    odd = next(m for m in messages if isinstance(m, Record) and m.data["id"] == 0)
    assert odd.data["name"].startswith("caf\ufffd")


def test_unknown_message_types_pass_through() -> None:
    parsed = parse_message(b'{"type": "SOMETHING_NEW", "x": 1}')
    assert parsed == Other(type="SOMETHING_NEW", raw={"type": "SOMETHING_NEW", "x": 1})
    assert parse_message(b"[1, 2]") is None
    assert parse_message(b'{"type": "RECORD"}') is None


def test_private_files_are_removed(edgy: ConnectorEnv, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner_module.tempfile, "tempdir", str(tmp_path))
    read_all(ConnectorRunner(edgy), config(records=1))
    assert list(tmp_path.iterdir()) == []
