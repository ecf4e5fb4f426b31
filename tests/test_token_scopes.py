"""API token scopes, expiry and last use: what a token may do is what it was given.

Every operation a token may call declares its scope (``x-token-scope`` in the OpenAPI
document); a token without it gets ``403 insufficient_scope`` naming the scope, and an
operation that declares none (company administration, a person's own settings) refuses every
token with ``403 forbidden``.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from eyelevel.clock import FakeClock
from eyelevel.core.entities import Role, Scope
from tests.harness import Server, start_server

API = "/api/v1"


def refused(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert (r.status_code, r.headers.get("content-type")) == (
        status,
        "application/problem+json",
    ), r.text
    body: dict[str, Any] = r.json()
    assert body["code"] == code, body
    return body


async def test_each_operation_needs_its_scope(server: Server) -> None:
    acme = await server.company("acme")
    admin = await server.agent(acme, role=Role.ADMIN)
    kim = await server.customer()
    conv = (await kim.start_conversation("acme", "Hallo"))["conversation"]["id"]
    reader = await server.token_client(acme, "reader", scopes=["conversations:read"])
    writer = await server.token_client(acme, "writer", scopes=["messages:write"])

    assert (await reader.get(f"{API}/conversations")).status_code == 200
    assert (await reader.get(f"{API}/conversations/{conv}/messages")).status_code == 200
    assert (await reader.get(f"{API}/auth/me")).status_code == 200  # every token may ask
    for r, scope in (
        (await reader.send(conv, "Danke"), "messages:write"),
        (await reader.post(f"{API}/conversations/{conv}/status", {"status": "resolved"}), None),
        (await reader.get(f"{API}/companies/acme/webhooks"), "webhooks:manage"),
        (await reader.get(f"{API}/companies/acme/inbox"), "reports:read"),
        (await writer.get(f"{API}/conversations"), "conversations:read"),
    ):
        body = refused(r, 403, "insufficient_scope")
        assert body["scope"] == (scope or "conversations:write")
        assert body["scope"] in body["detail"]
    assert (await writer.send(conv, "Ihre Bestellung ist unterwegs.")).status_code == 201

    # the customer panel (what the customer shares) needs customers:read besides
    panel = await server.token_client(
        acme, "panel", scopes=["conversations:read", "customers:read"]
    )
    for token, shown in ((reader, False), (panel, True)):
        one = (await token.get(f"{API}/conversations/{conv}")).json()
        (listed,) = (await token.get(f"{API}/conversations")).json()["items"]
        assert (one["customer"] is not None, listed["customer"] is not None) == (shown, shown)
    assert (await panel.get(f"{API}/conversations/{conv}")).json()["customer"][
        "name"
    ] == "Kim Kunde"

    # administration and a person's own settings are closed to every token, whatever its scopes
    full = await server.token_client(acme, "full")
    for method, path, payload in (
        ("GET", "/companies/acme/tokens", None),
        ("POST", "/companies/acme/tokens", {"name": "x", "scopes": ["reports:read"]}),
        ("POST", "/companies/acme/labels", {"name": "Neu", "color": "#112233"}),
        ("POST", "/companies/acme/invitations", {"email": "x@acme.example"}),
        ("GET", "/me/profile", None),
    ):
        r = await full.http.request(method, f"{API}{path}", json=payload)
        refused(r, 403, "forbidden")

    # the list shows each token's scopes, sorted
    listed = {t["name"]: t for t in (await admin.get(f"{API}/companies/acme/tokens")).json()}
    assert listed["reader"]["scopes"] == ["conversations:read"]
    assert listed["full"]["scopes"] == sorted(s.value for s in Scope)
    assert listed["writer"]["expires_at"] is None


async def test_the_socket_needs_read_and_its_frames_their_scope(server: Server) -> None:
    acme = await server.company("acme")
    kim = await server.customer()
    conv = (await kim.start_conversation("acme", "Hallo"))["conversation"]["id"]
    writer = await server.token_client(acme, "writer", scopes=["messages:write"])
    headers = {"Authorization": f"Bearer {writer.token}"}
    async with websockets.connect(server.ws_url, additional_headers=headers) as conn:
        with pytest.raises(ConnectionClosed) as info:
            await conn.recv()
    assert info.value.rcvd is not None and info.value.rcvd.code == 4403

    reader = await server.token_client(acme, "reader", scopes=["conversations:read"])
    sock = await reader.ws()
    await sock.send_json(
        {"type": "send", "ref": "r1", "conversation_id": conv, "body": "x", "client_id": "c1"}
    )
    frame = await sock.wait_for(lambda f: f.get("ref") == "r1")
    assert (frame["type"], frame["code"]) == ("error", "insufficient_scope"), frame
    await sock.send_json({"type": "ping", "ref": "p"})
    assert (await sock.wait_for(lambda f: f.get("ref") == "p"))["type"] == "pong"
    await sock.close()
    assert json.dumps(frame).count("messages:write") == 1


async def test_creating_a_token_checks_scopes_and_expiry(server: Server) -> None:
    acme = await server.company("acme")
    admin = await server.agent(acme, role=Role.ADMIN)
    path = f"{API}/companies/acme/tokens"
    for body, field in (
        ({"name": "x"}, "scopes"),
        ({"name": "x", "scopes": []}, "scopes"),
        ({"name": "x", "scopes": ["conversations:delete"]}, "scopes"),
        ({"name": "x", "scopes": ["reports:read"], "expires_at": "2001-01-01T00:00:00Z"}, None),
        ({"name": "x", "scopes": ["reports:read"], "expires_at": "2999-01-01T00:00:00"}, None),
    ):
        problem = refused(await admin.post(path, body), 422, "validation_error")
        if field:
            assert field in json.dumps(problem), problem
        else:
            assert problem["field"] == "expires_at", problem
    assert (await admin.get(path)).json() == []


async def test_a_token_expires_and_records_its_last_use(db_url: str, tmp_path: Path) -> None:
    clock = FakeClock(datetime.now(UTC))  # session cookies expire by the real calendar
    async with start_server(db_url, tmp_path, clock=clock) as server:
        acme = await server.company("acme")
        admin = await server.agent(acme, role=Role.ADMIN)
        expires = (clock.now() + timedelta(days=1)).isoformat()
        r = await admin.post(
            f"{API}/companies/acme/tokens",
            {"name": "Probe", "scopes": ["reports:read"], "expires_at": expires},
        )
        assert r.status_code == 201, r.text
        created = r.json()
        assert created["expires_at"] is not None and created["last_used_at"] is None
        probe = server.client("token")
        probe.token = created["token"]

        clock.advance(timedelta(hours=2))
        assert (await probe.get(f"{API}/companies/acme/inbox")).status_code == 200
        (listed,) = (await admin.get(f"{API}/companies/acme/tokens")).json()
        used_at = clock.now().isoformat().replace("+00:00", "Z")
        assert listed["last_used_at"] in (used_at, clock.now().isoformat())

        clock.advance(timedelta(days=1))
        refused(await probe.get(f"{API}/companies/acme/inbox"), 401, "unauthenticated")


async def test_tokens_made_before_scopes_get_every_scope(db_url: str) -> None:
    """The migration to scopes keeps existing integrations working: they could do everything."""
    from alembic import command
    from sqlalchemy import insert, text
    from sqlalchemy.ext.asyncio import create_async_engine

    from eyelevel.storage.migrate import alembic_config, upgrade
    from eyelevel.storage.schema import companies

    engine = create_async_engine(db_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                insert(companies).values(
                    slug="old",
                    name="Old",
                    timezone="Europe/Berlin",
                    business_hours={},
                    created_at=datetime.now(UTC),
                )
            )
        await asyncio.to_thread(command.downgrade, alembic_config(db_url), "0009")
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO api_tokens (company_id, name, prefix, token_hash, created_at) "
                    "SELECT id, 'legacy', 'elt_x', :hash, :now FROM companies WHERE slug = 'old'"
                ),
                {"hash": "0" * 64, "now": datetime.now(UTC)},
            )
        await asyncio.to_thread(upgrade, db_url)
        async with engine.connect() as conn:
            row = (await conn.execute(text("SELECT scopes, expires_at FROM api_tokens"))).one()
    finally:
        await engine.dispose()
    assert sorted(row.scopes.split()) == sorted(s.value for s in Scope)
    assert row.expires_at is None
