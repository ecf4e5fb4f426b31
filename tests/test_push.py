"""Web push end to end: the real server's worker sends to a push endpoint on loopback, which
decrypts each notification with the subscription's own keys and checks the VAPID signature
against the key the server serves.

The loopback endpoint is reachable only because the operator settings allow http and
127.0.0.1/32 for push explicitly; the server runs on a fake clock, so retries take no time.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from eyelevel import logs
from eyelevel.clock import FakeClock
from eyelevel.core.actions import push as push_actions
from eyelevel.core.entities import Company
from eyelevel.core.ids import ConversationId, CustomerId
from eyelevel.core.push import PushNotice
from eyelevel.push.sender import WebPushSender
from eyelevel.storage import schema as t
from tests.harness import Client, Server, start_server
from tests.push_service import Device, b64url, unb64url, verify_vapid
from tests.webhook_receiver import Answer, Receiver, receiver

API = "/api/v1"
LOOPBACK = {
    "push_allow_http": True,
    "push_allowed_networks": ["127.0.0.1/32"],
    "push_timeout_seconds": 5,  # generous: a loaded machine must not turn an answer into a retry
}
TEXT = "Ihr Paket ist unterwegs, Sendungsnummer 4711"


@contextlib.asynccontextmanager
async def world(
    db_url: str, tmp_path: Path
) -> AsyncIterator[tuple[Server, FakeClock, Company, Receiver]]:
    clock = FakeClock(datetime.now(UTC).replace(microsecond=0))
    async with (
        start_server(db_url, tmp_path, clock=clock, **LOOPBACK) as srv,
        receiver() as rx,
    ):
        company = await srv.company("acme", "Acme GmbH")
        yield srv, clock, company, rx


def device(rx: Receiver, name: str) -> Device:
    return Device(f"http://127.0.0.1:{rx.port}/push/{name}")


async def subscribe(c: Client, d: Device, **extra: Any) -> dict[str, Any]:
    r = await c.post(f"{API}/me/push-subscriptions", d.subscription(**extra))
    assert r.status_code == 201, r.text
    return dict(r.json())


async def devices(c: Client) -> list[dict[str, Any]]:
    r = await c.get(f"{API}/me/push-subscriptions")
    assert r.status_code == 200, r.text
    return list(r.json())


async def notify(
    srv: Server, company: Company, customer: Client, conv_id: int, *, include_text: bool = False
) -> int:
    return await push_actions.queue_push(
        srv.runtime.ctx,
        CustomerId(customer.id),
        company,
        PushNotice("reply", ConversationId(conv_id), TEXT),
        include_text,
    )


async def push_jobs(srv: Server) -> list[dict[str, Any]]:
    j = t.jobs.c
    async with srv.runtime.db.read_engine.connect() as conn:
        rows = (await conn.execute(select(j.payload).where(j.kind == "push.send"))).all()
    return [dict(r.payload) for r in rows]


async def planned(srv: Server, count: int) -> bool:
    """At least ``count`` push notifications were planned by the pipeline."""
    n = t.notifications.c
    async with srv.runtime.db.read_engine.connect() as conn:
        rows = (await conn.execute(select(n.id).where(n.channel == "push"))).all()
    return len(rows) >= count


async def until(check: Any, timeout: float = 10.0) -> Any:
    """Poll ``check()`` until it returns something true."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = await check()
        if value:
            return value
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_push_arrives_encrypted_signed_and_without_text(db_url: str, tmp_path: Path) -> None:
    async with world(db_url, tmp_path) as (srv, clock, company, rx):
        kim = await srv.customer(name="Kim Kunde")
        other = await srv.customer()
        phone, laptop, foreign = device(rx, "phone"), device(rx, "laptop"), device(rx, "other")
        await subscribe(kim, phone, label="Kims Telefon", lang="de")
        await subscribe(kim, laptop, label="Firefox on Linux", lang="en")
        await subscribe(other, foreign)
        key = (await kim.get(f"{API}/push/key")).json()["public_key"]
        conv = (await kim.start_conversation("acme", "Wo ist mein Paket?"))["conversation"]

        assert await notify(srv, company, kim, conv["id"]) == 2
        got = await rx.wait_for(2)
        by_path = {r.path: r for r in got}
        assert set(by_path) == {"/push/phone", "/push/laptop"}  # not the other customer's
        audience = f"http://127.0.0.1:{rx.port}"
        for name, d, body in (
            ("phone", phone, "Neue Antwort von Acme GmbH"),
            ("laptop", laptop, "New reply from Acme GmbH"),
        ):
            req = by_path[f"/push/{name}"]
            assert d.decrypt(req) == {
                "title": "Acme GmbH",
                "body": body,
                "url": f"/#/chat/{conv['id']}",
                "tag": f"c{conv['id']}",
            }
            verify_vapid(req, key, audience=audience, now=clock.now())
            assert TEXT.encode() not in req.body and b"Paket" not in req.body
            assert 0 < int(req.headers["ttl"]) <= 24 * 3600
            assert req.headers["topic"] == f"c{conv['id']}"
            assert req.headers["urgency"] == "normal"
        listed = await until(lambda: _all_succeeded(kim, 2))
        assert {d["label"] for d in listed} == {"Kims Telefon", "Firefox on Linux"}

        # with the customer's "include text": the message text is the body
        assert await notify(srv, company, kim, conv["id"], include_text=True) == 2
        got = await rx.wait_for(4)
        texts = {r.path: (phone if "phone" in r.path else laptop).decrypt(r) for r in got[2:]}
        assert set(texts) == {"/push/phone", "/push/laptop"}
        assert {m["body"] for m in texts.values()} == {TEXT}
        # a fresh ephemeral key and salt per message (RFC 8291): the header differs each time
        assert by_path["/push/phone"].body[:16] != got[2].body[:16] != got[3].body[:16]
        await rx.quiet(0.2)
        assert len(rx.requests) == 4  # sent once each
        assert await push_jobs(srv) == []


