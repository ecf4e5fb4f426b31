"""Agent security: the TOTP second factor with recovery codes, own sessions (listed, ended),
deactivation and roles (sessions, cookies and open sockets end; a company keeps an admin), the
audit log, and presence (colleagues see it live, customers never)."""

from __future__ import annotations

import asyncio
import hashlib
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest
import websockets
from sqlalchemy import select
from websockets.exceptions import ConnectionClosed

from eyelevel.app import build_runtime
from eyelevel.core.actions import operator
from eyelevel.core.entities import Company, Role
from eyelevel.jobs.mailers import MemoryMailer
from eyelevel.security import Argon2Hasher
from eyelevel.storage import schema as t
from tests import backends
from tests.harness import PASSWORD, Client, Server, Socket
from tests.processes import Cluster, login

API = "/api/v1"
REQUIRE_POSTGRES = "REQUIRE: PostgreSQL + Redis backend (EYELEVEL_TEST_BACKEND=postgres)"
CLOSE_WITHIN = 5.0  # the promise: a revoked socket closes within 5 seconds


# -- helpers -----------------------------------------------------------------------------------


def _email(prefix: str = "agent") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}@example.com"


async def _agent(
    server: Server, company: Company, role: Role = Role.AGENT, name: str = "Anna Agent"
) -> tuple[Client, str]:
    email = _email()
    return await server.agent(company, email=email, role=role, name=name), email


async def _login(
    server: Server, email: str, otp: str | None = None, *, user_agent: str | None = None
) -> tuple[httpx.Response, Client]:
    c = server.client("agent")
    body: dict[str, Any] = {"kind": "agent", "email": email, "password": PASSWORD}
    if otp is not None:
        body["otp"] = otp
    headers = {"user-agent": user_agent} if user_agent is not None else {}
    r = await c.post(f"{API}/auth/login", body, headers=headers)
    return r, c


def _code(r: httpx.Response) -> str | None:
    return r.json().get("code") if r.content else None


def _step_code(secret: str, offset: int) -> str:
    """The code of the time step ``offset`` steps from now."""
    return pyotp.TOTP(secret).at(time.time(), counter_offset=offset)


def _wrong_code(secret: str) -> str:
    """Six digits that are no code of any step near now."""
    near = {_step_code(secret, k) for k in range(-3, 4)}
    return next(c for c in (f"{n:06d}" for n in range(0, 10**6, 7919)) if c not in near)


async def _closed_with(sock: Socket, within: float = CLOSE_WITHIN) -> int | None:
    """The close code the server ends the socket with (frames before it are ignored)."""
    try:
        async with asyncio.timeout(within):
            while True:
                await sock.conn.recv()
    except ConnectionClosed as exc:
        return exc.rcvd.code if exc.rcvd else None
    except TimeoutError:
        raise AssertionError(f"the socket was still open after {within}s") from None


async def _still_open(sock: Socket) -> None:
    await sock.send_json({"type": "ping", "ref": "alive"})
    pong = await sock.wait_for(lambda f: f.get("ref") == "alive")
    assert pong["type"] == "pong"


async def _audit(admin: Client, slug: str, **params: Any) -> list[dict[str, Any]]:
    """The audit log without the set-up: the harness makes API tokens through the operator's
    command line, which is audited as ``operator``."""
    r = await admin.get(f"{API}/companies/{slug}/audit", params=params)
    assert r.status_code == 200, r.text
    return [e for e in r.json()["items"] if e["actor"] != "operator"]


async def _staff_row(client: Client, slug: str, agent_id: int) -> dict[str, Any]:
    r = await client.get(f"{API}/companies/{slug}/staff")
    assert r.status_code == 200, r.text
    return dict(next(a for a in r.json()["agents"] if a["id"] == agent_id))


async def _patch_member(client: Client, slug: str, agent_id: int, **body: Any) -> httpx.Response:
    return await client.http.patch(f"{API}/companies/{slug}/agents/{agent_id}", json=body)


async def _enrol(agent: Client) -> tuple[str, list[str]]:
    r = await agent.post(f"{API}/me/totp")
    assert r.status_code == 200, r.text
    secret = r.json()["secret"]
    r = await agent.post(f"{API}/me/totp/confirm", {"code": _step_code(secret, 0)})
    assert r.status_code == 200, r.text
    return secret, r.json()["recovery_codes"]


