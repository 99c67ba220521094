"""Streaming responses under ASGI."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

from asgiref.sync import sync_to_async


async def async_chunks(chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    """Pull a blocking iterator one chunk at a time in a worker thread, so a streaming response is
    sent as it is produced (Django reads a synchronous iterator whole before sending under ASGI)."""

    def next_chunk() -> bytes | None:
        return next(chunks, None)

    step = sync_to_async(next_chunk, thread_sensitive=False)
    try:
        while (chunk := await step()) is not None:
            yield chunk
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            await sync_to_async(close, thread_sensitive=False)()


def rechunk(chunks: Iterator[bytes], *, size: int = 1 << 20) -> Iterator[bytes]:
    """Join small pieces (a driver may hand over one row at a time) into chunks of about `size`
    bytes: each chunk costs a thread hop and a write under ASGI."""
    pending: list[bytes] = []
    buffered = 0
    for chunk in chunks:
        pending.append(chunk)
        buffered += len(chunk)
        if buffered >= size:
            yield b"".join(pending)
            pending, buffered = [], 0
    if pending:
        yield b"".join(pending)
