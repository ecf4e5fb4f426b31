"""Sends web push notifications (implements ``core.ports.PushSender``).

``pywebpush`` encrypts the payload for the browser's keys (RFC 8291, ``aes128gcm``: a fresh
ephemeral ECDH key and salt per message) and ``py_vapid`` signs the VAPID JWT (RFC 8292, ES256:
``aud`` is the endpoint's origin, ``exp`` at most 24 hours ahead, ``sub`` the operator's
contact). The request itself does not go through pywebpush's ``requests`` call but through
the webhooks' :class:`~eyelevel.webhooks.transport.GuardedTransport` with the push settings: an
endpoint is checked when it is subscribed and again before every send (https only unless the
operator allows http; every resolved address public or inside an allowed network), the request
goes to the checked address (no DNS rebinding), no redirect is followed, and one timeout bounds
it. Nothing here logs: neither keys nor endpoints nor payloads.
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import datetime, timedelta

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02
from pywebpush import WebPusher

from eyelevel.core.errors import DomainError, ErrorCode
from eyelevel.core.ports import WebhookResponse
from eyelevel.core.push import PushSubscription, VapidKeys
from eyelevel.webhooks.transport import GuardedTransport, parse_url

JWT_LIFETIME = timedelta(hours=12)  # RFC 8292: at most 24 hours
_B64URL = re.compile(r"^[A-Za-z0-9_-]+={0,2}$")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(value: str) -> bytes | None:
    """Strict base64url (padding optional); None when it is not."""
    if not _B64URL.match(value):
        return None
    try:
        return base64.urlsafe_b64decode(value.rstrip("=") + "=" * (-len(value.rstrip("=")) % 4))
    except (binascii.Error, ValueError):
        return None


def check_keys(p256dh: str, auth: str) -> None:
    """The browser's keys: an uncompressed P-256 point and a 16-byte secret."""
    raw = b64url_decode(p256dh)
    point_ok = raw is not None and len(raw) == 65 and raw[0] == 4
    if point_ok:
        try:
            ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw or b"")
        except ValueError:
            point_ok = False
    if not point_ok:
        raise DomainError(
            ErrorCode.VALIDATION,
            "keys.p256dh must be a base64url P-256 public key (65 bytes, uncompressed)",
            field="keys.p256dh",
        )
    secret = b64url_decode(auth)
    if secret is None or len(secret) != 16:
        raise DomainError(
            ErrorCode.VALIDATION, "keys.auth must be 16 bytes in base64url", field="keys.auth"
        )


class WebPushSender:
    def __init__(self, transport: GuardedTransport, *, subject: str) -> None:
        self.transport = transport
        self.subject = subject

    def new_keys(self) -> VapidKeys:
        key = ec.generate_private_key(ec.SECP256R1())
        private = key.private_numbers().private_value.to_bytes(32, "big")
        public = key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return VapidKeys(public_key=b64url(public), private_key=b64url(private))

    async def check_subscription(self, endpoint: str, p256dh: str, auth: str) -> str:
        try:
            normalised = await self.transport.check_url(endpoint)
        except DomainError as exc:
            if exc.code == ErrorCode.WEBHOOK_URL_FORBIDDEN:
                raise DomainError(
                    ErrorCode.PUSH_ENDPOINT_FORBIDDEN,
                    exc.detail.replace("host's", "endpoint's"),
                    field="endpoint",
                ) from None
            raise DomainError(
                exc.code, exc.detail.replace("url", "endpoint", 1), field="endpoint"
            ) from None
        check_keys(p256dh, auth)
        return normalised

    def _authorization(self, endpoint: str, keys: VapidKeys, now: datetime) -> str:
        target = parse_url(endpoint, allow_http=True)
        claims = {
            "aud": f"{target.scheme}://{target.host_header()}",
            "sub": self.subject,
            "exp": int((now + JWT_LIFETIME).timestamp()),
        }
        vapid = Vapid02.from_raw(keys.private_key.encode("ascii"))
        return str(vapid.sign(claims)["Authorization"])

    async def send(
        self,
        subscription: PushSubscription,
        keys: VapidKeys,
        data: bytes,
        *,
        now: datetime,
        ttl_seconds: int,
        topic: str | None,
    ) -> WebhookResponse:
        info = {
            "endpoint": subscription.endpoint,
            "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
        }
        body = WebPusher(info).encode(data, content_encoding="aes128gcm")["body"]
        headers = {
            "authorization": self._authorization(subscription.endpoint, keys, now),
            "content-encoding": "aes128gcm",
            "content-type": "application/octet-stream",
            "ttl": str(ttl_seconds),
            "urgency": "normal",
        }
        if topic is not None:
            headers["topic"] = topic
        return await self.transport.send(subscription.endpoint, headers=headers, body=body)
