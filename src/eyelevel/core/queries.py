"""The read side: what a principal may see, fetched through the same access checks as writes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from eyelevel.core.actions.access import access_company_txn, access_conversation_txn
from eyelevel.core.actions.messages import reader_key, with_attachments_txn, with_mentions_txn
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
    Status,
    Team,
)
from eyelevel.core.errors import DomainError, ErrorCode, not_found
from eyelevel.core.ids import (
    AgentId,
    CompanyId,
    ConversationId,
    CustomerId,
    EventPos,
    LabelId,
    TeamId,
)
from eyelevel.core.ports import (
    Context,
    ConversationFilter,
    InboxCounts,
    Listed,
    ListPhase,
    ListPosition,
    ListSort,
    UnitOfWork,
)
from eyelevel.core.principals import (
    AgentPrincipal,
    CustomerPrincipal,
    Principal,
    company_ids,
    role_in,
)
from eyelevel.core.rules.audience import may_receive, sees_internals
from eyelevel.core.rules.roles import at_least
from eyelevel.core.rules.sharing import SharedCustomer

MAX_PAGE = 200
COMPANY_KINDS = frozenset({MessageKind.AGENT, MessageKind.BOT, MessageKind.SYSTEM})


@dataclass(frozen=True, slots=True)
class ConversationRow:
    conversation: Conversation
    last_message: Message | None
    company: Company | None = None
    unread: int = 0  # messages from the other side after the principal's own read marker
    # company members only (None for a customer): the customer as the company may see them
    # (rules/sharing.py), and the labels
    customer: SharedCustomer | None = None
    labels: tuple[LabelId, ...] | None = None
    position: ListPosition | None = None  # in the list's order, for the next page's cursor


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


async def member_companies(ctx: Context, principal: Principal) -> list[Company]:
    """The companies an agent (or token) belongs to, by name: the inbox needs their slugs."""
    ids = sorted(company_ids(principal))

    async def read(uow: UnitOfWork) -> list[Company]:
        return await uow.companies.get_many(ids)

    found = await ctx.db.read(read) if ids else []
    return sorted(found, key=lambda c: (c.name, c.id))


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
    """Conversations the principal may see, in the filter's sort, keyset-paginated.

    The tenancy part of the filter is always taken from the principal, never from the request.
    Customers list their own conversations, newest activity first; the inbox's filters and
    sort=waiting are for company members.
    """
    if isinstance(principal, CustomerPrincipal):
        _refuse_member_filters(flt)
        scoped = replace(flt, customer_id=principal.customer_id, company_ids=flt.company_ids)
    else:
        own = company_ids(principal)
        wanted = own if flt.company_ids is None else own & flt.company_ids
        scoped = replace(flt, company_ids=wanted)
    scoped = replace(scoped, limit=max(1, min(scoped.limit, MAX_PAGE)))
    _check_position(scoped)
    include_notes = sees_internals(principal)

    async def read(uow: UnitOfWork) -> list[ConversationRow]:
        if scoped.customer_id is None and not scoped.company_ids:
            return []
        # a member's newest message may be a note: it is the one at last_seq, read (with the
        # customer) in the page's own statement
        listed = await uow.conversations.listing(scoped, latest=include_notes)
        rows = await _rows_txn(uow, principal, [li.conversation for li in listed], listed)
        return [replace(r, position=li.position) for r, li in zip(rows, listed, strict=True)]

    return await ctx.db.read(read)


def _refuse_member_filters(flt: ConversationFilter) -> None:
    owner = flt.owner_agent_id is not None or flt.owner_team_id is not None or flt.unassigned
    used = [
        ("owner", owner),
        ("label", flt.label_id is not None),
        ("topic", flt.topic_id is not None),
        ("mentions", flt.mentioning is not None),
        ("customer_id", flt.customer_id is not None),
        ("sort", flt.sort != ListSort.NEWEST),
    ]
    for name, present in used:
        if present:
            raise DomainError(
                ErrorCode.VALIDATION, f"the {name} filter is for company members", field=name
            )


def _check_position(flt: ConversationFilter) -> None:
    """A cursor continues the list it came from: the same sort (or the list of mentions)."""
    if flt.after is None:
        return
    if flt.mentioning is not None:
        fits = flt.after.phase == ListPhase.MENTION
    elif flt.sort == ListSort.WAITING:
        fits = flt.after.phase in (ListPhase.WAITING, ListPhase.IDLE)
    elif flt.sort == ListSort.DUE:
        fits = flt.after.phase in (ListPhase.DUE, ListPhase.UNDUE)
    else:
        fits = flt.after.phase == ListPhase.ACTIVITY
    two_times = (ListPhase.WAITING, ListPhase.DUE)
    if not fits or (flt.after.phase in two_times and flt.after.activity is None):
        raise DomainError(
            ErrorCode.VALIDATION, "the cursor belongs to another sort or filter", field="cursor"
        )


async def _rows_txn(
    uow: UnitOfWork,
    principal: Principal,
    conversations: Sequence[Conversation],
    listed: Sequence[Listed] | None = None,
) -> list[ConversationRow]:
    """Each conversation with its last visible message, its company and the unread count;
    for company members also its customer and its labels. ``listed``: the page as read with
    ``latest`` (newest message and customer already there)."""
    customer = isinstance(principal, CustomerPrincipal)
    include_notes = sees_internals(principal)
    if listed is not None and include_notes:
        last = {li.conversation.id: li.last for li in listed if li.last is not None}
        customers = {li.customer.id: li.customer for li in listed if li.customer is not None}
    else:
        last = await uow.messages.last_visible(conversations, include_notes)
        customers = {}
        if not customer and conversations:
            customers = await uow.inbox.customers([c.customer_id for c in conversations])
    completed = await with_attachments_txn(uow, list(last.values()))
    if include_notes:
        completed = await with_mentions_txn(uow, completed)
    lasts = {m.conversation_id: m for m in completed}
    companies = {
        c.id: c for c in await uow.companies.get_many(sorted({c.company_id for c in conversations}))
    }
    unread = await uow.messages.unread_counts(
        conversations,
        reader=reader_key(principal),
        kinds=COMPANY_KINDS if customer else frozenset({MessageKind.CUSTOMER}),
    )
    labels: dict[ConversationId, list[LabelId]] = {}
    shared: dict[tuple[CompanyId, CustomerId], SharedCustomer] = {}
    if not customer:
        for company_id in sorted({c.company_id for c in conversations}):
            of_company = [c for c in conversations if c.company_id == company_id]
            labels.update(await uow.labels.of_conversations(company_id, [c.id for c in of_company]))
            # the customer as this company may see them (rules/sharing.py)
            seen = await uow.sharing.shared_with(
                company_id,
                [customers[c.customer_id] for c in of_company if c.customer_id in customers],
            )
            shared.update({(company_id, k): v for k, v in seen.items()})
    return [
        ConversationRow(
            c,
            lasts.get(c.id),
            companies.get(c.company_id),
            unread.get(c.id, 0),
            customer=None if customer else shared.get((c.company_id, c.customer_id)),
            labels=None if customer else tuple(labels.get(c.id, ())),
        )
        for c in conversations
    ]


async def get_conversation_row(
    ctx: Context, principal: Principal, conversation_id: ConversationId
) -> tuple[ConversationRow, list[ReadMarker]]:
    """One conversation as it appears in the list, with everyone's read markers."""

    async def read(uow: UnitOfWork) -> tuple[ConversationRow, list[ReadMarker]]:
        conversation = await access_conversation_txn(uow, principal, conversation_id)
        rows = await _rows_txn(uow, principal, [conversation])
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
        return await with_mentions_txn(uow, await with_attachments_txn(uow, page))

    return await ctx.db.read(read)


@dataclass(frozen=True, slots=True)
class SidebarCounts:
    counts: InboxCounts
    all_visible: bool  # leads, admins and tokens see the *All* view; plain agents do not
    team_ids: list[TeamId]  # every team of the company, by name


async def inbox_counts(
    ctx: Context, principal: Principal, slug: str, status: Status
) -> SidebarCounts:
    """The sidebar's counts for one company: grouped COUNTs, a handful of statements."""
    agent_id = principal.agent_id if isinstance(principal, AgentPrincipal) else None

    async def read(uow: UnitOfWork) -> SidebarCounts:
        company = await access_company_txn(uow, principal, slug, Role.AGENT)
        counts = await uow.inbox.counts(company.id, status=status, agent_id=agent_id)
        teams = await uow.companies.teams_of(company.id)
        role = role_in(principal, company.id)
        return SidebarCounts(
            counts, role is not None and at_least(role, Role.LEAD), [t.id for t in teams]
        )

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
