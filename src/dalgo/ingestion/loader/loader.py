"""The loader: RECORD and STATE messages in, typed tables out.

Records are buffered per stream and flushed as one batch (Arrow) per transaction: DDL for new or
widened columns, the bulk stage, one apply statement (INSERT for append and overwrite, MERGE for
append_dedup), commit. A STATE flushes every stream first and reaches `on_state` only after those
commits, so a saved state never points past data the warehouse does not hold. Overwrite loads into
`_dalgo_tmp_<table>_<run>` and swaps it in at `finish()` in one transaction; until then readers see
the old table, and a crash leaves it untouched. BigQuery has no transaction around statements: each
statement is atomic on its own, and its swap is one CREATE OR REPLACE TABLE ... AS SELECT per table.
"""

from __future__ import annotations

import gc
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from dalgo.ingestion.loader import sql
from dalgo.ingestion.loader.convert import batch_from_lines, build_batch, clean_meta, infer_columns
from dalgo.ingestion.loader.types import (
    EXTRACTED_AT,
    GENERATION_ID,
    META,
    METADATA_COLUMNS,
    RAW_ID,
    ColumnType,
    schema_columns,
    widen,
)
from dalgo.ingestion.loader.writers import WarehouseWriter
from dalgo.ingestion.protocol import (
    ConfiguredStream,
    DestinationMode,
    Message,
    RawRecords,
    Record,
    State,
    frames,
    loads,
    parse_message,
)

TMP_PREFIX = "_dalgo_tmp_"


@dataclass
class StreamStats:
    records: int = 0
    bytes: int = 0
    batches: int = 0
    seconds: float = 0.0  # time spent parsing and typing batches (not waiting for the source)
    write_seconds: float = 0.0  # time the write thread spent loading them (overlaps the parsing)


@dataclass
class LoadStats:
    streams: dict[str, StreamStats] = field(default_factory=dict)
    states: int = 0  # states passed to on_state
    skipped_records: int = 0  # records of streams that are not configured

    @property
    def records(self) -> int:
        return sum(s.records for s in self.streams.values())

    @property
    def bytes(self) -> int:
        return sum(s.bytes for s in self.streams.values())


class LoaderError(Exception):
    pass


@dataclass
class _Stream:
    config: ConfiguredStream
    table: str  # the destination table
    target: str  # where batches go: the table, or the overwrite's temporary table
    columns: dict[str, ColumnType]  # declared (and discovered) data columns
    primary_key: list[str]
    cursor: str | None
    existing: dict[str, ColumnType] | None = None  # the target's columns once known
    indexed: bool = False  # the key index of an append_dedup target exists (PostgreSQL)
    blocks: list[bytes] = field(default_factory=list)  # runs of raw RECORD lines, parsed with the batch
    block_records: int = 0  # lines in `blocks`
    datas: list[dict[str, Any]] = field(default_factory=list)  # records that came parsed (they go first)
    emitted_at: list[int] = field(default_factory=list)
    buffered_bytes: int = 0

    @property
    def buffered(self) -> int:
        return len(self.datas) + self.block_records

    def parse_blocks(self) -> None:
        """Move the raw lines into `datas` (a parsed record arrives after them: order holds)."""
        if self.blocks:
            datas, emitted_at = _parse_blocks(self.blocks, self.config.name)
            self.datas.extend(datas)
            self.emitted_at.extend(emitted_at)
            self.blocks, self.block_records = [], 0


def _parse_blocks(blocks: list[bytes], stream: str) -> tuple[list[dict[str, Any]], list[int]]:
    """Runs of RECORD lines -> (data, emitted_at) lists in one tight pass, the cyclic GC paused
    meanwhile (it would walk the growing heap of fresh dicts again and again: ~40% of the time,
    measured). Bytes that are not UTF-8 become U+FFFD, as the runner does for the lines it parses."""
    lines = [line for block in blocks for line in block.split(b"\n") if line]
    paused = gc.isenabled()
    gc.disable()
    try:
        records = [loads(line)["record"] for line in lines]
    except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
        raise LoaderError(f"A RECORD line of stream {stream!r} is not valid: {exc}") from None
    finally:
        if paused:
            gc.enable()
    return [r.get("data") or {} for r in records], [int(r.get("emitted_at") or 0) for r in records]


