"""Webhooks end to end: a receiver on loopback verifies every delivery with ``standardwebhooks``.

The server runs on a fake clock, so retries days apart take no time; the loopback receiver is
reachable only because the operator settings allow http and 127.0.0.1/32 explicitly.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import httpx
import pytest

from eyelevel.clock import FakeClock
from eyelevel.core.entities import Role
from eyelevel.webhooks.transport import GuardedTransport
from tests.harness import Client, Server, start_server
from tests.webhook_receiver import Answer, receiver, validate, verifies, verify

API = "/api/v1"
ALL = [
    "conversation.created",
    "conversation.assigned",
    "conversation.status_changed",
    "message.created",
]
LOOPBACK = {
    "webhook_allow_http": True,
    "webhook_allowed_networks": ["127.0.0.1/32"],
    "webhook_timeout_seconds": 0.5,
}


@contextlib.asynccontextmanager
async def world(db_url: str, tmp_path: Path) -> AsyncIterator[tuple[Server, FakeClock, Client]]:
    clock = FakeClock(datetime.now(UTC).replace(microsecond=0))
    async with start_server(db_url, tmp_path, clock=clock, **LOOPBACK) as srv:
        company = await srv.company("acme", "Acme GmbH")
        admin = await srv.agent(company, "admin@acme.example", role=Role.ADMIN, name="Ada Admin")
        yield srv, clock, admin


async def create_hook(admin: Client, url: str, **kw: Any) -> dict[str, Any]:
    body = {"url": url, "event_types": ALL, "description": "CRM", **kw}
    r = await admin.post(f"{API}/companies/acme/webhooks", body)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def deliveries(admin: Client, hook_id: int) -> list[dict[str, Any]]:
    r = await admin.get(f"{API}/companies/acme/webhooks/{hook_id}/deliveries")
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


async def settled(admin: Client, hook_id: int, count: int, state: str = "") -> list[dict[str, Any]]:
    """The log once ``count`` deliveries exist with an attempt each (and all in ``state``)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while True:
        items = await deliveries(admin, hook_id)
        if len(items) >= count and all(
            d["attempts"] and d["attempt_log"] and (not state or d["state"] == state) for d in items
        ):
            return items
        assert loop.time() < deadline, items
        await asyncio.sleep(0.02)


