"""Resident memory of a process tree, read from /proc (Linux): shared by the benchmarks.

`tree_rss_mb(pid)` is VmRSS of the process and all its descendants; `RssSampler` samples it from a
thread (every 50 ms by default) and keeps the peak of the whole tree and of the root process alone.
"""

from __future__ import annotations

import threading
from pathlib import Path


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return 0


def _tree(root: int) -> list[int]:
    """root and its descendants (a web server's workers, a connector and what it spawns)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def tree_rss_mb(root: int) -> float:
    return sum(_rss_kb(pid) for pid in _tree(root)) / 1024


class RssSampler(threading.Thread):
    """Peak VmRSS of `root` and its descendants (`peak_mb`) and of `root` alone (`peak_root_mb`)."""

    def __init__(self, root: int, interval: float = 0.05):
        super().__init__(daemon=True)
        self.root, self.interval = root, interval
        self.peak_mb = self.peak_root_mb = 0.0
        self._stop_event = threading.Event()

    def sample(self) -> None:
        self.peak_mb = max(self.peak_mb, tree_rss_mb(self.root))
        self.peak_root_mb = max(self.peak_root_mb, _rss_kb(self.root) / 1024)

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.sample()
            self._stop_event.wait(self.interval)

    def stop(self) -> float:
        self._stop_event.set()
        self.join()
        self.sample()
        return self.peak_mb
