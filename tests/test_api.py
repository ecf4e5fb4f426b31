"""The REST API v1 through a real server: accounts, CSRF, companies, conversations, messages,
assignment, status, read markers, invitations, API tokens, error shapes and operations."""

from __future__ import annotations

import asyncio
import random
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit

import httpx

from eyelevel.core.actions import operator
from eyelevel.core.entities import Role
from tests.harness import PASSWORD, Client, Server

API = "/api/v1"


def assert_problem(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """An RFC 9457 problem with a stable code."""
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers
    body = r.json()
    assert body["code"] == code, body
    assert body["status"] == status
    assert body["type"] == f"urn:eyelevel:problem:{code}"
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str)
    return dict(body)


async def replay(client: Client, since: int = 0) -> list[dict[str, Any]]:
    """Every event the client may see after ``since``: the socket's catch-up, up to a pong."""
    sock = await client.ws(since=since)
    try:
        await sock.send_json({"type": "ping", "ref": "end-of-replay"})
        frames = []
        while (f := await sock.next_frame())["type"] != "pong":
            frames.append(f)
        return frames
    finally:
        await sock.close()


async def messages(client: Client, conversation_id: int, **params: Any) -> list[dict[str, Any]]:
    r = await client.get(f"{API}/conversations/{conversation_id}/messages", params=params)
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


async def conversation(client: Client, conversation_id: int) -> dict[str, Any]:
    r = await client.get(f"{API}/conversations/{conversation_id}")
    assert r.status_code == 200, r.text
    return dict(r.json())


def raw_client(server: Server, **kw: Any) -> httpx.AsyncClient:
    """A client without the harness's automatic CSRF header."""
    return httpx.AsyncClient(base_url=server.url, timeout=30, **kw)


# -- accounts ------------------------------------------------------------------------------


async def test_signup_validation_and_duplicates(server: Server) -> None:
    anon = server.client()
    ok = {"email": "kim@example.org", "password": PASSWORD, "display_name": "Kim"}

    for email in ("not-an-email", "kim@", "@example.org", "kim example@example.org", ""):
        r = await anon.post(f"{API}/auth/signup", {**ok, "email": email})
        assert assert_problem(r, 422, "validation_error").get("field") == "email", email
    r = await anon.post(f"{API}/auth/signup", {**ok, "password": "short"})
    assert assert_problem(r, 422, "validation_error")["field"] == "password"
    assert "short" not in r.text  # input values are never echoed
    r = await anon.post(f"{API}/auth/signup", {**ok, "display_name": "   "})
    assert assert_problem(r, 422, "validation_error")["field"] == "display_name"
    r = await anon.post(f"{API}/auth/signup", {**ok, "is_admin": True})
    body = assert_problem(r, 422, "validation_error")
    assert any(e["loc"][-1] == "is_admin" for e in body["errors"]), body
    r = await anon.post(f"{API}/auth/signup", {"email": ok["email"], "password": PASSWORD})
    assert_problem(r, 422, "validation_error")  # a missing field
    r = await anon.post(f"{API}/auth/signup", {**ok, "email": 123})
    assert_problem(r, 422, "validation_error")  # no coercion of types
    assert server.mailer.sent == []
    assert (await anon.get(f"{API}/auth/me")).status_code == 401  # none of them signed in

    r = await anon.post(f"{API}/auth/signup", ok)
    assert r.status_code == 201, r.text
    assert r.json()["kind"] == "customer" and r.json()["csrf_token"]
    me = (await anon.get(f"{API}/auth/me")).json()
    assert me["kind"] == "customer" and me["name"] == "Kim" and me["email_verified"] is False

    again = server.client()
    r = await again.post(f"{API}/auth/signup", {**ok, "email": "  KIM@Example.org "})
    assert_problem(r, 409, "email_taken")
    assert (await again.get(f"{API}/auth/me")).status_code == 401


async def test_verify_email(server: Server) -> None:
    await server.company("acme")
    kim = server.client()
    r = await kim.post(
        f"{API}/auth/signup",
        {"email": "kim@example.org", "password": PASSWORD, "display_name": "Kim"},
    )
    assert r.status_code == 201, r.text
    # an unverified customer cannot write yet
    r = await kim.post(f"{API}/conversations", {"company": "acme", "body": "Hallo"})
    assert_problem(r, 403, "email_not_verified")
    assert (await kim.get(f"{API}/conversations")).json()["items"] == []

    token = await server.mail_token("kim@example.org", r"/verify\?token=(\S+)")
    customer_id, stamp, signature = token.split(".")
    forged = [
        "garbage",
        "",
        "1.2.3",
        f"{int(customer_id) + 1}.{stamp}.{signature}",  # someone else's account
        f"{customer_id}.{int(stamp) + 1}.{signature}",  # a longer lifetime
        f"{customer_id}.{stamp}.{signature[:-2]}xx",
        f"{customer_id}.{stamp}",
    ]
    for bad in forged:
        r = await kim.post(f"{API}/auth/verify", {"token": bad})
        assert_problem(r, 400, "invalid_token")
    assert (await kim.get(f"{API}/auth/me")).json()["email_verified"] is False

    r = await kim.post(f"{API}/auth/verify", {"token": token})
    assert r.status_code == 204, r.text
    assert (await kim.get(f"{API}/auth/me")).json()["email_verified"] is True
    started = await kim.start_conversation("acme", "Jetzt geht es")
    assert started["message"]["body"] == "Jetzt geht es"


