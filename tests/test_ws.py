"""The WebSocket /api/v1/ws: authentication, frames, acknowledgements, typing, read markers,
catch-up from a stream position, and the resync paths."""

from __future__ import annotations

import json
from typing import Any

import pytest
import websockets
from websockets.exceptions import ConnectionClosed

import eyelevel.realtime.hub
import eyelevel.web.ws
from eyelevel.core.entities import Company
from tests.harness import Client, Server, Socket

API = "/api/v1"


async def expect(sock: Socket, pred: Any, seconds: float = 5.0) -> dict[str, Any]:
    """The first frame matching ``pred``, including frames an earlier wait skipped."""
    for i, frame in enumerate(sock.pending):
        if pred(frame):
            return sock.pending.pop(i)
    return await sock.wait_for(pred, seconds)


async def close_code(server: Server, headers: dict[str, str], query: str = "") -> int | None:
    """Connect with ``headers`` and return the close code the server ends the socket with."""
    async with websockets.connect(server.ws_url + query, additional_headers=headers) as conn:
        with pytest.raises(ConnectionClosed) as info:
            await conn.recv()
    return info.value.rcvd.code if info.value.rcvd else None


async def setup(server: Server) -> tuple[Company, Client, Client, int]:
    company = await server.company("acme")
    agent = await server.agent(company, name="Anna Agent")
    customer = await server.customer(name="Kim Kunde")
    conv = (await customer.start_conversation("acme", "Hallo"))["conversation"]["id"]
    return company, agent, customer, conv


def is_(type_: str, **data: Any) -> Any:
    def pred(f: dict[str, Any]) -> bool:
        return f["type"] == type_ and all(f.get("data", {}).get(k) == v for k, v in data.items())

    return pred


async def bodies(client: Client, conv: int) -> list[str]:
    r = await client.get(f"{API}/conversations/{conv}/messages")
    assert r.status_code == 200, r.text
    return [m["body"] for m in r.json()["items"]]


# -- connecting ----------------------------------------------------------------------------


async def test_unauthenticated_socket_is_closed_4401(server: Server) -> None:
    agent = await server.agent(await server.company("acme"))
    origin = {"Origin": server.url}
    assert await close_code(server, origin) == 4401
    assert await close_code(server, {}) == 4401
    assert await close_code(server, {**origin, "Cookie": "eyelevel_session=els_forged"}) == 4401
    assert await close_code(server, {"Authorization": "Bearer elt_forged"}) == 4401
    assert await close_code(server, {"Authorization": "Basic Zm9vOmJhcg=="}) == 4401
    # a signed-out session no longer opens a socket
    headers = agent.ws_headers()
    assert (await agent.post(f"{API}/auth/logout")).status_code == 204
    assert await close_code(server, headers) == 4401


async def test_foreign_origin_with_cookie_is_refused_4403(server: Server) -> None:
    company = await server.company("acme")
    agent = await server.agent(company)
    headers = {**agent.ws_headers(), "Origin": "https://evil.example"}
    assert await close_code(server, headers) == 4403
    assert await close_code(server, {**headers, "Origin": "null"}) == 4403
    # the same cookie from our own origin, and a bearer token from anywhere, are fine
    sock = await agent.ws()
    await sock.close()
    bot = await server.token_client(company)
    conn = await websockets.connect(
        server.ws_url,
        additional_headers={**bot.ws_headers(), "Origin": "https://integration.example"},
    )
    hello = Socket(conn)
    assert (await hello.next_frame())["type"] == "hello"
    await hello.close()


async def test_invalid_since_is_refused(server: Server) -> None:
    _, agent, _, _ = await setup(server)
    for bad in ("abc", "-1", "1.5", "9" * 19):
        async with websockets.connect(
            f"{server.ws_url}?since={bad}", additional_headers=agent.ws_headers()
        ) as conn:
            frame = json.loads(await conn.recv())
            assert frame["type"] == "error" and frame["code"] == "validation_error", frame
            with pytest.raises(ConnectionClosed):
                await conn.recv()
            assert conn.close_code == 1008


async def test_hello_and_ping(server: Server) -> None:
    _, agent, _, _ = await setup(server)
    sock = await agent.ws()
    assert isinstance(sock.hello_pos, int) and sock.hello_pos >= 0
    await sock.send_json({"type": "ping", "ref": "p1"})
    assert await expect(sock, is_("pong")) == {"type": "pong", "ref": "p1"}
    await sock.send_json({"type": "ping"})
    assert (await expect(sock, is_("pong")))["ref"] is None
    await sock.send_json({"type": "pong"})  # answering a server ping needs no reply
    await sock.send_json({"type": "ping", "ref": "p2"})
    assert (await expect(sock, is_("pong")))["ref"] == "p2"
    assert sock.pending == []


