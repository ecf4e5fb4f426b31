"""A client process: its sockets, the messages it sends, and the latencies it times.

``worker_entry`` is the ``multiprocessing`` spawn target: it opens the sockets of its share of
the accounts, reports ready, waits for the parent's "go", then sends open loop (at scheduled
instants) or closed loop (each sender waits for its ack), times every ack and every delivery
whose send falls in the measured window, and sends its ``WorkerResult`` back through the pipe.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import signal
import time
import traceback
from array import array
from dataclasses import dataclass
from typing import Any

from eyelevel.bench.accounts import Account
from eyelevel.bench.options import (
    ACK_TIMEOUT,
    CID_PREFIX,
    CONNECT_CONCURRENCY,
    DELIVERY_GRACE,
    DRAIN_TIMEOUT,
    SESSION_COOKIE,
    SETUP_TIMEOUT,
)
from eyelevel.bench.results import WorkerResult

_BODY_TEXT = "Hallo, ich habe eine Frage zu meiner Bestellung und der Lieferung. "


@dataclass
class WorkerSpec:
    index: int
    ws_url: str
    origin: str
    accounts: list[Account]
    conversations: dict[int, list[int]]  # company index -> its conversation ids
    customer_rate: float
    agent_rate: float
    closed_loop: bool
    agent_loops: int
    warmup: float
    duration: float
    deflate: bool
    body_chars: int


def worker_entry(spec: WorkerSpec, pipe: Any) -> None:
    """Entry of a spawned client process: connect, report ready, run on "go", send results."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops us
    try:
        try:
            import uvloop

            runner = asyncio.Runner(loop_factory=uvloop.new_event_loop)
        except ImportError:
            runner = asyncio.Runner()
        with runner:
            result = runner.run(_Worker(spec, pipe).main())
        pipe.send(("result", result))
    except BaseException:  # noqa: BLE001 - reported to the parent, which prints it
        with contextlib.suppress(Exception):
            pipe.send(("failed", traceback.format_exc()))
    finally:
        pipe.close()


@dataclass
class _Sock:
    account: Account
    conn: Any = None
    reader: asyncio.Task[None] | None = None


