"""The report: a rich table of every scenario, then a few lines on each.

Latencies are p50 / p99 in ms (nearest rank); "msgs/s" is what the server acknowledged during
the window, not what was offered.
"""

from __future__ import annotations

import math
from typing import Any

from eyelevel.bench.options import Options
from eyelevel.bench.results import RunResult


def _pct(values: list[float], q: float) -> float:
    if not values:
        return math.nan
    return values[min(len(values) - 1, max(0, math.ceil(q * len(values)) - 1))]


def _ms(v: float) -> str:
    if math.isnan(v):
        return "–"
    return f"{v:.1f}" if v < 100 else f"{v:.0f}"


def _pair(values: list[float]) -> str:
    return f"{_ms(_pct(values, 0.50))} / {_ms(_pct(values, 0.99))}"


def print_results(console: Any, results: list[RunResult], opts: Options) -> None:
    from rich.table import Table

    table = Table(title="eyelevel bench (loopback WebSockets; latencies in ms, p50 / p99)")
    for col, justify in (
        ("backend", "left"),
        ("load", "left"),
        ("sockets", "right"),
        ("msgs/s", "right"),
        ("send→ack", "right"),
        ("send→delivery", "right"),
        ("errors", "right"),
        ("undelivered", "right"),
        ("server RSS", "right"),
        ("server CPU", "right"),
        ("client CPU", "right"),
    ):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for r in results:
        acks = r.merged("ack_ms", "customer") + r.merged("ack_ms", "agent")
        acks.sort()
        dlv = r.merged("delivery_ms", "c2a") + r.merged("delivery_ms", "a2c")
        dlv.sort()
        expected = r.expected_deliveries()
        undelivered = sum(expected.values()) - sum(
            len(r.merged("delivery_ms", d)) for d in expected
        )
        client_cpu = sum(w.cpu_seconds for w in r.workers)
        table.add_row(
            r.name,
            r.label,
            str(r.sockets),
            f"{r.sustained():,.0f}",
            _pair(acks),
            _pair(dlv),
            str(sum(r.errors().values())),
            str(max(0, undelivered)),
            f"{r.rss_peak / 2**20:.0f} MB",
            f"{100 * r.server_cpu / r.window:.0f}%",
            f"{100 * client_cpu / r.window:.0f}%",
        )
    console.print(table)
    for r in results:
        console.print(f"[bold]{r.name}, {r.label}[/bold]")
        for direction, title, dl in (
            ("customer", "customer → agents", "c2a"),
            ("agent", "agent → customer", "a2c"),
        ):
            acks = r.merged("ack_ms", direction)
            dlv = r.merged("delivery_ms", dl)
            console.print(
                f"  {title}: sent {r.total('sent', direction):,} in the window, "
                f"acked {r.total('acked', direction):,}; ack {_pair(acks)} ms, "
                f"delivery {_pair(dlv)} ms over {len(dlv):,} deliveries "
                f"(expected {r.expected_deliveries()[dl]:,})"
            )
        errors = r.errors()
        if errors:
            console.print("  errors: " + ", ".join(f"{k} × {v}" for k, v in sorted(errors.items())))
        acked_total = sum(w.acked_total for w in r.workers)
        if r.in_database is not None:
            verdict = "ok" if r.in_database >= acked_total else "[red]MISSING[/red]"
            console.print(
                f"  durability: {acked_total:,} messages acknowledged, {r.in_database:,} bench "
                f"messages in the database after the server stopped: {verdict}"
            )
        seconds = r.per_second()
        if len(seconds) >= 2:
            ordered = sorted(seconds)
            console.print(
                f"  acks per second over the window: min {ordered[0]:,}, median "
                f"{ordered[len(ordered) // 2]:,}, max {ordered[-1]:,}"
            )
        other = 100 * r.other_cpu / r.window
        if other > 10:
            console.print(
                f"  [yellow]other processes on this machine used {other:.0f}% of a core during "
                "the window"
                + (" (PostgreSQL and Redis among them)" if r.backend == "postgres" else "")
                + ": the figures may be disturbed[/yellow]"
            )
        lag = max(w.max_schedule_lag_ms for w in r.workers)
        if lag > 50:
            console.print(
                f"  [yellow]the client fell behind its schedule by up to {lag:.0f} ms: the "
                "offered rate was not fully generated[/yellow]"
            )
        console.print(
            f"  server RSS at the end {r.rss_end / 2**20:.0f} MB; CPU = share of one core. "
            f"{r.clients} client process{'es' if r.clients != 1 else ''} on the same "
            f"{r.cores}-core machine: client and server compete for CPU, so these figures "
            "are a lower bound for the server alone."
        )
        if r.backend == "sqlite" and r.rate <= 0:
            got = r.sustained()
            console.print(
                f"  target ≥ 1,500 msgs/s sustained: {'met' if got >= 1500 else 'NOT met'}"
            )
        if r.rate > 0 and r.sockets >= 1000:
            allv = sorted(r.merged("delivery_ms", "c2a") + r.merged("delivery_ms", "a2c"))
            p99 = _pct(allv, 0.99)
            console.print(
                f"  target delivery p99 ≤ 50 ms at {r.rate:g} msgs/s with ≥ 1,000 sockets: "
                f"{'met' if p99 <= 50 else 'NOT met'} ({_ms(p99)} ms)"
            )
