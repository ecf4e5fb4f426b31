"""Domain errors with stable codes.

Every error a client can see carries an :class:`ErrorCode`; the web layer maps codes to HTTP
status in one table and never sends exception text. Codes are part of the public API: never
rename one, only add.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    NOT_FOUND = "not_found"
    UNAUTHENTICATED = "unauthenticated"
    FORBIDDEN = "forbidden"
    CSRF_FAILED = "csrf_failed"
    VALIDATION = "validation_error"
    MALFORMED = "malformed_request"
    CONFLICT = "conflict"
    IDEMPOTENCY_CONFLICT = "idempotency_conflict"
    EMAIL_TAKEN = "email_taken"
    SLUG_TAKEN = "slug_taken"
    INVALID_CREDENTIALS = "invalid_credentials"
    EMAIL_NOT_VERIFIED = "email_not_verified"
    INVALID_TOKEN = "invalid_token"  # noqa: S105 - an error code, not a secret
    BODY_TOO_LONG = "body_too_long"
    BODY_EMPTY = "body_empty"
    INVALID_STATUS = "invalid_status"
    INVALID_OWNER = "invalid_owner"
    CONVERSATION_CLOSED = "conversation_closed"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    RATE_LIMITED = "rate_limited"
    UNAVAILABLE = "unavailable"
    INTERNAL = "internal_error"
    ATTACHMENT_TOO_LARGE = "attachment_too_large"
    INVALID_FILE = "invalid_file"
    INVALID_MENTION = "invalid_mention"
    SECOND_FACTOR_REQUIRED = "second_factor_required"
    INVALID_SECOND_FACTOR = "invalid_second_factor"
    LAST_ADMIN = "last_admin"
    LABEL_TAKEN = "label_taken"
    INVALID_LABEL = "invalid_label"
    TEAM_TAKEN = "team_taken"
    TEAM_IN_USE = "team_in_use"
    WEBHOOK_URL_FORBIDDEN = "webhook_url_forbidden"
    INVALID_EVENT_TYPE = "invalid_event_type"
    WEBHOOK_DISABLED = "webhook_disabled"
    EXPORT_PENDING = "export_pending"
    EXPORT_LIMIT = "export_limit"
    EXPORT_NOT_READY = "export_not_ready"
    EXPORT_EXPIRED = "export_expired"
    COMPLAINT_EXISTS = "complaint_exists"
    COMPLAINT_STATE = "complaint_state"
    APPROVAL_REQUIRED = "approval_required"
    FEEDBACK_NOT_REQUESTED = "feedback_not_requested"
    CONVERSATION_NOT_RESOLVED = "conversation_not_resolved"
    CONVERSATION_RESTRICTED = "conversation_restricted"
    CONVERSATION_TOPIC_REQUIRED = "conversation_topic_required"
    INVALID_CONVERSATION_TOPIC = "invalid_conversation_topic"
    CONVERSATION_TOPIC_TAKEN = "conversation_topic_taken"
    CONVERSATION_TOPIC_IN_USE = "conversation_topic_in_use"
    INVALID_TEAM = "invalid_team"
    MAIL_ADDRESS_TAKEN = "mail_address_taken"
    CALLBACK_SLOT_FULL = "callback_slot_full"
    CALLBACK_SLOT_INVALID = "callback_slot_invalid"
    CALLBACK_STATE = "callback_state"
    CALLBACK_ACTIVE = "callback_active"
    PHONE_REQUIRED = "phone_required"
    CONTACT_NOT_PERMITTED = "contact_not_permitted"
    PUSH_ENDPOINT_FORBIDDEN = "push_endpoint_forbidden"
    INSUFFICIENT_SCOPE = "insufficient_scope"
    INVALID_REPORT_RANGE = "invalid_report_range"


class DomainError(Exception):
    """A refusal the client can act on. ``detail`` is safe to show (no secrets, no user data)."""

    def __init__(
        self,
        code: ErrorCode,
        detail: str,
        *,
        field: str | None = None,
        extra: dict[str, str] | None = None,
    ) -> None:
        super().__init__(code.value)
        self.code = code
        self.detail = detail
        self.field = field
        # further problem members, e.g. the missing ``scope`` of insufficient_scope
        self.extra = extra or {}


def not_found(what: str) -> DomainError:
    """Objects of another tenant or customer are reported exactly like missing ones."""
    return DomainError(ErrorCode.NOT_FOUND, f"{what} not found")
