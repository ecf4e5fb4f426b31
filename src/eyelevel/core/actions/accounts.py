"""Customer sign-up and email verification, sign-in sessions, agent invitations."""

from __future__ import annotations

import re
import secrets as _secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from eyelevel.core import secrets
from eyelevel.core.actions import second_factor
from eyelevel.core.actions.access import access_company_txn
from eyelevel.core.actions.audit import audit_txn
from eyelevel.core.actions.mail_inbound import adopt_mail_history_txn
from eyelevel.core.entities import Agent, Company, Customer, Role
from eyelevel.core.errors import DomainError, ErrorCode
from eyelevel.core.ids import AgentId, CustomerId
from eyelevel.core.ports import Context, SessionRecord, UnitOfWork
from eyelevel.core.principals import (
    AgentPrincipal,
    CustomerPrincipal,
    Principal,
)
from eyelevel.core.revocation import Revocation, revocation_event

SESSION_LIFETIME = timedelta(days=30)
SESSION_PREFIX = "els"  # session tokens: a cookie, or a bearer token in the widget
VERIFY_LIFETIME = timedelta(days=3)
INVITE_LIFETIME = timedelta(days=7)
MIN_PASSWORD = 10
MAX_PASSWORD = 256
MAX_NAME = 100
MAX_USER_AGENT = 200
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")


def user_agent_of(header: str) -> str:
    """What a session keeps of the browser's ``User-Agent``: printable text, 200 characters."""
    return "".join(ch for ch in header if ch.isprintable())[:MAX_USER_AGENT]


def check_email(email: str) -> str:
    email = email.strip().lower()
    if len(email) > 254 or not _EMAIL.match(email):
        raise DomainError(ErrorCode.VALIDATION, "not a valid email address", field="email")
    return email


def check_password(password: str) -> str:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise DomainError(
            ErrorCode.VALIDATION,
            f"password must have {MIN_PASSWORD} to {MAX_PASSWORD} characters",
            field="password",
        )
    return password


def check_name(name: str, field: str) -> str:
    name = " ".join(name.split())
    if not name or len(name) > MAX_NAME:
        raise DomainError(
            ErrorCode.VALIDATION, f"{field} must have 1 to {MAX_NAME} characters", field=field
        )
    return name


@dataclass(frozen=True, slots=True)
class NewSession:
    token: str  # the cookie value; only its hash is stored
    csrf_token: str
    expires_at: datetime


def verification_token(ctx: Context, customer_id: CustomerId, expires: datetime) -> str:
    stamp = int(expires.timestamp())
    return f"{customer_id}.{stamp}.{secrets.sign(ctx.secret_key, f'verify:{customer_id}:{stamp}')}"


async def session_txn(
    uow: UnitOfWork,
    ctx: Context,
    kind: str,
    principal_id: int,
    lifetime: timedelta = SESSION_LIFETIME,
    user_agent: str = "",
) -> NewSession:
    token = secrets.new_token(SESSION_PREFIX)
    csrf = _secrets.token_urlsafe(24)
    now = ctx.clock.now()
    expires = now + lifetime
    await uow.sessions.create(
        id_hash=secrets.token_hash(token),
        kind=kind,
        principal_id=principal_id,
        csrf_token=csrf,
        now=now,
        expires_at=expires,
        user_agent=user_agent_of(user_agent),
    )
    return NewSession(token, csrf, expires)


async def verification_mail_txn(
    uow: UnitOfWork, ctx: Context, customer_id: CustomerId, email: str, display_name: str
) -> None:
    """Queue the mail whose link confirms ``email`` (sent by the worker after commit)."""
    now = ctx.clock.now()
    token = verification_token(ctx, customer_id, now + VERIFY_LIFETIME)
    link = f"{ctx.public_url}/verify?token={token}"
    await uow.jobs.enqueue(
        "send_mail",
        {
            "to": email,
            "subject": "Bitte bestätige deine E-Mail-Adresse / Please verify your email",
            "text": (
                f"Hallo {display_name},\n\nbitte bestätige deine E-Mail-Adresse:\n{link}\n\n"
                f"Hello {display_name},\n\nplease verify your email address:\n{link}\n"
            ),
        },
        now,
    )


