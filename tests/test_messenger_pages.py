"""The messenger's server side: page shells, security headers, PWA files, widget, static files."""

from __future__ import annotations

import io
import json
import re
from importlib.resources import files
from importlib.resources.abc import Traversable

import httpx
from PIL import Image

from eyelevel.channels.messenger.pages import ASSETS
from tests.harness import Server

STATIC = files("eyelevel.channels.messenger") / "static"
TEMPLATES = files("eyelevel.channels.messenger") / "templates"
URL = re.compile(r"""https?://[^\s"'`)<>]+""")
# an XML namespace names, it is never fetched; *.example hosts are reserved for documentation
NOT_REQUESTS = re.compile(r"^https?://(www\.w3\.org/2000/svg$|[a-z0-9.-]+\.example[/:])")


def _csp(response: httpx.Response) -> dict[str, str]:
    policy = response.headers["content-security-policy"]
    return {d.strip().split(" ", 1)[0]: d.strip().partition(" ")[2] for d in policy.split(";") if d}


def _assert_strict(response: httpx.Response, frame_ancestors: str) -> None:
    csp = _csp(response)
    assert csp["default-src"] == "'none'"
    assert csp["script-src"] == "'self'"
    assert csp["connect-src"] == "'self'"
    assert csp["img-src"] == "'self' blob: data:"
    assert csp["style-src"] == "'self'"
    assert csp["frame-ancestors"] == frame_ancestors
    assert csp["base-uri"] == "'none'"
    assert csp["form-action"] == "'self'"
    assert "unsafe" not in response.headers["content-security-policy"]
    assert response.headers["referrer-policy"] == "same-origin"
    assert response.headers["x-content-type-options"] == "nosniff"


def _embedded(html: str, element_id: str) -> object:
    match = re.search(rf'<script type="application/json" id="{element_id}">(.*?)</script>', html)
    assert match, element_id
    return json.loads(match.group(1))


async def test_the_app_shell_is_strict_and_speaks_the_visitors_language(server: Server) -> None:
    browser = server.client()
    page = await browser.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    _assert_strict(page, "'none'")
    assert page.headers["x-frame-options"] == "DENY"
    assert f'src="/static/{ASSETS.version}/main.js"' in page.text
    assert '<link rel="manifest" href="/manifest.webmanifest">' in page.text
    assert _embedded(page.text, "i18n") == {}  # English is the msgids themselves
    config = _embedded(page.text, "config")
    assert isinstance(config, dict)
    assert config["mode"] == "app" and config["lang"] == "en"

    german = await browser.get("/", headers={"accept-language": "de-DE,de;q=0.9"})
    assert '<html lang="de">' in german.text
    strings = _embedded(german.text, "i18n")
    assert isinstance(strings, dict) and strings["Sent"] == "Gesendet"
    chosen = await server.client().get("/", headers={"cookie": "lang=en", "accept-language": "de"})
    assert '<html lang="en">' in chosen.text


async def test_the_widget_may_be_framed_anywhere_and_nothing_else_may(server: Server) -> None:
    await server.company("acme", "Acme AG")
    browser = server.client()
    widget = await browser.get("/widget/acme?lang=de")
    assert widget.status_code == 200
    _assert_strict(widget, "*")
    assert "x-frame-options" not in widget.headers
    config = _embedded(widget.text, "config")
    assert isinstance(config, dict)
    assert config["mode"] == "widget" and config["company"] == "acme" and config["lang"] == "de"
    assert "manifest" not in widget.text  # the widget is not an app to install

    missing = await browser.get("/widget/no-such-company")
    assert missing.status_code == 404
    _assert_strict(missing, "*")
    assert (await browser.get("/widget/Not_A_Slug")).status_code == 422


async def test_the_widget_loader_is_tiny_and_asks_nobody_else(server: Server) -> None:
    loader = await server.client().get("/widget.js")
    assert loader.status_code == 200
    assert loader.headers["content-type"] == "text/javascript; charset=utf-8"
    assert len(loader.content) < 6 * 1024
    assert "document.currentScript" in loader.text
    assert "/widget/" in loader.text
    # no request of its own: no fetch, no XHR, no extra script; the iframe opens on a click
    for call in ("fetch(", "XMLHttpRequest", 'createElement("script")', "sendBeacon"):
        assert call not in loader.text
    assert [u for u in URL.findall(loader.text) if not NOT_REQUESTS.match(u)] == []


