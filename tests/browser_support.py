"""What the browser tests share: Chromium, a request recorder, a foreign host page, screenshots,
the axe-core check.

Chromium is Debian's (``shutil.which("chromium")``); without it the browser tests skip, and
fail with ``CI=true``. ``tests/conftest.py`` loads this module as a plugin, so the
:func:`browser` fixture is there for every test module; the helpers are imported.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import (
    Browser,
    BrowserContext,
    Frame,
    Page,
    Request,
    async_playwright,
)

from eyelevel.core.actions import operator
from eyelevel.core.entities import Company
from tests import backends
from tests.harness import Server

# the flags keep Chromium from calling Google's services on a closed network
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# screenshots land here: <repository>/artifacts/ (git-ignored), for a person or a CI job to keep
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"

NETWORK_SCHEMES = ("http", "https", "ws", "wss")


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    path = shutil.which("chromium")
    if path is None:
        reason = "REQUIRE: Debian's chromium (make test installs it when run as root)"
        if backends.CI:
            pytest.fail(reason)
        pytest.skip(reason)  # REQUIRE: chromium — with CI=true the line above fails instead
    async with async_playwright() as pw:
        b = await pw.chromium.launch(executable_path=path, args=ARGS, headless=True)
        try:
            yield b
        finally:
            await b.close()


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
    return f"{scheme}://{parts.netloc}"


def foreign(urls: list[str], *origins: str) -> list[str]:
    """The network URLs (http/https/ws/wss) whose origin is none of ``origins``.

    ``ws://host`` counts as the origin ``http://host``; ``blob:`` and ``data:`` URLs never leave
    the browser and are not network requests.
    """
    allowed = {origin_of(o) for o in origins}
    return [
        u for u in urls if urlsplit(u).scheme in NETWORK_SCHEMES and origin_of(u) not in allowed
    ]


@dataclass
class Requests:
    """Every URL a browser context asks for: documents, subresources, fetch/XHR of every page,
    every frame (out-of-process iframes included) and service workers, plus WebSockets."""

    urls: list[str] = field(default_factory=list)
    writes: list[str] = field(default_factory=list)  # "POST /path" of every unsafe request

    def watch(self, context: BrowserContext) -> BrowserContext:
        context.on("request", self._request)
        context.on("page", self._page)
        context.on("serviceworker", lambda worker: self.urls.append(worker.url))
        for page in context.pages:
            self._page(page)
        return context

    def _request(self, request: Request) -> None:
        self.urls.append(request.url)
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            self.writes.append(f"{request.method} {urlsplit(request.url).path}")

    def _page(self, page: Page) -> None:
        page.on("websocket", lambda ws: self.urls.append(ws.url))

    def foreign(self, *origins: str) -> list[str]:
        return foreign(self.urls, *origins)

    def on(self, origin: str) -> list[str]:
        return [u for u in self.urls if origin_of(u) == origin_of(origin)]


async def recorded_context(browser: Browser, requests: Requests, **options: Any) -> BrowserContext:
    """A new browser context whose every request lands in ``requests``."""
    return requests.watch(await browser.new_context(**options))


# -- a web page on another origin ----------------------------------------------------------


@dataclass
class HostPage:
    """A plain website at ``http://localhost:<port>/`` — another origin *and* another site than
    eyelevel on ``127.0.0.1`` — that serves one HTML document."""

    url: str
    origin: str
    paths: list[str] = field(default_factory=list)


@contextlib.asynccontextmanager
async def host_page(html: str) -> AsyncIterator[HostPage]:
    body = html.encode()
    page = HostPage(url="", origin="")

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                path = head.split(b" ", 2)[1].decode("latin-1")
                page.paths.append(path)
                if path == "/":
                    status, payload, kind = b"200 OK", body, b"text/html; charset=utf-8"
                else:
                    status, payload, kind = b"404 Not Found", b"not found", b"text/plain"
                writer.write(
                    b"HTTP/1.1 "
                    + status
                    + b"\r\nContent-Type: "
                    + kind
                    + b"\r\nContent-Length: "
                    + str(len(payload)).encode()
                    + b"\r\nCache-Control: no-store\r\n\r\n"
                    + payload
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, IndexError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    page.origin = f"http://localhost:{port}"
    page.url = f"{page.origin}/"
    try:
        yield page
    finally:
        server.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(server.wait_closed(), 2)


# -- looks ---------------------------------------------------------------------------------


async def screenshot(page: Page, name: str) -> Path:
    """A PNG of what the viewport shows, as ``artifacts/<name>.png``."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    await page.screenshot(path=path)
    return path


async def assert_no_horizontal_scroll(page: Page, what: str) -> None:
    sizes = await page.evaluate(
        "() => ({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})"
    )
    assert sizes["scroll"] <= sizes["inner"], f"{what} scrolls sideways: {sizes}"


# -- accessibility -------------------------------------------------------------------------

SEVERE = ("serious", "critical")


def _report(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']} — {v['helpUrl']}")
        for node in v["nodes"][:8]:
            lines.append(f"    {', '.join(map(str, node['target']))}: {node['html'][:200]}")
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            if summary:
                lines.append(f"      {summary[:300]}")
    return "\n".join(lines)


async def assert_accessible(target: Page | Frame, what: str) -> None:
    """axe-core finds no serious or critical violation in ``target`` (a page or one frame).

    Frames inside ``target`` are not entered (axe would wait for them to answer); check an
    iframe by passing its :class:`Frame`.
    """
    results = await Axe().run(target, options={"resultTypes": ["violations"], "iframes": False})
    severe = [v for v in results.response["violations"] if v["impact"] in SEVERE]
    assert not severe, f"axe-core on {what}: {len(severe)} serious/critical\n{_report(severe)}"


async def setup_company(server: Server) -> Company:
    """Beispiel GmbH with a full company card as the demo has it, plus a second company that
    a search for "Beispiel" must leave out."""
    hours = {d: [["08:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
    company, _ = await operator.ensure_company(
        server.runtime.ctx,
        slug="beispiel",
        name="Beispiel GmbH",
        description="Haushaltsgeräte und Ersatzteile – wir helfen gern.",
        phone="+49 30 1234567",
        timezone="Europe/Berlin",
        business_hours={**hours, "sat": [["09:00", "13:00"]], "sun": []},
        reply_within_minutes=120,
    )
    await operator.ensure_company(
        server.runtime.ctx, slug="stadtwerke", name="Stadtwerke Musterstadt", phone="+49 89 1"
    )
    return company
