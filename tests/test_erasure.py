"""Erasure (docs/privacy.md, *Erasure*) through a real server, with canaries.

Kim has canary values in every personal field (email, display name, first and last name,
phone, address, customer number), in her messages with two companies, in an agent's reply to
her, in a file's name and content, in a data export, in shares (whose webhook payloads carry
them). She erases her account through the API; then no canary is left in any text or JSON
column of any table of the schema, in any stored file, or in anything logged — while Eve's
canaries (another customer) and the companies' own data are untouched. ``customer.erased``
reaches a webhook receiver, signed and valid against its schema. A wrong password erases
nothing. A conversation under legal hold keeps its content, restricted (admins only, in no
list or search, read-only), until the hold is lifted: then it goes too.
"""

from __future__ import annotations

import asyncio
import io
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

import aiosmtplib
import httpx
import pytest
import websockets
from sqlalchemy import JSON, String, Text, select

from eyelevel.clock import FakeClock
from eyelevel.core.entities import Role
from eyelevel.storage import erasure as storage_erasure
from eyelevel.storage import schema
from tests.harness import PASSWORD, Client, Server, free_socket, start_server
from tests.test_log_hygiene import captured, uvicorn_into_root
from tests.webhook_receiver import Receiver, receiver, validate, verify

__all__ = ["captured"]  # the fixture, imported to be used here

API = "/api/v1"
CARD = {"screen": "privacy_card", "text_version": "privacy-card-1"}
INBOUND = "service@acme.example"
ALWAYS = {d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
LOOPBACK = {
    "webhook_allow_http": True,
    "webhook_allowed_networks": ["127.0.0.1/32"],
    "webhook_timeout_seconds": 0.5,
}


def canaries(who: str) -> dict[str, str]:
    tag = uuid.uuid4().hex[:8]
    return {
        "email": f"{who}-canary-{tag}@example.org",
        "name": f"{who.title()}canary{tag}",
        "first_name": f"Firstcanary{who}{tag}",
        "last_name": f"Lastcanary{who}{tag}",
        "phone": f"+49 30 {int(tag, 16) % 10_000_000:07d}",
        "address": f"Canarystrasse {who}{tag}\n10115 Berlin",
        "number": f"CN-{who}-{tag}",
        "acme_message": f"Acmemessagecanary{who}{tag}",
        "bolt_message": f"Boltmessagecanary{who}{tag}",
        "reply": f"Replycanary{who}{tag}",
        "file_name": f"Filenamecanary{who}{tag}",
        "file_text": f"Filecontentcanary{who}{tag}",
        "held": f"Heldcanary{who}{tag}",
        # the newer features: a mail, a callback, a complaint case
        "mail_subject": f"Mailsubjectcanary{who}{tag}",
        "mail_body": f"Mailbodycanary{who}{tag}",
        "callback_note": f"Callbacknotecanary{who}{tag}",
        "product": f"Productcanary{who}{tag}",
        "reference": f"Referencecanary{who}{tag}",
        "promise": f"Promisecanary{who}{tag}",
        "goodwill_note": f"Goodwillnotecanary{who}{tag}",
    }


def pdf(text: str) -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
        + f"% {text}\n".encode()
        + b"trailer << /Root 1 0 R >>\n%%EOF\n"
    )


def ok(r: httpx.Response, status: int = 200) -> Any:
    assert r.status_code == status, r.text
    return r.json() if r.content else None


def refused(r: httpx.Response, status: int, code: str) -> None:
    assert r.status_code == status, r.text
    assert r.json()["code"] == code, r.text


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
async def srv(db_url: str, tmp_path: Path, clock: FakeClock) -> AsyncIterator[Server]:
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()
    async with start_server(
        db_url, tmp_path, clock=clock, smtp_listen=f"127.0.0.1:{port}", **LOOPBACK
    ) as server:
        yield server


