"""The messaging guarantees, proven through the real server:

a. every send is idempotent by its client id, under concurrency, over HTTP and the socket;
b. a client that drops and reconnects with ``since`` misses nothing and sees nothing twice;
c. a private note (and typing in one) never reaches the customer by any path.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from dataclasses import dataclass, field
from typing import Any

from websockets.exceptions import ConnectionClosed

from eyelevel.core.actions import operator
from eyelevel.core.entities import Role
from tests.harness import PASSWORD, Client, Server, Socket, all_messages

API = "/api/v1"


async def expect(sock: Socket, pred: Any, seconds: float = 5.0) -> dict[str, Any]:
    """The first frame matching ``pred``, including frames an earlier wait skipped."""
    for i, frame in enumerate(sock.pending):
        if pred(frame):
            return sock.pending.pop(i)
    return await sock.wait_for(pred, seconds)


async def all_conversations(client: Client) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 200}
        if cursor:
            params["cursor"] = cursor
        r = await client.get(f"{API}/conversations", params=params)
        assert r.status_code == 200, r.text
        items.extend(r.json()["items"])
        cursor = r.json()["next_cursor"]
        if cursor is None:
            return items


async def replay(client: Client) -> list[dict[str, Any]]:
    sock = await client.ws(since=0)
    try:
        await sock.send_json({"type": "ping", "ref": "end"})
        frames = []
        while (f := await sock.next_frame())["type"] != "pong":
            frames.append(f)
        return frames
    finally:
        await sock.close()


# -- a. idempotency ------------------------------------------------------------------------


async def test_the_same_client_id_200_times_in_parallel_stores_one_message(server: Server) -> None:
    company = await server.company("acme")
    agent = await server.agent(company)
    customer = await server.customer()
    conv = (await customer.start_conversation("acme", "Hallo"))["conversation"]["id"]
    gate = asyncio.Semaphore(20)

    async def send() -> Any:
        async with gate:
            return await customer.send(conv, "Nur ein Mal, bitte", client_id="retry-42")

    responses = await asyncio.gather(*(send() for _ in range(200)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 199 + [201], statuses
    bodies = [r.json() for r in responses]
    assert len({b["id"] for b in bodies}) == 1
    assert all(b == bodies[0] for b in bodies)  # the stored message, identically, every time
    assert bodies[0]["client_id"] == "retry-42" and bodies[0]["seq"] == 2

    stored = await all_messages(agent.http, conv)
    assert [(m["seq"], m["body"]) for m in stored] == [(1, "Hallo"), (2, "Nur ein Mal, bitte")]
    created = [f for f in await replay(agent) if f["type"] == "message.created"]
    assert [f["data"]["id"] for f in created] == [m["id"] for m in stored]

    r = await customer.send(conv, "Etwas anderes", client_id="retry-42")
    assert r.status_code == 409 and r.json()["code"] == "idempotency_conflict"
    r = await customer.send(conv, "Nur ein Mal, bitte", client_id="retry-42")
    assert r.status_code == 200 and r.json()["id"] == bodies[0]["id"]
    # the same key in another conversation is another message
    other = (await customer.start_conversation("acme", "Zweites Thema"))["conversation"]["id"]
    r = await customer.send(other, "Nur ein Mal, bitte", client_id="retry-42")
    assert r.status_code == 201 and r.json()["id"] != bodies[0]["id"]
    assert len(await all_messages(agent.http, conv)) == 2


async def test_the_same_client_id_over_sockets_and_http_at_once(server: Server) -> None:
    company = await server.company("acme")
    agent = await server.agent(company)
    customer = await server.customer()
    conv = (await customer.start_conversation("acme", "Hallo"))["conversation"]["id"]
    sockets = [await customer.ws() for _ in range(4)]
    frame = {"type": "send", "conversation_id": conv, "body": "Einmal", "client_id": "tab-1"}

    async def over_socket(sock: Socket, n: int) -> list[dict[str, Any]]:
        acks = []
        for i in range(n):
            await sock.send_json({**frame, "ref": str(i)})
            acks.append(await expect(sock, lambda f: f["type"] in ("ack", "error")))
        return acks

    results = await asyncio.gather(
        *(over_socket(s, 10) for s in sockets),
        *(customer.send(conv, "Einmal", client_id="tab-1") for _ in range(10)),
    )
    acks = [a for group in results[:4] for a in group]
    https = results[4:]
    assert all(a["type"] == "ack" for a in acks), acks
    ids = {a["data"]["id"] for a in acks} | {r.json()["id"] for r in https}
    assert len(ids) == 1
    created = [a for a in acks if not a["duplicate"]] + [r for r in https if r.status_code == 201]
    assert len(created) == 1, created
    assert all(r.status_code in (200, 201) for r in https)
    assert [m["body"] for m in await all_messages(agent.http, conv)] == ["Hallo", "Einmal"]

    await sockets[0].send_json({**frame, "ref": "c", "body": "Zweimal"})
    err = await expect(sockets[0], lambda f: f["type"] in ("ack", "error"))
    assert (err["type"], err["code"], err["ref"]) == ("error", "idempotency_conflict", "c")


# -- b. gap-free resume --------------------------------------------------------------------


async def close_while_draining(sock: Socket) -> None:
    """A graceful close: frames still arriving are read and dropped, as a closing page would.

    (websockets stops reading once its queue is full, so without draining, the server's close
    frame would never be read and the close would wait for its timeout.)
    """

    async def drain() -> None:
        with contextlib.suppress(ConnectionClosed):
            async for _ in sock.conn:
                pass

    drainer = asyncio.create_task(drain())
    await sock.conn.close()
    await drainer


@dataclass(eq=False)
class Watcher:
    """One socket client that drops and reconnects at random, keeping what it has seen."""

    name: str
    client: Client
    rng: random.Random
    last_pos: int = 0
    received: list[dict[str, Any]] = field(default_factory=list)  # message.created data
    positions: list[int] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    connects: int = 0
    expected: set[int] | None = None

    def done(self) -> bool:
        return self.expected is not None and {m["id"] for m in self.received} >= self.expected

    def take(self, frame: dict[str, Any]) -> None:
        kind, pos = frame["type"], frame.get("pos")
        if kind in ("resync_required", "error"):
            self.problems.append(f"{self.name}: unexpected {frame}")
            return
        if kind == "hello" or pos is None:  # hello carries the hub's position, not ours
            return
        if pos <= self.last_pos:
            self.problems.append(f"{self.name}: position {pos} after {self.last_pos}")
        self.last_pos = pos
        self.positions.append(pos)
        if kind == "message.created":
            self.received.append(frame["data"])

    async def run(self, stop: asyncio.Event) -> None:
        while not self.done() and not self.problems:
            sock = await self.client.ws(since=self.last_pos)
            self.connects += 1
            loop = asyncio.get_running_loop()
            # drop after a random number of frames or a random moment, whichever comes first
            frames_left = self.rng.randint(1, 40)
            until = loop.time() + self.rng.uniform(0.01, 0.4)
            try:
                while frames_left and not self.done():
                    wait = until - loop.time() if not stop.is_set() else 0.5
                    if wait <= 0:
                        break
                    try:
                        frame = await sock.next_frame(timeout=wait)
                    except TimeoutError:
                        break
                    self.take(frame)
                    frames_left -= 1
            finally:
                if self.rng.random() < 0.5:
                    await close_while_draining(sock)
                else:
                    sock.conn.transport.abort()  # a dead network, no closing handshake


async def test_clients_that_drop_and_resume_miss_nothing_and_repeat_nothing(
    server: Server,
) -> None:
    rng = random.Random(20260101)
    acme, beta = await server.company("acme"), await server.company("beta")
    acme_agents = [await server.agent(acme, name=f"Acme {i}") for i in range(3)]
    beta_agents = [await server.agent(beta, name=f"Beta {i}") for i in range(2)]
    # one agent works for both companies
    both = await server.agent(acme, email="beide@example.com", name="Beide B")
    await operator.ensure_agent(
        server.runtime.ctx,
        beta,
        email="beide@example.com",
        name="Beide B",
        password=PASSWORD,
        role=Role.AGENT,
    )
    customers = [await server.customer(name=f"Kunde {i}") for i in range(6)]
    conversations: list[tuple[Client, str, int]] = []
    for i, customer in enumerate(customers):
        slugs = ["acme", "beta"] if i in (0, 5) else ["acme" if i % 2 else "beta"]
        for slug in slugs:
            started = await customer.start_conversation(slug, f"Hallo {slug} von {i}")
            conversations.append((customer, slug, started["conversation"]["id"]))

    # 20 sockets: every customer twice (12), acme's agents (4), beta's (3), the agent of both
    watched: list[tuple[str, Client]] = []
    for i, customer in enumerate(customers):
        watched += [(f"kunde{i}a", customer), (f"kunde{i}b", customer)]
    for i, agent in enumerate(acme_agents):
        watched += [(f"acme{i}a", agent)] + ([(f"acme{i}b", agent)] if i < 1 else [])
    for i, agent in enumerate(beta_agents):
        watched += [(f"beta{i}a", agent)] + ([(f"beta{i}b", agent)] if i < 1 else [])
    watched.append(("beide", both))
    assert len(watched) == 20, len(watched)
    watchers = [Watcher(name, client, random.Random(rng.random())) for name, client in watched]

    async def customer_sender(customer: Client, convs: list[int], n: int, seed: int) -> None:
        r = random.Random(seed)
        for k in range(n):
            resp = await customer.send(r.choice(convs), f"k{seed}-{k}", client_id=f"k{seed}-{k}")
            assert resp.status_code == 201, resp.text

    async def agent_sender(agent: Client, convs: list[int], n: int, seed: int) -> None:
        r = random.Random(seed)
        for k in range(n):
            note = r.random() < 0.25
            resp = await agent.send(r.choice(convs), f"a{seed}-{k}", note=note)
            assert resp.status_code == 201, resp.text

    acme_convs = [c for _, slug, c in conversations if slug == "acme"]
    beta_convs = [c for _, slug, c in conversations if slug == "beta"]
    senders = [
        customer_sender(c, [conv for owner, _, conv in conversations if owner is c], 25, i)
        for i, c in enumerate(customers)
    ]
    senders += [agent_sender(a, acme_convs, 30, 100 + i) for i, a in enumerate(acme_agents[:2])]
    senders += [agent_sender(a, beta_convs, 30, 200 + i) for i, a in enumerate(beta_agents)]
    senders += [agent_sender(both, acme_convs + beta_convs, 30, 300)]

    stop = asyncio.Event()
    runners = [asyncio.create_task(w.run(stop)) for w in watchers]
    try:
        await asyncio.gather(*senders)  # 6 x 25 + 5 x 30 = 300 messages from 11 senders
        stop.set()
        for w in watchers:
            w.expected = {
                m["id"]
                for conv in await all_conversations(w.client)
                for m in await all_messages(w.client.http, conv["id"])
            }
        _, pending = await asyncio.wait(runners, timeout=30)
        stuck = [
            f"{w.name}: {len(w.expected - {m['id'] for m in w.received})} of "
            f"{len(w.expected)} missing after {w.connects} connections, last pos {w.last_pos}"
            for w, task in zip(watchers, runners, strict=True)
            if task in pending and w.expected is not None
        ]
        assert stuck == [], stuck
        for task in runners:
            task.result()
    finally:
        for task in runners:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*runners, return_exceptions=True)

    problems = [p for w in watchers for p in w.problems]
    assert problems == [], "\n".join(problems[:20])
    total = 0
    for reader, convs in ((acme_agents[0], acme_convs), (beta_agents[0], beta_convs)):
        for conv in convs:
            total += len(await all_messages(reader.http, conv))
    assert total == len(conversations) + 300
    for w in watchers:
        ids = [m["id"] for m in w.received]
        assert len(ids) == len(set(ids)), f"{w.name} saw a message twice"
        assert set(ids) == w.expected, f"{w.name}: missing {w.expected - set(ids)}"
        assert w.positions == sorted(w.positions) and len(set(w.positions)) == len(w.positions)
        by_conv: dict[int, list[int]] = {}
        for m in w.received:
            by_conv.setdefault(m["conversation_id"], []).append(m["seq"])
        for conv, seqs in by_conv.items():
            assert seqs == sorted(seqs), f"{w.name}: conversation {conv} out of order"
        if w.client.kind == "customer":
            assert all(m["kind"] != "note" for m in w.received), w.name
    assert all(w.connects >= 2 for w in watchers)
    assert sum(w.connects for w in watchers) >= 100  # the drops really happened, many times


# -- c. audience ---------------------------------------------------------------------------


async def test_a_private_note_never_reaches_the_customer(server: Server) -> None:
    company = await server.company("acme")
    anna = await server.agent(company, name="Anna Agent")
    bernd = await server.agent(company, name="Bernd Berater", role=Role.LEAD)
    bot = await server.token_client(company, name="CRM")
    customer = await server.customer()
    conv = (await customer.start_conversation("acme", "Hallo"))["conversation"]["id"]
    customer_ws, anna_ws = await customer.ws(), await anna.ws()

    # notes by every kind of company principal, over HTTP and over the socket
    assert (await anna.send(conv, "GEHEIM eins", note=True)).status_code == 201
    await anna_ws.send_json(
        {"type": "send", "conversation_id": conv, "body": "GEHEIM zwei", "note": True}
    )
    assert (await expect(anna_ws, lambda f: f["type"] == "ack"))["data"]["kind"] == "note"
    assert (await bot.send(conv, "GEHEIM drei", note=True)).status_code == 201
    bernd_ws = await bernd.ws()
    await bernd_ws.send_json({"type": "typing", "conversation_id": conv, "private": True})
    private_typing = await expect(anna_ws, lambda f: f["type"] == "typing")
    assert private_typing["data"]["name"] == "Bernd"

    # agents see the notes live
    for body in ("GEHEIM eins", "GEHEIM zwei", "GEHEIM drei"):
        frame = await expect(
            anna_ws, lambda f, b=body: f["type"] == "message.created" and f["data"]["body"] == b
        )
        assert frame["data"]["kind"] == "note"

    # the customer's stream, up to a public message sent after all of them
    assert (await anna.send(conv, "Öffentliche Antwort")).status_code == 201
    await expect(
        customer_ws,
        lambda f: f["type"] == "message.created" and f["data"]["body"] == "Öffentliche Antwort",
    )
    live = json.dumps(customer_ws.pending)
    assert "GEHEIM" not in live and '"note"' not in live
    assert not [f for f in customer_ws.pending if f["type"] == "typing"]

    assert (await bernd.send(conv, "GEHEIM vier, zuletzt", note=True)).status_code == 201
    await expect(
        anna_ws,
        lambda f: f["type"] == "message.created" and f["data"]["body"].startswith("GEHEIM vier"),
    )

    # the catch-up from the beginning
    replayed = await replay(customer)
    assert "GEHEIM" not in json.dumps(replayed)
    customer_bodies = [f["data"]["body"] for f in replayed if f["type"] == "message.created"]
    assert customer_bodies == ["Hallo", "Öffentliche Antwort"]
    agent_bodies = [f["data"]["body"] for f in await replay(anna) if f["type"] == "message.created"]
    assert agent_bodies == [
        "Hallo",
        "GEHEIM eins",
        "GEHEIM zwei",
        "GEHEIM drei",
        "Öffentliche Antwort",
        "GEHEIM vier, zuletzt",
    ]

    # the REST API, every way of paging
    listed = await all_messages(customer.http, conv)
    assert [m["body"] for m in listed] == ["Hallo", "Öffentliche Antwort"]
    for params in (
        {"limit": 1},
        {"after_seq": 1},
        {"before_seq": 7},
        {"before_seq": 7, "limit": 1},
        {"after_seq": 1, "before_seq": 6},
    ):
        r = await customer.get(f"{API}/conversations/{conv}/messages", params=params)
        assert r.status_code == 200 and "GEHEIM" not in r.text, params
    assert len(await all_messages(anna.http, conv)) == 6

    # the conversation list shows the last message the reader may see
    mine = await all_conversations(customer)
    assert mine[0]["last_message"]["body"] == "Öffentliche Antwort"
    assert "GEHEIM" not in json.dumps(mine)
    r = await customer.get(f"{API}/conversations/{conv}")
    assert "GEHEIM" not in r.text
    theirs = await all_conversations(anna)
    assert theirs[0]["last_message"]["body"] == "GEHEIM vier, zuletzt"

    # nothing arrived live for the customer afterwards either
    await customer_ws.send_json({"type": "ping", "ref": "end"})
    await expect(customer_ws, lambda f: f["type"] == "pong")
    assert "GEHEIM" not in json.dumps(customer_ws.pending)


async def test_private_typing_never_reaches_the_customer(server: Server) -> None:
    company = await server.company("acme")
    anna = await server.agent(company, name="Anna Agent")
    bernd = await server.agent(company, name="Bernd Berater")
    customer = await server.customer()
    conv = (await customer.start_conversation("acme", "Hallo"))["conversation"]["id"]
    customer_ws, anna_ws, bernd_ws = await customer.ws(), await anna.ws(), await bernd.ws()

    for _ in range(3):
        await anna_ws.send_json({"type": "typing", "conversation_id": conv, "private": True})
    for _ in range(3):  # the other agent gets every one of them
        frame = await expect(bernd_ws, lambda f: f["type"] == "typing")
        assert frame["data"] == {"conversation_id": conv, "who": "company", "name": "Anna"}
    # public typing afterwards, on the same path: the customer gets that one, and only that
    await anna_ws.send_json({"type": "typing", "conversation_id": conv})
    public = await expect(customer_ws, lambda f: f["type"] == "typing")
    assert public["data"]["who"] == "company"
    await anna_ws.send_json({"type": "send", "conversation_id": conv, "body": "Barriere"})
    await expect(customer_ws, lambda f: f["type"] == "message.created")
    assert [f for f in customer_ws.pending if f["type"] == "typing"] == []
    # a customer cannot type privately
    await customer_ws.send_json({"type": "typing", "conversation_id": conv, "private": True})
    err = await expect(customer_ws, lambda f: f["type"] == "error")
    assert err["code"] == "forbidden"
