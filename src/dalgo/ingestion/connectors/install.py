"""Installs connectors on first use, each into its own uv virtualenv under DALGO_DATA_DIR/connectors.

`<root>/<package>-<version>/` for a PyPI package, `<root>/custom-<hash>/` for a custom spec (any pip
requirement string or local path). An env is complete when it holds `dalgo-connector.json` (the
marker naming the command that runs the connector); it is built in a temporary sibling directory and
renamed into place, so a failed or interrupted install leaves nothing half-installed. Concurrent first
uses (threads or processes) serialise on an `flock` beside the env: the second waits, then reuses.
"""

from __future__ import annotations

import configparser
import contextlib
import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from dalgo.ingestion.connectors.errors import ConnectorInstallFailed

MARKER = "dalgo-connector.json"
DEFAULT_PYTHON = "3.11"
INSTALL_TIMEOUT_SECONDS = 900
# Connectors whose pinned dependencies break on 3.11, measured here: airbyte-source-avni 0.1.1 pins
# airbyte-cdk<1, which resolves to 0.90.0 whose dataclasses fail to import on 3.11 (mutable default).
CONNECTOR_PYTHON = {"airbyte-source-avni": "3.10"}
_PACKAGE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_VERSION_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.+!_-]*$")
_SKIP_DIRS = {"__pycache__", "build", "dist", ".git", ".venv", ".mypy_cache", ".pytest_cache", ".ruff_cache"}


@dataclass(frozen=True)
class ConnectorEnv:
    """An installed connector: its virtualenv and the argv prefix that runs it."""

    path: Path
    package: str
    version: str
    command: tuple[str, ...]  # absolute argv prefix, e.g. (<env>/bin/python, <env>/bin/source-faker)
    install_seconds: float | None = field(default=None, compare=False)  # set when this call installed

    @property
    def key(self) -> str:
        return self.path.name


def connectors_root(data_dir: Path | None = None) -> Path:
    if data_dir is None:
        from dalgo.settings.env import data_dir as settings_data_dir

        data_dir = settings_data_dir()
    root = Path(data_dir).resolve() / "connectors"  # absolute: connectors run from a private temp dir
    root.mkdir(parents=True, exist_ok=True)
    return root


def uv_command() -> list[str]:
    """The uv on PATH, else the one installed as a module of this interpreter."""
    found = shutil.which("uv")
    return [found] if found else [sys.executable, "-m", "uv"]


def connector_env(
    package: str, version: str, *, data_dir: Path | None = None, python: str | None = None
) -> ConnectorEnv:
    """The env of `package==version`, installed on first use."""
    if not _PACKAGE_RE.match(package) or not _VERSION_RE.match(version):
        raise ConnectorInstallFailed(f"Not a valid package and version: {package!r} {version!r}")
    return _ensure(
        connectors_root(data_dir) / f"{package}-{version}",
        requirement=f"{package}=={version}",
        package=package,
        version=version,
        python=python or CONNECTOR_PYTHON.get(package),
    )


def connector_env_custom(spec: str, *, data_dir: Path | None = None, python: str | None = None) -> ConnectorEnv:
    """The env of a custom connector: a pip requirement string or a local path (reinstalled when any
    of its files' mtime changes)."""
    spec = spec.strip()
    if not spec:
        raise ConnectorInstallFailed("The custom connector is empty.")
    digest = hashlib.sha256(spec.encode()).hexdigest()[:16]
    local = Path(spec).expanduser()
    if local.exists():
        local = local.resolve()
        stamp = hashlib.sha256(str(_tree_mtime(local)).encode()).hexdigest()[:8]
        name, requirement, package, version = f"custom-{digest}-{stamp}", str(local), local.name, f"local-{stamp}"
    else:
        if spec.startswith("-"):
            raise ConnectorInstallFailed("A custom connector must be a requirement or a path, not an option.")
        name, requirement, package, version = f"custom-{digest}", spec, spec, "custom"
    return _ensure(
        connectors_root(data_dir) / name, requirement=requirement, package=package, version=version, python=python
    )


def _tree_mtime(path: Path) -> int:
    if path.is_file():
        return path.stat().st_mtime_ns
    latest = path.stat().st_mtime_ns
    for dirpath, dirnames, filenames in os.walk(path):
        dirnames[:] = [d for d in dirnames if d not in _SKIP_DIRS and not d.endswith(".egg-info")]
        for name in filenames:
            with contextlib.suppress(OSError):
                latest = max(latest, (Path(dirpath) / name).stat().st_mtime_ns)
    return latest


