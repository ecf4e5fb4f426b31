"""Real ``eyelevel serve`` processes: crash durability, cross-process fan-out, graceful stop.

- ``kill -9`` three times at random moments while clients send and retry with the same
  ``client_id`` → every acknowledged message is stored exactly once, seqs stay contiguous.
- Two processes on PostgreSQL + Redis, customer socket on one and agent socket on the other →
  1,000 messages each way all arrive, once, in order.
- SIGTERM with an open socket → close code 1012 and exit status 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import signal
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from websockets.asyncio.client import ClientConnection

from tests import backends
from tests.harness import all_messages
from tests.processes import Account, Cluster, ServeProcess, login

pytestmark = pytest.mark.slow

REQUIRE_POSTGRES = "REQUIRE: PostgreSQL + Redis backend (EYELEVEL_TEST_BACKEND=postgres)"


# -- crash durability --------------------------------------------------------------------------

KILLS = 3
PACE_SECONDS = 0.01  # a sender's pause between two messages: steady traffic, a few hundred in all
TAIL = 10  # messages each sender sends (acknowledged) after the last restart
BACKOFF_SECONDS = 0.05  # a client's pause before retrying while the server is down


@dataclass
class Ledger:
    """What the clients know: acknowledged client_ids with the seq and body they were told."""

    acked: dict[str, tuple[int, str]] = field(default_factory=dict)
    retries: int = 0
    in_doubt: int = 0  # retried sends the server answered as duplicates: committed, not acked

    def ack(
        self, client_id: str, data: dict[str, Any], body: str, *, duplicate: bool, retried: bool
    ) -> None:
        assert client_id not in self.acked, f"{client_id} acknowledged twice"
        assert data["client_id"] == client_id and data["body"] == body, data
        self.acked[client_id] = (int(data["seq"]), body)
        if duplicate:
            assert retried, f"{client_id}: first attempt answered as a duplicate: {data}"
            self.in_doubt += 1


async def http_sender(
    name: str,
    account: Account,
    proc: ServeProcess,
    conv_id: int,
    ledger: Ledger,
    stop: asyncio.Event,
) -> int:
    """Sends over REST; an unacknowledged send is retried with the same client_id."""
    sent = 0
    tail = TAIL
    async with account.http(proc) as http:
        while not (stop.is_set() and tail == 0):
            if stop.is_set():
                tail -= 1
            client_id = f"{name}-{sent}"
            body = f"{name} message {sent}"
            retried = False
            while True:
                try:
                    r = await http.post(
                        f"/api/v1/conversations/{conv_id}/messages",
                        json={"body": body, "client_id": client_id},
                    )
                except httpx.TransportError:
                    r = None
                if r is not None and r.status_code in (200, 201):
                    ledger.ack(
                        client_id, r.json(), body, duplicate=r.status_code == 200, retried=retried
                    )
                    break
                if r is not None and r.status_code != 503:
                    raise AssertionError(f"{client_id}: {r.status_code} {r.text}")
                retried = True
                ledger.retries += 1
                await asyncio.sleep(BACKOFF_SECONDS)
            sent += 1
            await asyncio.sleep(PACE_SECONDS)
    return sent


async def ws_sender(
    name: str,
    account: Account,
    proc: ServeProcess,
    conv_id: int,
    ledger: Ledger,
    stop: asyncio.Event,
) -> int:
    """Sends ``send`` frames; after a dropped socket it reconnects and sends the same client_id."""
    sent = 0
    tail = TAIL
    conn: ClientConnection | None = None
    try:
        while not (stop.is_set() and tail == 0):
            if stop.is_set():
                tail -= 1
            client_id = f"{name}-{sent}"
            body = f"{name} message {sent}"
            retried = False
            while True:
                try:
                    if conn is None:
                        conn, _ = await account.ws(proc)
                    await conn.send(
                        json.dumps(
                            {
                                "type": "send",
                                "ref": client_id,
                                "conversation_id": conv_id,
                                "body": body,
                                "client_id": client_id,
                            }
                        )
                    )
                    while True:
                        frame = json.loads(await asyncio.wait_for(conn.recv(), 10))
                        if frame.get("ref") == client_id:
                            break
                except (
                    OSError,
                    TimeoutError,
                    websockets.ConnectionClosed,
                    websockets.InvalidHandshake,
                ):
                    if conn is not None:
                        await conn.close()
                    conn = None
                    frame = None
                if frame is not None and frame["type"] == "ack":
                    ledger.ack(
                        client_id,
                        frame["data"],
                        body,
                        duplicate=frame["duplicate"],
                        retried=retried,
                    )
                    break
                if frame is not None and frame.get("code") != "unavailable":
                    raise AssertionError(f"{client_id}: {frame}")
                retried = True
                ledger.retries += 1
                await asyncio.sleep(BACKOFF_SECONDS)
            sent += 1
            await asyncio.sleep(PACE_SECONDS)
    finally:
        if conn is not None:
            await conn.close()
    return sent


async def test_kill_9_loses_no_acknowledged_message_and_duplicates_none(
    db_url: str, tmp_path: Path
) -> None:
    seed = int.from_bytes(os.urandom(4), "big")
    rng = random.Random(seed)
    started = time.monotonic()
    async with Cluster(db_url, tmp_path) as cluster:
        seeded = await cluster.seed()
        (server,) = await cluster.start("serve")
        customer = await login(server, "customer", seeded.customer_email)
        agent = await login(server, "agent", seeded.agent_email)
        async with customer.http(server) as http:
            r = await http.post(
                "/api/v1/conversations",
                json={"company": seeded.company_slug, "body": "start", "client_id": "start"},
            )
            assert r.status_code == 201, r.text
            conv_id = r.json()["conversation"]["id"]

        ledger = Ledger()
        stop = asyncio.Event()
        senders = [
            asyncio.create_task(http_sender("c-http", customer, server, conv_id, ledger, stop)),
            asyncio.create_task(http_sender("a-http", agent, server, conv_id, ledger, stop)),
            asyncio.create_task(ws_sender("c-ws", customer, server, conv_id, ledger, stop)),
            asyncio.create_task(ws_sender("a-ws", agent, server, conv_id, ledger, stop)),
        ]
        kills: list[tuple[float, int]] = []
        try:
            async with asyncio.timeout(60):
                for _ in range(KILLS):
                    delay = rng.uniform(0.3, 1.5)
                    await asyncio.sleep(delay)
                    for task in senders:
                        if task.done():
                            task.result()  # a sender failed: report it now
                    before = len(ledger.acked)
                    await server.kill()
                    kills.append((round(delay, 2), before))
                    await server.start()
                stop.set()
                counts = await asyncio.gather(*senders)
        except Exception as exc:
            raise AssertionError(
                f"{type(exc).__name__}: {exc}\nseed={seed} kills(delay, acked before)={kills}\n"
                + cluster.logs_tail()
            ) from exc
        finally:
            for task in senders:
                task.cancel()
            await asyncio.gather(*senders, return_exceptions=True)

        async with agent.http(server) as http:
            stored = await all_messages(http, conv_id)
        await server.kill()

    context = (
        f"seed={seed} kills(delay, acked before)={kills} sent={counts} "
        f"retries={ledger.retries} in_doubt={ledger.in_doubt}\n{cluster.logs_tail()}"
    )
    seqs = [m["seq"] for m in stored]
    assert seqs == list(range(1, len(stored) + 1)), context
    ids = Counter(m["client_id"] for m in stored)
    assert [cid for cid, n in ids.items() if n > 1] == [], context
    bodies = Counter(m["body"] for m in stored)
    assert [b for b, n in bodies.items() if n > 1] == [], context
    by_client_id = {m["client_id"]: m for m in stored}
    missing = [cid for cid in ledger.acked if cid not in by_client_id]
    assert missing == [], f"acknowledged but lost: {missing}\n{context}"
    for cid, (seq, body) in ledger.acked.items():
        assert (by_client_id[cid]["seq"], by_client_id[cid]["body"]) == (seq, body), context
    # every send was retried until acknowledged, so nothing unacknowledged may be stored either
    assert set(by_client_id) == {"start", *ledger.acked}, context
    assert len(stored) == 1 + sum(counts), context
    assert sum(counts) >= 4 * TAIL
    assert server.runs == 1 + KILLS
    assert "Traceback" not in cluster.stderr_text(), context
    print(
        f"\ncrash test ({backends.BACKEND}): {len(stored)} messages, {context.splitlines()[0]}, "
        f"{time.monotonic() - started:.1f}s"
    )


# -- cross-process fan-out ---------------------------------------------------------------------

EACH_WAY = 1_000
WINDOW = 50  # sends in flight per socket


@dataclass
class Watch:
    """Everything one socket received, checked as it arrives."""

    name: str
    hello_pos: int
    frames: list[dict[str, Any]] = field(default_factory=list)
    created: list[dict[str, Any]] = field(default_factory=list)
    acks: dict[str, dict[str, Any]] = field(default_factory=dict)
    window: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(WINDOW))
    last_pos: int = 0

    def __post_init__(self) -> None:
        self.last_pos = self.hello_pos

    def take(self, frame: dict[str, Any]) -> None:
        self.frames.append(frame)
        assert frame["type"] not in ("error", "resync_required"), (self.name, frame)
        pos = frame.get("pos")
        if pos is not None and frame["type"] != "hello":
            assert pos > self.last_pos, f"{self.name}: pos {pos} after {self.last_pos}"
            self.last_pos = pos
        if frame["type"] == "message.created":
            self.created.append(frame["data"])
        elif frame["type"] == "ack":
            assert frame["ref"] not in self.acks, (self.name, frame)
            self.acks[frame["ref"]] = frame
            self.window.release()


async def pump(conn: ClientConnection, watch: Watch, want_created: int, want_acks: int) -> None:
    """Receives until ``want_created`` messages and ``want_acks`` acks have arrived."""
    async for raw in conn:
        watch.take(json.loads(raw))
        if len(watch.created) >= want_created and len(watch.acks) >= want_acks:
            return
    raise AssertionError(f"{watch.name}: socket closed early ({conn.close_code})")


async def send_all(conn: ClientConnection, watch: Watch, conv_id: int, prefix: str, n: int) -> None:
    """Sends ``n`` messages over the socket with at most ``WINDOW`` unacknowledged."""
    for i in range(n):
        await watch.window.acquire()
        await conn.send(
            json.dumps(
                {
                    "type": "send",
                    "ref": f"{prefix}-{i}",
                    "conversation_id": conv_id,
                    "body": f"{prefix} {i}",
                    "client_id": f"{prefix}-{i}",
                }
            )
        )


@pytest.mark.skipif(backends.BACKEND != "postgres", reason=REQUIRE_POSTGRES)
async def test_two_processes_fan_out_1000_messages_each_way(db_url: str, tmp_path: Path) -> None:
    started = time.monotonic()
    async with Cluster(db_url, tmp_path) as cluster:
        seeded = await cluster.seed()
        a, b = await cluster.start("a", "b")
        customer = await login(a, "customer", seeded.customer_email)
        agent = await login(b, "agent", seeded.agent_email)
        customer_conn, customer_hello = await customer.ws(a)
        agent_conn, agent_hello = await agent.ws(b)
        try:
            async with customer.http(a) as http:
                r = await http.post(
                    "/api/v1/conversations",
                    json={"company": seeded.company_slug, "body": "Hallo", "client_id": "start"},
                )
                assert r.status_code == 201, r.text
                conv_id = r.json()["conversation"]["id"]

            total = 1 + 2 * EACH_WAY
            c_watch = Watch("customer@a", customer_hello)
            a_watch = Watch("agent@b", agent_hello)
            async with asyncio.timeout(90), asyncio.TaskGroup() as tasks:
                tasks.create_task(pump(customer_conn, c_watch, total, EACH_WAY))
                tasks.create_task(pump(agent_conn, a_watch, total, EACH_WAY))
                tasks.create_task(send_all(customer_conn, c_watch, conv_id, "c", EACH_WAY))
                tasks.create_task(send_all(agent_conn, a_watch, conv_id, "a", EACH_WAY))
        finally:
            await customer_conn.close()
            await agent_conn.close()

    for watch, own, other in ((c_watch, "c", "a"), (a_watch, "a", "c")):
        mine = [m for m in watch.created if m["conversation_id"] == conv_id]
        assert [m["seq"] for m in mine] == list(range(1, total + 1)), watch.name
        assert len({m["id"] for m in mine}) == total, watch.name
        from_other = [m["body"] for m in mine if m["client_id"].startswith(f"{other}-")]
        assert from_other == [f"{other} {i}" for i in range(EACH_WAY)], watch.name
        assert sorted(watch.acks) == sorted(f"{own}-{i}" for i in range(EACH_WAY)), watch.name
        assert not any(ack["duplicate"] for ack in watch.acks.values()), watch.name
    print(
        f"\nfan-out: {2 * EACH_WAY} messages across two processes in "
        f"{time.monotonic() - started:.1f}s"
    )


# -- graceful stop -----------------------------------------------------------------------------


async def test_sigterm_closes_sockets_with_1012_and_exits_0(db_url: str, tmp_path: Path) -> None:
    async with Cluster(db_url, tmp_path) as cluster:
        seeded = await cluster.seed()
        (server,) = await cluster.start("serve")
        agent = await login(server, "agent", seeded.agent_email)
        conn, _ = await agent.ws(server)
        try:
            server.send_signal(signal.SIGTERM)
            with pytest.raises(websockets.ConnectionClosed):
                async with asyncio.timeout(5):
                    while True:
                        await conn.recv()
            assert conn.close_code == 1012, (conn.close_code, conn.close_reason)
            code = await server.wait_exit(5)
            assert code == 0, f"exit status {code}\n{server.logs_tail()}"
            assert "Application shutdown complete" in cluster.stderr_text()
            assert "Traceback" not in cluster.stderr_text(), server.logs_tail()
        finally:
            with contextlib.suppress(Exception):
                await conn.close()