async def test_login_failures_look_identical(server: Server) -> None:
    company = await server.company("acme")
    agent = await server.agent(company, email="anna@acme.example")
    await server.customer(email="kim@example.org")
    anon = server.client()

    attempts = [
        {"kind": "agent", "email": "anna@acme.example", "password": "wrong password!"},
        {"kind": "agent", "email": "nobody@acme.example", "password": PASSWORD},
        {"kind": "customer", "email": "kim@example.org", "password": "wrong password!"},
        {"kind": "customer", "email": "nobody@example.org", "password": PASSWORD},
        {"kind": "customer", "email": "anna@acme.example", "password": PASSWORD},  # wrong kind
    ]
    bodies = []
    for attempt in attempts:
        r = await anon.post(f"{API}/auth/login", attempt)
        bodies.append(assert_problem(r, 401, "invalid_credentials"))
        assert "set-cookie" not in r.headers
    assert all(b == bodies[0] for b in bodies), bodies

    r = await anon.post(f"{API}/auth/login", {"kind": "admin", "email": "a@b.cd", "password": "x"})
    assert_problem(r, 422, "validation_error")
    # the right credentials still work, case-insensitively by email
    r = await anon.post(
        f"{API}/auth/login", {"kind": "agent", "email": "Anna@ACME.example", "password": PASSWORD}
    )
    assert r.status_code == 200, r.text
    me = (await anon.get(f"{API}/auth/me")).json()
    assert (me["kind"], me["id"], me["companies"]) == (
        "agent",
        agent.id,
        {str(company.id): "agent"},
    )


async def test_login_logout_and_me(server: Server) -> None:
    await server.customer(email="kim@example.org", name="Kim Kunde")
    c = server.client()
    assert_problem(await c.get(f"{API}/auth/me"), 401, "unauthenticated")
    r = await c.post(
        f"{API}/auth/login", {"kind": "customer", "email": "kim@example.org", "password": PASSWORD}
    )
    assert r.status_code == 200, r.text
    session = r.json()
    assert session["kind"] == "customer"
    assert datetime.fromisoformat(session["expires_at"]) > datetime.now(UTC)
    assert c.http.cookies["eyelevel_csrf"] == session["csrf_token"]
    cookie = c.http.cookies["eyelevel_session"]
    set_cookie = r.headers.get_list("set-cookie")
    assert any("eyelevel_session=" in h and "HttpOnly" in h for h in set_cookie), set_cookie
    me = (await c.get(f"{API}/auth/me")).json()
    assert me["kind"] == "customer" and me["name"] == "Kim Kunde" and me["email_verified"] is True

    r = await c.post(f"{API}/auth/logout")
    assert r.status_code == 204, r.text
    assert_problem(await c.get(f"{API}/auth/me"), 401, "unauthenticated")
    # the session is gone on the server, not only the cookie in this browser
    async with raw_client(server, cookies={"eyelevel_session": cookie}) as stolen:
        assert_problem(await stolen.get(f"{API}/auth/me"), 401, "unauthenticated")


# -- CSRF ----------------------------------------------------------------------------------


async def test_csrf_and_origin(server: Server) -> None:
    company = await server.company("acme")
    agent = await server.agent(company)
    customer = await server.customer()
    conv = (await customer.start_conversation("acme", "Hallo"))["conversation"]["id"]
    path = f"{API}/conversations/{conv}/messages"
    csrf = customer.http.cookies["eyelevel_csrf"]

    async with raw_client(server, cookies=dict(customer.http.cookies)) as browser:
        # reading needs no CSRF token
        assert (await browser.get(path)).status_code == 200
        r = await browser.post(path, json={"body": "ohne Token"})
        assert_problem(r, 403, "csrf_failed")
        r = await browser.post(path, json={"body": "falsches Token"}, headers={"x-csrf-token": "x"})
        assert_problem(r, 403, "csrf_failed")
        # the agent's token does not fit the customer's session
        r = await browser.post(
            path,
            json={"body": "fremdes Token"},
            headers={"x-csrf-token": agent.http.cookies["eyelevel_csrf"]},
        )
        assert_problem(r, 403, "csrf_failed")
        r = await browser.post(
            path,
            json={"body": "von woanders"},
            headers={"x-csrf-token": csrf, "origin": "https://evil.example"},
        )
        assert_problem(r, 403, "csrf_failed")
        r = await browser.post(
            f"{API}/auth/logout", headers={"x-csrf-token": csrf, "origin": "https://evil.example"}
        )
        assert_problem(r, 403, "csrf_failed")
        assert (await browser.get(f"{API}/auth/me")).status_code == 200  # still signed in

        assert [m["body"] for m in await messages(agent, conv)] == ["Hallo"]
        r = await browser.post(
            path, json={"body": "richtig"}, headers={"x-csrf-token": csrf, "origin": server.url}
        )
        assert r.status_code == 201, r.text
    assert [m["body"] for m in await messages(agent, conv)] == ["Hallo", "richtig"]


# -- companies -----------------------------------------------------------------------------


async def test_company_search_and_card(server: Server) -> None:
    await server.company("acme", "Acme Werkzeuge")
    await server.company("beta", "Bäckerei Beta")
    await server.company("c100", "100% Service")
    anon = server.client()

    async def search(q: str) -> list[str]:
        r = await anon.get(f"{API}/companies", params={"q": q})
        assert r.status_code == 200, r.text
        return [c["slug"] for c in r.json()]

    assert await search("") == ["c100", "acme", "beta"]  # by name
    assert await search("acme") == ["acme"]
    assert await search("WERKZEUG") == ["acme"]
    assert await search("bet") == ["beta"]
    assert await search("%") == ["c100"]  # a literal percent sign, not a wildcard
    assert await search("_") == []
    assert await search("nothing like it") == []
    r = await anon.get(f"{API}/companies", params={"limit": 1})
    assert len(r.json()) == 1

    r = await anon.get(f"{API}/companies/acme")
    assert r.status_code == 200, r.text
    card = r.json()
    assert card["slug"] == "acme" and card["name"] == "Acme Werkzeuge"
    assert card["phone"] == "+49 30 123456" and card["timezone"] == "Europe/Berlin"
    assert set(card) == {
        "slug",
        "name",
        "description",
        "phone",
        "timezone",
        "business_hours",
        "open_now",
        "reply_within_minutes",
        "holidays",
        "retention_days",
        "reply_by",
    }
    assert card["open_now"] is False and card["reply_within_minutes"] is None  # no hours set
    assert card["holidays"] == []
    assert_problem(await anon.get(f"{API}/companies/nope"), 404, "not_found")
    assert_problem(await anon.get(f"{API}/companies/Not_A_Slug"), 422, "validation_error")


