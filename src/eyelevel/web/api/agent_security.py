"""Second factor, own sessions and presence (``/me``); agents' roles and deactivation, and the
audit log (company admins)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, status
from pydantic import ConfigDict, Field

from eyelevel.core.actions import audit, memberships, presence, second_factor, sessions
from eyelevel.core.entities import Agent, AuditEntry, Role, Scope
from eyelevel.core.ids import AgentId
from eyelevel.web.auth import CurrentCaller, CurrentPrincipal, Svc
from eyelevel.web.schemas import ERRORS, AgentOut, In, Out
from eyelevel.web.scopes import needs

router = APIRouter(tags=["security"], responses=ERRORS)
Slug = Annotated[str, Path(max_length=50, pattern=r"^[a-z0-9-]+$")]
Presence = Literal["online", "away", "offline"]


def presence_of(agent: Agent) -> Presence:
    match agent.presence:
        case "online":
            return "online"
        case "away":
            return "away"
        case _:
            return "offline"


# -- shapes ----------------------------------------------------------------------------------


class TotpStartOut(Out):
    secret: str = Field(description="base32, for typing into an authenticator app")
    uri: str = Field(description="otpauth:// URI, usually shown as a QR code")


class TotpConfirmIn(In):
    code: str = Field(max_length=16, examples=["123456"])


class RecoveryCodesOut(Out):
    recovery_codes: list[str] = Field(description="each works once; shown only now")


class PasswordIn(In):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"password": "correct horse battery"}]}
    )

    password: str = Field(max_length=256)


class SessionInfoOut(Out):
    id: str
    created_at: datetime
    expires_at: datetime
    user_agent: str
    current: bool


class PresenceIn(In):
    model_config = ConfigDict(json_schema_extra={"examples": [{"presence": "away"}]})

    presence: Presence


class MemberPatchIn(In):
    model_config = ConfigDict(json_schema_extra={"examples": [{"role": "lead"}]})

    role: Role | None = Field(default=None, strict=False)
    active: bool | None = None


class AuditEntryOut(Out):
    id: int
    actor: str = Field(description='"agent:<id>", "token:<id>" or "operator"')
    action: str
    target: str
    data: dict[str, Any]
    created_at: datetime

    @classmethod
    def of(cls, e: AuditEntry) -> AuditEntryOut:
        return cls(
            id=e.id,
            actor=e.actor,
            action=e.action,
            target=e.target,
            data=e.data,
            created_at=e.created_at,
        )


class AuditPage(Out):
    items: list[AuditEntryOut]


# -- second factor ---------------------------------------------------------------------------


@router.post("/api/v1/me/totp", summary="Start setting up a TOTP second factor (agents)")
async def start_totp(svc: Svc, principal: CurrentPrincipal) -> TotpStartOut:
    """A new secret, not active until ``/me/totp/confirm``. While TOTP is on: 409."""
    secret, uri = await second_factor.check_start_totp(svc.ctx, principal)
    return TotpStartOut(secret=secret, uri=uri)


@router.post("/api/v1/me/totp/confirm", summary="Turn the second factor on with a first code")
async def confirm_totp(
    body: TotpConfirmIn, svc: Svc, principal: CurrentPrincipal
) -> RecoveryCodesOut:
    """A wrong code: ``422 validation_error`` (field ``code``)."""
    codes = await second_factor.check_confirm_totp(svc.ctx, principal, body.code)
    return RecoveryCodesOut(recovery_codes=codes)


@router.delete(
    "/api/v1/me/totp",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Turn the second factor off (needs the password)",
)
async def disable_totp(body: PasswordIn, svc: Svc, principal: CurrentPrincipal) -> None:
    """A wrong password: ``401 invalid_credentials`` (the session stays valid)."""
    await second_factor.check_disable_totp(svc.ctx, principal, body.password)


# -- sessions --------------------------------------------------------------------------------


@router.get("/api/v1/me/sessions", summary="My sign-in sessions")
async def list_sessions(
    svc: Svc, who: CurrentCaller, principal: CurrentPrincipal
) -> list[SessionInfoOut]:
    """``current`` marks the session of this request."""
    return [
        SessionInfoOut(
            id=s.id,
            created_at=s.created_at,
            expires_at=s.expires_at,
            user_agent=s.user_agent,
            current=s.current,
        )
        for s in await sessions.list_sessions(svc.ctx, principal, who.session_token)
    ]


@router.delete(
    "/api/v1/me/sessions/{session_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="End one of my sessions (its sockets close too)",
)
async def end_session(
    session_id: Annotated[str, Path(max_length=64)], svc: Svc, principal: CurrentPrincipal
) -> None:
    await sessions.check_end_session(svc.ctx, principal, session_id)


# -- presence --------------------------------------------------------------------------------


@router.put(
    "/api/v1/me/presence",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Set my presence (agents); colleagues get agent.presence",
)
async def set_presence(body: PresenceIn, svc: Svc, principal: CurrentPrincipal) -> None:
    await presence.check_set_presence(svc.ctx, principal, body.presence)


# -- company administration ------------------------------------------------------------------


@router.patch(
    "/api/v1/companies/{slug}/agents/{agent_id}",
    summary="Change an agent's role, or deactivate/reactivate them (admins)",
)
async def update_member(
    slug: Slug,
    agent_id: Annotated[int, Path(ge=1, le=2**62)],
    body: MemberPatchIn,
    svc: Svc,
    principal: CurrentPrincipal,
) -> AgentOut:
    """``active: false`` ends the agent's sessions (unless it works for another company too)
    and closes its open sockets (4401). Leaving the company without an active admin:
    ``409 last_admin``."""
    change = await memberships.check_update_member(
        svc.ctx,
        principal,
        company_slug=slug,
        agent_id=AgentId(agent_id),
        role=body.role,
        active=body.active,
    )
    a, m = change.agent, change.membership
    return AgentOut(
        id=a.id, name=a.name, role=m.role, active=m.active and a.active, presence=presence_of(a)
    )


@router.get(
    "/api/v1/companies/{slug}/audit",
    summary="The audit log, newest first (admins)",
    openapi_extra=needs(Scope.REPORTS_READ),
)
async def audit_log(
    slug: Slug,
    svc: Svc,
    principal: CurrentPrincipal,
    before_id: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    limit: Annotated[int, Query(ge=1, le=audit.MAX_PAGE)] = 50,
) -> AuditPage:
    entries = await audit.list_audit(svc.ctx, principal, slug, before_id=before_id, limit=limit)
    return AuditPage(items=[AuditEntryOut.of(e) for e in entries])
