"""The agent inbox's routes: the app shell at ``/app`` and its static ES modules and CSS.

The shell carries no personal data: the modules sign in and fetch everything else from the
public API. Like the messenger's pages it has a strict Content-Security-Policy (scripts,
styles and connections from this origin only, no inline script) and may not be framed. The
invitation page ``/app/invite`` stays in :mod:`eyelevel.web.pages`.
"""

from __future__ import annotations

from importlib.resources import files
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from eyelevel.core.entities import MAX_ATTACHMENT_BYTES, MAX_BODY_CHARS
from eyelevel.web.assets import Assets
from eyelevel.web.i18n import LANGUAGES, render, script_json, template_environment, translator_for

router = APIRouter(include_in_schema=False)

_HERE = files("eyelevel.web.inbox")
# the messenger's modules that know nothing of customers; their own imports stay in this set
SHARED = (
    "api.js",
    "config.js",
    "dom.js",
    "errors.js",
    "files.js",
    "i18n.js",
    "socket.js",
    "time.js",
)
ASSETS = Assets(
    _HERE / "static",
    mounts={"messenger": (files("eyelevel.channels.messenger") / "static", SHARED)},
)
TEMPLATES = template_environment(_HERE / "templates")
LANGUAGE_NAMES = {"en": "English", "de": "Deutsch"}
STATIC = "/app/static"
YEAR = "public, max-age=31536000, immutable"

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "connect-src 'self'",
        "img-src 'self' blob: data:",
        "style-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'self'",
    ]
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-cache",
}


@router.get("/app")
async def inbox(request: Request) -> HTMLResponse:
    t = translator_for(request)
    config: dict[str, Any] = {
        "mode": "inbox",
        "lang": t.lang,
        "languages": {code: LANGUAGE_NAMES[code] for code in LANGUAGES},
        "maxUploadBytes": MAX_ATTACHMENT_BYTES,
        "maxBodyChars": MAX_BODY_CHARS,
        "version": ASSETS.version,
    }
    page = render(
        TEMPLATES,
        "inbox.html",
        t,
        static=f"{STATIC}/{ASSETS.version}",
        catalog=Markup(t.for_scripts()),  # noqa: S704 - JSON made safe for <script> by for_scripts
        config=Markup(script_json(config)),  # noqa: S704 - escaped by script_json
    )
    return HTMLResponse(page, headers=HEADERS)


@router.get("/app/static/{version}/{path:path}")
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
