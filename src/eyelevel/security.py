"""Password hashing (argon2id, argon2-cffi) and one-time passwords for the second factor (pyotp)."""

from __future__ import annotations

import hmac
from datetime import datetime

import pyotp
from argon2 import PasswordHasher as _Argon2
from argon2.exceptions import InvalidHashError, VerificationError


class Argon2Hasher:
    def __init__(self, *, fast: bool = False) -> None:
        # ``fast`` is for tests only: the same algorithm with minimal cost
        self._ph = _Argon2(time_cost=1, memory_cost=1024, parallelism=1) if fast else _Argon2()

    def hash(self, password: str) -> str:
        return self._ph.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._ph.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False


class PyotpCodes:
    """TOTP (RFC 6238) with pyotp: 6 digits, 30-second steps, one step of clock drift allowed."""

    STEP_SECONDS = 30

    def new_secret(self) -> str:
        return pyotp.random_base32()

    def uri(self, secret: str, *, account: str, issuer: str) -> str:
        return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=issuer)

    def matching_step(self, secret: str, code: str, at: datetime) -> int | None:
        totp = pyotp.TOTP(secret)
        step = int(at.timestamp()) // self.STEP_SECONDS
        found = None
        for offset in (-1, 0, 1):  # compare all three: the time taken does not reveal which
            if hmac.compare_digest(totp.generate_otp(step + offset), code):
                found = step + offset
        return found