class _Worker:
    def __init__(self, spec: WorkerSpec, pipe: Any) -> None:
        self.spec = spec
        self.pipe = pipe
        self.res = WorkerResult(spec.index)
        for d in ("customer", "agent"):
            self.res.ack_ms[d] = array("d")
            self.res.sent[d] = 0
            self.res.acked[d] = 0
        for d in ("c2a", "a2c"):
            self.res.delivery_ms[d] = array("d")
        self.pending: dict[str, tuple[int, str, int, asyncio.Future[None] | None]] = {}
        self.seq = 0
        self.window_lo = self.window_hi = 0
        self.body = (_BODY_TEXT * (spec.body_chars // len(_BODY_TEXT) + 1))[: spec.body_chars]
        self.rng = random.Random(spec.index)
        self.sockets: list[_Sock] = []

    def error(self, kind: str) -> None:
        self.res.errors[kind] = self.res.errors.get(kind, 0) + 1

    # -- connections -----------------------------------------------------------------------

    async def connect(self) -> None:
        from websockets.asyncio.client import connect

        sem = asyncio.Semaphore(CONNECT_CONCURRENCY)

        async def one(s: _Sock) -> None:
            async with sem:
                try:
                    s.conn = await connect(
                        self.spec.ws_url,
                        additional_headers={
                            "Origin": self.spec.origin,
                            "Cookie": f"{SESSION_COOKIE}={s.account.cookie}",
                        },
                        compression="deflate" if self.spec.deflate else None,
                        ping_interval=None,
                        max_size=1 << 20,
                        open_timeout=30,
                        close_timeout=2,
                        max_queue=None,
                    )
                    hello = json.loads(await asyncio.wait_for(s.conn.recv(), 10))
                    if hello.get("type") != "hello":
                        raise RuntimeError(f"expected hello, got {hello.get('type')}")
                except Exception as exc:  # noqa: BLE001 - counted
                    self.error(f"connect: {type(exc).__name__}")
                    if s.conn is not None:
                        with contextlib.suppress(Exception):
                            await s.conn.close()
                    s.conn = None
                    return
                s.reader = asyncio.create_task(self.read(s))

        self.sockets = [_Sock(a) for a in self.spec.accounts]
        await asyncio.gather(*(one(s) for s in self.sockets))
        self.res.connected = sum(1 for s in self.sockets if s.conn is not None)

    async def read(self, s: _Sock) -> None:
        kind = s.account.kind
        try:
            async for raw in s.conn:
                now = time.monotonic_ns()
                frame = json.loads(raw)
                ftype = frame.get("type")
                if ftype == "ack":
                    self.on_ack(frame.get("ref"), now)
                elif ftype == "message.created":
                    data = frame["data"]
                    cid = data.get("client_id") or ""
                    if not cid.startswith(CID_PREFIX):
                        continue
                    author = data["author"]["type"]
                    if kind == "agent" and author == "customer":
                        self.on_delivery(cid, now, "c2a")
                    elif kind == "customer" and author == "agent":
                        self.on_delivery(cid, now, "a2c")
                elif ftype == "error":
                    self.error(f"error frame: {frame.get('code')}")
                    ref = frame.get("ref")
                    entry = self.pending.pop(ref, None) if ref else None
                    if entry is not None and entry[3] is not None and not entry[3].done():
                        entry[3].set_result(None)
                elif ftype == "resync_required":
                    self.error("resync_required")
        except Exception as exc:  # noqa: BLE001 - a socket that drops is an error
            self.error(f"socket: {type(exc).__name__}")
            return
        if not self.stopping:
            self.error("socket closed by the server")

    stopping = False

    def on_ack(self, ref: str | None, now: int) -> None:
        entry = self.pending.pop(ref, None) if ref else None
        if entry is None:
            return
        sent_ns, direction, _, fut = entry
        self.res.acked_total += 1
        if self.window_lo <= now < self.window_hi:
            second = (now - self.window_lo) // 1_000_000_000
            self.res.per_second[second] = self.res.per_second.get(second, 0) + 1
        if self.window_lo <= sent_ns < self.window_hi:
            self.res.acked[direction] += 1
            self.res.ack_ms[direction].append((now - sent_ns) / 1e6)
            if direction == "customer":
                company = entry[2]
                self.res.acked_by_company[company] = self.res.acked_by_company.get(company, 0) + 1
        if fut is not None and not fut.done():
            fut.set_result(None)

    def on_delivery(self, cid: str, now: int, direction: str) -> None:
        try:
            sent_ns = int(cid.rsplit(".", 1)[1])
        except (IndexError, ValueError):
            return
        if self.window_lo <= sent_ns < self.window_hi:
            self.res.delivery_ms[direction].append((now - sent_ns) / 1e6)

    # -- sending ---------------------------------------------------------------------------

    async def send(
        self, s: _Sock, conversation_id: int, closed: bool
    ) -> asyncio.Future[None] | None:
        self.seq += 1
        ref = f"r{self.seq}"
        sent_ns = time.monotonic_ns()
        direction = "agent" if s.account.kind == "agent" else "customer"
        fut = asyncio.get_running_loop().create_future() if closed else None
        self.pending[ref] = (sent_ns, direction, s.account.company, fut)
        if self.window_lo <= sent_ns < self.window_hi:
            self.res.sent[direction] += 1
        text = json.dumps(
            {
                "type": "send",
                "ref": ref,
                "conversation_id": conversation_id,
                "body": self.body,
                "client_id": f"{CID_PREFIX}{self.spec.index}.{self.seq}.{sent_ns}",
            },
            separators=(",", ":"),
        )
        try:
            await s.conn.send(text)
        except Exception as exc:  # noqa: BLE001 - counted
            self.pending.pop(ref, None)
            self.error(f"send: {type(exc).__name__}")
            return None
        return fut

    def _conversation_for(self, s: _Sock) -> int:
        if s.account.kind == "customer":
            return s.account.conversation_id
        return self.rng.choice(self.spec.conversations[s.account.company])

    async def open_loop(self, t_start: float, t_end: float) -> None:
        """Send at the scheduled instants, never waiting for acks."""
        live = [s for s in self.sockets if s.conn is not None]
        groups = [
            ([s for s in live if s.account.kind == "customer"], self.spec.customer_rate),
            ([s for s in live if s.account.kind == "agent"], self.spec.agent_rate),
        ]
        groups = [(g, r) for g, r in groups if g and r > 0]
        done = [0] * len(groups)
        turn = [0] * len(groups)
        while True:
            now = time.monotonic()
            if now >= t_end:
                return
            elapsed = now - t_start
            for i, (group, rate) in enumerate(groups):
                due = int(elapsed * rate)
                behind = (due - done[i]) / rate * 1000
                self.res.max_schedule_lag_ms = max(self.res.max_schedule_lag_ms, behind)
                while done[i] < due:
                    s = group[turn[i] % len(group)]
                    turn[i] += 1
                    done[i] += 1
                    await self.send(s, self._conversation_for(s), closed=False)
            await asyncio.sleep(0.002)

    async def closed_loop(self, t_end: float) -> None:
        """Every customer (and ``agent_loops`` per agent) sends, waits for the ack, repeats."""

        async def loop(s: _Sock) -> None:
            while time.monotonic() < t_end and s.conn is not None:
                fut = await self.send(s, self._conversation_for(s), closed=True)
                if fut is None:
                    return
                try:
                    await asyncio.wait_for(fut, ACK_TIMEOUT)
                except TimeoutError:
                    self.error("no ack within 10s")

        tasks = []
        for s in self.sockets:
            if s.conn is None:
                continue
            if s.account.kind == "customer":
                tasks.append(loop(s))
            elif s.account.kind == "agent":
                tasks.extend(loop(s) for _ in range(self.spec.agent_loops))
        await asyncio.gather(*tasks)

    # -- the run ---------------------------------------------------------------------------

    async def main(self) -> WorkerResult:
        await self.connect()
        self.pipe.send(("ready", self.res.connected))
        loop = asyncio.get_running_loop()
        go = await loop.run_in_executor(None, _wait_go, self.pipe)
        t_start = float(go)
        await asyncio.sleep(max(0.0, t_start - time.monotonic()))
        self.window_lo = int((t_start + self.spec.warmup) * 1e9)
        self.window_hi = int((t_start + self.spec.warmup + self.spec.duration) * 1e9)
        t_end = self.window_hi / 1e9
        cpu_task = asyncio.create_task(self._cpu_window())
        if self.spec.closed_loop:
            await self.closed_loop(t_end)
        else:
            await self.open_loop(t_start, t_end)
        # drain: outstanding acks, then the last deliveries
        deadline = time.monotonic() + DRAIN_TIMEOUT
        while self.pending and time.monotonic() < deadline:  # noqa: ASYNC110 - bounded poll
            await asyncio.sleep(0.02)
        for ref, (_, _, _, fut) in list(self.pending.items()):
            if fut is None:  # closed-loop sends already counted their own timeout
                self.error("no ack")
            self.pending.pop(ref, None)
        await asyncio.sleep(DELIVERY_GRACE)
        self.res.cpu_seconds = await cpu_task
        self.stopping = True
        await self.close()
        return self.res

    async def _cpu_window(self) -> float:
        lo = self.window_lo / 1e9
        hi = self.window_hi / 1e9
        await asyncio.sleep(max(0.0, lo - time.monotonic()))
        start = time.process_time()
        await asyncio.sleep(max(0.0, hi - time.monotonic()))
        return time.process_time() - start

    async def close(self) -> None:
        async def one(s: _Sock) -> None:
            if s.conn is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(s.conn.close(), 3)
            if s.reader is not None:
                s.reader.cancel()
                with contextlib.suppress(BaseException):
                    await s.reader

        await asyncio.gather(*(one(s) for s in self.sockets))


def _wait_go(pipe: Any) -> float:
    if not pipe.poll(SETUP_TIMEOUT):
        raise RuntimeError("no go signal from the parent")
    msg = pipe.recv()
    if msg[0] != "go":
        raise RuntimeError(f"unexpected message {msg[0]!r}")
    return float(msg[1])
