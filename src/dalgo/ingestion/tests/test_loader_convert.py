"""Typing a batch: the fast path from raw RECORD lines (pyarrow's JSON reader) gives exactly what
the per-record path gives, or declines so the per-record path decides (odd values, JSON columns,
fields the schema does not name)."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
import pyarrow as pa
import pytest

from dalgo.ingestion.loader.convert import batch_from_lines, build_batch, random_uuids
from dalgo.ingestion.loader.types import RAW_ID, ColumnType

COLUMNS = {
    "id": ColumnType.BIGINT,
    "name": ColumnType.TEXT,
    "score": ColumnType.DOUBLE,
    "ok": ColumnType.BOOLEAN,
    "day": ColumnType.DATE,
    "at": ColumnType.TIMESTAMPTZ,
    "local": ColumnType.TIMESTAMP,
}
GOOD = [
    {"id": 1, "name": "Asha", "score": 1, "ok": True, "day": "2024-03-01", "at": "2024-03-01T10:00:00+05:30",
     "local": "2024-03-01T10:00:00"},
    {"id": 2, "name": 'q"uo\\te\u00e9\n', "score": 2.5, "ok": False, "day": None, "at": "2024-03-01T10:00:00Z"},
    {},
    {"id": -(2**63), "name": "", "score": -1e300, "at": "2024-03-01 10:00:00.123456Z"},
]  # fmt: skip


def line(data: Any, emitted_at: Any = 1_700_000_000_000, **extra: Any) -> bytes:
    return orjson.dumps({"type": "RECORD", "record": {"stream": "s", "data": data, "emitted_at": emitted_at, **extra}})


def fast_path(lines: list[bytes], **options: Any) -> Any:
    """`batch_from_lines` over the lines as the runner frames them: one block each, newline ended."""
    return batch_from_lines([line + b"\n" for line in lines], rows=len(lines), **options)


def both(datas: list[Any], columns: dict[str, ColumnType] = COLUMNS, *, discover: bool = True) -> Any:
    lines = [line(d) for d in datas]
    common: dict[str, Any] = {"columns": columns, "meta_base": {"sync_id": 3}, "generation_id": 4, "with_seq": True}
    fast = fast_path(lines, discover=discover, **common)
    slow = build_batch(datas=[d or {} for d in datas], emitted_at=[1_700_000_000_000] * len(datas), **common)
    return fast, slow


def without_ids(table: pa.Table) -> pa.Table:
    return table.drop_columns([RAW_ID])


def test_the_fast_path_gives_what_the_per_record_path_gives() -> None:
    fast, slow = both(GOOD)
    assert fast is not None
    assert fast[1] == slow[1] == COLUMNS
    assert without_ids(fast[0]).equals(without_ids(slow[0]))
    assert fast[0].column("at").to_pylist()[0].isoformat() == "2024-03-01T04:30:00+00:00"
    assert [uuid.UUID(u).version for u in fast[0].column(RAW_ID).to_pylist()] == [4] * len(GOOD)


@pytest.mark.parametrize(
    "odd",
    [
        {"id": 1.5},  # a fraction in an integer column: widened to double by the per-record path
        {"id": "7"},  # text in an integer column
        {"id": 2**63},  # beyond 64 bits: numeric
        {"name": 5},  # a number in a text column
        {"ok": "yes"},
        {"day": "someday"},  # cannot be cast: NULL with a note
        {"at": 20240301},
        {"at": "2024-03-01T10:00:00"},  # no zone in a zoned column: read as UTC, value by value
        {"extra": 1},  # a field the schema does not name: discovered by the per-record path
    ],
)
def test_the_fast_path_declines_what_it_cannot_type_exactly(odd: dict[str, Any]) -> None:
    fast, _ = both([GOOD[0], odd])
    assert fast is None


def test_declines_json_and_exact_decimal_columns_and_odd_lines() -> None:
    assert both([{"j": {"a": 1}}], {"j": ColumnType.JSON})[0] is None
    assert both([{"n": 1}], {"n": ColumnType.NUMERIC})[0] is None
    common: dict[str, Any] = {"columns": {"id": ColumnType.BIGINT}, "meta_base": {}, "generation_id": 0,
                              "with_seq": False, "discover": True}  # fmt: skip
    assert fast_path([b'{"type":"RECORD","record":{"stream":"s","data":{"id":1,"id":2}}}'], **common) is None
    assert fast_path([line({"id": 1})[:-5]], **common) is None  # truncated
    assert fast_path([line({"id": 1}, emitted_at=1.5)], **common) is None


def test_unselected_fields_are_ignored_and_missing_parts_are_null() -> None:
    columns = {"id": ColumnType.BIGINT}
    lines = [line({"id": 1, "other": {"x": [1]}}), line(None), line({"id": 3}, emitted_at=None, namespace="n")]
    built = fast_path(lines, columns=columns, meta_base={}, generation_id=0, with_seq=False, discover=False)
    assert built is not None
    batch, _ = built
    assert batch.column("id").to_pylist() == [1, None, 3]
    assert [t.timestamp() for t in batch.column("_airbyte_extracted_at").to_pylist()] == [
        1_700_000_000,
        1_700_000_000,
        0,
    ]


def test_random_uuids() -> None:
    ids = random_uuids(10_000).to_pylist()
    assert len(set(ids)) == 10_000 and all(str(uuid.UUID(i)) == i and uuid.UUID(i).version == 4 for i in ids)
    assert random_uuids(0).to_pylist() == []
