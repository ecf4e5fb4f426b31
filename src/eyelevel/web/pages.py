"""The two pages that links in mails lead to: confirm an email address, accept an invitation.

Plain server-rendered HTML forms (they work without JavaScript), German or English by the
browser's language, no request to any other host. The token in the link is the credential,
so the forms need no session; a foreign ``Origin`` is refused all the same.
"""

from __future__ import annotations

import html
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from eyelevel.core.actions import accounts
from eyelevel.core.errors import DomainError
from eyelevel.web.auth import foreign_origin, set_session_cookies
from eyelevel.web.state import services

router = APIRouter(include_in_schema=False)
MAX_FORM = 4096

TEXT = {
    "de": {
        "verify_title": "E-Mail-Adresse bestätigen",
        "verify_lead": "Ein Klick, und dein eyelevel-Konto ist bereit zum Schreiben.",
        "verify_button": "Jetzt bestätigen",
        "verified": "Danke! Deine E-Mail-Adresse ist bestätigt. "
        "Du kannst jetzt Unternehmen schreiben.",
        "invite_title": "Einladung annehmen",
        "invite_lead": "Lege deinen Namen und ein Passwort (mindestens 10 Zeichen) fest.",
        "name": "Name",
        "password": "Passwort",
        "invite_button": "Einladung annehmen",
        "accepted": "Willkommen! Dein Zugang ist eingerichtet und du bist angemeldet. "
        "Die API-Dokumentation findest du unter",
        "invalid": "Dieser Link ist ungültig oder abgelaufen.",
        "error": "Das hat nicht geklappt",
        "missing": "Der Link ist unvollständig.",
    },
    "en": {
        "verify_title": "Confirm your email address",
        "verify_lead": "One click and your eyelevel account is ready to write.",
        "verify_button": "Confirm now",
        "verified": "Thank you! Your email address is confirmed. You can write to companies now.",
        "invite_title": "Accept the invitation",
        "invite_lead": "Choose your name and a password (at least 10 characters).",
        "name": "Name",
        "password": "Password",
        "invite_button": "Accept invitation",
        "accepted": "Welcome! Your account is set up and you are signed in. "
        "The API documentation is at",
        "invalid": "This link is invalid or has expired.",
        "error": "That did not work",
        "missing": "The link is incomplete.",
    },
}

STYLE = """
body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1d2330}
main{max-width:26rem;margin:4rem auto;background:#fff;padding:2rem;border-radius:12px;
box-shadow:0 1px 4px #0002}h1{font-size:1.4rem;margin-top:0}
label{display:block;margin:.8rem 0 .2rem}
input{width:100%;box-sizing:border-box;padding:.6rem;border:1px solid #b8bfcc;
border-radius:8px;font:inherit}
button{margin-top:1.2rem;width:100%;padding:.7rem;border:0;border-radius:8px;background:#1f5fd6;
color:#fff;font:inherit;cursor:pointer}.error{color:#b3261e}
"""


def _lang(request: Request) -> str:
    accept = request.headers.get("accept-language", "").lower()
    for part in accept.split(","):
        code = part.split(";")[0].strip()[:2]
        if code in TEXT:
            return code
    return "en"


def _page(lang: str, title: str, body: str, status: int = 200) -> HTMLResponse:
    doc = (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{html.escape(title)} · eyelevel</title><style>{STYLE}</style></head>"
        f"<body><main><h1>{html.escape(title)}</h1>{body}</main></body></html>"
    )
    return HTMLResponse(
        doc,
        status_code=status,
        headers={
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
            "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            # the token in the URL must not leak to other sites; "no-referrer" would also make
            # the browser send "Origin: null" with the form, which the origin check refuses
            "Referrer-Policy": "same-origin",
            "Cache-Control": "no-store",
        },
    )


async def _form(request: Request) -> dict[str, str] | None:
    if foreign_origin(services(request), request.headers.get("origin")):
        return None
    raw = await request.body()
    if len(raw) > MAX_FORM:
        return None
    try:
        parsed = parse_qs(raw.decode(), max_num_fields=10)
    except (UnicodeDecodeError, ValueError):
        return None
    return {k: v[0] for k, v in parsed.items() if v}


def _error(lang: str, t: dict[str, str], message: str, status: int) -> HTMLResponse:
    return _page(lang, t["error"], f'<p class="error">{html.escape(message)}</p>', status)


def _token_form(
    request: Request,
    token: str,
    *,
    action: str,
    title: str,
    lead: str,
    button: str,
    fields: str = "",
) -> HTMLResponse:
    """A page with a form that posts the link's token (plus ``fields``) back to ``action``."""
    lang = _lang(request)
    t = TEXT[lang]
    if not token or len(token) > 300:
        return _error(lang, t, t["missing"], 400)
    return _page(
        lang,
        t[title],
        f"<p>{t[lead]}</p><form method=post action={action}>"
        f'<input type=hidden name=token value="{html.escape(token)}">'
        f"{fields}<button>{t[button]}</button></form>",
    )


async def _submitted(request: Request) -> tuple[str, dict[str, str], dict[str, str] | None]:
    """(language, texts, form) of a posted token form; the form is None when unusable."""
    lang = _lang(request)
    form = await _form(request)
    return lang, TEXT[lang], form if form is not None and form.get("token") else None


@router.get("/verify")
async def verify_page(request: Request, token: str = "") -> HTMLResponse:
    return _token_form(
        request,
        token,
        action="/verify",
        title="verify_title",
        lead="verify_lead",
        button="verify_button",
    )


@router.post("/verify")
async def verify_submit(request: Request) -> HTMLResponse:
    lang, t, form = await _submitted(request)
    if form is None:
        return _error(lang, t, t["missing"], 400)
    try:
        await accounts.check_verify_email(services(request).ctx, form["token"][:300])
    except DomainError:
        return _error(lang, t, t["invalid"], 400)
    return _page(lang, t["verify_title"], f"<p>{t['verified']}</p>")


@router.get("/app/invite")
async def invite_page(request: Request, token: str = "") -> HTMLResponse:
    t = TEXT[_lang(request)]
    return _token_form(
        request,
        token,
        action="/app/invite",
        title="invite_title",
        lead="invite_lead",
        button="invite_button",
        fields=(
            f"<label for=name>{t['name']}</label>"
            "<input id=name name=name required maxlength=100 autocomplete=name>"
            f"<label for=password>{t['password']}</label>"
            "<input id=password name=password type=password required minlength=10 "
            "maxlength=256 autocomplete=new-password>"
        ),
    )


@router.post("/app/invite")
async def invite_submit(request: Request) -> HTMLResponse:
    lang, t, form = await _submitted(request)
    if form is None:
        return _error(lang, t, t["missing"], 400)
    svc = services(request)
    try:
        session = await accounts.check_accept_invitation(
            svc.ctx,
            token=form["token"][:300],
            name=form.get("name", "")[:100],
            password=form.get("password", "")[:256],
        )
    except DomainError as exc:
        # a field error means the name or password broke the rules the form states
        message = t["invalid"] if exc.field is None else t["invite_lead"]
        return _error(lang, t, message, 400)
    response = _page(
        lang,
        t["invite_title"],
        f'<p>{t["accepted"]} <a href="/api/v1/docs">/api/v1/docs</a>.</p>',
    )
    set_session_cookies(response, session, secure=svc.secure_cookies)
    return response
