"""The conversation list's ``cursor``: an opaque, URL-safe keyset position.

Newest-activity cursors keep the original format (``<at>|<id>``, see
:func:`eyelevel.web.schemas.encode_cursor`); the other orders prefix their phase, so a cursor
continues only the order it came from (``w|<waiting since>|<activity>|<id>``,
``i|<activity>|<id>`` for sort=waiting's tail, ``m|<mentioned at>|<id>``, and for sort=due
``d|<due at>|<activity>|<id>`` and ``u|<activity>|<id>`` for its tail).
"""

from __future__ import annotations

import base64
from datetime import datetime

from eyelevel.core.errors import DomainError, ErrorCode
from eyelevel.core.ports import ListPhase, ListPosition
from eyelevel.web.schemas import decode_cursor, encode_cursor

_PREFIX = {
    ListPhase.WAITING: "w",
    ListPhase.IDLE: "i",
    ListPhase.MENTION: "m",
    ListPhase.DUE: "d",
    ListPhase.UNDUE: "u",
}
_TWO_TIMES = (ListPhase.WAITING, ListPhase.DUE)
_PHASE = {v: k for k, v in _PREFIX.items()}


def encode_position(pos: ListPosition) -> str:
    if pos.phase == ListPhase.ACTIVITY:
        return encode_cursor(pos.at, pos.id)
    parts = [_PREFIX[pos.phase], pos.at.isoformat()]
    if pos.phase in _TWO_TIMES:
        assert pos.activity is not None
        parts.append(pos.activity.isoformat())
    parts.append(str(pos.id))
    return base64.urlsafe_b64encode("|".join(parts).encode()).decode().rstrip("=")


def decode_position(cursor: str) -> ListPosition:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        raise _invalid() from None
    prefix, _, rest = raw.partition("|")
    phase = _PHASE.get(prefix)
    if phase is None:
        at, row_id = decode_cursor(cursor)
        return ListPosition(ListPhase.ACTIVITY, at, row_id)
    parts = rest.split("|")
    if len(parts) != (3 if phase in _TWO_TIMES else 2):
        raise _invalid()
    try:
        times = [_aware(p) for p in parts[:-1]]
        row_id = int(parts[-1])
    except ValueError:
        raise _invalid() from None
    if not 0 <= row_id < 2**63:
        raise _invalid()
    return ListPosition(phase, times[0], row_id, times[1] if len(times) == 2 else None)


def _aware(text: str) -> datetime:
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        raise ValueError("naive")
    return parsed


def _invalid() -> DomainError:
    return DomainError(ErrorCode.VALIDATION, "invalid cursor", field="cursor")