# -- conversations -------------------------------------------------------------------------


async def test_start_conversation(server: Server) -> None:
    company = await server.company("acme")
    agent = await server.agent(company)
    kim = await server.customer(name="Kim Kunde")

    r = await kim.post(
        f"{API}/conversations",
        {"company": "acme", "subject": "Paket", "body": "Wo ist mein Paket?", "client_id": "k-1"},
    )
    assert r.status_code == 201, r.text
    started = r.json()
    conv, msg = started["conversation"], started["message"]
    assert conv["company_id"] == company.id and conv["customer_id"] == kim.id
    assert conv["subject"] == "Paket" and conv["status"] == "open" and conv["owner"] is None
    assert conv["last_seq"] == 1 and conv["last_message"] == msg
    assert msg["seq"] == 1 and msg["kind"] == "customer" and msg["client_id"] == "k-1"
    assert msg["author"] == {"type": "customer", "name": "Kim Kunde"}
    assert (await conversation(agent, conv["id"]))["subject"] == "Paket"
    # without a subject, the first line of the body is used
    second = await kim.start_conversation("acme", "Rechnung falsch\nDetails folgen")
    assert second["conversation"]["subject"] == "Rechnung falsch"

    r = await kim.post(f"{API}/conversations", {"company": "nope", "body": "Hallo"})
    assert_problem(r, 404, "not_found")
    r = await kim.post(f"{API}/conversations", {"company": "acme", "body": "  "})
    assert_problem(r, 422, "body_empty")
    r = await agent.post(f"{API}/conversations", {"company": "acme", "body": "Hallo"})
    assert_problem(r, 403, "forbidden")
    r = await server.client().post(f"{API}/conversations", {"company": "acme", "body": "Hallo"})
    assert_problem(r, 401, "unauthenticated")
    ids = {c["id"] for c in (await agent.get(f"{API}/conversations")).json()["items"]}
    assert ids == {conv["id"], second["conversation"]["id"]}


async def test_list_conversations_filters_and_tenancy(server: Server) -> None:
    acme = await server.company("acme")
    other = await server.company("other")
    ctx = server.runtime.ctx
    team = await operator.ensure_team(ctx, acme, "Versand")
    other_team = await operator.ensure_team(ctx, other, "Fremd")
    anna = await server.agent(acme, name="Anna A")
    bernd = await server.agent(acme, name="Bernd B")
    stranger = await server.agent(other, name="Olga O")
    kim, lee = await server.customer(), await server.customer()

    c_anna = (await kim.start_conversation("acme", "eins"))["conversation"]["id"]
    c_bernd = (await kim.start_conversation("acme", "zwei"))["conversation"]["id"]
    c_team = (await lee.start_conversation("acme", "drei"))["conversation"]["id"]
    c_free = (await lee.start_conversation("acme", "vier"))["conversation"]["id"]
    c_other = (await kim.start_conversation("other", "fünf"))["conversation"]["id"]
    for conv, owner in (
        (c_anna, {"agent_id": anna.id}),
        (c_bernd, {"agent_id": bernd.id}),
        (c_team, {"team_id": team.id}),
    ):
        r = await anna.post(f"{API}/conversations/{conv}/assignment", owner)
        assert r.status_code == 200, r.text
    r = await anna.post(f"{API}/conversations/{c_bernd}/status", {"status": "pending"})
    assert r.status_code == 200, r.text

    async def ids(client: Client, **params: Any) -> set[int]:
        r = await client.get(f"{API}/conversations", params=params)
        assert r.status_code == 200, r.text
        return {c["id"] for c in r.json()["items"]}

    acme_all = {c_anna, c_bernd, c_team, c_free}
    assert await ids(anna) == acme_all
    assert await ids(bernd) == acme_all
    assert await ids(stranger) == {c_other}
    assert await ids(kim) == {c_anna, c_bernd, c_other}
    assert await ids(lee) == {c_team, c_free}
    assert await ids(anna, owner="me") == {c_anna}
    assert await ids(bernd, owner="me") == {c_bernd}
    assert await ids(anna, owner=f"agent:{bernd.id}") == {c_bernd}
    assert await ids(anna, owner=f"team:{team.id}") == {c_team}
    assert await ids(anna, owner="unassigned") == {c_team, c_free}  # no agent yet
    assert await ids(anna, status="pending") == {c_bernd}
    assert await ids(anna, status="open") == {c_anna, c_team, c_free}
    assert await ids(anna, status="open", owner="unassigned") == {c_team, c_free}
    assert await ids(anna, status="resolved") == set()
    assert await ids(anna, company_id=acme.id) == acme_all
    # filters never widen what a principal may see
    assert await ids(anna, company_id=other.id) == set()
    assert await ids(anna, owner=f"team:{other_team.id}") == set()
    assert await ids(stranger, owner=f"agent:{anna.id}") == set()
    assert await ids(kim, company_id=other.id) == {c_other}
    assert await ids(kim, status="pending") == {c_bernd}

    for params in (
        {"owner": "someone"},
        {"owner": "agent:x"},
        {"status": "closed"},
        {"limit": 0},
        {"limit": 201},
        {"cursor": "not-a-cursor"},
    ):
        assert_problem(
            await anna.get(f"{API}/conversations", params=params), 422, "validation_error"
        )
    assert_problem(
        await kim.get(f"{API}/conversations", params={"owner": "me"}), 422, "validation_error"
    )


