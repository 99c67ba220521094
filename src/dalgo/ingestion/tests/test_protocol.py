"""Framing a connector's stdout: whatever the chunk boundaries, the same lines come out in order, and
runs of one stream's RECORD lines (CDK layouts) come out whole, counted, unparsed."""

from __future__ import annotations

import orjson
import pytest

from dalgo.ingestion.protocol import RawRecords, frames


def record(stream: str, n: int) -> bytes:
    return orjson.dumps({"type": "RECORD", "record": {"stream": stream, "data": {"id": n}, "emitted_at": 1}}) + b"\n"


STATE = b'{"type":"STATE","state":{"type":"LEGACY","data":{"at":2}}}\n'
SPACED = b'{"type": "RECORD", "record": {"stream": "a", "data": {"id": 9}, "emitted_at": 1}}\n'
OUTPUT = b"".join(
    [
        record("a", 1),
        record("a", 2),
        record("a", 3),
        STATE,
        record("b", 4),
        record("a", 5),
        SPACED,  # the other CDK layout: a run of its own
        b"\n",  # a blank line
        record("caf\u00e9", 6),  # not ASCII: left to the line parser
        b'{"type":"RECORD","record":{"stream":"we\\"ird","data":{},"emitted_at":1}}\n',  # an escape: too
        b'{"type":"LOG","log":{"level":"INFO","message":"x"}}\n',
        record("a", 7),
        record("a", 8)[:-1],  # the last line has no newline
    ]
)


def framed(chunks: list[bytes], **options: bool) -> list[tuple[str, bytes, int] | bytes]:
    return [
        (item.stream, item.block, item.count) if isinstance(item, RawRecords) else item
        for item in frames(chunks, **options)
    ]


def test_runs_of_one_stream_come_out_whole_and_counted() -> None:
    out = framed([OUTPUT])
    assert out == [
        ("a", record("a", 1) + record("a", 2) + record("a", 3), 3),
        STATE,
        ("b", record("b", 4), 1),
        ("a", record("a", 5), 1),
        ("a", SPACED, 1),
        b"\n",
        record("caf\u00e9", 6),
        b'{"type":"RECORD","record":{"stream":"we\\"ird","data":{},"emitted_at":1}}\n',
        b'{"type":"LOG","log":{"level":"INFO","message":"x"}}\n',
        ("a", record("a", 7), 1),
        ("a", record("a", 8), 1),  # the unterminated last line, at the end, with a newline added
    ]


@pytest.mark.parametrize("size", [1, 2, 7, 50, 64, 333, len(OUTPUT) - 1])
def test_any_chunking_gives_the_same_lines_in_order(size: int) -> None:
    chunks = [OUTPUT[i : i + size] for i in range(0, len(OUTPUT), size)]
    whole = framed([OUTPUT])
    out = framed(chunks)
    # Chunk boundaries may cut a run in two, never a line: joined back, runs are the same.
    assert b"".join(i[1] if isinstance(i, tuple) else i for i in out) == OUTPUT + b"\n"
    assert sum(i[2] for i in out if isinstance(i, tuple)) == sum(i[2] for i in whole if isinstance(i, tuple)) == 8
    assert [i for i in out if not isinstance(i, tuple)] == [i for i in whole if not isinstance(i, tuple)]
    for item in out:
        if isinstance(item, tuple):
            assert item[1].endswith(b"\n") and item[1].count(b"\n") == item[2]


def test_without_routing_every_line_comes_out_alone() -> None:
    out = framed([OUTPUT[:100], OUTPUT[100:]], route_records=False)
    assert all(isinstance(i, bytes) and i.count(b"\n") == 1 for i in out)
    assert b"".join(out) == OUTPUT + b"\n"  # type: ignore[arg-type]


def test_a_huge_line_across_many_chunks_is_joined_once() -> None:
    big = orjson.dumps({"type": "RECORD", "record": {"stream": "a", "data": {"t": "x" * 1_000_000}}}) + b"\n"
    chunks = [big[i : i + 4096] for i in range(0, len(big), 4096)] + [record("a", 1)]
    out = framed(chunks)
    assert out == [("a", big, 1), ("a", record("a", 1), 1)]


def test_crlf_line_ends_keep_runs_and_counts() -> None:
    lines = [record("a", i)[:-1] + b"\r\n" for i in range(3)]
    assert framed([b"".join(lines) + STATE]) == [("a", b"".join(lines), 3), STATE]
