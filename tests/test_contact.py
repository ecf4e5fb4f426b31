"""Contact consent: preferences per company, company-initiated contact refused in the core
without the topic's opt-in, and email notifications through the real server, worker and an
SMTP server on loopback (batched, quiet hours, one-click unsubscribe, text only when chosen)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from eyelevel.clock import FakeClock
from eyelevel.core.ports import UnitOfWork
from eyelevel.storage import schema
from tests.harness import Client, Server, start_server
from tests.smtp_sink import SmtpSink

API = "/api/v1"
SECRET = "Geheimtext-7f3a"  # a canary: the reply's text, never in a mail unless chosen


async def put_contact(c: Client, slug: str, **body: Any) -> httpx.Response:
    payload = {"screen": "privacy_card", "text_version": "contact-1", **body}
    return await c.http.put(f"{API}/me/privacy/{slug}/contact", json=payload)


async def contact(c: Client, slug: str, customer: int, **body: Any) -> httpx.Response:
    payload = {"topic": "news", "subject": "Neu im Sortiment", "body": "Hallo!", **body}
    return await c.post(f"{API}/companies/{slug}/customers/{customer}/conversations", payload)


def problem(r: httpx.Response, status: int, code: str, field: str | None = None) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == code, r.text
    if field is not None:
        assert r.json()["field"] == field, r.text


# -- preferences --------------------------------------------------------------------------------


async def test_preferences_default_change_ledger_and_precise_errors(server: Server) -> None:
    await server.company("acme", "Acme")
    kim = await server.customer(name="Kim")
    r = await kim.get(f"{API}/me/privacy/acme/contact")
    assert r.status_code == 200, r.text
    card = r.json()
    assert (card["topics"], card["channels"], card["quiet_hours"]) == (["replies"], ["email"], None)
    assert (card["include_text"], card["updated_at"]) == (False, None)

    r = await put_contact(
        kim,
        "acme",
        topics={"news": True},
        channels={"push": True},
        quiet_hours={"start": "22:00", "end": "07:00", "time_zone": "Europe/Berlin"},
        include_text=True,
        language="de",
    )
    assert r.status_code == 200, r.text
    card = r.json()
    assert card["topics"] == ["replies", "news"]
    assert card["channels"] == ["push", "email"]
    assert card["quiet_hours"] == {"start": "22:00", "end": "07:00", "time_zone": "Europe/Berlin"}
    assert (card["include_text"], card["language"]) == (True, "de")
    ledger = (await kim.get(f"{API}/me/consents")).json()
    assert sorted((e["action"], e["field"]) for e in ledger) == [
        ("grant", "channel:push"),
        ("grant", "include_text"),
        ("grant", "quiet_hours"),
        ("grant", "topic:news"),
    ]
    assert {(e["screen"], e["text_version"]) for e in ledger} == {("privacy_card", "contact-1")}
    # the same again changes nothing and appends nothing
    r = await put_contact(kim, "acme", topics={"news": True}, channels={"push": True})
    assert r.status_code == 200
    assert len((await kim.get(f"{API}/me/consents")).json()) == 4
    # removing the quiet hours is recorded as well
    r = await put_contact(kim, "acme", quiet_hours=None)
    assert r.json()["quiet_hours"] is None
    assert (await kim.get(f"{API}/me/consents")).json()[0]["field"] == "quiet_hours"

    bad_zone = {"start": "22:00", "end": "07:00", "time_zone": "Mars/Olympus"}
    for body, field in (
        ({"quiet_hours": bad_zone}, "quiet_hours.time_zone"),
        ({"quiet_hours": {**bad_zone, "start": "25:00"}}, "quiet_hours.start"),
        ({"quiet_hours": {**bad_zone, "end": "7 Uhr"}}, "quiet_hours.end"),
        (
            {"quiet_hours": {"start": "08:00", "end": "08:00", "time_zone": "UTC"}},
            "quiet_hours.end",
        ),
        ({"topics": {"replies": False}}, "topics.replies"),
        ({"screen": "Bad Screen!"}, "screen"),
    ):
        problem(await put_contact(kim, "acme", **body), 422, "validation_error", field)
    for body in ({"topics": {"spam": True}}, {"channels": {"sms": True}}, {"language": "fr"}):
        r = await put_contact(kim, "acme", **body)
        problem(r, 422, "validation_error")
        assert r.json()["errors"], r.text  # names the place
    problem(await put_contact(kim, "no-such"), 404, "not_found")


async def test_only_the_customer_sets_preferences_and_the_company_sees_topics_only(
    server: Server,
) -> None:
    company = await server.company("acme", "Acme")
    anna = await server.agent(company)
    kim = await server.customer(name="Kim")
    problem(await anna.get(f"{API}/me/privacy/acme/contact"), 403, "forbidden")
    problem(await put_contact(anna, "acme", topics={"news": True}), 403, "forbidden")
    # no relationship yet: the company cannot even ask
    problem(await anna.get(f"{API}/companies/acme/customers/{kim.id}/contact"), 404, "not_found")
    await kim.start_conversation("acme", "Hallo")
    sock = await anna.ws()
    await put_contact(
        kim,
        "acme",
        topics={"updates": True},
        quiet_hours={"start": "22:00", "end": "07:00", "time_zone": "Europe/Berlin"},
    )
    frame = await sock.wait_for(lambda f: f["type"] == "customer.contact_preferences_changed")
    assert frame["data"] == {
        "customer_id": kim.id,
        "company_id": company.id,
        "topics": ["replies", "updates"],
        "channels": ["email"],
        "changed": ["topic:updates"],
    }
    r = await anna.get(f"{API}/companies/acme/customers/{kim.id}/contact")
    assert r.status_code == 200, r.text
    assert r.json() == {
        "customer_id": kim.id,
        "topics": ["replies", "updates"],
        "channels": ["email"],
    }
    await sock.close()


# -- company-initiated contact --------------------------------------------------------------------


async def test_company_initiated_contact_is_refused_without_the_topics_consent(
    server: Server,
) -> None:
    company = await server.company("acme", "Acme")
    other = await server.company("other", "Other")
    anna = await server.agent(company)
    crm = await server.token_client(company)
    stranger = await server.agent(other)
    kim = await server.customer(name="Kim")
    eve = await server.customer(name="Eve")  # never wrote to acme
    await kim.start_conversation("acme", "Hallo")

    # no opt-in: refused, whoever asks and however
    for caller in (anna, crm):
        for topic in ("news", "updates"):
            r = await contact(caller, "acme", kim.id, topic=topic)
            problem(r, 403, "contact_not_permitted", "topic")
    problem(await contact(anna, "acme", kim.id, topic="replies"), 422, "validation_error")
    problem(await contact(anna, "acme", kim.id, customer_id=kim.id), 422, "validation_error")
    problem(await contact(anna, "acme", eve.id), 404, "not_found")  # no relationship
    problem(await contact(stranger, "acme", kim.id), 404, "not_found")  # another company
    problem(await contact(kim, "acme", kim.id), 404, "not_found")  # a customer: no member
    listed = (await kim.get(f"{API}/conversations")).json()["items"]
    assert len(listed) == 1  # nothing was created by the refusals

    # opted into news: news is allowed, updates still not
    assert (await put_contact(kim, "acme", topics={"news": True})).status_code == 200
    problem(await contact(anna, "acme", kim.id, topic="updates"), 403, "contact_not_permitted")
    r = await contact(anna, "acme", kim.id, topic="news", client_id="news-1")
    assert r.status_code == 201, r.text
    started = r.json()
    assert started["conversation"]["customer_id"] == kim.id
    assert started["message"]["kind"] == "agent"
    again = await contact(anna, "acme", kim.id, topic="news", client_id="news-1")
    assert again.status_code == 200
    assert again.json()["conversation"]["id"] == started["conversation"]["id"]
    r = await contact(crm, "acme", kim.id, topic="news", notification_only=True)
    assert r.status_code == 201, r.text
    assert r.json()["conversation"]["status"] == "resolved"
    assert r.json()["message"]["kind"] == "bot"
    mine = {c["id"] for c in (await kim.get(f"{API}/conversations")).json()["items"]}
    assert started["conversation"]["id"] in mine and r.json()["conversation"]["id"] in mine

    # revoked: refused again
    await put_contact(kim, "acme", topics={"news": False})
    problem(await contact(crm, "acme", kim.id, topic="news"), 403, "contact_not_permitted")


# -- email notifications --------------------------------------------------------------------------


async def _count(srv: Server, table: Any, *where: Any) -> int:
    async def read(uow: UnitOfWork) -> int:
        conn = uow.jobs._c  # type: ignore[attr-defined]
        stmt = select(func.count()).select_from(table).where(*where)
        return int((await conn.execute(stmt)).scalar_one())

    return await srv.runtime.db.read(read)


async def settle(srv: Server, clock: FakeClock) -> None:
    """Until the worker has run every job that is due at the fake clock's time."""
    j = schema.jobs.c
    for _ in range(500):
        if await _count(srv, schema.jobs, j.run_at <= clock.now()) == 0:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the worker did not run the due jobs")


