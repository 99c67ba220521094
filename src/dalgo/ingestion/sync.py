"""One sync: the connector's `read` piped into the loader, with progress, checkpoints and cancel.

`sync_streams` is the engine and knows nothing of Django (the benchmark calls it directly).
`connection_sync_execute` runs it for a connection's Run: it builds the configured catalog, the
warehouse writer and the saved state, saves each checkpoint the moment the loader has committed the
records before it, persists CONTROL config updates, writes progress about once a second, and beats
(`runs.services.run_heartbeat`) so a dead worker is noticed and a cancel reaches the connector.
"""

from __future__ import annotations

import queue
import re
import threading
import time
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from dalgo.ingestion.connectors.runner import ConnectorRunner, LogCallback
from dalgo.ingestion.loader import Loader, LoadStats
from dalgo.ingestion.loader.writers import WarehouseWriter
from dalgo.ingestion.protocol import ConfiguredStream, ControlConfig, Message, RawRecords, Record, State, Trace

PROGRESS_EVERY_SECONDS = 1.0
# Records buffered per stream before a batch loads: Python dicts take ~10x their JSON size, and at
# 50k rows a faker sync peaked at 700 MB.
SYNC_BATCH_ROWS = 20_000
SYNC_BATCH_BYTES = 32 * 1024 * 1024
HEARTBEAT_EVERY_SECONDS = 5.0


@dataclass
class StreamProgress:
    status: str = "pending"  # pending | running | complete | incomplete
    records: int = 0
    bytes: int = 0
    estimate: int | None = None  # rows, when the connector sent an ESTIMATE


@dataclass
class SyncProgress:
    streams: dict[str, StreamProgress]
    started: float = field(default_factory=time.monotonic)
    checkpoints: int = 0

    @classmethod
    def of(cls, streams: list[ConfiguredStream]) -> SyncProgress:
        return cls(streams={s.name: StreamProgress() for s in streams})

    def see(self, message: Message, size: int) -> None:
        if isinstance(message, Record | RawRecords):
            stream = self.streams.get(message.stream)
            if stream is not None:
                stream.records += message.count if isinstance(message, RawRecords) else 1
                stream.bytes += size
                if stream.status == "pending":
                    stream.status = "running"
        elif isinstance(message, State):
            self.checkpoints += 1
        elif isinstance(message, Trace):
            self._trace(message)

    def _trace(self, trace: Trace) -> None:
        raw = trace.raw
        if trace.type == "STREAM_STATUS":
            status = raw.get("stream_status") or {}
            stream = self.streams.get(str((status.get("stream_descriptor") or {}).get("name")))
            mapped = {"STARTED": "running", "RUNNING": "running", "COMPLETE": "complete", "INCOMPLETE": "incomplete"}
            if stream is not None and status.get("status") in mapped:
                stream.status = mapped[status["status"]]
        elif trace.type == "ESTIMATE":
            estimate = raw.get("estimate") or {}
            stream = self.streams.get(str(estimate.get("name")))
            if stream is not None and isinstance(estimate.get("row_estimate"), int):
                stream.estimate = estimate["row_estimate"]

    def as_dict(self) -> dict[str, Any]:
        seconds = max(time.monotonic() - self.started, 1e-6)
        records = sum(s.records for s in self.streams.values())
        size = sum(s.bytes for s in self.streams.values())
        return {
            "streams": {
                name: {"status": s.status, "records": s.records, "bytes": s.bytes, "estimate": s.estimate}
                for name, s in self.streams.items()
            },
            "records": records,
            "bytes": size,
            "seconds": round(seconds, 1),
            "records_per_second": round(records / seconds, 1),
            "checkpoints": self.checkpoints,
        }


