"""Helpers shared by the connector tests (src/dalgo/ingestion/tests/test_connectors_*.py)."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

EDGY_PATH = Path(__file__).parent / "edgy"
EDGY_VERSION = tomllib.loads((EDGY_PATH / "pyproject.toml").read_text())["project"]["version"]  # what pip installs


class LogSink:
    """An on_log callback that keeps everything it was given."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    def __call__(self, level: str, text: str) -> None:
        self.lines.append((level, text))

    @property
    def text(self) -> str:
        return "\n".join(f"{level} {text}" for level, text in self.lines)


def processes_with_env(marker: str) -> list[int]:
    """Live (non-zombie) processes whose environment contains `marker` (read from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "stat").read_text().split(")")[-1].split()[0] == "Z":
                continue
            if marker.encode() in (entry / "environ").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return [pid for pid in found if pid != os.getpid()]
