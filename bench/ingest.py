"""Ingestion end to end: source-faker's `users` stream, N rows, measured four ways in one run.

(a) the connector alone: its `read` as a subprocess (the same argv, configured catalog and
    environment our runner gives it), stdout to /dev/null. The ceiling for any sync. Run twice, first
    and after the syncs; the faster run is the baseline (the machine's load drifts).
(b) our sync (`dalgo.ingestion.sync.sync_streams`: runner + loader) into DuckDB and into PostgreSQL,
    full_refresh + overwrite; each in its own subprocess so its peak memory is its own. Then (unless
    --skip-dedup) incremental + append_dedup on `users` (primary key id, cursor updated_at) into the
    same table, so the merge updates every row already there; reported separately, no goal.
(c) PyAirbyte (`airbyte` 0.71.3, in its own virtualenv bench/.venv-pyairbyte, offline) reading the
    same installed connector into its local DuckDB cache, full refresh. Timed inside its subprocess
    around `read()` only (spec and discover are fetched before; the Source keeps them) and as the
    whole subprocess (import, spec, discover, read).
(d) the loader alone, with bench/loader.py's functions: 1M synthetic RECORD lines into PostgreSQL
    (append) against a raw COPY of the same rows as CSV.

Every catalog is the single stream `users`; config {"count": N, "seed": 1, "parallelism": 1,
"records_per_slice": 1000} (the spec's default, which the source form fills in; faker sends a STATE
after that many records and the loader commits at each STATE). The connector env is installed once
into bench/.venv-connectors (git-ignored) and reused. Each row shows the CPU seconds of the measured
span (process plus reaped children; the PostgreSQL server is not counted) and the peak VmRSS of the
process tree (the worker and the connector it runs) and of its root, sampled every 50 ms.

Goals: (b)/(a) >= 0.9; (b)/(c) >= 2 (against PyAirbyte's read() alone); (d) loader/raw COPY
>= 0.5. A missed goal is reported, not an error: the exit status is non-zero only if something
broke (a failed run, a wrong row count).

    uv run python bench/ingest.py [--rows 200000] [--skip-pyairbyte] [--skip-dedup]
                                  [--records-per-slice 1000] [--loader-rows 1000000]

Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust auth); creates and drops the database
`dalgo_bench_ingest`.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import psycopg
from _measure import RssSampler  # bench/_measure.py (this script's folder is on sys.path)

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
CONNECTORS_DIR = BENCH / ".venv-connectors"  # DALGO_DATA_DIR-like: connectors/<package>-<version>/
PYAIRBYTE_VENV = BENCH / ".venv-pyairbyte"
PYAIRBYTE_VERSION = "0.71.3"
STREAM = "users"
DB = "dalgo_bench_ingest"
SERVER = "host=127.0.0.1 port=5432 user=postgres"
SCHEMA = "bench"
OFFLINE = {
    "AIRBYTE_OFFLINE_MODE": "1",  # no registry, no telemetry
    "AIRBYTE_LOCAL_REGISTRY": "0",  # registry disabled, whatever the mode
    "DO_NOT_TRACK": "1",
    "NO_LIVE_PROGRESS": "1",  # plain progress lines (stdout is a log file anyway)
    "UV_OFFLINE": "1",  # PyAirbyte must not install anything: the connector is local
}


@dataclass
class Measured:
    label: str
    seconds: float
    rows: int
    cpu_s: float = 0.0  # user + system CPU of the measured span, the process and its children
    peak_mb: float = 0.0  # the whole process tree
    main_mb: float = 0.0  # its root process alone (the connector, our worker, PyAirbyte's Python)
    notes: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.rows / self.seconds


def cpu_seconds() -> float:
    """CPU used so far by this process and its reaped descendants (a connector reaped by our worker
    or by PyAirbyte counts once they are reaped in turn)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


# ------------------------------------------------------------------------------------- setup
def faker_env(data_dir: Path) -> Any:
    from dalgo.ingestion.connectors.catalog import catalog_entry
    from dalgo.ingestion.connectors.install import connector_env

    entry = catalog_entry("faker")
    assert entry is not None, "faker is not in src/dalgo/ingestion/data/connectors.json"
    return connector_env(entry["package"], entry["version"], data_dir=data_dir)


