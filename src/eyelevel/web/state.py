"""What the web layer is given by the composition root."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from fastapi import Request, WebSocket

from eyelevel.core.ports import Context
from eyelevel.realtime.hub import Hub
from eyelevel.web.metrics import Metrics


@dataclass(frozen=True)
class Services:
    ctx: Context
    hub: Hub
    metrics: Metrics
    origins: frozenset[str]
    secure_cookies: bool
    ready_checks: Mapping[str, Callable[[], Awaitable[bool]]]
    heartbeat_seconds: float = 25.0


def services(request: Request) -> Services:
    svc: Services = request.app.state.services
    return svc


def ws_services(websocket: WebSocket) -> Services:
    svc: Services = websocket.app.state.services
    return svc
