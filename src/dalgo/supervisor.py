"""Embedded mode: run every Dalgo process as a child of one command, with merged, prefixed logs.

`dalgo up` builds the components with `embedded_components()` and hands them to `Supervisor`:
each child starts in its own process group, in dependency order, and the next one starts only once
the previous one answers its readiness probe. Ctrl-C / SIGTERM stops every child (SIGTERM to the
group, SIGKILL after a timeout, including grandchildren such as Prefect flow-run processes); if a
child dies on its own, the supervisor logs it and stops everything with a non-zero exit code.

Imports no Django: this module only starts processes and reads DALGO_* environment variables.
`tests/stack.py` reuses the Prefect pieces for integration tests.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TextIO
from urllib.parse import urlparse

import httpx

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "0.0.0.0"}  # noqa: S104 - recognised, not bound
PREFECT_WORKER_HEARTBEAT_SECONDS = 10
COMPONENT_NAMES = ("prefect-server", "orchestrator", "prefect-worker", "celery-worker", "celery-beat", "web")
COLOURS = {
    "web": "32",
    "celery-worker": "36",
    "celery-beat": "34",
    "orchestrator": "35",
    "prefect-server": "33",
    "prefect-worker": "93",
    "dalgo": "1",
}

Probe = Callable[[], bool]


@dataclass
class Component:
    name: str
    command: list[str]
    env: dict[str, str] = field(default_factory=dict)  # added to the supervisor's environment
    ready: Probe | None = None  # None: ready as soon as it has started
    ready_timeout: float = 60.0
    cwd: str | None = None
    after: tuple[str, ...] = ()  # components that must be ready before this one starts
    ready_line: str | None = None  # and, if set, a line its output must have shown first


# ------------------------------------------------------------------------------ component recipes
def python_module(*args: str) -> list[str]:
    """Run a module with the interpreter of this environment (the same venv as `dalgo`)."""
    return [sys.executable, "-m", *args]


logging.getLogger("httpx").setLevel(logging.WARNING)  # readiness probes would log every poll


def http_ok(url: str, *, accept: Callable[[httpx.Response], bool] | None = None, timeout: float = 3.0) -> Probe:
    def probe() -> bool:
        try:
            response = httpx.get(url, timeout=timeout)
        except httpx.HTTPError:
            return False
        return accept(response) if accept else response.status_code == 200

    return probe


def telemetry_off_env() -> dict[str, str]:
    return {"DO_NOT_TRACK": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}


def prefect_home_env(home: Path) -> dict[str, str]:
    home.mkdir(parents=True, exist_ok=True)
    return {"PREFECT_HOME": str(home), **telemetry_off_env()}


def prefect_server_component(*, home: Path, host: str, port: int, ui: bool = True) -> Component:
    """A local Prefect server with its SQLite database under `home`."""
    env = {
        **prefect_home_env(home),
        "PREFECT_API_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{home / 'prefect.db'}",
        "PREFECT_UI_ENABLED": "true" if ui else "false",
        "PREFECT_SERVER_UI_ENABLED": "true" if ui else "false",
        "PREFECT_SERVER_ALLOW_EPHEMERAL_MODE": "false",
        "PREFECT_API_URL": f"http://{host}:{port}/api",
        "PREFECT_UI_API_URL": f"http://{host}:{port}/api",
    }
    return Component(
        name="prefect-server",
        command=python_module("prefect", "server", "start", "--host", host, "--port", str(port)),
        env=env,
        ready=http_ok(f"http://{host}:{port}/api/health"),
        ready_timeout=120.0,
    )


def orchestrator_component(*, prefect_api_url: str, host: str, port: int, work_pool: str, home: Path) -> Component:
    return Component(
        name="orchestrator",
        command=python_module(
            "uvicorn", "dalgo.orchestrator.app:app", "--host", host, "--port", str(port), "--no-access-log"
        ),
        env={
            **prefect_home_env(home),
            "DALGO_PREFECT_API_URL": prefect_api_url,
            "DALGO_PREFECT_WORK_POOL": work_pool,
            "PREFECT_API_URL": prefect_api_url,
        },
        ready=http_ok(f"http://{host}:{port}/health"),
        ready_timeout=60.0,
        after=("prefect-server",),
    )


def prefect_worker_env(*, prefect_api_url: str, home: Path) -> dict[str, str]:
    """Polling every second: 3.4-4.2 s from trigger to start, against 6-10 s with the defaults.

    Deployments run flows with `python -m prefect.engine` (see dalgo.orchestrator.prefect_ops), so
    this environment's bin directory goes first on PATH."""
    bin_dir = str(Path(sys.executable).parent)
    return {
        "PATH": os.pathsep.join([bin_dir, os.environ.get("PATH", "")]),
        **prefect_home_env(home),
        "PREFECT_API_URL": prefect_api_url,
        "PREFECT_WORKER_QUERY_SECONDS": "1",
        "PREFECT_WORKER_PREFETCH_SECONDS": "2",
        "PREFECT_WORKER_HEARTBEAT_SECONDS": str(PREFECT_WORKER_HEARTBEAT_SECONDS),
        "PREFECT_LOGGING_TO_API_BATCH_INTERVAL": "0.5",
        "DJANGO_SETTINGS_MODULE": "dalgo.settings",
    }


