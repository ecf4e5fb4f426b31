"""What the customer messenger uses (docs/messenger.md), through a real server.

Website visitors with bearer session tokens (REST and the WebSocket subprotocol), claiming a
visitor's conversations under an email, the conversation list with its company and unread
counts, company cards with opening hours, and attachments: cleaned images, PDFs, limits,
idempotency and who may fetch them.
"""

from __future__ import annotations

import asyncio
import io
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import websockets
from PIL import Image, PngImagePlugin
from sqlalchemy import select
from websockets.exceptions import ConnectionClosed

from eyelevel.core.actions import operator
from eyelevel.core.entities import MAX_ATTACHMENT_BYTES, MAX_BODY_CHARS
from eyelevel.core.errors import DomainError
from eyelevel.core.rules.hours import is_open
from eyelevel.storage import schema
from eyelevel.web.middleware import MAX_UPLOAD_BYTES
from tests.harness import PASSWORD, Client, Server, Socket
from tests.test_api import assert_problem, raw_client, replay

API = "/api/v1"
VERIFY_LINK = r"/verify\?token=(\S+)"
EVIL = "https://evil.example"
GHOST = 987_654_321


# -- helpers -----------------------------------------------------------------------------------


async def visitor(server: Server, name: str | None = None) -> Client:
    """A website visitor: ``POST /auth/visitor``, then only the bearer token (no cookies)."""
    c = server.client("customer")
    r = await c.post(f"{API}/auth/visitor", {} if name is None else {"display_name": name})
    assert r.status_code == 201, r.text
    body = r.json()
    assert set(body) == {"token", "expires_at", "customer_id"}, body
    assert body["token"].startswith("els_")
    assert "set-cookie" not in r.headers and not c.http.cookies
    c.token, c.id = body["token"], body["customer_id"]
    return c


async def me(c: Client) -> dict[str, Any]:
    r = await c.get(f"{API}/auth/me")
    assert r.status_code == 200, r.text
    return dict(r.json())


async def listing(c: Client) -> list[dict[str, Any]]:
    r = await c.get(f"{API}/conversations", params={"limit": 200})
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


async def conversation(c: Client, conv_id: int) -> dict[str, Any]:
    r = await c.get(f"{API}/conversations/{conv_id}")
    assert r.status_code == 200, r.text
    return dict(r.json())


async def messages(c: Client, conv_id: int) -> list[dict[str, Any]]:
    r = await c.get(f"{API}/conversations/{conv_id}/messages", params={"limit": 200})
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


async def bearer_socket(
    server: Server, token: str, origin: str | None = None, query: str = ""
) -> websockets.ClientConnection:
    """A socket as a browser page without cookies opens it: the token as a subprotocol."""
    return await websockets.connect(
        server.ws_url + query,
        subprotocols=[
            websockets.Subprotocol("eyelevel"),
            websockets.Subprotocol(f"bearer.{token}"),
        ],
        additional_headers={"Origin": origin or server.url},
    )


async def refused_with(server: Server, token: str, origin: str | None = None) -> int | None:
    """The close code of a subprotocol-token socket that the server must refuse (no frames)."""
    async with await bearer_socket(server, token, origin) as conn:
        with pytest.raises(ConnectionClosed) as info:
            frame = await conn.recv()
            raise AssertionError(f"a refused socket sent {frame!r}")
    return info.value.rcvd.code if info.value.rcvd else None


async def socket_of(client: Client) -> Socket:
    """A live socket for a bearer-token client, opened the way the widget does."""
    assert client.token is not None
    conn = await bearer_socket(client.server, client.token)
    sock = Socket(conn)
    hello = await sock.next_frame()
    assert hello["type"] == "hello", hello
    return sock


async def delivered(server: Server) -> list[str]:
    """Everyone mailed so far, once every mail queued before this call is out: the worker
    sends in queue order, so a barrier mail queued now arrives after all of them."""
    barrier = f"barrier-{uuid.uuid4().hex[:8]}@example.org"
    r = await server.client().post(
        f"{API}/auth/signup", {"email": barrier, "password": PASSWORD, "display_name": "B"}
    )
    assert r.status_code == 201, r.text
    await server.mail_token(barrier, VERIFY_LINK)
    return [m.to for m in server.mailer.sent if not m.to.startswith("barrier-")]


def stored_files(server: Server) -> dict[str, bytes]:
    """Every file under the attachment store, by path relative to it."""
    root = server.settings.data_dir / "files"
    if not root.exists():
        return {}
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


async def upload(
    c: Client,
    conv_id: int,
    data: bytes,
    filename: str = "foto.jpg",
    content_type: str = "image/jpeg",
    **form: Any,
) -> httpx.Response:
    return await c.http.post(
        f"{API}/conversations/{conv_id}/attachments",
        files={"file": (filename, data, content_type)},
        data={k: str(v).lower() if isinstance(v, bool) else v for k, v in form.items()},
    )


