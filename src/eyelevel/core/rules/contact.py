"""Contact consent: when a company may reach a customer, on which channel, and when not.

Pure decisions (docs/privacy.md, *Contact*): the customer's preferences per company, whether a
topic is permitted, quiet hours in the customer's own time zone, and the one-click unsubscribe
token. The actions in ``core.actions.contact`` and ``core.actions.notifications`` apply them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from eyelevel.core import secrets
from eyelevel.core.ids import CompanyId, CustomerId

REPLIES = "replies"  # replies in a conversation the customer started: always permitted
UPDATES = "updates"  # about the customer's orders and cases
NEWS = "news"
FEEDBACK = "feedback"  # a short rating after a conversation is resolved (CSAT)
TOPICS = (REPLIES, UPDATES, NEWS, FEEDBACK)
COMPANY_TOPICS = (UPDATES, NEWS)  # what a company may start a conversation for
CHANNELS = ("push", "email")  # in the order a card lists them
LANGUAGES = ("de", "en")
_HHMM = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")


@dataclass(frozen=True, slots=True)
class QuietHours:
    """A daily span in the customer's own time zone; ``start`` > ``end`` spans midnight."""

    start: str  # "HH:MM"
    end: str
    time_zone: str  # IANA, e.g. "Europe/Berlin"


@dataclass(frozen=True, slots=True)
class ContactPreferences:
    """What one customer allows one company. Without a stored row: :func:`default_preferences`."""

    customer_id: CustomerId
    company_id: CompanyId
    topics: frozenset[str] = frozenset({REPLIES})
    channels: frozenset[str] = frozenset({"email"})
    quiet_hours: QuietHours | None = None
    include_text: bool = False
    language: str | None = None  # "de" | "en": the mails' language (None: both)
    updated_at: datetime | None = None
    stored: bool = field(default=False, compare=False)


def default_preferences(customer_id: CustomerId, company_id: CompanyId) -> ContactPreferences:
    """Replies in the customer's own conversations, by email; nothing else until they opt in."""
    return ContactPreferences(customer_id, company_id)


def is_time(value: str) -> bool:
    return bool(_HHMM.fullmatch(value))


def is_time_zone(value: str) -> bool:
    if not value or len(value) > 64 or value.startswith("/") or ".." in value:
        return False
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def topic_permitted(prefs: ContactPreferences, topic: str) -> bool:
    """Whether the company may contact the customer for ``topic`` (replies: always)."""
    return topic == REPLIES or topic in prefs.topics


def _minutes(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


def quiet_until(quiet: QuietHours | None, at: datetime) -> datetime | None:
    """When the quiet hours that contain ``at`` end (None: ``at`` is not quiet).

    Local wall-clock times: a span across midnight belongs to the day it starts on; on a day
    the clocks change the end is the first instant at or after the local end time.
    """
    if quiet is None or quiet.start == quiet.end:
        return None
    zone = ZoneInfo(quiet.time_zone)
    local = at.astimezone(zone)
    now = local.hour * 60 + local.minute
    start, end = _minutes(quiet.start), _minutes(quiet.end)
    if start < end:
        inside = start <= now < end
        end_day = local.date()
    else:  # across midnight
        inside = now >= start or now < end
        end_day = local.date() + timedelta(days=1) if now >= start else local.date()
    if not inside:
        return None
    end_local = datetime.combine(end_day, time(end // 60, end % 60), tzinfo=zone)
    return max(end_local.astimezone(at.tzinfo), at)


def release_at(prefs: ContactPreferences, at: datetime, window: timedelta) -> datetime:
    """When a notification raised at ``at`` goes out: after the batching window, and not
    before the quiet hours around that time end."""
    due = at + window
    return quiet_until(prefs.quiet_hours, due) or due


# -- the one-click unsubscribe token (RFC 8058): verified without a database lookup ----------

_UNSUBSCRIBE = "unsubscribe-email:v1"
_TOKEN = re.compile(r"^([0-9]{1,18})\.([0-9]{1,18})\.([0-9a-f]{32})$")


def _signature(secret_key: str, customer_id: int, company_id: int) -> str:
    return secrets.sign(secret_key, f"{_UNSUBSCRIBE}:{customer_id}:{company_id}")[:32]


def unsubscribe_token(secret_key: str, customer_id: CustomerId, company_id: CompanyId) -> str:
    """``<customer id>.<company id>.<HMAC-SHA256, 128 bits>``: opaque numbers, no address."""
    return f"{customer_id}.{company_id}.{_signature(secret_key, customer_id, company_id)}"


def read_unsubscribe_token(secret_key: str, token: str) -> tuple[CustomerId, CompanyId] | None:
    match = _TOKEN.fullmatch(token)
    if match is None:
        return None
    customer_id, company_id = int(match.group(1)), int(match.group(2))
    if not secrets.same(match.group(3), _signature(secret_key, customer_id, company_id)):
        return None
    return CustomerId(customer_id), CompanyId(company_id)