def notices(sink: SmtpSink) -> list[EmailMessage]:
    return [m for m in sink.mails if m["List-Unsubscribe"]]


def text_of(mail: EmailMessage) -> str:
    part = mail.get_body(("plain",))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


async def _world(srv: Server) -> tuple[Client, Client, int]:
    company = await srv.company("acme", "Acme")
    anna = await srv.agent(company, name="Anna Agent")
    kim = await srv.customer(name="Kim")
    cid = (await kim.start_conversation("acme", "Wo ist mein Paket?"))["conversation"]["id"]
    return anna, kim, cid


async def test_email_notification_batched_without_text_and_one_click_unsubscribe(
    db_url: str, tmp_path: Path
) -> None:
    clock = FakeClock(datetime.now(UTC).replace(microsecond=0))  # cookies expire in real time
    with SmtpSink() as sink:
        async with start_server(db_url, tmp_path, clock=clock, smtp_url=sink.url) as srv:
            anna, kim, cid = await _world(srv)
            await put_contact(kim, "acme", language="en")
            assert (await anna.send(cid, f"Erste Antwort {SECRET}")).status_code == 201
            assert (await anna.send(cid, "interne Notiz", note=True)).status_code == 201
            assert (await anna.send(cid, f"Zweite Antwort {SECRET}")).status_code == 201
            await settle(srv, clock)
            assert notices(sink) == []  # the batching window is still open
            clock.advance(timedelta(minutes=3))
            await settle(srv, clock)
            [mail] = notices(sink)  # two replies, one mail; the note is nobody's business
            assert mail["To"] == (await kim.get(f"{API}/me/profile")).json()["email"]
            assert mail["Subject"] == "2 new replies from Acme"
            body = text_of(mail)
            assert SECRET not in mail.as_string() and SECRET not in body
            assert f"{srv.url}/#/chat/{cid}" in body
            unsubscribe = str(mail["List-Unsubscribe"]).strip().strip("<>")
            assert unsubscribe.startswith(f"{srv.url}/unsubscribe/")
            assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
            assert "@" not in unsubscribe  # no address in the link
            n = schema.notifications.c
            assert await _count(srv, schema.notifications, n.state == "sent") == 2

            # the page only asks; the one-click POST, without any login, turns email off
            async with httpx.AsyncClient() as anonymous:
                page = await anonymous.get(unsubscribe, headers={"Accept-Language": "de"})
                assert page.status_code == 200 and "Acme" in page.text
                assert "<form method=post" in page.text
                forged = await anonymous.post(unsubscribe[:-4] + "0000")
                assert forged.status_code == 400
                r = await anonymous.post(
                    unsubscribe,
                    content=b"List-Unsubscribe=One-Click",
                    headers={"Content-Type": "application/x-www-form-urlencoded"},
                )
                assert r.status_code == 200, r.text
            card = (await kim.get(f"{API}/me/privacy/acme/contact")).json()
            assert card["channels"] == []
            entry = (await kim.get(f"{API}/me/consents")).json()[0]
            assert (entry["action"], entry["field"], entry["screen"]) == (
                "revoke",
                "channel:email",
                "email",
            )

            assert (await anna.send(cid, "Dritte Antwort")).status_code == 201
            await settle(srv, clock)
            clock.advance(timedelta(minutes=10))
            await settle(srv, clock)
            assert len(notices(sink)) == 1  # no mail after unsubscribing
            assert await _count(srv, schema.notifications) == 2


