"""The loader against real DuckDB files and a real PostgreSQL database (created per session):
typing, the three destination modes, schema evolution, state ordering, abort, edge cases."""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import orjson
import psycopg
import pytest

from dalgo.ingestion.loader import BigQueryWriter, DuckDBWriter, Loader, LoaderError, PostgresWriter
from dalgo.ingestion.loader.writers import WarehouseWriter
from dalgo.ingestion.protocol import ConfiguredStream, DestinationMode, Record, State, SyncMode
from dalgo.warehouses.adapters.base import WarehouseError

PG_SERVER = "host=127.0.0.1 port=5432 user=postgres"
PG_DB = f"dalgo_loadtest_{os.getpid()}"

SURVEY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "village": {"type": ["null", "string"]},
        "members": {"type": ["null", "integer"]},
        "income": {"type": ["null", "number"]},
        "exact": {"type": "number", "airbyte_type": "big_number"},
        "has_toilet": {"type": ["null", "boolean"]},
        "visit_date": {"type": ["null", "string"], "format": "date"},
        "surveyed_at": {"type": "string", "format": "date-time", "airbyte_type": "timestamp_with_timezone"},
        "local_time": {"type": "string", "format": "date-time", "airbyte_type": "timestamp_without_timezone"},
        "answers": {"type": ["null", "object"], "properties": {"q1": {"type": "string"}}},
        "tags": {"type": "array", "items": {"type": "string"}},
        "either": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
        "updated": {"type": "integer"},
        "unselected": {"type": "string"},
    },
}