def sync_streams(
    *,
    runner: ConnectorRunner,
    config: dict[str, Any],
    streams: list[ConfiguredStream],
    state: dict[str, Any] | list[Any] | None,
    writer: WarehouseWriter,
    schema: str,
    on_state: Callable[[State], None],
    log: LogCallback,
    timeout_seconds: float,
    on_progress: Callable[[SyncProgress], None] | None = None,
    on_config: Callable[[dict[str, Any]], None] | None = None,
    run_id: str | None = None,
    checkpoint_seconds: float = 0.0,
) -> tuple[LoadStats, SyncProgress]:
    """Read every configured stream into `schema`. Raises what the connector or loader raised, after
    rolling back the open batch (committed batches and their checkpoints stay).

    The connector's output is read in a thread of its own and handed over in chunks through a
    bounded queue, so the connector keeps producing while a batch loads (measured: sync time was
    connector time + loader time when both ran in one thread)."""
    loader = Loader(writer, schema=schema, streams=streams, on_state=on_state, run_id=run_id, sync_id=run_id,
                    checkpoint_seconds=checkpoint_seconds, batch_rows=SYNC_BATCH_ROWS,
                    batch_bytes=SYNC_BATCH_BYTES)  # fmt: skip
    progress = SyncProgress.of(streams)
    last_report = 0.0
    source = runner.read(config, streams, state, timeout_seconds=timeout_seconds, on_log=log, raw_records=True)
    messages = _read_ahead(runner, source)
    try:
        for message in messages:
            size = 0
            if isinstance(message, RawRecords):
                size = len(message.block)
                loader.feed(message)
            elif isinstance(message, Record):
                size = _approximate_size(message.data)
                loader.feed(message, size=size)
            elif isinstance(message, State):
                loader.feed(message)
            elif isinstance(message, ControlConfig) and on_config is not None:
                on_config(message.config)
            progress.see(message, size)
            now = time.monotonic()
            if on_progress is not None and now - last_report >= PROGRESS_EVERY_SECONDS:
                last_report = now
                on_progress(progress)
        stats = loader.finish()
    except BaseException:
        messages.close()  # stops the connector if it is still running
        try:
            loader.abort()
        except Exception as exc:  # noqa: BLE001  (the original error matters more)
            log("WARN", f"Cleaning up after the failure also failed: {exc}")
        raise
    for name, stream in progress.streams.items():
        if stream.status in ("pending", "running"):
            stream.status = "complete"
        stream.records = stats.streams[name].records
    if on_progress is not None:
        on_progress(progress)
    return stats, progress


_CHUNK = 500  # records per hand-over between the reading thread and the loader (a STATE or LOG: at once)
_QUEUE_CHUNKS = 40  # at most this many chunks wait: ~20k records


def _read_ahead(runner: ConnectorRunner, source: Iterator[Message]) -> Generator[Message, None, None]:
    """Iterate `source` in a thread; yield its messages here. Errors are re-raised here, in order.
    Closing the generator early cancels the connector and waits for the thread."""
    handoff: queue.Queue[list[Message] | BaseException | None] = queue.Queue(maxsize=_QUEUE_CHUNKS)
    stop = threading.Event()

    def pump() -> None:
        chunk: list[Message] = []
        records = 0
        try:
            for message in source:
                chunk.append(message)
                if isinstance(message, RawRecords):
                    records += message.count
                elif isinstance(message, Record):
                    records += 1
                else:
                    records = _CHUNK
                if records >= _CHUNK:
                    if not _put(handoff, chunk, stop):
                        return
                    chunk, records = [], 0
            if chunk:
                _put(handoff, chunk, stop)
            _put(handoff, None, stop)
        except BaseException as exc:  # noqa: BLE001  (handed to the consumer, which raises it)
            _put(handoff, exc, stop)

    reader = threading.Thread(target=pump, name="connector-reader", daemon=True)
    reader.start()
    try:
        while True:
            item = handoff.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield from item
    finally:
        if reader.is_alive():
            stop.set()
            runner.cancel()
            while reader.is_alive():  # drain so the pump can see `stop`
                try:
                    handoff.get(timeout=0.1)
                except queue.Empty:
                    pass
        reader.join()


def _put(handoff: queue.Queue[Any], item: Any, stop: threading.Event) -> bool:
    while not stop.is_set():
        try:
            handoff.put(item, timeout=0.1)
            return True
        except queue.Full:
            continue
    return False


def _approximate_size(data: dict[str, Any]) -> int:
    """Bytes of a record as JSON, estimated without serialising it again."""
    size = 2
    for key, value in data.items():
        size += len(key) + 4 + (len(value) + 2 if isinstance(value, str) else 8)
    return size


_TABLE_UNSAFE = re.compile(r"[^a-z0-9_]+")


def table_name(stream: str) -> str:
    """The destination table of a stream: lower case, letters, digits and underscores (as Airbyte's
    destinations name them), at most 63 characters."""
    name = _TABLE_UNSAFE.sub("_", stream.strip().lower()).strip("_") or "stream"
    if name[0].isdigit():
        name = f"_{name}"
    return name[:63]


class Heartbeat:
    """Beats every few seconds from a thread while a sync runs; calls `on_cancel` once when the run
    is asked to stop (status CANCELLING)."""

    def __init__(self, *, beat: Callable[[], str | None], on_cancel: Callable[[], None]) -> None:
        self._beat = beat
        self._on_cancel = on_cancel
        self._stop = threading.Event()
        self.cancelled = False
        self._thread = threading.Thread(target=self._loop, name="sync-heartbeat", daemon=True)

    def _loop(self) -> None:
        from django.db import connection

        try:
            while not self._stop.is_set():
                try:
                    status = self._beat()
                except Exception:  # noqa: BLE001  (a missed beat is not fatal; the next one may get through)
                    status = None
                if status == "cancelling" and not self.cancelled:
                    self.cancelled = True
                    self._on_cancel()
                self._stop.wait(HEARTBEAT_EVERY_SECONDS)
        finally:
            connection.close()

    @contextmanager
    def running(self) -> Iterator[Heartbeat]:
        self._thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            self._thread.join(timeout=HEARTBEAT_EVERY_SECONDS * 2)
