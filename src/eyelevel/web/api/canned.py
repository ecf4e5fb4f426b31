"""Canned responses: company-wide ones (admins) and each agent's personal ones."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status
from pydantic import ConfigDict, Field

from eyelevel.core.actions import canned
from eyelevel.core.entities import MAX_BODY_CHARS, CannedResponse, Scope
from eyelevel.core.ids import CannedResponseId
from eyelevel.web.api.companies import Slug
from eyelevel.web.auth import CurrentPrincipal, Svc
from eyelevel.web.schemas import ERRORS, In, Out
from eyelevel.web.scopes import needs

router = APIRouter(prefix="/api/v1/companies", tags=["canned responses"], responses=ERRORS)
CannedPath = Annotated[int, Path(ge=1, le=2**62, description="canned response id")]


class CannedIn(In):
    shortcut: str = Field(max_length=200, examples=["versand"], description="1-50 of a-z 0-9 _ -")
    body: str = Field(
        max_length=MAX_BODY_CHARS + 1000,
        examples=["Hallo {customer.first_name}, Ihr Paket ist unterwegs. {agent.first_name}"],
        description="placeholders such as {customer.first_name} are filled in by the client",
    )
    personal: bool = Field(
        default=False, description="true: only mine; false: company-wide (admins)"
    )


class CannedPatchIn(In):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"body": "Ihr Paket ist unterwegs."}]}
    )

    shortcut: str | None = Field(default=None, max_length=200)
    body: str | None = Field(default=None, max_length=MAX_BODY_CHARS + 1000)


class CannedOut(Out):
    id: int
    shortcut: str
    body: str
    personal: bool

    @classmethod
    def of(cls, c: CannedResponse) -> CannedOut:
        return cls(id=c.id, shortcut=c.shortcut, body=c.body, personal=c.agent_id is not None)


@router.get(
    "/{slug}/canned-responses",
    summary="Company-wide canned responses and my personal ones (members)",
    openapi_extra=needs(Scope.CONVERSATIONS_READ),
)
async def list_canned(slug: Slug, svc: Svc, principal: CurrentPrincipal) -> list[CannedOut]:
    return [CannedOut.of(c) for c in await canned.list_canned(svc.ctx, principal, slug)]


@router.post(
    "/{slug}/canned-responses",
    status_code=status.HTTP_201_CREATED,
    summary="Create a canned response (company-wide: admins)",
)
async def create_canned(
    slug: Slug, body: CannedIn, svc: Svc, principal: CurrentPrincipal
) -> CannedOut:
    created = await canned.check_create_canned(
        svc.ctx, principal, slug, shortcut=body.shortcut, body=body.body, personal=body.personal
    )
    return CannedOut.of(created)


@router.patch(
    "/{slug}/canned-responses/{canned_id}",
    summary="Change a canned response (personal: its owner; company-wide: admins)",
)
async def update_canned(
    slug: Slug, canned_id: CannedPath, body: CannedPatchIn, svc: Svc, principal: CurrentPrincipal
) -> CannedOut:
    updated = await canned.check_update_canned(
        svc.ctx,
        principal,
        slug,
        CannedResponseId(canned_id),
        shortcut=body.shortcut,
        body=body.body,
    )
    return CannedOut.of(updated)


@router.delete(
    "/{slug}/canned-responses/{canned_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a canned response (personal: its owner; company-wide: admins)",
)
async def delete_canned(
    slug: Slug, canned_id: CannedPath, svc: Svc, principal: CurrentPrincipal
) -> None:
    await canned.check_delete_canned(svc.ctx, principal, slug, CannedResponseId(canned_id))
