"""Public company cards and search; staff, invitations and API tokens for members/admins."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from eyelevel.core import queries
from eyelevel.core.actions import accounts, tokens
from eyelevel.core.entities import Scope
from eyelevel.core.ids import TokenId
from eyelevel.web.api.agent_security import presence_of
from eyelevel.web.auth import CurrentPrincipal, Svc
from eyelevel.web.schemas import (
    ERRORS,
    AgentOut,
    CompanyOut,
    InvitationOut,
    InviteIn,
    NewTokenOut,
    StaffOut,
    TeamOut,
    TokenIn,
    TokenOut,
)
from eyelevel.web.scopes import needs

router = APIRouter(prefix="/api/v1/companies", tags=["companies"], responses=ERRORS)
Slug = Annotated[str, Path(max_length=50, pattern=r"^[a-z0-9-]+$")]


@router.get("", summary="Find companies by name")
async def search(
    svc: Svc,
    q: Annotated[str, Query(max_length=100)] = "",
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> list[CompanyOut]:
    now = svc.ctx.clock.now()
    # control characters (NUL among them, which PostgreSQL refuses) separate words
    q = "".join(ch if ch.isprintable() else " " for ch in q)
    return [CompanyOut.of(c, now) for c in await queries.search_companies(svc.ctx, q, limit)]


@router.get("/{slug}", summary="A company's public card")
async def card(slug: Slug, svc: Svc) -> CompanyOut:
    return CompanyOut.of(await queries.company_card(svc.ctx, slug), svc.ctx.clock.now())


@router.get(
    "/{slug}/staff",
    summary="Teams and agents (members only)",
    openapi_extra=needs(Scope.CONVERSATIONS_READ),
)
async def staff(slug: Slug, svc: Svc, principal: CurrentPrincipal) -> StaffOut:
    _, teams, team_members, members = await queries.company_staff(svc.ctx, principal, slug)
    return StaffOut(
        teams=[
            TeamOut(id=t.id, name=t.name, agent_ids=list(team_members.get(t.id, []))) for t in teams
        ],
        agents=[
            AgentOut(
                id=a.id,
                name=a.name,
                role=m.role,
                active=m.active and a.active,
                presence=presence_of(a),
            )
            for a, m in members
        ],
    )


@router.post(
    "/{slug}/invitations",
    status_code=status.HTTP_201_CREATED,
    summary="Invite an agent by email (admins)",
)
async def invite(
    slug: Slug, body: InviteIn, svc: Svc, principal: CurrentPrincipal
) -> InvitationOut:
    await accounts.check_invite_agent(
        svc.ctx, principal, company_slug=slug, email=body.email, role=body.role
    )
    return InvitationOut(email=body.email.strip().lower(), role=body.role)


@router.get("/{slug}/tokens", summary="List API tokens (admins)")
async def list_tokens(slug: Slug, svc: Svc, principal: CurrentPrincipal) -> list[TokenOut]:
    return [TokenOut.of(t) for t in await tokens.list_tokens(svc.ctx, principal, slug)]


@router.post(
    "/{slug}/tokens", status_code=status.HTTP_201_CREATED, summary="Create an API token (admins)"
)
async def create_token(
    slug: Slug, body: TokenIn, svc: Svc, principal: CurrentPrincipal
) -> NewTokenOut:
    token, secret = await tokens.check_create_token(
        svc.ctx,
        principal,
        company_slug=slug,
        name=body.name,
        scopes=[s.value for s in body.scopes],
        expires_at=body.expires_at,
    )
    return NewTokenOut(**TokenOut.of(token).model_dump(), token=secret)


@router.delete(
    "/{slug}/tokens/{token_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke an API token (admins)",
)
async def revoke_token(
    slug: Slug,
    token_id: Annotated[int, Path(ge=1, le=2**62)],
    svc: Svc,
    principal: CurrentPrincipal,
) -> None:
    await tokens.check_revoke_token(
        svc.ctx, principal, company_slug=slug, token_id=TokenId(token_id)
    )