def orchestrator_work_pool_ok(orchestrator_url: str) -> Probe:
    def accept(response: httpx.Response) -> bool:
        return response.status_code == 200 and response.json().get("work_pool", {}).get("status") == "ok"

    return http_ok(f"{orchestrator_url}/health", accept=accept)


def prefect_worker_component(
    *, prefect_api_url: str, work_pool: str, home: Path, orchestrator_url: str, name: str = "dalgo-worker"
) -> Component:
    return Component(
        name="prefect-worker",
        command=python_module("prefect", "worker", "start", "--pool", work_pool, "--type", "process", "--name", name),
        env=prefect_worker_env(prefect_api_url=prefect_api_url, home=home),
        # The line proves this very process registered (a worker of the same name that stopped a few
        # seconds ago still counts as online); the probe proves the orchestrator sees it.
        ready_line=f"Worker '{name}' started",
        ready=orchestrator_work_pool_ok(orchestrator_url),
        ready_timeout=60.0,
        after=("prefect-server", "orchestrator"),
    )


def _port_of(url: str, default: int) -> int:
    return urlparse(url).port or default


def _is_local(url: str) -> bool:
    return (urlparse(url).hostname or "") in LOCAL_HOSTS


def bytecode_cache_apply(env: dict[str, str] | os._Environ[str], cache_dir: Path) -> None:
    """Let children cache bytecode under `cache_dir` even where PYTHONDONTWRITEBYTECODE=1 is set
    (it is in this repository's sandbox): every flow run is a new Python process, and compiling
    Prefect and Django from source cost ~3 s per run (prefect import 2.75 s -> 1.2 s,
    django.setup() 2.0 s -> 0.3 s, measured). An explicit PYTHONPYCACHEPREFIX is left alone."""
    if env.get("PYTHONPYCACHEPREFIX"):
        return
    cache_dir.mkdir(parents=True, exist_ok=True)
    env["PYTHONPYCACHEPREFIX"] = str(cache_dir)
    env.pop("PYTHONDONTWRITEBYTECODE", None)


def embedded_env() -> dict[str, str]:
    """Pin the settings every child must agree on (an absolute data directory above all: Prefect
    runs flows from a temporary working directory)."""
    data_dir = Path(os.environ.get("DALGO_DATA_DIR") or Path.cwd() / ".dalgo").resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {"DALGO_DATA_DIR": str(data_dir), "DJANGO_SETTINGS_MODULE": "dalgo.settings", **telemetry_off_env()}
    env["DALGO_PREFECT_API_URL"] = os.environ.get("DALGO_PREFECT_API_URL") or "http://127.0.0.1:4200/api"
    if not os.environ.get("DALGO_ORCHESTRATOR_URL"):
        env["DALGO_ORCHESTRATOR_URL"] = f"http://127.0.0.1:{os.environ.get('DALGO_ORCHESTRATOR_PORT') or 8001}"
    env["DALGO_PREFECT_WORK_POOL"] = os.environ.get("DALGO_PREFECT_WORK_POOL") or "dalgo"
    env["DALGO_CUSTOM_CONNECTORS"] = os.environ.get("DALGO_CUSTOM_CONNECTORS") or "true"  # one machine, its own admins
    return env


