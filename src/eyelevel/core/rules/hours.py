"""Business hours: is a company open at a given instant, in its own time zone."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def is_open(
    business_hours: dict[str, list[list[str]]],
    timezone: str,
    at: datetime,
    holidays: Iterable[Mapping[str, str]] = (),
) -> bool:
    """Whether ``at`` falls into one of the day's ``[["HH:MM", "HH:MM"], …]`` intervals.

    The end is exclusive; "24:00" closes at midnight. Intervals never span midnight (a night
    shift is two intervals on two days). A holiday (``{"date": "YYYY-MM-DD", …}``) closes the
    whole local calendar day, whatever the weekday's hours say.
    """
    local = at.astimezone(ZoneInfo(timezone))
    if local.date().isoformat() in {h["date"] for h in holidays}:
        return False
    now = f"{local.hour:02d}:{local.minute:02d}"
    return any(
        start <= now < end for start, end in business_hours.get(WEEKDAYS[local.weekday()], [])
    )
