"""Real connectors from PyPI, each installed once per test session into a session temp data dir:
source-faker (spec, check, discover, full refresh and incremental reads), source-file on local CSV,
JSON and Excel files, and `spec` of the NGO favourites commcare, surveycto and avni."""

from __future__ import annotations

import csv
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import orjson
import pytest

from dalgo.ingestion.connectors.install import ConnectorEnv, connector_env
from dalgo.ingestion.connectors.runner import ConnectorRunner
from dalgo.ingestion.protocol import ConfiguredStream, DestinationMode, Record, State, SyncMode
from tests.connectors.support import LogSink

FAKER = ("airbyte-source-faker", "7.2.1")
FILE = ("airbyte-source-file", "0.5.39")
FAVOURITES = [
    ("airbyte-source-commcare", "0.1.39", {"api_key", "project_space", "app_id", "start_date"}),
    ("airbyte-source-surveycto", "0.1.46", {"server_name", "username", "password", "form_id", "start_date"}),
    ("airbyte-source-avni", "0.1.1", {"username", "password", "start_date"}),  # installs on Python 3.10
]


@pytest.fixture(scope="session")
def faker(pypi_data_dir: Path) -> ConnectorEnv:
    return connector_env(*FAKER, data_dir=pypi_data_dir)


@pytest.fixture(scope="session")
def file_source(pypi_data_dir: Path) -> ConnectorEnv:
    return connector_env(*FILE, data_dir=pypi_data_dir)


def configured(found: list[dict[str, Any]], mode: SyncMode, names: set[str] | None = None) -> list[ConfiguredStream]:
    return [
        ConfiguredStream(
            name=s["name"],
            json_schema=s["json_schema"],
            sync_mode=mode,
            destination_mode=DestinationMode.APPEND,
            cursor_field=tuple(s.get("default_cursor_field") or ()) if mode == SyncMode.INCREMENTAL else (),
        )
        for s in found
        if names is None or s["name"] in names
    ]


def test_faker_spec_check_discover_read(faker: ConnectorEnv) -> None:
    runner = ConnectorRunner(faker)
    spec = runner.spec()
    assert "count" in spec["connectionSpecification"]["properties"]
    config = {"count": 300, "seed": 7, "records_per_slice": 100, "always_updated": False, "parallelism": 1}
    ok, message = runner.check(config)
    assert ok, message
    found = runner.discover(config)
    assert {"users", "products", "purchases"} <= {s["name"] for s in found}

    sink = LogSink()
    started = time.monotonic()
    messages = list(
        runner.read(config, configured(found, SyncMode.FULL_REFRESH, {"users"}), None, timeout_seconds=120, on_log=sink)
    )
    elapsed = time.monotonic() - started
    records = [m for m in messages if isinstance(m, Record)]
    assert len(records) == 300 and {r.stream for r in records} == {"users"}
    assert records[0].data["id"] and records[0].emitted_at > 0
    print(f"faker full refresh: {len(records)} records in {elapsed:.2f}s")


def test_faker_incremental_second_read_emits_nothing_new(faker: ConnectorEnv) -> None:
    runner = ConnectorRunner(faker)
    config = {"count": 200, "seed": 3, "records_per_slice": 50, "always_updated": False, "parallelism": 1}
    catalog = configured(runner.discover(config), SyncMode.INCREMENTAL, {"users", "purchases"})
    first = list(runner.read(config, catalog, None, timeout_seconds=120, on_log=LogSink()))
    states = [m for m in first if isinstance(m, State)]
    assert len([m for m in first if isinstance(m, Record) and m.stream == "users"]) == 200
    assert states and all(s.kind == "STREAM" for s in states)
    assert {s.stream for s in states} == {"users", "purchases"}
    latest = list({s.stream: s.raw for s in states}.values())
    second = list(runner.read(config, catalog, latest, timeout_seconds=120, on_log=LogSink()))
    assert [m for m in second if isinstance(m, Record)] == []
    grown = list(runner.read({**config, "count": 230}, catalog, latest, timeout_seconds=120, on_log=LogSink()))
    users = [m for m in grown if isinstance(m, Record) and m.stream == "users"]
    assert all(r.data["id"] > 200 for r in users)  # nothing re-sent; only new ones, if any


def _file_config(path: Path, fmt: str) -> dict[str, Any]:
    return {"dataset_name": "households", "format": fmt, "url": str(path), "provider": {"storage": "local"}}


ROWS = [
    {"household_id": "H1", "village": "Rampur", "members": "4", "surveyed_on": "2024-03-01", "notes": "well, dry"},
    {"household_id": "H2", "village": "Sitapur", "members": "6", "surveyed_on": "2024-03-02", "notes": ""},
    {"household_id": "H3", "village": "Rampur", "members": "2", "surveyed_on": "2024-03-05", "notes": "ok"},
]


def _read_file(runner: ConnectorRunner, config: dict[str, Any]) -> list[Record]:
    found = runner.discover(config)
    assert [s["name"] for s in found] == ["households"]
    assert {"household_id", "village", "members"} <= set(found[0]["json_schema"]["properties"])
    messages = runner.read(
        config, configured(found, SyncMode.FULL_REFRESH), None, timeout_seconds=120, on_log=LogSink()
    )
    return [m for m in messages if isinstance(m, Record)]


def test_file_reads_local_csv(file_source: ConnectorEnv, tmp_path: Path) -> None:
    path = tmp_path / "households.csv"
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(ROWS[0]))
        writer.writeheader()
        writer.writerows(ROWS)
    records = _read_file(ConnectorRunner(file_source), _file_config(path, "csv"))
    assert [r.data["household_id"] for r in records] == ["H1", "H2", "H3"]
    assert records[0].data["notes"] == "well, dry"


def test_file_reads_local_json(file_source: ConnectorEnv, tmp_path: Path) -> None:
    path = tmp_path / "households.jsonl"
    path.write_bytes(b"\n".join(orjson.dumps(row) for row in ROWS) + b"\n")
    records = _read_file(ConnectorRunner(file_source), _file_config(path, "jsonl"))
    assert [r.data["village"] for r in records] == ["Rampur", "Sitapur", "Rampur"]


def test_file_reads_local_excel(file_source: ConnectorEnv, tmp_path: Path) -> None:
    path = tmp_path / "households.xlsx"
    # The connector's own env ships openpyxl; write the workbook with it.
    script = (
        "import sys, json, openpyxl\n"
        "rows = json.loads(sys.argv[2]); wb = openpyxl.Workbook(); ws = wb.active\n"
        "ws.append(list(rows[0])); [ws.append(list(r.values())) for r in rows]; wb.save(sys.argv[1])\n"
    )
    subprocess.run([file_source.command[0], "-c", script, str(path), orjson.dumps(ROWS).decode()], check=True)
    records = _read_file(ConnectorRunner(file_source), _file_config(path, "excel"))
    assert [r.data["household_id"] for r in records] == ["H1", "H2", "H3"]


def test_spec_of_ngo_favourites(pypi_data_dir: Path) -> None:
    def spec_of(entry: tuple[str, str, set[str]]) -> set[str]:
        package, version, _ = entry
        spec = ConnectorRunner(connector_env(package, version, data_dir=pypi_data_dir)).spec()
        return set(spec["connectionSpecification"]["properties"])

    with ThreadPoolExecutor(max_workers=3) as pool:
        found = list(pool.map(spec_of, FAVOURITES))
    for (package, _, expected), properties in zip(FAVOURITES, found, strict=True):
        assert expected <= properties, package