def embedded_components(only: set[str] | None = None) -> list[Component]:
    """Every process of embedded mode, in start order: the Prefect server first (slowest, ~15 s),
    Celery and web alongside it, then the orchestrator and the worker once Prefect answers.
    Call after `os.environ.update(embedded_env())`."""
    data_dir = Path(os.environ["DALGO_DATA_DIR"])
    prefect_home = data_dir / "prefect"
    prefect_api_url = os.environ["DALGO_PREFECT_API_URL"].rstrip("/")
    orchestrator_url = os.environ.get("DALGO_ORCHESTRATOR_URL", "http://127.0.0.1:8001").rstrip("/")
    work_pool = os.environ.get("DALGO_PREFECT_WORK_POOL", "dalgo")
    web_host = os.environ.get("DALGO_WEB_HOST", "127.0.0.1")
    web_port = int(os.environ.get("DALGO_WEB_PORT") or 8000)
    probe_host = "127.0.0.1" if web_host in {"0.0.0.0", "::"} else web_host  # noqa: S104
    beat_dir = data_dir / "celery"
    beat_dir.mkdir(parents=True, exist_ok=True)

    components: list[Component] = []
    if _is_local(prefect_api_url):
        parsed = urlparse(prefect_api_url)
        components.append(
            prefect_server_component(
                home=prefect_home, host=parsed.hostname or "127.0.0.1", port=_port_of(prefect_api_url, 4200)
            )
        )
    components.append(
        Component(
            name="celery-worker",
            command=python_module(
                "celery",
                "-A",
                "dalgo.celery",
                "worker",
                "--pool",
                "threads",
                "-c",
                "4",
                "--loglevel",
                "INFO",
                "-n",
                "dalgo@%h",
            ),
        )
    )
    components.append(
        Component(
            name="celery-beat",
            command=python_module(
                "celery",
                "-A",
                "dalgo.celery",
                "beat",
                "--loglevel",
                "INFO",
                "--schedule",
                str(beat_dir / "beat-schedule"),
            ),
        )
    )
    components.append(
        Component(
            name="web",
            command=python_module(
                "uvicorn",
                "dalgo.asgi:application",
                "--host",
                web_host,
                "--port",
                str(web_port),
                "--no-access-log",
                "--workers",
                os.environ.get("DALGO_WEB_WORKERS") or "1",
            ),
            # Any answer means web is serving; /health itself says 503 until every part is up.
            ready=http_ok(
                f"http://{probe_host}:{web_port}/health", accept=lambda r: r.status_code in (200, 503), timeout=10.0
            ),
            ready_timeout=60.0,
        )
    )
    if _is_local(orchestrator_url):
        components.append(
            orchestrator_component(
                prefect_api_url=prefect_api_url,
                host=urlparse(orchestrator_url).hostname or "127.0.0.1",
                port=_port_of(orchestrator_url, 8001),
                work_pool=work_pool,
                home=prefect_home,
            )
        )
    components.append(
        prefect_worker_component(
            prefect_api_url=prefect_api_url, work_pool=work_pool, home=prefect_home, orchestrator_url=orchestrator_url
        )
    )
    if only:
        components = [c for c in components if c.name in only]
    return components


# ------------------------------------------------------------------------------------- supervisor
class ChildDied(Exception):
    def __init__(self, name: str, code: int | None):
        super().__init__(f"{name} exited with code {code}")
        self.name = name
        self.code = code


