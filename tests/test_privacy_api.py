"""The customer decides what each company sees (docs/privacy.md), through a real server.

By default a company sees the display name only; a grant shows one field to one company, at
once, in its lists, its conversation reads and its live events (names only); a revocation
takes it away again; every real change is in the customer's consent ledger, which the
database itself keeps append-only.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

from eyelevel.storage import schema
from tests.harness import Client, Server, start_server
from tests.test_inbox_api import acme, conv, listing, ok, refused, start

API = "/api/v1"
PHONE = "+49 30 5550199"
CARD = {"screen": "privacy_card", "text_version": "privacy-card-1"}


@pytest.fixture
async def srv(db_url: str, tmp_path: Path) -> AsyncIterator[Server]:
    async with start_server(db_url, tmp_path) as server:
        yield server


async def put(c: Client, path: str, body: Any) -> Any:
    return await c.http.put(path, json=body)


async def share(c: Client, slug: str, **fields: bool) -> dict[str, Any]:
    return dict(ok(await put(c, f"{API}/me/privacy/{slug}", {"fields": fields, **CARD})))


async def panel(agent: Client, cid: int) -> dict[str, Any]:
    return dict((await conv(agent, cid))["customer"])


async def test_a_company_sees_the_display_name_until_a_field_is_granted(srv: Server) -> None:
    w = await acme(srv)
    bolt = await srv.company("bolt", "Bolt GmbH")
    bolt_agent = await srv.agent(bolt, name="Bea Bolt")
    cid = await start(w.kim, "Hallo Acme")
    bolt_cid = await start(w.kim, "Hallo Bolt", slug="bolt")
    profile = {"first_name": "Kim", "last_name": "Kunde", "phone": PHONE, "address": "Weg 1"}
    mine = ok(await put(w.kim, f"{API}/me/profile", profile))
    assert {k: mine[k] for k in profile} == profile
    assert mine["display_name"] == "Kim Kunde" and mine["email"].endswith("@example.org")

    hidden = {
        "id": w.kim.id,
        "name": "Kim Kunde",
        "first_name": None,
        "last_name": None,
        "email": None,
        "phone": None,
        "address": None,
        "customer_number": None,
        "shared": [],
        "erased": False,
    }
    assert await panel(w.anna, cid) == hidden
    [row] = [c for c in await listing(w.anna) if c["id"] == cid]
    assert row["customer"] == hidden

    card = await share(w.kim, "acme", phone=True, first_name=True, email=True)
    assert [f["field"] for f in card["fields"] if f["shared"]] == ["first_name", "email", "phone"]
    assert all(f["since"] for f in card["fields"] if f["shared"])
    seen = await panel(w.anna, cid)
    assert (seen["first_name"], seen["phone"], seen["shared"]) == (
        "Kim",
        PHONE,
        ["first_name", "email", "phone"],
    )
    assert seen["email"] == mine["email"] and seen["last_name"] is None
    assert seen == card["visible"]  # the card shows exactly what the company sees
    # the other company still sees the display name only
    assert (await panel(bolt_agent, bolt_cid))["shared"] == []
    assert (await panel(bolt_agent, bolt_cid))["phone"] is None

    await share(w.kim, "acme", phone=False)
    after = await panel(w.anna, cid)
    assert (after["phone"], after["shared"]) == (None, ["first_name", "email"])
    [row] = [c for c in await listing(w.anna) if c["id"] == cid]
    assert row["customer"]["phone"] is None


async def test_changes_reach_the_company_live_as_field_names_only(srv: Server) -> None:
    w = await acme(srv)
    bolt = await srv.company("bolt", "Bolt GmbH")
    bolt_agent = await srv.agent(bolt, name="Bea Bolt")
    await start(w.kim, "Hallo")
    await start(w.kim, "Hallo Bolt", slug="bolt")
    anna, bea, kim_elsewhere = await w.anna.ws(), await bolt_agent.ws(), await w.kim.ws()
    try:
        await share(w.kim, "acme", phone=True)
        frame = await anna.wait_for(lambda f: f["type"] == "customer.shared_fields_changed")
        assert frame["data"] == {
            "customer_id": w.kim.id,
            "company_id": w.company_id,
            "shared": ["phone"],
            "changed": ["phone"],
        }
        # the customer's other devices learn it too (their card is out of date)
        mirrored = await kim_elsewhere.wait_for(lambda f: f["type"] == frame["type"])
        assert mirrored["data"] == frame["data"]
        # a shared value edited: the company that sees it is told, without the value
        ok(await put(w.kim, f"{API}/me/profile", {"phone": PHONE}))
        edited = await anna.wait_for(lambda f: f["type"] == frame["type"])
        assert edited["data"]["changed"] == ["phone"] and PHONE not in str(edited)
        # a field nobody was granted changes: nobody is told
        ok(await put(w.kim, f"{API}/me/profile", {"phone": PHONE, "first_name": "Kim"}))
        quiet = await anna.frames_until_quiet(0.5)
        assert [f for f in quiet if f["type"] == frame["type"]] == []
        assert [f for f in await bea.frames_until_quiet(0.3) if f["type"] == frame["type"]] == []
    finally:
        for sock in (anna, bea, kim_elsewhere):
            await sock.close()


async def test_the_ledger_records_each_real_change_with_screen_and_wording(srv: Server) -> None:
    w = await acme(srv)
    await share(w.kim, "acme", email=True, phone=True)
    await share(w.kim, "acme", email=True)  # no change: nothing recorded
    ok(
        await put(
            w.kim,
            f"{API}/me/privacy/acme",
            {"fields": {"phone": False}, "screen": "settings", "text_version": "settings-2"},
        )
    )
    ledger = ok(await w.kim.get(f"{API}/me/consents"))
    assert [(e["action"], e["field"], e["screen"], e["text_version"]) for e in ledger] == [
        ("revoke", "phone", "settings", "settings-2"),
        ("grant", "phone", "privacy_card", "privacy-card-1"),
        ("grant", "email", "privacy_card", "privacy-card-1"),
    ]
    assert {e["company"]["slug"] for e in ledger} == {"acme"}
    assert ok(await w.lena.get(f"{API}/me/consents")) == []


async def test_the_ledger_refuses_update_and_delete_in_the_database(srv: Server) -> None:
    w = await acme(srv)
    await share(w.kim, "acme", email=True)
    led = schema.consent_ledger
    engine = create_async_engine(srv.settings.database_url)  # a writable connection of our own
    try:
        async with engine.connect() as conn:
            for stmt in (update(led).values(action="revoke"), delete(led)):
                with pytest.raises(DBAPIError, match="append-only"):
                    async with conn.begin():
                        await conn.execute(stmt)
            async with conn.begin():
                rows = (await conn.execute(select(led.c.action, led.c.field))).all()
    finally:
        await engine.dispose()
    assert [tuple(r) for r in rows] == [("grant", "email")]


async def test_a_customer_number_is_per_company_and_shown_only_when_granted(srv: Server) -> None:
    w = await acme(srv)
    cid = await start(w.kim, "Meine Rechnung")
    body = {"fields": {}, **CARD, "customer_number": " K-4711 ", "set_customer_number": True}
    card = ok(await put(w.kim, f"{API}/me/privacy/acme", body))
    assert card["customer_number"] == "K-4711" and card["visible"]["customer_number"] is None
    assert (await panel(w.anna, cid))["customer_number"] is None
    await share(w.kim, "acme", customer_number=True)
    assert (await panel(w.anna, cid))["customer_number"] == "K-4711"


async def test_bad_input_is_refused_and_nothing_is_stored(srv: Server) -> None:
    w = await acme(srv)
    cid = await start(w.kim, "Hallo")
    r = await put(w.kim, f"{API}/me/privacy/acme", {"fields": {"iban": True}, **CARD})
    refused(r, 422, "validation_error")
    r = await put(w.kim, f"{API}/me/privacy/acme", {"fields": {"email": True}, "screen": "x"})
    refused(r, 422, "validation_error")
    r = await put(w.kim, f"{API}/me/privacy/acme", {"fields": {"email": True}, **CARD, "x": 1})
    refused(r, 422, "validation_error")
    bad_screen = {"fields": {"email": True}, "screen": "<b>", "text_version": "v1"}
    refused(
        await put(w.kim, f"{API}/me/privacy/acme", bad_screen), 422, "validation_error", "screen"
    )
    refused(await put(w.kim, f"{API}/me/privacy/nobody", {"fields": {}, **CARD}), 404, "not_found")
    refused(
        await put(w.kim, f"{API}/me/profile", {"phone": "call me"}),
        422,
        "validation_error",
        "phone",
    )
    refused(
        await put(w.kim, f"{API}/me/profile", {"first_name": "x" * 101}), 422, "validation_error"
    )
    refused(await put(w.kim, f"{API}/me/profile", {"address": "a\x00b"}), 422, "validation_error")
    # a company cannot read or change what a customer shares
    refused(await w.anna.get(f"{API}/me/privacy/acme"), 403, "forbidden")
    refused(await put(w.anna, f"{API}/me/privacy/acme", {"fields": {}, **CARD}), 403, "forbidden")
    refused(await w.otto.get(f"{API}/me/consents"), 403, "forbidden")
    refused(await srv.client().get(f"{API}/me/profile"), 401, "unauthenticated")
    assert ok(await w.kim.get(f"{API}/me/consents")) == []
    assert (await panel(w.anna, cid))["shared"] == []
    assert ok(await w.kim.get(f"{API}/me/profile"))["phone"] is None