@contextlib.contextmanager
def _locked(lock_path: Path) -> Iterator[None]:
    with open(lock_path, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _load(path: Path, *, package: str, version: str) -> ConnectorEnv | None:
    try:
        marker = orjson.loads((path / MARKER).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    command = tuple(str(path / part) if part.startswith("bin/") else part for part in marker["command"])
    return ConnectorEnv(path=path, package=marker.get("package", package), version=version, command=command)


def _ensure(final: Path, *, requirement: str, package: str, version: str, python: str | None) -> ConnectorEnv:
    ready = _load(final, package=package, version=version)
    if ready:
        return ready
    with _locked(final.parent / f".{final.name}.lock"):
        ready = _load(final, package=package, version=version)  # another process installed it meanwhile
        if ready:
            return ready
        if final.exists():  # no marker: a leftover of a crash before rename cannot happen; be safe anyway
            shutil.rmtree(final, ignore_errors=True)
        started = time.monotonic()
        temp = Path(tempfile.mkdtemp(prefix=f".{final.name}.tmp-", dir=final.parent))
        try:
            relative = _install(temp, requirement=requirement, package=package, python=python)
            (temp / MARKER).write_bytes(
                orjson.dumps({"package": package, "version": version, "requirement": requirement, "command": relative})
            )
            os.rename(temp, final)
        except BaseException:
            shutil.rmtree(temp, ignore_errors=True)
            raise
    env = _load(final, package=package, version=version)
    assert env is not None
    return ConnectorEnv(
        path=env.path,
        package=env.package,
        version=env.version,
        command=env.command,
        install_seconds=time.monotonic() - started,
    )


def _run_uv(args: list[str], *, what: str) -> None:
    environment = {**os.environ, "UV_NO_PROGRESS": "1", "DO_NOT_TRACK": "1"}
    environment.pop("VIRTUAL_ENV", None)
    try:
        done = subprocess.run(
            [*uv_command(), *args],
            capture_output=True,
            text=True,
            errors="replace",
            timeout=INSTALL_TIMEOUT_SECONDS,
            env=environment,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise ConnectorInstallFailed(f"Installing {what} took longer than {INSTALL_TIMEOUT_SECONDS} s.") from exc
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-25:])
        raise ConnectorInstallFailed(f"Could not install {what}:\n{tail}", stderr_tail=tail)


def _install(venv: Path, *, requirement: str, package: str, python: str | None) -> list[str]:
    """Create the venv (relocatable, so it survives the rename) and install; return the env-relative
    command that runs the connector."""
    interpreter = _resolve_python(python or os.environ.get("DALGO_CONNECTOR_PYTHON") or DEFAULT_PYTHON)
    _run_uv(["venv", "--quiet", "--relocatable", "--python", interpreter, str(venv)], what=package)
    # Bytecode compiled once here: connectors run with PYTHONDONTWRITEBYTECODE, and compiling from
    # source on every spec/check/discover/read doubled their start-up (3.1 s against 1.55 s for faker).
    _run_uv(["pip", "install", "--compile-bytecode", "--python", str(venv / "bin" / "python"), requirement],
            what=requirement)  # fmt: skip
    return _entry_point(venv, package=package)


def _resolve_python(request: str) -> str:
    """A path as is; a version through uv (no downloads), else a pyenv install of that version."""
    if os.sep in request:
        return request
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        found = subprocess.run(
            [*uv_command(), "python", "find", request],
            capture_output=True,
            text=True,
            timeout=30,
            env={**os.environ, "UV_PYTHON_DOWNLOADS": "never"},
            check=False,
        )
        if found.returncode == 0 and found.stdout.strip():
            return found.stdout.strip()
    pyenv_root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    candidates = sorted(pyenv_root.glob(f"versions/{request}.*/bin/python{request}"))
    return str(candidates[-1]) if candidates else request


def _entry_point(venv: Path, *, package: str) -> list[str]:
    site = next(iter(sorted(venv.glob("lib/python*/site-packages"))), None)
    if site is None:
        raise ConnectorInstallFailed(f"{package}: the virtualenv has no site-packages.")
    wanted = _normalise(package)
    scripts: list[tuple[int, str]] = []
    for entry_points in site.glob("*.dist-info/entry_points.txt"):
        parser = configparser.ConfigParser(interpolation=None, delimiters=("=",))
        parser.optionxform = str  # type: ignore[assignment,method-assign]
        with contextlib.suppress(configparser.Error, OSError):
            parser.read(entry_points)
        if not parser.has_section("console_scripts"):
            continue
        dist = _normalise(entry_points.parent.name.split("-")[0])
        for script in parser["console_scripts"]:
            if script.startswith("source-") and (venv / "bin" / script).exists():
                # Prefer the connector's own script; the CDK ships others (source-declarative-manifest).
                scripts.append((0 if dist == wanted else 1, script))
    if scripts:
        return ["bin/python", f"bin/{sorted(scripts)[0][1]}"]
    modules = sorted(p.name for p in site.iterdir() if p.name.startswith("source_") and (p / "__main__.py").exists())
    if modules:
        return ["bin/python", "-m", modules[0]]
    raise ConnectorInstallFailed(f"{package} installed but has no `source-*` command or `source_*` module.")


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()
