"""Contact consent: the customer decides which topics a company may contact them about, on
which channels and when; a company starts a conversation only for a topic the customer opted
into (docs/privacy.md, *Contact*).

Every real change is appended to the consent ledger, like a sharing grant: ``topic:<name>``,
``channel:<name>``, ``include_text`` and ``quiet_hours`` are granted or revoked (changed quiet
hours are a new grant). Topic and channel changes tell the company with
``customer.contact_preferences_changed`` (names, never values).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from eyelevel.core.actions.access import require_role
from eyelevel.core.actions.conversations import Started
from eyelevel.core.actions.messages import check_body, check_client_id, do_send_message_txn
from eyelevel.core.actions.notifications import preferences_txn
from eyelevel.core.actions.sharing import check_ledger_tags
from eyelevel.core.entities import (
    MAX_SUBJECT_CHARS,
    Company,
    ConsentEntry,
    MessageKind,
    NewEvent,
    Role,
    Status,
)
from eyelevel.core.errors import DomainError, ErrorCode, not_found
from eyelevel.core.events import (
    EventType,
    contact_preferences_changed,
    conversation_data,
    status_changed,
)
from eyelevel.core.ids import CustomerId
from eyelevel.core.ports import Context, UnitOfWork
from eyelevel.core.principals import AgentPrincipal, CustomerPrincipal, Principal, TokenPrincipal
from eyelevel.core.rules.contact import (
    CHANNELS,
    COMPANY_TOPICS,
    LANGUAGES,
    REPLIES,
    TOPICS,
    ContactPreferences,
    QuietHours,
    is_time,
    is_time_zone,
    read_unsubscribe_token,
    topic_permitted,
)

UNSUBSCRIBE_SCREEN = "email"  # the one-click link in a notification mail
UNSUBSCRIBE_TEXT = "unsubscribe-1"


@dataclass(frozen=True, slots=True)
class ContactCard:
    company: Company
    prefs: ContactPreferences


def _invalid(field: str, detail: str) -> DomainError:
    return DomainError(ErrorCode.VALIDATION, detail, field=field)


def _customer(principal: Principal) -> CustomerPrincipal:
    if not isinstance(principal, CustomerPrincipal):
        raise DomainError(ErrorCode.FORBIDDEN, "only the customer decides who may contact them")
    return principal


async def _company_txn(uow: UnitOfWork, slug: str) -> Company:
    company = await uow.companies.get_by_slug(slug)
    if company is None:
        raise not_found("company")
    return company


async def contact_card(ctx: Context, principal: Principal, slug: str) -> ContactCard:
    customer = _customer(principal)

    async def read(uow: UnitOfWork) -> ContactCard:
        company = await _company_txn(uow, slug)
        return ContactCard(company, await preferences_txn(uow, customer.customer_id, company.id))

    return await ctx.db.read(read)


def check_quiet_hours(start: str, end: str, time_zone: str) -> QuietHours:
    if not is_time(start):
        raise _invalid("quiet_hours.start", "start must be a time HH:MM, e.g. 22:00")
    if not is_time(end):
        raise _invalid("quiet_hours.end", "end must be a time HH:MM, e.g. 07:00")
    if start == end:
        raise _invalid("quiet_hours.end", "quiet hours must not start and end at the same time")
    if not is_time_zone(time_zone):
        raise _invalid("quiet_hours.time_zone", "time_zone must be an IANA time zone")
    return QuietHours(start, end, time_zone)


def _apply(
    before: ContactPreferences,
    *,
    topics: Mapping[str, bool],
    channels: Mapping[str, bool],
    quiet_hours: QuietHours | None,
    set_quiet: bool,
    include_text: bool | None,
    language: str | None,
) -> tuple[ContactPreferences, list[tuple[str, str]]]:
    """The preferences after the change, and the ledger entries (action, field) it makes."""
    entries: list[tuple[str, str]] = []
    new_topics = set(before.topics) | {REPLIES}
    for topic in TOPICS:
        if topic in topics and topics[topic] != (topic in new_topics):
            (new_topics.add if topics[topic] else new_topics.discard)(topic)
            entries.append(("grant" if topics[topic] else "revoke", f"topic:{topic}"))
    new_channels = set(before.channels)
    for channel in CHANNELS:
        if channel in channels and channels[channel] != (channel in new_channels):
            (new_channels.add if channels[channel] else new_channels.discard)(channel)
            entries.append(("grant" if channels[channel] else "revoke", f"channel:{channel}"))
    quiet = before.quiet_hours
    if set_quiet and quiet_hours != quiet:
        quiet = quiet_hours
        entries.append(("grant" if quiet is not None else "revoke", "quiet_hours"))
    text = before.include_text
    if include_text is not None and include_text != text:
        text = include_text
        entries.append(("grant" if text else "revoke", "include_text"))
    after = replace(
        before,
        topics=frozenset(new_topics),
        channels=frozenset(new_channels),
        quiet_hours=quiet,
        include_text=text,
        language=language or before.language,
    )
    return after, entries


async def check_set_contact(
    ctx: Context,
    principal: Principal,
    slug: str,
    *,
    topics: Mapping[str, bool],
    channels: Mapping[str, bool],
    quiet_hours: QuietHours | None = None,
    set_quiet: bool = False,
    include_text: bool | None = None,
    language: str | None = None,
    screen: str,
    text_version: str,
) -> ContactCard:
    """Change what the company may do; each real change goes to the consent ledger with the
    screen and the wording's version. ``set_quiet``: also set (or with None, remove) the quiet
    hours. ``language`` (de, en) is the language of the mails, not a consent."""
    customer = _customer(principal)
    if quiet_hours is not None:
        quiet_hours = check_quiet_hours(quiet_hours.start, quiet_hours.end, quiet_hours.time_zone)
    for topic, on in topics.items():
        if topic not in TOPICS:
            raise _invalid("topics", f"{topic} is not a topic (replies, updates, news)")
        if topic == REPLIES and not on:
            raise _invalid(
                "topics.replies",
                "replies in your own conversations are always allowed; choose no channel "
                "to get no notifications",
            )
    for channel in channels:
        if channel not in CHANNELS:
            raise _invalid("channels", f"{channel} is not a channel (push, email)")
    if language is not None and language not in LANGUAGES:
        raise _invalid("language", "language must be de or en")
    check_ledger_tags(screen, text_version)
    now = ctx.clock.now()

    async def txn(uow: UnitOfWork) -> ContactCard:
        company = await _company_txn(uow, slug)
        cid = customer.customer_id
        before = await preferences_txn(uow, cid, company.id)
        after, entries = _apply(
            before,
            topics=topics,
            channels=channels,
            quiet_hours=quiet_hours,
            set_quiet=set_quiet,
            include_text=include_text,
            language=language,
        )
        if not entries and after == before and before.stored:
            return ContactCard(company, before)
        await uow.contact.save_preferences(after, now)
        for action, name in entries:
            await uow.sharing.append_consent(
                ConsentEntry(0, cid, company.id, action, name, screen, text_version, now)
            )
        await _tell_company_txn(uow, after, [n for _, n in entries], now)
        return ContactCard(company, replace(after, updated_at=now, stored=True))

    return await ctx.db.write("set_contact", txn)


async def _tell_company_txn(
    uow: UnitOfWork, prefs: ContactPreferences, changed: list[str], now: datetime
) -> None:
    visible = [n for n in changed if n.startswith(("topic:", "channel:"))]
    # a company the customer never wrote to learns nothing, not even that they exist
    if not visible or not await uow.contact.has_relationship(prefs.company_id, prefs.customer_id):
        return
    await uow.emit(
        contact_preferences_changed(
            prefs.company_id,
            prefs.customer_id,
            [t for t in TOPICS if t in prefs.topics],
            [c for c in CHANNELS if c in prefs.channels],
            visible,
        ),
        now,
    )


# -- the one-click unsubscribe link ---------------------------------------------------------


async def unsubscribe_company(ctx: Context, token: str) -> Company:
    """The company a valid unsubscribe token names (the confirmation page shows it)."""
    ids = read_unsubscribe_token(ctx.secret_key, token)
    if ids is None:
        raise DomainError(ErrorCode.INVALID_TOKEN, "this unsubscribe link is not valid")

    async def read(uow: UnitOfWork) -> Company:
        company = await uow.companies.get(ids[1])
        if company is None or await uow.accounts.get_customer(ids[0]) is None:
            raise DomainError(ErrorCode.INVALID_TOKEN, "this unsubscribe link is not valid")
        return company

    return await ctx.db.read(read)


async def check_unsubscribe(ctx: Context, token: str) -> Company:
    """RFC 8058 one-click: turn email off for the token's company, without a login. The
    token is verified by its HMAC alone; a repeat changes nothing and appends nothing."""
    ids = read_unsubscribe_token(ctx.secret_key, token)
    if ids is None:
        raise DomainError(ErrorCode.INVALID_TOKEN, "this unsubscribe link is not valid")
    customer_id, company_id = ids
    now = ctx.clock.now()

    async def txn(uow: UnitOfWork) -> Company:
        company = await uow.companies.get(company_id)
        if company is None or await uow.accounts.get_customer(customer_id) is None:
            raise DomainError(ErrorCode.INVALID_TOKEN, "this unsubscribe link is not valid")
        before = await preferences_txn(uow, customer_id, company_id)
        if "email" not in before.channels:
            return company
        after = replace(before, channels=before.channels - {"email"})
        await uow.contact.save_preferences(after, now)
        await uow.sharing.append_consent(
            ConsentEntry(
                0,
                customer_id,
                company_id,
                "revoke",
                "channel:email",
                UNSUBSCRIBE_SCREEN,
                UNSUBSCRIBE_TEXT,
                now,
            )
        )
        await _tell_company_txn(uow, after, ["channel:email"], now)
        return company

    return await ctx.db.write("unsubscribe", txn)


# -- the company's side ---------------------------------------------------------------------


async def _known_customer_txn(
    uow: UnitOfWork, principal: Principal, slug: str, customer_id: CustomerId
) -> Company:
    """The company (the principal an agent or token of it) and a customer it may address:
    one who has had a conversation with it. Any other customer reads like a missing one."""
    company = await uow.companies.get_by_slug(slug)
    if company is None:
        raise not_found("company")
    require_role(principal, company.id, Role.AGENT)
    if not await uow.contact.has_relationship(company.id, customer_id):
        raise not_found("customer")
    return company


async def customer_contact(
    ctx: Context, principal: Principal, slug: str, customer_id: CustomerId
) -> ContactPreferences:
    """What the company may do (topics, channels), for its inbox's customer panel. Callers
    show topics and channels only: quiet hours and the rest stay the customer's."""

    async def read(uow: UnitOfWork) -> ContactPreferences:
        company = await _known_customer_txn(uow, principal, slug, customer_id)
        return await preferences_txn(uow, customer_id, company.id)

    return await ctx.db.read(read)