def faker_config(env: Any, rows: int, records_per_slice: int) -> dict[str, Any]:
    """records_per_slice is also faker's checkpoint interval (a STATE after that many records). The
    spec's default is 1000, which the source form fills in; a config without the key gets 100 (the
    connector's own fallback), and the loader commits a batch at every STATE."""
    from dalgo.ingestion.connectors.runner import ConnectorRunner, validate_config

    spec = ConnectorRunner(env).spec()
    wanted: dict[str, Any] = {"count": rows, "seed": 1, "parallelism": 1}
    if records_per_slice > 0:
        wanted["records_per_slice"] = records_per_slice
    known = spec.get("connectionSpecification", {}).get("properties", {})
    config = {k: v for k, v in wanted.items() if k in known}
    validate_config(config, spec)
    return config


def users_streams(env: Any, config: dict[str, Any], *, dedup: bool) -> list[Any]:
    from dalgo.ingestion.connectors.runner import ConnectorRunner
    from dalgo.ingestion.protocol import ConfiguredStream, DestinationMode, SyncMode

    found = {s["name"]: s for s in ConnectorRunner(env).discover({**config, "count": 10})}
    users = found[STREAM]
    if not dedup:
        return [
            ConfiguredStream(
                name=STREAM, json_schema=users["json_schema"], sync_mode=SyncMode.FULL_REFRESH,
                destination_mode=DestinationMode.OVERWRITE,
            )
        ]  # fmt: skip
    return [
        ConfiguredStream(
            name=STREAM, json_schema=users["json_schema"], sync_mode=SyncMode.INCREMENTAL,
            destination_mode=DestinationMode.APPEND_DEDUP,
            primary_key=tuple(tuple(p) for p in users.get("source_defined_primary_key") or [["id"]]),
            cursor_field=tuple(users.get("default_cursor_field") or ["updated_at"]),
        )
    ]  # fmt: skip


def stream_to_dict(stream: Any) -> dict[str, Any]:
    return {
        "name": stream.name, "json_schema": stream.json_schema, "sync_mode": stream.sync_mode.value,
        "destination_mode": stream.destination_mode.value, "primary_key": [list(p) for p in stream.primary_key],
        "cursor_field": list(stream.cursor_field),
    }  # fmt: skip


def stream_from_dict(raw: dict[str, Any]) -> Any:
    from dalgo.ingestion.protocol import ConfiguredStream, DestinationMode, SyncMode

    return ConfiguredStream(
        name=raw["name"], json_schema=raw["json_schema"], sync_mode=SyncMode(raw["sync_mode"]),
        destination_mode=DestinationMode(raw["destination_mode"]),
        primary_key=tuple(tuple(p) for p in raw["primary_key"]), cursor_field=tuple(raw["cursor_field"]),
    )  # fmt: skip


