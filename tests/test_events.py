"""Event contracts, and the proof that events keep a client's state equal to a fresh fetch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from eyelevel.core.events import EventType
from tests.harness import Client, Server

MESSAGE_KEYS = {
    "id",
    "conversation_id",
    "company_id",
    "seq",
    "kind",
    "body",
    "author",
    "client_id",
    "created_at",
    "attachments",
    "mentions",
}
CONTRACTS: dict[str, set[str]] = {
    EventType.CONVERSATION_CREATED: {
        "id",
        "company_id",
        "customer_id",
        "subject",
        "status",
        "owner",
        "snoozed_until",
        "last_seq",
        "created_at",
        "updated_at",
        "last_message_at",
        "sla",
    },
    EventType.MESSAGE_CREATED: MESSAGE_KEYS,
    EventType.CONVERSATION_ASSIGNED: {"conversation_id", "owner", "previous"},
    EventType.CONVERSATION_STATUS_CHANGED: {
        "conversation_id",
        "status",
        "previous",
        "snoozed_until",
    },
    EventType.MESSAGE_READ: {"conversation_id", "reader", "seq"},
    EventType.TYPING: {"conversation_id", "who", "name"},
}


async def _world(server: Server) -> tuple[Client, Client, int, int]:
    company = await server.company("beispiel", "Beispiel GmbH")
    agent = await server.agent(company, name="Anna Agent")
    customer = await server.customer(name="Kim Kunde")
    staff = (await agent.get("/api/v1/companies/beispiel/staff")).json()
    return agent, customer, company.id, staff["agents"][0]["id"]


async def _act(agent: Client, customer: Client, agent_id: int) -> int:
    """Every kind of change, by both sides; returns the conversation id."""
    started = await customer.start_conversation("beispiel", "Erste Frage", subject="Rechnung")
    cid = started["conversation"]["id"]
    await agent.post(f"/api/v1/conversations/{cid}/assignment", {"agent_id": agent_id})
    await agent.send(cid, "Antwort 1")
    await agent.send(cid, "interne Notiz", note=True, mentions=[agent_id])
    await agent.post(f"/api/v1/conversations/{cid}/read", {"seq": 1})
    await customer.post(f"/api/v1/conversations/{cid}/read", {"seq": 3})
    until = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    await agent.post(
        f"/api/v1/conversations/{cid}/status", {"status": "snoozed", "snoozed_until": until}
    )
    await customer.send(cid, "Noch eine Frage")  # reopens
    await agent.post(f"/api/v1/conversations/{cid}/status", {"status": "resolved"})
    await agent.post(f"/api/v1/conversations/{cid}/assignment", {})
    return int(cid)


async def test_every_event_type_matches_its_contract(server: Server) -> None:
    agent, customer, _, agent_id = await _world(server)
    sock = await agent.ws()
    cid = await _act(agent, customer, agent_id)
    await sock.send_json({"type": "typing", "conversation_id": cid})
    agent_frames = await sock.frames_until_quiet()
    seen = {f["type"] for f in agent_frames if f["type"] in CONTRACTS}
    assert seen == set(CONTRACTS), seen
    for frame in agent_frames:
        if frame["type"] in CONTRACTS:
            assert set(frame["data"]) == CONTRACTS[frame["type"]], frame
            if frame["type"] == EventType.MESSAGE_CREATED:
                assert set(frame["data"]["author"]) == {"type", "name"}
            assert (frame["pos"] is None) == (frame["type"] == EventType.TYPING)


def _apply(
    state: dict[int, dict[str, Any]],
    messages: dict[int, list[dict[str, Any]]],
    frame: dict[str, Any],
) -> None:
    """A minimal client: the state a messenger or inbox keeps, updated only from events."""
    data = frame["data"]
    match frame["type"]:
        case "conversation.created":
            state[data["id"]] = {
                k: data[k] for k in ("id", "status", "owner", "subject", "snoozed_until")
            }
            messages[data["id"]] = []
        case "message.created":
            messages[data["conversation_id"]].append(data)
        case "conversation.assigned":
            state[data["conversation_id"]]["owner"] = data["owner"]
        case "conversation.status_changed":
            state[data["conversation_id"]]["status"] = data["status"]
            state[data["conversation_id"]]["snoozed_until"] = data["snoozed_until"]


async def _fetch(
    client: Client,
) -> tuple[dict[int, dict[str, Any]], dict[int, list[dict[str, Any]]]]:
    convs = (await client.get("/api/v1/conversations")).json()["items"]
    state = {
        c["id"]: {k: c[k] for k in ("id", "status", "owner", "subject", "snoozed_until")}
        for c in convs
    }
    msgs = {}
    for c in convs:
        msgs[c["id"]] = (await client.get(f"/api/v1/conversations/{c['id']}/messages")).json()[
            "items"
        ]
    return state, msgs


def _normalise(state: dict[int, dict[str, Any]]) -> dict[int, dict[str, Any]]:
    out = {}
    for cid, conv in state.items():
        conv = dict(conv)
        if conv["snoozed_until"] is not None:
            conv["snoozed_until"] = datetime.fromisoformat(
                conv["snoozed_until"].replace("Z", "+00:00")
            )
        out[cid] = conv
    return out


async def test_applying_events_to_old_state_equals_a_fresh_fetch(server: Server) -> None:
    agent, customer, _, agent_id = await _world(server)
    for client in (agent, customer):
        client.state = await _fetch(client)  # type: ignore[attr-defined]
    sockets = {id(agent): await agent.ws(), id(customer): await customer.ws()}
    await _act(agent, customer, agent_id)
    for client in (agent, customer):
        state, msgs = client.state  # type: ignore[attr-defined]
        for frame in await sockets[id(client)].frames_until_quiet():
            _apply(state, msgs, frame)
        fresh_state, fresh_msgs = await _fetch(client)
        assert _normalise(state) == _normalise(fresh_state), client.kind
        assert msgs == fresh_msgs, client.kind
    # and the customer's view never contained the note or the owner
    _, customer_msgs = customer.state  # type: ignore[attr-defined]
    assert all(m["kind"] != "note" for ms in customer_msgs.values() for m in ms)
    assert all(c["owner"] is None for c in customer.state[0].values())  # type: ignore[attr-defined]
