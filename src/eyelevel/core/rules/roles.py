"""What each role may do inside a company."""

from __future__ import annotations

from eyelevel.core.entities import Role

_RANK = {Role.AGENT: 0, Role.LEAD: 1, Role.ADMIN: 2}


def at_least(role: Role | None, needed: Role) -> bool:
    return role is not None and _RANK[role] >= _RANK[needed]