async def _all_succeeded(c: Client, count: int) -> list[dict[str, Any]] | None:
    listed = await devices(c)
    ok = len(listed) == count and all(d["last_success_at"] for d in listed)
    return listed if ok else None


async def test_key_is_made_once_and_survives_a_restart(db_url: str, tmp_path: Path) -> None:
    async with start_server(db_url, tmp_path) as srv:
        first = (await srv.client().get(f"{API}/push/key")).json()["public_key"]
        again = (await srv.client().get(f"{API}/push/key")).json()["public_key"]
    async with start_server(db_url, tmp_path) as srv:
        after = (await srv.client().get(f"{API}/push/key")).json()["public_key"]
    assert first == again == after
    raw = unb64url(first)
    assert len(raw) == 65 and raw[0] == 4  # an uncompressed P-256 point


@pytest.mark.parametrize("status", [404, 410])
async def test_a_gone_subscription_is_removed(db_url: str, tmp_path: Path, status: int) -> None:
    async with world(db_url, tmp_path) as (srv, _clock, company, rx), receiver() as rx2:
        kim = await srv.customer()
        dead, alive = device(rx, "dead"), device(rx2, "alive")
        await subscribe(kim, dead)
        await subscribe(kim, alive)
        rx.default = Answer(status)
        conv = (await kim.start_conversation("acme", "Hallo"))["conversation"]
        assert await notify(srv, company, kim, conv["id"]) == 2
        await rx.wait_for(1)
        await rx2.wait_for(1)

        async def dead_gone() -> list[dict[str, Any]] | None:
            listed = await devices(kim)
            return listed if [d["endpoint"] for d in listed] == [alive.endpoint] else None

        await until(dead_gone)
        assert await until(lambda: _no_jobs(srv))  # no retry for a gone subscription
        # gone means gone: a later notification reaches only the device left
        assert await notify(srv, company, kim, conv["id"]) == 1
        await rx2.wait_for(2)
        await rx.quiet(0.2)
        assert len(rx.requests) == 1


async def _no_jobs(srv: Server) -> bool:
    return await push_jobs(srv) == []


