"""Explore on a 1M-row table: what the API adds over the warehouse itself, in embedded mode.

Sets up embedded mode in a temp DALGO_DATA_DIR (SQLite app DB, eager Celery), one org with a
DuckDB warehouse and one with a PostgreSQL warehouse (a fresh database `dalgo_bench_explore` on
127.0.0.1:5432, dropped at the end), and loads the same `bench.households` table into both. Then,
per warehouse:

* preview (GET .../preview?limit=50&offset=rows/2&sort=income&direction=desc, which runs the page
  query and the count) through Django's test client in-process, against the builder's preview and
  count SQL run directly with the adapter;
* statistics (POST then GET .../statistics; eager Celery, so the whole job runs in-process) against
  the same SQL statements (profile, top values, date and numeric histograms, from `SqlBuilder`) run
  on one raw driver connection per run (duckdb.connect / psycopg.connect);
* CSV download from the real web server (uvicorn, a separate process, logged in with httpx),
  against PostgreSQL's `COPY ... TO STDOUT` read with psycopg and DuckDB's `COPY ... TO '<file>'`;
  with the web process's resident memory (VmRSS, itself plus children, sampled every 50 ms).

Prints medians over --repeat runs (API and direct interleaved) and the ratios against the baselines
measured in the same run. Goals: API/direct <= 1.1; download/baseline >= 0.5. A missed goal is
reported, not an error: the exit status is non-zero only if something broke.

    uv run python bench/explore.py [--rows 1000000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import psycopg
from _measure import RssSampler, tree_rss_mb  # bench/_measure.py (this script's folder is on sys.path)

ROOT = Path(__file__).resolve().parents[1]
DB_NAME = "dalgo_bench_explore"
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_URL = f"postgresql://postgres@127.0.0.1:5432/{DB_NAME}"
PG_CONFIG = {"host": "127.0.0.1", "port": 5432, "database": DB_NAME, "username": "postgres", "sslmode": "disable"}
EMAIL, PASSWORD = "bench@example.org", "bench-password-123"
TABLE = "/api/explore/tables/bench/households"
MB = 1024 * 1024

VILLAGES = [
    "Rampur", "Sitapur", "Kheda", "Ujjain", "Barwani", "Jhabua", "Alirajpur", "Dhar", "Khargone", "Dewas",
    "Sehore", "Raisen", "Vidisha", "Sagar", "Damoh", "Panna", "Satna", "Rewa", "Sidhi", "Shahdol",
    "Umaria", "Katni", "Jabalpur", "Mandla", "Dindori", "Seoni", "Balaghat", "Chhindwara", "Betul", "Harda",
    "Hoshangabad", "Narsinghpur", "Guna", "Ashoknagar", "Shivpuri", "Datia", "Bhind", "Morena", "Sheopur",
    "Gwalior", "Tikamgarh", "Chhatarpur", "Niwari", "Mandsaur", "Neemuch", "Ratlam", "Shajapur", "Agar",
    "Rajgarh", "Burhanpur",
]  # fmt: skip
PHRASES = [
    "good harvest this year", "needs a new hand pump", "two children in school", "migrated for work in winter",
    "applied for ration card", "livestock lost to flood", "runs a small shop", "enrolled in the SHG",
]  # fmt: skip

# One pseudo-random value per row (h), so sorting by income is unrelated to the id order.
_H = "((i * 2654435761) % 1000003)"


def duckdb_seed(rows: int) -> str:
    villages = ", ".join(f"'{v}'" for v in VILLAGES)
    phrases = ", ".join(f"'{p}'" for p in PHRASES)
    return f"""
