"""The messenger's routes: the app shell at ``/``, the widget at ``/widget/{slug}``, its loader
``/widget.js``, the PWA's manifest, service worker and icons, and the static ES modules.

Every page is a shell without personal data; the modules fetch everything else from the
public API. Pages carry a strict Content-Security-Policy (scripts, styles and connections
from this origin only, no inline script) and may not be framed, except the widget, which is
made to be framed by any site.
"""

from __future__ import annotations

import json
from importlib.resources import files
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from markupsafe import Markup

from eyelevel.channels.messenger import icons
from eyelevel.core import queries
from eyelevel.core.entities import MAX_ATTACHMENT_BYTES, MAX_BODY_CHARS
from eyelevel.core.errors import DomainError
from eyelevel.web.assets import Assets
from eyelevel.web.i18n import (
    LANGUAGES,
    Translator,
    render,
    script_json,
    template_environment,
    translator_for,
)
from eyelevel.web.state import services

router = APIRouter(include_in_schema=False)

_HERE = files("eyelevel.channels.messenger")
ASSETS = Assets(_HERE / "static")
TEMPLATES = template_environment(_HERE / "templates")
ICON_SVG = (_HERE / "icons" / "icon.svg").read_bytes()
WIDGET_JS = (_HERE / "templates" / "widget.js").read_bytes()
LANGUAGE_NAMES = {"en": "English", "de": "Deutsch"}
SHELL = ["/", *ASSETS.urls(), "/manifest.webmanifest", "/icons/icon.svg", "/icons/icon-192.png"]
SERVICE_WORKER = (
    (_HERE / "templates" / "sw.js")
    .read_text(encoding="utf-8")
    .replace("__VERSION__", ASSETS.version)
    .replace("__SHELL__", json.dumps(SHELL))
    .encode()
)

JS = "text/javascript; charset=utf-8"
YEAR = "public, max-age=31536000, immutable"
Slug = Annotated[str, Path(max_length=50, pattern=r"^[a-z0-9-]+$")]


def content_security_policy(frame_ancestors: str) -> str:
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "connect-src 'self'",
            "img-src 'self' blob: data:",
            "style-src 'self'",
            "manifest-src 'self'",
            "worker-src 'self'",
            f"frame-ancestors {frame_ancestors}",
            "base-uri 'none'",
            "form-action 'self'",
        ]
    )


def _headers(*, framed: bool, cache: str = "no-cache") -> dict[str, str]:
    headers = {
        "Content-Security-Policy": content_security_policy("*" if framed else "'none'"),
        "Referrer-Policy": "same-origin",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": cache,
    }
    if not framed:
        headers["X-Frame-Options"] = "DENY"
    return headers


def _shell(t: Translator, *, mode: str, company: str | None, title: str) -> str:
    config: dict[str, Any] = {
        "mode": mode,
        "company": company,
        "lang": t.lang,
        "languages": {code: LANGUAGE_NAMES[code] for code in LANGUAGES},
        "maxUploadBytes": MAX_ATTACHMENT_BYTES,
        "maxBodyChars": MAX_BODY_CHARS,
        "version": ASSETS.version,
    }
    return render(
        TEMPLATES,
        "messenger.html",
        t,
        mode=mode,
        title=title,
        static=f"/static/{ASSETS.version}",
        catalog=Markup(t.for_scripts()),  # noqa: S704 - JSON made safe for <script> by for_scripts
        config=Markup(script_json(config)),  # noqa: S704 - escaped by script_json
    )


@router.get("/")
async def messenger(request: Request) -> HTMLResponse:
    t = translator_for(request)
    page = _shell(t, mode="app", company=None, title="eyelevel")
    return HTMLResponse(page, headers=_headers(framed=False))


@router.get("/widget/{slug}")
async def widget(slug: Slug, request: Request) -> HTMLResponse:
    t = translator_for(request)
    try:
        company = await queries.company_card(services(request).ctx, slug)
    except DomainError:
        missing = render(TEMPLATES, "missing.html", t, static=f"/static/{ASSETS.version}")
        return HTMLResponse(missing, status_code=404, headers=_headers(framed=True))
    page = _shell(t, mode="widget", company=slug, title=f"{company.name} · eyelevel")
    return HTMLResponse(page, headers=_headers(framed=True))


@router.get("/widget.js")
async def widget_loader() -> Response:
    return Response(
        WIDGET_JS,
        media_type=JS,
        headers={
            "Cache-Control": "public, max-age=3600",
            "X-Content-Type-Options": "nosniff",
            # loaded by other sites' pages, also by those that isolate themselves (COEP)
            "Cross-Origin-Resource-Policy": "cross-origin",
        },
    )


@router.get("/manifest.webmanifest")
async def manifest(request: Request) -> JSONResponse:
    t = translator_for(request)
    icon_list = [
        {"src": f"/icons/icon-{size}.png", "sizes": f"{size}x{size}", "type": "image/png"}
        for size in icons.SIZES
    ]
    icon_list += [
        {
            "src": "/icons/icon-maskable-512.png",
            "sizes": "512x512",
            "type": "image/png",
            "purpose": "maskable",
        },
        {"src": "/icons/icon.svg", "sizes": "any", "type": "image/svg+xml"},
    ]
    body = {
        "id": "/",
        "name": "eyelevel",
        "short_name": "eyelevel",
        "description": t.gettext("Write to companies the way you write to friends."),
        "lang": t.lang,
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "background_color": "#f3f4f7",
        "theme_color": "#1f5fd6",
        "icons": icon_list,
    }
    return JSONResponse(
        body,
        media_type="application/manifest+json",
        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
    )


@router.get("/sw.js")
async def service_worker() -> Response:
    # scope "/" is the worker's own folder, so no Service-Worker-Allowed header is needed
    return Response(
        SERVICE_WORKER,
        media_type=JS,
        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
    )


@router.get("/icons/{name}")
async def icon(name: Annotated[str, Path(max_length=40)]) -> Response:
    headers = {"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"}
    if name == "icon.svg":
        return Response(ICON_SVG, media_type="image/svg+xml", headers=headers)
    pngs = {f"icon-{size}.png": (size, False) for size in icons.SIZES}
    pngs["icon-maskable-512.png"] = (512, True)
    if name not in pngs:
        return Response(status_code=404, headers=headers)
    size, maskable = pngs[name]
    return Response(icons.png(size, maskable=maskable), media_type="image/png", headers=headers)


@router.get("/static/{version}/{path:path}")
async def static(version: Annotated[str, Path(max_length=40)], path: str) -> Response:
    asset = ASSETS.get(path)
    if asset is None:
        return Response(status_code=404, headers={"Cache-Control": "no-cache"})
    # an older version's URL (a page loaded before an update) gets today's file, uncached
    cache = YEAR if version == ASSETS.version else "no-cache"
    return Response(
        asset.body,
        media_type=asset.media_type,
        headers={"Cache-Control": cache, "X-Content-Type-Options": "nosniff"},
    )
