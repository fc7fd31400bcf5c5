"""Headless Chromium (Debian's package) driven by Playwright, against the real local run on DynamoDB Local.

A tenant's web site is played by a small HTTP server on another origin (``localhost``, while the
API answers on ``127.0.0.1``), so every widget call is a real cross-origin request with CORS.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from devtools.dynamodb_local import PROJECT_DIR, free_port
from tests.e2e.local_run import LocalRun

CHROMIUM = Path(os.environ.get("LEADVAULT_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SITE_PAGE = Path(__file__).with_name("site.html")
AXE = PROJECT_DIR / "node_modules" / "axe-core" / "axe.min.js"

pytestmark = pytest.mark.browser


@dataclass
class TenantSite:
    """A tenant's web page embedding the widget; it remembers every path browsers asked it for."""

    port: int
    page: str
    requested: list[str] = field(default_factory=list)

    @property
    def origin(self) -> str:
        return f"http://localhost:{self.port}"

    def serve(self) -> ThreadingHTTPServer:
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                site.requested.append(self.path)
                if self.path.split("?")[0] == "/":
                    body, kind = site.page.encode(), "text/html; charset=utf-8"
                elif self.path.startswith("/analytics.js"):
                    body, kind = b"window.analyticsLoaded = true;", "application/javascript"
                else:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: Any) -> None:
                return

        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium and chromium-driver "
                    "(or apt-get install chromium chromium-driver)")
    return CHROMIUM


@pytest.fixture(scope="session")
def browser(chromium_path: Path) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRun]:
    """The local run, with schedules 50 times faster (the privacy worker fires every 1.2 s)."""
    run = LocalRun(tmp_path_factory.mktemp("browser") / "data", schedule_scale=0.02).start()
    try:
        yield run
    finally:
        run.stop()


@pytest.fixture(scope="module")
def site(service: LocalRun) -> Iterator[TenantSite]:
    """The demo tenant's site on its own origin, with a widget key that allows just that origin."""
    port = free_port()
    origin = f"http://localhost:{port}"
    demo = service.operator("admin_issue_api_key", {"tenant_id": tenant_of(service),
                                                     "role": "widget", "allowed_origins": [origin]})
    page = (SITE_PAGE.read_text().replace("{{API}}", service.base_url).replace("{{KEY}}", demo["api_key"]))
    tenant_site = TenantSite(port=port, page=page)
    server = tenant_site.serve()
    try:
        yield tenant_site
    finally:
        server.shutdown()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser profile per test: no storage, no cookies."""
    context = browser.new_context(viewport={"width": 900, "height": 900}, accept_downloads=True)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    context.close()
    assert not errors, errors


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots go: ``docs/screenshots`` under ``make screenshots``, else a temp dir."""
    chosen = os.environ.get("LEADVAULT_SCREENSHOT_DIR")
    target = Path(chosen) if chosen else tmp_path_factory.mktemp("screenshots")
    target.mkdir(parents=True, exist_ok=True)
    return target


def admin_headers(service: LocalRun) -> dict[str, str]:
    return {"Authorization": f"Bearer {service.keys()['admin']}"}


def tenant_of(service: LocalRun) -> str:
    """The demo tenant's id, read off its admin key (``lv.<tenant_id>.<key_id>.<secret>``)."""
    return service.keys()["admin"].split(".")[1]


def accessibility_violations(page: Any) -> list[dict[str, Any]]:
    """Serious and critical axe-core findings (WCAG 2.1 A/AA rules) on the page as it stands."""
    page.evaluate(AXE.read_text())
    found = page.evaluate("""async () => (await axe.run(document, {
        runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})).violations
        .filter(v => ['serious', 'critical'].includes(v.impact))
        .map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' '))}))""")
    return list(found)
