"""Retention (docs/privacy.md, *Retention*) through a real server with a FakeClock.

Acme keeps resolved conversations 30 days. After 31 days the daily job (run by the server's
worker) deletes exactly the one resolved 31 days ago — with its messages, note, mention,
attachment (and the file on disk), labels, read markers, events and search entries — and spares
one resolved 29 days ago, one the customer reopened meanwhile, one never resolved, and every
conversation of Bolt, which keeps everything. The sidebar counts still equal a fresh count; a
second run changes nothing.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

import aiosmtplib
import httpx
import pytest
from PIL import Image
from sqlalchemy import func, select

from eyelevel.clock import FakeClock
from eyelevel.core.actions import retention
from eyelevel.core.entities import Role
from eyelevel.storage import schema
from tests.harness import PASSWORD, Client, Server, free_socket, start_server

API = "/api/v1"
DUE_TEXT = "Kuckucksuhr Retentionstest"
KIM = "kim-retention@example.org"
LENA = "lena-retention@example.org"
KEPT_TEXT = "Standuhr Aufbewahrung"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
async def srv(db_url: str, tmp_path: Path, clock: FakeClock) -> AsyncIterator[Server]:
    async with start_server(db_url, tmp_path, clock=clock) as server:
        yield server


def ok(r: httpx.Response, status: int = 200) -> Any:
    assert r.status_code == status, r.text
    return r.json() if r.content else None


def refused(r: httpx.Response, status: int, code: str, field: str | None = None) -> None:
    assert r.status_code == status, r.text
    assert r.json()["code"] == code, r.text
    if field is not None:  # named by the core, or by the schema (a value no int field takes)
        body = r.json()
        named = {body.get("field")} | {e["loc"][-1] for e in body.get("errors", [])}
        assert field in named, r.text


def jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (20, 90, 200)).save(buf, "JPEG")
    return buf.getvalue()


async def login(srv: Server, email: str) -> Client:
    """A new session (sessions end long before 30 days have passed on the FakeClock)."""
    c = srv.client("agent")
    ok(await c.post(f"{API}/auth/login", {"kind": "agent", "email": email, "password": PASSWORD}))
    return c


async def set_status(c: Client, cid: int, status: str) -> None:
    ok(await c.post(f"{API}/conversations/{cid}/status", {"status": status}))


async def search(c: Client, slug: str, q: str) -> list[int]:
    r = ok(await c.get(f"{API}/companies/{slug}/search", params={"q": q}))
    return [i["conversation_id"] for i in r["items"]]


async def rows_of(srv: Server, cid: int) -> dict[str, int]:
    """How many rows of each table belong to conversation ``cid``."""
    out: dict[str, int] = {}
    async with srv.runtime.db.read_engine.connect() as conn:
        for table in (
            schema.conversations,
            schema.messages,
            schema.attachments,
            schema.mentions,
            schema.conversation_mentions,
            schema.conversation_labels,
            schema.read_markers,
            schema.events,
        ):
            col = table.c.id if table is schema.conversations else table.c.conversation_id
            q = select(func.count()).select_from(table).where(col == cid)
            out[table.name] = int((await conn.execute(q)).scalar_one())
        j = schema.jobs.c
        q = select(func.count()).where(j.payload["conversation_id"].as_integer() == cid)
        out["jobs"] = int((await conn.execute(q)).scalar_one())
    return out


async def snapshot(srv: Server) -> dict[str, Any]:
    """Every row of every table but the job queue (the worker moves it), and the files."""
    state: dict[str, Any] = {}
    async with srv.runtime.db.read_engine.connect() as conn:
        for table in schema.metadata.sorted_tables:
            if table.name == "jobs":
                continue
            order = list(table.primary_key.columns) or list(table.c)
            state[table.name] = [
                tuple(r) for r in await conn.execute(select(table).order_by(*order))
            ]
    files = srv.settings.data_dir / "files"
    state["files"] = sorted(str(p.relative_to(files)) for p in files.rglob("*") if p.is_file())
    return state


async def counts_equal_a_fresh_count(srv: Server) -> None:
    n, cv = schema.conversation_counts.c, schema.conversations.c
    agent, team = func.coalesce(cv.owner_agent_id, 0), func.coalesce(cv.owner_team_id, 0)
    key = (cv.company_id, cv.status, agent, team)
    async with srv.runtime.db.read_engine.connect() as conn:
        kept = {
            tuple(r[:4]): r[4]
            for r in await conn.execute(
                select(n.company_id, n.status, n.owner_agent_id, n.owner_team_id, n.n)
            )
            if r[4] != 0
        }
        counted = {
            tuple(r[:4]): r[4]
            for r in await conn.execute(select(*key, func.count()).group_by(*key))
        }
    assert kept == counted


async def retention_jobs(srv: Server) -> list[datetime]:
    async with srv.runtime.db.read_engine.connect() as conn:
        q = select(schema.jobs.c.run_at).where(schema.jobs.c.kind == retention.RUN)
        return sorted(r[0] for r in await conn.execute(q))


async def worker_caught_up(srv: Server) -> None:
    """Until no job is due on the server's clock (the worker deletes a job after running it)."""
    for _ in range(500):
        now = srv.runtime.ctx.clock.now()
        async with srv.runtime.db.read_engine.connect() as conn:
            q = select(func.count()).select_from(schema.jobs).where(schema.jobs.c.run_at <= now)
            if int((await conn.execute(q)).scalar_one()) == 0:
                return
        await asyncio.sleep(0.02)
    raise AssertionError("due jobs were never run")