async def check_signup_customer(
    ctx: Context, *, email: str, password: str, display_name: str
) -> tuple[Customer, NewSession]:
    """Create a customer account, queue the verification mail, and sign the customer in."""
    email = check_email(email)
    check_password(password)
    display_name = check_name(display_name, "display_name")
    password_hash = ctx.passwords.hash(password)

    async def txn(uow: UnitOfWork) -> tuple[Customer, NewSession]:
        if await uow.accounts.get_customer_by_email(email) is not None:
            raise DomainError(ErrorCode.EMAIL_TAKEN, "an account with this email exists")
        now = ctx.clock.now()
        customer = await uow.accounts.create_customer(
            email=email, display_name=display_name, password_hash=password_hash, now=now
        )
        await verification_mail_txn(uow, ctx, customer.id, email, display_name)
        session = await session_txn(uow, ctx, "customer", customer.id)
        return customer, session

    return await ctx.db.write("signup_customer", txn)


async def check_verify_email(ctx: Context, token: str) -> CustomerId:
    parts = token.split(".")
    invalid = DomainError(ErrorCode.INVALID_TOKEN, "this verification link is invalid or expired")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
        raise invalid
    customer_id, stamp = CustomerId(int(parts[0])), int(parts[1])
    expected = secrets.sign(ctx.secret_key, f"verify:{customer_id}:{stamp}")
    if not secrets.same(expected, parts[2]) or stamp < ctx.clock.now().timestamp():
        raise invalid

    async def txn(uow: UnitOfWork) -> CustomerId:
        customer = await uow.accounts.get_customer(customer_id)
        if customer is None:
            raise invalid
        await uow.accounts.set_customer_verified(customer_id, ctx.clock.now())
        if customer.email is not None:
            # what this address wrote by mail before joins the account: one history
            await adopt_mail_history_txn(uow, customer_id, customer.email)
        return customer_id

    return await ctx.db.write("verify_email", txn)


async def check_login(
    ctx: Context,
    *,
    kind: str,
    email: str,
    password: str,
    otp: str | None = None,
    user_agent: str = "",
) -> NewSession:
    """Sign in a customer or an agent. Wrong email and wrong password look the same.

    An agent with a second factor also needs ``otp`` (a TOTP code or a recovery code); that it
    is needed is told only to someone who knows the password.
    """
    email = email.strip().lower()

    async def find(uow: UnitOfWork) -> Customer | Agent | None:
        if kind == "customer":
            return await uow.accounts.get_customer_by_email(email)
        agent = await uow.accounts.get_agent_by_email(email)
        if agent is None or not agent.active:
            return None
        # deactivated in every company: signing in would open nothing
        memberships = await uow.accounts.memberships_of(agent.id)
        return agent if any(m.active for m in memberships) else None

    account = await ctx.db.read(find)
    if account is None:
        ctx.passwords.hash(password)  # same cost as a check: timing does not reveal accounts
        raise DomainError(ErrorCode.INVALID_CREDENTIALS, "email or password is wrong")
    if not ctx.passwords.verify(account.password_hash, password):
        raise DomainError(ErrorCode.INVALID_CREDENTIALS, "email or password is wrong")

    async def txn(uow: UnitOfWork) -> NewSession:
        if isinstance(account, Agent):
            await second_factor.check_second_factor_txn(uow, ctx, account.id, otp)
        return await session_txn(uow, ctx, kind, account.id, user_agent=user_agent)

    return await ctx.db.write("login", txn)


async def check_logout(ctx: Context, session_token: str) -> None:
    """End this session; its open sockets close on every process, as when it is ended from
    the session list."""
    id_hash = secrets.token_hash(session_token)

    async def txn(uow: UnitOfWork) -> None:
        await uow.sessions.delete(id_hash)

    await ctx.db.write("logout", txn)
    await ctx.bus.publish_ephemeral(
        revocation_event(Revocation(session_hash=id_hash), ctx.clock.now())
    )


