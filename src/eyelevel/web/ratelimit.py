"""Rate limits: the REST API per client address and per API token, sign-in, socket connects.

Policies (their names appear in the ``RateLimit-Policy`` and ``RateLimit`` header fields of
draft-ietf-httpapi-ratelimit-headers, e.g. ``RateLimit-Policy: "ip";q=1200;w=60`` and
``RateLimit: "ip";r=1187;t=42``):

- ``ip``: every request under ``/api/`` per client address, before authentication;
- ``token``: requests authenticated by an API token, per token (after authentication);
- ``signin-account`` / ``signin-ip``: failed sign-ins per target email and per address; every
  sign-up, visitor start and invitation acceptance counts against ``signin-ip`` too;
- ``ws-ip``: WebSocket connection attempts per address (refused with close code 4429).

**Fixed windows.** A counter per (policy, subject, window number ``floor(now / w)`` by the app
clock); each request adds one; past ``q`` requests are refused until the window ends, and
``Retry-After`` says when that is. One atomic increment per check in Redis and one small entry
per active subject in memory; the price is that up to ``2q`` may pass around a window boundary,
acceptable for a flood and brute-force guard.

**Sign-in reserves, then refunds.** The attempt is counted *before* the password is checked and
given back when it was not a failure (a success, or a second factor merely requested), so
parallel guesses cannot overshoot the limit, successful sign-ins never count, and an attempt over
the limit is refused without checking the password: the answer is the same whether the password
was right or not.

Subjects are stored as an HMAC (the secret key) of the identifier: no email or address in Redis.
The client address is the peer's; ``X-Forwarded-For`` is honoured only when the peer is one of
the operator's trusted proxies. IPv6 clients are counted per /64 (one customer's prefix). When the
store fails (Redis unreachable) requests pass and a warning is logged: the limiter must never
take the API down with it.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import ipaddress
import math
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import structlog
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from eyelevel.core.errors import DomainError, ErrorCode
from eyelevel.core.ports import Clock, RateCounter
from eyelevel.web.problems import problem

log = structlog.get_logger("eyelevel.ratelimit")

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# a refusal that is a failed guess; any other outcome of a sign-in gives its reservation back
FAILURES = frozenset(
    {ErrorCode.INVALID_CREDENTIALS, ErrorCode.INVALID_SECOND_FACTOR, ErrorCode.INVALID_TOKEN}
)
_STATE = "rate_limit_decisions"
_TTL_MARGIN = 5


@dataclass(frozen=True)
class Policy:
    """At most ``limit`` units per ``window`` seconds; ``limit`` 0 turns the policy off."""

    name: str
    limit: int
    window: int


@dataclass(frozen=True)
class RateLimits:
    enabled: bool = True
    ip: Policy = Policy("ip", 1200, 60)
    token: Policy = Policy("token", 600, 60)
    signin_account: Policy = Policy("signin-account", 10, 900)
    signin_ip: Policy = Policy("signin-ip", 100, 900)
    ws_ip: Policy = Policy("ws-ip", 120, 60)
    trusted_proxies: tuple[IPNetwork, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Decision:
    policy: Policy
    key: str
    count: int
    reset: int  # seconds until the window ends

    @property
    def allowed(self) -> bool:
        return self.count <= self.policy.limit

    @property
    def remaining(self) -> int:
        return max(0, self.policy.limit - self.count)


class RateLimiter:
    def __init__(self, limits: RateLimits, counter: RateCounter, clock: Clock, secret: str) -> None:
        self.limits = limits
        self._counter = counter
        self._clock = clock
        self._secret = secret.encode()

    async def hit(self, policy: Policy, subject: str) -> Decision | None:
        """Count one unit; None when the policy is off or the store failed (let through)."""
        if not self.limits.enabled or policy.limit <= 0:
            return None
        now = self._clock.now().timestamp()
        number = int(now // policy.window)
        reset = max(1, math.ceil((number + 1) * policy.window - now))
        digest = hmac.new(self._secret, subject.encode(), hashlib.sha256).hexdigest()[:32]
        key = f"{policy.name}:{digest}:{number}"
        try:
            count = await self._counter.add(key, 1, ttl_seconds=policy.window + _TTL_MARGIN)
        except Exception as exc:  # noqa: BLE001 - fail open: a broken store must not stop the API
            log.warning("rate_limit_store_failed", error=type(exc).__name__)
            return None
        return Decision(policy, key, count, reset)

    async def refund(self, decision: Decision) -> Decision:
        ttl = decision.policy.window + _TTL_MARGIN
        try:
            count = await self._counter.add(decision.key, -1, ttl_seconds=ttl)
        except Exception as exc:  # noqa: BLE001 - fail open, as in hit
            log.warning("rate_limit_store_failed", error=type(exc).__name__)
            return decision
        return replace(decision, count=count)

    def client(self, scope: Scope) -> str:
        """The subject for per-address policies: the peer, or the first untrusted hop."""
        peer = (scope.get("client") or ("", 0))[0]
        addr = _parse(peer)
        if addr is None:
            return f"peer:{peer}"
        trusted = self.limits.trusted_proxies
        if trusted and _within(addr, trusted):
            hops = [
                hop.strip()
                for name, value in scope.get("headers", [])
                if name == b"x-forwarded-for"
                for hop in value.decode("latin-1").split(",")
            ]
            # each proxy appends the address it saw: walk back from ours to the first stranger
            for hop in reversed(hops):
                parsed = _parse(hop)
                if parsed is None:
                    break
                addr = parsed
                if not _within(parsed, trusted):
                    break
        if isinstance(addr, ipaddress.IPv6Address):
            return f"ip:{ipaddress.IPv6Network((addr, 64), strict=False)}"
        return f"ip:{addr}"

    async def close(self) -> None:
        await self._counter.close()


def _parse(text: str) -> IPAddress | None:
    try:
        addr = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    return addr


def _within(addr: IPAddress, networks: Sequence[IPNetwork]) -> bool:
    return any(addr.version == net.version and addr in net for net in networks)


def header_fields(decisions: Sequence[Decision]) -> list[tuple[bytes, bytes]]:
    """``RateLimit-Policy`` and ``RateLimit`` for every policy that applied; on a refusal also
    ``Retry-After``: when the last refusing window ends."""
    policies = ", ".join(
        f'"{d.policy.name}";q={d.policy.limit};w={d.policy.window}' for d in decisions
    )
    current = ", ".join(f'"{d.policy.name}";r={d.remaining};t={d.reset}' for d in decisions)
    out = [(b"ratelimit-policy", policies.encode()), (b"ratelimit", current.encode())]
    denied = [d.reset for d in decisions if not d.allowed]
    if denied:
        out.append((b"retry-after", str(max(denied)).encode()))
    return out


def rate_limited() -> DomainError:
    return DomainError(ErrorCode.RATE_LIMITED, "too many requests: retry after Retry-After seconds")


def _decisions(scope: Scope) -> list[Decision]:
    state: dict[str, Any] = scope.setdefault("state", {})
    recorded: list[Decision] = state.setdefault(_STATE, [])
    return recorded


def limiter_of(conn: HTTPConnection) -> RateLimiter | None:
    limiter: RateLimiter | None = getattr(conn.app.state, "rate_limiter", None)
    return limiter if limiter is not None and limiter.limits.enabled else None


class RateLimitMiddleware:
    """Counts every ``/api/`` request per client address and adds the header fields of every
    policy applied while answering it (the token and sign-in policies are applied later, in
    ``check_token`` and ``sign_in_attempt``)."""

    def __init__(self, app: ASGIApp, limiter: RateLimiter) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or not self.limiter.limits.enabled
            or not scope["path"].startswith("/api/")
        ):
            await self.app(scope, receive, send)
            return
        # the per-request state dict is a copy (uvicorn); the list is this request's own
        decisions: list[Decision] = []
        scope.setdefault("state", {})[_STATE] = decisions

        async def send_with_fields(message: Message) -> None:
            if message["type"] == "http.response.start" and decisions:
                headers = [*message.get("headers", []), *header_fields(decisions)]
                message = {**message, "headers": headers}
            await send(message)

        decision = await self.limiter.hit(self.limiter.limits.ip, self.limiter.client(scope))
        if decision is not None:
            decisions.append(decision)
            if not decision.allowed:
                refusal = rate_limited()
                await problem(refusal.code, refusal.detail)(scope, receive, send_with_fields)
                return
        await self.app(scope, receive, send_with_fields)


async def check_token(conn: HTTPConnection, token_id: int) -> None:
    """After authentication: count a request made with an API token; refuse it over the limit."""
    limiter = limiter_of(conn)
    if limiter is None:
        return
    decision = await limiter.hit(limiter.limits.token, f"token:{token_id}")
    if decision is not None:
        _decisions(conn.scope).append(decision)
        if not decision.allowed:
            raise rate_limited()


@contextlib.asynccontextmanager
async def sign_in_attempt(
    conn: HTTPConnection, *, account: str | None = None, failures_only: bool = True
) -> AsyncIterator[None]:
    """Guard one sign-in (``failures_only``: given back unless it failed) or one sign-up-like
    request (``failures_only=False``: always counted) by address and, with ``account``, by the
    normalised email. Raises ``rate_limited`` before the guarded code runs when over a limit."""
    limiter = limiter_of(conn)
    if limiter is None:
        yield
        return
    limits = limiter.limits
    wanted = [(limits.signin_ip, limiter.client(conn.scope))]
    if account is not None and limits.signin_account.limit > 0:
        wanted.append((limits.signin_account, "account:" + account.strip().lower()))
    decisions = [d for policy, subject in wanted if (d := await limiter.hit(policy, subject))]
    recorded = _decisions(conn.scope)
    recorded.extend(decisions)

    async def give_back() -> None:
        for decision in decisions:
            updated = await limiter.refund(decision)
            recorded[recorded.index(decision)] = updated

    if any(not d.allowed for d in decisions):
        # refused unchecked: what was counted against the other subject is given back
        decisions = [d for d in decisions if d.allowed]
        await give_back()
        raise rate_limited()
    try:
        yield
    except DomainError as exc:
        if failures_only and exc.code not in FAILURES:
            await give_back()
        raise
    if failures_only:
        await give_back()


async def allow_socket(conn: HTTPConnection) -> bool:
    """Count a WebSocket connection attempt by address; False: refuse it."""
    limiter = limiter_of(conn)
    if limiter is None:
        return True
    decision = await limiter.hit(limiter.limits.ws_ip, limiter.client(conn.scope))
    return decision is None or decision.allowed
