"""RFC 9457 problem details: the one place where errors become HTTP responses.

Never puts exception text or user input into a response; a problem carries a stable ``code``.
"""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from eyelevel.core.errors import DomainError, ErrorCode

log = structlog.get_logger("eyelevel.web")

STATUS: dict[ErrorCode, int] = {
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.UNAUTHENTICATED: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.CSRF_FAILED: 403,
    ErrorCode.VALIDATION: 422,
    ErrorCode.INVALID_REPORT_RANGE: 422,
    ErrorCode.MALFORMED: 400,
    ErrorCode.CONFLICT: 409,
    ErrorCode.IDEMPOTENCY_CONFLICT: 409,
    ErrorCode.EMAIL_TAKEN: 409,
    ErrorCode.SLUG_TAKEN: 409,
    ErrorCode.INVALID_CREDENTIALS: 401,
    ErrorCode.EMAIL_NOT_VERIFIED: 403,
    ErrorCode.INVALID_TOKEN: 400,
    ErrorCode.BODY_TOO_LONG: 422,
    ErrorCode.BODY_EMPTY: 422,
    ErrorCode.INVALID_STATUS: 422,
    ErrorCode.INVALID_OWNER: 422,
    ErrorCode.CONVERSATION_CLOSED: 409,
    ErrorCode.PAYLOAD_TOO_LARGE: 413,
    ErrorCode.UNSUPPORTED_MEDIA_TYPE: 415,
    ErrorCode.METHOD_NOT_ALLOWED: 405,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.UNAVAILABLE: 503,
    ErrorCode.INTERNAL: 500,
    ErrorCode.ATTACHMENT_TOO_LARGE: 413,
    ErrorCode.INVALID_FILE: 422,
    ErrorCode.INVALID_MENTION: 422,
    ErrorCode.SECOND_FACTOR_REQUIRED: 401,
    ErrorCode.INVALID_SECOND_FACTOR: 401,
    ErrorCode.LAST_ADMIN: 409,
    ErrorCode.LABEL_TAKEN: 409,
    ErrorCode.MAIL_ADDRESS_TAKEN: 409,
    ErrorCode.INVALID_LABEL: 422,
    ErrorCode.TEAM_TAKEN: 409,
    ErrorCode.TEAM_IN_USE: 409,
    ErrorCode.WEBHOOK_URL_FORBIDDEN: 422,
    ErrorCode.INVALID_EVENT_TYPE: 422,
    ErrorCode.WEBHOOK_DISABLED: 409,
    ErrorCode.EXPORT_PENDING: 409,
    ErrorCode.EXPORT_LIMIT: 429,
    ErrorCode.EXPORT_NOT_READY: 409,
    ErrorCode.EXPORT_EXPIRED: 410,
    ErrorCode.COMPLAINT_EXISTS: 409,
    ErrorCode.COMPLAINT_STATE: 409,
    ErrorCode.APPROVAL_REQUIRED: 403,
    ErrorCode.FEEDBACK_NOT_REQUESTED: 409,
    ErrorCode.CONVERSATION_NOT_RESOLVED: 409,
    ErrorCode.CONVERSATION_RESTRICTED: 409,
    ErrorCode.CONVERSATION_TOPIC_REQUIRED: 422,
    ErrorCode.INVALID_CONVERSATION_TOPIC: 422,
    ErrorCode.CONVERSATION_TOPIC_TAKEN: 409,
    ErrorCode.CONVERSATION_TOPIC_IN_USE: 409,
    ErrorCode.INVALID_TEAM: 422,
    ErrorCode.CALLBACK_SLOT_FULL: 409,
    ErrorCode.CALLBACK_SLOT_INVALID: 422,
    ErrorCode.CALLBACK_STATE: 409,
    ErrorCode.CALLBACK_ACTIVE: 409,
    ErrorCode.PHONE_REQUIRED: 422,
    ErrorCode.CONTACT_NOT_PERMITTED: 403,
    ErrorCode.PUSH_ENDPOINT_FORBIDDEN: 422,
    ErrorCode.INSUFFICIENT_SCOPE: 403,
}
TITLES = {code: code.value.replace("_", " ").capitalize() for code in ErrorCode}
_HTTP_CODES = {
    400: ErrorCode.MALFORMED,
    401: ErrorCode.UNAUTHENTICATED,
    403: ErrorCode.FORBIDDEN,
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    413: ErrorCode.PAYLOAD_TOO_LARGE,
    415: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
}


def problem_body(
    code: ErrorCode, detail: str, *, field: str | None = None, **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": f"urn:eyelevel:problem:{code.value}",
        "title": TITLES[code],
        "status": STATUS[code],
        "code": code.value,
        "detail": detail,
    }
    if field is not None:
        body["field"] = field
    body.update(extra)
    return body


def problem(
    code: ErrorCode, detail: str, *, field: str | None = None, **extra: Any
) -> JSONResponse:
    headers = {"Retry-After": "1"} if code == ErrorCode.UNAVAILABLE else None
    return JSONResponse(
        problem_body(code, detail, field=field, **extra),
        status_code=STATUS[code],
        media_type="application/problem+json",
        headers=headers,
    )


def validation_problem(errors: list[dict[str, Any]]) -> tuple[ErrorCode, str, list[dict[str, Any]]]:
    """Pydantic errors → (code, detail, safe error list). Input values are never echoed."""
    if any(e.get("type") == "json_invalid" for e in errors):
        return ErrorCode.MALFORMED, "the request body is not valid JSON", []
    safe = [
        {
            "loc": [str(part) for part in e.get("loc", ())],
            "type": e.get("type", ""),
            "msg": e.get("msg", ""),
        }
        for e in errors
    ]
    return ErrorCode.VALIDATION, "the request does not match the schema", safe


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(_: Request, exc: DomainError) -> JSONResponse:
        return problem(exc.code, exc.detail, field=exc.field, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        code, detail, errors = validation_problem(list(exc.errors()))
        return problem(code, detail, errors=errors) if errors else problem(code, detail)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, ErrorCode.MALFORMED)
        detail = {
            ErrorCode.NOT_FOUND: "no such resource",
            ErrorCode.METHOD_NOT_ALLOWED: "this method is not allowed here",
        }.get(code, "the request was refused")
        response = problem(code, detail)
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    @app.exception_handler(Exception)
    async def _unhandled(request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled_error", path=request.url.path, error=type(exc).__name__)
        return problem(ErrorCode.INTERNAL, "an internal error occurred")