async def test_a_server_error_is_retried_with_backoff(db_url: str, tmp_path: Path) -> None:
    async with world(db_url, tmp_path) as (srv, clock, company, rx):
        kim = await srv.customer()
        d = device(rx, "phone")
        await subscribe(kim, d)
        rx.script = [Answer(500), Answer(503, {"Retry-After": "120"})]
        conv = (await kim.start_conversation("acme", "Hallo"))["conversation"]
        await notify(srv, company, kim, conv["id"])
        await rx.wait_for(1)

        async def retry_queued(n: int) -> list[dict[str, Any]] | None:
            jobs = await push_jobs(srv)
            return jobs if len(jobs) == 1 and jobs[0]["retries"] == n else None

        await until(lambda: retry_queued(1))
        await rx.quiet(0.2)
        assert len(rx.requests) == 1  # not before its time
        clock.advance(timedelta(seconds=11))  # the first pause: 10 s
        await rx.wait_for(2)
        await until(lambda: retry_queued(2))
        clock.advance(timedelta(seconds=90))  # Retry-After: 120 beats the 1-minute pause
        await rx.quiet(0.2)
        assert len(rx.requests) == 2
        clock.advance(timedelta(seconds=31))
        got = await rx.wait_for(3)
        assert len({d.decrypt(r)["tag"] for r in got}) == 1  # the same notification each time
        await until(lambda: _all_succeeded(kim, 1))
        assert await push_jobs(srv) == []


async def test_a_device_that_moved_gets_no_earlier_owners_notification(
    db_url: str, tmp_path: Path
) -> None:
    """A shared browser: Kim's notification waits for a retry, then Eve turns notifications on
    in the same browser. The retry finds the device Eve's and is not sent."""
    async with world(db_url, tmp_path) as (srv, clock, company, rx):
        kim, eve = await srv.customer(), await srv.customer()
        d = device(rx, "shared")
        await subscribe(kim, d)
        rx.script = [Answer(500)]
        conv = (await kim.start_conversation("acme", "Hallo"))["conversation"]
        await notify(srv, company, kim, conv["id"])
        await rx.wait_for(1)
        await until(lambda: _retry_queued(srv))
        r = await eve.post(f"{API}/me/push-subscriptions", Device(d.endpoint).subscription())
        assert r.status_code == 201, r.text
        clock.advance(timedelta(seconds=11))
        assert await until(lambda: _no_jobs(srv))
        await rx.quiet(0.2)
        assert len(rx.requests) == 1


async def test_the_guard_holds_at_send_time(db_url: str, tmp_path: Path) -> None:
    """An endpoint allowed when it was subscribed is checked again before every send: once
    its address is no longer allowed, nothing is sent (and nothing retried)."""
    async with world(db_url, tmp_path) as (srv, _clock, company, rx):
        kim = await srv.customer()
        await subscribe(kim, device(rx, "phone"))
        sender = srv.runtime.ctx.push
        assert isinstance(sender, WebPushSender)
        sender.transport.networks = []  # the operator's allow-list emptied
        conv = (await kim.start_conversation("acme", "Hallo"))["conversation"]
        assert await notify(srv, company, kim, conv["id"]) == 1
        assert await until(lambda: _no_jobs(srv))
        await rx.quiet(0.2)
        assert rx.requests == []
        assert len(await devices(kim)) == 1  # refused, not gone


async def test_subscriptions_are_the_customers_own(db_url: str, tmp_path: Path) -> None:
    async with world(db_url, tmp_path) as (srv, _clock, company, rx):
        kim, eve = await srv.customer(), await srv.customer()
        agent = await srv.agent(company)
        d = device(rx, "phone")
        first = await subscribe(kim, d, label="Telefon", lang="de")
        assert first["endpoint"] == d.endpoint and first["last_success_at"] is None
        assert "keys" not in first and "p256dh" not in first

        # the same endpoint again (new keys after a browser's key rotation): 200, one device
        d2 = Device(d.endpoint)
        r = await kim.post(f"{API}/me/push-subscriptions", d2.subscription(label="Neu"))
        assert r.status_code == 200, r.text
        assert r.json()["id"] == first["id"] and r.json()["label"] == "Neu"
        assert [x["id"] for x in await devices(kim)] == [first["id"]]
        assert await devices(eve) == []

        # another customer cannot remove it: it reads like a missing one
        r = await eve.delete(f"{API}/me/push-subscriptions/{first['id']}")
        ghost = await eve.delete(f"{API}/me/push-subscriptions/987654321")
        assert r.status_code == ghost.status_code == 404
        assert r.json()["code"] == ghost.json()["code"] == "not_found"
        assert r.json()["detail"] == ghost.json()["detail"]
        assert len(await devices(kim)) == 1
        # staff have no devices here
        for method, path, body in (
            ("GET", "/me/push-subscriptions", None),
            ("POST", "/me/push-subscriptions", d.subscription()),
            ("DELETE", f"/me/push-subscriptions/{first['id']}", None),
        ):
            r = await agent.http.request(method, f"{API}{path}", json=body)
            assert r.status_code == 403 and r.json()["code"] == "forbidden", r.text
        anonymous = srv.client()
        r = await anonymous.get(f"{API}/me/push-subscriptions")
        assert r.status_code == 401
        assert (await anonymous.get(f"{API}/push/key")).status_code == 200  # public

        # a device moves to the customer who subscribes it last (a shared browser)
        r = await eve.post(f"{API}/me/push-subscriptions", d2.subscription())
        assert r.status_code == 201, r.text
        assert await devices(kim) == []
        conv = (await kim.start_conversation("acme", "Hallo"))["conversation"]
        assert await notify(srv, company, kim, conv["id"]) == 0

        r = await eve.delete(f"{API}/me/push-subscriptions/{r.json()['id']}")
        assert r.status_code == 204
        assert await devices(eve) == []


