"""ASGI middleware: request size limit, request metrics and access logs without personal data."""

from __future__ import annotations

import time

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from eyelevel.core.entities import MAX_ATTACHMENT_BYTES
from eyelevel.core.errors import ErrorCode
from eyelevel.web.metrics import Metrics
from eyelevel.web.problems import problem

log = structlog.get_logger("eyelevel.http")
MAX_BODY_BYTES = 256 * 1024
# an attachment upload: the file's 10 MB plus the multipart framing and the caption
MAX_UPLOAD_BYTES = MAX_ATTACHMENT_BYTES + 128 * 1024


class _TooLarge(Exception):
    pass


class LimitsAndMetrics:
    """Refuses bodies over ``MAX_BODY_BYTES`` (uploads: ``MAX_UPLOAD_BYTES``) with 413; counts
    requests by route *template*.

    Logs method, route template, status and duration only: never a path with ids, a query
    string, a header or a body.
    """

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        upload = scope["method"] == "POST" and scope["path"].endswith("/attachments")
        limit = MAX_UPLOAD_BYTES if upload else MAX_BODY_BYTES
        code = ErrorCode.ATTACHMENT_TOO_LARGE if upload else ErrorCode.PAYLOAD_TOO_LARGE
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            await problem(code, "the request body is too large")(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        received = 0
        too_large = False

        async def limited_receive() -> Message:
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    too_large = True
                    raise _TooLarge
            return message

        response_started = False

        async def tracking_send(message: Message) -> None:
            nonlocal status, response_started
            if too_large and not response_started:
                return  # FastAPI turns the unreadable body into a 400; it is answered with 413
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
            if too_large:
                raise _TooLarge
        except _TooLarge:
            if not response_started:
                status = 413
                await problem(code, "the request body is too large")(scope, receive, send)
        finally:
            route = _route_template(scope)
            elapsed = time.perf_counter() - started
            self.metrics.requests.labels(route, scope["method"], f"{status // 100}xx").inc()
            self.metrics.latency.labels(route).observe(elapsed)
            log.info(
                "request",
                method=scope["method"],
                route=route,
                status=status,
                ms=round(elapsed * 1000, 1),
            )


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"
