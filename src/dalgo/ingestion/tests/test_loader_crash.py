"""Crash safety: a child process loads an incremental append_dedup stream, saving each state the
loader hands back to a file; it is killed with SIGKILL at random points, then resumed from the saved
state (re-sending a few records before it, as incremental sources do). Afterwards the table must
match the source exactly: 0 rows lost, 0 duplicated. A kill during an overwrite leaves the old
table intact and queryable."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import uuid
from pathlib import Path
from typing import Any

import duckdb
import psycopg

from dalgo.ingestion.tests.test_loader_engines import pg_database  # noqa: F401  (fixture)

SOURCE_ROWS = 3000
KEYS = 1000  # every key is updated three times in the source
STATE_EVERY = 40
OVERLAP = 25  # records re-sent before the saved position on resume

CHILD = r"""
import json, os, sys
from dalgo.ingestion.loader import DuckDBWriter, Loader, PostgresWriter
from dalgo.ingestion.protocol import ConfiguredStream, DestinationMode, Record, State, SyncMode

kind, target, schema, state_file, mode, rows, keys, every, overlap = sys.argv[1:10]
rows, keys, every, overlap = int(rows), int(keys), int(every), int(overlap)
position = 0
if os.path.exists(state_file):
    with open(state_file) as f:
        position = json.load(f)["position"]
start = max(0, position - overlap) if mode == "append_dedup" else 0

def on_state(state):
    tmp = state_file + ".tmp"
    with open(tmp, "w") as f:
        json.dump(state.raw["data"], f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, state_file)
    print("S", state.raw["data"]["position"], flush=True)

stream = ConfiguredStream(
    name="events",
    json_schema={"type": "object", "properties": {"id": {"type": "integer"}, "updated": {"type": "integer"},
                                                  "v": {"type": "string"}}},
    sync_mode=SyncMode.INCREMENTAL, destination_mode=DestinationMode(mode),
    primary_key=(("id",),), cursor_field=("updated",),
)
writer = DuckDBWriter(target) if kind == "duckdb" else PostgresWriter(target)
loader = Loader(writer, schema=schema, streams=[stream], on_state=on_state, batch_rows=60)
print("READY", flush=True)
for j in range(start, rows):
    data = {"id": j % keys, "updated": j, "v": f"v{j}"}
    loader.feed(Record(stream="events", data=data, emitted_at=1_700_000_000_000 + j))
    if (j + 1) % every == 0:
        loader.feed(State(raw={"type": "LEGACY", "data": {"position": j + 1}}))