GOOD = Device("https://93.184.216.34/push/x")  # a public address: never contacted here


def _with(**changes: Any) -> dict[str, Any]:
    body = GOOD.subscription()
    for k, v in changes.items():
        if k in ("p256dh", "auth"):
            body["keys"][k] = v
        else:
            body[k] = v
    return body


OFF_CURVE = "BA" + "A" * 85  # 0x04 then zeros: 65 bytes, not a point on P-256
BAD_INPUT = [
    (_with(p256dh="not base64!"), 422, "validation_error", "keys.p256dh"),
    (_with(p256dh=OFF_CURVE), 422, "validation_error", "keys.p256dh"),
    (_with(p256dh=GOOD.p256dh[:40]), 422, "validation_error", "keys.p256dh"),
    (_with(auth="AAAA"), 422, "validation_error", "keys.auth"),
    (_with(auth="tBHItJI5svbpez7KI4CCXg$"), 422, "validation_error", "keys.auth"),
    (_with(endpoint="http://93.184.216.34/push/x"), 422, "validation_error", "endpoint"),
    (_with(endpoint="ftp://93.184.216.34/x"), 422, "validation_error", "endpoint"),
    (_with(endpoint="https://user:pw@93.184.216.34/x"), 422, "validation_error", "endpoint"),
    (_with(endpoint="https://push.invalid/x"), 422, "validation_error", "endpoint"),
    (_with(endpoint="https://127.0.0.1/push"), 422, "push_endpoint_forbidden", "endpoint"),
    (_with(endpoint="https://10.1.2.3/push"), 422, "push_endpoint_forbidden", "endpoint"),
    (_with(endpoint="https://[::1]/push"), 422, "push_endpoint_forbidden", "endpoint"),
    (_with(endpoint="https://169.254.169.254/x"), 422, "push_endpoint_forbidden", "endpoint"),
    (_with(endpoint="https://2130706433/x"), 422, "push_endpoint_forbidden", "endpoint"),
    (_with(endpoint="https://[::ffff:192.168.0.1]/x"), 422, "push_endpoint_forbidden", "endpoint"),
    (_with(lang="fr"), 422, "validation_error", None),
    (_with(customer_id=1), 422, "validation_error", None),
    ({"endpoint": GOOD.endpoint}, 422, "validation_error", None),
]


async def test_bad_input_gets_a_precise_answer(server: Server) -> None:
    """Without the operator's push settings: https only, public addresses only."""
    kim = await server.customer()
    for body, status, code, field in BAD_INPUT:
        r = await kim.post(f"{API}/me/push-subscriptions", body)
        assert r.status_code == status, (body, r.text)
        problem = r.json()
        assert problem["code"] == code, (body, problem)
        if field is not None:
            assert problem.get("field") == field, (body, problem)
    assert await devices(kim) == []
    # the same endpoint with good keys is accepted (the check above was not just "anything")
    r = await kim.post(f"{API}/me/push-subscriptions", GOOD.subscription())
    assert r.status_code == 201, r.text


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """Everything logged while the test runs, through the production log configuration."""
    out = io.StringIO()
    root = logging.getLogger()
    level = root.level
    logs.configure("debug", stream=out)
    try:
        yield out
    finally:
        logs.unconfigure()
        root.setLevel(level)