async def test_list_conversations_cursor_pagination(server: Server) -> None:
    agent = await server.agent(await server.company("acme"))
    kim, lee = await server.customer(), await server.customer()
    rng = random.Random(7)
    owners: dict[int, Client] = {}
    recent: list[int] = []  # most recent activity last
    for i in range(9):
        who = kim if i % 3 else lee
        conv = (await who.start_conversation("acme", f"Anliegen {i}"))["conversation"]["id"]
        owners[conv] = who
        recent.append(conv)
    for conv in rng.sample(recent, 6):  # new activity moves a conversation to the front
        r = await agent.send(conv, "Antwort")
        assert r.status_code == 201, r.text
        recent.remove(conv)
        recent.append(conv)
    # a private note is not activity: the order does not betray it to the customer
    r = await agent.send(recent[0], "interne Notiz", note=True)
    assert r.status_code == 201, r.text

    async def page_through(client: Client, limit: int) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        cursor = None
        for _ in range(50):
            params: dict[str, Any] = {"limit": limit}
            if cursor:
                params["cursor"] = cursor
            r = await client.get(f"{API}/conversations", params=params)
            assert r.status_code == 200, r.text
            page = r.json()
            assert len(page["items"]) <= limit
            items.extend(page["items"])
            cursor = page["next_cursor"]
            if cursor is None:
                return items
        raise AssertionError("pagination does not end")

    for client, limit in ((agent, 2), (agent, 4), (agent, 9), (agent, 50), (kim, 2), (lee, 3)):
        items = await page_through(client, limit)
        got = [c["id"] for c in items]
        expected = [c for c in reversed(recent) if client is agent or owners[c] is client]
        assert got == expected, (client.kind, limit)
        assert len(set(got)) == len(got)
        stamps = [datetime.fromisoformat(c["last_message_at"]) for c in items]
        assert stamps == sorted(stamps, reverse=True)


async def test_messages_paging(server: Server) -> None:
    company = await server.company("acme")
    agent = await server.agent(company)
    kim, lee = await server.customer(), await server.customer()
    conv = (await kim.start_conversation("acme", "m1"))["conversation"]["id"]
    for i in range(2, 11):
        sender = agent if i % 2 else kim
        assert (await sender.send(conv, f"m{i}")).status_code == 201

    async def seqs(**params: Any) -> list[int]:
        items = await messages(kim, conv, **params)
        assert [m["body"] for m in items] == [f"m{m['seq']}" for m in items]
        return [m["seq"] for m in items]

    assert await seqs() == list(range(1, 11))
    assert await seqs(limit=4) == [1, 2, 3, 4]
    assert await seqs(after_seq=4, limit=4) == [5, 6, 7, 8]
    assert await seqs(after_seq=8, limit=4) == [9, 10]
    assert await seqs(after_seq=10) == []
    assert await seqs(before_seq=11, limit=4) == [7, 8, 9, 10]  # newest page, oldest first
    assert await seqs(before_seq=7, limit=4) == [3, 4, 5, 6]
    assert await seqs(before_seq=3, limit=4) == [1, 2]
    assert await seqs(before_seq=1) == []
    assert await seqs(after_seq=2, before_seq=6) == [3, 4, 5]
    for params in ({"limit": 0}, {"limit": 201}, {"after_seq": -1}, {"before_seq": "x"}):
        assert_problem(
            await kim.get(f"{API}/conversations/{conv}/messages", params=params),
            422,
            "validation_error",
        )
    # another customer's conversation does not exist for Lee
    assert_problem(await lee.get(f"{API}/conversations/{conv}/messages"), 404, "not_found")
    assert_problem(await lee.get(f"{API}/conversations/{conv}"), 404, "not_found")
    assert_problem(await kim.get(f"{API}/conversations/999999/messages"), 404, "not_found")


async def test_send_by_each_kind_of_principal(server: Server) -> None:
    acme = await server.company("acme")
    other = await server.company("other")
    agent = await server.agent(acme, name="Anna Agent")
    stranger = await server.agent(other)
    bot = await server.token_client(acme, name="CRM Bot")
    foreign_bot = await server.token_client(other)
    kim, lee = await server.customer(name="Kim"), await server.customer()
    conv = (await kim.start_conversation("acme", "Hallo"))["conversation"]["id"]

    r = await kim.send(conv, "Noch da?", client_id="k2")
    assert r.status_code == 201, r.text
    assert r.json()["kind"] == "customer" and r.json()["author"] == {
        "type": "customer",
        "name": "Kim",
    }
    r = await agent.send(conv, "Ja!")
    assert r.status_code == 201, r.text
    assert r.json()["author"] == {"type": "agent", "name": "Anna"}  # first name only
    assert r.json()["kind"] == "agent" and r.json()["client_id"] is None
    r = await agent.send(conv, "Kunde ist ungeduldig", note=True)
    assert r.status_code == 201 and r.json()["kind"] == "note"
    r = await bot.send(conv, "Ihre Bestellung 42 ist unterwegs.")
    assert r.status_code == 201, r.text
    assert r.json()["kind"] == "bot" and r.json()["author"]["name"] == "CRM Bot"

    assert_problem(await kim.send(conv, "geheim", note=True), 403, "forbidden")
    for outsider in (lee, stranger, foreign_bot):
        assert_problem(await outsider.send(conv, "hallo?"), 404, "not_found")
    assert_problem(await kim.send(987654, "hallo?"), 404, "not_found")
    assert_problem(await kim.send(conv, "x", client_id="has space"), 422, "validation_error")
    assert_problem(await kim.send(conv, "\n\t "), 422, "body_empty")

    got = await messages(agent, conv)
    assert [(m["seq"], m["kind"]) for m in got] == [
        (1, "customer"),
        (2, "customer"),
        (3, "agent"),
        (4, "note"),
        (5, "bot"),
    ]
    assert (await conversation(kim, conv))["last_seq"] == 5


