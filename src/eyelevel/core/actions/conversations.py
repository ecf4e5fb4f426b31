"""Starting conversations, assignment and status changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from eyelevel.core.actions import complaints, sla
from eyelevel.core.actions.access import access_conversation_txn, require_role
from eyelevel.core.actions.assignment import (
    after_status_txn,
    agent_freed_txn,
    check_language,
    check_start_topic_txn,
    fill_teams_txn,
    route_txn,
)
from eyelevel.core.actions.messages import check_body, check_client_id, do_send_message_txn
from eyelevel.core.entities import (
    MAX_SUBJECT_CHARS,
    Company,
    Conversation,
    Message,
    MessageKind,
    NewEvent,
    Role,
    Status,
)
from eyelevel.core.errors import DomainError, ErrorCode, not_found
from eyelevel.core.events import (
    EventType,
    assigned,
    conversation_data,
    iso,
    owner_data,
    status_changed,
)
from eyelevel.core.ids import AgentId, ConversationId, TeamId
from eyelevel.core.ports import Context, UnitOfWork
from eyelevel.core.principals import CustomerPrincipal, Principal

CUSTOMER_CHANNELS = ("messenger", "widget")
WAKE_SNOOZED = "wake_snoozed"  # the job kind; payload {"conversation_id", "snoozed_until"}


@dataclass(frozen=True, slots=True)
class Started:
    conversation: Conversation
    message: Message
    company: Company
    created: bool = True  # False: this client_id already started a conversation, returned


async def check_start_conversation(
    ctx: Context,
    principal: Principal,
    *,
    company_slug: str,
    subject: str,
    body: str,
    client_id: str | None,
    topic_id: int | None = None,
    channel: str = "messenger",
    language: str | None = None,
) -> Started:
    """A customer opens a conversation with a company with its first message.

    ``topic_id`` is one of the company's active conversation topics (required when the company
    says so); ``channel`` is where the customer writes from (the messenger or the widget) and
    ``language`` their messenger's language. The company's routing rules then put the
    conversation into a team's queue, where auto-assignment may give it to an agent.

    Companies cannot start conversations with customers yet: that needs the customer's opt-in
    to a topic, which the consent model will provide.
    """
    if not isinstance(principal, CustomerPrincipal):
        raise DomainError(ErrorCode.FORBIDDEN, "only customers can start a conversation")
    if not (principal.email_verified or principal.anonymous):
        raise DomainError(
            ErrorCode.EMAIL_NOT_VERIFIED, "verify your email address before you write"
        )
    subject = subject.strip()
    if len(subject) > MAX_SUBJECT_CHARS:
        raise DomainError(
            ErrorCode.VALIDATION,
            f"subject is longer than {MAX_SUBJECT_CHARS} characters",
            field="subject",
        )
    check_body(body)
    check_client_id(client_id)
    if channel not in CUSTOMER_CHANNELS:
        raise DomainError(ErrorCode.VALIDATION, "channel is messenger or widget", field="channel")
    language = check_language(language)

    async def txn(uow: UnitOfWork) -> Started:
        company = await uow.companies.get_by_slug(company_slug)
        if company is None:
            raise not_found("company")
        topic = await check_start_topic_txn(uow, company.id, topic_id)
        if client_id is not None:
            # an offline client retries its start: the conversation exists once, never twice
            opening = await uow.messages.find_opening(company.id, principal.customer_id, client_id)
            if opening is not None:
                if opening.body != body:
                    raise DomainError(
                        ErrorCode.IDEMPOTENCY_CONFLICT,
                        "this client_id already started a conversation with another text",
                        field="client_id",
                    )
                existing = await uow.conversations.get(opening.conversation_id)
                assert existing is not None
                return Started(existing, opening, company, created=False)
        now = ctx.clock.now()
        conversation = await uow.conversations.create(
            company_id=company.id,
            customer_id=principal.customer_id,
            subject=subject or body.strip().splitlines()[0][:MAX_SUBJECT_CHARS],
            owner_team_id=None,
            now=now,
            topic_id=topic,
            channel=channel,
            language=language,
        )
        await uow.emit(
            NewEvent(
                type=EventType.CONVERSATION_CREATED,
                company_id=company.id,
                conversation_id=conversation.id,
                customer_id=principal.customer_id,
                data=conversation_data(conversation),
            ),
            now,
        )
        sent = await do_send_message_txn(
            uow,
            ctx,
            conversation,
            kind=MessageKind.CUSTOMER,
            body=body,
            client_id=client_id,
            author_name=principal.display_name,
            author_agent_id=None,
            author_customer_id=principal.customer_id,
        )
        fresh = await uow.conversations.get(conversation.id)
        assert fresh is not None
        fresh = await route_txn(uow, ctx, fresh, text=body, now=now)
        if topic is not None:
            chosen = await uow.routing.get_topic(company.id, topic)
            if chosen is not None and chosen.opens_complaint:
                await complaints.open_by_topic_txn(uow, fresh, principal, now)
        return Started(fresh, sent.message, company)

    return await ctx.db.write("start_conversation", txn)


async def check_assign(
    ctx: Context,
    principal: Principal,
    conversation_id: ConversationId,
    *,
    agent_id: AgentId | None,
    team_id: TeamId | None,
) -> Conversation:
    """Give the conversation one owner: an agent, or a team queue (or nobody)."""
    if agent_id is not None and team_id is not None:
        raise DomainError(ErrorCode.INVALID_OWNER, "assign to an agent or a team, not both")

    async def txn(uow: UnitOfWork) -> Conversation:
        conversation = await access_conversation_txn(
            uow, principal, conversation_id, for_update=True
        )
        if isinstance(principal, CustomerPrincipal):  # may see it, so 403 reveals nothing
            raise DomainError(ErrorCode.FORBIDDEN, "only the company assigns conversations")
        require_role(principal, conversation.company_id, Role.AGENT)
        if agent_id is not None:
            membership = await uow.accounts.get_membership(conversation.company_id, agent_id)
            if membership is None or not membership.active:
                raise DomainError(
                    ErrorCode.INVALID_OWNER, "no such agent in this company", field="agent_id"
                )
        if (
            team_id is not None
            and await uow.companies.get_team(conversation.company_id, team_id) is None
        ):
            raise DomainError(
                ErrorCode.INVALID_OWNER, "no such team in this company", field="team_id"
            )
        if (conversation.owner_agent_id, conversation.owner_team_id) == (agent_id, team_id):
            return conversation
        now = ctx.clock.now()
        await uow.conversations.set_owner(conversation.id, agent_id, team_id, now)
        if team_id is not None:  # another team's targets and calendar
            moved = await uow.conversations.get(conversation.id)
            assert moved is not None
            await sla.update_clocks_txn(uow, ctx, moved)
        updated = await uow.conversations.get(conversation.id)
        assert updated is not None
        await uow.emit(
            assigned(
                conversation.company_id,
                conversation.id,
                owner_data(updated),
                owner_data(conversation),
            ),
            now,
        )
        # a hand-back frees a slot of the agent; a conversation put into a team's queue may
        # go to one of its agents at once
        if conversation.owner_agent_id is not None and conversation.status != Status.RESOLVED:
            await agent_freed_txn(
                uow, conversation.company_id, conversation.owner_agent_id, now=now
            )
        if team_id is not None:
            await fill_teams_txn(uow, conversation.company_id, [team_id], now=now)
        fresh = await uow.conversations.get(conversation.id)
        assert fresh is not None
        return fresh

    return await ctx.db.write("assign", txn)


async def check_change_status(
    ctx: Context,
    principal: Principal,
    conversation_id: ConversationId,
    *,
    status: Status,
    snoozed_until: datetime | None = None,
) -> Conversation:
    """Agents set any status; a customer may only resolve or reopen their own conversation."""
    if status == Status.SNOOZED:
        if snoozed_until is None:
            raise DomainError(
                ErrorCode.VALIDATION, "snoozing needs snoozed_until", field="snoozed_until"
            )
        if snoozed_until.tzinfo is None:
            raise DomainError(
                ErrorCode.VALIDATION, "snoozed_until needs a time zone", field="snoozed_until"
            )
        if snoozed_until <= ctx.clock.now():
            raise DomainError(
                ErrorCode.VALIDATION, "snoozed_until must be in the future", field="snoozed_until"
            )
    elif snoozed_until is not None:
        raise DomainError(
            ErrorCode.VALIDATION, "snoozed_until is only for status snoozed", field="snoozed_until"
        )
    if isinstance(principal, CustomerPrincipal) and status not in (Status.OPEN, Status.RESOLVED):
        raise DomainError(ErrorCode.FORBIDDEN, "customers can only resolve or reopen")

    async def txn(uow: UnitOfWork) -> Conversation:
        conversation = await access_conversation_txn(
            uow, principal, conversation_id, for_update=True
        )
        if conversation.status == status and conversation.snoozed_until == snoozed_until:
            return conversation
        now = ctx.clock.now()
        # nobody waits for an answer in a resolved conversation; a new customer message
        # reopens it and starts the wait again
        await uow.conversations.set_status(
            conversation.id,
            status,
            snoozed_until,
            now,
            clear_waiting=status == Status.RESOLVED,
        )
        if snoozed_until is not None:
            # durable: the wake-up is in the same transaction as the snooze
            await uow.jobs.enqueue(
                WAKE_SNOOZED,
                {"conversation_id": conversation.id, "snoozed_until": iso(snoozed_until)},
                snoozed_until,
            )
        await uow.emit(status_changed(conversation, status, snoozed_until), now)
        changed = await uow.conversations.get(conversation.id)
        assert changed is not None
        await sla.update_clocks_txn(uow, ctx, changed)
        await after_status_txn(uow, conversation, status, now=now)
        updated = await uow.conversations.get(conversation.id)
        assert updated is not None
        return updated

    return await ctx.db.write("change_status", txn)


async def check_wake_snoozed(
    ctx: Context, conversation_id: ConversationId, snoozed_until: datetime
) -> bool:
    """The ``wake_snoozed`` job: reopen a conversation whose snooze ran out.

    Only when it is still snoozed until that very time: a later snooze has its own job, and a
    conversation reopened (by hand or by the customer writing) stays as it is. Returns True
    when it reopened.
    """

    async def txn(uow: UnitOfWork) -> bool:
        conversation = await uow.conversations.get_for_update(conversation_id)
        if (
            conversation is None
            or conversation.status != Status.SNOOZED
            or conversation.snoozed_until != snoozed_until
        ):
            return False
        now = ctx.clock.now()
        await uow.conversations.set_status(conversation.id, Status.OPEN, None, now)
        await uow.emit(status_changed(conversation, Status.OPEN, None), now)
        woke = await uow.conversations.get(conversation.id)
        assert woke is not None
        await sla.update_clocks_txn(uow, ctx, woke)
        return True

    return await ctx.db.write("wake_snoozed", txn)