def _top_level(path: tuple[str, ...]) -> str:
    if len(path) != 1:
        raise LoaderError(f"Nested primary keys and cursors are not supported yet: {'.'.join(path)}")
    return path[0]


class Loader:
    def __init__(
        self,
        writer: WarehouseWriter,
        *,
        schema: str,
        streams: list[ConfiguredStream],
        on_state: Callable[[State], None],
        batch_rows: int = 50_000,
        batch_bytes: int = 64 * 1024 * 1024,
        sync_id: int | str | None = None,
        generation_id: int = 0,
        run_id: str | None = None,
        checkpoint_seconds: float = 0.0,
    ):
        self.writer = writer
        self.dialect = writer.dialect
        self.schema = schema
        self.on_state = on_state
        self.batch_rows = batch_rows
        self.batch_bytes = batch_bytes
        # A STATE commits what came before it at most this often; the states in between wait (in
        # order) for that commit. 0: commit at every STATE (a connector checkpointing every 100
        # records would otherwise cost a transaction per 100 rows).
        self.checkpoint_seconds = checkpoint_seconds
        self._pending_states: list[State] = []
        self._last_checkpoint = time.monotonic()
        self.generation_id = generation_id
        self.meta_base: dict[str, Any] = {"sync_id": sync_id}
        self.clean_meta = clean_meta(self.meta_base)
        self.run_id = run_id or uuid.uuid4().hex[:12]
        if not re.fullmatch(r"[0-9a-f]{12}", self.run_id):
            raise LoaderError("run_id must be 12 lowercase hex digits.")
        self.stats = LoadStats()
        self._streams: dict[str, _Stream] = {}
        for config in streams:
            primary_key = [_top_level(p) for p in config.primary_key]
            cursor = _top_level(config.cursor_field) if config.cursor_field else None
            if config.destination_mode == DestinationMode.APPEND_DEDUP and not primary_key:
                raise LoaderError(f"Stream {config.name!r}: append_dedup needs a primary key.")
            columns = schema_columns(config.json_schema, config.selected_columns)
            properties = config.json_schema.get("properties") or {}
            for key in [*primary_key, *([cursor] if cursor else [])]:
                if key not in columns:
                    columns[key] = schema_columns({"properties": {key: properties.get(key, {})}}, None).get(
                        key, ColumnType.TEXT
                    )
            overwrite = config.destination_mode == DestinationMode.OVERWRITE
            target = f"{TMP_PREFIX}{config.table}_{self.run_id}" if overwrite else config.table
            self._streams[config.name] = _Stream(
                config=config, table=config.table, target=target, columns=columns,
                primary_key=primary_key, cursor=cursor,
            )  # fmt: skip
            self.stats.streams[config.name] = StreamStats()
        self._schema_ready = False
        self._finished = False
        self._write_thread: threading.Thread | None = None
        self._write_error: BaseException | None = None

    # -- messages ---------------------------------------------------------------------------------

    def feed(self, message: Message, *, size: int | None = None) -> None:
        """A RECORD is buffered (a full buffer is flushed and committed); a STATE flushes every
        stream, then reaches on_state. Other messages are not the loader's business."""
        if isinstance(message, RawRecords):
            stream = self._streams.get(message.stream)
            if stream is None:
                self.stats.skipped_records += message.count
            else:
                stream.blocks.append(message.block)
                stream.block_records += message.count
                stream.buffered_bytes += len(message.block)
                self._flush_if_full(stream)
        elif isinstance(message, Record):
            self._add(message.stream, message.data, message.emitted_at, size)
        elif isinstance(message, State):
            self._checkpoint(message)

    def feed_output(self, output: bytes) -> None:
        """Protocol lines as a connector writes them (tests and benchmarks; a sync gets its messages
        from the runner): runs of RECORD lines in the CDKs' layout are only routed, and parsed later
        with their whole batch; other lines are parsed now."""
        for item in frames([output]):
            if isinstance(item, RawRecords):
                self.feed(item)
            elif item.strip():
                message = parse_message(item)
                if message is None:
                    raise LoaderError(f"Not a protocol message: {item[:200]!r}")
                self.feed(message, size=len(item))

    def feed_line(self, line: bytes) -> None:
        """One protocol line (see `feed_output`)."""
        self.feed_output(line if line.endswith(b"\n") else line + b"\n")

    def _flush_if_full(self, stream: _Stream) -> None:
        if stream.buffered >= self.batch_rows or stream.buffered_bytes >= self.batch_bytes:
            self._flush(stream)

    def _add(self, stream_name: str, data: dict[str, Any], emitted_at: int, size: int | None) -> None:
        stream = self._streams.get(stream_name)
        if stream is None:
            self.stats.skipped_records += 1
            return
        if size is None:
            size = len(orjson.dumps(data))
        stream.parse_blocks()  # records keep their order
        stream.datas.append(data)
        stream.emitted_at.append(emitted_at)
        stream.buffered_bytes += size
        self._flush_if_full(stream)

    def _checkpoint(self, state: State) -> None:
        self._pending_states.append(state)
        if time.monotonic() - self._last_checkpoint >= self.checkpoint_seconds:
            self._commit_checkpoints()

    def _commit_checkpoints(self) -> None:
        """Commit every buffered record, then hand the states that came before them to on_state."""
        for stream in self._streams.values():
            self._flush(stream)
        self._wait()
        states, self._pending_states = self._pending_states, []
        self._last_checkpoint = time.monotonic()
        for state in states:
            self.stats.states += 1
            self.on_state(state)

    # -- end of a sync ------------------------------------------------------------------------------

    def finish(self) -> LoadStats:
        """Flush what is buffered, make sure every table exists (0 records included), and swap
        each overwrite's new table in, all swaps in one transaction."""
        if self._finished:
            return self.stats
        for stream in self._streams.values():
            self._flush(stream, force=True)
        self._wait()
        if self._pending_states:
            self._commit_checkpoints()
        swaps = [s for s in self._streams.values() if s.target != s.table]
        if swaps:
            try:
                for stream in swaps:
                    if self.writer.dependents(self.schema, stream.table):
                        self._replace_rows(stream)
                        continue
                    if self.dialect == "bigquery":  # one atomic statement instead of DROP + RENAME
                        self.writer.execute(
                            sql.replace_table(self.schema, stream.table, stream.target, dialect=self.dialect)
                        )
                        self.writer.execute(sql.drop_table(self.schema, stream.target, dialect=self.dialect))
                        continue
                    self.writer.execute(sql.drop_table(self.schema, stream.table, dialect=self.dialect))
                    self.writer.execute(
                        sql.rename_table(self.schema, stream.target, stream.table, dialect=self.dialect)
                    )
                self.writer.commit()
            except Exception:
                self.writer.rollback()
                raise
        self._finished = True
        return self.stats

    def _replace_rows(self, stream: _Stream) -> None:
        """Views depend on the table (e.g. dbt models in PostgreSQL): keep it, add the new table's
        new columns to it, and replace its rows, in the same transaction as the other swaps."""
        old = self.writer.table_columns(self.schema, stream.table) or {}
        new = self.writer.table_columns(self.schema, stream.target) or {}
        for name, column_type in new.items():
            if name not in old:
                self.writer.execute(sql.add_column(self.schema, stream.table, name, column_type, dialect=self.dialect))
                old[name] = column_type
        for statement in sql.replace_rows(
            self.schema, stream.table, stream.target, {n: old[n] for n in new}, dialect=self.dialect
        ):
            self.writer.execute(statement)
        self.writer.execute(sql.drop_table(self.schema, stream.target, dialect=self.dialect))

    def abort(self) -> None:
        """Stop: roll back the open batch and drop the overwrite's temporary tables; the tables
        readers use stay as they were (batches already committed for append modes stay; states not
        yet passed to on_state are dropped, so the next sync re-reads from the last one passed)."""
        self._pending_states = []
        try:
            self._wait()
        except BaseException:  # noqa: BLE001,S110  (stopping anyway; the caller has the first error)
            pass
        self.writer.rollback()
        for stream in self._streams.values():
            if stream.target != stream.table:
                self.writer.execute(sql.drop_table(self.schema, stream.target, dialect=self.dialect))
        self.writer.commit()
        self._finished = True

    # -- one batch --------------------------------------------------------------------------------

    def _ensure_schema(self) -> None:
        if self._schema_ready:
            return
        self.writer.execute(sql.create_schema(self.schema, dialect=self.dialect, location=self.writer.location))
        self.writer.commit()
        self._schema_ready = True

    def _drop_stale_temporaries(self, stream: _Stream) -> None:
        """Temporary tables of earlier overwrite runs of this table that died before their swap."""
        pattern = re.compile(re.escape(f"{TMP_PREFIX}{stream.table}_") + r"[0-9a-f]{12}")
        for name in self.writer.tables(self.schema):
            if name != stream.target and pattern.fullmatch(name):
                self.writer.execute(sql.drop_table(self.schema, name, dialect=self.dialect))

    def _flush(self, stream: _Stream, *, force: bool = False) -> None:
        """Build the stream's buffered records into a batch here, then hand the batch to the write
        thread (DDL, bulk load, apply, commit) and return: the next batch is parsed while this one
        loads. One write at a time; `_wait` joins it and raises what it raised."""
        if not stream.buffered and not (force and stream.existing is None):
            return
        started = time.monotonic()
        if stream.datas:
            stream.parse_blocks()  # a mix: all parsed, in order of arrival
        blocks, datas, emitted_at, size = stream.blocks, stream.datas, stream.emitted_at, stream.buffered_bytes
        records = stream.buffered
        stream.blocks, stream.block_records, stream.datas, stream.emitted_at, stream.buffered_bytes = [], 0, [], [], 0
        config = stream.config
        with_seq = config.destination_mode == DestinationMode.APPEND_DEDUP
        if stream.existing is None:  # the stream's first batch: look at its table (nothing else in flight)
            self._wait()
            try:
                self._ensure_schema()
                if stream.target != stream.table:
                    self._drop_stale_temporaries(stream)
                stream.existing = self.writer.table_columns(self.schema, stream.target) or {}
                self.writer.commit()
            except Exception:
                self.writer.rollback()
                stream.existing = None
                raise
        batch = None
        staged = self._wanted(stream)
        if blocks:
            built = batch_from_lines(
                blocks, rows=records, columns=staged, meta_base=self.meta_base, generation_id=self.generation_id,
                with_seq=with_seq, discover=config.selected_columns is None,
            )  # fmt: skip
            if built is None:
                datas, emitted_at = _parse_blocks(blocks, config.name)
            else:
                batch, staged = built
        if datas:
            if config.selected_columns is None:
                stream.columns.update(infer_columns(datas, set(stream.columns) | set(METADATA_COLUMNS)))
                staged = self._wanted(stream)
            batch, staged = build_batch(
                datas=datas, emitted_at=emitted_at, columns=staged, meta_base=self.meta_base,
                generation_id=self.generation_id, with_seq=with_seq,
            )  # fmt: skip
        # The table as it will be once this batch's DDL ran: the next batch is built against it.
        ddl, target_types = self._evolution(stream, staged)
        if not stream.indexed and self.dialect == "postgres" and with_seq and stream.primary_key:
            ddl.append(sql.create_key_index(self.schema, stream.target, stream.primary_key, dialect=self.dialect))
        stream.existing, stream.indexed = target_types, stream.indexed or with_seq
        stats = self.stats.streams[config.name]
        if records:
            stats.batches += 1
            stats.records += records
            stats.bytes += size
        stats.seconds += time.monotonic() - started
        self._wait()
        self._write_thread = threading.Thread(
            target=self._write, args=(stream, ddl, batch, staged, target_types), name="loader-write", daemon=True
        )
        self._write_thread.start()

    def _write(
        self,
        stream: _Stream,
        ddl: list[str],
        batch: Any,
        staged: dict[str, ColumnType],
        target_types: dict[str, ColumnType],
    ) -> None:
        """The write thread's part of a batch: one transaction."""
        started = time.monotonic()
        try:
            for statement in ddl:
                self.writer.execute(statement)
            if batch is not None:
                self._apply(stream, batch, staged, target_types)
            self.writer.commit()
        except BaseException as exc:  # noqa: BLE001  (raised in the loader's thread by _wait)
            try:
                self.writer.rollback()
            except Exception:  # noqa: BLE001,S110  (the first error is the one to report)
                pass
            stream.existing = None  # introspect again: this batch's DDL was rolled back
            self._write_error = exc
        self.stats.streams[stream.config.name].write_seconds += time.monotonic() - started

    def _wait(self) -> None:
        """Let the batch in flight finish; raise its error here."""
        if self._write_thread is not None:
            self._write_thread.join()
            self._write_thread = None
        if self._write_error is not None:
            error, self._write_error = self._write_error, None
            raise error

    def _wanted(self, stream: _Stream) -> dict[str, ColumnType]:
        """The stream's columns, each widened to hold what its table's column already holds."""
        existing = stream.existing or {}
        return {name: widen(existing[name], t) if name in existing else t for name, t in stream.columns.items()}

    def _apply(
        self, stream: _Stream, batch: Any, staged: dict[str, ColumnType], target_types: dict[str, ColumnType]
    ) -> None:
        """One batch into its table: straight in when the writer can and no column needs a cast
        (append and overwrite), else staged and applied by one INSERT ... SELECT or MERGE."""
        mode = stream.config.destination_mode
        meta = None if META in batch.column_names else self.clean_meta  # see convert.clean_meta
        exact = all(target_types.get(n) == t for n, t in {**staged, **METADATA_COLUMNS}.items())
        if mode != DestinationMode.APPEND_DEDUP and exact:
            if self.writer.insert(batch, staged, schema=self.schema, table=stream.target, meta=meta):
                return
        relation = self.writer.stage(batch, staged, schema=self.schema)
        if mode == DestinationMode.APPEND_DEDUP:
            statements = sql.merge_from_stage(
                schema=self.schema, name=stream.target, stage=relation, staged=staged, target=target_types,
                primary_key=stream.primary_key, cursor=stream.cursor, dialect=self.dialect,
                null_keys=any(batch.column(k).null_count for k in stream.primary_key),
                unique_keys=batch.group_by(stream.primary_key).aggregate([]).num_rows == batch.num_rows, meta=meta,
            )  # fmt: skip
        else:
            insert = sql.insert_from_stage(
                schema=self.schema, name=stream.target, stage=relation, staged=staged, target=target_types,
                dialect=self.dialect, meta=meta,
            )  # fmt: skip
            statements = [insert]
        for statement in statements:
            self.writer.execute(statement)
        self.writer.unstage()

    def _evolution(self, stream: _Stream, staged: dict[str, ColumnType]) -> tuple[list[str], dict[str, ColumnType]]:
        """The DDL that creates the target, or adds the batch's new columns and widens changed ones,
        and the target's columns and types once it ran."""
        existing = stream.existing
        if not existing:
            columns = {**staged, **METADATA_COLUMNS}
            return [sql.create_table(self.schema, stream.target, columns, dialect=self.dialect)], columns
        ddl: list[str] = []
        result = dict(existing)
        for name, staged_type in staged.items():
            if name not in existing:
                ddl.append(sql.add_column(self.schema, stream.target, name, staged_type, dialect=self.dialect))
                result[name] = staged_type
                continue
            widened = widen(existing[name], staged_type)
            if widened != existing[name] and name not in (RAW_ID, EXTRACTED_AT, META, GENERATION_ID):
                ddl.append(
                    sql.alter_column_type(
                        self.schema, stream.target, name, existing[name], widened, dialect=self.dialect
                    )
                )
                result[name] = widened
        for name, column_type in METADATA_COLUMNS.items():
            if name not in result:  # a table landed by an older tool
                ddl.append(sql.add_column(self.schema, stream.target, name, column_type, dialect=self.dialect))
                result[name] = column_type
        return ddl, result