CREATE SCHEMA bench;
CREATE TABLE bench.households AS
SELECT i::INTEGER AS id,
       [{villages}][1 + (i * 7919) % 50] AS village,
       (1 + (i * 31 + {_H}) % 11)::INTEGER AS members,
       CASE WHEN i % 17 = 0 THEN NULL ELSE (((i * 2654435761) % 2500007) / 100.0)::DECIMAL(12, 2) END AS income,
       CASE WHEN i % 29 = 0 THEN NULL ELSE {_H} % 3 <> 0 END AS has_toilet,
       DATE '2022-01-01' + ({_H} % 1095)::INTEGER AS visit_date,
       TIMESTAMPTZ '2022-01-01 06:00:00+05:30' + to_seconds({_H} * 94) AS surveyed_at,
       CASE WHEN i % 23 = 0 THEN NULL ELSE 'Household ' || i || ': ' || [{phrases}][1 + {_H} % 8] END AS notes
FROM range(1, {rows + 1}) t(i);
"""


def postgres_seed(rows: int) -> str:
    villages = ", ".join(f"'{v}'" for v in VILLAGES)
    phrases = ", ".join(f"'{p}'" for p in PHRASES)
    return f"""
CREATE SCHEMA bench;
CREATE TABLE bench.households (
    id integer, village text, members integer, income numeric(12, 2), has_toilet boolean, visit_date date,
    surveyed_at timestamptz, notes text
);
INSERT INTO bench.households
SELECT i,
       (ARRAY[{villages}])[(1 + (i * 7919) % 50)::int],
       1 + (i * 31 + {_H}) % 11,
       CASE WHEN i % 17 = 0 THEN NULL ELSE ((i * 2654435761) % 2500007) / 100.0 END,
       CASE WHEN i % 29 = 0 THEN NULL ELSE {_H} % 3 <> 0 END,
       DATE '2022-01-01' + ({_H} % 1095)::int,
       TIMESTAMPTZ '2022-01-01 06:00:00+05:30' + ({_H} * 94) * INTERVAL '1 second',
       CASE WHEN i % 23 = 0 THEN NULL ELSE 'Household ' || i || ': ' || (ARRAY[{phrases}])[(1 + {_H} % 8)::int] END
FROM generate_series(1::bigint, {rows}::bigint) AS g(i);
ANALYZE bench.households;
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def timed(fn: Callable[[], Any]) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def interleaved_medians(api: Callable[[], Any], direct: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """Median ms of each, alternating which goes first so drift (caches, autovacuum) hits both alike."""
    api_ms: list[float] = []
    direct_ms: list[float] = []
    for i in range(repeat):
        if i % 2:
            direct_ms.append(timed(direct))
            api_ms.append(timed(api))
        else:
            api_ms.append(timed(api))
            direct_ms.append(timed(direct))
    return statistics.median(api_ms), statistics.median(direct_ms)


# ------------------------------------------------------------------------------------- setup
def fresh_database() -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB_NAME}")


def drop_database() -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")


def setup_environment(data_dir: Path) -> dict[str, str]:
    """Embedded mode, set before Django is imported; also the web server's environment."""
    for key in [k for k in os.environ if k.startswith(("DALGO_", "PREFECT_"))]:
        del os.environ[key]
    os.environ.update(
        DJANGO_SETTINGS_MODULE="dalgo.settings",
        DALGO_DATA_DIR=str(data_dir),
        DALGO_DATABASE_URL=f"sqlite:///{data_dir / 'app.sqlite3'}",
        DALGO_CELERY_EAGER="true",
        DALGO_LOG_LEVEL="WARNING",
        DALGO_ORCHESTRATOR_URL="http://127.0.0.1:9",  # nothing here talks to Prefect
        DO_NOT_TRACK="1",
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
    )
    return dict(os.environ)