async def test_retention_deletes_exactly_what_is_due(srv: Server, clock: FakeClock) -> None:
    acme = await srv.company("acme", "Acme AG")
    bolt = await srv.company("bolt", "Bolt GmbH")
    admin = await srv.agent(acme, role=Role.ADMIN, name="Otto Admin")
    anna = await srv.agent(acme, "anna@acme.example", name="Anna Agent")
    bolt_agent = await srv.agent(bolt, "bea@bolt.example", name="Bea Bolt")
    kim = await srv.customer(name="Kim Kunde")
    await worker_caught_up(srv)
    assert len(await retention_jobs(srv)) == 1  # queued at the worker's start, run, re-queued

    card = ok(await admin.http.patch(f"{API}/companies/acme", json={"retention_days": 30}))
    assert card["retention_days"] == 30
    label = ok(
        await admin.post(f"{API}/companies/acme/labels", {"name": "Alt", "color": "#d93f0b"}), 201
    )

    # the one that will be due: messages, a note mentioning Anna, a file, a label, read markers
    due = (await kim.start_conversation("acme", f"{DUE_TEXT} ist kaputt"))["conversation"]["id"]
    ok(await anna.send(due, "Wir kümmern uns"), 201)
    ok(await admin.send(due, "@Anna bitte", note=True, mentions=[anna.id]), 201)
    upload = await kim.http.post(
        f"{API}/conversations/{due}/attachments",
        files={"file": ("foto.jpg", jpeg(), "image/jpeg")},
        data={"body": ""},
    )
    ok(upload, 201)
    ok(await anna.http.put(f"{API}/conversations/{due}/labels", json={"label_ids": [label["id"]]}))
    ok(await anna.post(f"{API}/conversations/{due}/read", {"seq": 2}))
    ok(await kim.post(f"{API}/conversations/{due}/read", {"seq": 2}))
    await set_status(anna, due, "resolved")

    reopened = (await kim.start_conversation("acme", f"{KEPT_TEXT} eins"))["conversation"]["id"]
    await set_status(anna, reopened, "resolved")
    never = (await kim.start_conversation("acme", f"{KEPT_TEXT} zwei"))["conversation"]["id"]
    at_bolt = (await kim.start_conversation("bolt", f"{DUE_TEXT} bei Bolt"))["conversation"]["id"]
    await set_status(bolt_agent, at_bolt, "resolved")

    # two days later: the customer reopens one, another is resolved (29 days old at the run)
    clock.advance(timedelta(days=2))
    await worker_caught_up(srv)
    ok(await kim.send(reopened, "Doch noch eine Frage"), 201)
    young = (await kim.start_conversation("acme", f"{KEPT_TEXT} drei"))["conversation"]["id"]
    await set_status(anna, young, "resolved")

    before = {cid: await rows_of(srv, cid) for cid in (due, reopened, never, young, at_bolt)}
    assert all(before[due][t] > 0 for t in before[due] if t != "jobs"), before[due]
    async with srv.runtime.db.read_engine.connect() as conn:
        a = schema.attachments.c
        keys = [
            k
            for r in await conn.execute(
                select(a.storage_key, a.thumbnail_key).where(a.conversation_id == due)
            )
            for k in r
            if k
        ]
    files = srv.settings.data_dir / "files"
    assert keys and all((files / k).is_file() for k in keys)
    assert await search(anna, "acme", "Kuckucksuhr") == [due]
    kept_views = {
        cid: ok(await anna.get(f"{API}/conversations/{cid}/messages", params={"limit": 200}))
        for cid in (reopened, never, young)
    }

    # 31 days after the first resolution: the daily run is due and the worker runs it
    clock.advance(timedelta(days=29, minutes=1))
    await worker_caught_up(srv)
    anna = await login(srv, "anna@acme.example")
    bolt_agent = await login(srv, "bea@bolt.example")

    refused(await anna.get(f"{API}/conversations/{due}"), 404, "not_found")
    assert await rows_of(srv, due) == dict.fromkeys(before[due], 0)
    assert not any((files / k).exists() for k in keys)
    assert await search(anna, "acme", "Kuckucksuhr") == []
    assert await search(bolt_agent, "bolt", "Kuckucksuhr") == [at_bolt]  # Bolt keeps it
    for cid in (reopened, never, young, at_bolt):
        assert await rows_of(srv, cid) == before[cid], cid
    for cid, view in kept_views.items():
        assert (
            ok(await anna.get(f"{API}/conversations/{cid}/messages", params={"limit": 200})) == view
        )
    await counts_equal_a_fresh_count(srv)
    assert len(await retention_jobs(srv)) == 1  # the next day's run, once

    # a second run (and a worker starting again) changes nothing
    state = await snapshot(srv)
    result = await retention.check_run_retention(srv.runtime.ctx)
    assert (result.conversations, result.files_failed, result.more) == (0, 0, False)
    await retention.ensure_scheduled(srv.runtime.ctx)
    assert await snapshot(srv) == state
    assert len(await retention_jobs(srv)) == 1