async def test_assignment(server: Server) -> None:
    acme = await server.company("acme")
    other = await server.company("other")
    team = await operator.ensure_team(server.runtime.ctx, acme, "Versand")
    other_team = await operator.ensure_team(server.runtime.ctx, other, "Fremd")
    anna = await server.agent(acme)
    bernd = await server.agent(acme)
    stranger = await server.agent(other)
    kim = await server.customer()
    conv = (await kim.start_conversation("acme", "Hallo"))["conversation"]["id"]
    path = f"{API}/conversations/{conv}/assignment"

    r = await anna.post(path, {"agent_id": bernd.id})
    assert r.status_code == 200, r.text
    assert r.json()["owner"] == {"type": "agent", "id": bernd.id}
    r = await anna.post(path, {"team_id": team.id})
    assert r.json()["owner"] == {"type": "team", "id": team.id}
    r = await bernd.post(path, {})
    assert r.status_code == 200 and r.json()["owner"] is None

    body = assert_problem(await anna.post(path, {"agent_id": stranger.id}), 422, "invalid_owner")
    assert body["field"] == "agent_id"
    body = assert_problem(await anna.post(path, {"team_id": other_team.id}), 422, "invalid_owner")
    assert body["field"] == "team_id"
    assert_problem(await anna.post(path, {"agent_id": 999999}), 422, "invalid_owner")
    assert_problem(
        await anna.post(path, {"agent_id": anna.id, "team_id": team.id}), 422, "invalid_owner"
    )
    assert_problem(await anna.post(path, {"agent_id": "1"}), 422, "validation_error")
    assert_problem(await anna.post(path, {"agent_id": 0}), 422, "validation_error")
    assert_problem(await stranger.post(path, {"agent_id": stranger.id}), 404, "not_found")
    assert_problem(await kim.post(path, {"agent_id": anna.id}), 403, "forbidden")
    assert (await conversation(anna, conv))["owner"] is None

    # who works on a conversation is company-internal
    r = await anna.post(path, {"agent_id": anna.id})
    assert r.status_code == 200
    agent_types = [f["type"] for f in await replay(anna)]
    assert agent_types.count("conversation.assigned") == 4
    assert "conversation.assigned" not in [f["type"] for f in await replay(kim)]


async def test_status_changes_and_snooze(server: Server) -> None:
    company = await server.company("acme")
    agent = await server.agent(company)
    kim = await server.customer()
    conv = (await kim.start_conversation("acme", "Hallo"))["conversation"]["id"]
    path = f"{API}/conversations/{conv}/status"
    now = datetime.now(UTC)

    r = await agent.post(path, {"status": "pending"})
    assert r.status_code == 200 and r.json()["status"] == "pending"
    for bad in (
        {"status": "snoozed"},
        {
            "status": "snoozed",
            "snoozed_until": (now + timedelta(hours=1)).replace(tzinfo=None).isoformat(),
        },
        {"status": "snoozed", "snoozed_until": (now - timedelta(minutes=1)).isoformat()},
        {"status": "open", "snoozed_until": (now + timedelta(hours=1)).isoformat()},
        {"status": "snoozed", "snoozed_until": "tomorrow"},
    ):
        body = assert_problem(await agent.post(path, bad), 422, "validation_error")
        assert body.get("field") == "snoozed_until" or body.get("errors"), body
    assert_problem(await agent.post(path, {"status": "closed"}), 422, "validation_error")
    assert (await conversation(agent, conv))["status"] == "pending"

    until = (
        (now + timedelta(days=1)).astimezone(timezone(timedelta(hours=2))).replace(microsecond=0)
    )
    r = await agent.post(path, {"status": "snoozed", "snoozed_until": until.isoformat()})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "snoozed"
    assert datetime.fromisoformat(r.json()["snoozed_until"]) == until

    # the customer may only resolve or reopen
    for status in ("pending", "snoozed"):
        body = {"status": status}
        if status == "snoozed":
            body["snoozed_until"] = until.isoformat()
        assert_problem(await kim.post(path, body), 403, "forbidden")
    r = await kim.post(path, {"status": "resolved"})
    assert r.status_code == 200 and r.json()["status"] == "resolved"
    assert r.json()["snoozed_until"] is None
    r = await kim.post(path, {"status": "open"})
    assert r.status_code == 200 and r.json()["status"] == "open"
    assert (await conversation(agent, conv))["status"] == "open"

    changes = [f["data"] for f in await replay(kim) if f["type"] == "conversation.status_changed"]
    assert [(c["previous"], c["status"]) for c in changes] == [
        ("open", "pending"),
        ("pending", "snoozed"),
        ("snoozed", "resolved"),
        ("resolved", "open"),
    ]


async def test_customer_message_reopens(server: Server) -> None:
    company = await server.company("acme")
    agent = await server.agent(company)
    kim = await server.customer()
    conv = (await kim.start_conversation("acme", "Hallo"))["conversation"]["id"]
    status_path = f"{API}/conversations/{conv}/status"

    assert (await agent.post(status_path, {"status": "resolved"})).status_code == 200
    assert (await agent.send(conv, "Gern geschehen")).status_code == 201
    assert (await conversation(kim, conv))["status"] == "resolved"  # the agent's reply does not
    assert (await kim.send(conv, "Doch noch eine Frage")).status_code == 201
    assert (await conversation(agent, conv))["status"] == "open"

    until = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    r = await agent.post(status_path, {"status": "snoozed", "snoozed_until": until})
    assert r.status_code == 200, r.text
    assert (await kim.send(conv, "Hallo?")).status_code == 201
    state = await conversation(agent, conv)
    assert state["status"] == "open" and state["snoozed_until"] is None

    frames = await replay(agent)
    reopen = [f["data"] for f in frames if f["type"] == "conversation.status_changed"]
    assert [(c["previous"], c["status"]) for c in reopen] == [
        ("open", "resolved"),
        ("resolved", "open"),
        ("open", "snoozed"),
        ("snoozed", "open"),
    ]


