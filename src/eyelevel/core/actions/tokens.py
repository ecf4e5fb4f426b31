"""API tokens: created by a company admin for that company, stored only as a hash.

A token carries scopes (``Scope``) chosen at creation, may expire, and records when it was last
used. Which scope each operation needs is declared by the web layer, per route.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from eyelevel.core import secrets
from eyelevel.core.actions.access import access_company_txn
from eyelevel.core.actions.accounts import check_name
from eyelevel.core.actions.audit import audit_txn
from eyelevel.core.entities import ALL_SCOPES, ApiToken, Company, Role, Scope
from eyelevel.core.errors import DomainError, ErrorCode, not_found
from eyelevel.core.ids import TokenId
from eyelevel.core.ports import Context, UnitOfWork
from eyelevel.core.principals import Principal, TokenPrincipal

TOUCH_EVERY = timedelta(minutes=1)


async def create_token_txn(
    uow: UnitOfWork,
    ctx: Context,
    company: Company,
    *,
    name: str,
    secret: str,
    scopes: frozenset[Scope],
    expires_at: datetime | None,
    by: Principal | None,
) -> ApiToken:
    """Store a token (its hash) and audit it; ``by`` None: the operator's command line."""
    now = ctx.clock.now()
    token = await uow.tokens.create(
        company_id=company.id,
        name=name,
        prefix=secret[:10],
        token_hash=secrets.token_hash(secret),
        scopes=scopes,
        expires_at=expires_at,
        now=now,
    )
    await audit_txn(
        uow,
        by,
        company.id,
        "token.created",
        target=f"token:{token.id}",
        data={"name": name, "scopes": sorted(s.value for s in scopes)},
        now=now,
    )
    return token


def check_scopes(scopes: Iterable[str]) -> frozenset[Scope]:
    """At least one scope, each a known one."""
    names = list(scopes)
    known = {s.value: s for s in Scope}
    if not names or any(n not in known for n in names):
        raise DomainError(
            ErrorCode.VALIDATION,
            "choose one or more of: " + ", ".join(s.value for s in Scope),
            field="scopes",
        )
    return frozenset(known[n] for n in names)


def check_expiry(ctx: Context, expires_at: datetime | None) -> datetime | None:
    if expires_at is not None and (expires_at.tzinfo is None or expires_at <= ctx.clock.now()):
        raise DomainError(
            ErrorCode.VALIDATION,
            "expires_at must be a time in the future, with a time zone",
            field="expires_at",
        )
    return expires_at


async def check_create_token(
    ctx: Context,
    principal: Principal,
    *,
    company_slug: str,
    name: str,
    scopes: Iterable[str] = ALL_SCOPES,
    expires_at: datetime | None = None,
) -> tuple[ApiToken, str]:
    """Returns the token record and the secret, which is shown this once and never again."""
    name = check_name(name, "name")
    chosen = check_scopes(scopes)
    expires_at = check_expiry(ctx, expires_at)
    secret = secrets.new_token("elt")

    async def txn(uow: UnitOfWork) -> tuple[ApiToken, str]:
        company = await access_company_txn(uow, principal, company_slug, Role.ADMIN)
        token = await create_token_txn(
            uow,
            ctx,
            company,
            name=name,
            secret=secret,
            scopes=chosen,
            expires_at=expires_at,
            by=principal,
        )
        return token, secret

    return await ctx.db.write("create_token", txn)


async def check_revoke_token(
    ctx: Context, principal: Principal, *, company_slug: str, token_id: TokenId
) -> None:
    async def txn(uow: UnitOfWork) -> None:
        company = await access_company_txn(uow, principal, company_slug, Role.ADMIN)
        now = ctx.clock.now()
        if not await uow.tokens.revoke(company.id, token_id, now):
            raise not_found("token")
        await audit_txn(
            uow, principal, company.id, "token.revoked", target=f"token:{token_id}", now=now
        )

    await ctx.db.write("revoke_token", txn)


async def list_tokens(ctx: Context, principal: Principal, company_slug: str) -> list[ApiToken]:
    async def read(uow: UnitOfWork) -> list[ApiToken]:
        company = await access_company_txn(uow, principal, company_slug, Role.ADMIN)
        return await uow.tokens.of_company(company.id)

    return await ctx.db.read(read)


async def authenticate_token(ctx: Context, secret: str) -> TokenPrincipal | None:
    """Resolve a bearer token (None: unknown, revoked or expired); records its last use at most
    once a minute."""

    async def read(uow: UnitOfWork) -> ApiToken | None:
        return await uow.tokens.get_by_hash(secrets.token_hash(secret))

    token = await ctx.db.read(read)
    if token is None or token.revoked_at is not None:
        return None
    now = ctx.clock.now()
    if token.expires_at is not None and token.expires_at <= now:
        return None
    if token.last_used_at is None or now - token.last_used_at >= TOUCH_EVERY:

        async def touch(uow: UnitOfWork) -> None:
            await uow.tokens.touch(token.id, now)

        await ctx.db.write("touch_token", touch)
    return TokenPrincipal(token.id, token.company_id, token.name, token.scopes)