async def load_session(ctx: Context, session_token: str) -> tuple[Principal, SessionRecord] | None:
    """Resolve a session cookie to its principal (agents with their active memberships)."""

    async def find(uow: UnitOfWork) -> tuple[Principal, SessionRecord] | None:
        record = await uow.sessions.get(secrets.token_hash(session_token))
        if record is None or record.expires_at <= ctx.clock.now():
            return None
        principal = await principal_for(uow, record.kind, record.principal_id)
        return (principal, record) if principal is not None else None

    return await ctx.db.read(find)


async def principal_for(uow: UnitOfWork, kind: str, principal_id: int) -> Principal | None:
    if kind == "customer":
        customer = await uow.accounts.get_customer(CustomerId(principal_id))
        if customer is None:
            return None
        return CustomerPrincipal(
            customer.id, customer.email_verified, customer.display_name, customer.anonymous
        )
    agent = await uow.accounts.get_agent(AgentId(principal_id))
    if agent is None or not agent.active:
        return None
    memberships = await uow.accounts.memberships_of(agent.id)
    return AgentPrincipal(
        agent.id, agent.name, {m.company_id: m.role for m in memberships if m.active}
    )


async def invite_txn(
    uow: UnitOfWork,
    ctx: Context,
    company: Company,
    *,
    email: str,
    role: Role,
    by: Principal | None,
) -> str:
    """Record an invitation, audit it and queue its mail; returns the token (only its hash is
    stored). ``by`` None: the operator's command line."""
    token = secrets.new_token("eli")
    now = ctx.clock.now()
    await audit_txn(
        uow, by, company.id, "agent.invited", target=email, data={"role": role.value}, now=now
    )
    await uow.accounts.create_invitation(
        company_id=company.id,
        email=email,
        role=role,
        token_hash=secrets.token_hash(token),
        expires_at=now + INVITE_LIFETIME,
        now=now,
    )
    await uow.jobs.enqueue(
        "send_mail",
        {
            "to": email,
            "subject": f"Einladung zu {company.name} auf eyelevel / Invitation",
            "text": (
                f"Du wurdest als {role.value} zu {company.name} eingeladen.\n"
                f"You have been invited to {company.name} as {role.value}.\n\n"
                f"{ctx.public_url}/app/invite?token={token}\n"
            ),
        },
        now,
    )
    return token


async def check_invite_agent(
    ctx: Context, principal: Principal, *, company_slug: str, email: str, role: Role
) -> str:
    """An admin invites someone by email; returns the invitation token (also mailed)."""
    email = check_email(email)

    async def txn(uow: UnitOfWork) -> str:
        company = await access_company_txn(uow, principal, company_slug, Role.ADMIN)
        return await invite_txn(uow, ctx, company, email=email, role=role, by=principal)

    return await ctx.db.write("invite_agent", txn)


async def check_accept_invitation(
    ctx: Context, *, token: str, name: str, password: str
) -> NewSession:
    """Accepting creates the agent account (or reuses one with that email) and signs in.

    An existing account keeps its password: the given one must match it.
    """
    name = check_name(name, "name")
    check_password(password)
    password_hash = ctx.passwords.hash(password)
    invalid = DomainError(ErrorCode.INVALID_TOKEN, "this invitation is invalid or expired")

    async def txn(uow: UnitOfWork) -> NewSession:
        invitation = await uow.accounts.get_invitation(secrets.token_hash(token))
        now = ctx.clock.now()
        if invitation is None or invitation.accepted_at is not None or invitation.expires_at <= now:
            raise invalid
        agent = await uow.accounts.get_agent_by_email(invitation.email)
        if agent is None:
            agent = await uow.accounts.create_agent(
                email=invitation.email, name=name, password_hash=password_hash, now=now
            )
        elif not ctx.passwords.verify(agent.password_hash, password):
            raise DomainError(ErrorCode.INVALID_CREDENTIALS, "email or password is wrong")
        await uow.accounts.upsert_membership(invitation.company_id, agent.id, invitation.role, now)
        await uow.accounts.accept_invitation(invitation.id, now)
        return await session_txn(uow, ctx, "agent", agent.id)

    return await ctx.db.write("accept_invitation", txn)