async def test_a_reopened_conversation_resolved_again_restarts_its_clock(
    srv: Server, clock: FakeClock
) -> None:
    acme = await srv.company("acme", "Acme AG")
    admin = await srv.agent(acme, "otto@acme.example", role=Role.ADMIN, name="Otto Admin")
    kim = await srv.customer(name="Kim Kunde")
    ok(await admin.http.patch(f"{API}/companies/acme", json={"retention_days": 30}))
    cid = (await kim.start_conversation("acme", "Hallo"))["conversation"]["id"]
    await set_status(admin, cid, "resolved")
    clock.advance(timedelta(days=20))
    ok(await kim.send(cid, "Noch etwas"), 201)  # reopens
    await set_status(admin, cid, "resolved")
    clock.advance(timedelta(days=15))  # 35 days after the first resolution, 15 after the last
    result = await retention.check_run_retention(srv.runtime.ctx)
    assert result.conversations == 0
    admin = await login(srv, "otto@acme.example")
    ok(await admin.get(f"{API}/conversations/{cid}"))
    clock.advance(timedelta(days=16))
    result = await retention.check_run_retention(srv.runtime.ctx)
    assert result.conversations == 1
    admin = await login(srv, "otto@acme.example")
    refused(await admin.get(f"{API}/conversations/{cid}"), 404, "not_found")


