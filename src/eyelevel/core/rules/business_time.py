"""Business-time arithmetic: how much open time lies between two instants of a calendar, and
which instant is a given amount of open time after another (docs/sla.md, "How time is counted").

A :class:`Calendar` is weekly opening hours (per weekday a list of ``["HH:MM", "HH:MM"]``
intervals, end exclusive, "24:00" closes at midnight) and whole-day holidays, in one IANA time
zone. An instant is *open* when its local wall-clock time (``astimezone``) falls into one of its
local date's intervals and that date is no holiday: exactly :func:`eyelevel.core.rules.hours.
is_open`. Hence, across daylight-saving changes:

- a gap (spring forward, e.g. Europe/Berlin 02:00 → 03:00) has no wall times, so an interval
  09:00-17:00 is as long as always, and one over 01:00-04:00 is an hour shorter that night;
- a repeated hour (fall back) counts twice when open: 01:00-04:00 is an hour longer.

Intervals never span midnight (a night shift is two intervals on two days); an interval ending
"24:00" and one starting "00:00" the next day join without a gap. Overlapping intervals of a day
count once.

:func:`add` is the smallest instant at which the open time since ``start`` reaches the amount,
so ``add(start, 0) == start`` (a promise is never due before it was made), and an amount used up
exactly at closing time is due at the closing instant, not at the next opening.
:func:`next_open` is the first open instant at or after a given one.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from eyelevel.core.rules.hours import WEEKDAYS

ZERO = timedelta(0)
_DAY = timedelta(days=1)
# how far :func:`add` and :func:`next_open` look before they give up (a calendar whose open
# time is used up only after this is treated as never due)
HORIZON = timedelta(days=3 * 366)


AROUND_THE_CLOCK = {day: [["00:00", "24:00"]] for day in WEEKDAYS}


def counting_hours(
    business_hours: Mapping[str, Sequence[Sequence[str]]],
) -> Mapping[str, Sequence[Sequence[str]]]:
    """The hours an SLA counts in: a company that gave no hours at all counts around the
    clock (its promises are in plain hours), never "never"."""
    return business_hours if any(business_hours.values()) else AROUND_THE_CLOCK


@dataclass(frozen=True, slots=True)
class Calendar:
    """Weekly hours as minutes since local midnight per weekday (0 = Monday), merged and
    sorted, and the holidays as local dates."""

    timezone: str
    week: tuple[tuple[tuple[int, int], ...], ...]
    holidays: frozenset[date]

    @classmethod
    def of(
        cls,
        timezone: str,
        business_hours: Mapping[str, Sequence[Sequence[str]]],
        holidays: Iterable[Mapping[str, str]] = (),
    ) -> Calendar:
        """From the stored shapes: ``{"mon": [["09:00", "17:00"]], …}`` and
        ``[{"date": "YYYY-MM-DD", …}]``."""
        week = tuple(
            _merge(
                sorted((_minutes(s), _minutes(e)) for s, e in business_hours.get(day, ()) if s < e)
            )
            for day in WEEKDAYS
        )
        return cls(timezone, week, frozenset(date.fromisoformat(h["date"]) for h in holidays))

    @property
    def ever_open(self) -> bool:
        return any(self.week)


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def _merge(spans: Iterable[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    out: list[tuple[int, int]] = []
    for start, end in spans:
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return tuple(out)


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _offset(zone: ZoneInfo, at: datetime) -> timedelta:
    offset = at.astimezone(zone).utcoffset()
    assert offset is not None
    return offset


def _segments(zone: ZoneInfo, lo: datetime, hi: datetime) -> list[tuple[datetime, datetime]]:
    """``[lo, hi)`` cut where the zone's UTC offset changes (found to the second). One change
    per piece at most is looked for, so ``hi - lo`` should be about a day."""
    before = _offset(zone, lo)
    if _offset(zone, hi) == before:
        return [(lo, hi)]
    left, right = 0, int((hi - lo).total_seconds())  # offset(lo + right) differs
    while right - left > 1:
        mid = (left + right) // 2
        if _offset(zone, lo + timedelta(seconds=mid)) == before:
            left = mid
        else:
            right = mid
    cut = lo + timedelta(seconds=right)
    return [(lo, cut), (cut, hi)]


def _open_in(cal: Calendar, lo: datetime, hi: datetime) -> list[tuple[datetime, datetime]]:
    """The open spans within ``[lo, hi)`` (UTC, ascending, not merged across intervals)."""
    zone = _zone(cal.timezone)
    out: list[tuple[datetime, datetime]] = []
    for a, b in _segments(zone, lo, hi):
        offset = _offset(zone, a)
        wall_a = (a + offset).replace(tzinfo=None)
        wall_b = (b + offset).replace(tzinfo=None)
        day = wall_a.date()
        while datetime.combine(day, time()) < wall_b:
            if day not in cal.holidays:
                midnight = datetime.combine(day, time())
                for start, end in cal.week[day.weekday()]:
                    s = max(wall_a, midnight + timedelta(minutes=start))
                    e = min(wall_b, midnight + timedelta(minutes=end))
                    if s < e:
                        out.append(
                            ((s - offset).replace(tzinfo=UTC), (e - offset).replace(tzinfo=UTC))
                        )
            day += _DAY
    return out


def open_spans(cal: Calendar, start: datetime) -> Iterator[tuple[datetime, datetime]]:
    """The open spans from ``start`` on (UTC, ascending, adjacent ones merged, the first one
    clipped to ``start``), up to :data:`HORIZON` after it."""
    lo = start.astimezone(UTC)
    end = lo + HORIZON
    pending: tuple[datetime, datetime] | None = None
    while lo < end:
        hi = min(end, lo + _DAY)
        for span in _open_in(cal, lo, hi):
            if pending is not None and span[0] <= pending[1]:
                pending = (pending[0], max(pending[1], span[1]))
                continue
            if pending is not None:
                yield pending
            pending = span
        lo = hi
    if pending is not None:
        yield pending


def between(cal: Calendar, start: datetime, end: datetime) -> timedelta:
    """The open time in ``[start, end)``; zero when ``end <= start``."""
    if end <= start or not cal.ever_open:
        return ZERO
    total = ZERO
    for a, b in open_spans(cal, start):
        if a >= end:
            break
        total += min(b, end) - a
    return total


def add(cal: Calendar, start: datetime, amount: timedelta) -> datetime | None:
    """The smallest instant ``t >= start`` with ``between(cal, start, t) == amount``; None when
    the calendar is never open (or not within :data:`HORIZON`)."""
    if amount < ZERO:
        raise ValueError("negative amount")
    if amount == ZERO:
        return start.astimezone(UTC)
    if not cal.ever_open:
        return None
    left = amount
    for a, b in open_spans(cal, start):
        if b - a >= left:
            return a + left
        left -= b - a
    return None


def next_open(cal: Calendar, at: datetime) -> datetime | None:
    """The first open instant at or after ``at``; None when never (within :data:`HORIZON`)."""
    if not cal.ever_open:
        return None
    for a, _ in open_spans(cal, at):
        return a
    return None


def minus_pauses(
    cal: Calendar, start: datetime, end: datetime, pauses: Sequence[tuple[datetime, datetime]]
) -> timedelta:
    """The open time in ``[start, end)`` outside the (possibly overlapping) ``pauses``."""
    total = between(cal, start, end)
    covered: list[tuple[datetime, datetime]] = []
    for a, b in sorted((max(a, start), min(b, end)) for a, b in pauses):
        if a >= b:
            continue
        if covered and a <= covered[-1][1]:
            covered[-1] = (covered[-1][0], max(covered[-1][1], b))
        else:
            covered.append((a, b))
    for a, b in covered:
        total -= between(cal, a, b)
    return total