async def test_read_markers(server: Server) -> None:
    company = await server.company("acme")
    anna, bernd = await server.agent(company), await server.agent(company)
    kim = await server.customer()
    conv = (await kim.start_conversation("acme", "eins"))["conversation"]["id"]
    await anna.send(conv, "zwei")
    await anna.send(conv, "drei")
    path = f"{API}/conversations/{conv}/read"
    assert (await conversation(kim, conv))["read"] == {}

    r = await kim.post(path, {"seq": 2})
    assert r.status_code == 200 and r.json() == {"moved": True}
    assert (await conversation(anna, conv))["read"] == {"customer": 2}
    r = await kim.post(path, {"seq": 1})  # never backwards
    assert r.json() == {"moved": False}
    assert (await kim.post(path, {"seq": 2})).json() == {"moved": False}
    assert (await conversation(kim, conv))["read"] == {"customer": 2}

    r = await anna.post(path, {"seq": 1000})  # clamped to the last message
    assert r.json() == {"moved": True}
    r = await bernd.post(path, {"seq": 1})
    assert r.json() == {"moved": True}
    assert (await conversation(kim, conv))["read"] == {"customer": 2, "company": 3}
    assert_problem(await kim.post(path, {"seq": -1}), 422, "validation_error")
    assert_problem(await kim.post(path, {"seq": "2"}), 422, "validation_error")

    reads = [f["data"] for f in await replay(kim) if f["type"] == "message.read"]
    assert [(d["reader"], d["seq"]) for d in reads] == [
        ("customer", 2),
        ("company", 3),
        ("company", 1),
    ]


# -- invitations and tokens ----------------------------------------------------------------


async def test_invitation_flow(server: Server) -> None:
    acme = await server.company("acme")
    other = await server.company("other")
    admin = await server.agent(acme, role=Role.ADMIN)
    lead = await server.agent(acme, role=Role.LEAD)
    agent = await server.agent(acme, role=Role.AGENT)
    other_admin = await server.agent(other, role=Role.ADMIN)
    kim = await server.customer()
    path = f"{API}/companies/acme/invitations"

    assert_problem(await agent.post(path, {"email": "x@acme.example"}), 403, "forbidden")
    assert_problem(await lead.post(path, {"email": "x@acme.example"}), 403, "forbidden")
    assert_problem(await other_admin.post(path, {"email": "x@acme.example"}), 404, "not_found")
    assert_problem(await kim.post(path, {"email": "x@acme.example"}), 404, "not_found")
    assert_problem(await admin.post(path, {"email": "nope"}), 422, "validation_error")
    assert_problem(
        await admin.post(path, {"email": "x@acme.example", "role": "owner"}),
        422,
        "validation_error",
    )
    assert [m for m in server.mailer.sent if m.to == "x@acme.example"] == []

    r = await admin.post(path, {"email": " Neu@Acme.example", "role": "lead"})
    assert r.status_code == 201, r.text
    assert r.json() == {"email": "neu@acme.example", "role": "lead"}
    token = await server.mail_token("neu@acme.example", r"invite\?token=(\S+)")

    newbie = server.client("agent")
    r = await newbie.post(
        f"{API}/auth/accept-invitation",
        {"token": token + "x", "name": "Nina Neu", "password": PASSWORD},
    )
    assert_problem(r, 400, "invalid_token")
    r = await newbie.post(
        f"{API}/auth/accept-invitation", {"token": token, "name": "Nina Neu", "password": "short"}
    )
    assert_problem(r, 422, "validation_error")
    r = await newbie.post(
        f"{API}/auth/accept-invitation", {"token": token, "name": "Nina Neu", "password": PASSWORD}
    )
    assert r.status_code == 200, r.text
    assert r.json()["kind"] == "agent"
    me = (await newbie.get(f"{API}/auth/me")).json()
    assert me["kind"] == "agent" and me["name"] == "Nina Neu"
    assert me["companies"] == {str(acme.id): "lead"}
    conv = (await kim.start_conversation("acme", "Hallo"))["conversation"]["id"]
    assert [c["id"] for c in (await newbie.get(f"{API}/conversations")).json()["items"]] == [conv]
    staff = (await newbie.get(f"{API}/companies/acme/staff")).json()
    assert {a["name"] for a in staff["agents"]} >= {"Nina Neu"}

    # an invitation is used once
    again = server.client()
    r = await again.post(
        f"{API}/auth/accept-invitation", {"token": token, "name": "Eve", "password": PASSWORD}
    )
    assert_problem(r, 400, "invalid_token")
    # the new agent can sign in with the chosen password
    r = await again.post(
        f"{API}/auth/login", {"kind": "agent", "email": "neu@acme.example", "password": PASSWORD}
    )
    assert r.status_code == 200, r.text


