"""Erasure: a customer deletes their account; companies may hold conversations they must keep.

What erasing does (docs/privacy.md, *Erasure*), in one transaction:

- every conversation of the customer with every company is **deleted** with everything that
  belongs to it, exactly as retention deletes one (storage/retention.py): messages and notes,
  search entries, attachments, mentions, labels, read markers, events, webhook deliveries;
- a conversation **under legal hold** is kept as it is but **restricted**: left out of every
  list and search, readable by the company's admins only, its events deleted; when the hold is
  lifted it is deleted like the others;
- the account becomes a tombstone (no email, password or name), and every row the customer
  owns goes: profile, customer numbers, grants, data exports, sessions, the customer's own
  events, pending jobs for them (storage/erasure.py finds them by foreign key and by name);
- the consent ledger is kept: it holds ids, field names and times, never a value.

After the commit the stored files (attachments, export ZIPs) are deleted, the customer's open
sockets close, and ``customer.erased`` goes to every company that knew the customer (the id and
which of its conversations were erased or are held; nothing else).
"""

from __future__ import annotations

from dataclasses import dataclass

from eyelevel.core.actions.access import access_company_txn, require_role
from eyelevel.core.actions.audit import actor_of, audit_txn
from eyelevel.core.actions.retention import delete_files
from eyelevel.core.entities import Role
from eyelevel.core.errors import DomainError, ErrorCode, not_found
from eyelevel.core.events import customer_erased
from eyelevel.core.ids import CompanyId, ConversationId, CustomerId
from eyelevel.core.ports import Context, LegalHold, UnitOfWork
from eyelevel.core.principals import CustomerPrincipal, Principal, role_in
from eyelevel.core.revocation import Revocation, revocation_event

MAX_REASON = 500
MAX_HOLDS = 500


@dataclass(frozen=True, slots=True)
class Erased:
    customer_id: CustomerId
    erased: int  # conversations deleted
    held: int  # conversations kept, restricted, under legal hold
    files_failed: int


async def check_erase_account(
    ctx: Context, principal: Principal, *, password: str | None
) -> Erased:
    """The customer erases their own account; an account with a password confirms with it
    (a website visitor has none: their token is their only credential)."""
    if not isinstance(principal, CustomerPrincipal):
        raise DomainError(ErrorCode.FORBIDDEN, "only a customer can delete their account")
    customer_id = principal.customer_id

    async def look(uow: UnitOfWork) -> tuple[str, bool]:
        customer = await uow.accounts.get_customer(customer_id)
        if customer is None or customer.erased:
            raise not_found("customer")
        return customer.password_hash, customer.anonymous

    password_hash, anonymous = await ctx.db.read(look)
    if not anonymous and not ctx.passwords.verify(password_hash, password or ""):
        raise DomainError(ErrorCode.INVALID_CREDENTIALS, "the password is wrong", field="password")
    return await do_erase_customer(ctx, customer_id)


async def do_erase_customer(ctx: Context, customer_id: CustomerId) -> Erased:
    """Erase an (already authorized) customer; idempotent: an erased one is left alone."""
    now = ctx.clock.now()

    async def txn(uow: UnitOfWork) -> tuple[Erased, list[str], list[CompanyId]]:
        customer = await uow.erasure.lock_customer(customer_id)
        if customer is None or customer.erased:
            return Erased(customer_id, 0, 0, 0), [], []
        companies = await uow.erasure.companies_of(customer_id)
        conversations = await uow.erasure.conversations_of(customer_id)
        erased: dict[CompanyId, list[ConversationId]] = {c: [] for c in companies}
        held: dict[CompanyId, list[ConversationId]] = {c: [] for c in companies}
        for conv in conversations:
            (held if conv.held else erased)[conv.company_id].append(conv.conversation_id)
        # emitted before the deletions: on SQLite a position freed at the head of the stream
        # would be handed out again, behind readers (the webhook relay) already past it
        for company_id in companies:
            await uow.emit(
                customer_erased(company_id, customer_id, erased[company_id], held[company_id]),
                now,
            )
        keys: list[str] = []
        for company_id in companies:
            keys += await uow.retention.delete_conversations(company_id, erased[company_id])
            await uow.erasure.restrict(company_id, held[company_id], now)
        keys += await uow.erasure.erase_customer(customer, now)
        n_held = sum(len(v) for v in held.values())
        result = Erased(customer_id, len(conversations) - n_held, n_held, 0)
        return result, keys, companies

    result, keys, _ = await ctx.db.write("erase_customer", txn)
    await ctx.bus.publish_ephemeral(
        revocation_event(Revocation(customer_id=customer_id), ctx.clock.now())
    )
    failed = await delete_files(ctx, keys)
    return Erased(result.customer_id, result.erased, result.held, failed)


