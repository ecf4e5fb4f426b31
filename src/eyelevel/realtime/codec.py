"""Event (de)serialization for the bus and the socket."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from eyelevel.core.entities import Event
from eyelevel.core.ids import CompanyId, EventPos


def event_to_dict(event: Event) -> dict[str, Any]:
    return {
        "pos": event.pos,
        "type": event.type,
        "company_id": event.company_id,
        "conversation_id": event.conversation_id,
        "customer_id": event.customer_id,
        "data": event.data,
        "created_at": event.created_at.isoformat(),
    }


def event_from_dict(d: dict[str, Any]) -> Event:
    return Event(
        pos=EventPos(int(d["pos"])),
        type=str(d["type"]),
        company_id=CompanyId(int(d["company_id"])),
        conversation_id=d["conversation_id"],
        customer_id=d["customer_id"],
        data=d["data"],
        created_at=datetime.fromisoformat(d["created_at"]),
    )


def frame(event: Event) -> str:
    """The socket frame ``{type, pos, data}``; ephemeral events carry ``pos: null``."""
    return json.dumps(
        {"type": event.type, "pos": event.pos or None, "data": event.data},
        separators=(",", ":"),
        ensure_ascii=False,
    )
