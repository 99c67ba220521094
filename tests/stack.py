"""A real Prefect stack for a pytest session: Prefect server, orchestrator, process worker.

    stack = PrefectStack(extra_env={"DALGO_DATABASE_URL": ..., "DALGO_DATA_DIR": ...})
    stack.start()        # ~15-20 s: the Prefect server dominates
    ...                  # stack.orchestrator_url, stack.prefect_api_url
    stack.stop()

Each stack has its own temporary PREFECT_HOME (SQLite), free ports and work pool, so it never
touches a developer's `dalgo up`. The worker runs flows in this same virtualenv with the repository
root on PYTHONPATH, so test-only flows (`tests.integration.flows_for_tests.*`) import too. The
processes' merged output goes to `stack.log_path`; `stack.log_tail()` helps explain a failure.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import time
from pathlib import Path

from dalgo.supervisor import (
    Supervisor,
    bytecode_cache_apply,
    orchestrator_component,
    prefect_server_component,
    prefect_worker_component,
    telemetry_off_env,
)

REPO_ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PrefectStack:
    def __init__(self, *, extra_env: dict[str, str] | None = None, work_pool: str = "dalgo-test"):
        self.root = Path(tempfile.mkdtemp(prefix="dalgo-stack-"))
        self.prefect_home = self.root / "prefect"
        self.prefect_port = free_port()
        self.orchestrator_port = free_port()
        self.prefect_api_url = f"http://127.0.0.1:{self.prefect_port}/api"
        self.orchestrator_url = f"http://127.0.0.1:{self.orchestrator_port}"
        self.work_pool = work_pool
        self.log_path = self.root / "stack.log"
        pythonpath = os.pathsep.join(p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH", "")) if p)
        self.env = {
            **os.environ,
            **telemetry_off_env(),
            "PYTHONPATH": pythonpath,
            "DJANGO_SETTINGS_MODULE": "dalgo.settings",
            "DALGO_PREFECT_API_URL": self.prefect_api_url,
            "DALGO_ORCHESTRATOR_URL": self.orchestrator_url,
            "DALGO_PREFECT_WORK_POOL": work_pool,
            **(extra_env or {}),
        }
        self.env.pop("PREFECT_API_KEY", None)
        # Shared across sessions: the worker starts a Python process per flow run.
        bytecode_cache_apply(self.env, Path(tempfile.gettempdir()) / "dalgo-test-pycache")
        self.timings: dict[str, float] = {}
        self._log = None
        self._supervisor: Supervisor | None = None

    def start(self) -> PrefectStack:
        self._log = open(self.log_path, "w", buffering=1)
        components = [
            prefect_server_component(home=self.prefect_home, host="127.0.0.1", port=self.prefect_port, ui=False),
            orchestrator_component(
                prefect_api_url=self.prefect_api_url,
                host="127.0.0.1",
                port=self.orchestrator_port,
                work_pool=self.work_pool,
                home=self.prefect_home,
            ),
            prefect_worker_component(
                prefect_api_url=self.prefect_api_url,
                work_pool=self.work_pool,
                home=self.prefect_home,
                orchestrator_url=self.orchestrator_url,
                name="dalgo-test-worker",
            ),
        ]
        self._supervisor = Supervisor(components, output=self._log, colour=False, base_env=self.env, stop_timeout=8.0)
        started = time.monotonic()
        try:
            self.timings = self._supervisor.start()
        except BaseException as exc:
            tail = self.log_tail()
            self.stop()
            raise RuntimeError(f"the Prefect test stack did not start: {exc}\n--- stack log ---\n{tail}") from exc
        self.timings["total"] = time.monotonic() - started
        return self

    def log_tail(self, lines: int = 80) -> str:
        try:
            return "\n".join(self.log_path.read_text().splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self._supervisor is not None:
            self._supervisor.stop()
            self._supervisor = None
        if self._log is not None:
            self._log.close()
            self._log = None
        if not os.environ.get("DALGO_KEEP_STACK"):
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PrefectStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