async def test_retention_days_is_set_by_admins_within_limits(srv: Server) -> None:
    acme = await srv.company("acme", "Acme AG")
    admin = await srv.agent(acme, role=Role.ADMIN, name="Otto Admin")
    agent = await srv.agent(acme, name="Anna Agent")
    path = f"{API}/companies/acme"
    assert ok(await srv.client().get(path))["retention_days"] is None  # keeps for ever

    refused(await agent.http.patch(path, json={"retention_days": 90}), 403, "forbidden")
    for bad in (29, 0, -1, 3651, 2**40, "neunzig", 30.5, True):
        r = await admin.http.patch(path, json={"retention_days": bad})
        refused(r, 422, "validation_error", "retention_days")
    assert ok(await srv.client().get(path))["retention_days"] is None

    for good in (30, 3650, None):
        assert (
            ok(await admin.http.patch(path, json={"retention_days": good}))["retention_days"]
            == good
        )
    ok(await admin.http.patch(path, json={"retention_days": 365}))
    assert ok(await srv.client().get(path))["retention_days"] == 365  # customers see it

    async with srv.runtime.db.read_engine.connect() as conn:
        al = schema.audit_log.c
        rows = await conn.execute(
            select(al.action, al.data, al.actor).where(al.company_id == acme.id).order_by(al.id)
        )
        entries = [(r.action, r.data, r.actor) for r in rows if r.action == "company.updated"]
    assert entries == [("company.updated", {"fields": ["retention_days"]}, f"agent:{admin.id}")] * 4


