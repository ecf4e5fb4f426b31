"""Who is calling: a session cookie (browsers, with CSRF protection) or a bearer token.

A bearer token is either a company's API token or a session token held by a page that cannot
use cookies (the website widget in a cross-site iframe). Bearer tokens are never sent by the
browser on its own, so they need no CSRF protection. An API token is also held to the scope its
route declares (``web.scopes``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request, Response

from eyelevel.core import secrets
from eyelevel.core.actions.accounts import SESSION_PREFIX, NewSession, load_session
from eyelevel.core.actions.tokens import authenticate_token
from eyelevel.core.errors import DomainError, ErrorCode
from eyelevel.core.principals import Principal, TokenPrincipal
from eyelevel.web.ratelimit import check_token
from eyelevel.web.scopes import declared_scope, require_scope
from eyelevel.web.state import Services, services

SESSION_COOKIE = "eyelevel_session"
CSRF_COOKIE = "eyelevel_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Caller:
    principal: Principal | None
    session_token: str | None = None


def foreign_origin(svc: Services, origin: str | None) -> bool:
    """A browser said the request comes from a page that is not ours (no header: not a browser)."""
    return origin is not None and origin not in svc.origins


def unauthenticated() -> DomainError:
    return DomainError(ErrorCode.UNAUTHENTICATED, "sign in or send a valid API token")


async def resolve(
    svc: Services,
    *,
    authorization: str | None,
    session_cookie: str | None,
    method: str,
    csrf_header: str | None,
    origin: str | None,
) -> Caller:
    """Authenticate one request. Cookie-authenticated unsafe requests must carry the CSRF token."""
    if authorization is not None:
        scheme, _, credential = authorization.partition(" ")
        credential = credential.strip()
        if scheme.lower() != "bearer" or not credential:
            raise DomainError(ErrorCode.UNAUTHENTICATED, "use 'Authorization: Bearer <token>'")
        if credential.startswith(SESSION_PREFIX + "_"):
            loaded = await load_session(svc.ctx, credential)
            if loaded is None:
                raise DomainError(ErrorCode.UNAUTHENTICATED, "this session has ended")
            return Caller(loaded[0], credential)
        token = await authenticate_token(svc.ctx, credential)
        if token is None:
            raise DomainError(ErrorCode.UNAUTHENTICATED, "this API token is invalid or revoked")
        return Caller(token)
    if method not in SAFE_METHODS and foreign_origin(svc, origin):
        raise DomainError(ErrorCode.CSRF_FAILED, "cross-origin request refused")
    if session_cookie:
        loaded = await load_session(svc.ctx, session_cookie)
        if loaded is not None:
            principal, record = loaded
            if method not in SAFE_METHODS and (
                csrf_header is None or not secrets.same(csrf_header, record.csrf_token)
            ):
                raise DomainError(
                    ErrorCode.CSRF_FAILED, f"send the {CSRF_HEADER} header of your session"
                )
            return Caller(principal, session_cookie)
    return Caller(None)


async def same_origin(request: Request, svc: Annotated[Services, Depends(services)]) -> None:
    """For state-changing requests that create a session: refuse a foreign ``Origin``."""
    if request.method not in SAFE_METHODS and foreign_origin(svc, request.headers.get("origin")):
        raise DomainError(ErrorCode.CSRF_FAILED, "cross-origin request refused")


async def caller(request: Request, svc: Annotated[Services, Depends(services)]) -> Caller:
    cached: Caller | None = getattr(request.state, "caller", None)
    if cached is None:
        cached = await resolve(
            svc,
            authorization=request.headers.get("authorization"),
            session_cookie=request.cookies.get(SESSION_COOKIE),
            method=request.method,
            csrf_header=request.headers.get(CSRF_HEADER),
            origin=request.headers.get("origin"),
        )
        request.state.caller = cached
        if isinstance(cached.principal, TokenPrincipal):
            await check_token(request, cached.principal.token_id)
            require_scope(cached.principal, declared_scope(request.scope.get("route")))
    return cached


async def principal(who: Annotated[Caller, Depends(caller)]) -> Principal:
    if who.principal is None:
        raise unauthenticated()
    return who.principal


CurrentPrincipal = Annotated[Principal, Depends(principal)]
CurrentCaller = Annotated[Caller, Depends(caller)]
Svc = Annotated[Services, Depends(services)]


def set_session_cookies(response: Response, session: NewSession, *, secure: bool) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        session.token,
        expires=session.expires_at,
        httponly=True,
        secure=secure,
        samesite="lax",
        path="/",
    )
    # readable by the page's scripts, which echo it in the CSRF header (double submit)
    response.set_cookie(
        CSRF_COOKIE,
        session.csrf_token,
        expires=session.expires_at,
        httponly=False,
        secure=secure,
        samesite="lax",
        path="/",
    )


def clear_session_cookies(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
