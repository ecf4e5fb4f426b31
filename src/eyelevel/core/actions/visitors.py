"""Website visitors: write without an account, keep the conversation later by adding an email.

A visitor is an anonymous :class:`~eyelevel.core.entities.Customer` (no email, no password).
Its only credential is a long-lived session token that the widget keeps and sends as a bearer
token. Claiming an email either turns the visitor into a normal account, or — when the email
belongs to an existing account and the password proves it — moves every conversation of the
visitor into that account. Nothing is lost either way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from eyelevel.core.actions.accounts import (
    NewSession,
    check_email,
    check_name,
    check_password,
    session_txn,
    verification_mail_txn,
)
from eyelevel.core.entities import Customer
from eyelevel.core.errors import DomainError, ErrorCode
from eyelevel.core.ids import CustomerId
from eyelevel.core.ports import Context, UnitOfWork
from eyelevel.core.principals import CustomerPrincipal, Principal

VISITOR_LIFETIME = timedelta(days=365)
DEFAULT_VISITOR_NAME = "Visitor"


@dataclass(frozen=True, slots=True)
class Claimed:
    session: NewSession
    customer_id: CustomerId  # the account the conversations are in now
    merged: bool  # True: the visitor's conversations moved into an existing account


async def check_create_visitor(ctx: Context, *, display_name: str) -> tuple[Customer, NewSession]:
    """Create an anonymous customer and the long-lived session its widget keeps."""
    name = check_name(display_name, "display_name") if display_name.strip() else ""

    async def txn(uow: UnitOfWork) -> tuple[Customer, NewSession]:
        customer = await uow.accounts.create_customer(
            email=None,
            display_name=name or DEFAULT_VISITOR_NAME,
            password_hash="",
            now=ctx.clock.now(),
        )
        session = await session_txn(uow, ctx, "customer", customer.id, VISITOR_LIFETIME)
        return customer, session

    return await ctx.db.write("create_visitor", txn)


async def check_claim_visitor(
    ctx: Context, principal: Principal, *, email: str, password: str, display_name: str
) -> Claimed:
    """Keep a visitor's conversations under an email.

    An unknown email turns the visitor into an account with that email and password (a
    confirmation mail is queued). A known email needs that account's password; then the
    visitor's conversations move into it and the visitor ends.
    """
    if not isinstance(principal, CustomerPrincipal) or not principal.anonymous:
        raise DomainError(ErrorCode.CONFLICT, "only a visitor without an account can do this")
    email = check_email(email)
    check_password(password)
    name = check_name(display_name, "display_name") if display_name.strip() else ""
    visitor_id = principal.customer_id

    async def find(uow: UnitOfWork) -> Customer | None:
        return await uow.accounts.get_customer_by_email(email)

    existing = await ctx.db.read(find)
    if existing is not None:
        if not ctx.passwords.verify(existing.password_hash, password):
            raise DomainError(ErrorCode.INVALID_CREDENTIALS, "email or password is wrong")
        into = existing.id

        async def merge(uow: UnitOfWork) -> Claimed:
            visitor = await uow.accounts.get_customer(visitor_id)
            if visitor is None or not visitor.anonymous:
                raise DomainError(ErrorCode.CONFLICT, "this visitor was already claimed")
            await uow.accounts.merge_customer(visitor_id, into)
            session = await session_txn(uow, ctx, "customer", into)
            return Claimed(session, into, merged=True)

        return await ctx.db.write("merge_visitor", merge)

    password_hash = ctx.passwords.hash(password)

    async def claim(uow: UnitOfWork) -> Claimed:
        if await uow.accounts.get_customer_by_email(email) is not None:
            raise DomainError(ErrorCode.EMAIL_TAKEN, "an account with this email exists")
        visitor = await uow.accounts.get_customer(visitor_id)
        final_name = name or (visitor.display_name if visitor else DEFAULT_VISITOR_NAME)
        claimed = await uow.accounts.claim_customer(
            visitor_id, email=email, display_name=final_name, password_hash=password_hash
        )
        if not claimed:
            raise DomainError(ErrorCode.CONFLICT, "this visitor was already claimed")
        await verification_mail_txn(uow, ctx, visitor_id, email, final_name)
        session = await session_txn(uow, ctx, "customer", visitor_id)
        return Claimed(session, visitor_id, merged=False)

    return await ctx.db.write("claim_visitor", claim)