# -- sending -------------------------------------------------------------------------------


async def test_send_is_acknowledged_after_commit_and_reaches_the_agent(server: Server) -> None:
    _, agent, customer, conv = await setup(server)
    agent_ws = await agent.ws()
    customer_ws = await customer.ws()

    await customer_ws.send_json(
        {
            "type": "send",
            "ref": "r1",
            "conversation_id": conv,
            "body": "Wo bleibt es?",
            "client_id": "c-1",
        }
    )
    ack = await expect(customer_ws, is_("ack"))
    assert ack["ref"] == "r1" and ack["duplicate"] is False
    msg = ack["data"]
    assert msg["client_id"] == "c-1" and msg["seq"] == 2 and msg["conversation_id"] == conv
    assert msg["body"] == "Wo bleibt es?" and msg["kind"] == "customer"
    assert isinstance(msg["id"], int)
    # acknowledged means committed: a fresh read already has it
    assert await bodies(agent, conv) == ["Hallo", "Wo bleibt es?"]

    seen = await expect(agent_ws, is_("message.created", seq=2))
    assert seen["data"] == msg
    assert isinstance(seen["pos"], int) and seen["pos"] > agent_ws.hello_pos
    own = await expect(customer_ws, is_("message.created", seq=2))
    assert own["data"]["id"] == msg["id"] and own["pos"] == seen["pos"]

    # the agent answers over its socket; the customer sees it live
    await agent_ws.send_json(
        {"type": "send", "ref": "a1", "conversation_id": conv, "body": "Ist unterwegs."}
    )
    ack = await expect(agent_ws, is_("ack"))
    assert (
        ack["ref"] == "a1" and ack["data"]["kind"] == "agent" and ack["data"]["client_id"] is None
    )
    got = await expect(customer_ws, is_("message.created", seq=3))
    assert got["data"]["author"] == {"type": "agent", "name": "Anna"}


async def test_bad_frames_get_an_error_and_the_socket_stays_usable(server: Server) -> None:
    _, agent, customer, conv = await setup(server)
    other = await server.customer()
    foreign = (await other.start_conversation("acme", "Meins"))["conversation"]["id"]
    sock = await customer.ws()
    ok = {"type": "send", "conversation_id": conv, "body": "gut"}

    cases: list[tuple[Any, str, str | None]] = [
        ("not json", "malformed_request", None),
        ("{", "malformed_request", None),
        (b'{"type": "ping"}', "malformed_request", None),  # binary frames are refused
        ("[1, 2]", "malformed_request", None),
        ('"ping"', "malformed_request", None),
        ('{"ref": "no-type"}', "malformed_request", None),
        ({"type": 5, "ref": "t5"}, "malformed_request", None),
        ({"type": "launch", "ref": "u1"}, "malformed_request", "u1"),
        ({"type": "send", "ref": "m1", "conversation_id": conv}, "validation_error", "m1"),
        ({"type": "send", "ref": "m2", "body": "x"}, "validation_error", "m2"),
        ({**ok, "ref": "w1", "conversation_id": str(conv)}, "validation_error", "w1"),
        ({**ok, "ref": "w2", "body": 123}, "validation_error", "w2"),
        ({**ok, "ref": "w3", "note": "no"}, "validation_error", "w3"),
        ({**ok, "ref": "w4", "extra": True}, "validation_error", "w4"),
        ({**ok, "ref": "w5", "conversation_id": 0}, "validation_error", "w5"),
        (
            {"type": "read", "ref": "w6", "conversation_id": conv, "seq": -1},
            "validation_error",
            "w6",
        ),
        ({"type": "typing", "ref": "w7"}, "validation_error", "w7"),
        ({**ok, "ref": "d1", "body": "x" * 10_001}, "body_too_long", "d1"),
        ({**ok, "ref": "d2", "body": "   "}, "body_empty", "d2"),
        ({**ok, "ref": "d3", "client_id": "bad id"}, "validation_error", "d3"),
        ({**ok, "ref": "d4", "note": True}, "forbidden", "d4"),
        ({**ok, "ref": "d5", "conversation_id": foreign}, "not_found", "d5"),
        ({**ok, "ref": "d6", "conversation_id": 999_999}, "not_found", "d6"),
        (
            {"type": "typing", "ref": "d7", "conversation_id": conv, "private": True},
            "forbidden",
            "d7",
        ),
        ({"type": "read", "ref": "d8", "conversation_id": foreign, "seq": 1}, "not_found", "d8"),
        ({**ok, "ref": "big", "body": "x" * (64 * 1024)}, "payload_too_large", None),
        ("x" * (64 * 1024 + 1), "payload_too_large", None),
    ]
    for raw, code, ref in cases:
        if isinstance(raw, bytes | str):
            await sock.conn.send(raw)
        else:
            await sock.send_json(raw)
        frame = await expect(sock, lambda f: f["type"] in ("error", "ack"))
        assert frame["type"] == "error", (raw if len(str(raw)) < 200 else code, frame)
        assert frame["code"] == code, (code, frame)
        assert frame["ref"] == ref, frame
        assert isinstance(frame["detail"], str) and "x" * 50 not in frame["detail"]

    assert await bodies(agent, conv) == ["Hallo"]  # nothing was written
    await sock.send_json({**ok, "ref": "fine", "client_id": "after-errors"})
    ack = await expect(sock, is_("ack"))
    assert ack["ref"] == "fine" and ack["data"]["body"] == "gut"
    assert await bodies(agent, conv) == ["Hallo", "gut"]


