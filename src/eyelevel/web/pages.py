"""The pages that links in mails lead to: confirm an email address, accept an invitation,
stop a company's notification mails (the one-click unsubscribe, RFC 8058).

Plain server-rendered HTML forms (they work without JavaScript), German or English
(:mod:`eyelevel.web.i18n`), no request to any other host. The token in the link is the
credential, so the forms need no session; a foreign ``Origin`` is refused all the same.
"""

from __future__ import annotations

from importlib.resources import files
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from eyelevel.core.actions import accounts, contact
from eyelevel.core.errors import DomainError
from eyelevel.web.auth import foreign_origin, set_session_cookies
from eyelevel.web.i18n import Translator, render, template_environment, translator_for
from eyelevel.web.state import services

router = APIRouter(include_in_schema=False)
MAX_FORM = 4096
MAX_TOKEN = 300
TEMPLATES = template_environment(files("eyelevel.web") / "templates")
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    # the token in the URL must not leak to other sites; "no-referrer" would also make the
    # browser send "Origin: null" with the form, which the origin check refuses
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


def _page(t: Translator, title: str, status: int = 200, **context: Any) -> HTMLResponse:
    context = {"error": None, "lead": None, "form": None, "done": None, **context}
    body = render(TEMPLATES, "mail_link.html", t, title=title, **context)
    return HTMLResponse(body, status_code=status, headers=HEADERS)


def _error(t: Translator, message: str, status: int = 400) -> HTMLResponse:
    return _page(t, t.gettext("That did not work"), status, error=message)


def _missing(t: Translator) -> HTMLResponse:
    return _error(t, t.gettext("The link is incomplete."))


def _invalid(t: Translator) -> HTMLResponse:
    return _error(t, t.gettext("This link is invalid or has expired."))


async def _form(request: Request) -> dict[str, str] | None:
    """The posted form with a token, or None when it is foreign, too large or unreadable."""
    if foreign_origin(services(request), request.headers.get("origin")):
        return None
    raw = await request.body()
    if len(raw) > MAX_FORM:
        return None
    try:
        parsed = parse_qs(raw.decode(), max_num_fields=10)
    except (UnicodeDecodeError, ValueError):
        return None
    form = {k: v[0] for k, v in parsed.items() if v}
    return form if form.get("token") else None


def _verify_title(t: Translator) -> str:
    return t.gettext("Confirm your email address")


def _invite_title(t: Translator) -> str:
    return t.gettext("Accept the invitation")


def _invite_lead(t: Translator) -> str:
    return t.gettext("Choose your name and a password (at least 10 characters).")


@router.get("/verify")
async def verify_page(request: Request, token: str = "") -> HTMLResponse:
    t = translator_for(request)
    if not token or len(token) > MAX_TOKEN:
        return _missing(t)
    return _page(
        t,
        _verify_title(t),
        lead=t.gettext("One click and your eyelevel account is ready to write."),
        form={
            "action": "/verify",
            "token": token,
            "button": t.gettext("Confirm now"),
            "invite": False,
        },
    )


@router.post("/verify")
async def verify_submit(request: Request) -> HTMLResponse:
    t = translator_for(request)
    form = await _form(request)
    if form is None:
        return _missing(t)
    try:
        await accounts.check_verify_email(services(request).ctx, form["token"][:MAX_TOKEN])
    except DomainError:
        return _invalid(t)
    return _page(t, _verify_title(t), done="verified")


@router.get("/app/invite")
async def invite_page(request: Request, token: str = "") -> HTMLResponse:
    t = translator_for(request)
    if not token or len(token) > MAX_TOKEN:
        return _missing(t)
    return _page(
        t,
        _invite_title(t),
        lead=_invite_lead(t),
        form={
            "action": "/app/invite",
            "token": token,
            "button": t.gettext("Accept invitation"),
            "invite": True,
        },
    )


@router.post("/app/invite")
async def invite_submit(request: Request) -> HTMLResponse:
    t = translator_for(request)
    form = await _form(request)
    if form is None:
        return _missing(t)
    svc = services(request)
    try:
        session = await accounts.check_accept_invitation(
            svc.ctx,
            token=form["token"][:MAX_TOKEN],
            name=form.get("name", "")[:100],
            password=form.get("password", "")[:256],
        )
    except DomainError as exc:
        # a field error means the name or password broke the rules the form states
        return _invalid(t) if exc.field is None else _error(t, _invite_lead(t))
    response = _page(t, _invite_title(t), done="accepted")
    set_session_cookies(response, session, secure=svc.secure_cookies)
    return response


def _unsubscribe_title(t: Translator) -> str:
    return t.gettext("No more emails")


@router.get("/unsubscribe/{token}")
async def unsubscribe_page(request: Request, token: str) -> HTMLResponse:
    """Shows what the button does; only the POST changes anything (a link preview or a mail
    scanner following the link must not unsubscribe anybody)."""
    t = translator_for(request)
    if len(token) > MAX_TOKEN:
        return _invalid(t)
    try:
        company = await contact.unsubscribe_company(services(request).ctx, token)
    except DomainError:
        return _invalid(t)
    return _page(
        t,
        _unsubscribe_title(t),
        lead=t.gettext("Stop notification emails from %(company)s?") % {"company": company.name},
        form={
            "action": f"/unsubscribe/{token}",
            "token": token,
            "button": t.gettext("Unsubscribe"),
            "invite": False,
        },
    )


@router.post("/unsubscribe/{token}")
async def unsubscribe_submit(request: Request, token: str) -> HTMLResponse:
    """The one-click POST (``List-Unsubscribe=One-Click`` from a mail client, or the page's
    button): no login, no cookie; the signed token is the credential."""
    t = translator_for(request)
    if foreign_origin(services(request), request.headers.get("origin")) or len(token) > MAX_TOKEN:
        return _invalid(t)
    try:
        company = await contact.check_unsubscribe(services(request).ctx, token)
    except DomainError:
        return _invalid(t)
    return _page(
        t,
        _unsubscribe_title(t),
        done="unsubscribed",
        lead=t.gettext(
            "Done: %(company)s will not send you notification emails any more. You can turn "
            "them on again on the company's privacy card in the messenger."
        )
        % {"company": company.name},
    )
