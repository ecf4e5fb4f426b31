"""Labels: a company's list (members), kept by admins; the labels on a conversation."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status
from pydantic import ConfigDict, Field

from eyelevel.core.actions import labels
from eyelevel.core.entities import Label, Scope
from eyelevel.core.ids import ConversationId, LabelId
from eyelevel.web.api import conversations
from eyelevel.web.api.companies import Slug
from eyelevel.web.auth import CurrentPrincipal, Svc
from eyelevel.web.schemas import ERRORS, ConversationOut, In, Out
from eyelevel.web.scopes import needs

router = APIRouter(prefix="/api/v1", tags=["labels"], responses=ERRORS)
LabelPath = Annotated[int, Path(ge=1, le=2**62, description="label id")]
ConvId = Annotated[int, Path(ge=1, le=2**62, description="conversation id")]


class LabelIn(In):
    name: str = Field(max_length=200, examples=["Rechnung"], description="1-50 characters")
    color: str = Field(max_length=20, examples=["#d93f0b"], description="#rrggbb")


class LabelPatchIn(In):
    model_config = ConfigDict(json_schema_extra={"examples": [{"color": "#0b6bd9"}]})

    name: str | None = Field(default=None, max_length=200)
    color: str | None = Field(default=None, max_length=20)


class ConversationLabelsIn(In):
    model_config = ConfigDict(json_schema_extra={"examples": [{"label_ids": [2, 5]}]})

    label_ids: list[Annotated[int, Field(ge=1, le=2**62)]] = Field(
        max_length=200, description="the complete new set (an empty list removes all)"
    )


class LabelOut(Out):
    id: int
    name: str
    color: str

    @classmethod
    def of(cls, label: Label) -> LabelOut:
        return cls(id=label.id, name=label.name, color=label.color)


@router.get(
    "/companies/{slug}/labels",
    summary="The company's labels (members)",
    openapi_extra=needs(Scope.CONVERSATIONS_READ),
)
async def list_labels(slug: Slug, svc: Svc, principal: CurrentPrincipal) -> list[LabelOut]:
    return [LabelOut.of(lb) for lb in await labels.list_labels(svc.ctx, principal, slug)]


@router.post(
    "/companies/{slug}/labels",
    status_code=status.HTTP_201_CREATED,
    summary="Create a label (admins)",
)
async def create_label(
    slug: Slug, body: LabelIn, svc: Svc, principal: CurrentPrincipal
) -> LabelOut:
    """A name the company already uses (ignoring case) is refused with ``label_taken``."""
    label = await labels.check_create_label(
        svc.ctx, principal, slug, name=body.name, color=body.color
    )
    return LabelOut.of(label)


@router.patch("/companies/{slug}/labels/{label_id}", summary="Rename or recolour (admins)")
async def update_label(
    slug: Slug, label_id: LabelPath, body: LabelPatchIn, svc: Svc, principal: CurrentPrincipal
) -> LabelOut:
    label = await labels.check_update_label(
        svc.ctx, principal, slug, LabelId(label_id), name=body.name, color=body.color
    )
    return LabelOut.of(label)


@router.delete(
    "/companies/{slug}/labels/{label_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a label, also from its conversations (admins)",
)
async def delete_label(
    slug: Slug, label_id: LabelPath, svc: Svc, principal: CurrentPrincipal
) -> None:
    await labels.check_delete_label(svc.ctx, principal, slug, LabelId(label_id))


@router.put(
    "/conversations/{conversation_id}/labels",
    summary="Set a conversation's labels (company members)",
    openapi_extra=needs(Scope.CONVERSATIONS_WRITE),
)
async def set_labels(
    conversation_id: ConvId, body: ConversationLabelsIn, svc: Svc, principal: CurrentPrincipal
) -> ConversationOut:
    """A label that is not one of the conversation's company's is refused with
    ``invalid_label``, and nothing changes. Returns the conversation as ``GET`` shows it."""
    await labels.check_set_labels(
        svc.ctx, principal, ConversationId(conversation_id), body.label_ids
    )
    return await conversations.get(conversation_id, svc, principal)
