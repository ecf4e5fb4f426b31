"""An agent's second factor: TOTP (RFC 6238) with ten one-use recovery codes.

Enrolment has two steps so that a typo in the authenticator app cannot lock anyone out: a new
secret is stored inactive, and only a code generated from it turns it on. A code signs in once:
the newest time step used is recorded, and only later steps are accepted after it. Recovery
codes are stored as SHA-256 hashes (they are random, like session tokens) and each works once.
Customers have no second factor here.
"""

from __future__ import annotations

import re
import secrets as _secrets

from eyelevel.core import secrets
from eyelevel.core.actions.audit import audit_txn
from eyelevel.core.entities import Agent
from eyelevel.core.errors import DomainError, ErrorCode, not_found
from eyelevel.core.ids import AgentId
from eyelevel.core.ports import Context, UnitOfWork
from eyelevel.core.principals import AgentPrincipal, Principal

ISSUER = "eyelevel"
RECOVERY_CODES = 10
_TOTP_CODE = re.compile(r"^[0-9]{6}$")
_RECOVERY_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"  # no l, o, 0, 1: read aloud safely
_RECOVERY_HALF = 5  # "xxxxx-xxxxx": 50 bits


def agent_of(principal: Principal) -> AgentPrincipal:
    if not isinstance(principal, AgentPrincipal):
        raise DomainError(ErrorCode.FORBIDDEN, "this is for agents only")
    return principal


def new_recovery_code() -> str:
    def half() -> str:
        return "".join(_secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_HALF))

    return f"{half()}-{half()}"


def recovery_code_hash(code: str) -> str:
    """Case, spaces and dashes do not matter when a code is typed in."""
    return secrets.token_hash("".join(code.lower().split()).replace("-", ""))


async def _audit_everywhere(
    uow: UnitOfWork, principal: AgentPrincipal, action: str, ctx: Context
) -> None:
    """A change to the account concerns every company the agent works for."""
    now = ctx.clock.now()
    for company_id in sorted(principal.roles):
        await audit_txn(
            uow, principal, company_id, action, target=f"agent:{principal.agent_id}", now=now
        )


async def _agent_txn(uow: UnitOfWork, agent_id: AgentId) -> Agent:
    agent = await uow.accounts.get_agent(agent_id)
    if agent is None:
        raise not_found("agent")
    return agent


async def check_start_totp(ctx: Context, principal: Principal) -> tuple[str, str]:
    """A new secret, not active yet: ``(secret, otpauth URI)``. Refused while TOTP is on, so a
    borrowed session cannot swap the second factor without the password."""
    agent_id = agent_of(principal).agent_id
    secret = ctx.otp.new_secret()

    async def txn(uow: UnitOfWork) -> tuple[str, str]:
        agent = await _agent_txn(uow, agent_id)
        if agent.totp_enabled:
            raise DomainError(ErrorCode.CONFLICT, "the second factor is on: turn it off first")
        await uow.security.start_totp(agent_id, secret)
        return secret, ctx.otp.uri(secret, account=agent.email, issuer=ISSUER)

    return await ctx.db.write("start_totp", txn)


async def check_confirm_totp(ctx: Context, principal: Principal, code: str) -> list[str]:
    """Turn TOTP on with a first code; returns the recovery codes (shown this once)."""
    agent = agent_of(principal)
    codes = [new_recovery_code() for _ in range(RECOVERY_CODES)]
    code = code.strip()

    async def txn(uow: UnitOfWork) -> list[str]:
        state = await uow.security.totp_state(agent.agent_id)
        if state is None or state.secret is None or state.enabled:
            raise DomainError(
                ErrorCode.CONFLICT, "no second factor is being set up: start with POST /me/totp"
            )
        now = ctx.clock.now()
        step = ctx.otp.matching_step(state.secret, code, now) if _TOTP_CODE.match(code) else None
        if step is None:
            raise DomainError(ErrorCode.VALIDATION, "the code is wrong or expired", field="code")
        if not await uow.security.enable_totp(
            agent.agent_id, secret=state.secret, step=step, now=now
        ):
            raise DomainError(ErrorCode.CONFLICT, "the second factor changed meanwhile")
        await uow.security.replace_recovery_codes(
            agent.agent_id, [recovery_code_hash(c) for c in codes]
        )
        await _audit_everywhere(uow, agent, "agent.second_factor_enabled", ctx)
        return codes

    return await ctx.db.write("confirm_totp", txn)


async def check_disable_totp(ctx: Context, principal: Principal, password: str) -> None:
    """Turn the second factor off (or drop an unfinished set-up); needs the password."""
    agent = agent_of(principal)

    async def read(uow: UnitOfWork) -> Agent:
        return await _agent_txn(uow, agent.agent_id)

    account = await ctx.db.read(read)
    if not ctx.passwords.verify(account.password_hash, password):
        raise DomainError(ErrorCode.INVALID_CREDENTIALS, "the password is wrong")

    async def txn(uow: UnitOfWork) -> None:
        state = await uow.security.totp_state(agent.agent_id)
        if state is None or state.secret is None:
            return
        await uow.security.disable_totp(agent.agent_id)
        if state.enabled:
            await _audit_everywhere(uow, agent, "agent.second_factor_disabled", ctx)

    await ctx.db.write("disable_totp", txn)


async def check_second_factor_txn(
    uow: UnitOfWork, ctx: Context, agent_id: AgentId, otp: str | None
) -> None:
    """At sign-in, after the password matched: nothing to do without TOTP; else ``otp`` must
    be an unspent TOTP code or an unused recovery code, which this spends."""
    state = await uow.security.totp_state(agent_id)
    if state is None or not state.enabled or state.secret is None:
        return
    if not otp or not otp.strip():
        raise DomainError(ErrorCode.SECOND_FACTOR_REQUIRED, "enter the code of your second factor")
    code = otp.strip()
    if _TOTP_CODE.match(code):
        step = ctx.otp.matching_step(state.secret, code, ctx.clock.now())
        if step is not None and await uow.security.spend_totp_step(
            agent_id, state=state, step=step
        ):
            return
    elif await uow.security.spend_recovery_code(
        agent_id, recovery_code_hash(code), ctx.clock.now()
    ):
        return
    raise DomainError(ErrorCode.INVALID_SECOND_FACTOR, "the code is wrong, expired or used")
