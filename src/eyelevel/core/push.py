"""Web push's records and pure rules: subscriptions, what a notification says, retry schedule.

A *subscription* is one browser's push endpoint (RFC 8030) with the keys the browser made for
it (``p256dh``: its P-256 ECDH public key, ``auth``: a 16-byte secret; RFC 8291). The server
signs every request with its VAPID key pair (RFC 8292), made once and kept in the database
(``push_keys``), and encrypts the notification for the browser's keys (``aes128gcm``).

What a notification carries (docs/privacy.md, *Web push*) is built here, once, when it is
queued: the company's name as title, a generic line in the device's language as body (the
message text only when the customer chose "include text"), the messenger's URL of the
conversation and a tag that lets a newer notification replace an older one of the same
conversation. Never: the customer's or an agent's name, attachments, other conversations.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NewType

from eyelevel.core.ids import ConversationId, CustomerId

PushSubscriptionId = NewType("PushSubscriptionId", int)

SEND = "push.send"  # the job kind: one notification to one subscription
LANGUAGES = ("en", "de")
MAX_PER_CUSTOMER = 20  # devices; subscribing one more forgets the least recently used
MAX_LABEL = 100
MAX_TEXT = 200  # characters of message text in a notification that includes it
TTL = timedelta(hours=24)  # how long a push service keeps an undelivered notification
# the pause before each retry of a failed send (5xx, 429, no answer); after the last, or once
# the notification is older than TTL, it is dropped
RETRY_DELAYS = (
    timedelta(seconds=10),
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
)
MAX_RETRY_AFTER = timedelta(hours=2)
_TOPIC = re.compile(r"^[A-Za-z0-9_-]{1,32}$")  # RFC 8030 Topic: up to 32 base64url characters

# the generic body by kind of notice (no message text), in the device's language
GENERIC: dict[str, dict[str, str]] = {
    "reply": {"en": "New reply from {company}", "de": "Neue Antwort von {company}"},
    "update": {
        "en": "{company} has an update for you",
        "de": "{company} hat Neuigkeiten zu Ihrem Anliegen",
    },
    "news": {"en": "News from {company}", "de": "Neues von {company}"},
}


@dataclass(frozen=True, slots=True)
class VapidKeys:
    """The server's VAPID key pair: base64url (unpadded) of the raw 32-byte private scalar and
    of the 65-byte uncompressed public point (what ``applicationServerKey`` expects)."""

    public_key: str
    private_key: str

    def __repr__(self) -> str:
        return f"VapidKeys(public_key={self.public_key!r}, private_key='**********')"


@dataclass(frozen=True, slots=True)
class PushSubscription:
    id: PushSubscriptionId
    customer_id: CustomerId
    endpoint: str
    p256dh: str  # base64url, as the browser gave it
    auth: str  # base64url
    label: str  # the customer's name for the device ("Firefox on Linux")
    lang: str  # the device's language at subscription: the generic body's language
    created_at: datetime
    last_success_at: datetime | None


@dataclass(frozen=True, slots=True)
class PushNotice:
    """What the notification pipeline asks to tell a customer.

    ``kind`` picks the generic body (:data:`GENERIC`); ``text`` is the message text, sent only
    when the customer chose "include text"; ``conversation_id`` makes the URL and the tag (a
    newer notice of the same conversation replaces the older on the device).
    """

    kind: str
    conversation_id: ConversationId | None = None
    text: str | None = None


@dataclass(frozen=True, slots=True)
class PushMessage:
    """The JSON the service worker shows: exactly these four fields."""

    title: str
    body: str
    url: str
    tag: str

    def as_json(self) -> dict[str, Any]:
        return {"title": self.title, "body": self.body, "url": self.url, "tag": self.tag}


def build_message(
    notice: PushNotice, *, company_name: str, company_id: int, lang: str, include_text: bool
) -> PushMessage:
    """The notification for one device; message text only with ``include_text``."""
    texts = GENERIC.get(notice.kind, GENERIC["reply"])
    generic = texts.get(lang, texts["en"]).format(company=company_name)
    body = generic
    if include_text and notice.text:
        text = " ".join(notice.text.split())
        body = text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1].rstrip() + "…"
    if notice.conversation_id is not None:
        url = f"/#/chat/{notice.conversation_id}"
        tag = f"c{notice.conversation_id}"
    else:
        url = "/#/"
        tag = f"k{company_id}-{notice.kind}"[:32]
    return PushMessage(title=company_name, body=body, url=url, tag=tag)


def topic_of(tag: str) -> str | None:
    """The ``Topic`` header for a tag (the push service then keeps only the newest undelivered
    notification of that conversation), when the tag fits RFC 8030's form."""
    return tag if _TOPIC.match(tag) else None


def retry_delay(attempt: int, retry_after: float | None) -> timedelta | None:
    """The pause before retry number ``attempt`` (1-based), None when no retry is left."""
    if attempt > len(RETRY_DELAYS):
        return None
    delay = RETRY_DELAYS[attempt - 1]
    if retry_after is not None:
        delay = max(delay, min(timedelta(seconds=retry_after), MAX_RETRY_AFTER))
    return delay


def is_gone(status_code: int | None) -> bool:
    """404 and 410: the push service forgot the subscription (RFC 8030 §7.3); it is removed."""
    return status_code in (404, 410)


def is_transient(status_code: int | None, error: str | None) -> bool:
    """Worth trying again: no answer, a timeout, 429 or a server error."""
    if status_code is None:
        return error in ("timeout", "connect_error", "transport_error")
    return status_code == 429 or status_code >= 500
