"""What a bench run is asked to do (``Options``), and the limits every run keeps.

Every wait of the bench has a deadline; they are all here.
"""

from __future__ import annotations

from dataclasses import dataclass

LOOPBACK = "127.0.0.1"
PASSWORD = "bench-password-not-secret"  # noqa: S105 - seeded accounts, throwaway database
CID_PREFIX = "bn"
SESSION_COOKIE = "eyelevel_session"
SERVER_START_TIMEOUT = 60.0
SETUP_TIMEOUT = 300.0
ACK_TIMEOUT = 10.0  # closed loop: a send without an ack after this long is an error
DRAIN_TIMEOUT = 10.0  # after the window: wait this long at most for outstanding acks
DELIVERY_GRACE = 1.5  # then this long for the last deliveries
CONNECT_CONCURRENCY = 32
HTTP_CONCURRENCY = 16


@dataclass(frozen=True)
class Options:
    customers: int = 200
    agents: int = 10
    companies: int = 1
    sockets: int = 0  # total open sockets; the ones beyond customers + agents are idle
    rate: float = 500.0  # messages/s, 0 = closed loop (as fast as acks come back)
    duration: float = 20.0
    warmup: float = 3.0
    agent_share: float = 0.5
    clients: int = 1
    deflate: bool = False
    body_chars: int = 80
    database_url: str | None = None  # PostgreSQL server (admin) URL
    redis_url: str | None = None


class BenchError(Exception):
    """A scenario could not be set up or run: printed, and the bench exits 1."""
