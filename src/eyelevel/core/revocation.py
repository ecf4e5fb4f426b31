"""Ending open sockets on every process when the right that opened them ends.

A socket is authenticated once, when it opens. When an agent is deactivated, a session is
ended or a customer's account is erased, an ephemeral control message goes out on the bus;
each process's hub closes the matching sockets (close code 4401) instead of sending the
message to anyone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from eyelevel.core.entities import Event
from eyelevel.core.ids import AgentId, CompanyId, CustomerId, EventPos

SOCKETS_REVOKED = "sockets.revoked"  # bus-internal: never sent to a client


@dataclass(frozen=True, slots=True)
class Revocation:
    """Which sockets to close: every one of an agent or of a customer, and/or those opened
    with a session."""

    agent_id: AgentId | None = None
    session_hash: str | None = None  # the stored hash of the session token
    customer_id: CustomerId | None = None


def revocation_event(revocation: Revocation, now: datetime) -> Event:
    # company 0 and no customer: should a hub not know the type, the audience rule sends it
    # to nobody
    return Event(
        pos=EventPos(0),
        type=SOCKETS_REVOKED,
        company_id=CompanyId(0),
        conversation_id=None,
        customer_id=None,
        data={
            "agent_id": revocation.agent_id,
            "session": revocation.session_hash,
            "customer_id": revocation.customer_id,
        },
        created_at=now,
    )


def revocation_of(event: Event) -> Revocation | None:
    """The revocation an event carries; None for every other event."""
    if event.type != SOCKETS_REVOKED:
        return None
    agent_id = event.data.get("agent_id")
    session = event.data.get("session")
    customer_id = event.data.get("customer_id")
    return Revocation(
        agent_id=AgentId(agent_id) if isinstance(agent_id, int) else None,
        session_hash=session if isinstance(session, str) and session else None,
        customer_id=CustomerId(customer_id) if isinstance(customer_id, int) else None,
    )
