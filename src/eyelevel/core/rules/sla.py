"""SLA clocks as pure state: a target of business time, how much of it a conversation has used,
and whether it is counting now (docs/sla.md).

A running clock counts business time from ``running_since``; a paused one (the conversation is
*pending* or *snoozed*) keeps what it used in ``elapsed`` and counts nothing until it resumes,
when the remaining time is laid onto the calendar again from the instant of the resume.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from eyelevel.core.rules import business_time
from eyelevel.core.rules.business_time import ZERO, Calendar

WARN_FRACTION_PERCENT = 80  # the live warning comes when 80 % of the target is used


class Target(StrEnum):
    FIRST_RESPONSE = "first_response"
    NEXT_RESPONSE = "next_response"
    RESOLUTION = "resolution"


RESPONSE_TARGETS = (Target.FIRST_RESPONSE, Target.NEXT_RESPONSE)


@dataclass(frozen=True, slots=True)
class Targets:
    """Minutes of business time per target; None: no promise for it."""

    first_response: int | None = None
    next_response: int | None = None
    resolution: int | None = None

    def minutes(self, target: Target) -> int | None:
        value: int | None = getattr(self, target.value)
        return value


@dataclass(frozen=True, slots=True)
class Counting:
    target: timedelta
    elapsed: timedelta = ZERO  # business time used before ``running_since``
    running_since: datetime | None = None  # None: paused

    @property
    def paused(self) -> bool:
        return self.running_since is None


def start(target: timedelta, at: datetime) -> Counting:
    return Counting(target, ZERO, at)


def used(cal: Calendar, state: Counting, at: datetime) -> timedelta:
    """Business time used up to ``at``."""
    if state.running_since is None:
        return state.elapsed
    return state.elapsed + business_time.between(cal, state.running_since, at)


def pause(cal: Calendar, state: Counting, at: datetime) -> Counting:
    if state.running_since is None:
        return state
    return Counting(state.target, used(cal, state, at), None)


def resume(state: Counting, at: datetime) -> Counting:
    if state.running_since is not None:
        return state
    return replace(state, running_since=at)


def retarget(cal: Calendar, state: Counting, target: timedelta, at: datetime) -> Counting:
    """Another target (and from now on maybe another calendar): what was used so far is kept,
    measured in the calendar it ran under (``cal``)."""
    if state.running_since is None:
        return replace(state, target=target)
    return Counting(target, used(cal, state, at), at)


def _after(cal: Calendar, state: Counting, amount: timedelta) -> datetime | None:
    if state.running_since is None:
        return None
    left = amount - state.elapsed
    if left <= ZERO:
        return state.running_since
    return business_time.add(cal, state.running_since, left)


def due(cal: Calendar, state: Counting) -> datetime | None:
    """When the target is used up while it keeps running; None while paused (or never)."""
    return _after(cal, state, state.target)


def warn_at(cal: Calendar, state: Counting) -> datetime | None:
    """When :data:`WARN_FRACTION_PERCENT` of the target is used; None while paused."""
    return _after(cal, state, state.target * WARN_FRACTION_PERCENT / 100)
