"""Installs connectors on first use, each into its own uv virtualenv under DALGO_DATA_DIR/connectors.

`<root>/<package>-<version>/` for a PyPI package, `<root>/custom-<hash>/` for a custom spec (any pip
requirement string or local path). An env is complete when it holds `dalgo-connector.json` (the
marker naming the command that runs the connector); it is built in a temporary sibling directory and
renamed into place, so a failed or interrupted install leaves nothing half-installed. Concurrent first
uses (threads or processes) serialise on an `flock` beside the env: the second waits, then reuses.
A custom env's version is the one pip installed (read from the env's metadata after the install and
kept in the marker), not part of its directory's name: the name decides when it is reinstalled.
"""

from __future__ import annotations

import configparser
import contextlib
import fcntl
import hashlib
import importlib.metadata
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import orjson
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import InvalidSdistFilename, InvalidWheelFilename, parse_sdist_filename, parse_wheel_filename

from dalgo.ingestion.connectors.errors import ConnectorInstallFailed

log = logging.getLogger(__name__)

MARKER = "dalgo-connector.json"
CUSTOM_VERSION = "custom"  # a custom requirement's version when the installed one cannot be read
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
    of its files' mtime changes). Its `version` is the one pip installed of the distribution the
    requirement names (`airbyte-source-foo==1.2.3`, `name @ file:///...`, a wheel's or sdist's file
    name), else of the distribution that provides the connector's command (a directory, a URL). When
    neither can be read it is "custom" (`local-<stamp>` for a path) and the reason is logged."""
    spec = spec.strip()
    if not spec:
        raise ConnectorInstallFailed("The custom connector is empty.")
    digest = hashlib.sha256(spec.encode()).hexdigest()[:16]
    local = Path(spec).expanduser()
    if local.exists():
        local = local.resolve()
        stamp = hashlib.sha256(str(_tree_mtime(local)).encode()).hexdigest()[:8]
        name, requirement, package, version = f"custom-{digest}-{stamp}", str(local), local.name, f"local-{stamp}"
        distribution = _file_distribution(local) if local.is_file() else None
    else:
        if spec.startswith("-"):
            raise ConnectorInstallFailed("A custom connector must be a requirement or a path, not an option.")
        name, requirement, package, version = f"custom-{digest}", spec, spec, CUSTOM_VERSION
        distribution = _requirement_distribution(spec)
    return _ensure(
        connectors_root(data_dir) / name,
        requirement=requirement,
        package=package,
        version=version,
        python=python,
        installed_version=_InstalledVersion(distribution=distribution),
    )


@dataclass(frozen=True)
class _InstalledVersion:
    """Asks `_ensure` to read the env's version from what pip installed (custom connectors)."""

    distribution: str | None  # the distribution the requirement names, when it names one


def _requirement_distribution(spec: str) -> str | None:
    """The distribution a PEP 508 requirement names (None for a bare URL or anything unparsable)."""
    try:
        return Requirement(spec).name
    except InvalidRequirement:
        return None


def _file_distribution(path: Path) -> str | None:
    """The distribution a wheel's or sdist's file name names (None for any other file)."""
    with contextlib.suppress(InvalidWheelFilename, InvalidSdistFilename):
        if path.name.endswith(".whl"):
            return str(parse_wheel_filename(path.name)[0])
        if path.name.endswith((".tar.gz", ".zip")):
            return str(parse_sdist_filename(path.name)[0])
    return None


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