def picture(
    size: tuple[int, int] = (640, 480),
    fmt: str = "JPEG",
    mode: str = "RGB",
    exif: Image.Exif | None = None,
    **save: Any,
) -> bytes:
    """An image with a left half of one colour and a right half of another."""
    img = Image.new(mode, size, (200, 30, 30, 255)[: len(mode)] if mode != "L" else 200)
    right = Image.new(mode, (size[0] // 2, size[1]), (30, 30, 200, 255)[: len(mode)])
    img.paste(right, (size[0] - size[0] // 2, 0))
    buf = io.BytesIO()
    if exif is not None:
        save["exif"] = exif.tobytes()
    img.save(buf, fmt, **save)
    return buf.getvalue()


def gps_exif() -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "Canon"  # Make
    exif[0x0110] = "EOS 5D"  # Model
    exif[0x8825] = {1: "N", 2: (52.0, 31.0, 0.0), 3: "E", 4: (13.0, 24.0, 0.0)}  # GPS
    return exif


def pdf(text: str = "Rechnung 4711") -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
        b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
        + f"% {text}\n".encode()
        + b"trailer << /Root 1 0 R >>\n%%EOF\n"
    )


def opened(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    img.load()
    return img


async def setup(server: Server) -> tuple[Client, Client, int]:
    """Company acme with an agent, a verified customer and their conversation."""
    company = await server.company("acme", "Acme AG")
    agent = await server.agent(company, name="Anna Agent")
    customer = await server.customer(name="Kim Kunde")
    conv = (await customer.start_conversation("acme", "Hallo"))["conversation"]["id"]
    return agent, customer, conv


# -- visitors ----------------------------------------------------------------------------------


async def test_visitor_writes_without_an_account_and_hears_back_live(server: Server) -> None:
    company = await server.company("acme", "Acme AG")
    agent = await server.agent(company, name="Anna Agent")
    guest = await visitor(server, "Gast")
    r = await server.client().post(f"{API}/auth/visitor", {})
    assert r.status_code == 201 and r.json()["customer_id"] != guest.id  # each its own
    expires = datetime.fromisoformat(r.json()["expires_at"])
    assert expires > datetime.now(UTC) + timedelta(days=300)  # the widget keeps it for long

    assert await me(guest) == {
        "kind": "customer",
        "id": guest.id,
        "name": "Gast",
        "email_verified": False,
        "anonymous": True,
        "companies": {},
        "memberships": [],
    }
    nameless = await visitor(server)
    assert (await me(nameless))["name"] == "Visitor"

    started = await guest.start_conversation("acme", "Wo ist mein Paket?")  # no email needed
    conv = started["conversation"]
    assert conv["customer_id"] == guest.id
    assert conv["company"] == {"id": company.id, "slug": "acme", "name": "Acme AG"}
    assert started["message"]["author"] == {"type": "customer", "name": "Gast"}
    assert [c["id"] for c in await listing(guest)] == [conv["id"]]
    assert await listing(nameless) == []
    seen = [c for c in await listing(agent) if c["id"] == conv["id"]]
    assert len(seen) == 1 and seen[0]["customer_id"] == guest.id and seen[0]["unread"] == 1

    sock = await socket_of(guest)
    assert sock.conn.subprotocol == "eyelevel"
    try:
        r = await agent.send(conv["id"], "Es ist unterwegs.")
        assert r.status_code == 201, r.text
        event = await sock.wait_for(lambda f: f["type"] == "message.created")
        assert event["data"]["id"] == r.json()["id"]
        assert event["data"]["body"] == "Es ist unterwegs."
        # and the visitor writes over the same socket
        await sock.send_json(
            {"type": "send", "conversation_id": conv["id"], "body": "Danke!", "ref": "r1"}
        )
        ack = await sock.wait_for(lambda f: f["type"] == "ack" and f.get("ref") == "r1")
        assert ack["data"]["author"] == {"type": "customer", "name": "Gast"}
    finally:
        await sock.close()
    assert [m["body"] for m in await messages(agent, conv["id"])] == [
        "Wo ist mein Paket?",
        "Es ist unterwegs.",
        "Danke!",
    ]


async def test_visitor_socket_refusals(server: Server) -> None:
    await server.company("acme")
    guest = await visitor(server)
    assert guest.token is not None
    assert await refused_with(server, "els_forged") == 4401
    assert await refused_with(server, guest.token[:-2]) == 4401
    assert await refused_with(server, guest.token, origin=EVIL) == 4403
    assert await refused_with(server, guest.token, origin="null") == 4403
    sock = await socket_of(guest)  # the same token from our own page is fine
    await sock.close()
    # an ended session: signing out with the bearer token ends it on the server
    assert (await guest.post(f"{API}/auth/logout")).status_code == 204
    assert_problem(await guest.get(f"{API}/auth/me"), 401, "unauthenticated")
    assert await refused_with(server, guest.token) == 4401


async def test_visitor_validation(server: Server) -> None:
    anon = server.client()
    for body in ({"display_name": "x" * 101}, {"display_name": 5}, {"customer_id": 1}):
        assert_problem(await anon.post(f"{API}/auth/visitor", body), 422, "validation_error")
    async with raw_client(server, headers={"Origin": EVIL}) as foreign:
        assert_problem(await foreign.post(f"{API}/auth/visitor", json={}), 403, "csrf_failed")
    r = await anon.post(f"{API}/auth/visitor", {"display_name": " \t "})
    assert r.status_code == 201, r.text
    auth = {"Authorization": f"Bearer {r.json()['token']}"}
    async with raw_client(server, headers=auth) as blank:
        assert (await blank.get(f"{API}/auth/me")).json()["name"] == "Visitor"


async def test_bearer_session_needs_no_csrf_header_but_a_cookie_session_does(
    server: Server,
) -> None:
    await server.company("acme")
    guest = await visitor(server, "Gast")
    customer = await server.customer()
    conv = (await guest.start_conversation("acme", "Hallo"))["conversation"]["id"]
    own = (await customer.start_conversation("acme", "Hallo"))["conversation"]["id"]
    bearer = {"Authorization": f"Bearer {guest.token}"}
    # a bearer token is never sent by a browser on its own: no CSRF header, any Origin
    for origin in ({}, {"Origin": server.url}, {"Origin": EVIL}):
        async with raw_client(server, headers={**bearer, **origin}) as widget:
            r = await widget.post(f"{API}/conversations/{conv}/messages", json={"body": "Hi"})
            assert r.status_code == 201, (origin, r.text)
            r = await widget.post(f"{API}/conversations/{conv}/read", json={"seq": 1})
            assert r.status_code == 200, (origin, r.text)
    # files too: the widget uploads and fetches them with the token alone
    async with raw_client(server, headers=bearer) as widget:
        r = await widget.post(
            f"{API}/conversations/{conv}/attachments",
            files={"file": ("foto.jpg", picture((64, 48)), "image/jpeg")},
        )
        assert r.status_code == 201, r.text
        att = r.json()["attachments"][0]["id"]
        for path in (f"{API}/attachments/{att}", f"{API}/attachments/{att}/thumbnail"):
            got = await widget.get(path)
            assert got.status_code == 200 and opened(got.content).format == "JPEG", path
    # a cookie session still needs the CSRF header on unsafe requests
    cookies = dict(customer.http.cookies.items())
    async with raw_client(server, cookies=cookies) as browser:
        r = await browser.post(f"{API}/conversations/{own}/messages", json={"body": "Hi"})
        assert_problem(r, 403, "csrf_failed")
        r = await browser.post(
            f"{API}/conversations/{own}/messages",
            json={"body": "Hi"},
            headers={"x-csrf-token": cookies["eyelevel_csrf"]},
        )
        assert r.status_code == 201, r.text
        assert (await browser.get(f"{API}/auth/me")).status_code == 200  # safe: no header
    assert [m["body"] for m in await messages(guest, conv)] == ["Hallo", "Hi", "Hi", "Hi", ""]
    assert [m["body"] for m in await messages(customer, own)] == ["Hallo", "Hi"]


# -- claiming a visitor ------------------------------------------------------------------------


async def test_claim_with_a_new_email_turns_the_visitor_into_an_account(server: Server) -> None:
    company = await server.company("acme", "Acme AG")
    agent = await server.agent(company)
    guest = await visitor(server, "Gast")
    conv = (await guest.start_conversation("acme", "Hallo"))["conversation"]["id"]
    assert (await agent.send(conv, "Wie können wir helfen?")).status_code == 201
    email = f"gast-{uuid.uuid4().hex[:6]}@example.org"

    r = await guest.post(
        f"{API}/auth/claim", {"email": email.upper(), "password": PASSWORD, "display_name": "Kim"}
    )
    assert r.status_code == 200, r.text
    claimed = r.json()
    assert set(claimed) == {"token", "expires_at", "customer_id", "merged"}
    assert claimed["merged"] is False and claimed["customer_id"] == guest.id
    assert claimed["token"].startswith("els_") and claimed["token"] != guest.token
    verify = await server.mail_token(email, VERIFY_LINK)  # the address, lower-cased

    guest.token = claimed["token"]
    assert await me(guest) == {
        "kind": "customer",
        "id": guest.id,
        "name": "Kim",
        "email_verified": False,
        "anonymous": False,
        "companies": {},
        "memberships": [],
    }
    assert [c["id"] for c in await listing(guest)] == [conv]
    # no longer a visitor: a second claim is refused
    r = await guest.post(f"{API}/auth/claim", {"email": f"x{email}", "password": PASSWORD})
    assert_problem(r, 409, "conflict")
    assert (await me(guest))["anonymous"] is False

    # the email and password now sign in anywhere, to the same conversation
    browser = server.client("customer")
    r = await browser.post(
        f"{API}/auth/login", {"kind": "customer", "email": email, "password": PASSWORD}
    )
    assert r.status_code == 200, r.text
    assert [c["id"] for c in await listing(browser)] == [conv]
    assert [m["body"] for m in await messages(browser, conv)] == [
        "Hallo",
        "Wie können wir helfen?",
    ]
    # an account with an unconfirmed email writes on, but starts nothing new before confirming
    assert (await browser.send(conv, "Noch eine Frage")).status_code == 201
    r = await browser.post(f"{API}/conversations", {"company": "acme", "body": "Neu"})
    assert_problem(r, 403, "email_not_verified")
    assert (await browser.post(f"{API}/auth/verify", {"token": verify})).status_code == 204
    assert (await me(browser))["email_verified"] is True
    await browser.start_conversation("acme", "Neu")
    assert len(await listing(guest)) == 2


async def test_claim_with_an_existing_account_merges_the_visitor_into_it(server: Server) -> None:
    acme = await server.company("acme", "Acme AG")
    await server.company("bolt", "Bolt GmbH")
    agent = await server.agent(acme, name="Anna Agent")
    email = f"kim-{uuid.uuid4().hex[:6]}@example.org"
    kim = await server.customer(email=email, name="Kim Kunde")
    own = (await kim.start_conversation("bolt", "Meine Frage an Bolt"))["conversation"]["id"]
    guest = await visitor(server, "Gast")
    conv = (await guest.start_conversation("acme", "Frage als Gast"))["conversation"]["id"]
    assert (await agent.send(conv, "Antwort an den Gast")).status_code == 201
    visitor_token, visitor_id = guest.token, guest.id
    assert visitor_token is not None
    before = (await listing(kim), await listing(guest), await messages(agent, conv))
    mails = await delivered(server)

    # the wrong password: refused, and nothing moved
    r = await guest.post(f"{API}/auth/claim", {"email": email, "password": "wrong password!"})
    assert_problem(r, 401, "invalid_credentials")
    assert (await listing(kim), await listing(guest), await messages(agent, conv)) == before
    assert (await me(guest))["anonymous"] is True
    assert await delivered(server) == mails

    kim_socket = await kim.ws()
    try:
        r = await guest.post(
            f"{API}/auth/claim", {"email": f"  {email.upper()} ", "password": PASSWORD}
        )
        assert r.status_code == 200, r.text
        merged = r.json()
        assert merged["merged"] is True and merged["customer_id"] == kim.id
        guest.token = merged["token"]
        assert (await me(guest))["id"] == kim.id and (await me(guest))["name"] == "Kim Kunde"
        assert (await me(guest))["anonymous"] is False

        # the visitor is gone: its token opens nothing any more
        async with raw_client(server, headers={"Authorization": f"Bearer {visitor_token}"}) as old:
            assert_problem(await old.get(f"{API}/auth/me"), 401, "unauthenticated")
            assert_problem(await old.get(f"{API}/conversations"), 401, "unauthenticated")
        assert await refused_with(server, visitor_token) == 4401

        # the account has both conversations; the visitor's messages are its messages now
        for c in (kim, guest):
            assert {x["id"] for x in await listing(c)} == {own, conv}
        moved = await conversation(kim, conv)
        assert moved["customer_id"] == kim.id and moved["company"]["slug"] == "acme"
        assert (await conversation(agent, conv))["customer_id"] == kim.id
        first = (await messages(kim, conv))[0]
        assert first["body"] == "Frage als Gast" and first["author"]["type"] == "customer"
        async with server.runtime.db.read_engine.connect() as db:
            authors = (
                await db.execute(
                    select(schema.messages.c.author_customer_id).where(
                        schema.messages.c.conversation_id == conv,
                        schema.messages.c.kind == "customer",
                    )
                )
            ).scalars()
            assert set(authors) == {kim.id}
            gone = select(schema.customers.c.id).where(schema.customers.c.id == visitor_id)
            assert (await db.execute(gone)).first() is None

        # and it is live for the account: the agent's next reply reaches Kim's socket
        sent = await agent.send(conv, "Jetzt für Kim")
        assert sent.status_code == 201, sent.text
        event = await kim_socket.wait_for(
            lambda f: f["type"] == "message.created" and f["data"]["id"] == sent.json()["id"]
        )
        assert event["data"]["conversation_id"] == conv
    finally:
        await kim_socket.close()
    assert (await kim.send(conv, "Danke")).status_code == 201
    # a catch-up from the start now carries the visitor's conversation, as the account's
    replayed = await replay(kim)
    assert {
        f["data"].get("conversation_id") for f in replayed if f["type"] == "message.created"
    } == {
        own,
        conv,
    }

    # claiming again: the account is no visitor
    r = await guest.post(f"{API}/auth/claim", {"email": email, "password": PASSWORD})
    assert_problem(r, 409, "conflict")


async def test_a_merged_visitors_replayed_conversation_names_the_account(server: Server) -> None:
    """Applying the replayed events must give what a fresh fetch gives (habit 2)."""
    await server.company("acme")
    email = f"kim-{uuid.uuid4().hex[:6]}@example.org"
    kim = await server.customer(email=email)
    guest = await visitor(server)
    conv = (await guest.start_conversation("acme", "Frage als Gast"))["conversation"]["id"]
    r = await guest.post(f"{API}/auth/claim", {"email": email, "password": PASSWORD})
    assert r.status_code == 200 and r.json()["merged"] is True, r.text
    fetched = await conversation(kim, conv)
    created = [f["data"] for f in await replay(kim) if f["type"] == "conversation.created"]
    assert [(c["id"], c["customer_id"]) for c in created] == [(conv, fetched["customer_id"])]


async def test_claim_refusals(server: Server) -> None:
    company = await server.company("acme")
    agent = await server.agent(company)
    customer = await server.customer()
    bot = await server.token_client(company)
    guest = await visitor(server, "Gast")
    conv = (await guest.start_conversation("acme", "Hallo"))["conversation"]["id"]
    free = {"email": f"neu-{uuid.uuid4().hex[:6]}@example.org", "password": PASSWORD}

    # only a visitor may claim: accounts of every kind get a conflict, nobody gets in
    for caller in (customer, agent):
        r = await caller.post(f"{API}/auth/claim", free)
        assert_problem(r, 409, "conflict")
    assert_problem(await bot.post(f"{API}/auth/claim", free), 403, "forbidden")  # no scope for it
    assert_problem(await server.client().post(f"{API}/auth/claim", free), 401, "unauthenticated")
    async with raw_client(server, headers={"Authorization": "Bearer els_forged"}) as forged:
        assert_problem(await forged.post(f"{API}/auth/claim", json=free), 401, "unauthenticated")
    assert (await me(customer))["anonymous"] is False

    # invalid input names its field; the visitor stays a visitor
    cases = [
        ({**free, "email": "kein-at-zeichen"}, "email"),
        ({**free, "email": "a@b"}, "email"),
        ({**free, "password": "kurz"}, "password"),
    ]
    for body, field in cases:
        r = await guest.post(f"{API}/auth/claim", body)
        assert assert_problem(r, 422, "validation_error").get("field") == field, body
    for body in ({**free, "display_name": "x" * 101}, {**free, "customer_id": customer.id}):
        assert_problem(await guest.post(f"{API}/auth/claim", body), 422, "validation_error")
    # from a page that is not ours, even with the token
    async with raw_client(
        server, headers={"Authorization": f"Bearer {guest.token}", "Origin": EVIL}
    ) as foreign:
        assert_problem(await foreign.post(f"{API}/auth/claim", json=free), 403, "csrf_failed")
    assert free["email"] not in await delivered(server)
    assert (await me(guest))["anonymous"] is True
    assert [c["id"] for c in await listing(guest)] == [conv]
    browser = server.client("customer")
    r = await browser.post(f"{API}/auth/login", {"kind": "customer", **free})
    assert_problem(r, 401, "invalid_credentials")


# -- the conversation list: company and unread -------------------------------------------------


def ref(company: Any) -> dict[str, Any]:
    return {"id": company.id, "slug": company.slug, "name": company.name}


async def test_customer_list_spans_companies_with_company_and_unread(server: Server) -> None:
    acme, bolt = await server.company("acme", "Acme AG"), await server.company("bolt", "Bolt")
    anna = await server.agent(acme, name="Anna Agent")
    bert = await server.agent(bolt, name="Bert Agent")
    bot = await server.token_client(acme, name="Paketbot")
    kim = await server.customer()
    started = await kim.start_conversation("acme", "Frage an Acme")
    assert started["conversation"]["company"] == ref(acme)
    assert started["conversation"]["unread"] == 0
    a = started["conversation"]["id"]
    b = (await kim.start_conversation("bolt", "Frage an Bolt"))["conversation"]["id"]

    async def view() -> list[tuple[int, dict[str, Any], int]]:
        return [(c["id"], c["company"], c["unread"]) for c in await listing(kim)]

    assert await view() == [(b, ref(bolt), 0), (a, ref(acme), 0)]  # newest activity first

    for text in ("Erste Antwort", "Zweite Antwort"):
        assert (await anna.send(a, text)).status_code == 201
    assert await view() == [(a, ref(acme), 2), (b, ref(bolt), 0)]
    one = await conversation(kim, a)
    assert (one["company"], one["unread"], one["last_seq"]) == (ref(acme), 2, 3)

    # private notes neither count nor move a conversation up, for anyone
    assert (await anna.send(a, "intern", note=True)).status_code == 201
    assert (await bert.send(b, "intern", note=True)).status_code == 201
    assert await view() == [(a, ref(acme), 2), (b, ref(bolt), 0)]
    # an integration's message counts like an agent's
    assert (await bot.send(a, "Ihr Paket ist unterwegs")).status_code == 201
    assert (await conversation(kim, a))["unread"] == 3

    # reading up to the end clears it; the customer's own messages never count
    last = (await conversation(kim, a))["last_seq"]
    assert (await kim.post(f"{API}/conversations/{a}/read", {"seq": last})).status_code == 200
    assert (await conversation(kim, a))["unread"] == 0
    assert (await kim.send(b, "Hallo Bolt?")).status_code == 201
    assert await view() == [(b, ref(bolt), 0), (a, ref(acme), 0)]
    # reading part of it leaves the rest
    assert (await anna.send(a, "Noch etwas")).status_code == 201
    assert (await anna.send(a, "Und noch etwas")).status_code == 201
    assert (await kim.post(f"{API}/conversations/{a}/read", {"seq": last + 1})).status_code == 200
    assert await view() == [(a, ref(acme), 1), (b, ref(bolt), 0)]


async def test_agent_unread_counts_customer_messages_after_their_own_marker(
    server: Server,
) -> None:
    acme = await server.company("acme", "Acme AG")
    anna = await server.agent(acme, name="Anna Agent")
    otto = await server.agent(acme, name="Otto Agent")
    kim = await server.customer()
    conv = (await kim.start_conversation("acme", "Hallo"))["conversation"]["id"]

    async def unread(agent: Client) -> int:
        item = next(c for c in await listing(agent) if c["id"] == conv)
        assert item["company"] == ref(acme)
        one = await conversation(agent, conv)
        assert (one["unread"], one["company"]) == (item["unread"], ref(acme))
        return int(item["unread"])

    assert (await unread(anna), await unread(otto)) == (1, 1)
    assert (await anna.send(conv, "Antwort")).status_code == 201  # own replies never count
    assert (await anna.send(conv, "intern", note=True)).status_code == 201
    assert (await unread(anna), await unread(otto)) == (1, 1)
    last = (await conversation(anna, conv))["last_seq"]
    assert (await anna.post(f"{API}/conversations/{conv}/read", {"seq": last})).status_code == 200
    assert (await unread(anna), await unread(otto)) == (0, 1)  # Otto's marker did not move
    for text in ("Zweitens", "Drittens"):
        assert (await kim.send(conv, text)).status_code == 201
    assert (await unread(anna), await unread(otto)) == (2, 3)
    # the customer's side is separate: Anna's reply is the one message Kim has not read
    assert (await conversation(kim, conv))["unread"] == 1


# -- company cards: opening hours and the response-time promise --------------------------------


def _zone_not_near_midnight() -> str:
    """A time zone where it is not 23:xx now: "23:59" is the last minute an interval can end
    on (end exclusive, "24:00" is refused), so 23:59 local is always closed."""
    now = datetime.now(UTC)
    return next(
        z for z in ("Europe/Berlin", "Asia/Tokyo") if now.astimezone(ZoneInfo(z)).hour != 23
    )


async def test_company_card_open_now_and_reply_promise(server: Server) -> None:
    days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    zone = _zone_not_near_midnight()
    await operator.ensure_company(
        server.runtime.ctx,
        slug="immer",
        name="Immer Offen",
        timezone=zone,
        business_hours={d: [["00:00", "23:59"]] for d in days},
        reply_within_minutes=120,
    )
    await operator.ensure_company(
        server.runtime.ctx,
        slug="nie",
        name="Nie Offen",
        timezone="America/New_York",
        business_hours={d: [] for d in days},
    )
    anon = server.client()
    cards = {}
    for slug in ("immer", "nie"):
        r = await anon.get(f"{API}/companies/{slug}")
        assert r.status_code == 200, r.text
        cards[slug] = r.json()
    assert (cards["immer"]["open_now"], cards["immer"]["reply_within_minutes"]) == (True, 120)
    assert cards["immer"]["timezone"] == zone
    assert cards["immer"]["business_hours"]["sun"] == [["00:00", "23:59"]]
    assert (cards["nie"]["open_now"], cards["nie"]["reply_within_minutes"]) == (False, None)
    r = await anon.get(f"{API}/companies", params={"q": "offen"})
    assert r.status_code == 200, r.text
    assert {c["slug"]: (c["open_now"], c["reply_within_minutes"]) for c in r.json()} == {
        "immer": (True, 120),
        "nie": (False, None),
    }
    # a promise outside 1 minute .. 30 days is refused
    for bad in (0, 60 * 24 * 30 + 1):
        with pytest.raises(DomainError) as refused:
            await operator.ensure_company(
                server.runtime.ctx, slug=f"bad-{bad}", name="Bad", reply_within_minutes=bad
            )
        assert refused.value.field == "reply_within_minutes"
    assert_problem(await anon.get(f"{API}/companies/bad-0"), 404, "not_found")


WEEK = {
    "mon": [["08:00", "12:00"], ["13:00", "18:00"]],
    "tue": [["08:00", "18:00"]],
    "sat": [["10:00", "14:00"]],
    "sun": [],
}


def _utc(year: int, month: int, day: int, hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


@pytest.mark.parametrize(
    ("at", "zone", "expected"),
    [
        # Monday 5 January 2026, Berlin is UTC+1 in winter
        (_utc(2026, 1, 5, 7, 30), "Europe/Berlin", True),  # 08:30 Berlin
        (_utc(2026, 1, 5, 6, 59), "Europe/Berlin", False),  # 07:59
        (_utc(2026, 1, 5, 7, 0), "Europe/Berlin", True),  # 08:00: the start is inside
        (_utc(2026, 1, 5, 10, 59), "Europe/Berlin", True),  # 11:59
        (_utc(2026, 1, 5, 11, 0), "Europe/Berlin", False),  # 12:00: the end is not
        (_utc(2026, 1, 5, 11, 30), "Europe/Berlin", False),  # lunch
        (_utc(2026, 1, 5, 16, 59), "Europe/Berlin", True),  # 17:59
        (_utc(2026, 1, 5, 17, 0), "Europe/Berlin", False),  # 18:00
        (_utc(2026, 1, 5, 7, 30), "UTC", False),  # the same instant, 07:30 in UTC
        (_utc(2026, 1, 5, 8, 30), "UTC", True),
        # Monday 6 July 2026, Berlin is UTC+2 in summer
        (_utc(2026, 7, 6, 6, 30), "Europe/Berlin", True),  # 08:30
        (_utc(2026, 7, 6, 16, 30), "Europe/Berlin", False),  # 18:30
        # the weekday is the local one: Monday 23:30 UTC is Tuesday 00:30 in Berlin
        (_utc(2026, 1, 5, 23, 30), "Europe/Berlin", False),
        (_utc(2026, 1, 6, 7, 0), "Europe/Berlin", True),  # Tuesday 08:00
        # Tuesday 18:30 in New York is Wednesday 00:30 in Berlin (no hours on Wednesday)
        (datetime(2026, 1, 6, 18, 30, tzinfo=ZoneInfo("America/New_York")), "Europe/Berlin", False),
        (_utc(2026, 1, 10, 9, 0), "Europe/Berlin", True),  # Saturday 10:00
        (_utc(2026, 1, 11, 9, 0), "Europe/Berlin", False),  # Sunday: an empty day
        (_utc(2026, 1, 8, 9, 0), "Europe/Berlin", False),  # Thursday: a missing day
    ],
)
def test_is_open(at: datetime, zone: str, expected: bool) -> None:
    assert is_open(WEEK, zone, at) is expected


def test_is_open_until_the_last_minute() -> None:
    hours = {"mon": [["00:00", "23:59"]]}
    assert is_open(hours, "UTC", _utc(2026, 1, 5, 0, 0)) is True
    assert is_open(hours, "UTC", _utc(2026, 1, 5, 23, 58, 59)) is True
    assert is_open(hours, "UTC", _utc(2026, 1, 5, 23, 59)) is False
    assert is_open({}, "UTC", _utc(2026, 1, 5, 12, 0)) is False


# -- attachments -------------------------------------------------------------------------------


async def test_a_photo_loses_its_exif_and_gps(server: Server) -> None:
    agent, customer, conv = await setup(server)
    sock = await customer.ws()
    original = picture((640, 480), exif=gps_exif())
    assert b"Exif" in original and b"Canon" in original  # the test's own premise
    assert opened(original).getexif()[0x010F] == "Canon"

    r = await upload(customer, conv, original, "IMG_0001.jpeg", body="Das Paket")
    assert r.status_code == 201, r.text
    message = r.json()
    assert (message["kind"], message["body"], message["seq"]) == ("customer", "Das Paket", 2)
    [att] = message["attachments"]
    assert {k: v for k, v in att.items() if k not in ("id", "size")} == {
        "name": "IMG_0001.jpg",
        "content_type": "image/jpeg",
        "width": 640,
        "height": 480,
        "thumbnail": True,
    }

    for reader in (customer, agent):
        got = await reader.get(f"{API}/attachments/{att['id']}")
        assert got.status_code == 200, got.text
        assert got.headers["content-type"] == "image/jpeg"
        assert got.headers["x-content-type-options"] == "nosniff"
        assert "sandbox" in got.headers["content-security-policy"]
        assert "default-src 'none'" in got.headers["content-security-policy"]
        assert got.headers["content-disposition"].startswith("inline;")
        assert "IMG_0001.jpg" in got.headers["content-disposition"]
        served = got.content
        assert len(served) == att["size"]
        img = opened(served)
        assert (img.format, img.size) == ("JPEG", (640, 480))
        assert dict(img.getexif()) == {} and "exif" not in img.info
        assert b"Exif" not in served and b"Canon" not in served and b"EOS" not in served
        # the pixels survived: red on the left, blue on the right
        red, blue = img.convert("RGB").getpixel((10, 240)), img.convert("RGB").getpixel((630, 240))
        assert red[0] > 150 > red[2] and blue[2] > 150 > blue[0], (red, blue)

    thumb = await customer.get(f"{API}/attachments/{att['id']}/thumbnail")
    assert thumb.status_code == 200, thumb.text
    assert thumb.headers["content-type"] == "image/jpeg"
    assert thumb.headers["x-content-type-options"] == "nosniff"
    small = opened(thumb.content)
    assert small.format == "JPEG" and small.size == (480, 360)
    assert b"Exif" not in thumb.content and b"Canon" not in thumb.content

    # on disk: the cleaned file and its thumbnail, nothing else, no metadata in either
    files = stored_files(server)
    assert sorted(files.values(), key=len) == sorted([thumb.content, served], key=len)
    for path, data in files.items():
        assert Path(path).parts[0].isdigit()  # a directory per company
        assert b"Exif" not in data and b"Canon" not in data, path
    assert {Path(p).name.split(".", 1)[1] for p in files} == {"jpg", "thumb.jpg"}

    # the list, the messages page and the live event all carry the attachment
    try:
        event = await sock.wait_for(
            lambda f: f["type"] == "message.created" and f["data"]["id"] == message["id"]
        )
    finally:
        await sock.close()
    assert event["data"]["attachments"] == [att]
    assert (await messages(agent, conv))[-1]["attachments"] == [att]
    assert (await listing(customer))[0]["last_message"]["attachments"] == [att]


async def test_the_orientation_tag_is_applied_then_dropped(server: Server) -> None:
    _, customer, conv = await setup(server)
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    r = await upload(customer, conv, picture((80, 40), exif=exif), "hochkant.jpg")
    assert r.status_code == 201, r.text
    [att] = r.json()["attachments"]
    assert (att["width"], att["height"]) == (40, 80)
    img = opened((await customer.get(f"{API}/attachments/{att['id']}")).content)
    assert img.size == (40, 80) and 0x0112 not in img.getexif()
    # turned clockwise: the left (red) half of the stored pixels is now on top
    top, bottom = img.convert("RGB").getpixel((20, 5)), img.convert("RGB").getpixel((20, 75))
    assert top[0] > 150 > top[2] and bottom[2] > 150 > bottom[0], (top, bottom)


async def test_png_webp_and_heic(server: Server) -> None:
    import pillow_heif  # noqa: F401 - registered by eyelevel.media, imported for the encoder

    _, customer, conv = await setup(server)
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "Aufgenommen in Berlin")
    rgba = Image.new("RGBA", (50, 30), (0, 128, 0, 255))
    rgba.putpixel((0, 0), (255, 255, 255, 0))
    buf = io.BytesIO()
    rgba.save(buf, "PNG", pnginfo=info)
    r = await upload(customer, conv, buf.getvalue(), "grafik.png", "image/png")
    assert r.status_code == 201, r.text
    [att] = r.json()["attachments"]
    assert (att["name"], att["content_type"], att["thumbnail"]) == ("grafik.png", "image/png", True)
    got = await customer.get(f"{API}/attachments/{att['id']}")
    assert got.headers["content-type"] == "image/png"
    img = opened(got.content)
    assert (img.format, img.mode, img.size) == ("PNG", "RGBA", (50, 30))
    assert img.getpixel((0, 0))[3] == 0 and img.getpixel((10, 10)) == (0, 128, 0, 255)
    assert b"Berlin" not in got.content and "Comment" not in img.info
    thumb = opened((await customer.get(f"{API}/attachments/{att['id']}/thumbnail")).content)
    assert thumb.format == "JPEG"

    r = await upload(customer, conv, picture((64, 48), "WEBP"), "bild.webp", "image/webp")
    assert r.status_code == 201, r.text
    [att] = r.json()["attachments"]
    assert (att["name"], att["content_type"]) == ("bild.webp", "image/webp")
    assert opened((await customer.get(f"{API}/attachments/{att['id']}")).content).format == "WEBP"

    # HEIC, which browsers cannot show, arrives as JPEG
    heic = picture((64, 48), "HEIF", quality=80)
    r = await upload(customer, conv, heic, "IMG_0002.HEIC", "image/heic")
    assert r.status_code == 201, r.text
    [att] = r.json()["attachments"]
    assert (att["name"], att["content_type"], att["width"]) == ("IMG_0002.jpg", "image/jpeg", 64)
    got = await customer.get(f"{API}/attachments/{att['id']}")
    assert got.headers["content-type"] == "image/jpeg" and opened(got.content).format == "JPEG"


async def test_a_pdf_is_stored_as_is_and_served_as_a_download(server: Server) -> None:
    agent, customer, conv = await setup(server)
    document = pdf()
    # the type comes from the bytes, the name is cleaned of its path and odd characters
    r = await upload(customer, conv, document, "../../Rechnung <2026>.jpg", "image/jpeg")
    assert r.status_code == 201, r.text
    [att] = r.json()["attachments"]
    assert att == {
        "id": att["id"],
        "name": "Rechnung _2026_.pdf",
        "content_type": "application/pdf",
        "size": len(document),
        "width": None,
        "height": None,
        "thumbnail": False,
    }
    got = await agent.get(f"{API}/attachments/{att['id']}")
    assert got.status_code == 200 and got.content == document
    assert got.headers["content-type"] == "application/pdf"
    assert got.headers["content-disposition"] == (
        "attachment; filename*=UTF-8''Rechnung%20_2026_.pdf"
    )
    assert got.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in got.headers["content-security-policy"]
    assert list(stored_files(server).values()) == [document]
    r = await customer.get(f"{API}/attachments/{att['id']}/thumbnail")
    assert_problem(r, 404, "not_found")


async def test_refused_uploads_leave_nothing_stored(server: Server) -> None:
    agent, customer, conv = await setup(server)
    assert (await customer.send(conv, "Text", client_id="text-1")).status_code == 201
    jpeg, photo = picture((64, 48)), picture((640, 480), exif=gps_exif())
    bomb = io.BytesIO()
    Image.new("1", (10_000, 5_000)).save(bomb, "PNG")  # 50 megapixels in a few kilobytes
    gif = io.BytesIO()
    Image.new("RGB", (8, 8)).save(gif, "GIF")
    over = MAX_ATTACHMENT_BYTES + 1
    assert over + 4096 < MAX_UPLOAD_BYTES  # inside the request limit: the file size decides
    cases: list[tuple[str, dict[str, Any], int, str, str | None]] = [
        (
            "a request body over the upload limit",
            {"data": b"\xff\xd8" + bytes(MAX_UPLOAD_BYTES)},
            413,
            "attachment_too_large",
            None,
        ),
        (
            "a file of 10 MB + 1 byte",
            {"data": jpeg + bytes(over - len(jpeg))},
            413,
            "attachment_too_large",
            "file",
        ),
        (
            "a text file named .jpg",
            {"data": b"Hallo, ich bin Text.\n" * 50},
            415,
            "unsupported_media_type",
            "file",
        ),
        (
            "a GIF",
            {"data": gif.getvalue(), "filename": "a.gif"},
            415,
            "unsupported_media_type",
            "file",
        ),
        (
            "an SVG",
            {
                "data": b'<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>',
                "filename": "a.svg",
            },
            415,
            "unsupported_media_type",
            "file",
        ),
        ("a truncated JPEG", {"data": photo[: len(photo) // 2]}, 422, "invalid_file", "file"),
        ("an empty file", {"data": b""}, 422, "invalid_file", "file"),
        (
            "a PDF without its end",
            {"data": pdf()[:-8], "filename": "a.pdf"},
            422,
            "invalid_file",
            "file",
        ),
        (
            "50 megapixels",
            {"data": bomb.getvalue(), "filename": "a.png"},
            422,
            "invalid_file",
            "file",
        ),
        (
            "a caption over 10,000 characters",
            {"data": jpeg, "body": "x" * (MAX_BODY_CHARS + 1)},
            422,
            "body_too_long",
            "body",
        ),
        ("a note by a customer", {"data": jpeg, "note": True}, 403, "forbidden", None),
        (
            "an invalid client_id",
            {"data": jpeg, "client_id": "kein gültiger"},
            422,
            "validation_error",
            "client_id",
        ),
        # the files are written before the transaction, and removed when it refuses
        (
            "a client_id already used for a text",
            {"data": jpeg, "body": "Text", "client_id": "text-1"},
            409,
            "idempotency_conflict",
            "client_id",
        ),
    ]
    before = (await messages(agent, conv), (await conversation(agent, conv))["last_seq"])
    for what, case, status, code, field in cases:
        form = {k: v for k, v in case.items() if k not in ("data", "filename")}
        r = await upload(customer, conv, case["data"], case.get("filename", "foto.jpg"), **form)
        problem = assert_problem(r, status, code)
        assert problem.get("field") == field, (what, problem)
        assert stored_files(server) == {}, what
        after = (await messages(agent, conv), (await conversation(agent, conv))["last_seq"])
        assert after == before, what
    r = await customer.http.post(f"{API}/conversations/{conv}/attachments", data={"body": "x"})
    assert_problem(r, 422, "validation_error")  # no file at all


async def test_an_upload_streamed_past_the_limit_is_refused(server: Server) -> None:
    """Without a Content-Length, the limit is counted while the body arrives."""
    _, customer, conv = await setup(server)
    boundary = "grenze"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()

    async def body() -> Any:
        yield head
        for _ in range(MAX_UPLOAD_BYTES // (1 << 20) + 2):
            yield bytes(1 << 20)
        yield f"\r\n--{boundary}--\r\n".encode()

    r = await customer.http.post(
        f"{API}/conversations/{conv}/attachments",
        content=body(),
        headers={"content-type": f"multipart/form-data; boundary={boundary}"},
    )
    assert_problem(r, 413, "attachment_too_large")
    assert stored_files(server) == {}
    assert (await conversation(customer, conv))["last_seq"] == 1


async def test_an_upload_is_idempotent_by_client_id(server: Server) -> None:
    agent, customer, conv = await setup(server)
    jpeg = picture((64, 48))
    first = await upload(customer, conv, jpeg, body="Foto", client_id="up-1")
    assert first.status_code == 201, first.text
    files = stored_files(server)
    assert len(files) == 2
    again = await upload(customer, conv, jpeg, body="Foto", client_id="up-1")
    assert again.status_code == 200, again.text
    assert again.json() == first.json()
    assert stored_files(server) == files
    # a different caption under the same client_id is a different message: refused, cleaned up
    r = await upload(customer, conv, jpeg, body="Anderes Foto", client_id="up-1")
    assert_problem(r, 409, "idempotency_conflict")
    assert stored_files(server) == files

    # the same upload sent twice at once (a retry racing the original): one message, one pair
    racing = await asyncio.gather(
        *(upload(customer, conv, jpeg, client_id="up-2") for _ in range(2))
    )
    assert sorted(r.status_code for r in racing) == [200, 201], [r.text for r in racing]
    assert racing[0].json()["id"] == racing[1].json()["id"]
    assert len(stored_files(server)) == 4
    ids = [m["id"] for m in await messages(agent, conv)]
    assert ids == sorted({*ids}) and len(ids) == 3
    assert (await conversation(agent, conv))["last_seq"] == 3


async def test_who_may_fetch_an_attachment(server: Server) -> None:
    acme, bolt = await server.company("acme", "Acme AG"), await server.company("bolt")
    anna = await server.agent(acme, name="Anna Agent")
    otto = await server.agent(acme, name="Otto Agent")
    bot = await server.token_client(acme)
    bert = await server.agent(bolt, name="Bert Agent")
    kim = await server.customer()
    lea = await server.customer()
    conv = (await kim.start_conversation("acme", "Hallo"))["conversation"]["id"]
    await lea.start_conversation("acme", "Hallo auch")
    sock = await kim.ws()
    try:
        photo = (await upload(kim, conv, picture((64, 48)))).json()["attachments"][0]["id"]
        r = await upload(anna, conv, picture((64, 48)), "intern.jpg", note=True, body="Beleg")
        assert r.status_code == 201, r.text
        assert r.json()["kind"] == "note"
        note = r.json()["attachments"][0]["id"]
        reply = await upload(anna, conv, pdf(), "antwort.pdf", "application/pdf")
        assert reply.status_code == 201 and reply.json()["author"]["name"] == "Anna"
        answer = reply.json()["attachments"][0]["id"]
        # the stream is ordered: a note delivered to the customer would come before the answer
        frames = [await sock.wait_for(lambda f: f["type"] == "message.created") for _ in "ab"]
    finally:
        await sock.close()
    # the customer's socket carried the photo and the answer, never the note
    carried = [a["id"] for f in frames for a in f["data"]["attachments"]]
    assert carried == [photo, answer]
    assert note not in {a["id"] for m in await messages(kim, conv) for a in m["attachments"]}

    async def answer_for(c: Client, att: int, rest: str = "") -> tuple[int, Any]:
        r = await c.get(f"{API}/attachments/{att}{rest}")
        return r.status_code, (
            r.json()["code"],
            r.json()["detail"],
        ) if r.status_code != 200 else "ok"

    for rest in ("", "/thumbnail"):
        for c in (anna, otto, bot):  # the company's people see everything in it
            assert [(await answer_for(c, a, rest))[0] for a in (photo, note)] == [200, 200]
        assert (await answer_for(kim, photo, rest))[0] == 200
        missing = await answer_for(kim, GHOST, rest)
        assert missing[0] == 404
        # outsiders, and the customer for a private note: exactly like a missing file
        for c, att in ((kim, note), (lea, photo), (lea, note), (bert, photo), (bert, note)):
            assert await answer_for(c, att, rest) == missing, (c.name, att, rest)
        r = await server.client().get(f"{API}/attachments/{photo}{rest}")
        assert_problem(r, 401, "unauthenticated")
    assert (await answer_for(kim, answer))[0] == 200