def _starter(principal: Principal) -> tuple[MessageKind, str, int | None, str]:
    match principal:
        case AgentPrincipal(agent_id=agent_id):
            return MessageKind.AGENT, principal.first_name, agent_id, f"agent:{agent_id}"
        case TokenPrincipal(token_id=token_id, name=name):
            return MessageKind.BOT, name, None, f"token:{token_id}"
    raise DomainError(ErrorCode.FORBIDDEN, "only a company starts a conversation this way")


async def check_contact_customer(
    ctx: Context,
    principal: Principal,
    slug: str,
    customer_id: CustomerId,
    *,
    topic: str,
    subject: str,
    body: str,
    client_id: str | None,
    notification_only: bool = False,
) -> Started:
    """A company starts a conversation with one of its customers for ``topic`` (updates,
    news), refused with ``contact_not_permitted`` unless the customer opted into that topic
    with this company. ``notification_only``: the conversation starts resolved (nothing waits
    in the inbox; the customer's reply reopens it). Idempotent by ``client_id``."""
    if topic not in COMPANY_TOPICS:
        raise _invalid("topic", "topic must be updates or news")
    subject = " ".join(subject.split())
    if not subject:
        raise _invalid("subject", "a company's conversation needs a subject")
    if len(subject) > MAX_SUBJECT_CHARS:
        raise _invalid("subject", f"subject is longer than {MAX_SUBJECT_CHARS} characters")
    check_body(body)
    check_client_id(client_id)

    async def txn(uow: UnitOfWork) -> Started:
        company = await _known_customer_txn(uow, principal, slug, customer_id)
        kind, author_name, agent_id, started_by = _starter(principal)
        prefs = await preferences_txn(uow, customer_id, company.id)
        if not topic_permitted(prefs, topic):
            raise DomainError(
                ErrorCode.CONTACT_NOT_PERMITTED,
                f"the customer has not opted into {topic} from this company",
                field="topic",
            )
        if client_id is not None:
            opening = await uow.messages.find_opening(company.id, customer_id, client_id)
            if opening is not None:
                if opening.body != body or opening.kind != kind:
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
            customer_id=customer_id,
            subject=subject,
            owner_team_id=None,
            now=now,
        )
        await uow.contact.set_topic(conversation, topic, started_by, now)
        await uow.emit(
            NewEvent(
                type=EventType.CONVERSATION_CREATED,
                company_id=company.id,
                conversation_id=conversation.id,
                customer_id=customer_id,
                data=conversation_data(conversation),
            ),
            now,
        )
        sent = await do_send_message_txn(
            uow,
            ctx,
            conversation,
            kind=kind,
            body=body,
            client_id=client_id,
            author_name=author_name,
            author_agent_id=agent_id,
            author_customer_id=None,
        )
        if notification_only:
            fresh = await uow.conversations.get(conversation.id)
            assert fresh is not None
            await uow.conversations.set_status(conversation.id, Status.RESOLVED, None, now)
            await uow.emit(status_changed(fresh, Status.RESOLVED, None), now)
        fresh = await uow.conversations.get(conversation.id)
        assert fresh is not None
        return Started(fresh, sent.message, company)

    return await ctx.db.write("contact_customer", txn)
