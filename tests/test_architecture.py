"""House rules checked on the source: import direction between apps, and deploy checks."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).parents[1] / "src" / "dalgo"

# Lower apps never import higher ones (ARCHITECTURE.md). Apps on one level may not import each other
# unless listed lower. The top-level modules (api, urls, cli, supervisor, celery, settings) compose.
LAYERS: list[set[str]] = [
    {"settings", "celery", "orchestrator.schemas"},
    {"core"},
    {"accounts"},
    {"orgs"},
    {"runs", "warehouses"},
    {"ingestion"},
    {"transform"},
    {"pipelines", "visualization", "system"},
    {"ai", "notifications"},
    {"web"},
]
COMPOSERS = {"api", "urls", "cli", "supervisor", "asgi", "wsgi", "__init__", "demo"}
# The orchestrator talks to Prefect only: it imports no Django app at all.
ISOLATED = {"orchestrator"}


def _level(app: str) -> int | None:
    for i, layer in enumerate(LAYERS):
        if app in layer:
            return i
    return None


def _is_type_checking_block(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _imports(path: Path) -> list[str]:
    """Run-time imports of dalgo modules (imports for type checking only are fine)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    skipped = {id(n) for block in ast.walk(tree) if _is_type_checking_block(block) for n in ast.walk(block)}
    found = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
    return [name for name in found if name.startswith("dalgo.")]


def test_apps_import_only_downwards() -> None:
    problems = []
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC)
        app = rel.parts[0].removesuffix(".py")
        if app in COMPOSERS or "tests" in rel.parts or "migrations" in rel.parts:
            continue
        for name in _imports(path):
            target = name.split(".")[1]
            if target == app:
                continue
            if name.startswith("dalgo.orchestrator.schemas"):
                target = "orchestrator.schemas"  # the orchestrator's HTTP contract, shared
            if app in ISOLATED:
                problems.append(f"{rel}: the orchestrator imports {name}")
                continue
            mine, theirs = _level(app), _level(target)
            if target in COMPOSERS:
                problems.append(f"{rel}: an app imports the composing module {name}")
            elif mine is None or theirs is None:
                problems.append(f"{rel}: unknown layer for {app} or {target} (add it to LAYERS)")
            elif theirs >= mine:
                problems.append(f"{rel}: {app} (level {mine}) imports {name} (level {theirs})")
    assert problems == []


def test_deploy_checks_pass_with_production_settings(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DALGO_PRODUCTION": "true",
        "DALGO_DEBUG": "false",
        "DALGO_SECRET_KEY": "x" * 20 + "a-long-random-production-secret-key-0123456789",
        "DALGO_ALLOWED_HOSTS": "dalgo.example.org",
        "DALGO_DATA_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "dalgo.settings",
    }
    result = subprocess.run(
        [sys.executable, "-m", "django", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
