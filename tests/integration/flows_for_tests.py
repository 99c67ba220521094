"""Tiny flows the orchestrator tests deploy by module entrypoint (no Django needed)."""

from __future__ import annotations

import time

from prefect import flow, get_run_logger, task


@task
def shout(word: str) -> str:
    get_run_logger().info("task says %s", word)
    return word.upper()


@flow
def hello(name: str = "world", lines: int = 3) -> str:
    logger = get_run_logger()
    for i in range(lines):
        logger.info("hello %s line %d", name, i)
    result = shout(name)
    logger.warning("done with %s", result)
    return result


@flow
def sleepy(seconds: float = 120.0) -> None:
    get_run_logger().info("sleeping %.0fs", seconds)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(0.2)


@flow
def dies_before_recording(run_id: str) -> None:
    """Like a flow whose worker died: it never records the end of its run."""
    raise RuntimeError(f"worker lost while running {run_id}")
