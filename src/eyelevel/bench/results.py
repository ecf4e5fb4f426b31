"""What was measured: one client process's ``WorkerResult``, and a scenario's ``RunResult``.

``RunResult`` merges its client processes' figures (latencies, counts, acks per second) for the
report.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field


@dataclass
class WorkerResult:
    index: int
    connected: int = 0
    ack_ms: dict[str, array[float]] = field(default_factory=dict)  # direction -> latencies (ms)
    delivery_ms: dict[str, array[float]] = field(default_factory=dict)
    sent: dict[str, int] = field(default_factory=dict)  # in the measured window
    acked: dict[str, int] = field(default_factory=dict)  # sent in the window and acked
    acked_by_company: dict[int, int] = field(default_factory=dict)  # customer messages
    acked_total: int = 0  # including warm-up: every one must be in the database
    errors: dict[str, int] = field(default_factory=dict)
    max_schedule_lag_ms: float = 0.0
    cpu_seconds: float = 0.0  # this process, during the measured window
    # acks that *arrived* in each second of the window, whenever their message was sent: the
    # rate the server sustained (a server falling behind an open-loop rate shows here)
    per_second: dict[int, int] = field(default_factory=dict)


@dataclass
class RunResult:
    backend: str  # "sqlite" or "postgres"
    bus: str  # "in-process" or "Redis"
    label: str
    rate: float
    sockets: int
    window: float
    workers: list[WorkerResult]
    agents_by_company: dict[int, int]
    rss_peak: int
    rss_end: int
    server_cpu: float  # seconds of CPU in the measured window
    other_cpu: float  # seconds of CPU used by every other process of the machine meanwhile
    in_database: int | None
    clients: int
    cores: int

    def merged(self, attr: str, direction: str) -> list[float]:
        out: list[float] = []
        for w in self.workers:
            out.extend(getattr(w, attr).get(direction, ()))
        out.sort()
        return out

    def total(self, attr: str, key: str | None = None) -> int:
        if key is None:
            return sum(sum(getattr(w, attr).values()) for w in self.workers)
        return sum(getattr(w, attr).get(key, 0) for w in self.workers)

    @property
    def name(self) -> str:
        if self.backend == "sqlite":
            return "SQLite"
        return "PostgreSQL + Redis" if self.bus == "Redis" else "PostgreSQL (in-process bus)"

    def sustained(self) -> float:
        """Messages/s acknowledged during the window."""
        return sum(self.per_second()) / self.window

    def per_second(self) -> list[int]:
        """Acks per whole second of the window (all client processes together)."""
        out = [0] * int(self.window)
        for w in self.workers:
            for second, n in w.per_second.items():
                if 0 <= second < len(out):
                    out[second] += n
        return out

    def errors(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for w in self.workers:
            for k, v in w.errors.items():
                out[k] = out.get(k, 0) + v
        return out

    def expected_deliveries(self) -> dict[str, int]:
        c2a = 0
        for w in self.workers:
            for company, n in w.acked_by_company.items():
                c2a += n * self.agents_by_company.get(company, 0)
        return {"c2a": c2a, "a2c": self.total("acked", "agent")}
