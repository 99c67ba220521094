"""The installer: concurrent first uses install once, failures leave nothing behind, local custom
connectors reinstall when their files change, custom connectors report the version pip installed."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dalgo.ingestion.connectors import install
from dalgo.ingestion.connectors.errors import ConnectorInstallFailed
from dalgo.ingestion.connectors.install import MARKER, connector_env, connector_env_custom, uv_command
from tests.connectors.support import EDGY_PATH, EDGY_VERSION

REPO = Path(__file__).resolve().parents[4]


def test_concurrent_first_use_from_two_processes_installs_once(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    script = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from dalgo.ingestion.connectors.install import connector_env_custom\n"
        "env = connector_env_custom(sys.argv[1], data_dir=Path(sys.argv[2]))\n"
        "print(json.dumps({'path': str(env.path), 'installed': env.install_seconds is not None}))\n"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(EDGY_PATH), str(data_dir)],
            stdout=subprocess.PIPE,
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO / "src")},
        )
        for _ in range(2)
    ]
    results = [json.loads(p.communicate(timeout=300)[0]) for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert results[0]["path"] == results[1]["path"]
    assert sorted(r["installed"] for r in results) == [False, True]
    entries = [p.name for p in (data_dir / "connectors").iterdir() if not p.name.endswith(".lock")]
    assert entries == [Path(results[0]["path"]).name]


def test_failed_install_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(ConnectorInstallFailed) as caught:
        connector_env("airbyte-source-faker", "0.0.0.404", data_dir=tmp_path)
    assert caught.value.code == "connector_install_failed"
    assert "0.0.0.404" in caught.value.stderr_tail
    assert [p.name for p in (tmp_path / "connectors").iterdir() if not p.name.endswith(".lock")] == []


def test_bad_names_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConnectorInstallFailed):
        connector_env("../evil", "1.0", data_dir=tmp_path)
    with pytest.raises(ConnectorInstallFailed):
        connector_env_custom("--index-url=http://x", data_dir=tmp_path)


def test_local_custom_connector_reinstalls_when_changed(tmp_path: Path) -> None:
    source = tmp_path / "edgy"
    shutil.copytree(EDGY_PATH, source)
    first = connector_env_custom(str(source), data_dir=tmp_path / "data")
    assert (first.path / MARKER).exists()
    assert connector_env_custom(str(source), data_dir=tmp_path / "data").path == first.path
    init = source / "src" / "source_edgy" / "__init__.py"
    stat = init.stat()
    os.utime(init, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    second = connector_env_custom(str(source), data_dir=tmp_path / "data")
    assert second.path != first.path and second.install_seconds is not None


# ---- the version a custom connector reports ---------------------------------------------------------


def _edgy_copy(root: Path, *, version: str) -> Path:
    """The edgy test connector with its pyproject's version set to `version`."""
    copy = root / "edgy"
    shutil.copytree(EDGY_PATH, copy)
    pyproject = copy / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace(f'version = "{EDGY_VERSION}"', f'version = "{version}"', 1))
    assert f'version = "{version}"' in pyproject.read_text()
    return copy


def _wheel(project: Path, out: Path) -> Path:
    """A wheel of `project`, built now with uv (its build backend from the configured index or uv's cache)."""
    environment = {**os.environ, "UV_NO_PROGRESS": "1"}
    environment.pop("VIRTUAL_ENV", None)
    subprocess.run([*uv_command(), "build", "--wheel", "--quiet", "--out-dir", str(out), str(project)],
                   check=True, capture_output=True, env=environment, timeout=300)  # fmt: skip
    [wheel] = out.glob("*.whl")
    return wheel


def test_custom_connector_reports_the_version_pip_installed(tmp_path: Path) -> None:
    project = _edgy_copy(tmp_path, version="2.5.1")
    wheel = _wheel(project, tmp_path / "dist")
    data = tmp_path / "data"
    specs = {
        "requirement": f"airbyte-source-edgy @ {project.as_uri()}",  # named: the named distribution's version
        "wheel": str(wheel),  # named by its file name
        "directory": str(project),  # named by nothing: the distribution providing `source-edgy`
    }
    for kind, spec in specs.items():
        env = connector_env_custom(spec, data_dir=data)
        assert (kind, env.version) == (kind, "2.5.1")
        assert env.install_seconds is not None
        marker = json.loads((env.path / MARKER).read_bytes())
        assert (marker["version"], marker["version_from"]) == ("2.5.1", "installed")
        again = connector_env_custom(spec, data_dir=data)  # reused, same version, no reinstall
        assert (again.path, again.version, again.install_seconds) == (env.path, "2.5.1", None)
    # The env directories are keyed as before: by the spec (and, for a path, its files' mtimes).
    names = sorted(p.name for p in (data / "connectors").iterdir() if not p.name.startswith("."))
    assert len(names) == 3 and all(name.startswith("custom-") for name in names)


