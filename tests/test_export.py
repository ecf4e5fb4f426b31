"""The customer's data export (docs/privacy.md, *Export*), through a real server.

A customer with conversations at two companies, a file, grants, a customer number and ledger
entries asks for an export; the job builds the ZIP; it holds all of this customer's data (the
file byte for byte) and validates against the published schema, while canary values of another
customer and of the companies' internals (private notes, a note's file, who owns the
conversation, labels) appear nowhere in it. Nobody else can download it; after 24 hours (a
FakeClock) it answers 410 and the file is gone from the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

import aiosmtplib
import httpx
import jsonschema
import pytest
from PIL import Image

from eyelevel.clock import FakeClock
from eyelevel.core.entities import Role
from eyelevel.jobs.worker import Worker, handlers
from tests.harness import Client, Server, free_socket, start_server

API = "/api/v1"
SCHEMA = json.loads(
    (Path(__file__).parent.parent / "docs" / "privacy" / "export.schema.json").read_text()
)
CARD = {"screen": "privacy_card", "text_version": "privacy-card-1"}

# what must be in Kim's export
KIM_OPENING = "Hallo Acme, meine Bestellung 4711 kam beschädigt an"
KIM_REPLY = "Wir schicken Ersatz, Kim!"
KIM_BOLT = "Hallo Bolt, wo bleibt meine Rechnung?"
KIM_BOLT_REPLY = "Die Rechnung kommt heute"
KIM_PHONE = "+49 30 5550199"
KIM_ADDRESS = "Lindenweg 7\n10115 Berlin"
KIM_NUMBER = "B-000-4711"

# what must never be in it
CANARIES = {
    "acme private note": "CANARY-NOTE-acme-7f3a",
    "bolt private note": "CANARY-NOTE-bolt-91c2",
    "note file name": "canarynotefile",
    "other customer's message": "CANARY-EVE-MESSAGE-55d1",
    "other customer's email": "eve-canary-3b7e@example.org",
    "other customer's name": "Eve Canarywoman",
    "other customer's phone": "+49 40 9998877",
    "owner agent's name": "Olga Ownercanary",
    "label": "CanaryLabel",
}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
async def srv(db_url: str, tmp_path: Path, clock: FakeClock) -> AsyncIterator[Server]:
    async with start_server(db_url, tmp_path, clock=clock) as server:
        yield server


def ok(r: httpx.Response, status: int = 200) -> Any:
    assert r.status_code == status, r.text
    return r.json()


def refused(r: httpx.Response, status: int, code: str) -> None:
    assert r.status_code == status, r.text
    assert r.json()["code"] == code, r.text


def jpeg(color: tuple[int, int, int]) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), color).save(buf, "JPEG")
    return buf.getvalue()


async def upload(c: Client, cid: int, name: str, *, note: bool = False) -> dict[str, Any]:
    data = {"body": "", "note": "true"} if note else {"body": ""}
    r = await c.http.post(
        f"{API}/conversations/{cid}/attachments",
        files={"file": (name, jpeg((200, 30, 30) if note else (20, 90, 200)), "image/jpeg")},
        data=data,
    )
    return dict(ok(r, 201))


async def wait_for_state(c: Client, export_id: int, state: str) -> dict[str, Any]:
    """Polls the list until the job has moved the export to ``state`` (the worker runs in the
    server; no fixed sleeps)."""
    for _ in range(500):
        found = {e["id"]: e for e in ok(await c.get(f"{API}/me/exports"))}
        if found[export_id]["state"] == state:
            return dict(found[export_id])
        await asyncio.sleep(0.02)
    raise AssertionError(f"export {export_id} never became {state}: {found[export_id]}")


@contextlib.asynccontextmanager
async def worker_running(worker: Worker) -> AsyncIterator[None]:
    """The job worker in the background for a while (the sign-up's verification mail)."""
    task = asyncio.create_task(worker.run_forever())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@dataclass
class World:
    kim: Client
    eve: Client
    acme_agent: Client
    bolt_agent: Client
    bolt_token: Client
    acme_conv: int
    bolt_conv: int
    photo: bytes  # the stored bytes of Kim's photo, as the API serves them
    photo_id: int


async def build_world(srv: Server) -> World:
    acme = await srv.company("acme", "Acme AG")
    bolt = await srv.company("bolt", "Bolt GmbH")
    acme_agent = await srv.agent(acme, name="Anna Acme")
    bolt_agent = await srv.agent(bolt, name="Bea Bolt")
    owner = await srv.agent(bolt, name=CANARIES["owner agent's name"])
    bolt_admin = await srv.agent(bolt, name="Bob Admin", role=Role.ADMIN)
    bolt_token = await srv.token_client(bolt)
    kim = await srv.customer(name="Kim Kunde")
    eve = await srv.customer(
        email=CANARIES["other customer's email"], name=CANARIES["other customer's name"]
    )

    profile = {
        "first_name": "Kim",
        "last_name": "Kundenfrau",
        "phone": KIM_PHONE,
        "address": KIM_ADDRESS,
    }
    ok(await kim.http.put(f"{API}/me/profile", json=profile))
    ok(await kim.http.put(f"{API}/me/privacy/acme", json={"fields": {"phone": True}, **CARD}))
    ok(await kim.http.put(f"{API}/me/privacy/acme", json={"fields": {"phone": False}, **CARD}))
    ok(
        await kim.http.put(
            f"{API}/me/privacy/bolt",
            json={
                "fields": {"first_name": True, "customer_number": True},
                "customer_number": KIM_NUMBER,
                "set_customer_number": True,
                **CARD,
            },
        )
    )
    ok(await eve.http.put(f"{API}/me/profile", json={"phone": CANARIES["other customer's phone"]}))
    ok(await eve.http.put(f"{API}/me/privacy/acme", json={"fields": {"phone": True}, **CARD}))

    acme_conv = (await kim.start_conversation("acme", KIM_OPENING))["conversation"]["id"]
    ok(await acme_agent.send(acme_conv, KIM_REPLY), 201)
    ok(await acme_agent.send(acme_conv, CANARIES["acme private note"], note=True), 201)
    photo = await upload(kim, acme_conv, "Schaden am Paket.jpg")
    await upload(acme_agent, acme_conv, f"{CANARIES['note file name']}.jpg", note=True)
    photo_id = photo["attachments"][0]["id"]
    r = await kim.get(f"{API}/attachments/{photo_id}")
    assert r.status_code == 200

    bolt_conv = (await kim.start_conversation("bolt", KIM_BOLT))["conversation"]["id"]
    ok(await bolt_agent.send(bolt_conv, KIM_BOLT_REPLY), 201)
    ok(await bolt_agent.send(bolt_conv, CANARIES["bolt private note"], note=True), 201)
    ok(await bolt_agent.post(f"{API}/conversations/{bolt_conv}/assignment", {"agent_id": owner.id}))
    label = ok(
        await bolt_admin.post(
            f"{API}/companies/bolt/labels", {"name": CANARIES["label"], "color": "#d93f0b"}
        ),
        201,
    )
    ok(
        await bolt_agent.http.put(
            f"{API}/conversations/{bolt_conv}/labels", json={"label_ids": [label["id"]]}
        )
    )

    eve_conv = (await eve.start_conversation("acme", CANARIES["other customer's message"]))[
        "conversation"
    ]["id"]
    ok(await acme_agent.send(eve_conv, "Hallo Eve"), 201)
    return World(
        kim, eve, acme_agent, bolt_agent, bolt_token, acme_conv, bolt_conv, r.content, photo_id
    )


async def test_the_export_holds_exactly_my_data(srv: Server, clock: FakeClock) -> None:
    w = await build_world(srv)
    kim = w.kim

    pending = ok(await kim.post(f"{API}/me/exports", {}), 202)
    assert pending["state"] == "pending" and set(pending) >= {"id", "created_at"}
    export_id = pending["id"]
    ready = await wait_for_state(kim, export_id, "ready")
    assert ready["size"] > 0 and ready["ready_at"] is not None
    expires = datetime.fromisoformat(ready["expires_at"].replace("Z", "+00:00"))
    assert expires == datetime.fromisoformat(ready["ready_at"].replace("Z", "+00:00")) + timedelta(
        hours=24
    )

    # nobody else gets it: another customer reads it as missing, company principals are refused
    download = f"{API}/me/exports/{export_id}/download"
    refused(await w.eve.get(download), 404, "not_found")
    refused(await w.eve.get(f"{API}/me/exports/987654321/download"), 404, "not_found")
    refused(await w.acme_agent.get(download), 403, "forbidden")
    refused(await w.bolt_token.get(download), 403, "forbidden")
    refused(await w.acme_agent.post(f"{API}/me/exports", {}), 403, "forbidden")
    refused(await w.bolt_token.get(f"{API}/me/exports"), 403, "forbidden")
    assert ok(await w.eve.get(f"{API}/me/exports")) == []
    anonymous = srv.client()
    refused(await anonymous.get(download), 401, "unauthenticated")

    r = await kim.get(download)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/zip"
    assert r.headers["content-disposition"].startswith("attachment;")
    assert len(r.content) == ready["size"]
    archive = zipfile.ZipFile(io.BytesIO(r.content))
    names = archive.namelist()
    photo_path = f"attachments/{w.photo_id}-Schaden am Paket.jpg"
    assert sorted(names) == sorted(["README.txt", "export.json", photo_path]), names
    assert archive.read(photo_path) == w.photo  # byte for byte what the customer sees

    readme = archive.read("README.txt").decode()
    assert "DEUTSCH" in readme and "ENGLISH" in readme and "export.json" in readme

    doc = json.loads(archive.read("export.json"))
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    jsonschema.validate(doc, SCHEMA, cls=jsonschema.Draft202012Validator)

    me = ok(await kim.get(f"{API}/me/profile"))
    assert doc["account"]["id"] == kim.id and doc["account"]["display_name"] == "Kim Kunde"
    assert doc["account"]["email"] == me["email"]
    assert doc["profile"] == {
        "first_name": "Kim",
        "last_name": "Kundenfrau",
        "phone": KIM_PHONE,
        "address": KIM_ADDRESS,
    }
    companies = {c["slug"]: c for c in doc["companies"]}
    assert set(companies) == {"acme", "bolt"}
    assert companies["acme"]["shared"] == [] and companies["acme"]["customer_number"] is None
    assert [s["field"] for s in companies["bolt"]["shared"]] == ["first_name", "customer_number"]
    assert companies["bolt"]["customer_number"] == KIM_NUMBER

    # the ledger: every entry the customer reads in the messenger, oldest first
    ledger = ok(await kim.get(f"{API}/me/consents"))
    assert [(e["id"], e["action"], e["field"]) for e in reversed(ledger)] == [
        (e["id"], e["action"], e["field"]) for e in doc["consent_ledger"]
    ]
    assert [(e["action"], e["field"]) for e in doc["consent_ledger"]] == [
        ("grant", "phone"),
        ("revoke", "phone"),
        ("grant", "first_name"),
        ("grant", "customer_number"),
    ]

    # every conversation, every message the customer sees (as the API shows them to her)
    conversations = {c["id"]: c for c in doc["conversations"]}
    assert set(conversations) == {w.acme_conv, w.bolt_conv}
    for cid in (w.acme_conv, w.bolt_conv):
        seen = ok(await kim.get(f"{API}/conversations/{cid}/messages?limit=200"))["items"]
        exported = conversations[cid]["messages"]
        assert [(m["id"], m["seq"], m["body"]) for m in exported] == [
            (m["id"], m["seq"], m["body"]) for m in seen
        ]
        assert all(m["kind"] != "note" for m in exported)
    bodies = [m["body"] for c in doc["conversations"] for m in c["messages"]]
    assert {KIM_OPENING, KIM_REPLY, KIM_BOLT, KIM_BOLT_REPLY} <= set(bodies)
    files = [a for c in doc["conversations"] for m in c["messages"] for a in m["attachments"]]
    assert [(a["id"], a["file"]) for a in files] == [(w.photo_id, photo_path)]
    assert conversations[w.bolt_conv]["company_id"] == companies["bolt"]["id"]

    # no canary anywhere: neither in the raw archive nor in any file in it
    texts = [r.content, *(archive.read(n) for n in names)]
    for what, canary in CANARIES.items():
        for blob in texts:
            assert canary.encode() not in blob, f"{what} leaked into the export"

    # after 24 hours: 410, and the file is gone from the store
    stored = srv.settings.data_dir / "files" / "exports"
    assert len(list(stored.iterdir())) == 1
    clock.advance(timedelta(hours=24, seconds=1))
    refused(await kim.get(download), 410, "export_expired")
    expired = await wait_for_state(kim, export_id, "expired")
    assert expired["size"] is None
    for _ in range(500):  # the cleanup job runs in the background
        if not list(stored.iterdir()):
            break
        await asyncio.sleep(0.02)
    assert list(stored.iterdir()) == []
    refused(await kim.get(download), 410, "export_expired")


async def test_one_pending_export_and_three_a_day(
    db_url: str, tmp_path: Path, clock: FakeClock
) -> None:
    """The worker is driven by hand here, so "pending" lasts exactly as long as we want."""
    async with start_server(db_url, tmp_path, clock=clock, run_worker=False) as srv:
        worker = Worker(srv.runtime.ctx, handlers(srv.mailer, srv.runtime.ctx), idle_seconds=0.02)
        acme = await srv.company("acme", "Acme AG")
        await srv.agent(acme)
        async with worker_running(worker):
            kim = await srv.customer()
        await kim.start_conversation("acme", "Hallo")
        made = []
        for _ in range(3):
            export = ok(await kim.post(f"{API}/me/exports"), 202)
            made.append(export["id"])
            refused(await kim.post(f"{API}/me/exports", {}), 409, "export_pending")
            refused(
                await kim.get(f"{API}/me/exports/{export['id']}/download"), 409, "export_not_ready"
            )
            await worker.run_once()
            await wait_for_state(kim, export["id"], "ready")
        refused(await kim.post(f"{API}/me/exports", {}), 429, "export_limit")
        listed = ok(await kim.get(f"{API}/me/exports"))
        assert [e["id"] for e in listed] == list(reversed(made))
        assert all(e["state"] == "ready" for e in listed)
        # an unknown body field is refused before anything happens
        refused(await kim.post(f"{API}/me/exports", {"customer_id": 1}), 422, "validation_error")

        clock.advance(timedelta(hours=24, seconds=1))
        fresh = ok(await kim.post(f"{API}/me/exports", {}), 202)
        await worker.run_once()  # builds the new one and expires the three old ones
        assert [e["state"] for e in ok(await kim.get(f"{API}/me/exports"))] == [
            "ready",
            "expired",
            "expired",
            "expired",
        ]
        stored = srv.settings.data_dir / "files" / "exports"
        assert len(list(stored.iterdir())) == 1
        r = await kim.get(f"{API}/me/exports/{fresh['id']}/download")
        assert r.status_code == 200 and zipfile.ZipFile(io.BytesIO(r.content)).testzip() is None


async def test_a_stuck_export_fails_and_frees_the_way(
    db_url: str, tmp_path: Path, clock: FakeClock
) -> None:
    async with start_server(db_url, tmp_path, clock=clock, run_worker=False) as srv:
        worker = Worker(srv.runtime.ctx, handlers(srv.mailer, srv.runtime.ctx), idle_seconds=0.02)
        async with worker_running(worker):
            kim = await srv.customer()
        stuck = ok(await kim.post(f"{API}/me/exports", {}), 202)
        clock.advance(timedelta(hours=1, seconds=1))  # the job never ran in time
        assert ok(await kim.get(f"{API}/me/exports"))[0]["state"] == "failed"
        refused(await kim.get(f"{API}/me/exports/{stuck['id']}/download"), 409, "export_not_ready")
        fresh = ok(await kim.post(f"{API}/me/exports", {}), 202)
        await worker.run_once()
        states = {e["id"]: e["state"] for e in ok(await kim.get(f"{API}/me/exports"))}
        assert states == {fresh["id"]: "ready", stuck["id"]: "failed"}
        assert len(list((srv.settings.data_dir / "files" / "exports").iterdir())) == 1


# -- the newer features: mail, topics and routing, callbacks, complaints -------------------------

INBOUND = "service@acme.example"
ALWAYS = {d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
KIM_MAIL = "Per Mail: das Kabel fehlt"
KIM_CALLBACK_NOTE = "Bitte nach 17 Uhr anrufen"
KIM_PRODUCT = "Wasserkocher WK-9"
KIM_PROMISE = "Der Ersatz geht morgen raus"
INTERNALS = {
    "routing rule name": "CanaryRoutingRule",
    "goodwill rule name": "CanaryGoodwillRule",
    "goodwill note": "CANARY-GOODWILL-NOTE-1a2b",
    "proposal awaiting approval": "CANARY-PENDING-PROMISE-3c4d",
    "call summary": "CANARY-CALL-SUMMARY-5e6f",
    "case note": "CANARY-CASE-NOTE-7a8b",
}


async def test_the_export_holds_my_mail_callbacks_and_complaints(
    db_url: str, tmp_path: Path, clock: FakeClock
) -> None:
    """The right of access covers the newer features: an email conversation with the address
    it came from, the topic chosen, the customer's callbacks with their note, and complaint
    cases as the customer sees them (a granted promise yes; the goodwill rules, the trail's
    notes, a proposal awaiting approval, the call's summary and the routing rule never)."""
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()
    async with start_server(db_url, tmp_path, clock=clock, smtp_listen=f"127.0.0.1:{port}") as srv:
        acme = await srv.company("acme", "Acme AG")
        admin = await srv.agent(acme, role=Role.ADMIN, name="Ada Admin")
        agent = await srv.agent(acme, name="Anna Acme")
        kim = await srv.customer(name="Kim Kunde")
        email = ok(await kim.get(f"{API}/me/profile"))["email"]
        base = f"{API}/companies/acme"
        ok(await admin.http.patch(base, json={"business_hours": ALWAYS}))
        offer = {"slot_minutes": 30, "days_ahead": 2, "lead_minutes": 0, "all_agents": True}
        ok(await admin.http.put(f"{base}/callback-settings", json=offer))
        ok(await admin.http.put(f"{base}/mail-addresses", json={"addresses": [INBOUND]}))
        topic = ok(await admin.post(f"{base}/conversation-topics", {"name": "Reklamation"}), 201)
        team = ok(await admin.post(f"{base}/teams", {"name": "Service"}), 201)
        rule = {"name": INTERNALS["routing rule name"], "team_id": team["id"], "conditions": {}}
        ok(await admin.post(f"{base}/routing-rules", rule), 201)
        policy = {
            "rules": [
                {
                    "name": INTERNALS["goodwill rule name"],
                    "agent_remedies": ["voucher"],
                    "agent_max_amount_cents": 1000,
                }
            ]
        }
        ok(await admin.http.put(f"{base}/goodwill-policy", json=policy))

        # a conversation with a topic, a callback (done, with an internal summary) and a case
        # whose proposal awaits a lead
        started = await kim.start_conversation(
            "acme", "Der Wasserkocher leckt", topic_id=topic["id"]
        )
        cid = started["conversation"]["id"]
        slots = ok(await kim.get(f"{API}/conversations/{cid}/callbacks/slots"))["items"]
        booking = {"start": slots[-1]["start"], "phone": KIM_PHONE, "note": KIM_CALLBACK_NOTE}
        callback = ok(await kim.post(f"{API}/conversations/{cid}/callbacks", booking), 201)
        ok(await agent.post(f"{API}/callbacks/{callback['id']}/start"))
        outcome = {"reached": True, "duration_seconds": 120, "summary": INTERNALS["call summary"]}
        ok(await agent.post(f"{API}/callbacks/{callback['id']}/outcome", outcome))
        facts = {
            "product": KIM_PRODUCT,
            "reference": "Bestellung 4711",
            "category": "Küche",
            "requested_remedy": "replacement",
            "amount_cents": 3999,
        }
        ok(await agent.post(f"{API}/conversations/{cid}/complaint", facts), 201)
        proposal = {
            "kind": "approval_requested",
            "remedy": "replacement",
            "amount_cents": 3999,
            "promise": INTERNALS["proposal awaiting approval"],
            "note": INTERNALS["goodwill note"],
        }
        ok(await agent.post(f"{API}/conversations/{cid}/complaint/steps", proposal))

        # a mail from her address, answered by mail, with a granted promise
        mail = EmailMessage()
        mail["From"], mail["To"], mail["Subject"] = email, INBOUND, "Kabel fehlt"
        mail["Message-ID"] = make_msgid(domain="example.org")
        mail.set_content(KIM_MAIL)
        await aiosmtplib.send(mail, hostname="127.0.0.1", port=port, recipients=[INBOUND])
        mine = ok(await kim.get(f"{API}/conversations"))["items"]
        mail_cid = next(c["id"] for c in mine if c["subject"] == "Kabel fehlt")
        ok(await agent.send(mail_cid, "Wir schicken es nach."), 201)
        ok(await agent.post(f"{API}/conversations/{mail_cid}/complaint", facts), 201)
        granted = {
            "kind": "granted",
            "remedy": "replacement",
            "amount_cents": 3999,
            "promise": KIM_PROMISE,
            "note": INTERNALS["case note"],
        }
        ok(await admin.post(f"{API}/conversations/{mail_cid}/complaint/steps", granted))

        export_id = ok(await kim.post(f"{API}/me/exports", {}), 202)["id"]
        await wait_for_state(kim, export_id, "ready")
        r = await kim.get(f"{API}/me/exports/{export_id}/download")
        assert r.status_code == 200, r.text
        archive = zipfile.ZipFile(io.BytesIO(r.content))
        doc = json.loads(archive.read("export.json"))
        jsonschema.validate(doc, SCHEMA, cls=jsonschema.Draft202012Validator)
        conversations = {c["id"]: c for c in doc["conversations"]}

        web = conversations[cid]
        assert (web["channel"], web["email"], web["topic"]) == ("messenger", None, "Reklamation")
        (cb,) = web["callbacks"]
        assert (cb["id"], cb["state"], cb["note"], cb["outcome"]) == (
            callback["id"],
            "done",
            KIM_CALLBACK_NOTE,
            "reached",
        )
        assert cb["slot_start"] == callback["slot_start"]
        case = web["complaint"]
        assert (case["product"], case["state"]) == (KIM_PRODUCT, "approval_pending")
        assert (case["promise"], case["promise_due"]) == ("", None)

        by_mail = conversations[mail_cid]
        assert by_mail["channel"] == "email"
        assert by_mail["email"] == {"address": email, "company_address": INBOUND}
        assert by_mail["callbacks"] == [] and by_mail["topic"] is None
        assert KIM_MAIL in [m["body"] for m in by_mail["messages"]]
        assert (by_mail["complaint"]["state"], by_mail["complaint"]["promise"]) == (
            "granted",
            KIM_PROMISE,
        )
        # the customer's view of the case through the API is what the export holds
        seen = ok(await kim.get(f"{API}/conversations/{mail_cid}/complaint"))
        for key in ("product", "reference", "state", "promise", "granted_remedy"):
            assert by_mail["complaint"][key] == seen[key], key

        texts = [r.content, *(archive.read(n) for n in archive.namelist())]
        for what, canary in INTERNALS.items():
            for blob in texts:
                assert canary.encode() not in blob, f"{what} leaked into the export"