async def test_send_over_socket_is_idempotent(server: Server) -> None:
    _, agent, customer, conv = await setup(server)
    sock = await customer.ws()
    second = await customer.ws()  # e.g. the same customer in a second tab, retrying
    frame = {"type": "send", "conversation_id": conv, "body": "Nur einmal", "client_id": "once"}
    acks = []
    for i, s in enumerate((sock, second, sock, second)):
        await s.send_json({**frame, "ref": f"r{i}"})
        acks.append(await expect(s, is_("ack")))
    assert [a["duplicate"] for a in acks] == [False, True, True, True]
    assert len({a["data"]["id"] for a in acks}) == 1
    assert [a["ref"] for a in acks] == ["r0", "r1", "r2", "r3"]
    # over HTTP too: the same client_id returns the stored message
    r = await customer.send(conv, "Nur einmal", client_id="once")
    assert r.status_code == 200 and r.json()["id"] == acks[0]["data"]["id"]

    await sock.send_json({**frame, "ref": "x", "body": "Anders"})
    err = await expect(sock, is_("error"))
    assert (err["code"], err["ref"]) == ("idempotency_conflict", "x")
    assert await bodies(agent, conv) == ["Hallo", "Nur einmal"]


# -- typing and read markers ---------------------------------------------------------------


async def test_typing_reaches_the_other_side_and_private_typing_stays_inside(
    server: Server,
) -> None:
    company, anna, customer, conv = await setup(server)
    bernd = await server.agent(company, name="Bernd Berater")
    anna_ws, bernd_ws, customer_ws = await anna.ws(), await bernd.ws(), await customer.ws()

    await customer_ws.send_json({"type": "typing", "conversation_id": conv})
    typing = await expect(anna_ws, is_("typing"))
    assert typing["pos"] is None  # ephemeral: never stored, never replayed
    assert typing["data"] == {"conversation_id": conv, "who": "customer", "name": "Kim Kunde"}

    await bernd_ws.send_json({"type": "typing", "conversation_id": conv, "private": True})
    note_typing = await expect(anna_ws, is_("typing"))  # agents see it
    assert note_typing["data"] == {"conversation_id": conv, "who": "company", "name": "Bernd"}
    # once an agent has it, the fan-out is done; a later message is the barrier for the customer
    await bernd_ws.send_json({"type": "send", "conversation_id": conv, "body": "Moment bitte"})
    await expect(customer_ws, is_("message.created", body="Moment bitte"))
    assert [f for f in customer_ws.pending if is_("typing", who="company")(f)] == []

    await bernd_ws.send_json({"type": "typing", "conversation_id": conv})
    public = await expect(customer_ws, is_("typing", who="company"))
    assert public["data"] == {"conversation_id": conv, "who": "company", "name": "Bernd"}

    # typing is never replayed
    replay = await customer.ws(since=0)
    await replay.send_json({"type": "ping"})
    await expect(replay, is_("pong"))
    assert "typing" not in [f["type"] for f in replay.pending]