async def test_the_manifest_names_192_and_512_pixel_icons(server: Server) -> None:
    browser = server.client()
    response = await browser.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/manifest+json")
    manifest = json.loads(response.text)
    assert manifest["start_url"] == "/" and manifest["display"] == "standalone"
    sizes = {}
    for icon in manifest["icons"]:
        got = await browser.get(icon["src"])
        assert got.status_code == 200, icon
        assert got.headers["content-type"] == icon["type"]
        if icon["type"] == "image/png":
            image = Image.open(io.BytesIO(got.content))
            assert f"{image.width}x{image.height}" == icon["sizes"]
            sizes[icon["sizes"]] = icon.get("purpose", "any")
    assert {"192x192", "512x512"} <= sizes.keys()
    assert (await browser.get("/icons/nope.png")).status_code == 404


async def test_the_service_worker_is_served_from_the_root_with_the_app_shell(
    server: Server,
) -> None:
    browser = server.client()
    worker = await browser.get("/sw.js")
    assert worker.status_code == 200
    assert worker.headers["content-type"] == "text/javascript; charset=utf-8"
    assert worker.headers["cache-control"] == "no-cache"  # an update is seen at once
    assert "service-worker-allowed" not in worker.headers  # scope "/" is its own folder
    assert ASSETS.version in worker.text
    shell = json.loads(re.search(r"const SHELL = (\[.*?\]);", worker.text).group(1))  # type: ignore[union-attr]
    for url in shell:
        assert (await browser.get(url)).status_code == 200, url
    assert "/api/v1/attachments" not in shell


async def test_static_files_are_versioned_and_cached_for_long(server: Server) -> None:
    browser = server.client()
    current = await browser.get(f"/static/{ASSETS.version}/main.js")
    assert current.status_code == 200
    assert current.headers["content-type"] == "text/javascript; charset=utf-8"
    assert "immutable" in current.headers["cache-control"]
    css = await browser.get(f"/static/{ASSETS.version}/app.css")
    assert css.headers["content-type"] == "text/css; charset=utf-8"
    older = await browser.get("/static/0123456789ab/main.js")
    assert older.status_code == 200 and older.headers["cache-control"] == "no-cache"
    assert (await browser.get(f"/static/{ASSETS.version}/nope.js")).status_code == 404
    escaped = await browser.get(f"/static/{ASSETS.version}/%2E%2E/pages.py")
    assert escaped.status_code == 404  # a fixed table of files, never a file system path


def _sources(folder: Traversable, suffixes: tuple[str, ...]) -> dict[str, str]:
    found: dict[str, str] = {}
    for item in folder.iterdir():
        if item.is_dir():
            found |= {f"{item.name}/{k}": v for k, v in _sources(item, suffixes).items()}
        elif item.name.endswith(suffixes):
            found[item.name] = item.read_text(encoding="utf-8")
    return found


def test_no_static_file_or_template_points_to_another_host() -> None:
    texts = _sources(STATIC, (".js", ".css")) | _sources(TEMPLATES, (".js", ".html"))
    assert "main.js" in texts and "app.css" in texts and "widget.js" in texts
    foreign = {
        name: urls
        for name, text in texts.items()
        if (urls := [u for u in URL.findall(text) if not NOT_REQUESTS.match(u)])
    }
    assert foreign == {}
    for name, text in texts.items():
        assert "@import" not in text and "@font-face" not in text, name
        assert ".innerHTML" not in text and "insertAdjacentHTML" not in text, name
        assert "eval(" not in text and "new Function" not in text, name


def test_every_module_import_resolves_to_a_shipped_file() -> None:
    modules = _sources(STATIC, (".js",))
    for name, text in modules.items():
        folder = name.rsplit("/", 1)[0] + "/" if "/" in name else ""
        for target in re.findall(r'from "(\.{1,2}/[^"]+)"', text):
            parts = (folder + target).split("/")
            resolved: list[str] = []
            for part in parts:
                if part == "..":
                    resolved.pop()
                elif part not in (".", ""):
                    resolved.append(part)
            assert "/".join(resolved) in modules, f"{name} imports {target}"