async def test_retention_takes_the_newer_features_with_the_conversation(
    db_url: str, tmp_path: Path, clock: FakeClock
) -> None:
    """A due conversation goes with its complaint case and the case's trail, its callback and
    the callback's pending reminder and missed-slot check; a due email conversation with its
    thread (the customer's address, the Message-IDs), and an email-only customer's address and
    name with their last conversation. A promise still open spares its conversation."""
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()
    async with start_server(db_url, tmp_path, clock=clock, smtp_listen=f"127.0.0.1:{port}") as srv:
        acme = await srv.company("acme", "Acme AG")
        admin = await srv.agent(acme, "otto@acme.example", role=Role.ADMIN, name="Otto Admin")
        kim = await srv.customer(KIM, name="Kim Kunde")
        await worker_caught_up(srv)
        always = {
            d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
        }
        settings = {"retention_days": 30, "business_hours": always}
        ok(await admin.http.patch(f"{API}/companies/acme", json=settings))
        offer = {"slot_minutes": 30, "days_ahead": 5, "lead_minutes": 0, "all_agents": True}
        ok(await admin.http.put(f"{API}/companies/acme/callback-settings", json=offer))
        inbound = {"addresses": ["service@acme.example"]}
        ok(await admin.http.put(f"{API}/companies/acme/mail-addresses", json=inbound))

        facts = {
            "product": "Toaster T2",
            "reference": "4711",
            "category": "Küche",
            "requested_remedy": "replacement",
            "amount_cents": 4999,
        }
        grant = {"kind": "granted", "remedy": "replacement", "amount_cents": 4999}
        grant["promise"] = "Ersatz kommt"
        convs = {}
        for key in ("kept promise", "open promise", "callback"):
            started = await kim.start_conversation("acme", f"{DUE_TEXT} {key}")
            convs[key] = started["conversation"]["id"]
        for key in ("kept promise", "open promise"):
            path = f"{API}/conversations/{convs[key]}/complaint"
            ok(await admin.post(path, facts), 201)
            ok(await admin.post(f"{path}/steps", grant))
        path = f"{API}/conversations/{convs['kept promise']}/complaint/steps"
        ok(await admin.post(path, {"kind": "fulfilled"}))
        # an email conversation, answered by mail
        mail = EmailMessage()
        mail["From"], mail["To"], mail["Subject"] = KIM, "service@acme.example", "Per Mail"
        mail["Message-ID"] = make_msgid(domain="example.org")
        mail.set_content(f"{DUE_TEXT} per Mail")
        await aiosmtplib.send(
            mail, hostname="127.0.0.1", port=port, recipients=["service@acme.example"]
        )
        mine = ok(await kim.get(f"{API}/conversations"))["items"]
        convs["mail"] = next(c["id"] for c in mine if c["subject"] == "Per Mail")
        # and one from an address no account has verified: an email-only customer
        mail = EmailMessage()
        mail["From"], mail["To"] = f"Lena Mailkundin <{LENA}>", "service@acme.example"
        mail["Subject"], mail["Message-ID"] = "Ohne Konto", make_msgid(domain="example.org")
        mail.set_content(f"{DUE_TEXT} ohne Konto")
        await aiosmtplib.send(
            mail, hostname="127.0.0.1", port=port, recipients=["service@acme.example"]
        )
        listed = ok(await admin.get(f"{API}/conversations"))["items"]
        convs["email-only"] = next(c["id"] for c in listed if c["subject"] == "Ohne Konto")
        ok(await admin.send(convs["mail"], "Antwort per Mail"), 201)
        for c in convs.values():
            await set_status(admin, c, "resolved")
        await worker_caught_up(srv)

        # 29 days later the customer books callbacks in two resolved conversations (their
        # reminders and checks lie beyond the retention run) and cancels one of them
        clock.advance(timedelta(days=29))
        await worker_caught_up(srv)
        kim = srv.client("customer")
        creds = {"kind": "customer", "email": KIM, "password": PASSWORD}
        ok(await kim.post(f"{API}/auth/login", creds))
        callbacks = {}
        for key, slot in (("kept promise", -1), ("callback", -2)):
            cid = convs[key]
            slots = ok(await kim.get(f"{API}/conversations/{cid}/callbacks/slots"))["items"]
            booking = {"start": slots[slot]["start"], "phone": "+49 30 5550199", "note": "abends"}
            path = f"{API}/conversations/{cid}/callbacks"
            callbacks[key] = ok(await kim.post(path, booking), 201)["id"]
        ok(await kim.post(f"{API}/callbacks/{callbacks['kept promise']}/cancel"))
        due = [convs["kept promise"], convs["mail"], convs["email-only"]]

        async def rows() -> dict[str, int]:
            out: dict[str, int] = {}
            async with srv.runtime.db.read_engine.connect() as conn:
                for table in (
                    schema.complaint_cases,
                    schema.callbacks,
                    schema.email_conversations,
                    schema.email_message_ids,
                ):
                    q = select(func.count()).where(table.c.conversation_id.in_(due))
                    out[table.name] = int((await conn.execute(q)).scalar_one())
                cc, st = schema.complaint_cases.c, schema.complaint_steps.c
                q = select(func.count()).where(
                    st.case_id.in_(select(cc.id).where(cc.conversation_id.in_(due)))
                )
                out["complaint_steps"] = int((await conn.execute(q)).scalar_one())
                j = schema.jobs.c
                q = select(func.count()).where(
                    j.payload["callback_id"].as_integer() == callbacks["kept promise"]
                )
                out["callback jobs"] = int((await conn.execute(q)).scalar_one())
                # the email-only customer's address and the name from the mail
                q = select(func.count()).where(schema.email_senders.c.address == LENA)
                out["email_senders"] = int((await conn.execute(q)).scalar_one())
                q = select(func.count()).where(schema.customers.c.display_name == "Lena Mailkundin")
                out["customers"] = int((await conn.execute(q)).scalar_one())
            return out

        before = await rows()
        assert all(n > 0 for n in before.values()), before

        clock.advance(timedelta(days=2))
        await worker_caught_up(srv)
        admin = await login(srv, "otto@acme.example")
        for c in due:
            refused(await admin.get(f"{API}/conversations/{c}"), 404, "not_found")
        assert await rows() == dict.fromkeys(before, 0)
        # a promise still open spares its conversation: a granted remedy not yet fulfilled,
        # a callback still booked
        for key in ("open promise", "callback"):
            assert ok(await admin.get(f"{API}/conversations/{convs[key]}"))["status"] == "resolved"