def pg_conninfo(dbname: str = PG_DB) -> str:
    return f"{PG_SERVER} dbname={dbname}"


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    with psycopg.connect(pg_conninfo("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{PG_DB}"')
        conn.execute(f'CREATE DATABASE "{PG_DB}"')
    yield pg_conninfo()
    with psycopg.connect(pg_conninfo("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)')


class Engine:
    """One warehouse for a test: writers on it, and reads from a separate connection."""

    def __init__(self, kind: str, target: str):
        self.kind, self.target = kind, target
        self.schema = f"raw_{uuid.uuid4().hex[:8]}"
        self._reader: Any = None

    def writer(self) -> WarehouseWriter:
        return DuckDBWriter(self.target) if self.kind == "duckdb" else PostgresWriter(self.target)

    def reader(self) -> Any:
        if self._reader is None:
            if self.kind == "duckdb":
                # A second connection (same process: DuckDB allows one writing process per file).
                self._reader = duckdb.connect(self.target)
                self._reader.execute("SET TimeZone = 'UTC'")
            else:
                self._reader = psycopg.connect(self.target, autocommit=True)
                self._reader.execute("SET TIME ZONE 'UTC'")
        return self._reader

    def rows(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        reader = self.reader()
        if self.kind == "duckdb":
            return [tuple(r) for r in reader.execute(sql.replace("%s", "?"), params or []).fetchall()]
        return [tuple(r) for r in reader.execute(sql, params or []).fetchall()]

    def q(self, name: str) -> str:
        return '"' + self.schema + '"."' + name.replace('"', '""') + '"'

    def columns(self, table: str) -> dict[str, str]:
        rows = self.rows(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = %s "
            "AND table_name = %s ORDER BY ordinal_position",
            [self.schema, table],
        )
        return {r[0]: str(r[1]).lower() for r in rows}

    def tables(self) -> list[str]:
        rows = self.rows("SELECT table_name FROM information_schema.tables WHERE table_schema = %s", [self.schema])
        return sorted(r[0] for r in rows)

    def json(self, value: Any) -> Any:
        return orjson.loads(value) if isinstance(value, str) else value

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()


@pytest.fixture(params=["duckdb", "postgres"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "duckdb":
        eng = Engine("duckdb", str(tmp_path / "warehouse.duckdb"))
    else:
        eng = Engine("postgres", request.getfixturevalue("pg_database"))
    yield eng
    eng.close()


def stream(
    name: str = "households",
    mode: DestinationMode = DestinationMode.APPEND,
    schema: dict[str, Any] | None = None,
    **kwargs: Any,
) -> ConfiguredStream:
    return ConfiguredStream(
        name=name,
        json_schema=schema or {"type": "object", "properties": {"id": {"type": "integer"}, "v": {"type": "string"}}},
        sync_mode=SyncMode.INCREMENTAL if mode == DestinationMode.APPEND_DEDUP else SyncMode.FULL_REFRESH,
        destination_mode=mode,
        **kwargs,
    )


def rec(data: dict[str, Any], name: str = "households", at: int = 1_700_000_000_000) -> Record:
    return Record(stream=name, data=data, emitted_at=at)


def load(
    engine: Engine,
    streams: list[ConfiguredStream],
    messages: list[Record | State],
    *,
    on_state: Callable[[State], None] | None = None,
    **kwargs: Any,
) -> Loader:
    writer = engine.writer()
    try:
        loader = Loader(writer, schema=engine.schema, streams=streams, on_state=on_state or (lambda s: None), **kwargs)
        for message in messages:
            loader.feed(message)
        loader.finish()
    finally:
        writer.close()
    return loader


STATE = State(raw={"type": "STREAM", "stream": {"stream_descriptor": {"name": "households"}, "stream_state": {}}})


def test_typing_from_a_realistic_schema(engine: Engine) -> None:
    s = stream(
        schema=SURVEY_SCHEMA, selected_columns=tuple(k for k in SURVEY_SCHEMA["properties"] if k != "unselected")
    )
    good = {
        "id": 1, "village": "Nandgaon", "members": 5, "income": 1234.5, "exact": "12345678901234.123456789",
        "has_toilet": True, "visit_date": "2024-03-01", "surveyed_at": "2024-03-01T10:00:00+05:30",
        "local_time": "2024-03-01T10:00:00", "answers": {"q1": "yes", "nested": [1, 2]}, "tags": ["a", "b"],
        "either": "x", "updated": 10, "unselected": "dropped",
    }  # fmt: skip
    bad = {"id": 2, "members": "five", "visit_date": "not a date", "surveyed_at": None, "village": None}
    load(engine, [s], [rec(good), rec(bad), STATE], sync_id=42)
    cols = engine.columns("households")
    assert "unselected" not in cols
    expected_pg = {
        "id": "bigint", "village": "text", "members": "bigint", "income": "double precision", "exact": "numeric",
        "has_toilet": "boolean", "visit_date": "date", "surveyed_at": "timestamp with time zone",
        "local_time": "timestamp without time zone", "answers": "jsonb", "tags": "jsonb", "either": "jsonb",
        "_airbyte_raw_id": "text", "_airbyte_extracted_at": "timestamp with time zone", "_airbyte_meta": "jsonb",
        "_airbyte_generation_id": "bigint",
    }  # fmt: skip
    duck = {"text": "varchar", "double precision": "double", "numeric": "decimal(38,9)", "jsonb": "json",
            "timestamp without time zone": "timestamp"}  # fmt: skip
    for name, pg_type in expected_pg.items():
        want = pg_type if engine.kind == "postgres" else duck.get(pg_type, pg_type)
        assert cols[name] == want, (name, cols[name])
    rows = engine.rows(
        f"SELECT id, village, members, income, CAST(exact AS TEXT), has_toilet, visit_date, surveyed_at, local_time, "
        f"answers, tags, _airbyte_meta, _airbyte_raw_id, _airbyte_extracted_at "
        f"FROM {engine.q('households')} ORDER BY id"
    )
    first, second = rows
    assert first[1:4] == ("Nandgaon", 5, 1234.5)
    assert first[4].startswith("12345678901234.123456789")
    assert first[5] is True and str(first[6]) == "2024-03-01"
    assert first[7].isoformat() == "2024-03-01T04:30:00+00:00"
    assert first[8].isoformat() == "2024-03-01T10:00:00"
    assert engine.json(first[9]) == {"q1": "yes", "nested": [1, 2]} and engine.json(first[10]) == ["a", "b"]
    assert engine.json(first[11]) == {"changes": [], "sync_id": 42}
    assert uuid.UUID(first[12]) and first[13].timestamp() == 1_700_000_000
    # The bad values are NULL, the row is kept, and _airbyte_meta says why.
    assert second[1:3] == (None, None) and second[6] is None
    meta = engine.json(second[11])
    assert meta["sync_id"] == 42
    assert sorted(c["field"] for c in meta["changes"]) == ["members", "visit_date"]
    assert {(c["change"], c["reason"]) for c in meta["changes"]} == {("NULLED", "DESTINATION_TYPECAST_ERROR")}


def test_raw_lines_and_parsed_records_land_alike_and_in_order(engine: Engine) -> None:
    """feed_line routes a RECORD in the CDKs' layouts (compact, or with spaces) by its prefix and
    parses it with its batch; any other layout, an escaped stream name or a parsed Record takes the
    slow path; the order of arrival holds across both (dedup relies on it)."""
    schema = {"type": "object", "properties": {"id": {"type": "integer"}, "v": {"type": "string"}}}
    s = stream(mode=DestinationMode.APPEND_DEDUP, schema=schema, primary_key=(("id",),))
    odd = stream(name='we"ird', schema=schema, destination_table="weird")
    writer = engine.writer()
    states: list[State] = []
    loader = Loader(writer, schema=engine.schema, streams=[s, odd], on_state=states.append, batch_rows=3,
                    sync_id=7, generation_id=2)  # fmt: skip

    def line(data: dict[str, Any], name: str = "households") -> bytes:
        record = {"stream": name, "data": data, "emitted_at": 1_700_000_000_000}
        return orjson.dumps({"type": "RECORD", "record": record})

    loader.feed_line(line({"id": 1, "v": "compact"}))
    loader.feed_line(b'{"type": "RECORD", "record": {"stream": "households", "data": {"id": 2, "v": "spaced"}, '
                     b'"emitted_at": 1700000000000}}')  # fmt: skip
    loader.feed(rec({"id": 1, "v": "parsed, later"}))  # same key: the later arrival wins
    loader.feed_line(b'{"record": {"data": {"id": 3, "v": "keys reordered"}, "stream": "households", '
                     b'"emitted_at": 1700000000000}, "type": "RECORD"}')  # fmt: skip
    loader.feed_line(line({"id": 9, "v": "not configured"}, name="other"))
    loader.feed_line(line({"id": 5, "v": "escaped name"}, name='we"ird'))
    loader.feed_line(line({"id": 4, "v": "last"}))
    loader.feed_line(b'{"type":"STATE","state":{"type":"LEGACY","data":{"at":4}}}')
    loader.finish()
    writer.close()
    rows = engine.rows(
        f"SELECT id, v, _airbyte_raw_id, _airbyte_meta, _airbyte_generation_id "
        f"FROM {engine.q('households')} ORDER BY id"
    )
    assert [r[:2] for r in rows] == [(1, "parsed, later"), (2, "spaced"), (3, "keys reordered"), (4, "last")]
    assert all(uuid.UUID(r[2]).version == 4 for r in rows) and len({r[2] for r in rows}) == 4
    assert all(engine.json(r[3]) == {"changes": [], "sync_id": 7} and r[4] == 2 for r in rows)
    assert engine.rows(f"SELECT id, v FROM {engine.q('weird')}") == [(5, "escaped name")]
    assert [st.raw for st in states] == [{"type": "LEGACY", "data": {"at": 4}}]
    assert loader.stats.skipped_records == 1 and loader.stats.streams["households"].records == 5


def test_output_with_crlf_line_ends_lands_as_written(engine: Engine) -> None:
    """A connector writing CRLF line ends: runs and counts hold, the records land, the state passes."""
    out = b"".join(
        orjson.dumps({"type": "RECORD", "record": {"stream": "households", "data": {"id": i, "v": f"x{i}"}}}) + b"\r\n"
        for i in range(5)
    )
    writer = engine.writer()
    states: list[State] = []
    loader = Loader(writer, schema=engine.schema, streams=[stream()], on_state=states.append, batch_rows=2)
    loader.feed_output(out + b'{"type":"STATE","state":{"type":"LEGACY","data":{"at":5}}}\r\n')
    loader.finish()
    writer.close()
    assert engine.rows(f"SELECT id, v FROM {engine.q('households')} ORDER BY id") == [(i, f"x{i}") for i in range(5)]
    assert len(states) == 1 and loader.stats.streams["households"].records == 5


def test_a_malformed_record_line_fails_its_batch_plainly(engine: Engine) -> None:
    writer = engine.writer()
    loader = Loader(writer, schema=engine.schema, streams=[stream()], on_state=lambda _: None)
    loader.feed_line(b'{"type":"RECORD","record":{"stream":"households","data":{"id":1,')
    with pytest.raises(LoaderError, match="A RECORD line of stream 'households' is not valid"):
        loader.finish()
    loader.abort()
    writer.close()
    assert engine.tables() == []


def test_append_adds_rows_each_sync(engine: Engine) -> None:
    s = stream()
    load(engine, [s], [rec({"id": 1, "v": "a"}), rec({"id": 2, "v": "b"}), STATE])
    load(engine, [s], [rec({"id": 1, "v": "a2"}), STATE])
    assert engine.rows(f"SELECT id, v FROM {engine.q('households')} ORDER BY id, v") == [(1, "a"), (1, "a2"), (2, "b")]


def test_overwrite_swaps_at_the_end(engine: Engine) -> None:
    s = stream(mode=DestinationMode.OVERWRITE)
    load(engine, [s], [rec({"id": i, "v": "old"}) for i in range(3)])
    writer = engine.writer()
    seen_during: list[list[tuple[Any, ...]]] = []
    loader = Loader(
        writer, schema=engine.schema, streams=[s], batch_rows=2,
        on_state=lambda _: seen_during.append(engine.rows(f"SELECT DISTINCT v FROM {engine.q('households')}")),
    )  # fmt: skip
    for i in range(5):
        loader.feed(rec({"id": i, "v": "new"}))
    loader.feed(STATE)
    # Before finish another connection still sees the old table, though the new rows are committed.
    assert engine.rows(f"SELECT v, COUNT(*) FROM {engine.q('households')} GROUP BY v") == [("old", 3)]
    assert any(t.startswith("_dalgo_tmp_households_") for t in engine.tables())
    loader.finish()
    writer.close()
    assert seen_during == [[("old",)]]
    assert engine.rows(f"SELECT v, COUNT(*) FROM {engine.q('households')} GROUP BY v") == [("new", 5)]
    assert engine.tables() == ["households"]


def test_abort_leaves_the_old_table_intact(engine: Engine) -> None:
    s = stream(mode=DestinationMode.OVERWRITE)
    load(engine, [s], [rec({"id": i, "v": "old"}) for i in range(3)])
    writer = engine.writer()
    loader = Loader(writer, schema=engine.schema, streams=[s], on_state=lambda _: None, batch_rows=2)
    for i in range(5):
        loader.feed(rec({"id": i, "v": "new"}))
    loader.abort()
    writer.close()
    assert engine.rows(f"SELECT v, COUNT(*) FROM {engine.q('households')} GROUP BY v") == [("old", 3)]
    assert engine.tables() == ["households"]


def test_append_dedup_keeps_the_latest_by_cursor(engine: Engine) -> None:
    schema = {"type": "object", "properties": {"id": {"type": "integer"}, "v": {"type": "string"},
                                               "updated": {"type": "string", "format": "date-time"}}}  # fmt: skip
    s = stream(mode=DestinationMode.APPEND_DEDUP, schema=schema, primary_key=(("id",),), cursor_field=("updated",))
    first = [rec({"id": i, "v": f"v{i}", "updated": f"2024-01-0{1 + i % 3}T00:00:00Z"}) for i in range(6)]
    load(engine, [s], [*first, STATE], batch_rows=4)
    # Re-delivery of the same records (a resume after a crash), an older version of id 0 (ignored),
    # a newer one of id 1, two versions of id 2 in one batch, and a tie on cursor for id 3 where the
    # later extracted record wins.
    again = [
        *first,
        rec({"id": 0, "v": "older", "updated": "2023-12-31T00:00:00Z"}),
        rec({"id": 1, "v": "newer", "updated": "2024-02-01T00:00:00Z"}),
        rec({"id": 2, "v": "mid", "updated": "2024-02-01T00:00:00Z"}),
        rec({"id": 2, "v": "latest", "updated": "2024-02-02T00:00:00Z"}),
        rec({"id": 3, "v": "tie-later", "updated": "2024-01-01T00:00:00Z"}, at=1_800_000_000_000),
        rec({"id": 9, "v": "new key", "updated": None}),
    ]
    load(engine, [s], [*again, STATE], batch_rows=5)
    load(engine, [s], [*again, STATE], batch_rows=1000)
    rows = engine.rows(f"SELECT id, v FROM {engine.q('households')} ORDER BY id")
    assert rows == [(0, "v0"), (1, "newer"), (2, "latest"), (3, "tie-later"), (4, "v4"), (5, "v5"), (9, "new key")]


def test_append_dedup_treats_a_null_key_as_a_value(engine: Engine) -> None:
    """Rows whose key has a NULL dedup like any other key (a NULL equals a NULL, as PARTITION BY
    groups them): syncing the same records twice never duplicates them."""
    schema = {"type": "object", "properties": {"org": {"type": ["null", "string"]}, "id": {"type": ["null", "integer"]},
                                               "v": {"type": "string"}}}  # fmt: skip
    s = stream(mode=DestinationMode.APPEND_DEDUP, schema=schema, primary_key=(("org",), ("id",)))
    first = [
        rec({"org": "a", "id": 1, "v": "a1"}),
        rec({"org": None, "id": 1, "v": "null org"}),
        rec({"org": "a", "id": None, "v": "null id"}),
        rec({"org": None, "id": None, "v": "both null"}),
    ]
    load(engine, [s], [*first, STATE])
    load(engine, [s], [*first, STATE], batch_rows=2)
    later = [rec({"org": None, "id": None, "v": "both null, newer"}), rec({"org": "b", "id": None, "v": "b"})]
    load(engine, [s], later)
    rows = engine.rows(f"SELECT org, id, v FROM {engine.q('households')} ORDER BY org NULLS FIRST, id NULLS FIRST")
    assert rows == [
        (None, None, "both null, newer"), (None, 1, "null org"), ("a", None, "null id"), ("a", 1, "a1"),
        ("b", None, "b"),
    ]  # fmt: skip


def test_state_reaches_the_callback_only_after_its_records_are_committed(engine: Engine) -> None:
    s1, s2 = stream("a"), stream("b")
    visible: list[tuple[int, int]] = []
    fed = {"a": 0, "b": 0}

    def on_state(state: State) -> None:
        count_a = engine.rows(f"SELECT COUNT(*) FROM {engine.q('a')}")[0][0]
        count_b = engine.rows(f"SELECT COUNT(*) FROM {engine.q('b')}")[0][0]
        visible.append((count_a - fed["a"], count_b - fed["b"]))

    writer = engine.writer()
    loader = Loader(writer, schema=engine.schema, streams=[s1, s2], on_state=on_state, batch_rows=7)
    for i in range(40):
        name = "a" if i % 3 else "b"
        loader.feed(rec({"id": i}, name=name))
        fed[name] += 1
        if i % 9 == 8:
            loader.feed(State(raw={"type": "LEGACY", "data": {"i": i}}))
    loader.feed(State(raw={"type": "LEGACY", "data": {"i": 40}}))
    stats = loader.finish()
    writer.close()
    assert visible == [(0, 0)] * 5
    assert stats.states == 5 and stats.records == 40
    assert stats.streams["a"].records == fed["a"] and stats.streams["a"].batches >= 3
    assert stats.streams["a"].bytes > 0 and stats.streams["a"].seconds > 0


def test_schema_evolution(engine: Engine) -> None:
    v1 = {"type": "object", "properties": {"id": {"type": "integer"}, "n": {"type": "integer"},
                                           "gone": {"type": "string"}}}  # fmt: skip
    load(engine, [stream(schema=v1)], [rec({"id": 1, "n": 5, "gone": "g"}), STATE])
    # Next sync: "gone" left the schema, "added" joined it, "n" receives a fraction (int widened to
    # float), a record brings an undeclared column mid-sync, and a string lands in an int column.
    v2 = {"type": "object", "properties": {"id": {"type": "integer"}, "n": {"type": "integer"},
                                           "added": {"type": ["null", "boolean"]}}}  # fmt: skip
    messages: list[Record | State] = [
        rec({"id": 2, "n": 6, "added": True}),
        STATE,
        rec({"id": 3, "n": 7.5, "surprise": {"k": 1}}),
        rec({"id": "four", "n": 8}),
        STATE,
    ]
    load(engine, [stream(schema=v2)], messages, batch_rows=1)
    cols = engine.columns("households")
    assert cols["n"] in ("double precision", "double")
    assert cols["gone"] in ("text", "varchar") and cols["added"] == "boolean"
    assert cols["surprise"] in ("jsonb", "json")
    rows = engine.rows(f"SELECT id, n, gone, added, _airbyte_meta FROM {engine.q('households')} ORDER BY n")
    assert [r[:4] for r in rows] == [
        (1, 5.0, "g", None),
        (2, 6.0, None, True),
        (3, 7.5, None, None),
        (None, 8.0, None, None),
    ]
    assert engine.json(rows[3][4])["changes"][0]["field"] == "id"
    # The schema now says "n" is text: the column becomes text, old values kept.
    v3 = {"type": "object", "properties": {"id": {"type": "integer"}, "n": {"type": "string"}}}
    load(engine, [stream(schema=v3)], [rec({"id": 5, "n": "five"})])
    assert engine.columns("households")["n"] in ("text", "varchar")
    values = sorted(r[0].removesuffix(".0") for r in engine.rows(f"SELECT n FROM {engine.q('households')}"))
    assert values == ["5", "6", "7.5", "8", "five"]  # PostgreSQL writes 5, DuckDB 5.0


def test_zero_records_create_empty_tables(engine: Engine) -> None:
    s = stream(mode=DestinationMode.OVERWRITE)
    load(engine, [s, stream("empty_append")], [])
    assert engine.rows(f"SELECT COUNT(*) FROM {engine.q('households')}") == [(0,)]
    assert "id" in engine.columns("empty_append")
    load(engine, [s], [rec({"id": 1})])
    load(engine, [s], [STATE])  # the source now has no rows: the table is replaced by an empty one
    assert engine.rows(f"SELECT COUNT(*) FROM {engine.q('households')}") == [(0,)]


def test_a_10mb_record(engine: Engine) -> None:
    big = "x" * (10 * 1024 * 1024)
    load(engine, [stream()], [rec({"id": 1, "v": big}), rec({"id": 2, "v": "small"}), STATE])
    assert engine.rows(f"SELECT id, LENGTH(v) FROM {engine.q('households')} ORDER BY id") == [(1, len(big)), (2, 5)]


def test_unicode_names_with_quotes_and_spaces(engine: Engine) -> None:
    name = 'Ménage "survey" 2024'
    column = 'nom du "chef" ✓'
    schema = {"type": "object", "properties": {"id": {"type": "integer"}, column: {"type": "string"}}}
    load(engine, [stream(name, schema=schema)], [rec({"id": 1, column: "Amélie\x00 \"q\", 'x'\n"}, name=name)])
    assert engine.columns(name)[column] in ("text", "varchar")
    value = engine.rows(f'SELECT "{column.replace(chr(34), chr(34) * 2)}" FROM {engine.q(name)}')[0][0]
    assert value.replace("\x00", "") == "Amélie \"q\", 'x'\n"


def test_bigquery_writer_checks_its_settings_before_any_request() -> None:
    """BigQuery cannot be reached from here: its writer's loads are tested against a fake BigQuery at
    the HTTP edge in test_loader_bigquery.py. A key that is no service account's fails at once."""
    with pytest.raises(WarehouseError, match="not a service account key"):
        BigQueryWriter(service_account_info={"type": "authorized_user"}, project="ngo-data", location="US")


def test_overwrite_keeps_views_that_depend_on_the_table(engine: Engine) -> None:
    """dbt models are views over the raw tables: an overwrite must not break (or be blocked by) them."""
    s = stream(mode=DestinationMode.OVERWRITE)
    load(engine, [s], [rec({"id": i, "v": "old"}) for i in range(3)])
    view = engine.q("households_view")
    writer = engine.writer()
    writer.execute(f"CREATE VIEW {view} AS SELECT id, v FROM {engine.q('households')}")
    writer.commit()
    writer.close()
    properties = {"id": {"type": "integer"}, "v": {"type": "string"}, "w": {"type": ["null", "string"]}}
    wider = stream(mode=DestinationMode.OVERWRITE, schema={"type": "object", "properties": properties})
    load(engine, [wider], [rec({"id": i, "v": "new", "w": f"w{i}"}) for i in range(5)])
    assert engine.rows(f"SELECT v, COUNT(*) FROM {view} GROUP BY v") == [("new", 5)]
    assert engine.rows(f"SELECT COUNT(*) FROM {engine.q('households')} WHERE w IS NOT NULL") == [(5,)]
    assert sorted(engine.tables()) == ["households", "households_view"]


def test_checkpoints_are_grouped_but_never_passed_before_their_records_commit(engine: Engine) -> None:
    """With checkpoint_seconds, a STATE no longer forces a commit: states wait, in order, for the next
    commit of everything before them (here only at finish), and on_state then sees those rows."""
    seen: list[tuple[int, int]] = []

    def on_state(state: State) -> None:
        seen.append((state.raw["data"]["i"], engine.rows(f"SELECT COUNT(*) FROM {engine.q('households')}")[0][0]))

    writer = engine.writer()
    loader = Loader(writer, schema=engine.schema, streams=[stream()], on_state=on_state, checkpoint_seconds=3600)
    for i in range(1, 101):
        loader.feed(rec({"id": i}))
        if i % 10 == 0:
            loader.feed(State(raw={"type": "LEGACY", "data": {"i": i}}))
    assert seen == []  # nothing committed yet, so no state may be saved
    stats = loader.finish()
    writer.close()
    assert seen == [(i, 100) for i in range(10, 101, 10)]
    assert stats.states == 10 and stats.streams["households"].batches == 1


def test_append_dedup_tables_get_a_key_index_in_postgres(engine: Engine) -> None:
    s = stream(mode=DestinationMode.APPEND_DEDUP, primary_key=(("id",),))
    load(engine, [s], [rec({"id": i, "v": "x"}) for i in range(5)])
    load(engine, [s], [rec({"id": i, "v": "y"}) for i in range(3)])  # a second sync: IF NOT EXISTS
    if engine.kind == "postgres":
        indexes = engine.rows("SELECT indexdef FROM pg_indexes WHERE schemaname = %s AND tablename = %s",
                              [engine.schema, "households"])  # fmt: skip
        assert len(indexes) == 1 and indexes[0][0].endswith("(id)")
    assert engine.rows(f"SELECT v, COUNT(*) FROM {engine.q('households')} GROUP BY v ORDER BY v") == [
        ("x", 2),
        ("y", 3),
    ]


def test_json_text_and_odd_characters_land_by_the_bulk_path(engine: Engine, caplog: pytest.LogCaptureFixture) -> None:
    """Raw lines of a stream with a JSON column: typed per record, loaded straight into the table
    (PostgreSQL: binary COPY, jsonb in its binary form); U+0000, which PostgreSQL cannot store, is
    dropped there; quotes, tabs, newlines and non-ASCII text survive."""
    schema = {"type": "object", "properties": {"id": {"type": "integer"}, "v": {"type": "string"},
                                               "j": {"type": "object"}}}  # fmt: skip
    s = stream(schema=schema)
    caplog.set_level(logging.INFO, logger="dalgo.ingestion.loader.writers")
    writer = engine.writer()
    loader = Loader(writer, schema=engine.schema, streams=[s], on_state=lambda _: None, batch_rows=2)
    values = ['tab\there, "quoted"\nnew line', "nul\x00byte", "हिन्दी ✓", ""]
    for i, v in enumerate(values):
        record = {"stream": "households", "data": {"id": i, "v": v, "j": {"k": [i, v], "n": None}}, "emitted_at": 1}
        loader.feed_line(orjson.dumps({"type": "RECORD", "record": record}))
    loader.finish()
    writer.close()
    rows = engine.rows(
        f"SELECT id, v, j, _airbyte_extracted_at, _airbyte_meta FROM {engine.q('households')} ORDER BY id"
    )
    assert {(r[3].isoformat(), str(engine.json(r[4]))) for r in rows} == {
        ("1970-01-01T00:00:00.001000+00:00", "{'changes': [], 'sync_id': None}")
    }
    landed = [values[0], "nulbyte" if engine.kind == "postgres" else "nul\x00byte", values[2], values[3]]
    assert [(r[0], r[1]) for r in rows] == list(enumerate(landed))
    assert [engine.json(r[2]) for r in rows] == [{"k": [i, v], "n": None} for i, v in enumerate(landed)]
    assert "refused" not in caplog.text  # PostgreSQL took every batch by binary COPY


def test_postgres_tables_of_another_shape_still_load(engine: Engine, caplog: pytest.LogCaptureFixture) -> None:
    """A table an older tool created (int4, varchar(n), timestamp columns): the batch's types match
    the table's as the loader sees them, yet binary COPY refuses some; those batches go by CSV."""
    if engine.kind != "postgres":
        pytest.skip("PostgreSQL's binary COPY")
    with psycopg.connect(engine.target, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{engine.schema}"')
        conn.execute(
            f"CREATE TABLE {engine.q('households')} (id integer, v varchar(20), _airbyte_raw_id varchar(36), "
            "_airbyte_extracted_at timestamptz, _airbyte_meta jsonb, _airbyte_generation_id integer)"
        )
    with caplog.at_level(logging.INFO, logger="dalgo.ingestion.loader.writers"):
        load(engine, [stream()], [rec({"id": i, "v": f"v{i}"}) for i in range(3)])
    assert engine.rows(f"SELECT id, v FROM {engine.q('households')} ORDER BY id") == [(0, "v0"), (1, "v1"), (2, "v2")]
    assert "Binary COPY" in caplog.text and "refused" in caplog.text
    metas = engine.rows(f"SELECT _airbyte_meta FROM {engine.q('households')}")
    assert [m[0] for m in metas] == [{"changes": [], "sync_id": None}] * 3


@pytest.mark.parametrize("mode", [DestinationMode.APPEND, DestinationMode.OVERWRITE, DestinationMode.APPEND_DEDUP])
def test_a_batch_without_changes_writes_its_meta_once(engine: Engine, mode: DestinationMode) -> None:
    """A batch whose rows have nothing to note carries no _airbyte_meta column: the apply statement
    writes the sync's meta as one constant (PostgreSQL's binary COPY adds the column). Every row
    still gets it; a batch with a change in it carries the column."""
    schema = {"type": "object", "properties": {"id": {"type": "integer"}, "d": {"type": "string", "format": "date"}}}
    lines = [
        orjson.dumps({"type": "RECORD", "record": {"stream": "households", "data": data, "emitted_at": 1}})
        for data in [{"id": 1, "d": "2024-01-01"}, {"id": 2}, {"id": 3, "d": "not a date"}, {"id": 4}]
    ]
    writer = engine.writer()
    loader = Loader(writer, schema=engine.schema, streams=[stream(mode=mode, schema=schema, primary_key=(("id",),))],
                    on_state=lambda s: None, batch_rows=2, sync_id="0123456789ab")  # fmt: skip
    for line in lines:  # two batches: the first clean, the second with a change
        loader.feed_line(line)
    loader.finish()
    writer.close()
    rows = engine.rows(f"SELECT id, _airbyte_meta FROM {engine.q('households')} ORDER BY id")
    metas = {r[0]: engine.json(r[1]) for r in rows}
    clean = {"changes": [], "sync_id": "0123456789ab"}
    assert metas[1] == metas[2] == metas[4] == clean
    assert metas[3]["changes"][0]["field"] == "d" and metas[3]["sync_id"] == "0123456789ab"


def test_a_failed_write_surfaces_at_the_next_checkpoint_and_its_state_is_never_passed(engine: Engine) -> None:
    """Batches load in a write thread while the next is parsed: a write that fails is raised in the
    loader's thread at the next flush, checkpoint or finish, and no state after it is passed on."""
    if engine.kind != "postgres":
        pytest.skip("a CHECK constraint makes the write fail")
    load(engine, [stream()], [rec({"id": 1, "v": "a"})])
    with psycopg.connect(engine.target, autocommit=True) as conn:
        conn.execute(f"ALTER TABLE {engine.q('households')} ADD CONSTRAINT positive CHECK (id > 0)")
    writer = engine.writer()
    states: list[State] = []
    loader = Loader(writer, schema=engine.schema, streams=[stream()], on_state=states.append, batch_rows=2)
    loader.feed(rec({"id": -1, "v": "refused"}))
    loader.feed(rec({"id": 2, "v": "b"}))  # a full batch: handed to the write thread
    with pytest.raises(psycopg.errors.CheckViolation):
        loader.feed(STATE)
    loader.abort()
    writer.close()
    assert states == []
    assert engine.rows(f"SELECT id, v FROM {engine.q('households')} ORDER BY id") == [(1, "a")]