@dataclass
class Person:
    client: Client
    values: dict[str, str]
    acme_conv: int
    bolt_conv: int
    mail_conv: int = 0
    callback_id: int = 0


@dataclass
class World:
    kim: Person
    eve: Person
    acme_admin: Client
    acme_lead: Client
    acme_agent: Client
    bolt_agent: Client
    hook: dict[str, Any]


async def person(srv: Server, w_agent: Client, b_agent: Client, who: str) -> Person:
    v = canaries(who)
    c = await srv.customer(v["email"], name=v["name"])
    profile = {k: v[k] for k in ("first_name", "last_name", "phone", "address")}
    ok(await c.http.put(f"{API}/me/profile", json=profile))
    fields = {"first_name": True, "last_name": True, "phone": True, "email": True}
    ok(await c.http.put(f"{API}/me/privacy/acme", json={"fields": fields, **CARD}))
    ok(
        await c.http.put(
            f"{API}/me/privacy/bolt",
            json={
                "fields": {"customer_number": True, "address": True},
                "customer_number": v["number"],
                "set_customer_number": True,
                **CARD,
            },
        )
    )
    started = await c.start_conversation("acme", v["acme_message"])
    acme_conv = started["conversation"]["id"]
    ok(await w_agent.send(acme_conv, f"{v['reply']} für {v['first_name']}"), 201)
    ok(await w_agent.send(acme_conv, f"intern: {v['phone']}", note=True), 201)
    r = await c.http.post(
        f"{API}/conversations/{acme_conv}/attachments",
        files={"file": (f"{v['file_name']}.pdf", pdf(v["file_text"]), "application/pdf")},
        data={"body": ""},
    )
    ok(r, 201)
    bolt_conv = (await c.start_conversation("bolt", v["bolt_message"]))["conversation"]["id"]
    ok(await b_agent.send(bolt_conv, v["reply"]), 201)
    return Person(c, v, acme_conv, bolt_conv)


async def newer_features(srv: Server, p: Person, agent: Client, lead: Client, slot: int) -> None:
    """The person's canaries through the features added after erasure: a mail from their
    address (an email conversation, answered by mail), a callback with a note, and a
    complaint case with product, reference, a granted promise and an internal note."""
    v = p.values
    msg = EmailMessage()
    msg["From"] = f"{v['name']} <{v['email']}>"
    msg["To"] = INBOUND
    msg["Subject"] = v["mail_subject"]
    msg["Message-ID"] = make_msgid(domain="example.org")
    msg.set_content(v["mail_body"])
    host, port = str(srv.settings.smtp_listen).rsplit(":", 1)
    await aiosmtplib.send(
        msg, hostname=host, port=int(port), sender=v["email"], recipients=[INBOUND]
    )
    mine = ok(await p.client.get(f"{API}/conversations", params={"limit": 200}))["items"]
    p.mail_conv = next(c["id"] for c in mine if c["subject"] == v["mail_subject"])
    ok(await agent.send(p.mail_conv, f"{v['reply']} per Mail"), 201)

    slots = ok(await p.client.get(f"{API}/conversations/{p.acme_conv}/callbacks/slots"))
    booking = {"start": slots["items"][slot]["start"], "note": v["callback_note"]}
    p.callback_id = ok(
        await p.client.post(f"{API}/conversations/{p.acme_conv}/callbacks", booking), 201
    )["id"]

    facts = {
        "product": v["product"],
        "reference": v["reference"],
        "category": "Küche",
        "requested_remedy": "replacement",
        "amount_cents": 4999,
    }
    ok(await agent.post(f"{API}/conversations/{p.acme_conv}/complaint", facts), 201)
    step = {
        "kind": "granted",
        "remedy": "replacement",
        "amount_cents": 4999,
        "promise": v["promise"],
        "note": v["goodwill_note"],
    }
    ok(await lead.post(f"{API}/conversations/{p.acme_conv}/complaint/steps", step))


