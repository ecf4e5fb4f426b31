"""Property tests of the business-time arithmetic (core/rules/business_time.py) and of the SLA
clock built on it (core/rules/sla.py), over random weekly calendars, holidays, time zones with
daylight-saving changes and pauses.

The oracle is :func:`eyelevel.core.rules.hours.is_open` (the card's "open now", written
independently) asked minute by minute: the arithmetic works on whole spans, the oracle on
single minutes, and on minute-aligned instants they must agree exactly.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from eyelevel.core.rules import business_time as bt
from eyelevel.core.rules import sla
from eyelevel.core.rules.hours import WEEKDAYS, is_open

MINUTE = timedelta(minutes=1)
# zones with DST changes on both hemispheres, odd offsets, a 30-minute DST shift and none
ZONES = (
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",
    "America/Sao_Paulo",
    "Asia/Kolkata",
    "Pacific/Chatham",
    "UTC",
)
# days around daylight-saving changes (Berlin and New York in March, October and November;
# the southern hemisphere in April and October), and some ordinary ones
DAYS = (
    date(2026, 3, 8),
    date(2026, 3, 28),
    date(2026, 3, 29),
    date(2026, 4, 4),
    date(2026, 10, 3),
    date(2026, 10, 24),
    date(2026, 10, 25),
    date(2026, 10, 31),
    date(2026, 11, 1),
    date(2026, 6, 15),
    date(2027, 1, 1),
)

fast = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def hhmm_span(draw: st.DrawFn) -> list[str]:
    start = draw(st.integers(0, 24 * 4 - 1)) * 15
    end = draw(st.integers(start // 15 + 1, 24 * 4)) * 15
    return [f"{start // 60:02d}:{start % 60:02d}", f"{end // 60:02d}:{end % 60:02d}"]


@st.composite
def calendars(
    draw: st.DrawFn,
) -> tuple[bt.Calendar, dict[str, list[list[str]]], list[dict[str, str]]]:
    zone = draw(st.sampled_from(ZONES))
    hours = {
        day: draw(st.lists(hhmm_span(), max_size=3)) for day in WEEKDAYS if draw(st.booleans())
    }
    assume(any(hours.values()))
    holidays = [
        {"date": d.isoformat(), "name": "Feiertag"}
        for d in draw(
            st.lists(
                st.sampled_from([d + timedelta(days=k) for d in DAYS for k in (-1, 0, 1)]),
                max_size=4,
                unique=True,
            )
        )
    ]
    return bt.Calendar.of(zone, hours, holidays), hours, holidays


@st.composite
def instants(draw: st.DrawFn) -> datetime:
    """Minute-aligned UTC instants near a daylight-saving change."""
    day = draw(st.sampled_from(DAYS))
    minutes = draw(st.integers(-36 * 60, 60 * 60))
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + minutes * MINUTE


def oracle_open(
    cal: tuple[bt.Calendar, dict[str, list[list[str]]], list[dict[str, str]]], at: datetime
) -> bool:
    c, hours, holidays = cal
    return is_open(hours, c.timezone, at, holidays)


def oracle_between(
    cal: tuple[bt.Calendar, dict[str, list[list[str]]], list[dict[str, str]]],
    a: datetime,
    b: datetime,
) -> timedelta:
    n, t = 0, a
    while t < b:
        n += oracle_open(cal, t)
        t += MINUTE
    return n * MINUTE


Cal = tuple[bt.Calendar, dict[str, list[list[str]]], list[dict[str, str]]]


def beyond_horizon(c: bt.Calendar, start: datetime, amount: timedelta) -> bool:
    """``add`` gives None only when the calendar has less open time than ``amount`` within
    :data:`bt.HORIZON` (e.g. 15 minutes a week and a target of days)."""
    assert bt.between(c, start, start + bt.HORIZON) < amount
    return True


@fast
@given(calendars(), instants(), st.integers(0, 3 * 24 * 60))
def test_between_counts_exactly_the_open_minutes(cal: Cal, start: datetime, length: int) -> None:
    end = start + length * MINUTE
    assert bt.between(cal[0], start, end) == oracle_between(cal, start, end)


@fast
@given(calendars(), instants(), st.integers(1, 2 * 24 * 60))
def test_add_lands_on_the_minute_the_oracle_reaches(cal: Cal, start: datetime, n: int) -> None:
    due = bt.add(cal[0], start, n * MINUTE)
    if due is None and beyond_horizon(cal[0], start, n * MINUTE):
        return
    assert due is not None
    # walk the oracle until n open minutes have passed
    t, counted = start, 0
    while counted < n:
        counted += oracle_open(cal, t)
        t += MINUTE
    assert due == t
    assert oracle_open(cal, due - MINUTE)  # the last counted minute was open


@fast
@given(calendars(), instants(), st.integers(0, 10 * 24 * 60))
def test_add_then_measure_round_trips(cal: Cal, start: datetime, n: int) -> None:
    due = bt.add(cal[0], start, n * MINUTE)
    if due is None and beyond_horizon(cal[0], start, n * MINUTE):
        return
    assert due is not None and due >= start
    assert bt.between(cal[0], start, due) == n * MINUTE


@fast
@given(calendars(), instants(), st.integers(0, 5 * 24 * 60))
def test_measure_then_add_never_overshoots(cal: Cal, start: datetime, n: int) -> None:
    end = start + n * MINUTE
    due = bt.add(cal[0], start, bt.between(cal[0], start, end))
    assert due is not None and start <= due <= end
    # what lies between the two is closed time only
    assert bt.between(cal[0], due, end) == timedelta(0)


@fast
@given(calendars(), instants(), st.integers(0, 5 * 24 * 60), st.integers(0, 5 * 24 * 60))
def test_add_is_monotonic_and_additive(cal: Cal, start: datetime, m: int, n: int) -> None:
    c = cal[0]
    a, b = bt.add(c, start, m * MINUTE), bt.add(c, start, (m + n) * MINUTE)
    if b is None and beyond_horizon(c, start, (m + n) * MINUTE):
        return
    assert a is not None and b is not None
    assert a <= b
    assert bt.add(c, a, n * MINUTE) == b or (n == 0 and a == b)


@fast
@given(calendars(), instants(), st.integers(0, 4 * 24 * 60), st.integers(0, 4 * 24 * 60))
def test_between_is_additive_over_a_split(cal: Cal, start: datetime, m: int, n: int) -> None:
    mid, end = start + m * MINUTE, start + (m + n) * MINUTE
    c = cal[0]
    assert bt.between(c, start, end) == bt.between(c, start, mid) + bt.between(c, mid, end)


@fast
@given(calendars(), instants(), st.integers(1, 4 * 24 * 60))
def test_holidays_and_closed_hours_never_count(cal: Cal, start: datetime, n: int) -> None:
    c, _, holidays = cal
    due = bt.add(c, start, n * MINUTE)
    if due is None and beyond_horizon(c, start, n * MINUTE):
        return
    assert due is not None
    t = start
    while t < due:
        local = t.astimezone(bt._zone(c.timezone))
        if local.date().isoformat() in {h["date"] for h in holidays}:
            # a holiday minute is never counted
            assert bt.between(c, t, t + MINUTE) == timedelta(0)
        t += 37 * MINUTE


@fast
@given(calendars(), instants(), st.integers(1, 3 * 24 * 60))
def test_zero_is_now_and_any_amount_starts_at_the_next_opening(
    cal: Cal, start: datetime, n: int
) -> None:
    c = cal[0]
    assert bt.add(c, start, timedelta(0)) == start
    first = bt.next_open(c, start)
    assert first is not None and first >= start
    if bt.add(c, start, n * MINUTE) is None and beyond_horizon(c, start, n * MINUTE):
        return
    assert oracle_open(cal, first)
    assert bt.between(c, start, first) == timedelta(0)
    assert bt.add(c, start, n * MINUTE) == bt.add(c, first, n * MINUTE)


@fast
@given(
    calendars(),
    instants(),
    st.integers(1, 2 * 24 * 60),
    st.lists(st.tuples(st.integers(0, 3 * 24 * 60), st.integers(1, 12 * 60)), max_size=3),
)
def test_a_paused_and_resumed_clock_is_due_where_the_oracle_says(
    cal: Cal, start: datetime, target: int, raw_pauses: list[tuple[int, int]]
) -> None:
    """Pauses taken in order (each after the last resumed): the stored clock's pause/resume
    steps give the same due time as counting open, unpaused minutes one by one."""
    c = cal[0]
    pauses: list[tuple[datetime, datetime]] = []
    cursor = start
    for offset, length in sorted(raw_pauses):
        a = max(cursor, start + offset * MINUTE)
        pauses.append((a, a + length * MINUTE))
        cursor = a + length * MINUTE
    clock = sla.start(target * MINUTE, start)
    if sla.due(c, clock) is None and beyond_horizon(c, start, target * MINUTE):
        return
    for a, b in pauses:
        due_before = sla.due(c, clock)
        if due_before is None:
            return  # the pauses pushed it past the horizon
        if due_before <= a:
            break  # due before this pause begins: later pauses change nothing
        clock = sla.resume(sla.pause(c, clock, a), b)
    due = sla.due(c, clock)
    # the oracle: minutes that are open and not inside a pause
    t, counted = start, 0
    while counted < target:
        paused = any(a <= t < b for a, b in pauses)
        counted += oracle_open(cal, t) and not paused
        t += MINUTE
    assert due == t
    assert bt.minus_pauses(c, start, t, pauses) == target * MINUTE


@fast
@given(calendars(), instants(), st.integers(1, 5 * 24 * 60))
def test_the_warning_comes_at_80_percent_and_before_the_due_time(
    cal: Cal, start: datetime, target: int
) -> None:
    c = cal[0]
    clock = sla.start(target * MINUTE, start)
    warn, due = sla.warn_at(c, clock), sla.due(c, clock)
    if due is None and beyond_horizon(c, start, target * MINUTE):
        return
    assert warn is not None and due is not None
    assert start <= warn <= due
    assert bt.between(c, start, warn) == target * MINUTE * 80 / 100


@settings(max_examples=1, deadline=None)
@given(st.just(0))
@example(0)
def test_berlin_spring_and_autumn_by_hand(_: int) -> None:
    """The two Sundays of 2026 in Europe/Berlin, open around the clock: 23 and 25 hours."""
    every_day = {d: [["00:00", "24:00"]] for d in WEEKDAYS}
    cal = bt.Calendar.of("Europe/Berlin", every_day)
    spring = datetime(2026, 3, 28, 23, tzinfo=UTC)  # local midnight of 29 March
    autumn = datetime(2026, 10, 24, 22, tzinfo=UTC)  # local midnight of 25 October
    assert bt.between(cal, spring, spring + timedelta(hours=23)) == timedelta(hours=23)
    nine_to_five = bt.Calendar.of("Europe/Berlin", {"sun": [["01:00", "04:00"]]})
    assert bt.between(nine_to_five, spring, spring + timedelta(days=1)) == timedelta(hours=2)
    assert bt.between(nine_to_five, autumn, autumn + timedelta(days=1)) == timedelta(hours=4)
    # Friday 16:00 plus 2 business hours of 09:00-17:00 on weekdays: Monday 10:00 local
    office = bt.Calendar.of("Europe/Berlin", {d: [["09:00", "17:00"]] for d in WEEKDAYS[:5]})
    friday = datetime(2026, 3, 27, 15, tzinfo=UTC)  # 16:00 CET
    assert bt.add(office, friday, timedelta(hours=2)) == datetime(2026, 3, 30, 8, tzinfo=UTC)
    # a day closed all day is skipped; a never-open calendar is never due
    holiday = bt.Calendar.of(
        "Europe/Berlin",
        {d: [["09:00", "17:00"]] for d in WEEKDAYS[:5]},
        [{"date": "2026-03-30", "name": "Test"}],
    )
    assert bt.add(holiday, friday, timedelta(hours=2)) == datetime(2026, 3, 31, 8, tzinfo=UTC)
    assert bt.add(bt.Calendar.of("UTC", {}), friday, timedelta(minutes=1)) is None