async def attempted(admin: Client, hook_id: int, attempts: int) -> dict[str, Any]:
    """The (only) delivery once ``attempts`` attempts of it are recorded."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while True:
        items = await deliveries(admin, hook_id)
        if items and items[0]["attempts"] >= attempts:
            return items[0]
        assert loop.time() < deadline, items
        await asyncio.sleep(0.02)


async def test_every_event_type_arrives_signed_valid_and_private(
    db_url: str, tmp_path: Path
) -> None:
    async with world(db_url, tmp_path) as (srv, clock, admin), receiver() as rx:
        hook = await create_hook(admin, rx.url)
        assert hook["secret"].startswith("whsec_")
        listed = (await admin.get(f"{API}/companies/acme/webhooks")).json()
        assert [h["id"] for h in listed] == [hook["id"]] and "secret" not in listed[0]
        agent = await srv.agent((await srv.company("acme")), name="Bert Agent")
        customer = await srv.customer("kim@example.org", name="Kim Kunde")
        conv = (await customer.start_conversation("acme", "Mein Paket fehlt"))["conversation"]
        assert (await agent.send(conv["id"], "Wir schauen nach.")).status_code == 201
        note = await agent.send(conv["id"], "intern: VIP", note=True)
        assert note.status_code == 201
        r = await agent.post(f"{API}/conversations/{conv['id']}/assignment", {"agent_id": agent.id})
        assert r.status_code == 200, r.text
        r = await agent.post(f"{API}/conversations/{conv['id']}/status", {"status": "resolved"})
        assert r.status_code == 200, r.text

        await rx.wait_for(5)
        await rx.quiet(0.5)
        got = rx.requests
        payloads = [verify(hook["secret"], clock, req) for req in got]
        for p in payloads:
            validate(p)
        types = [p["type"] for p in payloads]
        assert set(types) == set(ALL), types
        assert types.count("message.created") == 2 and types[0] == "conversation.created"
        messages = [p["data"]["message"] for p in payloads if p["type"] == "message.created"]
        assert {m["kind"] for m in messages} == {"customer", "agent"}  # the note stayed inside
        for p in payloads:
            if "customer" in p["data"]:
                assert p["data"]["customer"] == {"id": customer.id, "name": "Kim Kunde"}
        assert not any(b"kim@example.org" in req.body for req in got)
        assert len({req.headers["webhook-id"] for req in got}) == len(got)

        log = await settled(admin, hook["id"], len(got), "succeeded")
        attempt = log[0]["attempt_log"][0]
        assert attempt["status_code"] == 200 and attempt["response"] == "ok"


async def test_notes_go_only_to_endpoints_that_opted_in(db_url: str, tmp_path: Path) -> None:
    async with (
        world(db_url, tmp_path) as (srv, clock, admin),
        receiver() as rx,
        receiver() as notes_rx,
    ):
        await create_hook(admin, rx.url, event_types=["message.created"])
        hook = await create_hook(
            admin, notes_rx.url, event_types=["message.created"], include_notes=True
        )
        customer = await srv.customer()
        conv = (await customer.start_conversation("acme", "Hallo"))["conversation"]
        assert (await admin.send(conv["id"], "psst", note=True)).status_code == 201
        got = await notes_rx.wait_for(2)
        kinds = [verify(hook["secret"], clock, r)["data"]["message"]["kind"] for r in got]
        assert kinds == ["customer", "note"]
        await rx.wait_for(1)
        await rx.quiet()
        assert len(rx.requests) == 1


async def test_secret_rotation_signs_with_both_during_the_overlap(
    db_url: str, tmp_path: Path
) -> None:
    async with world(db_url, tmp_path) as (srv, clock, admin), receiver() as rx:
        hook = await create_hook(admin, rx.url, event_types=["message.created"])
        old = hook["secret"]
        customer = await srv.customer()
        conv = (await customer.start_conversation("acme", "eins"))["conversation"]
        first = (await rx.wait_for(1))[0]
        assert verifies(old, clock, first) and len(first.headers["webhook-signature"].split()) == 1

        r = await admin.post(f"{API}/companies/acme/webhooks/{hook['id']}/rotate")
        assert r.status_code == 200, r.text
        new = r.json()["secret"]
        assert new != old and new.startswith("whsec_")
        assert (await customer.send(conv["id"], "zwei")).status_code == 201
        second = (await rx.wait_for(2))[1]
        sigs = second.headers["webhook-signature"].split(" ")
        assert len(sigs) == 2 and all(s.startswith("v1,") for s in sigs)
        assert verifies(new, clock, second) and verifies(old, clock, second)

        clock.advance(timedelta(hours=24, seconds=1))
        assert (await customer.send(conv["id"], "drei")).status_code == 201
        third = (await rx.wait_for(3))[2]
        assert verifies(new, clock, third) and not verifies(old, clock, third)


async def test_failures_retry_with_backoff_and_retry_after_then_succeed(
    db_url: str, tmp_path: Path
) -> None:
    async with world(db_url, tmp_path) as (srv, clock, admin), receiver() as rx:
        hook = await create_hook(admin, rx.url, event_types=["conversation.created"])
        rx.script = [
            Answer(500, body=b"x" * 5000),
            Answer(429, {"Retry-After": "3600"}),
            Answer(200),
        ]
        customer = await srv.customer()
        await customer.start_conversation("acme", "Hallo")
        await rx.wait_for(1)
        [d] = await settled(admin, hook["id"], 1)
        assert d["state"] == "pending" and d["attempts"] == 1
        a = d["attempt_log"][0]
        assert a["status_code"] == 500 and len(a["response"].encode()) == 1024
        wait = datetime.fromisoformat(d["next_attempt_at"]) - clock.now()
        assert timedelta(seconds=3.9) <= wait <= timedelta(seconds=6.1)  # 5 s ± 20 %
        await rx.quiet(0.2)
        assert len(rx.requests) == 1  # not before its time

        clock.advance(timedelta(seconds=7))
        d = await attempted(admin, hook["id"], 2)
        wait = datetime.fromisoformat(d["next_attempt_at"]) - clock.now()
        assert wait >= timedelta(seconds=3600)  # Retry-After beats the 1-minute backoff
        clock.advance(timedelta(minutes=59))
        await rx.quiet(0.2)
        assert len(rx.requests) == 2

        clock.advance(timedelta(minutes=2))
        got = await rx.wait_for(3)
        assert len({r.headers["webhook-id"] for r in got}) == 1  # the same message each time
        assert len({r.body for r in got}) == 1
        assert len({r.headers["webhook-timestamp"] for r in got}) == 3
        for r in got:
            assert verifies(hook["secret"], clock, r) or r is not got[-1]
        d = (await settled(admin, hook["id"], 1, "succeeded"))[0]
        assert [a["status_code"] for a in d["attempt_log"]] == [200, 429, 500]


async def test_timeout_and_redirect_are_failures_and_redirects_are_not_followed(
    db_url: str, tmp_path: Path
) -> None:
    async with (
        world(db_url, tmp_path) as (srv, clock, admin),
        receiver() as rx,
        receiver() as elsewhere,
    ):
        hook = await create_hook(admin, rx.url, event_types=["conversation.created"])
        never = asyncio.Event()
        rx.script = [
            Answer(hold=never),  # longer than the 0.5 s timeout
            Answer(302, {"Location": elsewhere.url}),
            Answer(307, {"Location": elsewhere.url}),
        ]
        customer = await srv.customer()
        await customer.start_conversation("acme", "Hallo")
        await rx.wait_for(1)
        d = (await settled(admin, hook["id"], 1))[0]
        assert d["attempt_log"][0]["error"] == "timeout" and d["state"] == "pending"
        await attempted(admin, hook["id"], 1)
        for n in (2, 3):
            clock.advance(timedelta(hours=1))
            await attempted(admin, hook["id"], n)
        never.set()
        await rx.quiet()
        d = (await deliveries(admin, hook["id"]))[0]
        codes = [a["status_code"] for a in d["attempt_log"]]
        assert codes == [307, 302, None] and d["state"] == "pending"
        assert elsewhere.requests == []


async def test_410_gone_disables_the_endpoint_and_tells_the_admins(
    db_url: str, tmp_path: Path
) -> None:
    async with world(db_url, tmp_path) as (srv, _clock, admin), receiver() as rx:
        hook = await create_hook(admin, rx.url, event_types=["conversation.created"])
        rx.default = Answer(410)
        customer = await srv.customer()
        await customer.start_conversation("acme", "Hallo")
        d = (await settled(admin, hook["id"], 1, "failed"))[0]
        assert d["attempt_log"][0]["status_code"] == 410
        h = (await admin.get(f"{API}/companies/acme/webhooks/{hook['id']}")).json()
        assert h["enabled"] is False and h["disabled_reason"] == "gone"
        await srv.mail_token("admin@acme.example", r"(Webhook)")
        audit = (await admin.get(f"{API}/companies/acme/audit")).json()["items"]
        assert any(e["action"] == "webhook.disabled" for e in audit)
        # nothing more is sent while it is disabled; a test is refused with a stable code
        await customer.start_conversation("acme", "Noch was")
        await rx.quiet()
        assert len(rx.requests) == 1
        r = await admin.post(f"{API}/companies/acme/webhooks/{hook['id']}/test")
        assert r.status_code == 409 and r.json()["code"] == "webhook_disabled"


async def test_failing_for_five_days_disables_the_endpoint(db_url: str, tmp_path: Path) -> None:
    async with world(db_url, tmp_path) as (srv, clock, admin), receiver() as rx:
        hook = await create_hook(admin, rx.url, event_types=["conversation.created"])
        rx.default = Answer(503)
        customer = await srv.customer()
        await customer.start_conversation("acme", "Hallo")
        await attempted(admin, hook["id"], 1)
        clock.advance(timedelta(days=2))
        await attempted(admin, hook["id"], 2)
        h = (await admin.get(f"{API}/companies/acme/webhooks/{hook['id']}")).json()
        assert h["enabled"] is True and h["failing_since"] is not None
        clock.advance(timedelta(days=3, seconds=1))
        await rx.wait_for(3)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 5
        while h["enabled"]:
            assert loop.time() < deadline
            await asyncio.sleep(0.02)
            h = (await admin.get(f"{API}/companies/acme/webhooks/{hook['id']}")).json()
        assert h["disabled_reason"] == "failing"
        await srv.mail_token("admin@acme.example", r"(Webhook)")
        # re-enabled by an admin, it starts afresh
        r = await admin.http.patch(
            f"{API}/companies/acme/webhooks/{hook['id']}", json={"enabled": True}
        )
        assert r.status_code == 200 and r.json()["failing_since"] is None


async def test_replay_one_and_a_range_and_the_test_button(db_url: str, tmp_path: Path) -> None:
    async with world(db_url, tmp_path) as (srv, clock, admin), receiver() as rx:
        hook = await create_hook(admin, rx.url, event_types=["conversation.created"])
        base = f"{API}/companies/acme/webhooks/{hook['id']}"
        customer = await srv.customer()
        await customer.start_conversation("acme", "eins")
        await customer.start_conversation("acme", "zwei")
        first = await rx.wait_for(2)
        log = await settled(admin, hook["id"], 2, "succeeded")

        r = await admin.post(f"{base}/replay", {"delivery_id": log[-1]["id"]})
        assert r.status_code == 202 and r.json() == {"replayed": 1}
        again = (await rx.wait_for(3))[2]
        assert again.headers["webhook-id"] == first[0].headers["webhook-id"]
        assert again.body == first[0].body and verifies(hook["secret"], clock, again)

        await settled(admin, hook["id"], 2, "succeeded")
        since = (clock.now() - timedelta(minutes=1)).isoformat()
        r = await admin.post(f"{base}/replay", {"since": since})
        assert r.status_code == 202 and r.json() == {"replayed": 2}
        await rx.wait_for(5)

        r = await admin.post(f"{base}/test")
        assert r.status_code == 202, r.text
        ping = (await rx.wait_for(6))[5]
        payload = verify(hook["secret"], clock, ping)
        validate(payload)
        assert payload["type"] == "webhook.test"
        assert payload["data"] == {"endpoint_id": hook["id"], "test": True}

        r = await admin.post(f"{base}/replay", {})
        assert r.status_code == 422 and r.json()["code"] == "validation_error"
        r = await admin.post(f"{base}/replay", {"delivery_id": 987654321})
        assert r.status_code == 404 and r.json()["code"] == "not_found"


async def test_bad_input_is_a_problem_with_a_stable_code(db_url: str, tmp_path: Path) -> None:
    async with world(db_url, tmp_path) as (srv, _clock, admin), receiver() as rx:
        path = f"{API}/companies/acme/webhooks"
        cases: list[tuple[dict[str, Any], int, str]] = [
            ({"url": rx.url, "event_types": ["message.deleted"]}, 422, "invalid_event_type"),
            ({"url": rx.url, "event_types": []}, 422, "invalid_event_type"),
            ({"url": "ftp://127.0.0.1/x", "event_types": ALL}, 422, "validation_error"),
            ({"url": "http://user:pw@127.0.0.1/x", "event_types": ALL}, 422, "validation_error"),
            ({"url": "http://10.0.0.1/x", "event_types": ALL}, 422, "webhook_url_forbidden"),
            ({"url": "http://[::1]/x", "event_types": ALL}, 422, "webhook_url_forbidden"),
            ({"url": "http://0x7f000002/x", "event_types": ALL}, 422, "webhook_url_forbidden"),
            ({"url": rx.url, "event_types": ALL, "secret": "x"}, 422, "validation_error"),
            ({"url": rx.url, "event_types": ALL, "description": "x" * 600}, 422, ""),
        ]
        for body, status, code in cases:
            r = await admin.post(path, body)
            assert r.status_code == status, (body, r.text)
            assert r.headers["content-type"].startswith("application/problem+json")
            if code:
                assert r.json()["code"] == code, (body, r.json())
        assert (await admin.get(path)).json() == []
        # an agent is no admin; another company's admin sees nothing
        agent = await srv.agent(await srv.company("acme"))
        r = await agent.post(path, {"url": rx.url, "event_types": ALL})
        assert r.status_code == 403 and r.json()["code"] == "forbidden"
        hook = await create_hook(admin, rx.url)
        other = await srv.agent(await srv.company("other"), role=Role.ADMIN)
        for method, suffix in (("GET", ""), ("PATCH", ""), ("DELETE", ""), ("POST", "/rotate")):
            r = await other.http.request(
                method, f"{path}/{hook['id']}{suffix}", json={} if method == "PATCH" else None
            )
            assert r.status_code == 404 and r.json()["code"] == "not_found", (method, r.text)
        r = await other.http.request("GET", f"{API}/companies/other/webhooks/{hook['id']}")
        assert r.status_code == 404


async def test_the_address_is_checked_again_at_each_send(db_url: str, tmp_path: Path) -> None:
    """A name that resolved to an allowed address when saved and to a private one later is
    refused at the send; the request goes to the checked address, never re-resolved."""
    async with world(db_url, tmp_path) as (srv, clock, admin), receiver() as rx:
        transport = cast(GuardedTransport, srv.runtime.ctx.webhooks)
        answers = {"hooks.example.test": ["127.0.0.1"]}

        async def resolve(host: str, port: int) -> list[str]:
            return answers[host]

        transport.resolver = resolve
        hook = await create_hook(
            admin, f"http://hooks.example.test:{rx.port}/hook", event_types=["message.created"]
        )
        customer = await srv.customer()
        conv = (await customer.start_conversation("acme", "eins"))["conversation"]
        got = (await rx.wait_for(1))[0]
        assert got.headers["host"] == f"hooks.example.test:{rx.port}"
        assert verifies(hook["secret"], clock, got)

        seen: list[str] = []

        def refuse(request: httpx.Request) -> httpx.Response:
            seen.append(str(request.url))
            return httpx.Response(599)

        answers["hooks.example.test"] = ["10.0.0.7"]
        transport.transport = httpx.MockTransport(refuse)  # a faulty guard reaches no one
        assert (await customer.send(conv["id"], "zwei")).status_code == 201
        log = await settled(admin, hook["id"], 2)
        assert log[0]["attempt_log"][0]["error"] == "address_forbidden"
        assert log[0]["state"] == "pending" and seen == []


@pytest.mark.slow
async def test_kill_9_mid_delivery_loses_no_event(db_url: str, tmp_path: Path) -> None:
    """The serve process (with its worker) dies while the receiver holds a delivery; after the
    restart the same message arrives (same webhook-id), verified."""
    from tests.processes import Cluster

    async with Cluster(db_url, tmp_path) as cluster, receiver() as rx:
        cluster.env.update(
            EYELEVEL_WEBHOOK_ALLOW_HTTP="true",
            EYELEVEL_WEBHOOK_ALLOWED_NETWORKS='["127.0.0.1/32"]',
            EYELEVEL_JOB_LEASE_SECONDS="1",
        )
        seeded = await cluster.seed()
        [proc] = await cluster.start("serve")
        from eyelevel.app import build_runtime
        from eyelevel.core.actions import operator
        from eyelevel.jobs.mailers import MemoryMailer
        from eyelevel.security import Argon2Hasher

        rt = build_runtime(cluster.settings(), mailer=MemoryMailer(), passwords=Argon2Hasher())
        await rt.start()
        try:
            token = await operator.operator_create_token(
                rt.ctx, company_slug=seeded.company_slug, name="CRM"
            )
        finally:
            await rt.close()
        held = asyncio.Event()
        rx.script = [Answer(hold=held)]
        async with httpx.AsyncClient(
            base_url=proc.url, headers={"authorization": f"Bearer {token}"}, timeout=10
        ) as api:
            r = await api.post(
                f"{API}/companies/{seeded.company_slug}/webhooks",
                json={"url": rx.url, "event_types": ["conversation.created"]},
            )
            assert r.status_code == 201, r.text
            secret = r.json()["secret"]
            from tests.processes import login

            customer = await login(proc, "customer", seeded.customer_email)
            async with customer.http(proc) as http:
                r = await http.post(
                    f"{API}/conversations", json={"company": seeded.company_slug, "body": "Hi"}
                )
                assert r.status_code == 201, r.text
            first = (await rx.wait_for(1, timeout=20))[0]
            await proc.kill()  # mid-delivery: the receiver has not answered
            held.set()
            await proc.start()
            second = (await rx.wait_for(2, timeout=30))[1]
        assert second.headers["webhook-id"] == first.headers["webhook-id"]
        assert second.body == first.body
        payload = verify(secret, _WallClock(), second)
        assert payload["type"] == "conversation.created"


class _WallClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


async def test_payloads_carry_only_what_the_customer_shares_now(
    db_url: str, tmp_path: Path
) -> None:
    """Grants and revocations reach webhooks at once: as ``customer.shared_fields_changed``
    and in the customer object of every later payload (docs/privacy.md)."""
    shared_type = "customer.shared_fields_changed"
    card = {"screen": "privacy_card", "text_version": "v1"}
    phone = "+49 30 5550199"
    async with world(db_url, tmp_path) as (srv, clock, admin), receiver() as rx:
        hook = await create_hook(admin, rx.url, event_types=[*ALL, shared_type])
        kim = await srv.customer("kim@example.org", name="Kim Kunde")

        async def step(count: int) -> list[dict[str, Any]]:
            got = await rx.wait_for(count)
            payloads = [verify(hook["secret"], clock, req) for req in got]
            for p in payloads:
                validate(p)
            return payloads

        r = await kim.http.put(f"{API}/me/profile", json={"phone": phone, "last_name": "Kunde"})
        assert r.status_code == 200, r.text
        grant = {"fields": {"phone": True}, **card}
        assert (await kim.http.put(f"{API}/me/privacy/acme", json=grant)).status_code == 200
        [granted] = await step(1)
        assert granted["type"] == shared_type
        assert granted["data"] == {
            "customer": {"id": kim.id, "name": "Kim Kunde", "phone": phone},
            "shared": ["phone"],
            "changed": ["phone"],
        }

        conv = (await kim.start_conversation("acme", "Bitte zurückrufen"))["conversation"]
        later = (await step(3))[1:]
        assert {p["type"] for p in later} == {"conversation.created", "message.created"}
        assert all(p["data"]["customer"]["phone"] == phone for p in later)

        revoke = {"fields": {"phone": False}, **card}
        assert (await kim.http.put(f"{API}/me/privacy/acme", json=revoke)).status_code == 200
        revoked = (await step(4))[3]
        assert revoked["data"]["customer"] == {"id": kim.id, "name": "Kim Kunde"}
        assert (revoked["data"]["shared"], revoked["data"]["changed"]) == ([], ["phone"])
        assert (await kim.send(conv["id"], "Hat sich erledigt")).status_code == 201
        last = (await step(5))[4]
        assert last["type"] == "message.created"
        assert last["data"]["customer"] == {"id": kim.id, "name": "Kim Kunde"}
        await rx.quiet(0.3)
        assert len(rx.requests) == 5
        # the last name was never shared: no payload carried it
        assert not any(b'"last_name"' in req.body for req in rx.requests)


async def test_complaint_and_rating_events_reach_a_receiver_as_published(
    db_url: str, tmp_path: Path
) -> None:
    """The newer types: a complaint case opened and an approval asked, a rating given; each
    payload is signed, validates against its schema and carries no customer text."""
    async with world(db_url, tmp_path) as (srv, clock, admin), receiver() as rx:
        company = await srv.company("acme", "Acme GmbH")
        agent = await srv.agent(company, name="Anna Agent")
        types = ["complaint.changed", "complaint.approval_requested", "conversation.rated"]
        hook = await create_hook(admin, rx.url, event_types=types)
        kim = await srv.customer()
        cid = (await kim.start_conversation("acme", "Toaster kaputt"))["conversation"]["id"]
        facts = {"product": "Toaster", "requested_remedy": "refund", "amount_cents": 9900}
        r = await agent.post(f"{API}/conversations/{cid}/complaint", facts)
        assert r.status_code == 201, r.text
        ask = {"kind": "approval_requested", "remedy": "refund", "amount_cents": 9900}
        r = await agent.post(f"{API}/conversations/{cid}/complaint/steps", {**ask, "promise": "x"})
        assert r.status_code == 200, r.text
        r = await agent.post(f"{API}/conversations/{cid}/status", {"status": "resolved"})
        assert r.status_code == 200, r.text
        contact = {"topics": {"feedback": True}, "screen": "contact_card"}
        r = await kim.http.put(
            f"{API}/me/privacy/acme/contact", json={**contact, "text_version": "contact-card-2"}
        )
        assert r.status_code == 200, r.text
        rating = {"score": 4, "comment": "Sehr geheimer Kommentar"}
        r = await kim.http.put(f"{API}/conversations/{cid}/rating", json=rating)
        assert r.status_code == 200, r.text

        got = await rx.wait_for(4)
        payloads = [verify(hook["secret"], clock, req) for req in got]
        for p in payloads:
            validate(p)
        assert [p["type"] for p in payloads] == [
            "complaint.changed",
            "complaint.changed",
            "complaint.approval_requested",
            "conversation.rated",
        ]
        assert [p["data"].get("state") for p in payloads[:2]] == ["open", "approval_pending"]
        assert payloads[2]["data"]["remedy"] == "refund"
        assert payloads[3]["data"] == {"conversation_id": cid, "score": 4}
        assert all(b"geheimer" not in req.body for req in got)
