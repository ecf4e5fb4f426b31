"""Customer satisfaction (CSAT) through the real server: a customer rates a resolved
conversation only when they allow this company to ask for feedback; the company sees the rating
live; rating again replaces it; bad input is refused precisely and changes nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.harness import Client, Server, start_server
from tests.test_inbox_api import acme, assign, ok, refused, set_status, start

API = "/api/v1"
CARD = {"screen": "contact_card", "text_version": "contact-card-2"}


@pytest.fixture
async def srv(db_url: str, tmp_path: Path) -> AsyncIterator[Server]:
    async with start_server(db_url, tmp_path) as server:
        yield server


async def allow_feedback(c: Client, allowed: bool) -> None:
    r = await c.http.put(
        f"{API}/me/privacy/acme/contact", json={"topics": {"feedback": allowed}, **CARD}
    )
    assert r.status_code == 200, r.text


async def rate(c: Client, cid: int, body: dict[str, Any]) -> Any:
    return await c.http.put(f"{API}/conversations/{cid}/rating", json=body)


async def test_a_customer_rates_a_resolved_conversation_only_when_asked(srv: Server) -> None:
    w = await acme(srv)
    cid = await start(w.kim, "Mein Drucker druckt nicht")
    path = f"{API}/conversations/{cid}/rating"
    await set_status(w.anna, cid, "resolved")

    # no feedback requests allowed: no rating asked for, and none accepted
    assert ok(await w.kim.get(path)) == {
        "score": None,
        "comment": "",
        "rated_at": None,
        "requested": False,
    }
    refused(await rate(w.kim, cid, {"score": 5}), 409, "feedback_not_requested")

    await allow_feedback(w.kim, True)
    assert ok(await w.kim.get(path))["requested"] is True
    ledger = ok(await w.kim.get(f"{API}/me/consents"))
    assert any(e["field"] == "topic:feedback" and e["action"] == "grant" for e in ledger)

    anna_socket = await w.anna.ws()
    rated = ok(await rate(w.kim, cid, {"score": 4, "comment": "  Schnell geholfen  "}))
    assert (rated["score"], rated["comment"], rated["requested"]) == (4, "Schnell geholfen", True)
    frame = await anna_socket.wait_for(lambda f: f["type"] == "conversation.rated")
    assert frame["data"] == {"conversation_id": cid, "score": 4}  # never the comment
    await anna_socket.close()
    seen = ok(await w.anna.get(path))
    assert (seen["score"], seen["comment"], seen["requested"]) == (4, "Schnell geholfen", False)

    # rating again replaces it; the same rating again changes nothing
    again = ok(await rate(w.kim, cid, {"score": 5, "comment": ""}))
    assert (again["score"], again["comment"]) == (5, "")
    assert ok(await w.anna.get(path))["score"] == 5

    # reopened: no rating is asked for until it is resolved again; the old one stays
    await set_status(w.anna, cid, "open")
    refused(await rate(w.kim, cid, {"score": 1}), 409, "conversation_not_resolved")
    assert ok(await w.kim.get(path))["score"] == 5

    # switched off again: no more ratings
    await set_status(w.anna, cid, "resolved")
    await allow_feedback(w.kim, False)
    refused(await rate(w.kim, cid, {"score": 1}), 409, "feedback_not_requested")


async def test_only_the_customer_rates_and_bad_input_is_refused(srv: Server) -> None:
    w = await acme(srv)
    cid = await start(w.kim, "Hallo")
    await set_status(w.anna, cid, "resolved")
    await allow_feedback(w.kim, True)
    refused(await rate(w.anna, cid, {"score": 5}), 403, "forbidden")
    refused(await rate(w.lena, cid, {"score": 5}), 404, "not_found")
    refused(await rate(w.kim, cid, {"score": 0}), 422, "validation_error")
    refused(await rate(w.kim, cid, {"score": 6}), 422, "validation_error")
    refused(await rate(w.kim, cid, {"score": "5"}), 422, "validation_error")
    refused(await rate(w.kim, cid, {"score": 3, "comment": "x" * 2001}), 422, "validation_error")
    refused(await rate(w.kim, cid, {"score": 3, "agent_id": 1}), 422, "validation_error")
    assert ok(await w.kim.get(f"{API}/conversations/{cid}/rating"))["score"] is None


async def test_ratings_flow_into_the_reports(srv: Server) -> None:
    """Each rating counts for the agent who owned the conversation when it was given; the
    report's average equals the ratings' mean, and the CSV carries the same numbers."""
    w = await acme(srv)
    first = await start(w.kim, "Frage eins")
    second = await start(w.lena, "Frage zwei")
    for agent, cid in ((w.anna, first), (w.ben, second)):
        await assign(w.otto, cid, agent_id=agent.id)
    for customer, cid, score in ((w.kim, first, 5), (w.lena, second, 2)):
        await set_status(w.anna, cid, "resolved")
        await allow_feedback(customer, True)
        ok(await rate(customer, cid, {"score": score}))
    day = datetime.now(UTC).date()
    query = {
        "from": (day - timedelta(days=1)).isoformat(),
        "to": (day + timedelta(days=1)).isoformat(),
        "group": "agent",
    }
    path = f"{API}/companies/acme/reports"
    report = ok(await w.otto.get(path, params=query))
    assert (report["total"]["ratings"], report["total"]["csat_average"]) == (2, 3.5)
    by_agent = {r["label"]: (r["ratings"], r["csat_average"]) for r in report["rows"]}
    assert by_agent["Anna Albers"] == (1, 5.0)
    assert by_agent["Ben Becker"] == (1, 2.0)
    csv = (await w.otto.get(f"{path}.csv", params=query)).text
    header, *rows = [line.split(",") for line in csv.strip().splitlines()]
    total = dict(zip(header, rows[-1], strict=True))
    assert (total["csat_ratings"], total["csat_average"]) == ("2", "3.5")