async def test_quiet_hours_hold_then_deliver_and_a_read_reply_is_never_sent(
    db_url: str, tmp_path: Path
) -> None:
    # tomorrow 09:00 UTC = 18:00 in Tokyo (no daylight saving time there)
    tomorrow = datetime.now(UTC).date() + timedelta(days=1)
    clock = FakeClock(datetime.combine(tomorrow, time(9, 0), tzinfo=UTC))
    with SmtpSink() as sink:
        async with start_server(db_url, tmp_path, clock=clock, smtp_url=sink.url) as srv:
            anna, kim, cid = await _world(srv)
            other = (await kim.start_conversation("acme", "Und die Rechnung?"))["conversation"]
            quiet = {"start": "17:30", "end": "19:00", "time_zone": "Asia/Tokyo"}
            r = await put_contact(kim, "acme", quiet_hours=quiet, include_text=True)
            assert r.status_code == 200, r.text
            assert (await anna.send(cid, f"Antwort {SECRET}")).status_code == 201
            sent = await anna.send(other["id"], "Die Rechnung kommt per Post")
            assert sent.status_code == 201
            await settle(srv, clock)
            clock.advance(timedelta(minutes=30))  # 18:30 in Tokyo: quiet
            await settle(srv, clock)
            assert notices(sink) == []
            # the customer reads the second reply during the quiet hours
            r = await kim.post(
                f"{API}/conversations/{other['id']}/read", {"seq": sent.json()["seq"]}
            )
            assert r.status_code == 200, r.text
            clock.advance(timedelta(minutes=31))  # 19:01 in Tokyo: the quiet hours are over
            await settle(srv, clock)
            [mail] = notices(sink)
            assert mail["Subject"].startswith("Neue Antwort von Acme / New reply from Acme")
            body = text_of(mail)
            assert f"> Antwort {SECRET}" in body  # the customer chose to get the text
            assert "Rechnung" not in mail.as_string()  # read before: never sent
            n = schema.notifications.c
            assert await _count(srv, schema.notifications, n.state == "read") == 1
            clock.advance(timedelta(days=1))
            await settle(srv, clock)
            assert len(notices(sink)) == 1  # and never twice