def startup_seconds(env: Any, work: Path) -> float:
    """One connector process doing `spec`: the fixed cost inside every measured read."""
    from dalgo.ingestion.connectors.runner import ConnectorRunner

    started = time.perf_counter()
    subprocess.run(
        [*env.command, "spec"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=work,
        env=ConnectorRunner(env)._environment(work), check=True,
    )  # fmt: skip
    return time.perf_counter() - started


@dataclass
class Watched:
    wall_s: float
    cpu_s: float  # the whole tree's CPU
    peak_mb: float
    main_mb: float
    code: int


def watch(argv: list[str], **popen: Any) -> Watched:
    """Run argv to the end while sampling its tree's memory (every 50 ms)."""
    cpu = cpu_seconds()
    started = time.perf_counter()
    proc = subprocess.Popen(argv, **popen)
    sampler = RssSampler(proc.pid)
    sampler.start()
    try:
        code = proc.wait()
    finally:
        sampler.stop()
    wall = time.perf_counter() - started
    return Watched(wall, cpu_seconds() - cpu, sampler.peak_mb, sampler.peak_root_mb, code)


# ------------------------------------------------------------------------------------- (a)
def measure_connector(
    env: Any, config: dict[str, Any], streams: list[Any], work: Path, rows: int, label: str
) -> Measured:
    from dalgo.ingestion.connectors.runner import ConnectorRunner

    private = Path(tempfile.mkdtemp(prefix="connector-alone-", dir=work))
    (private / "config.json").write_bytes(orjson.dumps(config))
    (private / "catalog.json").write_bytes(orjson.dumps({"streams": [s.configured_airbyte_stream() for s in streams]}))
    argv = [*env.command, "read", "--config", str(private / "config.json"),
            "--catalog", str(private / "catalog.json")]  # fmt: skip
    environment = ConnectorRunner(env)._environment(private)  # exactly what the sync gives the connector
    with open(private / "stderr.log", "wb") as stderr:
        done = watch(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr, cwd=private,
            env=environment, start_new_session=True,
        )  # fmt: skip
    if done.code != 0:
        raise RuntimeError(f"the connector exited with {done.code}:\n{(private / 'stderr.log').read_text()[-3000:]}")
    return Measured(label, done.wall_s, rows, done.cpu_s, done.peak_mb, done.main_mb)


# ------------------------------------------------------------------------------------- (b)
def measure_sync(job: dict[str, Any], work: Path, label: str, rows: int) -> Measured:
    """Our sync in a worker subprocess (this script with --worker): its tree is the worker and the
    connector. The rate uses the time around sync_streams inside the worker (imports excluded)."""
    name = label.split()[0].strip("()")
    job_path, result_path = work / f"job-{name}-{job['kind']}.json", work / f"result-{name}-{job['kind']}.json"
    job_path.write_bytes(orjson.dumps({**job, "result": str(result_path)}))
    log_path = work / f"worker-{name}-{job['kind']}.log"
    with open(log_path, "wb") as log:
        done = watch(
            [sys.executable, str(Path(__file__).resolve()), "--worker", str(job_path)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
        )  # fmt: skip
    if done.code != 0:
        raise RuntimeError(f"{label} failed:\n{log_path.read_text()[-4000:]}")
    result = orjson.loads(result_path.read_bytes())
    if result["records"] != rows or result["table_rows"] != rows:
        found = f"{result['records']} records, {result['table_rows']} rows in the table"
        raise RuntimeError(f"{label}: {found}, not {rows}")
    measured = Measured(label, result["seconds"], rows, result["cpu_s"], done.peak_mb, done.main_mb)
    measured.notes.append(
        f"{result['batches']} batches, {result['states']} states, loader busy {result['loader_seconds']:.1f} s, "
        f"worker wall {done.wall_s:.1f} s, CPU {done.cpu_s:.1f} s"
    )
    return measured


def worker(job_path: Path) -> int:
    from dalgo.ingestion.connectors.install import connector_env
    from dalgo.ingestion.connectors.runner import ConnectorRunner
    from dalgo.ingestion.loader import DuckDBWriter, PostgresWriter
    from dalgo.ingestion.sync import sync_streams

    job = orjson.loads(job_path.read_bytes())
    env = connector_env(job["package"], job["version"], data_dir=Path(job["data_dir"]))
    streams = [stream_from_dict(s) for s in job["streams"]]
    writer: Any = DuckDBWriter(job["target"]) if job["kind"] == "duckdb" else PostgresWriter(job["target"])
    cpu = cpu_seconds()
    started = time.perf_counter()
    stats, _progress = sync_streams(
        runner=ConnectorRunner(env), config=job["config"], streams=streams, state=None, writer=writer,
        schema=job["schema"], on_state=lambda s: None, log=lambda level, text: None, timeout_seconds=3600,
        checkpoint_seconds=5.0,  # DALGO_SYNC_CHECKPOINT_SECONDS's default, as a real sync
    )  # fmt: skip
    seconds = time.perf_counter() - started
    cpu = cpu_seconds() - cpu
    count_sql = f'SELECT count(*) FROM "{job["schema"]}"."{streams[0].table}"'
    if job["kind"] == "duckdb":
        table_rows = writer.conn.execute(count_sql).fetchone()[0]
    else:
        table_rows = writer.conn.execute(count_sql.encode()).fetchone()[0]
    writer.close()
    stream_stats = stats.streams[streams[0].name]
    Path(job["result"]).write_bytes(
        orjson.dumps({
            "seconds": seconds, "cpu_s": cpu, "records": stats.records, "table_rows": int(table_rows),
            "batches": stream_stats.batches, "states": stats.states, "loader_seconds": stream_stats.seconds,
        })
    )  # fmt: skip
    return 0


# ------------------------------------------------------------------------------------- (c)
PYAIRBYTE_SCRIPT = textwrap.dedent(
    """
    import json, resource, sys, time
    def cpu():
        own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
    started = time.perf_counter()
    import airbyte as ab
    imported = time.perf_counter()
    job = json.load(open(sys.argv[1]))
    source = ab.get_source(
        "source-faker", config=job["config"], local_executable=job["executable"], streams=job["streams"]
    )
    cache = ab.new_local_cache("bench", cache_dir=job["cache_dir"])
    source.validate_config()  # runs `spec` once; the Source keeps it
    source.discovered_catalog  # runs `discover` once; the Source keeps it
    cpu_before = cpu()
    ready = time.perf_counter()
    result = source.read(cache=cache, force_full_refresh=True)
    read_s = time.perf_counter() - ready
    read_cpu_s = cpu() - cpu_before
    rows = {name: len(cache[name]) for name in job["streams"]}
    json.dump({"import_s": imported - started, "setup_s": ready - imported, "read_s": read_s, "read_cpu_s": read_cpu_s,
               "processed": result.processed_records, "rows": rows}, open(sys.argv[2], "w"))
    """
)


def pyairbyte_python() -> tuple[Path, float | None]:
    """PyAirbyte's own virtualenv (never the project's): reused when it holds the pinned version."""
    from dalgo.ingestion.connectors.install import uv_command

    python = PYAIRBYTE_VENV / "bin" / "python"
    if python.exists():
        found = subprocess.run(
            [str(python), "-c", "import importlib.metadata as m; print(m.version('airbyte'))"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if found.returncode == 0 and found.stdout.strip() == PYAIRBYTE_VERSION:
            return python, None
    shutil.rmtree(PYAIRBYTE_VENV, ignore_errors=True)
    environment = {**os.environ, "UV_NO_PROGRESS": "1", "DO_NOT_TRACK": "1"}
    environment.pop("VIRTUAL_ENV", None)
    started = time.perf_counter()
    for args in (
        ["venv", "--quiet", "--python", "3.11", str(PYAIRBYTE_VENV)],
        ["pip", "install", "--quiet", "--python", str(python), f"airbyte=={PYAIRBYTE_VERSION}"],
    ):
        done = subprocess.run([*uv_command(), *args], capture_output=True, text=True, env=environment, check=False)
        if done.returncode != 0:
            shutil.rmtree(PYAIRBYTE_VENV, ignore_errors=True)
            raise RuntimeError(f"installing PyAirbyte failed ({' '.join(args[:2])}):\n{done.stderr[-3000:]}")
    return python, time.perf_counter() - started


def measure_pyairbyte(env: Any, config: dict[str, Any], work: Path, rows: int) -> tuple[Measured, Measured]:
    python, install_s = pyairbyte_python()
    if install_s is not None:
        print(f"installed PyAirbyte {PYAIRBYTE_VERSION} into {PYAIRBYTE_VENV.relative_to(ROOT)} in {install_s:.0f} s")
    home = work / "pyairbyte"
    home.mkdir()
    (home / "run.py").write_text(PYAIRBYTE_SCRIPT)
    executable = next(part for part in env.command if Path(part).name.startswith("source-"))
    job = {"config": config, "executable": executable, "streams": [STREAM], "cache_dir": str(home / "cache")}
    (home / "job.json").write_text(json.dumps(job))
    environment = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    environment.update(OFFLINE)
    environment.update(
        AIRBYTE_PROJECT_DIR=str(home), AIRBYTE_CACHE_ROOT=str(home / ".cache"),
        AIRBYTE_LOGGING_ROOT=str(home / "logs"), AIRBYTE_TEMP_DIR=str(home / "tmp"),
    )  # fmt: skip
    (home / "tmp").mkdir()
    with open(home / "output.log", "wb") as log:
        done = watch(
            [str(python), str(home / "run.py"), str(home / "job.json"), str(home / "result.json")],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=home, env=environment,
        )  # fmt: skip
    if done.code != 0:
        raise RuntimeError(f"PyAirbyte failed:\n{(home / 'output.log').read_text()[-4000:]}")
    result = json.loads((home / "result.json").read_text())
    if result["processed"] != rows or result["rows"].get(STREAM) != rows:
        raise RuntimeError(f"PyAirbyte: {result['processed']} records processed, {result['rows']} rows, not {rows}")
    read = Measured(
        "(c) PyAirbyte read() -> DuckDB cache", result["read_s"], rows, result["read_cpu_s"], done.peak_mb, done.main_mb
    )
    whole = Measured("(c) PyAirbyte, whole subprocess", done.wall_s, rows, done.cpu_s, done.peak_mb, done.main_mb)
    whole.notes.append(
        f"import {result['import_s']:.1f} s, spec + discover {result['setup_s']:.1f} s, read() {result['read_s']:.1f} s"
    )
    return read, whole


# ------------------------------------------------------------------------------------- (d)
def measure_loader(conninfo: str, rows: int) -> tuple[float, float, float]:
    """bench/loader.py's raw COPY baseline, the raw COPY of the rows as landed (with the metadata
    columns) and the loader run, PostgreSQL, append: (raw s, landed s, loader s)."""
    from loader import LANDED_COLUMNS, raw_copy, run_loader, synthetic  # bench/loader.py

    from dalgo.ingestion.loader import PostgresWriter
    from dalgo.ingestion.protocol import DestinationMode

    started = time.perf_counter()
    output, payload, landed = synthetic(rows)
    print(f"(d) generated {rows:,} RECORD lines ({len(output) / 1e6:.0f} MB) in "
          f"{time.perf_counter() - started:.1f} s")  # fmt: skip
    raw_s = raw_copy(conninfo, payload).seconds
    landed_s = raw_copy(conninfo, landed, LANDED_COLUMNS).seconds
    loader_s = run_loader(lambda: PostgresWriter(conninfo), output, DestinationMode.APPEND, "d_append").seconds
    return raw_s, landed_s, loader_s


# ------------------------------------------------------------------------------------- main
def print_table(results: list[Measured], baseline: Measured | None) -> None:
    print(f"\n{'path':58} {'seconds':>8} {'rows/s':>9} {'vs (a)':>7} {'CPU s':>6} "
          f"{'peak RSS MB':>11} {'of which main':>13}")  # fmt: skip
    for m in results:
        ratio = f"{m.rate / baseline.rate:7.2f}" if baseline else f"{'':7}"
        print(f"{m.label:58} {m.seconds:8.1f} {m.rate:9,.0f} {ratio} {m.cpu_s:6.1f} {m.peak_mb:11.0f} "
              f"{m.main_mb:13.0f}")  # fmt: skip
        for note in m.notes:
            print(f"{'':4}{note}")


def run(args: argparse.Namespace, work: Path, failures: list[str]) -> None:
    rows = args.rows
    env = faker_env(CONNECTORS_DIR)
    if env.install_seconds is not None:
        print(f"installed {env.package} {env.version} into {env.path.relative_to(ROOT)} in {env.install_seconds:.0f} s")
    config = faker_config(env, rows, args.records_per_slice)
    overwrite = users_streams(env, config, dedup=False)
    dedup = users_streams(env, config, dedup=True)
    print(f"connector {env.package} {env.version}, stream `{STREAM}` only, config {json.dumps(config)}")
    print(f"load average at start: {' '.join(f'{x:.1f}' for x in os.getloadavg())} ({os.cpu_count()} cores)")
    print(f"connector start-up (one `spec` process, inside every read below): {startup_seconds(env, work):.1f} s")

    results: list[Measured] = []
    baselines: list[Measured] = []
    c_read = None

    def connector_alone(run: int) -> None:
        try:
            baselines.append(
                measure_connector(env, config, overwrite, work, rows, f"(a) connector read -> /dev/null, #{run}")
            )
            results.append(baselines[-1])
        except Exception:
            failures.append(f"(a) #{run}")
            traceback.print_exc()

    connector_alone(1)

    job = {"package": env.package, "version": env.version, "data_dir": str(CONNECTORS_DIR), "config": config,
           "schema": SCHEMA}  # fmt: skip
    targets = {
        "duckdb": ("DuckDB", str(work / "org-bench.duckdb")),
        "postgres": ("PostgreSQL", f"{SERVER} dbname={DB}"),
    }
    synced: dict[str, Measured] = {}
    for kind, (title, target) in targets.items():
        try:
            label = f"(b) sync -> {title} (full_refresh, overwrite)"
            synced[kind] = measure_sync(
                {**job, "kind": kind, "target": target, "streams": [stream_to_dict(s) for s in overwrite]},
                work, label, rows,
            )  # fmt: skip
            results.append(synced[kind])
            if not args.skip_dedup:
                label = f"(b2) sync -> {title} (incremental, append_dedup, merge)"
                results.append(
                    measure_sync(
                        {**job, "kind": kind, "target": target, "streams": [stream_to_dict(s) for s in dedup]},
                        work, label, rows,
                    )
                )  # fmt: skip
        except Exception:
            failures.append(f"(b) {title}")
            traceback.print_exc()
    b_duck, b_pg = synced.get("duckdb"), synced.get("postgres")
    connector_alone(2)  # again, after the syncs: the baseline is the faster of the two (load drifts)
    a = max(baselines, key=lambda m: m.rate) if baselines else None

    if args.skip_pyairbyte:
        print("(c) PyAirbyte skipped (--skip-pyairbyte)")
    else:
        try:
            c_read, c_whole = measure_pyairbyte(env, config, work, rows)
            results += [c_read, c_whole]
        except Exception:
            failures.append("(c)")
            traceback.print_exc()

    print_table(results, a)
    if a is not None:
        print(f"\nvs (a): against {a.label.split(', ')[-1]}, the faster connector-alone run")
    print()
    for title, b in (("DuckDB", b_duck), ("PostgreSQL", b_pg)):
        if b is not None and a is not None:
            ratio = b.rate / a.rate
            print(f"(b)/(a) {title:11} {ratio:5.2f}  goal >= 0.9   {verdict(ratio >= 0.9)}")
        if b is not None and c_read is not None:
            ratio = b.rate / c_read.rate
            print(f"(b)/(c) {title:11} {ratio:5.2f}  goal >= 2     {verdict(ratio >= 2)}  (against PyAirbyte's read())")

    if args.loader_rows > 0:
        try:
            raw_s, landed_s, loader_s = measure_loader(f"{SERVER} dbname={DB}", args.loader_rows)
            n = args.loader_rows
            ratio = raw_s / loader_s
            print(f"\n{'(d) loader alone, ' + f'{n:,} synthetic RECORD lines':58} {'seconds':>8} {'rows/s':>9}")
            print(f"{'raw COPY CSV -> PostgreSQL (baseline)':58} {raw_s:8.1f} {n / raw_s:9,.0f}")
            print(f"{'raw COPY CSV of the rows as landed (+ 4 metadata columns)':58} {landed_s:8.1f} "
                  f"{n / landed_s:9,.0f}  ({raw_s / landed_s:.2f} of the baseline: the floor)")  # fmt: skip
            print(f"{'loader -> PostgreSQL (append)':58} {loader_s:8.1f} {n / loader_s:9,.0f}")
            print(f"(d) loader/raw COPY {ratio:5.2f}  goal >= 0.5   {verdict(ratio >= 0.5)}")
        except Exception:
            failures.append("(d)")
            traceback.print_exc()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--skip-pyairbyte", action="store_true")
    parser.add_argument(
        "--records-per-slice", type=int, default=1000, help="faker's STATE interval; 0 leaves it out (then 100)"
    )
    parser.add_argument("--skip-dedup", action="store_true", help="no incremental + append_dedup syncs")
    parser.add_argument("--loader-rows", type=int, default=1_000_000, help="(d); 0 skips it")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)  # internal: one (b) sync
    args = parser.parse_args()
    if args.worker:
        return worker(args.worker)

    os.environ["DO_NOT_TRACK"] = "1"
    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="dalgo-bench-ingest-"))
    failures: list[str] = []
    try:
        with psycopg.connect(f"{SERVER} dbname=postgres", autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
            admin.execute(f"CREATE DATABASE {DB}")
        run(args, work, failures)
    except Exception:
        traceback.print_exc()
        failures.append("setup")
    finally:
        try:
            with psycopg.connect(f"{SERVER} dbname=postgres", autocommit=True) as admin:
                admin.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        except Exception:
            traceback.print_exc()
            failures.append("cleanup")
        shutil.rmtree(work, ignore_errors=True)
    if failures:
        print(f"\nBROKEN: {', '.join(failures)}")
    print(f"\nload average at end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"total {time.perf_counter() - started:.0f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