def seed(rows: int) -> tuple[Any, dict[str, Any]]:
    """User, two orgs and their warehouses, the table in both. Returns (user, {kind: org})."""
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)

    from dalgo.accounts.models import User
    from dalgo.orgs.services import org_create
    from dalgo.warehouses.selectors import catalog_get, warehouse_adapter
    from dalgo.warehouses.services import warehouse_save

    user = User.objects.create_user(email=EMAIL, password=PASSWORD)
    orgs = {"duckdb": org_create(name="Bench DuckDB NGO", creator=user)}
    orgs["postgres"] = org_create(name="Bench PostgreSQL NGO", creator=user)

    started = time.perf_counter()
    warehouse = warehouse_save(org=orgs["duckdb"], actor=user, warehouse_type="duckdb", name="Main", config={})
    warehouse_adapter(warehouse=warehouse).execute_script(duckdb_seed(rows))  # type: ignore[attr-defined]
    catalog_get(warehouse=warehouse, refresh=True)
    duck_s = time.perf_counter() - started

    started = time.perf_counter()
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(postgres_seed(rows))  # type: ignore[arg-type]
    warehouse = warehouse_save(org=orgs["postgres"], actor=user, warehouse_type="postgres", name="PG", config=PG_CONFIG)
    catalog_get(warehouse=warehouse, refresh=True)
    pg_s = time.perf_counter() - started
    print(f"loaded bench.households ({rows:,} rows): DuckDB {duck_s:.1f} s, PostgreSQL {pg_s:.1f} s")
    return user, orgs


# ------------------------------------------------------------------------------------- in-process
def statistics_statements(explorer: Any) -> list[str]:
    """The statements the statistics job runs, from the builder (histogram bounds from the profile)."""
    builder, table = explorer.builder, explorer.table
    columns = list(table.columns)
    profile_sql = builder.column_profile(schema=table.schema, table=table.name, columns=columns)
    result = explorer.adapter.query(profile_sql, timeout_seconds=explorer.timeout, max_rows=1)
    profile = builder.parse_column_profile(columns=columns, result_columns=result.columns, row=result.rows[0])
    statements = [profile_sql]
    for column in columns:
        kind, args = column.kind.value, {"schema": table.schema, "table": table.name, "column": column.name}
        if kind == "text":
            statements.append(builder.top_values(**args, limit=10))
        elif kind in ("date", "datetime"):
            statements.append(builder.date_histogram(**args))
        elif kind == "number":
            low, high = profile[column.name]["min"], profile[column.name]["max"]
            statements.append(builder.numeric_histogram(**args, bins=20, low=float(low), high=float(high)))
    return statements


def measure_in_process(kind: str, org: Any, user: Any, rows: int, repeat: int) -> list[tuple[str, float, float]]:
    import duckdb
    from django.test import Client

    from dalgo.warehouses.selectors import explorer_for
    from dalgo.warehouses.types import duckdb_path

    client = Client()
    client.force_login(user)
    headers = {"X-Dalgo-Org": org.slug}
    offset, limit = rows // 2, 50
    preview_url = f"{TABLE}/preview?limit={limit}&offset={offset}&sort=income&direction=desc"

    def api_preview() -> None:
        response = client.get(preview_url, headers=headers)
        assert response.status_code == 200, response.content[:500]
        body = response.json()
        assert len(body["rows"]) == limit and body["total_rows"] == rows, body["total_rows"]

    explorer = explorer_for(org=org, schema="bench", table="households")
    adapter, builder, timeout = explorer.adapter, explorer.builder, explorer.timeout
    preview_sql = builder.preview(
        schema="bench", table="households", sort=[("income", "desc")], limit=limit, offset=offset
    )
    count_sql = builder.count(schema="bench", table="households")

    def direct_preview() -> None:
        page = adapter.query(preview_sql, timeout_seconds=timeout, max_rows=limit)
        total = adapter.query(count_sql, timeout_seconds=timeout, max_rows=1)
        assert len(page.rows) == limit and int(total.rows[0][0]) == rows

    def api_statistics() -> None:
        started = client.post(f"{TABLE}/statistics", headers=headers)
        assert started.status_code == 202, started.content[:500]
        response = client.get(f"{TABLE}/statistics", headers=headers)
        body = response.json()
        assert response.status_code == 200 and body["status"] == "succeeded", body
        assert body["row_count"] == rows

    statements = statistics_statements(explorer)
    if kind == "duckdb":
        path = str(duckdb_path(org.pk))

        def direct_statistics() -> None:
            conn = duckdb.connect(path, read_only=True)
            try:
                conn.execute("SET TimeZone = 'UTC'")  # as the adapter does: same date buckets
                for sql in statements:
                    conn.execute(sql).fetchall()
            finally:
                conn.close()

    else:

        def direct_statistics() -> None:
            with psycopg.connect(PG_URL) as conn:
                conn.execute("SET TIME ZONE 'UTC'")  # as the adapter does: same date buckets
                for sql in statements:
                    conn.execute(sql).fetchall()  # type: ignore[arg-type]

    for warm in (api_preview, direct_preview, api_statistics, direct_statistics):
        warm()  # catalog cache, connection pool, buffer caches, imports
    results = []
    for name, api, direct in [
        ("preview", api_preview, direct_preview),
        (f"statistics ({len(statements)} queries)", api_statistics, direct_statistics),
    ]:
        api_ms, direct_ms = interleaved_medians(api, direct, repeat)
        results.append((name, api_ms, direct_ms))
    return results