async def build_world(srv: Server, rx: Receiver) -> World:
    acme = await srv.company("acme", "Acme AG")
    bolt = await srv.company("bolt", "Bolt GmbH")
    acme_admin = await srv.agent(acme, role=Role.ADMIN, name="Ada Admin")
    acme_lead = await srv.agent(acme, role=Role.LEAD, name="Lea Lead")
    acme_agent = await srv.agent(acme, name="Anna Acme")
    bolt_agent = await srv.agent(bolt, name="Bea Bolt")
    body = {
        "url": rx.url,
        "event_types": ["customer.erased", "message.created", "customer.shared_fields_changed"],
        "description": "CRM",
    }
    hook = ok(await acme_admin.post(f"{API}/companies/acme/webhooks", body), 201)
    # mail to acme's inbound address, callbacks around the clock without lead time
    ok(
        await acme_admin.http.put(
            f"{API}/companies/acme/mail-addresses", json={"addresses": [INBOUND]}
        )
    )
    ok(await acme_admin.http.patch(f"{API}/companies/acme", json={"business_hours": ALWAYS}))
    offer = {"slot_minutes": 30, "days_ahead": 2, "lead_minutes": 0, "all_agents": True}
    ok(await acme_admin.http.put(f"{API}/companies/acme/callback-settings", json=offer))
    kim = await person(srv, acme_agent, bolt_agent, "kim")
    eve = await person(srv, acme_agent, bolt_agent, "eve")
    # the last slots: no reminder comes due while the test runs
    await newer_features(srv, kim, acme_agent, acme_lead, -1)
    await newer_features(srv, eve, acme_agent, acme_lead, -2)
    return World(kim, eve, acme_admin, acme_lead, acme_agent, bolt_agent, hook)


async def export_ready(c: Client) -> None:
    export_id = ok(await c.post(f"{API}/me/exports", {}), 202)["id"]
    for _ in range(500):
        found = {e["id"]: e for e in ok(await c.get(f"{API}/me/exports"))}
        if found[export_id]["state"] == "ready":
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the export never became ready")


async def database_text(srv: Server) -> str:
    """Every text and JSON value of every table of the schema, lower-cased, one per line."""
    out: list[str] = []
    async with srv.runtime.db.read_engine.connect() as conn:
        for table in schema.metadata.sorted_tables:
            cols = [c for c in table.c if isinstance(c.type, String | Text | JSON)]
            if not cols:
                continue
            for row in await conn.execute(select(*cols)):
                for value in row:
                    if value is not None:
                        text = value if isinstance(value, str) else json.dumps(value)
                        out.append(f"{table.name}: {text}".lower())
    return "\n".join(out)


def files_content(srv: Server) -> list[tuple[str, bytes]]:
    root = srv.settings.data_dir / "files"
    return [(str(p.relative_to(root)), p.read_bytes()) for p in root.rglob("*") if p.is_file()]


def found_in(values: dict[str, str], text: str, blobs: list[tuple[str, bytes]]) -> list[str]:
    """The canaries of ``values`` found in the database text or in a stored file (its name
    or content)."""
    hits = []
    for key, value in values.items():
        needle = value.lower()
        if needle in text or any(
            needle in name.lower() or needle.encode() in data.lower() for name, data in blobs
        ):
            hits.append(key)
    return hits


async def jobs_settled(srv: Server) -> None:
    """Until no job is due on the server's clock (the worker deletes a job after running it)."""
    for _ in range(500):
        now = srv.runtime.ctx.clock.now()
        async with srv.runtime.db.read_engine.connect() as conn:
            q = select(schema.jobs.c.id).where(schema.jobs.c.run_at <= now)
            if not (await conn.execute(q)).first():
                return
        await asyncio.sleep(0.02)
    raise AssertionError("due jobs were never run")