def test_unreadable_version_falls_back_and_old_envs_are_upgraded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    spec = f"airbyte-source-edgy @ {EDGY_PATH.as_uri()}"
    data = tmp_path / "data"

    def unreadable(**kwargs: object) -> object:
        raise OSError("metadata unreadable")

    monkeypatch.setattr(install.importlib.metadata, "distributions", unreadable)
    with caplog.at_level(logging.WARNING, logger=install.__name__):
        env = connector_env_custom(spec, data_dir=data)
    assert env.version == "custom"  # the install itself succeeded and the connector runs
    assert "metadata unreadable" in caplog.text and str(env.path.parent) in caplog.text
    marker = json.loads((env.path / MARKER).read_bytes())
    assert (marker["version"], marker["version_from"]) == ("custom", "fallback")
    monkeypatch.undo()
    # A fallback is remembered: not read again on every use.
    assert connector_env_custom(spec, data_dir=data).version == "custom"

    # An env installed before versions were read (its marker has no `version_from`) is read once, in place.
    del marker["version_from"]
    (env.path / MARKER).write_bytes(json.dumps(marker).encode())
    upgraded = connector_env_custom(spec, data_dir=data)
    assert (upgraded.path, upgraded.version, upgraded.install_seconds) == (env.path, EDGY_VERSION, None)
    marker = json.loads((env.path / MARKER).read_bytes())
    assert (marker["version"], marker["version_from"]) == (EDGY_VERSION, "installed")
    assert [p.name for p in env.path.iterdir() if p.name.startswith(f".{MARKER}")] == []


def test_a_local_path_falls_back_to_its_stamp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(install, "_command_distribution", lambda dists, command: None)
    env = connector_env_custom(str(EDGY_PATH), data_dir=tmp_path)  # named by nothing, provider not found
    assert env.version.startswith("local-") and env.version == f"local-{env.path.name.rsplit('-', 1)[1]}"


def test_the_distribution_a_custom_spec_names() -> None:
    assert install._requirement_distribution("airbyte-source-faker==7.2.1") == "airbyte-source-faker"
    assert install._requirement_distribution("Airbyte_Source.Foo[x]>=1; python_version>'3'") == "Airbyte_Source.Foo"
    assert install._requirement_distribution("airbyte-source-foo @ file:///opt/foo") == "airbyte-source-foo"
    assert install._requirement_distribution("git+https://example.invalid/foo.git") is None
    assert install._file_distribution(Path("/w/airbyte_source_foo-1.2.3-py3-none-any.whl")) == "airbyte-source-foo"
    assert install._file_distribution(Path("/w/airbyte_source_foo-1.2.3.tar.gz")) == "airbyte-source-foo"
    assert install._file_distribution(Path("/w/notes.txt")) is None


def test_a_module_connector_reports_its_distribution_version(tmp_path: Path) -> None:
    """A connector run as `python -m source_x` (no console script): the distribution that ships the module."""
    site = tmp_path / "lib" / "python3.11" / "site-packages"
    for name, version, files in (("airbyte-cdk", "6.1.0", "airbyte_cdk/__init__.py"),
                                 ("airbyte-source-x", "1.0.7", "source_x/__main__.py")):  # fmt: skip
        info = site / f"{name.replace('-', '_')}-{version}.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        (info / "RECORD").write_text(f"{files},,\n{info.name}/METADATA,,\n")
    command = ["bin/python", "-m", "source_x"]
    assert install._installed_version(tmp_path, distribution=None, command=command) == "1.0.7"
    assert install._installed_version(tmp_path, distribution="Airbyte_CDK", command=command) == "6.1.0"
    assert install._installed_version(tmp_path, distribution=None, command=["bin/python", "-m", "other"]) is None