# ------------------------------------------------------------------------------------- web server
def start_server(env: dict[str, str], data_dir: Path, port: int, log_name: str) -> subprocess.Popen[bytes]:
    log = open(data_dir / log_name, "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "dalgo.asgi:application", "--host", "127.0.0.1", "--port", str(port),
         "--no-access-log"],
        env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    log.close()
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(f"http://127.0.0.1:{port}/health", timeout=5)  # 503 is fine: Prefect is not running
            return proc
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_server(proc)
            raise RuntimeError(f"the web server did not start:\n{(data_dir / log_name).read_text()[-3000:]}")
        time.sleep(0.2)


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def logged_in_client(base: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=600)
    try:
        token = client.get("/api/auth/csrf").json()["csrf_token"]
        response = client.post("/api/auth/login", json={"email": EMAIL, "password": PASSWORD},
                               headers={"X-CSRFToken": token})  # fmt: skip
        response.raise_for_status()
    except BaseException:
        client.close()
        raise
    return client


def measure_download(kind: str, org: Any, env: dict[str, str], data_dir: Path) -> dict[str, float]:
    """One download through a fresh web server (so its memory starts from the same place)."""
    port = free_port()
    proc = start_server(env, data_dir, port, f"web-{kind}.log")
    try:
        client = logged_in_client(f"http://127.0.0.1:{port}")
        try:
            warm = client.get(f"{TABLE}/preview?limit=1", headers={"X-Dalgo-Org": org.slug})
            assert warm.status_code == 200, warm.text[:500]
            time.sleep(0.5)
            before_mb = tree_rss_mb(proc.pid)
            sampler = RssSampler(proc.pid)
            sampler.start()
            size, first_byte_s = 0, 0.0
            started = time.perf_counter()
            try:
                with client.stream("GET", f"{TABLE}/download", params={"org": org.slug}) as response:
                    assert response.status_code == 200, response.read()[:500]
                    for chunk in response.iter_raw():
                        if not size:
                            first_byte_s = time.perf_counter() - started
                        size += len(chunk)
                elapsed = time.perf_counter() - started
            finally:
                peak_mb = sampler.stop()
        finally:
            client.close()
    finally:
        stop_server(proc)
    return {"bytes": size, "seconds": elapsed, "first_byte_s": first_byte_s, "before_mb": before_mb,
            "peak_mb": peak_mb}  # fmt: skip


def measure_copy(kind: str, org: Any, data_dir: Path) -> dict[str, float]:
    import duckdb

    from dalgo.warehouses.types import duckdb_path

    started = time.perf_counter()
    if kind == "duckdb":
        target = data_dir / "copy-baseline.csv"
        conn = duckdb.connect(str(duckdb_path(org.pk)), read_only=True)
        try:
            conn.execute(f"COPY bench.households TO '{target}' (HEADER)")
        finally:
            conn.close()
        elapsed = time.perf_counter() - started
        size = target.stat().st_size
        target.unlink()
    else:
        size = 0
        with psycopg.connect(PG_URL) as conn, conn.cursor() as cur:
            with cur.copy("COPY (SELECT * FROM bench.households) TO STDOUT WITH (FORMAT csv, HEADER)") as copy:
                for data in copy:
                    size += len(data)
        elapsed = time.perf_counter() - started
    return {"bytes": size, "seconds": elapsed}