def _descendants(pid: int) -> set[int]:
    """All processes below `pid` (Linux /proc; empty elsewhere)."""
    children: dict[int, list[int]] = {}
    proc = Path("/proc")
    if not proc.exists():
        return set()
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found: set[int] = set()
    stack = [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


def _signal_quietly(pid: int, sig: int, *, group: bool) -> None:
    try:
        if group:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie is as good as gone
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


class Supervisor:
    """Start components in order (waiting for each to be ready), watch them, stop them all."""

    def __init__(
        self,
        components: list[Component],
        *,
        output: TextIO | IO[str] | None = None,
        colour: bool | None = None,
        stop_timeout: float = 10.0,
        base_env: dict[str, str] | None = None,
    ):
        self.components = components
        self.output = output if output is not None else sys.stdout
        self.colour = colour if colour is not None else bool(getattr(self.output, "isatty", lambda: False)())
        self.stop_timeout = stop_timeout
        self.base_env = dict(base_env if base_env is not None else os.environ)
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.stopping = threading.Event()
        self.started_at: dict[str, float] = {}
        self.ready_after: dict[str, float] = {}
        self.lines_seen: set[str] = set()
        self._write_lock = threading.Lock()
        self._readers: list[threading.Thread] = []
        self._width = max([len(c.name) for c in components] + [len("dalgo")])

    # -- output
    def log(self, name: str, line: str) -> None:
        prefix = f"{name:<{self._width}} |"
        if self.colour:
            prefix = f"\033[{COLOURS.get(name, '0')}m{prefix}\033[0m"
        with self._write_lock:
            self.output.write(f"{prefix} {line}\n")
            self.output.flush()

    def _pump(self, component: Component, stream: IO[bytes]) -> None:
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip()
            if component.ready_line and component.ready_line in line:
                self.lines_seen.add(component.name)
            self.log(component.name, line)
        stream.close()

    # -- lifecycle
    def start_one(self, component: Component) -> subprocess.Popen[bytes]:
        env = {**self.base_env, **component.env, "PYTHONUNBUFFERED": "1"}
        process = subprocess.Popen(
            component.command,
            env=env,
            cwd=component.cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: we signal it, not the terminal
        )
        self.processes[component.name] = process
        self.started_at[component.name] = time.monotonic()
        reader = threading.Thread(target=self._pump, args=(component, process.stdout), daemon=True)
        reader.start()
        self._readers.append(reader)
        self.log("dalgo", f"started {component.name} (pid {process.pid})")
        return process

    def check_children(self) -> None:
        for name, process in self.processes.items():
            code = process.poll()
            if code is not None:
                raise ChildDied(name, code)

    def wait_ready(self, component: Component) -> float:
        """Block until `component` answers its probe; seconds from its start to ready."""
        if component.name in self.ready_after:
            return self.ready_after[component.name]
        started = self.started_at[component.name]
        deadline = time.monotonic() + component.ready_timeout
        while not self.stopping.is_set():
            self.check_children()
            line_ok = component.ready_line is None or component.name in self.lines_seen
            if line_ok and (component.ready is None or component.ready()):
                elapsed = 0.0 if component.ready is None else time.monotonic() - started
                self.ready_after[component.name] = elapsed
                if component.ready is not None:
                    self.log("dalgo", f"{component.name} ready in {elapsed:.1f}s")
                return elapsed
            if time.monotonic() > deadline:
                raise TimeoutError(f"{component.name} not ready after {component.ready_timeout:.0f}s")
            self.stopping.wait(0.25)
        return time.monotonic() - started

    def start(self) -> dict[str, float]:
        """Start components in order; one waits only for the components named in its `after`, so
        independent ones start together. Returns seconds from each start to ready."""
        by_name = {c.name: c for c in self.components}
        for component in self.components:
            for dependency in component.after:
                if self.stopping.is_set():
                    return dict(self.ready_after)
                if dependency in by_name:
                    self.wait_ready(by_name[dependency])
            if self.stopping.is_set():
                return dict(self.ready_after)
            self.start_one(component)
        for component in self.components:
            if self.stopping.is_set():
                break
            self.wait_ready(component)
        return dict(self.ready_after)

    def watch(self) -> None:
        """Block until asked to stop (raises ChildDied if a child exits on its own)."""
        while not self.stopping.is_set():
            self.check_children()
            self.stopping.wait(0.5)

    def stop(self) -> None:
        """Stop children in reverse start order: SIGTERM to each group, SIGKILL after the timeout."""
        self.stopping.set()
        running = [(n, p) for n, p in reversed(list(self.processes.items())) if p.poll() is None]
        # Prefect runs flows in process groups of their own: remember every descendant now.
        stragglers = {n: _descendants(p.pid) for n, p in running}
        # One at a time, dependents first: the worker goes before the Prefect server it reports to.
        for name, process in running:
            self.log("dalgo", f"stopping {name} (pid {process.pid})")
            _signal_quietly(process.pid, signal.SIGTERM, group=True)
            try:
                process.wait(timeout=self.stop_timeout)
            except subprocess.TimeoutExpired:
                self.log("dalgo", f"{name} did not stop in {self.stop_timeout:.0f}s: killing it")
                _signal_quietly(process.pid, signal.SIGKILL, group=True)
                process.wait(timeout=5)
            _signal_quietly(process.pid, signal.SIGKILL, group=True)  # leftovers in its group
        for pids in stragglers.values():
            for pid in pids:
                if _alive(pid):
                    _signal_quietly(pid, signal.SIGTERM, group=False)
        grace = time.monotonic() + 3
        for pids in stragglers.values():
            for pid in pids:
                while _alive(pid) and time.monotonic() < grace:
                    time.sleep(0.05)
                if _alive(pid):
                    _signal_quietly(pid, signal.SIGKILL, group=False)
        for reader in self._readers:
            reader.join(timeout=2)

    def run(self, on_ready: Callable[[dict[str, float]], None] | None = None) -> int:
        """Foreground mode for `dalgo up`: signals stop everything; returns the exit code."""

        def request_stop(signum: int, _frame: object) -> None:
            if not self.stopping.is_set():
                self.log("dalgo", f"received {signal.Signals(signum).name}: stopping")
            self.stopping.set()

        previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        code = 0
        try:
            timings = self.start()
            if not self.stopping.is_set() and on_ready is not None:
                on_ready(timings)
            self.watch()
        except ChildDied as exc:
            self.log("dalgo", f"{exc}: stopping everything")
            code = 1
        except TimeoutError as exc:
            self.log("dalgo", f"{exc}: stopping everything")
            code = 1
        finally:
            self.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        self.log("dalgo", "all processes stopped")
        return code
