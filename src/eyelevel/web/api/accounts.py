"""Sign-up, email verification, sign-in and sign-out, invitations."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response, status

from eyelevel.core import queries
from eyelevel.core.actions import accounts, visitors
from eyelevel.core.principals import AgentPrincipal, CustomerPrincipal, TokenPrincipal, role_in
from eyelevel.web.auth import (
    CurrentCaller,
    CurrentPrincipal,
    Svc,
    clear_session_cookies,
    same_origin,
    set_session_cookies,
)
from eyelevel.web.ratelimit import sign_in_attempt
from eyelevel.web.schemas import (
    ERRORS,
    AcceptInviteIn,
    BearerSessionOut,
    ClaimedOut,
    ClaimIn,
    LoginIn,
    MembershipOut,
    MeOut,
    SessionOut,
    SignupIn,
    VerifyIn,
    VisitorIn,
)
from eyelevel.web.scopes import any_token

router = APIRouter(
    prefix="/api/v1/auth",
    tags=["auth"],
    responses=ERRORS,
    dependencies=[Depends(same_origin)],  # sign-in and sign-up must come from our own pages
)


@router.post("/signup", status_code=status.HTTP_201_CREATED, summary="Create a customer account")
async def signup(body: SignupIn, svc: Svc, request: Request, response: Response) -> SessionOut:
    """Creates the account, mails a verification link and signs the customer in."""
    async with sign_in_attempt(request, failures_only=False):
        _, session = await accounts.check_signup_customer(
            svc.ctx, email=body.email, password=body.password, display_name=body.display_name
        )
    set_session_cookies(response, session, secure=svc.secure_cookies)
    return SessionOut(kind="customer", csrf_token=session.csrf_token, expires_at=session.expires_at)


@router.post("/verify", status_code=status.HTTP_204_NO_CONTENT, summary="Verify an email address")
async def verify(body: VerifyIn, svc: Svc) -> None:
    await accounts.check_verify_email(svc.ctx, body.token)


@router.post("/login", summary="Sign in (customer or agent)")
async def login(body: LoginIn, svc: Svc, request: Request, response: Response) -> SessionOut:
    """An agent with a second factor sends ``otp`` too: without it the answer is
    ``401 second_factor_required``, with a wrong or used one ``401 invalid_second_factor``."""
    async with sign_in_attempt(request, account=body.email):
        session = await accounts.check_login(
            svc.ctx,
            kind=body.kind,
            email=body.email,
            password=body.password,
            otp=body.otp,
            user_agent=request.headers.get("user-agent", ""),
        )
    set_session_cookies(response, session, secure=svc.secure_cookies)
    return SessionOut(kind=body.kind, csrf_token=session.csrf_token, expires_at=session.expires_at)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, summary="Sign out")
async def logout(who: CurrentCaller, svc: Svc, response: Response) -> None:
    if who.session_token is not None:
        await accounts.check_logout(svc.ctx, who.session_token)
    clear_session_cookies(response)


@router.post(
    "/visitor",
    status_code=status.HTTP_201_CREATED,
    summary="Start as an anonymous visitor (the website widget)",
)
async def visitor(body: VisitorIn, svc: Svc, request: Request) -> BearerSessionOut:
    """For pages that cannot keep cookies (a widget in a cross-site iframe): the response's
    token is the visitor's only credential. The visitor may write to companies at once and
    keep its conversations later with ``/auth/claim``."""
    async with sign_in_attempt(request, failures_only=False):
        customer, session = await visitors.check_create_visitor(
            svc.ctx, display_name=body.display_name
        )
    return BearerSessionOut(
        token=session.token, expires_at=session.expires_at, customer_id=customer.id
    )


@router.post("/claim", summary="Keep a visitor's conversations under an email")
async def claim(
    body: ClaimIn, svc: Svc, principal: CurrentPrincipal, request: Request
) -> ClaimedOut:
    """A new email turns the visitor into an account (a confirmation mail is sent). The email
    of an existing account, with its password, moves the visitor's conversations into that
    account. Either way the response holds the token to use from now on."""
    async with sign_in_attempt(request, account=body.email):
        claimed = await visitors.check_claim_visitor(
            svc.ctx,
            principal,
            email=body.email,
            password=body.password,
            display_name=body.display_name,
        )
    return ClaimedOut(
        token=claimed.session.token,
        expires_at=claimed.session.expires_at,
        customer_id=claimed.customer_id,
        merged=claimed.merged,
    )


@router.post("/accept-invitation", summary="Accept an agent invitation and sign in as that agent")
async def accept_invitation(
    body: AcceptInviteIn, svc: Svc, request: Request, response: Response
) -> SessionOut:
    async with sign_in_attempt(request, failures_only=False):
        session = await accounts.check_accept_invitation(
            svc.ctx, token=body.token, name=body.name, password=body.password
        )
    set_session_cookies(response, session, secure=svc.secure_cookies)
    return SessionOut(kind="agent", csrf_token=session.csrf_token, expires_at=session.expires_at)


@router.get("/me", summary="Who am I", openapi_extra=any_token())
async def me(principal: CurrentPrincipal, svc: Svc) -> MeOut:
    memberships = [
        MembershipOut(company_id=c.id, slug=c.slug, name=c.name, role=role)
        for c in await queries.member_companies(svc.ctx, principal)
        if (role := role_in(principal, c.id)) is not None
    ]
    match principal:
        case CustomerPrincipal():
            return MeOut(
                kind="customer",
                id=principal.customer_id,
                name=principal.display_name,
                email_verified=principal.email_verified,
                anonymous=principal.anonymous,
            )
        case AgentPrincipal():
            return MeOut(
                kind="agent",
                id=principal.agent_id,
                name=principal.name,
                companies={str(c): r.value for c, r in principal.roles.items()},
                memberships=memberships,
            )
        case TokenPrincipal():
            return MeOut(
                kind="token",
                id=principal.token_id,
                name=principal.name,
                companies={str(principal.company_id): "admin"},
                memberships=memberships,
            )