async def test_api_tokens(server: Server) -> None:
    acme = await server.company("acme")
    await server.company("other")
    admin = await server.agent(acme, role=Role.ADMIN)
    agent = await server.agent(acme)
    kim = await server.customer()
    conv = (await kim.start_conversation("acme", "Hallo"))["conversation"]["id"]
    other_conv = (await kim.start_conversation("other", "Hallo"))["conversation"]["id"]
    path = f"{API}/companies/acme/tokens"

    assert_problem(
        await agent.post(path, {"name": "Zapier", "scopes": ["conversations:read"]}),
        403,
        "forbidden",
    )
    assert_problem(await agent.get(path), 403, "forbidden")
    assert_problem(await kim.get(path), 404, "not_found")
    scopes = ["conversations:read", "conversations:write", "messages:write"]
    r = await admin.post(path, {"name": "Zapier", "scopes": scopes})
    assert r.status_code == 201, r.text
    created = r.json()
    secret = created["token"]
    assert created["name"] == "Zapier" and created["revoked_at"] is None
    assert secret.startswith(created["prefix"]) and len(secret) > len(created["prefix"]) + 16

    r = await admin.get(path)
    assert r.status_code == 200
    listed = {t["id"]: t for t in r.json()}
    assert listed[created["id"]]["prefix"] == created["prefix"]
    assert "token" not in listed[created["id"]]
    assert secret not in r.text

    bearer = server.client("token")
    bearer.token = secret
    me = (await bearer.get(f"{API}/auth/me")).json()
    assert me["kind"] == "token" and me["companies"] == {str(acme.id): "admin"}
    items = (await bearer.get(f"{API}/conversations")).json()["items"]
    assert [c["id"] for c in items] == [conv]
    assert (await bearer.send(conv, "Automatische Antwort")).status_code == 201
    assert_problem(await bearer.send(other_conv, "fremd"), 404, "not_found")
    # bearer requests need no CSRF token and are not bound to an origin
    async with raw_client(server, headers={"authorization": f"Bearer {secret}"}) as raw:
        r = await raw.post(
            f"{API}/conversations/{conv}/read",
            json={"seq": 1},
            headers={"origin": "https://integration.example"},
        )
        assert r.status_code == 200, r.text

    assert_problem(await admin.delete(f"{path}/999999"), 404, "not_found")
    assert_problem(await agent.delete(f"{path}/{created['id']}"), 403, "forbidden")
    r = await admin.delete(f"{path}/{created['id']}")
    assert r.status_code == 204, r.text
    assert_problem(await bearer.get(f"{API}/auth/me"), 401, "unauthenticated")
    assert_problem(await bearer.send(conv, "nach Widerruf"), 401, "unauthenticated")
    listed = {t["id"]: t for t in (await admin.get(path)).json()}
    assert listed[created["id"]]["revoked_at"] is not None
    assert [m["body"] for m in await messages(agent, conv)] == ["Hallo", "Automatische Antwort"]

    for header in (f"Bearer {secret}x", "Bearer", "Basic abc", secret):
        async with raw_client(server, headers={"authorization": header}) as raw:
            assert_problem(await raw.get(f"{API}/auth/me"), 401, "unauthenticated")


# -- malformed input, limits, and atomicity ------------------------------------------------


async def test_malformed_requests_and_limits(server: Server) -> None:
    company = await server.company("acme")
    agent = await server.agent(company)
    kim = await server.customer()
    conv = (await kim.start_conversation("acme", "Hallo"))["conversation"]["id"]
    path = f"{API}/conversations/{conv}/messages"
    json_headers = {"content-type": "application/json"}

    r = await kim.http.post(path, content=b'{"body": "abc"', headers=json_headers)
    assert_problem(r, 400, "malformed_request")
    r = await kim.http.post(path, content=b"\xff\xfe", headers=json_headers)
    assert r.status_code in (400, 422) and r.json()["code"] in (
        "malformed_request",
        "validation_error",
    )
    r = await kim.send(conv, "x" * 10_001)
    assert assert_problem(r, 422, "body_too_long")["field"] == "body"
    r = await kim.send(conv, "x" * 20_000)  # beyond the schema's limit
    assert_problem(r, 422, "validation_error")
    assert "xxxx" not in r.text
    r = await kim.http.post(path, content=b"x" * (256 * 1024 + 1), headers=json_headers)
    assert_problem(r, 413, "payload_too_large")

    async def chunked() -> Any:  # no content-length: the limit applies while reading
        for _ in range(40):
            yield b'"' + b"x" * 10_000

    r = await kim.http.post(path, content=chunked(), headers=json_headers)
    assert_problem(r, 413, "payload_too_large")
    assert_problem(await kim.post(path, {"body": 123}), 422, "validation_error")
    assert_problem(await kim.post(path, {"body": "a", "note": "yes"}), 422, "validation_error")
    assert_problem(await kim.post(path, ["body"]), 422, "validation_error")
    assert_problem(await kim.post(path, {"body": "a", "extra": 1}), 422, "validation_error")
    assert_problem(await kim.post(path, {"body": "a", "client_id": 5}), 422, "validation_error")
    assert_problem(
        await kim.post(f"{API}/conversations/abc/messages", {"body": "a"}), 422, "validation_error"
    )
    assert_problem(
        await kim.post(f"{API}/conversations/0/messages", {"body": "a"}), 422, "validation_error"
    )

    assert_problem(await kim.get(f"{API}/no/such/route"), 404, "not_found")
    assert_problem(await kim.get("/nothing-here"), 404, "not_found")
    r = await kim.http.put(path, json={"body": "a"})
    assert_problem(r, 405, "method_not_allowed")
    assert_problem(await kim.delete(f"{API}/auth/me"), 405, "method_not_allowed")

    assert [m["body"] for m in await messages(agent, conv)] == ["Hallo"]


