"""The load: client processes spawned, started together, and the server sampled meanwhile.

``drive`` splits the accounts over ``--clients`` processes (``client.worker_entry``), starts
them on one shared instant, samples the server's RSS and CPU (and the machine's) through the
measured window, and merges what the clients report into a ``RunResult``.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import subprocess
import time
from typing import Any

from eyelevel.bench.accounts import Account
from eyelevel.bench.client import WorkerSpec, worker_entry
from eyelevel.bench.options import (
    DELIVERY_GRACE,
    DRAIN_TIMEOUT,
    SETUP_TIMEOUT,
    BenchError,
    Options,
)
from eyelevel.bench.results import RunResult


def drive(
    backend: str,
    opts: Options,
    accounts: list[Account],
    base_url: str,
    server: subprocess.Popen[bytes],
    console: Any,
) -> RunResult:
    import psutil

    n = max(1, opts.clients)
    customers = [a for a in accounts if a.kind == "customer"]
    agents = [a for a in accounts if a.kind == "agent"]
    idle = [a for a in accounts if a.kind == "idle"]
    conversations: dict[int, list[int]] = {}
    for a in customers:
        conversations.setdefault(a.company, []).append(a.conversation_id)
    agents_by_company: dict[int, int] = {}
    for a in agents:
        agents_by_company[a.company] = agents_by_company.get(a.company, 0) + 1
    share = min(1.0, max(0.0, opts.agent_share)) if agents else 0.0
    closed = opts.rate <= 0
    # closed loop: one message in flight per socket, as a person types; the server handles
    # a socket's frames in order, so more in flight on one socket would only queue there
    agent_loops = 1 if closed and share > 0 else 0
    ws_url = base_url.replace("http://", "ws://") + "/api/v1/ws"
    specs = []
    for i, (cs, ags, ids) in enumerate(
        zip(_split(customers, n), _split(agents, n), _split(idle, n), strict=True)
    ):
        specs.append(
            WorkerSpec(
                index=i,
                ws_url=ws_url,
                origin=base_url,
                accounts=cs + ags + ids,
                conversations=conversations,
                customer_rate=0.0
                if closed
                else opts.rate * (1 - share) * len(cs) / max(1, len(customers)),
                agent_rate=0.0 if closed else opts.rate * share * len(ags) / max(1, len(agents)),
                closed_loop=closed,
                agent_loops=agent_loops if share > 0 else 0,
                warmup=opts.warmup,
                duration=opts.duration,
                deflate=opts.deflate,
                body_chars=opts.body_chars,
            )
        )
    ctx = mp.get_context("spawn")
    procs: list[tuple[Any, Any]] = []
    try:
        for spec in specs:
            parent_end, child_end = ctx.Pipe()
            p = ctx.Process(target=worker_entry, args=(spec, child_end), daemon=True)
            p.start()
            child_end.close()
            procs.append((p, parent_end))
        connected = 0
        for _p, pipe in procs:
            msg = _recv(pipe, SETUP_TIMEOUT, "connect the sockets")
            if msg[0] != "ready":
                raise BenchError(f"client process failed:\n{msg[1]}")
            connected += msg[1]
        console.print(f"  {connected} sockets open, measuring…")
        srv = psutil.Process(server.pid)
        ours = [srv, psutil.Process(), *(psutil.Process(p.pid) for p, _ in procs)]
        t_start = time.monotonic() + 0.5
        for _, pipe in procs:
            pipe.send(("go", t_start))
        window_lo = t_start + opts.warmup
        window_hi = window_lo + opts.duration
        rss_peak = 0
        cpu_lo = cpu_hi = None
        while time.monotonic() < window_hi + 0.05:
            now = time.monotonic()
            if cpu_lo is None and now >= window_lo:
                cpu_lo = srv.cpu_times()
                busy_lo = _busy_seconds(psutil) - sum(_cpu(p) for p in ours)
            rss_peak = max(rss_peak, srv.memory_info().rss)
            time.sleep(min(0.25, max(0.0, (window_lo if cpu_lo is None else window_hi) - now)))
        cpu_hi = srv.cpu_times()
        other_cpu = _busy_seconds(psutil) - sum(_cpu(p) for p in ours) - busy_lo
        rss_end = srv.memory_info().rss
        rss_peak = max(rss_peak, rss_end)
        assert cpu_lo is not None
        server_cpu = (cpu_hi.user - cpu_lo.user) + (cpu_hi.system - cpu_lo.system)
        workers = []
        for _p, pipe in procs:
            msg = _recv(pipe, DRAIN_TIMEOUT + DELIVERY_GRACE + 30, "finish")
            if msg[0] != "result":
                raise BenchError(f"client process failed:\n{msg[1]}")
            workers.append(msg[1])
        for p, _ in procs:
            p.join(timeout=10)
        return RunResult(
            backend=backend,
            bus="Redis" if backend == "postgres" and opts.redis_url else "in-process",
            label="max (closed loop)" if closed else f"{opts.rate:g} msg/s",
            rate=opts.rate,
            sockets=connected,
            window=opts.duration,
            workers=workers,
            agents_by_company=agents_by_company,
            rss_peak=rss_peak,
            rss_end=rss_end,
            server_cpu=server_cpu,
            other_cpu=max(0.0, other_cpu),
            in_database=None,
            clients=n,
            cores=os.cpu_count() or 1,
        )
    finally:
        for p, pipe in procs:
            if p.is_alive():
                p.terminate()
                p.join(timeout=5)
            if p.is_alive():
                p.kill()
            pipe.close()


def _cpu(proc: Any) -> float:
    t = proc.cpu_times()
    return float(t.user + t.system)


def _busy_seconds(psutil: Any) -> float:
    """CPU seconds the whole machine has spent busy since boot."""
    t = psutil.cpu_times()  # (guest time is already in user; steal is not ours to count)
    return float(t.user + t.system + sum(getattr(t, k, 0.0) for k in ("nice", "irq", "softirq")))


def _recv(pipe: Any, timeout: float, what: str) -> Any:
    if not pipe.poll(timeout):
        raise BenchError(f"a client process did not {what} within {timeout:g}s")
    try:
        return pipe.recv()
    except EOFError:
        raise BenchError(f"a client process died before it could {what}") from None


def _split(items: list[Account], n: int) -> list[list[Account]]:
    return [items[i::n] for i in range(n)]
