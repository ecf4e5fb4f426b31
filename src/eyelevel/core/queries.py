"""The read side: what a principal may see, fetched through the same access checks as writes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from eyelevel.core.actions.access import access_company_txn, access_conversation_txn
from eyelevel.core.actions.messages import reader_key, with_attachments_txn
from eyelevel.core.entities import (
    Agent,
    Company,
    Conversation,
    Event,
    Membership,
    Message,
    MessageKind,
    ReadMarker,
    Role,
    Team,
)
from eyelevel.core.errors import not_found
from eyelevel.core.ids import AgentId, ConversationId, EventPos, TeamId
from eyelevel.core.ports import Context, ConversationFilter, UnitOfWork
from eyelevel.core.principals import CustomerPrincipal, Principal, company_ids
from eyelevel.core.rules.audience import may_receive, sees_internals

MAX_PAGE = 200
COMPANY_KINDS = frozenset({MessageKind.AGENT, MessageKind.BOT, MessageKind.SYSTEM})


@dataclass(frozen=True, slots=True)
class ConversationRow:
    conversation: Conversation
    last_message: Message | None
    company: Company | None = None
    unread: int = 0  # messages from the other side after the principal's own read marker


async def search_companies(ctx: Context, query: str, limit: int) -> list[Company]:
    async def read(uow: UnitOfWork) -> list[Company]:
        return await uow.companies.search(query.strip(), min(limit, MAX_PAGE))

    return await ctx.db.read(read)


async def company_card(ctx: Context, slug: str) -> Company:
    async def read(uow: UnitOfWork) -> Company:
        company = await uow.companies.get_by_slug(slug)
        if company is None:
            raise not_found("company")
        return company

    return await ctx.db.read(read)


async def company_staff(
    ctx: Context, principal: Principal, slug: str
) -> tuple[Company, list[Team], dict[TeamId, list[AgentId]], list[tuple[Agent, Membership]]]:
    """Teams and agents of a company, for its members (to assign, to mention)."""

    async def read(
        uow: UnitOfWork,
    ) -> tuple[Company, list[Team], dict[TeamId, list[AgentId]], list[tuple[Agent, Membership]]]:
        company = await access_company_txn(uow, principal, slug, Role.AGENT)
        return (
            company,
            await uow.companies.teams_of(company.id),
            await uow.companies.team_members(company.id),
            await uow.companies.members(company.id),
        )

    return await ctx.db.read(read)


async def list_conversations(
    ctx: Context, principal: Principal, flt: ConversationFilter
) -> list[ConversationRow]:
    """Conversations the principal may see, newest activity first, keyset-paginated.

    The tenancy part of the filter is always taken from the principal, never from the request.
    """
    if isinstance(principal, CustomerPrincipal):
        scoped = replace(flt, customer_id=principal.customer_id, company_ids=flt.company_ids)
    else:
        own = company_ids(principal)
        wanted = own if flt.company_ids is None else own & flt.company_ids
        scoped = replace(flt, customer_id=None, company_ids=wanted)
    scoped = replace(scoped, limit=max(1, min(scoped.limit, MAX_PAGE)))
    include_notes = sees_internals(principal)

    async def read(uow: UnitOfWork) -> list[ConversationRow]:
        if scoped.customer_id is None and not scoped.company_ids:
            return []
        conversations = await uow.conversations.listing(scoped)
        return await _rows_txn(uow, principal, conversations, include_notes)

    return await ctx.db.read(read)


async def _rows_txn(
    uow: UnitOfWork,
    principal: Principal,
    conversations: Sequence[Conversation],
    include_notes: bool,
) -> list[ConversationRow]:
    """Each conversation with its last visible message, its company and the unread count."""
    last = await uow.messages.last_visible(conversations, include_notes)
    lasts = {m.id: m for m in await with_attachments_txn(uow, list(last.values()))}
    companies = {
        c.id: c for c in await uow.companies.get_many(sorted({c.company_id for c in conversations}))
    }
    customer = isinstance(principal, CustomerPrincipal)
    unread = await uow.messages.unread_counts(
        conversations,
        reader=reader_key(principal),
        kinds=COMPANY_KINDS if customer else frozenset({MessageKind.CUSTOMER}),
    )
    return [
        ConversationRow(
            c,
            lasts[last[c.id].id] if c.id in last else None,
            companies.get(c.company_id),
            unread.get(c.id, 0),
        )
        for c in conversations
    ]


async def get_conversation_row(
    ctx: Context, principal: Principal, conversation_id: ConversationId
) -> tuple[ConversationRow, list[ReadMarker]]:
    """One conversation as it appears in the list, with everyone's read markers."""

    async def read(uow: UnitOfWork) -> tuple[ConversationRow, list[ReadMarker]]:
        conversation = await access_conversation_txn(uow, principal, conversation_id)
        rows = await _rows_txn(uow, principal, [conversation], sees_internals(principal))
        return rows[0], await uow.messages.read_markers(conversation)

    return await ctx.db.read(read)


async def list_messages(
    ctx: Context,
    principal: Principal,
    conversation_id: ConversationId,
    *,
    after_seq: int | None,
    before_seq: int | None,
    limit: int,
) -> list[Message]:
    """Messages in ``seq`` order. Private notes are never returned to a customer."""

    async def read(uow: UnitOfWork) -> list[Message]:
        conversation = await access_conversation_txn(uow, principal, conversation_id)
        page = await uow.messages.page(
            conversation,
            after_seq=after_seq,
            before_seq=before_seq,
            limit=max(1, min(limit, MAX_PAGE)),
            include_notes=sees_internals(principal),
        )
        return await with_attachments_txn(uow, page)

    return await ctx.db.read(read)


async def events_since(
    ctx: Context, principal: Principal, pos: EventPos, limit: int
) -> list[Event]:
    """Catch-up: events after ``pos`` this principal may see, filtered by the audience rule."""
    customer_id = principal.customer_id if isinstance(principal, CustomerPrincipal) else None

    async def read(uow: UnitOfWork) -> list[Event]:
        return await uow.events.since(
            pos, company_ids=company_ids(principal), customer_id=customer_id, limit=limit
        )

    return [e for e in await ctx.db.read(read) if may_receive(principal, e)]


async def stream_head(ctx: Context) -> EventPos:
    async def read(uow: UnitOfWork) -> EventPos:
        return await uow.events.head()

    return await ctx.db.read(read)


async def events_after(ctx: Context, pos: EventPos, limit: int) -> Sequence[Event]:
    """All events after ``pos`` (for a process's fan-out, which filters per socket)."""

    async def read(uow: UnitOfWork) -> Sequence[Event]:
        return await uow.events.after(pos, limit)

    return await ctx.db.read(read)