def _load(
    path: Path, *, package: str, version: str, installed_version: _InstalledVersion | None = None
) -> ConnectorEnv | None:
    try:
        marker = orjson.loads((path / MARKER).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    if installed_version is not None:
        if "version_from" in marker:
            version = str(marker.get("version") or version)
        else:  # installed before custom versions were read: read it now, once
            marker = _marker_upgraded(path, marker, fallback=version, installed_version=installed_version)
            version = str(marker["version"])
    command = tuple(str(path / part) if part.startswith("bin/") else part for part in marker["command"])
    return ConnectorEnv(path=path, package=marker.get("package", package), version=version, command=command)


def _marker_upgraded(
    path: Path, marker: dict[str, object], *, fallback: str, installed_version: _InstalledVersion
) -> dict[str, object]:
    """The marker of a custom env written before its version was read, with the version pip installed
    (or the fallback), saved back atomically (concurrent upgrades write the same content)."""
    command = marker.get("command")
    found = _installed_version(path, distribution=installed_version.distribution,
                               command=command if isinstance(command, list) else [])  # fmt: skip
    marker = {**marker, "version": found or fallback, "version_from": "installed" if found else "fallback"}
    partial = path / f".{MARKER}.{os.getpid()}.{threading.get_ident()}"
    try:
        partial.write_bytes(orjson.dumps(marker))
        os.replace(partial, path / MARKER)
    except OSError as exc:  # a read-only env still reports the version; it is read again next time
        log.warning("Could not save the connector version in %s: %s", path / MARKER, exc)
        with contextlib.suppress(OSError):
            partial.unlink()
    return marker


def _ensure(
    final: Path,
    *,
    requirement: str,
    package: str,
    version: str,
    python: str | None,
    installed_version: _InstalledVersion | None = None,
) -> ConnectorEnv:
    """The env at `final`, installed under its lock unless complete. With `installed_version`, the
    env's version is read from what pip installed (`version` is the fallback)."""
    ready = _load(final, package=package, version=version, installed_version=installed_version)
    if ready:
        return ready
    with _locked(final.parent / f".{final.name}.lock"):
        # another process installed it meanwhile
        ready = _load(final, package=package, version=version, installed_version=installed_version)
        if ready:
            return ready
        if final.exists():  # no marker: a leftover of a crash before rename cannot happen; be safe anyway
            shutil.rmtree(final, ignore_errors=True)
        started = time.monotonic()
        temp = Path(tempfile.mkdtemp(prefix=f".{final.name}.tmp-", dir=final.parent))
        try:
            relative = _install(temp, requirement=requirement, package=package, python=python)
            marker = {"package": package, "version": version, "requirement": requirement, "command": relative}
            if installed_version is not None:
                found = _installed_version(temp, distribution=installed_version.distribution, command=relative)
                marker.update(version=found or version, version_from="installed" if found else "fallback")
            (temp / MARKER).write_bytes(orjson.dumps(marker))
            os.rename(temp, final)
        except BaseException:
            shutil.rmtree(temp, ignore_errors=True)
            raise
    env = _load(final, package=package, version=version, installed_version=installed_version)
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


def _site_packages(venv: Path) -> Path | None:
    return next(iter(sorted(venv.glob("lib/python*/site-packages"))), None)


def _entry_point(venv: Path, *, package: str) -> list[str]:
    site = _site_packages(venv)
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


def _installed_version(venv: Path, *, distribution: str | None, command: Sequence[str]) -> str | None:
    """The version pip installed in `venv` of `distribution`, else of the distribution providing the
    connector's `command` (env-relative: `bin/<script>` or `-m <module>`). Read from the env's
    dist-info metadata (what the env's own `importlib.metadata` reads): no process, no network. None,
    with the reason logged, when it cannot be read; never an install failure."""
    try:
        site = _site_packages(venv)
        if site is None:
            raise LookupError("the virtualenv has no site-packages")
        dists = list(importlib.metadata.distributions(path=[str(site)]))
        chosen = None
        if distribution:
            wanted = _normalise(distribution)
            chosen = next((d for d in dists if _normalise(d.metadata["Name"] or "") == wanted), None)
        if chosen is None:
            chosen = _command_distribution(dists, command)
        if chosen is None:
            raise LookupError(
                f"no installed distribution is named {distribution!r} or provides {' '.join(command[1:])!r}"
            )
        version = (chosen.version or "").strip()
        if not _VERSION_RE.match(version):
            raise LookupError(f"{chosen.metadata['Name']} has no usable version ({version!r})")
        return version
    except Exception as exc:  # noqa: BLE001  (any failure here only costs the version)
        log.warning("Could not read the installed version of the connector in %s: %s", venv, exc)
        return None


def _command_distribution(
    dists: list[importlib.metadata.Distribution], command: Sequence[str]
) -> importlib.metadata.Distribution | None:
    """The distribution whose console script (`bin/<script>`) or module (`-m <module>`) runs the connector."""
    parts = list(command)
    if len(parts) > 1 and parts[1].startswith("bin/"):
        script = parts[1].removeprefix("bin/")
        for dist in dists:
            if any(ep.name == script for ep in dist.entry_points.select(group="console_scripts")):
                return dist
    elif "-m" in parts[:-1]:
        main = f"{parts[parts.index('-m') + 1]}/__main__.py"
        for dist in dists:
            if any(str(file) == main for file in dist.files or ()):
                return dist
    return None
