"""The browser's half of web push, for tests: a subscription's own keys (made here as a browser
makes them), decrypting what reached the loopback push endpoint (``http_ece``, RFC 8291), and
checking the VAPID ``Authorization`` header (RFC 8292) independently of the server's library.

The push endpoint itself is the scripted loopback server of ``tests.webhook_receiver``.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from tests.webhook_receiver import Received


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Device:
    """One browser's push subscription: an ECDH key pair and a 16-byte auth secret."""

    endpoint: str
    private_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    auth: bytes = field(default_factory=lambda: os.urandom(16))

    @property
    def p256dh(self) -> str:
        raw = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return b64url(raw)

    def subscription(self, **extra: Any) -> dict[str, Any]:
        """The body of ``POST /me/push-subscriptions`` (``PushSubscription.toJSON()`` shape)."""
        return {
            "endpoint": self.endpoint,
            "keys": {"p256dh": self.p256dh, "auth": b64url(self.auth)},
            **extra,
        }

    def decrypt(self, req: Received) -> dict[str, Any]:
        """The notification's JSON, decrypted with this device's keys (``aes128gcm``)."""
        assert req.headers["content-encoding"] == "aes128gcm"
        plain = http_ece.decrypt(
            req.body, private_key=self.private_key, auth_secret=self.auth, version="aes128gcm"
        )
        return dict(json.loads(plain))


def verify_vapid(req: Received, public_key: str, *, audience: str, now: datetime) -> dict[str, Any]:
    """Check ``Authorization: vapid t=<JWT>,k=<key>``: ``k`` is the served key, the JWT is
    ES256-signed by it, for ``audience``, not expired and at most 24 hours ahead of ``now``;
    returns the claims."""
    scheme, _, params = req.headers["authorization"].partition(" ")
    assert scheme == "vapid", scheme
    parts = dict(p.strip().split("=", 1) for p in params.split(","))
    assert parts["k"] == public_key
    header_b64, claims_b64, signature_b64 = parts["t"].split(".")
    header = json.loads(unb64url(header_b64))
    assert header["alg"] == "ES256" and header.get("typ", "JWT") == "JWT", header
    signature = unb64url(signature_b64)
    assert len(signature) == 64  # JWS: r || s, 32 bytes each
    key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(public_key))
    der = encode_dss_signature(
        int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    )
    try:
        key.verify(der, f"{header_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise AssertionError("the VAPID JWT's signature does not verify") from None
    claims = dict(json.loads(unb64url(claims_b64)))
    assert claims["aud"] == audience, claims
    assert now.timestamp() < claims["exp"] <= now.timestamp() + 24 * 3600, claims
    assert str(claims["sub"]).startswith(("mailto:", "https://")), claims
    return claims