async def test_failed_actions_leave_nothing_half_written(server: Server) -> None:
    acme = await server.company("acme")
    other = await server.company("other")
    agent = await server.agent(acme)
    stranger = await server.agent(other)
    kim = await server.customer()
    conv = (await kim.start_conversation("acme", "Hallo"))["conversation"]["id"]
    assert (await kim.send(conv, "Erste Frage", client_id="q1")).status_code == 201
    assert (await agent.send(conv, "Antwort")).status_code == 201
    path = f"{API}/conversations/{conv}"

    async def snapshot() -> tuple[Any, ...]:
        return (
            await messages(agent, conv),
            await messages(kim, conv),
            await conversation(agent, conv),
            await replay(agent),
            await replay(kim),
            (await agent.get(f"{API}/conversations")).json(),
        )

    before = await snapshot()
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    failures = [
        (kim.send(conv, "Andere Frage", client_id="q1"), 409, "idempotency_conflict"),
        (agent.send(conv, "Erste Frage", client_id="q1"), 409, "idempotency_conflict"),
        (kim.send(conv, "notiz", note=True), 403, "forbidden"),
        (kim.send(conv, "x" * 10_001), 422, "body_too_long"),
        (kim.send(conv, "nul\x00"), 422, "validation_error"),
        (kim.send(conv, " "), 422, "body_empty"),
        (stranger.send(conv, "fremd"), 404, "not_found"),
        (agent.post(f"{path}/assignment", {"agent_id": stranger.id}), 422, "invalid_owner"),
        (
            agent.post(f"{path}/status", {"status": "snoozed", "snoozed_until": past}),
            422,
            "validation_error",
        ),
        (kim.post(f"{path}/status", {"status": "pending"}), 403, "forbidden"),
        (kim.post(f"{path}/read", {"seq": -5}), 422, "validation_error"),
        (kim.post(f"{API}/conversations", {"company": "nope", "body": "x"}), 404, "not_found"),
    ]
    for request, status, code in failures:
        assert_problem(await request, status, code)
    assert await snapshot() == before

    # failures committed in the same group as successes roll back alone
    results = await asyncio.gather(
        *(kim.send(conv, f"neu {i}", client_id=f"n{i}") for i in range(8)),
        *(kim.send(conv, "Andere Frage", client_id="q1") for _ in range(8)),
    )
    assert sorted(r.status_code for r in results) == [201] * 8 + [409] * 8
    items = await messages(agent, conv)
    assert [m["seq"] for m in items] == list(range(1, 12))
    created = [m for m in (await replay(agent)) if m["type"] == "message.created"]
    assert [f["data"]["id"] for f in created] == [m["id"] for m in items]


# -- operations ----------------------------------------------------------------------------


async def test_health_ready_and_metrics(server: Server) -> None:
    anon = server.client()
    r = await anon.get("/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok"}
    r = await anon.get("/readyz")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "ok" and r.json()["checks"]["database"] is True
    if server.settings.redis_url:
        assert r.json()["checks"]["redis"] is True

    agent = await server.agent(await server.company("acme"))
    await agent.get(f"{API}/conversations/987654")
    sock = await agent.ws()
    r = await anon.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    assert re.search(r"^eyelevel_open_sockets 1\.0$", r.text, re.M), r.text
    assert "eyelevel_http_requests_total" in r.text
    # requests are counted by route template, never by a concrete path with ids
    assert re.search(r'route="[^"]*/conversations/\{conversation_id\}"', r.text), r.text
    assert "987654" not in r.text
    await sock.close()


async def test_openapi_and_local_docs(server: Server) -> None:
    anon = server.client()
    r = await anon.get(f"{API}/openapi.json")
    assert r.status_code == 200, r.text
    spec = r.json()
    assert spec["openapi"].startswith("3.")
    for p in (
        "/api/v1/auth/signup",
        "/api/v1/conversations",
        "/api/v1/conversations/{conversation_id}/messages",
        "/api/v1/companies/{slug}/tokens",
    ):
        assert p in spec["paths"], p

    r = await anon.get(f"{API}/docs")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    own_host = urlsplit(server.url).netloc
    hosts = {urlsplit(u).netloc for u in re.findall(r"https?://[^\s\"'<>)]+", html)}
    assert hosts <= {own_host}, hosts  # no CDN, no third-party request
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets and all(a.startswith("/api/v1/docs-assets/") for a in assets), assets
    assert "/api/v1/openapi.json" in html
    for asset in assets:
        r = await anon.get(asset)
        assert r.status_code == 200, asset
        assert len(r.content) > 100
    r = await anon.get(f"{API}/docs-assets/swagger-ui-bundle.js")
    assert "javascript" in r.headers["content-type"]


async def test_sign_in_and_sign_up_refuse_a_foreign_origin(server: Server) -> None:
    c = server.client()
    evil = {"origin": "https://evil.example"}
    body = {"email": "kim@example.org", "password": PASSWORD, "display_name": "Kim"}
    assert_problem(await c.post(f"{API}/auth/signup", body, headers=evil), 403, "csrf_failed")
    assert "eyelevel_session" not in c.http.cookies
    r = await c.post(f"{API}/auth/signup", body, headers={"origin": server.url})
    assert r.status_code == 201, r.text  # our own origin is fine, and the address was still free
    login = {"kind": "customer", "email": "kim@example.org", "password": PASSWORD}
    assert_problem(await c.post(f"{API}/auth/login", login, headers=evil), 403, "csrf_failed")


async def test_ids_beyond_the_database_range_are_refused_not_crashed(server: Server) -> None:
    """Found by schemathesis: an agent id over 64 bits reached the database (500)."""
    company = await server.company("acme")
    admin = await server.agent(company, role=Role.ADMIN)
    kim = await server.customer()
    conv = (await kim.start_conversation("acme", "Hallo"))["conversation"]["id"]
    for body in ({"agent_id": 2**70}, {"team_id": 2**63}):
        r = await admin.post(f"{API}/conversations/{conv}/assignment", body)
        assert_problem(r, 422, "validation_error")


async def test_nul_characters_are_refused_or_ignored(server: Server) -> None:
    """Found by schemathesis on PostgreSQL, which refuses NUL in any text (it was a 500)."""
    await server.company("acme")
    anon = server.client()
    for path, body in (
        ("/auth/login", {"kind": "agent", "email": "a\x00@example.com", "password": "x"}),
        ("/auth/visitor", {"display_name": "Gast\x00"}),
        ("/auth/signup", {"email": "k@example.org", "password": "p\x00", "display_name": "K"}),
    ):
        assert_problem(await anon.post(f"{API}{path}", body), 422, "validation_error")
    r = await anon.get(f"{API}/companies", params={"q": "ac\x00me"})
    assert r.status_code == 200, r.text