async def erased_hook(rx: Receiver, secret: str, clock: FakeClock) -> dict[str, Any]:
    for _ in range(500):
        for req in rx.requests:
            payload = verify(secret, clock, req)
            if payload["type"] == "customer.erased":
                return payload
        await asyncio.sleep(0.02)
    raise AssertionError("customer.erased never arrived")


async def test_erasure_leaves_no_canary_in_database_files_or_logs(
    captured: io.StringIO, srv: Server, clock: FakeClock
) -> None:
    with uvicorn_into_root():
        async with receiver() as rx:
            w = await build_world(srv, rx)
            kim, eve = w.kim, w.eve
            await export_ready(kim.client)
            await jobs_settled(srv)
            text, blobs = await database_text(srv), files_content(srv)
            # the world really holds every canary where it should be found
            assert set(found_in(kim.values, text, blobs)) >= set(kim.values) - {"held"}
            before_files = {name for name, _ in blobs}

            # a wrong or missing password erases nothing
            refused(
                await kim.client.post(f"{API}/me/erasure", {"password": "wrong-pass-1"}),
                401,
                "invalid_credentials",
            )
            refused(await kim.client.post(f"{API}/me/erasure", {}), 401, "invalid_credentials")
            refused(
                await w.acme_admin.post(f"{API}/me/erasure", {"password": PASSWORD}),
                403,
                "forbidden",
            )
            assert await database_text(srv) == text
            assert {n for n, _ in files_content(srv)} == before_files

            headers = kim.client.ws_headers()
            async with websockets.connect(srv.ws_url, additional_headers=headers) as sock:
                assert json.loads(await sock.recv())["type"] == "hello"
                r = await kim.client.post(f"{API}/me/erasure", {"password": PASSWORD})
                assert ok(r) == {"erased_conversations": 3, "held_conversations": 0}
                assert "eyelevel_session" in r.headers.get("set-cookie", "")
                with pytest.raises(websockets.ConnectionClosed) as closed:
                    for _ in range(100):
                        await asyncio.wait_for(sock.recv(), 5)
                assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401

            refused(await kim.client.get(f"{API}/auth/me"), 401, "unauthenticated")
            login = {"kind": "customer", "email": kim.values["email"], "password": PASSWORD}
            refused(await srv.client().post(f"{API}/auth/login", login), 401, "invalid_credentials")
            refused(
                await w.acme_agent.get(f"{API}/conversations/{kim.acme_conv}"), 404, "not_found"
            )

            payload = await erased_hook(rx, w.hook["secret"], clock)
            validate(payload)
            assert payload["data"] == {
                "customer": {"id": kim.client.id},
                "erased_conversation_ids": sorted([kim.acme_conv, kim.mail_conv]),
                "held_conversation_ids": [],
            }
            await jobs_settled(srv)
            # the agents' search finds nothing of Kim's, Eve's is still found
            for agent, key in ((w.acme_agent, "acme_message"), (w.bolt_agent, "bolt_message")):
                slug = "acme" if agent is w.acme_agent else "bolt"
                params = {"q": kim.values[key]}
                hits = ok(await agent.get(f"{API}/companies/{slug}/search", params=params))
                assert hits["items"] == []
                params = {"q": eve.values[key]}
                hits = ok(await agent.get(f"{API}/companies/{slug}/search", params=params))
                assert [h["conversation_id"] for h in hits["items"]] == [
                    eve.acme_conv if slug == "acme" else eve.bolt_conv
                ]

            text, blobs = await database_text(srv), files_content(srv)
            assert found_in(kim.values, text, blobs) == []
            assert set(found_in(eve.values, text, blobs)) >= set(eve.values) - {"held"}
            # what the companies own stays: Eve's conversations read as before
            conv = ok(await w.acme_agent.get(f"{API}/conversations/{eve.acme_conv}"))
            assert conv["customer"]["name"] == eve.values["name"]

    logged = captured.getvalue().lower()
    assert logged  # something was captured, so the scan means something
    leaked = [k for k, v in {**kim.values, **eve.values}.items() if v.lower() in logged]
    assert leaked == []