def server_warnings(data_dir: Path) -> list[str]:
    seen: list[str] = []
    for log in sorted(data_dir.glob("web-*.log")):
        for line in log.read_text(errors="replace").splitlines():
            notable = "Warning" in line or "ERROR" in line or "Traceback" in line
            if notable and "/health" not in line and line.strip() not in seen:
                seen.append(line.strip())
    return seen[:5]


# ------------------------------------------------------------------------------------- main
def run(args: argparse.Namespace, data_dir: Path, env: dict[str, str]) -> int:
    user, orgs = seed(args.rows)
    labels = {"duckdb": "DuckDB", "postgres": "PostgreSQL"}

    print(f"\nin-process API (Django test client) vs direct, median of {args.repeat} (goal: ratio <= 1.1)")
    print(f"{'warehouse':11s} {'operation':26s} {'API ms':>9s} {'direct ms':>10s} {'ratio':>7s}")
    for kind, org in orgs.items():
        for name, api_ms, direct_ms in measure_in_process(kind, org, user, args.rows, args.repeat):
            ratio = api_ms / direct_ms
            verdict = "ok" if ratio <= 1.1 else "MISSED"
            print(f"{labels[kind]:11s} {name:26s} {api_ms:9.1f} {direct_ms:10.1f} {ratio:7.2f}  {verdict}")

    print("\nCSV download through uvicorn (one run each; goal: ratio >= 0.5)")
    print(f"{'warehouse':11s} {'MB':>7s} {'MB/s':>7s} {'baseline MB/s':>14s} {'ratio':>6s}  "
          f"{'first byte s':>12s} {'RSS before MB':>13s} {'RSS peak MB':>11s}")  # fmt: skip
    for kind, org in orgs.items():
        download = measure_download(kind, org, env, data_dir)
        baseline = measure_copy(kind, org, data_dir)
        rate = download["bytes"] / MB / download["seconds"]
        base_rate = baseline["bytes"] / MB / baseline["seconds"]
        ratio = rate / base_rate
        verdict = "ok" if ratio >= 0.5 else "MISSED"
        print(
            f"{labels[kind]:11s} {download['bytes'] / MB:7.1f} {rate:7.1f} {base_rate:14.1f} {ratio:6.2f}  "
            f"{download['first_byte_s']:12.2f} {download['before_mb']:13.0f} {download['peak_mb']:11.0f}  {verdict}"
        )
        print(f"{'':11s} baseline: {baseline['bytes'] / MB:.1f} MB in {baseline['seconds']:.2f} s "
              f"({'COPY TO file' if kind == 'duckdb' else 'COPY TO STDOUT via psycopg'})")  # fmt: skip
    for line in server_warnings(data_dir):
        print(f"web server log: {line[:200]}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="dalgo-bench-explore-"))
    env = setup_environment(data_dir)
    started = time.perf_counter()
    code = 1
    try:
        fresh_database()
        code = run(args, data_dir, env)
    except Exception:
        traceback.print_exc()
        code = 1
    finally:
        try:
            if "dalgo.warehouses.adapters.postgres" in sys.modules:
                for engine in sys.modules["dalgo.warehouses.adapters.postgres"]._engines.values():
                    engine.dispose()
            if "django.db" in sys.modules:
                sys.modules["django.db"].connections.close_all()
            drop_database()
        except Exception:
            traceback.print_exc()
            code = 1
        shutil.rmtree(data_dir, ignore_errors=True)
    print(f"\ntotal {time.perf_counter() - started:.0f} s")
    return code


if __name__ == "__main__":
    sys.exit(main())