# -- second factor -----------------------------------------------------------------------------


async def test_totp_enrolment_then_sign_in_needs_a_fresh_code(server: Server) -> None:
    company = await server.company("acme")
    admin, _ = await _agent(server, company, Role.ADMIN, "Otto Admin")
    agent, email = await _agent(server, company)

    r = await agent.post(f"{API}/me/totp")
    assert r.status_code == 200, r.text
    secret, uri = r.json()["secret"], r.json()["uri"]
    parsed = pyotp.parse_uri(uri)
    assert parsed.secret == secret and parsed.issuer == "eyelevel"
    assert uri.startswith("otpauth://totp/") and parsed.name == email
    # not active yet: the password alone still signs in, and a wrong first code changes nothing
    r, _ = await _login(server, email)
    assert r.status_code == 200, r.text
    r = await agent.post(f"{API}/me/totp/confirm", {"code": _wrong_code(secret)})
    assert (r.status_code, _code(r)) == (422, "validation_error"), r.text
    r, _ = await _login(server, email)
    assert r.status_code == 200, r.text

    r = await agent.post(f"{API}/me/totp/confirm", {"code": _step_code(secret, 0)})
    assert r.status_code == 200, r.text
    codes = r.json()["recovery_codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    # on: a second enrolment (which would swap the factor) and a second confirm are refused
    r = await agent.post(f"{API}/me/totp")
    assert (r.status_code, _code(r)) == (409, "conflict"), r.text
    r = await agent.post(f"{API}/me/totp/confirm", {"code": _step_code(secret, 1)})
    assert (r.status_code, _code(r)) == (409, "conflict"), r.text

    # the password alone: told a second factor is needed, and no session is made
    r, c = await _login(server, email)
    assert (r.status_code, _code(r)) == (401, "second_factor_required"), r.text
    assert "eyelevel_session" not in c.http.cookies
    # a wrong password is just wrong, whether or not a code comes with it
    bad = server.client("agent")
    r = await bad.post(
        f"{API}/auth/login", {"kind": "agent", "email": email, "password": "wrong password!"}
    )
    assert (r.status_code, _code(r)) == (401, "invalid_credentials"), r.text
    r, _ = await _login(server, email, _wrong_code(secret))
    assert (r.status_code, _code(r)) == (401, "invalid_second_factor"), r.text

    # the confirming code's step is spent: the next step's code signs in, once
    fresh = _step_code(secret, 1)
    r, signed_in = await _login(server, email, fresh)
    assert r.status_code == 200, r.text
    me = await signed_in.get(f"{API}/auth/me")
    assert me.status_code == 200 and me.json()["id"] == agent.id
    r, c = await _login(server, email, fresh)
    assert (r.status_code, _code(r)) == (401, "invalid_second_factor"), r.text
    assert "eyelevel_session" not in c.http.cookies
    # an older code, though within the allowed drift, is spent with the newer one
    r, _ = await _login(server, email, _step_code(secret, 0))
    assert (r.status_code, _code(r)) == (401, "invalid_second_factor"), r.text

    # recovery codes: each works once, however it is typed
    r, _ = await _login(server, email, codes[0])
    assert r.status_code == 200, r.text
    r, _ = await _login(server, email, codes[0])
    assert (r.status_code, _code(r)) == (401, "invalid_second_factor"), r.text
    r, _ = await _login(server, email, " " + codes[1].upper().replace("-", "") + " ")
    assert r.status_code == 200, r.text

    # stored as SHA-256 hashes only, two of them used
    async with server.runtime.db.read_engine.connect() as conn:
        rows = (
            await conn.execute(
                select(t.recovery_codes.c.code_hash, t.recovery_codes.c.used_at).where(
                    t.recovery_codes.c.agent_id == agent.id
                )
            )
        ).all()
    expected = {hashlib.sha256(c.replace("-", "").encode()).hexdigest() for c in codes}
    assert {r.code_hash for r in rows} == expected
    assert sum(r.used_at is not None for r in rows) == 2

    # turning it off needs the password; a wrong one keeps both the factor and the session
    r = await agent.http.request("DELETE", f"{API}/me/totp", json={"password": "wrong password!"})
    assert (r.status_code, _code(r)) == (401, "invalid_credentials"), r.text
    assert (await agent.get(f"{API}/auth/me")).status_code == 200
    r, _ = await _login(server, email)
    assert _code(r) == "second_factor_required"
    r = await agent.http.request("DELETE", f"{API}/me/totp", json={"password": PASSWORD})
    assert r.status_code == 204, r.text
    r, _ = await _login(server, email)
    assert r.status_code == 200, r.text
    r, _ = await _login(server, email, codes[2])  # the recovery codes went with it
    assert r.status_code == 200, r.text  # (no second factor: the field is not looked at)

    actions = [e["action"] for e in await _audit(admin, "acme")]
    assert actions[:2] == ["agent.second_factor_disabled", "agent.second_factor_enabled"]


async def test_a_recovery_code_works_when_the_app_is_lost(server: Server) -> None:
    company = await server.company("acme")
    agent, email = await _agent(server, company)
    _, codes = await _enrol(agent)
    for code in codes:
        r, _ = await _login(server, email, code)
        assert r.status_code == 200, r.text
    for code in codes:
        r, _ = await _login(server, email, code)
        assert (r.status_code, _code(r)) == (401, "invalid_second_factor"), r.text


async def test_only_agents_have_a_second_factor_and_presence(server: Server) -> None:
    company = await server.company("acme")
    customer = await server.customer()
    token = await server.token_client(company)
    for who in (customer, token):
        for method, path, body in (
            ("POST", "/me/totp", None),
            ("POST", "/me/totp/confirm", {"code": "123456"}),
            ("DELETE", "/me/totp", {"password": PASSWORD}),
            ("PUT", "/me/presence", {"presence": "away"}),
        ):
            r = await who.http.request(method, f"{API}{path}", json=body)
            assert (r.status_code, _code(r)) == (403, "forbidden"), (who.kind, path, r.text)
    r = await token.get(f"{API}/me/sessions")
    assert (r.status_code, _code(r)) == (403, "forbidden"), r.text
    anonymous = server.client()
    r = await anonymous.post(f"{API}/me/totp")
    assert (r.status_code, _code(r)) == (401, "unauthenticated"), r.text
    # a customer's sign-in has no second factor to ask for
    me = (await customer.get(f"{API}/auth/me")).json()
    assert me["kind"] == "customer"


# -- sessions ----------------------------------------------------------------------------------


async def test_sessions_are_listed_and_ended_with_their_sockets(server: Server) -> None:
    company = await server.company("acme")
    agent, email = await _agent(server, company)
    colleague, _ = await _agent(server, company, name="Bea Kollegin")
    outsider, _ = await _agent(server, await server.company("bolt"), Role.ADMIN)
    customer = await server.customer()

    r, laptop = await _login(server, email, user_agent="Firefox/128 (Laptop)")
    assert r.status_code == 200, r.text
    r, phone = await _login(server, email, user_agent="X" * 100 + "\t" + "X" * 200)
    assert r.status_code == 200, r.text

    r = await laptop.get(f"{API}/me/sessions")
    assert r.status_code == 200, r.text
    listed = r.json()
    assert len(listed) == 3  # the harness's sign-in, the laptop's and the phone's
    assert [s["current"] for s in listed].count(True) == 1
    current = next(s for s in listed if s["current"])
    assert current["user_agent"] == "Firefox/128 (Laptop)"
    assert listed[0]["user_agent"] == "X" * 200  # newest first, cut to 200 characters
    text = r.text
    for c in (agent, laptop, phone):
        token = c.http.cookies["eyelevel_session"]
        assert token not in text and hashlib.sha256(token.encode()).hexdigest() not in text
    phone_id = listed[0]["id"]
    assert len(phone_id) == 16 and len({s["id"] for s in listed}) == 3
    from_phone = (await phone.get(f"{API}/me/sessions")).json()
    assert {s["id"] for s in from_phone} == {s["id"] for s in listed}
    assert [s["id"] for s in from_phone if s["current"]] == [phone_id]

    laptop_socket = await laptop.ws()
    phone_socket = await phone.ws()
    try:
        # nobody else can end it, and their answer is the one for an id that does not exist
        for other in (colleague, outsider, customer):
            for sid in (phone_id, "0" * 16):
                r = await other.delete(f"{API}/me/sessions/{sid}")
                assert (r.status_code, _code(r)) == (404, "not_found"), r.text
                assert r.json()["detail"] == "session not found"
        assert (await phone.get(f"{API}/auth/me")).status_code == 200

        r = await laptop.delete(f"{API}/me/sessions/{phone_id}")
        assert r.status_code == 204, r.text
        assert await _closed_with(phone_socket) == 4401
        r = await phone.get(f"{API}/auth/me")
        assert (r.status_code, _code(r)) == (401, "unauthenticated"), r.text
        r = await laptop.delete(f"{API}/me/sessions/{phone_id}")
        assert (r.status_code, _code(r)) == (404, "not_found"), r.text
        await _still_open(laptop_socket)  # only the ended session's sockets close
        ids = {s["id"] for s in (await laptop.get(f"{API}/me/sessions")).json()}
        assert phone_id not in ids and len(ids) == 2
    finally:
        await laptop_socket.close()
        await phone_socket.close()


async def test_customers_list_and_end_their_own_sessions(server: Server) -> None:
    customer = await server.customer()
    r = await customer.get(f"{API}/me/sessions")
    assert r.status_code == 200, r.text
    (only,) = r.json()
    assert only["current"] is True
    r = await customer.delete(f"{API}/me/sessions/{only['id']}")
    assert r.status_code == 204, r.text
    assert (await customer.get(f"{API}/auth/me")).status_code == 401


# -- deactivation and roles --------------------------------------------------------------------


async def test_signing_out_closes_that_sessions_sockets_only(server: Server) -> None:
    company = await server.company("acme")
    _, email = await _agent(server, company)
    r, laptop = await _login(server, email)
    assert r.status_code == 200, r.text
    r, phone = await _login(server, email)
    assert r.status_code == 200, r.text
    laptop_socket, phone_socket = await laptop.ws(), await phone.ws()
    try:
        r = await laptop.post(f"{API}/auth/logout")
        assert r.status_code == 204, r.text
        assert await _closed_with(laptop_socket) == 4401
        await _still_open(phone_socket)
        assert (await phone.get(f"{API}/auth/me")).status_code == 200
    finally:
        await laptop_socket.close()
        await phone_socket.close()


async def test_a_deactivated_agents_open_conversations_go_back_to_the_queue(
    server: Server,
) -> None:
    """Every open conversation keeps an owner who can work on it; resolved ones keep theirs."""
    company = await server.company("acme")
    admin, _ = await _agent(server, company, Role.ADMIN, "Otto Admin")
    agent, _ = await _agent(server, company)
    kim = await server.customer()
    ids = [
        int((await kim.start_conversation("acme", text))["conversation"]["id"])
        for text in ("Offen", "Erledigt")
    ]
    for cid in ids:
        r = await admin.post(f"{API}/conversations/{cid}/assignment", {"agent_id": agent.id})
        assert r.status_code == 200, r.text
    r = await admin.post(f"{API}/conversations/{ids[1]}/status", {"status": "resolved"})
    assert r.status_code == 200, r.text
    before = (await admin.get(f"{API}/companies/acme/inbox")).json()
    admin_socket = await admin.ws()
    try:
        r = await _patch_member(admin, "acme", agent.id, active=False)
        assert r.status_code == 200, r.text
        moved = await admin_socket.wait_for(lambda f: f["type"] == "conversation.assigned")
        assert moved["data"] == {
            "conversation_id": ids[0],
            "owner": None,
            "previous": {"type": "agent", "id": agent.id},
        }
    finally:
        await admin_socket.close()
    owners = [(await admin.get(f"{API}/conversations/{cid}")).json()["owner"] for cid in ids]
    assert owners == [None, {"type": "agent", "id": agent.id}]
    after = (await admin.get(f"{API}/companies/acme/inbox")).json()
    assert after["unassigned"] == before["unassigned"] + 1
    # the customer learns nothing about who works on it
    kim_view = (await kim.get(f"{API}/conversations/{ids[0]}")).json()
    assert kim_view["owner"] is None


async def test_deactivation_ends_cookie_sessions_and_sockets(server: Server) -> None:
    company = await server.company("acme")
    admin, _ = await _agent(server, company, Role.ADMIN, "Otto Admin")
    agent, email = await _agent(server, company)
    r, second = await _login(server, email)
    assert r.status_code == 200
    sockets = [await agent.ws(), await second.ws()]
    admin_socket = await admin.ws()
    try:
        r = await _patch_member(admin, "acme", agent.id, active=False)
        assert r.status_code == 200, r.text
        assert r.json() == {
            "id": agent.id,
            "name": "Anna Agent",
            "role": "agent",
            "active": False,
            "presence": "offline",
        }
        for sock in sockets:
            assert await _closed_with(sock) == 4401
        for c in (agent, second):
            r = await c.get(f"{API}/auth/me")
            assert (r.status_code, _code(r)) == (401, "unauthenticated"), r.text
        await _still_open(admin_socket)
        # deactivated everywhere, the agent cannot sign in again
        r, _ = await _login(server, email)
        assert (r.status_code, _code(r)) == (401, "invalid_credentials"), r.text
        assert (await _staff_row(admin, "acme", agent.id))["active"] is False
    finally:
        for sock in [*sockets, admin_socket]:
            await sock.close()

    r = await _patch_member(admin, "acme", agent.id, active=True)
    assert r.status_code == 200 and r.json()["active"] is True, r.text
    r, back = await _login(server, email)
    assert r.status_code == 200, r.text
    assert (await back.get(f"{API}/companies/acme/staff")).status_code == 200

    entries = await _audit(admin, "acme")
    assert [(e["action"], e["target"]) for e in entries[:2]] == [
        ("agent.reactivated", f"agent:{agent.id}"),
        ("agent.deactivated", f"agent:{agent.id}"),
    ]
    assert entries[1]["data"] == {"sessions_ended": 2}
    assert entries[1]["actor"] == f"agent:{admin.id}"


async def test_deactivation_in_one_company_keeps_the_others(server: Server) -> None:
    acme, bolt = await server.company("acme"), await server.company("bolt")
    admin, _ = await _agent(server, acme, Role.ADMIN, "Otto Admin")
    agent, email = await _agent(server, acme)
    await operator.ensure_agent(
        server.runtime.ctx, bolt, email=email, name="Anna Agent", password=PASSWORD, role=Role.LEAD
    )
    r, c = await _login(server, email)
    assert r.status_code == 200
    sock = await c.ws()
    try:
        r = await _patch_member(admin, "acme", agent.id, active=False)
        assert r.status_code == 200, r.text
        # the socket was opened with both companies: it closes, and a new one has bolt only
        assert await _closed_with(sock) == 4401
    finally:
        await sock.close()
    me = await c.get(f"{API}/auth/me")
    assert me.status_code == 200, me.text
    assert set(me.json()["companies"]) == {str(bolt.id)}
    r = await c.get(f"{API}/companies/acme/staff")
    assert (r.status_code, _code(r)) == (404, "not_found"), r.text
    assert (await c.get(f"{API}/companies/bolt/staff")).status_code == 200
    entries = await _audit(admin, "acme")
    assert entries[0]["action"] == "agent.deactivated"
    assert entries[0]["data"] == {"sessions_ended": 0}


async def test_roles_change_and_only_admins_may_change_them(server: Server) -> None:
    company = await server.company("acme")
    admin, _ = await _agent(server, company, Role.ADMIN, "Otto Admin")
    agent, _ = await _agent(server, company)
    lead, _ = await _agent(server, company, Role.LEAD, "Lea Lead")
    outsider, _ = await _agent(server, await server.company("bolt"), Role.ADMIN)
    customer = await server.customer()

    for who, status, code in (
        (agent, 403, "forbidden"),
        (lead, 403, "forbidden"),
        (outsider, 404, "not_found"),
        (customer, 404, "not_found"),
        (server.client(), 401, "unauthenticated"),
    ):
        r = await _patch_member(who, "acme", agent.id, role="admin")
        assert (r.status_code, _code(r)) == (status, code), (who.kind, r.text)
        r = await who.get(f"{API}/companies/acme/audit")
        assert (r.status_code, _code(r)) == (status, code), (who.kind, r.text)
    # another company's agent, and one that does not exist, through the admin's own company
    for ghost in (outsider.id, 987_654_321):
        r = await _patch_member(admin, "acme", ghost, active=False)
        assert (r.status_code, _code(r)) == (404, "not_found"), r.text
        assert r.json()["detail"] == "agent not found"
    r = await _patch_member(admin, "acme", agent.id)
    assert (r.status_code, _code(r)) == (422, "validation_error"), r.text
    r = await _patch_member(admin, "acme", agent.id, role="owner")
    assert (r.status_code, _code(r)) == (422, "validation_error"), r.text
    r = await _patch_member(admin, "acme", agent.id, role="lead", company_id=outsider.id)
    assert (r.status_code, _code(r)) == (422, "validation_error"), r.text
    assert (await _staff_row(admin, "acme", agent.id))["role"] == "agent"
    assert await _audit(admin, "acme") == []

    r = await _patch_member(admin, "acme", agent.id, role="lead")
    assert r.status_code == 200 and r.json()["role"] == "lead", r.text
    r = await _patch_member(admin, "acme", agent.id, role="lead")  # no change, no entry
    assert r.status_code == 200, r.text
    me = (await agent.get(f"{API}/auth/me")).json()
    assert me["companies"] == {str(company.id): "lead"}
    (entry,) = await _audit(admin, "acme")
    assert entry["action"] == "agent.role_changed"
    assert entry["data"] == {"from": "agent", "to": "lead"}
    assert entry["target"] == f"agent:{agent.id}" and entry["actor"] == f"agent:{admin.id}"


async def test_a_company_always_keeps_an_active_admin(server: Server) -> None:
    company = await server.company("acme")
    first, _ = await _agent(server, company, Role.ADMIN, "Otto Admin")
    token = await server.token_client(company)
    for body in ({"active": False}, {"role": "lead"}, {"role": "agent", "active": True}):
        r = await _patch_member(first, "acme", first.id, **body)
        assert (r.status_code, _code(r)) == (409, "last_admin"), r.text
        # managing agents needs no scope an API token can have
        r = await _patch_member(token, "acme", first.id, **body)
        assert (r.status_code, _code(r)) == (403, "forbidden"), r.text
    row = await _staff_row(first, "acme", first.id)
    assert (row["role"], row["active"]) == ("admin", True)
    assert await _audit(first, "acme") == []

    second, _ = await _agent(server, company, Role.ADMIN, "Zoe Zweite")
    r = await _patch_member(first, "acme", first.id, role="agent")  # not the last any more
    assert r.status_code == 200, r.text
    r = await _patch_member(second, "acme", second.id, active=False)
    assert (r.status_code, _code(r)) == (409, "last_admin"), r.text
    r = await _patch_member(first, "acme", second.id, role="agent")
    assert (r.status_code, _code(r)) == (403, "forbidden"), r.text
    # an inactive admin does not count: promoted and deactivated at once, first leaves second
    # the only active admin
    r = await _patch_member(second, "acme", first.id, role="admin", active=False)
    assert r.status_code == 200, r.text
    r = await _patch_member(second, "acme", second.id, role="lead")
    assert (r.status_code, _code(r)) == (409, "last_admin"), r.text
    r = await _patch_member(second, "acme", first.id, active=True)
    assert r.status_code == 200, r.text
    r = await _patch_member(second, "acme", second.id, role="lead")
    assert r.status_code == 200, r.text
    entries = await _audit(token, "acme")  # reports:read
    assert [(e["action"], e["target"], e["actor"]) for e in entries] == [
        ("agent.role_changed", f"agent:{second.id}", f"agent:{second.id}"),
        ("agent.reactivated", f"agent:{first.id}", f"agent:{second.id}"),
        ("agent.deactivated", f"agent:{first.id}", f"agent:{second.id}"),
        ("agent.role_changed", f"agent:{first.id}", f"agent:{second.id}"),
        ("agent.role_changed", f"agent:{first.id}", f"agent:{first.id}"),
    ]


async def test_audit_log_pages_newest_first(server: Server) -> None:
    company = await server.company("acme")
    admin, _ = await _agent(server, company, Role.ADMIN, "Otto Admin")
    agent, _ = await _agent(server, company)
    for role in ("lead", "agent", "lead", "agent", "lead"):
        r = await _patch_member(admin, "acme", agent.id, role=role)
        assert r.status_code == 200, r.text
    everything = await _audit(admin, "acme")
    assert len(everything) == 5
    ids = [e["id"] for e in everything]
    assert ids == sorted(ids, reverse=True)
    assert [e["data"]["to"] for e in everything] == ["lead", "agent", "lead", "agent", "lead"]
    first = await _audit(admin, "acme", limit=2)
    rest = await _audit(admin, "acme", before_id=first[-1]["id"], limit=10)
    assert first + rest == everything
    r = await admin.get(f"{API}/companies/acme/audit", params={"limit": 0})
    assert (r.status_code, _code(r)) == (422, "validation_error"), r.text


# -- presence ----------------------------------------------------------------------------------


async def test_presence_reaches_colleagues_and_never_customers(server: Server) -> None:
    acme = await server.company("acme")
    anna, _ = await _agent(server, acme)
    bea, _ = await _agent(server, acme, name="Bea Kollegin")
    outsider, _ = await _agent(server, await server.company("bolt"), Role.ADMIN)
    customer = await server.customer()
    conv = (await customer.start_conversation("acme", "Hallo"))["conversation"]["id"]

    colleague, foreign, customer_socket = await bea.ws(), await outsider.ws(), await customer.ws()
    try:
        r = await anna.http.put(f"{API}/me/presence", json={"presence": "away"})
        assert r.status_code == 204, r.text
        frame = await colleague.wait_for(lambda f: f["type"] == "agent.presence")
        assert frame == {
            "type": "agent.presence",
            "pos": None,
            "data": {"agent_id": anna.id, "presence": "away"},
        }
        assert (await _staff_row(bea, "acme", anna.id))["presence"] == "away"

        # a message written after the presence change reaches the customer after it would
        # have: nothing about presence may come before it
        assert (await anna.send(conv, "Ich bin gleich da")).status_code == 201
        await customer_socket.wait_for(lambda f: f["type"] == "message.created")
        assert not [f for f in customer_socket.pending if f["type"] == "agent.presence"]
        r = await outsider.http.put(f"{API}/me/presence", json={"presence": "online"})
        assert r.status_code == 204, r.text
        # the outsider hears its own change, and nothing of Anna's before it
        own = await foreign.wait_for(lambda f: f["type"] == "agent.presence")
        assert own["data"] == {"agent_id": outsider.id, "presence": "online"}
        assert not [f for f in foreign.pending if f["type"] == "agent.presence"]

        r = await anna.http.put(f"{API}/me/presence", json={"presence": "busy"})
        assert (r.status_code, _code(r)) == (422, "validation_error"), r.text
        r = await anna.http.put(f"{API}/me/presence", json={"presence": "online", "agent_id": 1})
        assert (r.status_code, _code(r)) == (422, "validation_error"), r.text
        assert (await _staff_row(bea, "acme", anna.id))["presence"] == "away"
    finally:
        for sock in (colleague, foreign, customer_socket):
            await sock.close()


# -- across processes --------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.skipif(backends.BACKEND != "postgres", reason=REQUIRE_POSTGRES)
async def test_deactivation_closes_a_socket_on_another_process(db_url: str, tmp_path: Path) -> None:
    async with Cluster(db_url, tmp_path) as cluster:
        seeded = await cluster.seed("acme")
        admin_email = _email("admin")
        rt = build_runtime(
            cluster.settings(), mailer=MemoryMailer(), passwords=Argon2Hasher(fast=True)
        )
        await rt.start()
        try:
            company, _ = await operator.ensure_company(
                rt.ctx, slug="acme", name="Acme", phone="+49 30 123456"
            )
            await operator.ensure_agent(
                rt.ctx, company, email=admin_email, name="Otto", password=PASSWORD, role=Role.ADMIN
            )
        finally:
            await rt.close()
        a, b = await cluster.start("a", "b")
        admin = await login(a, "agent", admin_email)
        agent = await login(b, "agent", seeded.agent_email)
        conn, _ = await agent.ws(b)
        try:
            async with admin.http(a) as http:
                r = await http.patch(
                    f"{API}/companies/acme/agents/{agent.id}", json={"active": False}
                )
                assert r.status_code == 200, r.text
            try:
                async with asyncio.timeout(CLOSE_WITHIN):
                    while True:
                        await conn.recv()
            except ConnectionClosed as exc:
                assert exc.rcvd is not None and exc.rcvd.code == 4401
            async with agent.http(b) as http:
                r = await http.get(f"{API}/auth/me")
                assert r.status_code == 401, r.text
            with pytest.raises(ConnectionClosed) as closed:
                async with websockets.connect(
                    b.ws_url, additional_headers=agent.ws_headers(b)
                ) as again:
                    await again.recv()
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
        finally:
            await conn.close()
