"""End-to-end fixtures: the stack `make run` starts (``python -m shared.local``, with the
built web app) on a free port, and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from shared.local.ports import free_port
from tests.support import WAIT_SECONDS

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
# axe-core, the accessibility rules engine, from the web app's dev dependencies.
AXE = ROOT / "static" / "node_modules" / "axe-core" / "axe.min.js"
AXE_URL = "/__browser-tests__/axe.min.js"  # never a route of the app; answered by the context
BLOCKING = ("serious", "critical")
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# Without the background-networking flags Chromium keeps dialling out, and this network refuses.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


@dataclass
class Host:
    base_url: str
    process: subprocess.Popen[str]
    # Everything the host prints goes to this file, never to a pipe: an undrained pipe fills
    # up (an outage logs a line per pass) and then blocks the host's logging and its loop.
    log: Path

    def api(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=10)

    def token(self, email: str, password: str) -> str:
        with self.api() as c:
            r = c.post("/api/auth/login", json={"email": email, "password": password})
            r.raise_for_status()
            return str(r.json()["token"])

    def buyer(self, name: str) -> tuple[str, str]:
        """Register a buyer over the API; returns (email, password)."""
        email, password = f"{name}-{time.time_ns()}@example.com", "browser-pass-1"
        with self.api() as c:
            c.post("/api/auth/register", json={"email": email, "password": password,
                                               "display_name": name}).raise_for_status()
        return email, password


def start_host(tmp: Path, **env: str) -> Host:
    if not (ROOT / "static" / "dist" / "index.html").is_file():
        pytest.fail("the web app is not built: run `make test` (it builds static/dist)")
    port = free_port()
    environ = {**os.environ, "LEAP_DATA_DIR": str(tmp), "PORT": str(port),
               "ARGON2_TIME_COST": "1", "ARGON2_MEMORY_KIB": "1024", "ARGON2_PARALLELISM": "1",
               "RECONCILE_INTERVAL_SECONDS": "0.5", "SMTP_PORT": str(free_port()), **env}
    if "REDIS_URL" not in env:  # the host starts its own redis-server unless told to use one
        environ.pop("REDIS_URL", None)
    tmp.mkdir(parents=True, exist_ok=True)
    log = tmp / f"host-{port}.log"
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "shared.local"], cwd=ROOT, env=environ,
                                stdout=out, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"host exited: {log.read_text()}")
        try:
            if httpx.get(f"{base}/api/health/ready", timeout=1).status_code == 200:
                return Host(base, proc, log)
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("host did not become ready")
        time.sleep(0.1)


def stop_host(host: Host) -> str:
    """Ctrl-C, as a user would; returns everything the host printed."""
    host.process.send_signal(signal.SIGINT)
    try:
        host.process.wait(30)
    except subprocess.TimeoutExpired:
        host.process.kill()
        host.process.wait()
    return host.log.read_text()


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Host]:
    h = start_host(tmp_path_factory.mktemp("host"))
    yield h
    stop_host(h)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Module-scoped: sync Playwright keeps an event loop running in this thread while it is
    open, which async tests elsewhere in the session must not meet."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} missing: `make test` installs Debian's chromium package")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item,
                              call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    """Keep each phase's report on the test item, so fixtures can see whether it passed."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def audit(page: Page) -> None:
    """Run axe-core on the page as it is now; fail on any serious or critical violation.

    axe is injected with ``add_script_tag`` from a same-origin URL that the browser context
    answers with the file (``new_page``), so the page's CSP (``script-src 'self'``) stays in
    force: an inline script would need the CSP bypassed, and then the tests could no longer
    see the app break it."""
    page.wait_for_load_state("domcontentloaded")
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(url=AXE_URL)
    violations = page.evaluate("""async () => {
        const r = await window.axe.run(document, { resultTypes: ["violations"] });
        return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ") + ": " + n.failureSummary) }));
    }""")
    blocking = [v for v in violations if v["impact"] in BLOCKING]
    assert not blocking, f"axe-core on {page.url}: " + "; ".join(
        f"{v['id']} ({v['impact']}): {v['help']} at {v['nodes']}" for v in blocking)


def new_page(browser: Browser, *, width: int = 375, height: int = 812,
             timezone_id: str = "UTC") -> Page:
    if not AXE.is_file():
        pytest.fail(f"{AXE} missing: `make test` installs the web app's dev dependencies")
    context = browser.new_context(viewport={"width": width, "height": height}, locale="en-GB",
                                  timezone_id=timezone_id)
    context.route(f"**{AXE_URL}", lambda route: route.fulfill(
        path=str(AXE), content_type="text/javascript"))
    pg = context.new_page()
    # Actions and assertions wait for their condition; the deadline only bounds a hang (a
    # busy machine can take longer than Playwright's 5 s assertion default to render).
    pg.set_default_timeout(WAIT_SECONDS * 1000)
    expect.set_options(timeout=WAIT_SECONDS * 1000)
    return pg


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A phone-sized page (375 px); its final state is checked with axe-core and saved as a
    screenshot artifact."""
    pg = new_page(browser)
    yield pg
    ARTIFACTS.mkdir(exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    try:
        call = getattr(request.node, "rep_call", None)
        if call is not None and call.passed:  # an earlier failure says more than axe would
            audit(pg)
    finally:
        pg.context.close()