# -- legal holds ------------------------------------------------------------------------------


def check_reason(reason: str) -> str:
    reason = " ".join(reason.split())
    if not reason or len(reason) > MAX_REASON:
        raise DomainError(
            ErrorCode.VALIDATION, f"reason must have 1 to {MAX_REASON} characters", field="reason"
        )
    if any(not ch.isprintable() for ch in reason):
        raise DomainError(ErrorCode.VALIDATION, "reason has control characters", field="reason")
    return reason


async def _held_conversation_txn(
    uow: UnitOfWork, principal: Principal, conversation_id: ConversationId
) -> tuple[CompanyId, LegalHold | None]:
    """The conversation's company, for a lead or admin of it (a restricted one included: its
    hold is what an admin lifts), and its hold."""
    conversation = await uow.conversations.get_for_update(conversation_id)
    if conversation is None or isinstance(principal, CustomerPrincipal):
        raise not_found("conversation")
    role = require_role_or_missing(principal, conversation.company_id)
    if conversation.restricted and role != Role.ADMIN:
        raise not_found("conversation")
    require_role(principal, conversation.company_id, Role.LEAD)
    return conversation.company_id, await uow.erasure.hold(conversation.company_id, conversation.id)


def require_role_or_missing(principal: Principal, company_id: CompanyId) -> Role:
    """The principal's role in the company; a non-member gets 404 for the conversation."""
    role = role_in(principal, company_id)
    if role is None:
        raise not_found("conversation")
    return role


async def check_set_hold(
    ctx: Context, principal: Principal, conversation_id: ConversationId, *, reason: str
) -> LegalHold:
    """A lead or admin puts a conversation under legal hold (or gives a held one a new
    reason); audited as ``legal_hold.set``."""
    reason = check_reason(reason)

    async def txn(uow: UnitOfWork) -> LegalHold:
        company_id, _ = await _held_conversation_txn(uow, principal, conversation_id)
        now = ctx.clock.now()
        await uow.erasure.set_hold(
            company_id, conversation_id, reason=reason, created_by=actor_of(principal), now=now
        )
        await audit_txn(
            uow,
            principal,
            company_id,
            "legal_hold.set",
            target=f"conversation:{conversation_id}",
            data={"reason": reason},
            now=now,
        )
        hold = await uow.erasure.hold(company_id, conversation_id)
        assert hold is not None
        return hold

    return await ctx.db.write("set_legal_hold", txn)


async def check_lift_hold(
    ctx: Context, principal: Principal, conversation_id: ConversationId
) -> bool:
    """Lift a conversation's legal hold; audited as ``legal_hold.lifted``. When its customer
    was erased meanwhile, the conversation is deleted now (what was pending). Returns whether
    it was deleted. Lifting a hold that does not exist is ``404``."""

    async def txn(uow: UnitOfWork) -> tuple[bool, list[str]]:
        company_id, hold = await _held_conversation_txn(uow, principal, conversation_id)
        if hold is None:
            raise not_found("legal hold")
        now = ctx.clock.now()
        await uow.erasure.lift_hold(company_id, conversation_id)
        keys: list[str] = []
        if hold.restricted:
            keys = await uow.retention.delete_conversations(company_id, [conversation_id])
        await audit_txn(
            uow,
            principal,
            company_id,
            "legal_hold.lifted",
            target=f"conversation:{conversation_id}",
            data={"erased": hold.restricted},
            now=now,
        )
        return hold.restricted, keys

    erased, keys = await ctx.db.write("lift_legal_hold", txn)
    await delete_files(ctx, keys)
    return erased


async def get_hold(
    ctx: Context, principal: Principal, conversation_id: ConversationId
) -> LegalHold | None:
    async def read(uow: UnitOfWork) -> LegalHold | None:
        conversation = await uow.conversations.get(conversation_id)
        if conversation is None or isinstance(principal, CustomerPrincipal):
            raise not_found("conversation")
        role = require_role_or_missing(principal, conversation.company_id)
        if conversation.restricted and role != Role.ADMIN:
            raise not_found("conversation")
        return await uow.erasure.hold(conversation.company_id, conversation.id)

    return await ctx.db.read(read)


async def list_holds(ctx: Context, principal: Principal, slug: str) -> list[LegalHold]:
    """The company's held conversations, newest hold first (leads and admins; restricted ones
    only for admins, who alone may open them)."""

    async def read(uow: UnitOfWork) -> tuple[Role, list[LegalHold]]:
        company = await access_company_txn(uow, principal, slug, Role.LEAD)
        role = require_role(principal, company.id, Role.LEAD)
        return role, await uow.erasure.holds_of(company.id, MAX_HOLDS)

    role, holds = await ctx.db.read(read)
    return [h for h in holds if role == Role.ADMIN or not h.restricted]