loader.feed(State(raw={"type": "LEGACY", "data": {"position": rows}}))
loader.finish()
writer.close()
print("DONE", flush=True)
"""


def run_child(args: list[str], *, kill_after_states: int | None, rng: random.Random) -> int:
    """Run the child; with kill_after_states, SIGKILL it that many states in plus a random delay."""
    process = subprocess.Popen(
        [sys.executable, "-c", CHILD, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    assert process.stdout is not None
    states = 0
    if kill_after_states is not None:
        for line in process.stdout:
            if line.startswith("S "):
                states += 1
                if states >= kill_after_states:
                    threading.Event().wait(rng.uniform(0, 0.03))  # land anywhere: feed, flush, commit, callback
                    os.kill(process.pid, signal.SIGKILL)
                    break
    _out, err = process.communicate(timeout=60)
    if kill_after_states is None:
        assert process.returncode == 0, err
    return process.returncode


class Target:
    def __init__(self, kind: str, location: str):
        self.kind, self.location = kind, location
        self.schema = f"crash_{uuid.uuid4().hex[:8]}"

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        if self.kind == "duckdb":
            conn = duckdb.connect(self.location)  # opened and closed: the child needs the file lock
            try:
                return [tuple(r) for r in conn.execute(sql).fetchall()]
            finally:
                conn.close()
        with psycopg.connect(self.location) as pg:
            return [tuple(r) for r in pg.execute(sql).fetchall()]

    def tables(self) -> list[str]:
        rows = self.rows(f"SELECT table_name FROM information_schema.tables WHERE table_schema = '{self.schema}'")
        return sorted(r[0] for r in rows)


def targets(tmp_path: Path, pg: str) -> list[Target]:
    return [Target("duckdb", str(tmp_path / "crash.duckdb")), Target("postgres", pg)]


def kill_and_resume(target: Target, seeds: list[int], state_file: Path) -> list[int]:
    args = [target.kind, target.location, target.schema, str(state_file), "append_dedup",
            str(SOURCE_ROWS), str(KEYS), str(STATE_EVERY), str(OVERLAP)]  # fmt: skip
    codes = []
    for seed in seeds:
        rng = random.Random(seed)
        codes.append(run_child(args, kill_after_states=rng.randint(1, 8), rng=rng))
    run_child(args, kill_after_states=None, rng=random.Random(0))
    return codes


def test_kill_9_during_append_dedup_loses_and_duplicates_nothing(tmp_path: Path, pg_database: str) -> None:  # noqa: F811
    # Three kills into DuckDB and three into PostgreSQL (different seeds), run side by side.
    plans = list(zip(targets(tmp_path, pg_database), [[11, 12, 13], [21, 22, 23]], strict=True))
    results: dict[str, list[int]] = {}
    errors: list[BaseException] = []

    def work(target: Target, seeds: list[int]) -> None:
        try:
            results[target.kind] = kill_and_resume(target, seeds, tmp_path / f"{target.kind}.state.json")
        except BaseException as exc:  # noqa: BLE001  (re-raised by the assert below)
            errors.append(exc)

    threads = [threading.Thread(target=work, args=plan) for plan in plans]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    expected = sorted((k, max(j for j in range(SOURCE_ROWS) if j % KEYS == k)) for k in range(KEYS))
    for target, _seeds in plans:
        assert results[target.kind] == [-signal.SIGKILL] * 3  # each child really died mid-sync
        rows = target.rows(f'SELECT id, updated, v FROM "{target.schema}"."events" ORDER BY id')
        assert len(rows) == KEYS, (target.kind, len(rows))  # 0 duplicated, 0 lost
        assert [(r[0], r[1]) for r in rows] == expected
        assert all(r[2] == f"v{r[1]}" for r in rows)


def overwrite_killed(target: Target, state_file: Path) -> None:
    args = [target.kind, target.location, target.schema, str(state_file), "overwrite", "5", "5", "5", "0"]
    run_child(args, kill_after_states=None, rng=random.Random(0))
    assert target.rows(f'SELECT COUNT(*) FROM "{target.schema}"."events"') == [(5,)]
    big = [target.kind, target.location, target.schema, str(state_file), "overwrite", "100000", "100000", "500", "0"]
    assert run_child(big, kill_after_states=3, rng=random.Random(7)) == -signal.SIGKILL
    # The old table is intact and queryable; the dead run's temporary table is all that is left over.
    assert target.rows(f'SELECT COUNT(*), MAX(v) FROM "{target.schema}"."events"') == [(5, "v4")]
    leftovers = [t for t in target.tables() if t.startswith("_dalgo_tmp_events_")]
    assert len(leftovers) == 1
    # The next overwrite drops the leftover and swaps in its own table.
    run_child(args, kill_after_states=None, rng=random.Random(0))
    assert target.tables() == ["events"]
    assert target.rows(f'SELECT COUNT(*) FROM "{target.schema}"."events"') == [(5,)]


def test_kill_9_during_overwrite_leaves_the_old_table(tmp_path: Path, pg_database: str) -> None:  # noqa: F811
    errors: list[BaseException] = []

    def work(target: Target) -> None:
        try:
            overwrite_killed(target, tmp_path / f"{target.kind}.overwrite.json")
        except BaseException as exc:  # noqa: BLE001  (re-raised by the assert below)
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in targets(tmp_path, pg_database)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
