"""The installer: concurrent first uses install once, failures leave nothing behind, local custom
connectors reinstall when their files change."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dalgo.ingestion.connectors.errors import ConnectorInstallFailed
from dalgo.ingestion.connectors.install import MARKER, connector_env, connector_env_custom
from tests.connectors.support import EDGY_PATH

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
