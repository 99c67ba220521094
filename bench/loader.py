"""Loader throughput: N synthetic RECORD lines, read in 64 KB chunks as from the connector's pipe,
framed by the runner's `protocol.frames` (runs of one stream's lines, routed by their prefix) into
the loader (typed per batch by pyarrow's JSON reader, loaded by a write thread: DuckDB Arrow insert, PostgreSQL binary
COPY straight into the table for append, COPY into staging + MERGE for dedup) against a raw `COPY`
of the same rows as CSV bytes into PostgreSQL, measured in the same run. Also shown: a raw COPY of
the rows as they land (the data plus `_airbyte_raw_id`, `_airbyte_extracted_at`, `_airbyte_meta`,
`_airbyte_generation_id`), the floor for any loader that writes those columns. Prints rows/s and
ratios; the goal is loader/raw COPY >= 0.5 for PostgreSQL. Never asserts times.

    uv run python bench/loader.py [--rows 1000000]

Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust auth); creates and drops the database
`dalgo_bench_loader`. The DuckDB file lives in a temporary directory.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import resource
import tempfile
import time
import uuid
from pathlib import Path
from typing import NamedTuple

import orjson
import psycopg

from dalgo.ingestion.loader import DuckDBWriter, Loader, PostgresWriter
from dalgo.ingestion.protocol import ConfiguredStream, DestinationMode, RawRecords, SyncMode, frames

DB = "dalgo_bench_loader"
SERVER = "host=127.0.0.1 port=5432 user=postgres"
SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "village": {"type": "string"},
        "head_name": {"type": ["null", "string"]},
        "members": {"type": "integer"},
        "income": {"type": "number"},
        "has_toilet": {"type": "boolean"},
        "surveyed_at": {"type": "string", "format": "date-time"},
        "notes": {"type": ["null", "string"]},
    },
}
VILLAGES = ["Nandgaon", "Shirur", "Wadgaon", "Pimpri", "Khed"]


def synthetic(rows: int) -> tuple[bytes, bytes, bytes]:
    """RECORD lines as a connector writes them, the same rows as CSV (the raw COPY baseline), and as
    CSV with the metadata columns the loader adds (raw id, extraction time, meta, generation)."""
    lines: list[bytes] = []
    out, landed = io.StringIO(), io.StringIO()
    writer, landed_writer = csv.writer(out), csv.writer(landed)
    meta = '{"changes":[],"sync_id":"0123456789ab"}'
    for i in range(rows):
        data = {
            "id": i,
            "village": VILLAGES[i % 5],
            "head_name": None if i % 17 == 0 else f"Head {i}",
            "members": 1 + i % 9,
            "income": round(1000 + (i % 997) * 12.5, 2),
            "has_toilet": i % 3 == 0,
            "surveyed_at": f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:00:00Z",
            "notes": "" if i % 5 else 'needs follow-up, "urgent"',
        }
        message = {"type": "RECORD", "record": {"stream": "households", "data": data, "emitted_at": 1_700_000_000_000}}
        lines.append(orjson.dumps(message, option=orjson.OPT_APPEND_NEWLINE))
        row = ["" if v is None else v for v in data.values()]
        writer.writerow(row)
        landed_writer.writerow([*row, uuid.uuid4(), "2023-11-14 22:13:20.000", meta, 0])
    return b"".join(lines), out.getvalue().encode(), landed.getvalue().encode()


def stream(mode: DestinationMode) -> ConfiguredStream:
    return ConfiguredStream(
        name="households", json_schema=SCHEMA, sync_mode=SyncMode.FULL_REFRESH, destination_mode=mode,
        primary_key=(("id",),),
    )  # fmt: skip


PIPE_READ = 1 << 16  # what one read of a connector's stdout pipe returns at most (Linux)


class Timing(NamedTuple):
    seconds: float
    cpu: float  # CPU seconds of this process (every thread: parsing, ADBC, DuckDB)
    server_cpu: float  # CPU seconds of the PostgreSQL backends it used (0 for DuckDB)


def backend_cpu(conninfo: str, application: str) -> dict[int, float]:
    """CPU seconds (user + system, from /proc: the server runs on this machine) of each backend of
    `application` connected to the database of `conninfo`."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        pids = [r[0] for r in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = %s",
            [application],
        ).fetchall()]  # fmt: skip
    cpu: dict[int, float] = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        cpu[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return cpu


def run_loader(
    writer_factory: object, output: bytes, mode: DestinationMode, schema: str, conninfo: str | None = None
) -> Timing:
    """The loader over `output` (read as from a pipe, framed as the runner does); with `conninfo`,
    the CPU of its PostgreSQL backends too."""
    writer = writer_factory()  # type: ignore[operator]
    loader = Loader(writer, schema=schema, streams=[stream(mode)], on_state=lambda s: None)
    before = backend_cpu(conninfo, "dalgo-loader") if conninfo else {}
    started, cpu = time.perf_counter(), time.process_time()
    reads = (output[i : i + PIPE_READ] for i in range(0, len(output), PIPE_READ))
    for item in frames(reads):
        if isinstance(item, RawRecords):
            loader.feed(item)
        else:
            loader.feed_line(item)
    loader.finish()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    after = backend_cpu(conninfo, "dalgo-loader") if conninfo else {}
    writer.close()
    return Timing(elapsed, cpu, sum(c - before.get(pid, 0.0) for pid, c in after.items()))


DATA_COLUMNS = (
    "id bigint, village text, head_name text, members bigint, income double precision, has_toilet boolean,"
    " surveyed_at timestamptz, notes text"
)
LANDED_COLUMNS = (
    f"{DATA_COLUMNS}, _airbyte_raw_id text, _airbyte_extracted_at timestamptz, _airbyte_meta jsonb,"
    " _airbyte_generation_id bigint"
)


def raw_copy(conninfo: str, payload: bytes, columns: str = DATA_COLUMNS) -> Timing:
    """A COPY of CSV bytes into a new table (dropped afterwards)."""
    with psycopg.connect(conninfo, application_name="dalgo-bench-copy") as conn:
        conn.execute(f"CREATE TABLE raw_copy ({columns})")
        conn.commit()
        before = backend_cpu(conninfo, "dalgo-bench-copy")
        started, cpu = time.perf_counter(), time.process_time()
        with conn.cursor() as cur, cur.copy("COPY raw_copy FROM STDIN (FORMAT csv)") as copy:
            view = memoryview(payload)
            for start in range(0, len(view), 1 << 20):
                copy.write(view[start : start + (1 << 20)])
        conn.commit()
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        after = backend_cpu(conninfo, "dalgo-bench-copy")
        conn.execute("DROP TABLE raw_copy")
        conn.commit()
        return Timing(elapsed, cpu, sum(c - before.get(pid, 0.0) for pid, c in after.items()))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    rows = args.rows
    t0 = time.perf_counter()
    output, payload, landed = synthetic(rows)
    print(f"generated {rows:,} RECORD lines ({len(output) / 1e6:.0f} MB) in {time.perf_counter() - t0:.1f} s")
    with psycopg.connect(f"{SERVER} dbname=postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DB}")
        admin.execute(f"CREATE DATABASE {DB}")
    conninfo = f"{SERVER} dbname={DB}"
    try:
        results: dict[str, Timing] = {}
        results["raw COPY CSV -> PostgreSQL (baseline)"] = raw_copy(conninfo, payload)
        results["raw COPY CSV, rows as landed (+ metadata)"] = raw_copy(conninfo, landed, LANDED_COLUMNS)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "bench.duckdb"
            for mode in (DestinationMode.APPEND, DestinationMode.APPEND_DEDUP):
                results[f"loader -> DuckDB ({mode})"] = run_loader(
                    lambda: DuckDBWriter(path), output, mode, f"b_{mode}"
                )
        for mode in (DestinationMode.APPEND, DestinationMode.APPEND_DEDUP):
            results[f"loader -> PostgreSQL ({mode})"] = run_loader(
                lambda: PostgresWriter(conninfo), output, mode, f"b_{mode}", conninfo
            )
    finally:
        with psycopg.connect(f"{SERVER} dbname=postgres", autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
    baseline = rows / results["raw COPY CSV -> PostgreSQL (baseline)"].seconds
    cores = os.cpu_count() or 1
    print(f"\n{'path':45} {'seconds':>8} {'rows/s':>10} {'vs raw COPY':>12} {'CPU s':>7} {'server CPU s':>13}")
    for name, timing in results.items():
        rate = rows / timing.seconds
        print(
            f"{name:45} {timing.seconds:8.2f} {rate:10,.0f} {rate / baseline:12.2f} {timing.cpu:7.2f}"
            f" {timing.server_cpu:13.2f}"
        )
    append = results["loader -> PostgreSQL (append)"]
    floor = (append.cpu + append.server_cpu) / cores
    print(
        f"\nPostgreSQL append: {append.cpu + append.server_cpu:.2f} CPU seconds in all on {cores} cores, so at"
        f" least {floor:.2f} s: {rows / floor / baseline:.2f} of the raw COPY at best"
    )
    print("\ngoal: loader -> PostgreSQL / raw COPY >= 0.5")
    print(f"peak RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