async def test_no_key_endpoint_or_text_reaches_the_logs(
    db_url: str, tmp_path: Path, captured: io.StringIO
) -> None:
    """Sent, retried and gone pushes log ids and outcomes only: never the VAPID private key,
    an endpoint, the browser's keys or what a notification says."""
    mark = f"kanarie{uuid.uuid4().hex[:10]}"
    async with world(db_url, tmp_path) as (srv, clock, company, rx):
        kim = await srv.customer()
        d = Device(f"http://127.0.0.1:{rx.port}/push/{mark}")
        await subscribe(kim, d, label=f"Telefon {mark}")
        rx.script = [Answer(500), Answer(200), Answer(410)]
        conv = (await kim.start_conversation("acme", "Hallo"))["conversation"]
        await push_actions.queue_push(
            srv.runtime.ctx,
            CustomerId(kim.id),
            company,
            PushNotice("reply", ConversationId(conv["id"]), f"Text {mark}"),
            True,
        )
        await rx.wait_for(1)
        await until(lambda: _retry_queued(srv))
        clock.advance(timedelta(seconds=11))
        assert d.decrypt((await rx.wait_for(2))[1])["body"] == f"Text {mark}"
        await notify(srv, company, kim, conv["id"])
        await rx.wait_for(3)
        await until(lambda: _none_left(kim))
        k = t.push_keys.c
        async with srv.runtime.db.read_engine.connect() as conn:
            private_key = (await conn.execute(select(k.private_key))).scalar_one()
    text = captured.getvalue()
    outcomes = [line for line in text.splitlines() if '"push_send"' in line]
    assert len(outcomes) == 3 and all('"outcome"' in line for line in outcomes), outcomes
    for secret in (mark, private_key, d.p256dh, b64url(d.auth), "127.0.0.1:" + str(rx.port)):
        assert secret.lower() not in text.lower(), secret[:8]


async def _retry_queued(srv: Server) -> bool:
    return [j["retries"] for j in await push_jobs(srv)] == [1]


async def _none_left(c: Client) -> bool:
    return await devices(c) == []


async def test_the_pipeline_pushes_a_reply_to_a_customer_who_chose_push(
    db_url: str, tmp_path: Path
) -> None:
    """Through the whole notification pipeline: the customer allows push for this company,
    an agent replies twice, and after the batching window one notification per device
    arrives — without the text; with "include text" the newest reply is the body."""
    async with world(db_url, tmp_path) as (srv, clock, company, rx):
        anna = await srv.agent(company, name="Anna Agent")
        kim = await srv.customer(name="Kim Kunde")
        phone = device(rx, "phone")
        await subscribe(kim, phone, lang="en")
        contact = {"channels": {"push": True, "email": False}, "screen": "contact_card"}
        contact["text_version"] = "contact-card-2"
        r = await kim.http.put(f"{API}/me/privacy/acme/contact", json=contact)
        assert r.status_code == 200, r.text
        cid = (await kim.start_conversation("acme", "Wo ist mein Paket?"))["conversation"]["id"]
        for text in ("Erste Antwort", TEXT):
            assert (await anna.send(cid, text)).status_code == 201
        await until(lambda: planned(srv, 2))  # the worker planned both (due after the window)
        await rx.quiet(0.3)
        assert rx.requests == []  # the batching window is still open
        clock.advance(timedelta(minutes=3))
        [got] = await rx.wait_for(1)
        assert phone.decrypt(got) == {
            "title": "Acme GmbH",
            "body": "New reply from Acme GmbH",
            "url": f"/#/chat/{cid}",
            "tag": f"c{cid}",
        }
        assert b"Paket" not in got.body

        contact["include_text"] = True
        r = await kim.http.put(f"{API}/me/privacy/acme/contact", json=contact)
        assert r.status_code == 200, r.text
        assert (await anna.send(cid, TEXT)).status_code == 201
        await until(lambda: planned(srv, 3))
        clock.advance(timedelta(minutes=3))
        got = await rx.wait_for(2)
        assert phone.decrypt(got[1])["body"] == TEXT
        await rx.quiet(0.3)
        assert len(rx.requests) == 2  # each batch once