async def test_read_frame_is_acknowledged_and_reaches_the_other_side(server: Server) -> None:
    _, agent, customer, conv = await setup(server)
    await agent.send(conv, "Antwort")
    agent_ws, customer_ws = await agent.ws(), await customer.ws()

    await customer_ws.send_json({"type": "read", "ref": "rd", "conversation_id": conv, "seq": 2})
    ack = await expect(customer_ws, is_("ack"))
    assert ack == {"type": "ack", "ref": "rd", "data": {"moved": True}}
    read = await expect(agent_ws, is_("message.read"))
    assert read["data"] == {"conversation_id": conv, "reader": "customer", "seq": 2}

    await customer_ws.send_json({"type": "read", "ref": "again", "conversation_id": conv, "seq": 1})
    assert (await expect(customer_ws, is_("ack")))["data"] == {"moved": False}

    await agent_ws.send_json({"type": "read", "conversation_id": conv, "seq": 2})
    assert (await expect(agent_ws, is_("ack")))["data"] == {"moved": True}
    read = await expect(customer_ws, is_("message.read", reader="company"))
    assert read["data"]["seq"] == 2
    r = await customer.get(f"{API}/conversations/{conv}")
    assert r.json()["read"] == {"customer": 2, "company": 2}


# -- catch-up ------------------------------------------------------------------------------


async def test_since_replays_what_was_missed_then_goes_live(server: Server) -> None:
    _, agent, customer, conv = await setup(server)
    sock = await customer.ws()
    await agent.send(conv, "eins")
    first = await expect(sock, is_("message.created", body="eins"))
    last_pos = first["pos"]
    await sock.close()

    for body in ("zwei", "drei", "vier"):
        assert (await agent.send(conv, body)).status_code == 201
    await agent.send(conv, "nur intern", note=True)

    sock = await customer.ws(since=last_pos)
    missed = [await expect(sock, is_("message.created")) for _ in range(3)]
    assert [f["data"]["body"] for f in missed] == ["zwei", "drei", "vier"]
    assert [f["data"]["seq"] for f in missed] == [3, 4, 5]
    positions = [f["pos"] for f in missed]
    assert last_pos < positions[0] < positions[1] < positions[2]
    assert sock.pending == []  # nothing before them: no repeat of "eins", no other event

    await agent.send(conv, "fünf")
    live = await expect(sock, is_("message.created"))
    assert live["data"]["body"] == "fünf" and live["data"]["seq"] == 7  # 6 is the note
    assert live["pos"] > positions[-1]
    assert sock.pending == []

    # since=0 replays everything the customer may see, in order
    full = await customer.ws(since=0)
    await full.send_json({"type": "ping"})
    await expect(full, is_("pong"))
    created = [f["data"]["body"] for f in full.pending if f["type"] == "message.created"]
    assert created == ["Hallo", "eins", "zwei", "drei", "vier", "fünf"]
    pos = [f["pos"] for f in full.pending]
    assert pos == sorted(pos) and len(set(pos)) == len(pos)


async def test_since_beyond_the_head_requires_a_resync(server: Server) -> None:
    _, agent, customer, conv = await setup(server)
    sock = await customer.ws(since=10**12)
    frame = await sock.next_frame()
    assert frame == {"type": "resync_required", "pos": sock.hello_pos}
    # the socket then continues live
    await agent.send(conv, "weiter")
    live = await expect(sock, is_("message.created"))
    assert live["data"]["body"] == "weiter"


async def test_a_socket_too_far_behind_must_resync(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, agent, customer, conv = await setup(server)
    monkeypatch.setattr(eyelevel.web.ws, "REPLAY_LIMIT", 3)
    for i in range(4):
        await agent.send(conv, f"m{i}")
    # events so far for the customer: conversation.created + 5 message.created
    sock = await customer.ws(since=0)
    frame = await sock.next_frame()
    assert frame == {"type": "resync_required", "pos": sock.hello_pos}
    await agent.send(conv, "danach")
    live = await expect(sock, is_("message.created"))
    assert live["data"]["body"] == "danach"
    assert sock.pending == []  # no partial replay before the resync

    # within the limit, the replay is complete
    recent = await customer.ws(since=live["pos"] - 1)
    assert (await recent.next_frame())["data"]["body"] == "danach"


async def test_a_socket_whose_backlog_overflows_must_resync(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    company = await server.company("acme")
    agent = await server.agent(company)
    customer = await server.customer()
    sock = await agent.ws()
    # the writer cannot drain between two frames of one commit: one queued frame is "too many"
    monkeypatch.setattr(eyelevel.realtime.hub, "MAX_BACKLOG", 1)
    await customer.start_conversation("acme", "Hallo")  # conversation.created + message.created
    first = await sock.next_frame()
    assert first["type"] == "conversation.created"
    assert await sock.next_frame() == {"type": "resync_required", "pos": None}
    with pytest.raises(ConnectionClosed):
        await sock.next_frame()
    assert sock.conn.close_code == eyelevel.web.ws.CLOSE_RESYNC
