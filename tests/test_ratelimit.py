"""Rate limits through the real server: per address, per API token, sign-in brute force, sockets.

The harness turns limits off; every test here turns them on with small quotas. Windows pass by a
FakeClock (the limiter counts by the app clock). On the PostgreSQL backend the server counts in
Redis (the harness configures it), which ``test_counters_live_in_redis_with_redis`` checks.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from eyelevel.clock import FakeClock, SystemClock
from eyelevel.core.actions import operator
from eyelevel.core.entities import Role
from eyelevel.realtime.ratestore import MemoryRateCounter, RedisRateCounter
from tests import backends
from tests.harness import PASSWORD, Server, start_server

API = "/api/v1"
PROXY = ["127.0.0.1/32"]  # the test client is the "proxy"; X-Forwarded-For names the client


def _from(ip: str) -> dict[str, str]:
    return {"X-Forwarded-For": ip}


def _fields(r: httpx.Response) -> dict[str, dict[str, int]]:
    """``RateLimit`` as {policy: {"r": remaining, "t": reset}}."""
    out: dict[str, dict[str, int]] = {}
    for item in r.headers.get("ratelimit", "").split(","):
        name, *params = item.strip().split(";")
        out[name.strip('"')] = {k: int(v) for k, v in (p.split("=") for p in params)}
    return out


def _assert_refused(r: httpx.Response, policy: str) -> None:
    assert r.status_code == 429, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["code"] == "rate_limited" and body["status"] == 429
    assert body["type"] == "urn:eyelevel:problem:rate_limited"
    retry = int(r.headers["retry-after"])
    assert 1 <= retry <= 900
    assert _fields(r)[policy]["r"] == 0
    assert f'"{policy}";q=' in r.headers["ratelimit-policy"]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def limited(db_url: str, tmp_path: Path, clock: FakeClock) -> AsyncIterator[Server]:
    """Small quotas; 127.0.0.1 is a trusted proxy so tests can speak from many addresses."""
    async with start_server(
        db_url,
        tmp_path,
        clock=clock,
        rate_limit_enabled=True,
        rate_limit_per_ip=50,
        rate_limit_per_token=3,
        rate_limit_signin_per_account=3,
        rate_limit_signin_per_ip=4,
        rate_limit_ws_per_ip=2,
        trusted_proxies=PROXY,
    ) as srv:
        yield srv


async def test_per_address_limit_answers_429_with_retry_after_and_fields(
    db_url: str, tmp_path: Path, clock: FakeClock
) -> None:
    async with start_server(
        db_url,
        tmp_path,
        clock=clock,
        rate_limit_enabled=True,
        rate_limit_per_ip=3,
        trusted_proxies=PROXY,
    ) as srv:
        await _per_address(srv, clock)


async def _per_address(srv: Server, clock: FakeClock) -> None:
    c = srv.client()
    for remaining in (2, 1, 0):
        r = await c.get(f"{API}/auth/me", headers=_from("203.0.113.7"))
        assert r.status_code == 401, r.text
        assert r.headers["ratelimit-policy"] == '"ip";q=3;w=60'
        assert _fields(r)["ip"]["r"] == remaining
        assert "retry-after" not in r.headers
    r = await c.get(f"{API}/auth/me", headers=_from("203.0.113.7"))
    _assert_refused(r, "ip")
    assert int(r.headers["retry-after"]) == _fields(r)["ip"]["t"] <= 60

    # another address is counted on its own; pages outside the API are not limited
    r = await c.get(f"{API}/auth/me", headers=_from("203.0.113.8"))
    assert r.status_code == 401 and _fields(r)["ip"]["r"] == 2
    assert (await c.get("/healthz", headers=_from("203.0.113.7"))).status_code == 200

    clock.advance(timedelta(seconds=60))
    r = await c.get(f"{API}/auth/me", headers=_from("203.0.113.7"))
    assert r.status_code == 401 and _fields(r)["ip"]["r"] == 2


async def test_forwarded_for_is_ignored_without_a_trusted_proxy(
    db_url: str, tmp_path: Path
) -> None:
    async with start_server(
        db_url, tmp_path, clock=FakeClock(), rate_limit_enabled=True, rate_limit_per_ip=2
    ) as srv:
        c = srv.client()
        for ip in ("198.51.100.1", "198.51.100.2"):
            assert (await c.get(f"{API}/auth/me", headers=_from(ip))).status_code == 401
        _assert_refused(await c.get(f"{API}/auth/me", headers=_from("198.51.100.3")), "ip")


async def test_limits_off_sends_no_fields(server: Server) -> None:
    r = await server.client().get(f"{API}/auth/me")
    assert r.status_code == 401
    assert "ratelimit" not in r.headers and "ratelimit-policy" not in r.headers


async def test_per_token_limit_leaves_other_tokens_alone(limited: Server, clock: FakeClock) -> None:
    company = await limited.company("acme")
    crm = await limited.token_client(company, "CRM")
    shop = await limited.token_client(company, "Shop")
    # each token speaks from its own address so that only the token policy can refuse
    for remaining in (2, 1, 0):
        r = await crm.get(f"{API}/auth/me", headers=_from(f"192.0.2.{10 + remaining}"))
        assert r.status_code == 200, r.text
        assert _fields(r)["token"]["r"] == remaining
        assert '"token";q=3;w=60' in r.headers["ratelimit-policy"]
    r = await crm.get(f"{API}/auth/me", headers=_from("192.0.2.20"))
    _assert_refused(r, "token")

    r = await shop.get(f"{API}/auth/me", headers=_from("192.0.2.21"))
    assert r.status_code == 200 and _fields(r)["token"]["r"] == 2

    clock.advance(timedelta(minutes=1))
    r = await crm.get(f"{API}/auth/me", headers=_from("192.0.2.22"))
    assert r.status_code == 200 and _fields(r)["token"]["r"] == 2


async def _login(c: Any, email: str, password: str, ip: str, **extra: Any) -> httpx.Response:
    body = {"kind": "agent", "email": email, "password": password, **extra}
    r: httpx.Response = await c.post(f"{API}/auth/login", body, headers=_from(ip))
    return r


async def test_sign_in_brute_force_is_blocked_per_account_across_addresses(
    limited: Server, clock: FakeClock
) -> None:
    company = await limited.company("acme")
    victim, other = "victim@example.com", "other@example.com"
    for email in (victim, other):
        await operator.ensure_agent(
            limited.runtime.ctx, company, email=email, name="A", password=PASSWORD, role=Role.AGENT
        )
    c = limited.client()
    # successful sign-ins are given back: more of them than the quota all pass
    for n in range(5):
        r = await _login(c, victim.upper(), PASSWORD, f"10.1.0.{n}")
        assert r.status_code == 200, r.text
        assert _fields(r)["signin-account"]["r"] == 3

    # three wrong guesses, each from another address (the per-address quota is not reached)
    for n in range(3):
        r = await _login(c, victim, "wrong password!", f"10.2.0.{n}")
        assert r.status_code == 401 and r.json()["code"] == "invalid_credentials"
    wrong = await _login(c, f"  {victim.upper()} ", "wrong password!", "10.3.0.1")
    right = await _login(c, victim, PASSWORD, "10.3.0.2")
    for r in (wrong, right):
        _assert_refused(r, "signin-account")
        assert "set-cookie" not in r.headers
    # the refusal does not tell whether the password was right
    assert right.json() == wrong.json()
    assert right.headers["retry-after"] == wrong.headers["retry-after"]
    assert _fields(right) == _fields(wrong)

    # another account signs in from the same addresses
    r = await _login(c, other, PASSWORD, "10.3.0.1")
    assert r.status_code == 200, r.text

    clock.advance(timedelta(minutes=15))
    assert (await _login(c, victim, PASSWORD, "10.3.0.3")).status_code == 200


async def test_sign_in_failures_are_limited_per_address(limited: Server) -> None:
    company = await limited.company("acme")
    c = limited.client()
    for n in range(4):
        r = await _login(c, f"nobody{n}@example.com", "wrong password!", "10.9.0.1")
        assert r.status_code == 401, r.text
    real = "real@example.com"
    await operator.ensure_agent(
        limited.runtime.ctx, company, email=real, name="R", password=PASSWORD, role=Role.AGENT
    )
    _assert_refused(await _login(c, real, PASSWORD, "10.9.0.1"), "signin-ip")
    assert (await _login(c, real, PASSWORD, "10.9.0.2")).status_code == 200

    # sign-ups and visitors count every attempt against the address
    for _ in range(4):
        r = await c.post(f"{API}/auth/visitor", {}, headers=_from("10.9.1.1"))
        assert r.status_code == 201, r.text
    _assert_refused(await c.post(f"{API}/auth/visitor", {}, headers=_from("10.9.1.1")), "signin-ip")
    body = {"email": "new@example.org", "password": PASSWORD, "display_name": "N"}
    r = await c.post(f"{API}/auth/signup", body, headers=_from("10.9.1.1"))
    _assert_refused(r, "signin-ip")


async def test_wrong_second_factor_codes_count_against_the_account(
    db_url: str, tmp_path: Path
) -> None:
    """TOTP needs the real clock (the codes are made from it here)."""
    async with start_server(
        db_url,
        tmp_path,
        rate_limit_enabled=True,
        rate_limit_signin_per_account=2,
        trusted_proxies=PROXY,
    ) as srv:
        company = await srv.company("acme")
        email = f"totp-{uuid.uuid4().hex[:8]}@example.com"
        agent = await srv.agent(company, email=email)
        r = await agent.post(f"{API}/me/totp")
        secret = r.json()["secret"]
        now = pyotp.TOTP(secret).now()
        r = await agent.post(f"{API}/me/totp/confirm", {"code": now})
        assert r.status_code == 200, r.text

        c = srv.client()
        # the password alone: the second factor is asked for, which is no failure
        for n in range(3):
            r = await _login(c, email, PASSWORD, f"10.5.0.{n}")
            assert r.json()["code"] == "second_factor_required", r.text
        near = {pyotp.TOTP(secret).at(SystemClock().now(), counter_offset=k) for k in range(-3, 4)}
        bad = next(f"{n:06d}" for n in range(0, 10**6, 7919) if f"{n:06d}" not in near)
        for n in range(2):
            r = await _login(c, email, PASSWORD, f"10.6.0.{n}", otp=bad)
            assert r.json()["code"] == "invalid_second_factor", r.text
        r = await _login(c, email, PASSWORD, "10.6.0.9", otp=pyotp.TOTP(secret).now())
        _assert_refused(r, "signin-account")


async def test_socket_connections_are_limited_per_address(limited: Server) -> None:
    company = await limited.company("acme")
    # a token, not a session: the FakeClock's cookies would look expired to the client
    agent = await limited.token_client(company)
    headers = {**agent.ws_headers(), **_from("10.7.0.1")}
    opened = []
    for _ in range(2):
        conn = await websockets.connect(limited.ws_url, additional_headers=headers)
        opened.append(conn)
        assert '"hello"' in str(await asyncio.wait_for(conn.recv(), 5))
    conn = await websockets.connect(limited.ws_url, additional_headers=headers)
    with pytest.raises(ConnectionClosed) as closed:
        await asyncio.wait_for(conn.recv(), 5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4429
    # another address still connects
    other = await websockets.connect(
        limited.ws_url, additional_headers={**agent.ws_headers(), **_from("10.7.0.2")}
    )
    assert '"hello"' in str(await asyncio.wait_for(other.recv(), 5))
    for c in (*opened, other):
        await c.close()


async def test_counters_live_in_redis_with_redis(limited: Server) -> None:
    """On the PostgreSQL backend the server counts in Redis, keyed without personal data."""
    if backends.BACKEND != "postgres":
        assert limited.settings.redis_url is None
        return
    import redis.asyncio as aioredis

    await limited.client().get(f"{API}/auth/me", headers=_from("203.0.113.99"))
    client = aioredis.from_url(backends.REDIS_URL)
    try:
        keys = [k.decode() async for k in client.scan_iter(f"{limited.settings.redis_channel}:*")]
        assert len(keys) == 1 and ":rl:ip:" in keys[0] and "203.0.113" not in keys[0]
        assert 0 < await client.ttl(keys[0]) <= 65
    finally:
        await client.aclose()


async def _redis_or_fail(prefix: str) -> RedisRateCounter | None:
    """The Redis store, or None where Redis is unreachable; in CI that fails the test."""
    counter = RedisRateCounter(backends.REDIS_URL, prefix=prefix)
    try:
        await counter.add("probe", 0, ttl_seconds=5)
    except Exception as exc:
        await counter.close()
        if backends.CI:
            raise AssertionError(backends.requirement_failure("Redis", exc)) from exc
        return None
    return counter


async def test_stores_count_atomically_and_refund() -> None:
    """The two stores agree; Redis counters are shared by every process using the same prefix
    (here: two clients, as two servers would be). Fails in CI when Redis is unreachable."""
    prefix = f"eyelevel:test:{uuid.uuid4().hex}:"
    first = await _redis_or_fail(prefix)
    stores: list[Any] = [MemoryRateCounter(FakeClock())]
    if first is not None:
        stores.append(first)
    for store in stores:
        totals = await asyncio.gather(*(store.add("k", 1, ttl_seconds=60) for _ in range(20)))
        assert sorted(totals) == list(range(1, 21))
        assert await store.add("k", -1, ttl_seconds=60) == 19
        assert await store.add("other", 1, ttl_seconds=60) == 1
    if first is None:
        # REQUIRE: Redis — _redis_or_fail fails instead with CI=true
        pytest.skip("REQUIRE: Redis at EYELEVEL_TEST_REDIS_URL (the in-memory store was tested)")
    second = RedisRateCounter(backends.REDIS_URL, prefix=prefix)
    try:
        assert await second.add("k", 1, ttl_seconds=60) == 20
    finally:
        await second.close()
        await first.close()


async def test_memory_store_forgets_old_windows_and_stays_bounded() -> None:
    clock = FakeClock()
    store = MemoryRateCounter(clock, max_keys=10)
    assert await store.add("a", 1, ttl_seconds=60) == 1
    clock.advance(timedelta(seconds=61))
    assert await store.add("a", 1, ttl_seconds=60) == 1  # expired: counted afresh
    for n in range(50):
        await store.add(f"k{n}", 1, ttl_seconds=60)
    assert len(store) <= 10
    assert await store.add("k49", 1, ttl_seconds=60) == 2  # the newest keys are kept