async def test_a_held_conversation_is_restricted_then_erased_when_the_hold_ends(
    srv: Server, clock: FakeClock
) -> None:
    async with receiver() as rx:
        w = await build_world(srv, rx)
        kim = w.kim
        held = kim.acme_conv
        ok(await kim.client.send(held, kim.values["held"]), 201)
        path = f"{API}/conversations/{held}/legal-hold"
        refused(await w.acme_agent.http.put(path, json={"reason": "Klage"}), 403, "forbidden")
        refused(await w.acme_lead.http.put(path, json={"reason": " "}), 422, "validation_error")
        refused(await kim.client.http.put(path, json={"reason": "Klage"}), 404, "not_found")
        hold = ok(await w.acme_lead.http.put(path, json={"reason": "Klage 12 O 345/26"}))
        assert hold["reason"] == "Klage 12 O 345/26" and hold["restricted"] is False
        assert ok(await w.acme_agent.get(path))["created_by"] == f"agent:{w.acme_lead.id}"

        ok(await kim.client.post(f"{API}/me/erasure", {"password": PASSWORD}))
        payload = await erased_hook(rx, w.hook["secret"], clock)
        validate(payload)
        assert payload["data"]["held_conversation_ids"] == [held]
        assert payload["data"]["erased_conversation_ids"] == [kim.mail_conv]
        await jobs_settled(srv)

        # restricted: missing to agents and leads, in no list or search; admins read only
        for who in (w.acme_agent, w.acme_lead):
            refused(await who.get(f"{API}/conversations/{held}"), 404, "not_found")
            refused(await who.get(f"{API}/conversations/{held}/messages"), 404, "not_found")
        conv = ok(await w.acme_admin.get(f"{API}/conversations/{held}"))
        assert conv["customer"]["erased"] is True and conv["customer"]["name"] == ""
        bodies = [
            m["body"]
            for m in ok(await w.acme_admin.get(f"{API}/conversations/{held}/messages"))["items"]
        ]
        assert kim.values["held"] in bodies
        refused(await w.acme_admin.send(held, "noch da?"), 409, "conversation_restricted")
        listed = ok(await w.acme_admin.get(f"{API}/conversations", params={"limit": 200}))
        assert held not in [c["id"] for c in listed["items"]]
        hits = ok(
            await w.acme_admin.get(f"{API}/companies/acme/search", params={"q": kim.values["held"]})
        )
        assert hits["items"] == []
        holds = ok(await w.acme_admin.get(f"{API}/companies/acme/legal-holds"))
        assert [(h["conversation_id"], h["restricted"]) for h in holds] == [(held, True)]
        assert ok(await w.acme_lead.get(f"{API}/companies/acme/legal-holds")) == []

        # everything else of Kim's is gone; the held content is all that is left
        text, blobs = await database_text(srv), files_content(srv)
        left = set(found_in(kim.values, text, blobs))
        # the held conversation's own content: messages (the reply names her, the note her
        # phone), the author name, the file
        kept = {"held", "acme_message", "reply", "first_name", "phone", "name"}
        kept |= {"file_name", "file_text"}
        # its complaint case and the case's trail stay with it; its callback does not (the
        # phone's grant is gone, nobody calls an erased customer)
        kept |= {"product", "reference", "promise", "goodwill_note"}
        assert left <= kept and {"held", "product"} <= left
        # a restricted conversation's case is in no list, not even an admin's
        for who in (w.acme_agent, w.acme_lead, w.acme_admin):
            cases = ok(await who.get(f"{API}/companies/acme/complaints"))
            assert held not in [c["conversation_id"] for c in cases]
            assert w.eve.acme_conv in [c["conversation_id"] for c in cases]
        # and no pending job acts on it any more (its callback's reminder and check)
        async with srv.runtime.db.read_engine.connect() as conn:
            j = schema.jobs.c
            q = select(j.kind).where(
                (j.payload["callback_id"].as_integer() == kim.callback_id)
                | (j.payload["conversation_id"].as_integer() == held)
            )
            assert (await conn.execute(q)).scalars().all() == []
        assert {"email", "address", "number", "last_name", "bolt_message"}.isdisjoint(left)

        # the hold ends: what was pending is erased now
        refused(await w.acme_lead.delete(path), 404, "not_found")  # a lead cannot see it now
        assert ok(await w.acme_admin.delete(path)) == {"erased": True}
        refused(await w.acme_admin.get(f"{API}/conversations/{held}"), 404, "not_found")
        refused(await w.acme_admin.delete(path), 404, "not_found")
        await jobs_settled(srv)
        text, blobs = await database_text(srv), files_content(srv)
        assert found_in(kim.values, text, blobs) == []
        audit = ok(await w.acme_admin.get(f"{API}/companies/acme/audit"))["items"]
        actions = [(a["action"], a["target"]) for a in audit if a["action"].startswith("legal")]
        assert actions == [
            ("legal_hold.lifted", f"conversation:{held}"),
            ("legal_hold.set", f"conversation:{held}"),
        ]


