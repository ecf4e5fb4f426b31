"""Labels: defined by a company's admins, put on conversations by its members.

Which labels a conversation carries is company-internal: the customer never sees them and never
gets ``conversation.labels_changed``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from eyelevel.core.actions.access import (
    access_company_txn,
    access_conversation_txn,
    require_role,
)
from eyelevel.core.actions.audit import audit_txn
from eyelevel.core.entities import Conversation, Label, Role
from eyelevel.core.errors import DomainError, ErrorCode, not_found
from eyelevel.core.events import labels_changed
from eyelevel.core.ids import ConversationId, LabelId
from eyelevel.core.ports import Context, UnitOfWork
from eyelevel.core.principals import CustomerPrincipal, Principal

MAX_LABEL_NAME = 50
MAX_LABELS_PER_CONVERSATION = 50
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


def check_label_name(name: str) -> str:
    name = " ".join(name.split())
    if not name or len(name) > MAX_LABEL_NAME:
        raise DomainError(
            ErrorCode.VALIDATION,
            f"name must have 1 to {MAX_LABEL_NAME} characters",
            field="name",
        )
    return name


def check_color(color: str) -> str:
    if not _COLOR.fullmatch(color):
        raise DomainError(ErrorCode.VALIDATION, "color must be #rrggbb", field="color")
    return color.lower()


def _taken() -> DomainError:
    return DomainError(
        ErrorCode.LABEL_TAKEN, "the company already has a label with this name", field="name"
    )


async def list_labels(ctx: Context, principal: Principal, slug: str) -> list[Label]:
    """Every label of the company, by name; for its members."""

    async def read(uow: UnitOfWork) -> list[Label]:
        company = await access_company_txn(uow, principal, slug, Role.AGENT)
        return await uow.labels.of_company(company.id)

    return await ctx.db.read(read)


async def check_create_label(
    ctx: Context, principal: Principal, slug: str, *, name: str, color: str
) -> Label:
    name = check_label_name(name)
    color = check_color(color)

    async def txn(uow: UnitOfWork) -> Label:
        company = await access_company_txn(uow, principal, slug, Role.ADMIN)
        if await uow.labels.get_by_name(company.id, name) is not None:
            raise _taken()
        now = ctx.clock.now()
        label = await uow.labels.create(company_id=company.id, name=name, color=color, now=now)
        await audit_txn(
            uow,
            principal,
            company.id,
            "label.created",
            target=f"label:{label.id}",
            data={"name": name, "color": color},
            now=now,
        )
        return label

    return await ctx.db.write("create_label", txn)


async def check_update_label(
    ctx: Context,
    principal: Principal,
    slug: str,
    label_id: LabelId,
    *,
    name: str | None = None,
    color: str | None = None,
) -> Label:
    """Rename or recolour; conversations keep the label (they refer to it by id)."""
    name = None if name is None else check_label_name(name)
    color = None if color is None else check_color(color)

    async def txn(uow: UnitOfWork) -> Label:
        company = await access_company_txn(uow, principal, slug, Role.ADMIN)
        label = await uow.labels.get(company.id, label_id)
        if label is None:
            raise not_found("label")
        new = Label(label.id, label.company_id, name or label.name, color or label.color)
        if new.name.lower() != label.name.lower():
            other = await uow.labels.get_by_name(company.id, new.name)
            if other is not None and other.id != label.id:
                raise _taken()
        changed = [f for f in ("name", "color") if getattr(new, f) != getattr(label, f)]
        if not changed:
            return label
        now = ctx.clock.now()
        await uow.labels.update(company.id, label.id, name=new.name, color=new.color)
        await audit_txn(
            uow,
            principal,
            company.id,
            "label.updated",
            target=f"label:{label.id}",
            data={"fields": changed, "name": new.name},
            now=now,
        )
        return new

    return await ctx.db.write("update_label", txn)


async def check_delete_label(
    ctx: Context, principal: Principal, slug: str, label_id: LabelId
) -> None:
    """Delete the label and take it off every conversation, each of which gets its
    ``conversation.labels_changed`` so open inboxes stay equal to a fresh fetch."""

    async def txn(uow: UnitOfWork) -> None:
        company = await access_company_txn(uow, principal, slug, Role.ADMIN)
        label = await uow.labels.get(company.id, label_id)
        if label is None:
            raise not_found("label")
        now = ctx.clock.now()
        affected = await uow.labels.delete(company.id, label.id)
        remaining = await uow.labels.of_conversations(company.id, affected)
        for conversation_id in affected:
            await uow.emit(
                labels_changed(company.id, conversation_id, remaining.get(conversation_id, [])),
                now,
            )
        await audit_txn(
            uow,
            principal,
            company.id,
            "label.deleted",
            target=f"label:{label.id}",
            data={"name": label.name, "conversations": len(affected)},
            now=now,
        )

    await ctx.db.write("delete_label", txn)


async def check_set_labels(
    ctx: Context,
    principal: Principal,
    conversation_id: ConversationId,
    label_ids: Sequence[int],
) -> Conversation:
    """Replace the conversation's labels. Any label that is not the conversation's company's
    (another company's, or none at all) refuses the whole change with ``invalid_label``."""
    if len(set(label_ids)) > MAX_LABELS_PER_CONVERSATION:
        raise DomainError(
            ErrorCode.VALIDATION,
            f"a conversation carries at most {MAX_LABELS_PER_CONVERSATION} labels",
            field="label_ids",
        )
    wanted = sorted({LabelId(i) for i in label_ids})

    async def txn(uow: UnitOfWork) -> Conversation:
        conversation = await access_conversation_txn(
            uow, principal, conversation_id, for_update=True
        )
        if isinstance(principal, CustomerPrincipal):  # may see it, so 403 reveals nothing
            raise DomainError(ErrorCode.FORBIDDEN, "only the company labels conversations")
        require_role(principal, conversation.company_id, Role.AGENT)
        if set(wanted) - await uow.labels.existing(conversation.company_id, wanted):
            raise DomainError(
                ErrorCode.INVALID_LABEL, "no such label in this company", field="label_ids"
            )
        current = await uow.labels.of_conversations(conversation.company_id, [conversation.id])
        if current.get(conversation.id, []) == wanted:
            return conversation
        await uow.labels.set_for_conversation(conversation, wanted)
        await uow.emit(
            labels_changed(conversation.company_id, conversation.id, wanted), ctx.clock.now()
        )
        return conversation

    return await ctx.db.write("set_labels", txn)
