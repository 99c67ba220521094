"""The whole product for browser tests: `dalgo up` in embedded mode (SQLite, filesystem broker,
local Prefect server and worker) on free ports, with mail going to the test's SMTP server, and
Debian's Chromium driven by Python playwright (never `playwright install`)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fixtures import free_port

ARTIFACTS = Path(__file__).parents[2] / "test-artifacts"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@dataclass
class Stack:
    url: str
    data_dir: Path
    log: Path
    env: dict[str, str]

    def python(self, code: str) -> str:
        """Run Python with Django set up against the stack's own app DB and data dir."""
        prelude = "import django; django.setup()\n"
        result = subprocess.run(
            [sys.executable, "-c", prelude + code], env={**self.env, "DJANGO_SETTINGS_MODULE": "dalgo.settings"},
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr[-3000:]
        return result.stdout

    def seed_org(self, name: str, domain: str, password: str) -> str:
        """An org with an admin (its creator), an analyst and a member, `<role>@<domain>`; returns the slug."""
        code = f"""
from dalgo.accounts.models import User
from dalgo.orgs.models import Membership
from dalgo.orgs.services import org_create
users = {{r: User.objects.create_user(email=f"{{r}}@{domain}", password={password!r}, name=r.title())
         for r in ("admin", "analyst", "member")}}
org = org_create(name={name!r}, creator=users["admin"])
Membership.objects.create(org=org, user=users["analyst"], role="analyst")
Membership.objects.create(org=org, user=users["member"], role="member")
print(org.slug)
"""
        return self.python(code).strip().splitlines()[-1]


@pytest.fixture(scope="session")
def dalgo_stack(tmp_path_factory: pytest.TempPathFactory, smtp_server: tuple[Any, int]) -> Iterator[Stack]:
    index = Path(__file__).parents[2] / "src/dalgo/web/static/ui/index.html"
    if not index.exists():
        pytest.fail("The UI is not built: run `make ui` (make test does).")
    _inbox, smtp_port = smtp_server
    root = tmp_path_factory.mktemp("stack")
    web, orch, prefect = free_port(), free_port(), free_port()
    url = f"http://127.0.0.1:{web}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DALGO_", "PREFECT_"))}
    env.update(
        DALGO_DATA_DIR=str(root / "data"),
        DALGO_WEB_PORT=str(web),
        DALGO_BASE_URL=url,
        DALGO_ORCHESTRATOR_URL=f"http://127.0.0.1:{orch}",
        DALGO_PREFECT_API_URL=f"http://127.0.0.1:{prefect}/api",
        DALGO_PREFECT_WORK_POOL="dalgo-browser",
        DALGO_EMAIL_HOST="127.0.0.1",
        DALGO_EMAIL_PORT=str(smtp_port),
        DALGO_HEARTBEAT_SECONDS="2",
        DO_NOT_TRACK="1",
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
    )
    log = root / "dalgo-up.log"
    dalgo = Path(sys.executable).parent / "dalgo"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [str(dalgo), "up"], env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 180
        while True:
            if proc.poll() is not None:
                pytest.fail(f"dalgo up exited with {proc.returncode}:\n{log.read_text()[-5000:]}")
            try:
                if httpx.get(f"{url}/health", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the stack did not become healthy:\n{log.read_text()[-5000:]}")
            time.sleep(1)
        yield Stack(url=url, data_dir=root / "data", log=log, env=env)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        pytest.fail("Chromium is missing: `apt-get install chromium` (make test does).")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


class Steps:
    """Names each step; on failure saves a screenshot of every open page under test-artifacts/."""

    def __init__(self, test_name: str, pages: dict[str, Any]):
        self.test_name = test_name
        self.pages = pages
        self.current = "start"

    def __call__(self, name: str) -> Steps:
        self.current = name
        return self

    def __enter__(self) -> Steps:
        return self

    def __exit__(self, *exc: object) -> bool:
        return False

    def screenshot_all(self) -> list[Path]:
        ARTIFACTS.mkdir(exist_ok=True)
        saved = []
        for who, page in self.pages.items():
            path = ARTIFACTS / f"{self.test_name}--{self.current}--{who}.png".replace(" ", "_")
            try:
                page.screenshot(path=str(path), full_page=True)
                saved.append(path)
            except Exception:
                pass
        return saved


@pytest.fixture
def steps(request: pytest.FixtureRequest) -> Iterator[Steps]:
    recorder = Steps(request.node.name, {})
    yield recorder
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        saved = recorder.screenshot_all()
        print(f"failed at step {recorder.current!r}; screenshots: {[str(p) for p in saved]}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.rep_call = report  # type: ignore[attr-defined]