async def test_a_hold_without_erasure_is_simply_lifted(srv: Server) -> None:
    acme = await srv.company("acme", "Acme AG")
    lead = await srv.agent(acme, role=Role.LEAD)
    kim = await srv.customer()
    conv = (await kim.start_conversation("acme", "Hallo"))["conversation"]["id"]
    path = f"{API}/conversations/{conv}/legal-hold"
    refused(await lead.get(path), 404, "not_found")
    ok(await lead.http.put(path, json={"reason": "Prüfung"}))
    assert ok(await lead.http.put(path, json={"reason": "Neu"}))["reason"] == "Neu"
    assert ok(await lead.delete(path)) == {"erased": False}
    assert ok(await lead.get(f"{API}/conversations/{conv}"))["id"] == conv


async def test_a_visitor_erases_without_a_password_and_erasing_is_idempotent(
    srv: Server,
) -> None:
    await srv.company("acme", "Acme AG")
    visitor = srv.client("customer")
    made = ok(await visitor.post(f"{API}/auth/visitor", {"display_name": "Besucherin"}), 201)
    visitor.token = made["token"]
    await visitor.start_conversation("acme", "Hallo vom Widget")
    assert ok(await visitor.post(f"{API}/me/erasure", {})) == {
        "erased_conversations": 1,
        "held_conversations": 0,
    }
    refused(await visitor.post(f"{API}/me/erasure", {}), 401, "unauthenticated")
    from eyelevel.core.actions.erasure import do_erase_customer
    from eyelevel.core.ids import CustomerId

    again = await do_erase_customer(srv.runtime.ctx, CustomerId(made["customer_id"]))
    assert (again.erased, again.held) == (0, 0)


def test_every_table_naming_a_customer_is_erased_or_kept_on_purpose() -> None:
    """A table added later (push subscriptions …) must be covered: by a foreign key to the
    customer (deleted), by name (CUSTOMER_OWNED), with the conversations, or kept on purpose."""
    by_fk = {table.name for table, _ in storage_erasure.foreign_key_tables()}
    by_name = {name for name, _ in storage_erasure.CUSTOMER_OWNED}
    covered = (
        by_fk | by_name | storage_erasure.KEPT_WITH_CONVERSATIONS | storage_erasure.KEPT_ON_PURPOSE
    )
    naming = {
        table.name
        for table in schema.metadata.sorted_tables
        if any("customer" in c.name for c in table.c)
        or any(fk.column.table is schema.customers for fk in table.foreign_keys)
    }
    assert naming - covered == set()
    assert {"customer_profiles", "customer_numbers", "sharing_grants", "data_exports"} <= by_fk
