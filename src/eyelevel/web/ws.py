"""The WebSocket ``/api/v1/ws``: live events, catch-up from a stream position, sends and typing.

Server → client frames: ``hello``, events as ``{type, pos, data}``, ``ack`` (a send or read,
only after commit), ``error`` (the socket stays usable), ``ping``/``pong``, ``resync_required``.
Client → server: ``send``, ``typing``, ``read``, ``ping``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Annotated, Any, Literal

import structlog
from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.websockets import WebSocketState

from eyelevel.core import queries, secrets
from eyelevel.core.actions import messages as msg_actions
from eyelevel.core.entities import MAX_BODY_CHARS, MAX_CLIENT_ID_CHARS, Scope
from eyelevel.core.errors import DomainError, ErrorCode
from eyelevel.core.events import message_data
from eyelevel.core.ids import ConversationId, EventPos
from eyelevel.core.principals import Principal, TokenPrincipal
from eyelevel.realtime.codec import frame
from eyelevel.realtime.hub import Subscriber
from eyelevel.web.auth import SESSION_COOKIE, foreign_origin, resolve
from eyelevel.web.ratelimit import allow_socket
from eyelevel.web.scopes import ANY_TOKEN, require_scope
from eyelevel.web.state import Services, ws_services

log = structlog.get_logger("eyelevel.ws")
router = APIRouter()

REPLAY_LIMIT = 5_000
MAX_FRAME = 64 * 1024
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN_ORIGIN = 4403
CLOSE_RESYNC = 4409
CLOSE_RATE_LIMITED = 4429
SUBPROTOCOL = "eyelevel"
BEARER = "bearer."


class _Frame(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    ref: str | None = Field(default=None, max_length=64)


class SendFrame(_Frame):
    type: Literal["send"]
    conversation_id: int = Field(ge=1, le=2**62)
    body: str = Field(max_length=MAX_BODY_CHARS + 1000)
    client_id: str | None = Field(default=None, max_length=MAX_CLIENT_ID_CHARS + 100)
    note: bool = False
    mentions: list[Annotated[int, Field(ge=1, le=2**62)]] = Field(
        default_factory=list, max_length=20
    )


class TypingFrame(_Frame):
    type: Literal["typing"]
    conversation_id: int = Field(ge=1, le=2**62)
    private: bool = False


class ReadFrame(_Frame):
    type: Literal["read"]
    conversation_id: int = Field(ge=1, le=2**62)
    seq: int = Field(ge=0, le=2**31)


class PingFrame(_Frame):
    type: Literal["ping", "pong"]


FRAMES: dict[str, type[_Frame]] = {
    "send": SendFrame,
    "typing": TypingFrame,
    "read": ReadFrame,
    "ping": PingFrame,
    "pong": PingFrame,
}


def _dump(obj: dict[str, Any]) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False, default=str)


def _error(ref: str | None, code: ErrorCode, detail: str) -> str:
    return _dump({"type": "error", "ref": ref, "code": code.value, "detail": detail})


async def _refuse(websocket: WebSocket, code: int, subprotocol: str | None) -> None:
    """Close with an application code. Closing before accept would reject the handshake with
    HTTP 403, which a browser cannot tell apart from a network error; the code tells the client
    not to retry blindly. Nothing is sent before the close."""
    await websocket.accept(subprotocol=subprotocol)
    await websocket.close(code=code)


def _offered(websocket: WebSocket) -> tuple[str | None, str | None]:
    """(subprotocol to accept, bearer token) from ``Sec-WebSocket-Protocol``.

    Browsers cannot set headers on a WebSocket, so a page without cookies (the widget) offers
    ``["eyelevel", "bearer.<token>"]``. A browser drops a handshake that offered subprotocols
    when the answer names none, so ``eyelevel`` is accepted whenever it was offered.
    """
    offered = [p.strip() for p in websocket.headers.get("sec-websocket-protocol", "").split(",")]
    token = next((p[len(BEARER) :] for p in offered if p.startswith(BEARER)), None)
    return (SUBPROTOCOL if SUBPROTOCOL in offered else None), token or None


@router.websocket("/api/v1/ws")
async def socket(websocket: WebSocket) -> None:
    svc = ws_services(websocket)
    origin = websocket.headers.get("origin")
    cookie = websocket.cookies.get(SESSION_COOKIE)
    authorization = websocket.headers.get("authorization")
    subprotocol, offered_token = _offered(websocket)
    if not await allow_socket(websocket):
        await _refuse(websocket, CLOSE_RATE_LIMITED, subprotocol)
        return
    if authorization is None and foreign_origin(svc, origin):
        await _refuse(websocket, CLOSE_FORBIDDEN_ORIGIN, subprotocol)
        return
    if authorization is None and offered_token is not None:
        authorization = f"Bearer {offered_token}"
    try:
        caller = await resolve(
            svc,
            authorization=authorization,
            session_cookie=cookie,
            method="GET",
            csrf_header=None,
            origin=origin,
        )
    except DomainError:
        caller = None
    if caller is None or caller.principal is None:
        await _refuse(websocket, CLOSE_UNAUTHENTICATED, subprotocol)
        return
    if isinstance(caller.principal, TokenPrincipal) and (
        Scope.CONVERSATIONS_READ not in caller.principal.scopes
    ):
        await _refuse(websocket, CLOSE_FORBIDDEN_ORIGIN, subprotocol)
        return
    since_raw = websocket.query_params.get("since")
    since: int | None = None
    if since_raw is not None:
        if not since_raw.isdigit() or len(since_raw) > 18:
            await websocket.accept(subprotocol=subprotocol)
            await websocket.send_text(
                _error(None, ErrorCode.VALIDATION, "since must be a stream position")
            )
            await websocket.close(code=1008)
            return
        since = int(since_raw)
    await websocket.accept(subprotocol=subprotocol)
    session_hash = secrets.token_hash(caller.session_token) if caller.session_token else None
    await _serve(websocket, svc, caller.principal, since, session_hash)


async def _serve(
    websocket: WebSocket,
    svc: Services,
    principal: Principal,
    since: int | None,
    session_hash: str | None = None,
) -> None:
    # the session is kept so that ending it (or deactivating the agent) closes this socket
    sub = svc.hub.attach(principal, session_hash)
    svc.metrics.sockets.inc()
    writer = asyncio.create_task(_write(websocket, sub))
    heartbeat = asyncio.create_task(_heartbeat(sub, svc.heartbeat_seconds))
    try:
        await _catch_up(svc, principal, sub, since)
        await _read(websocket, svc, principal, sub)
    except WebSocketDisconnect:
        pass
    finally:
        svc.hub.detach(sub)
        svc.metrics.sockets.dec()
        heartbeat.cancel()
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await writer


async def _catch_up(
    svc: Services, principal: Principal, sub: Subscriber, since: int | None
) -> None:
    """Replay what the principal missed after ``since``, then go live without gap or repeat."""
    attached_at = svc.hub.cursor
    sub.frames.put_nowait(_dump({"type": "hello", "pos": attached_at}))
    if since is None:
        sub.go_live(after=attached_at)
        return
    if since > attached_at and since > await queries.stream_head(svc.ctx):
        # a position the database never issued (e.g. a restored backup): start over. A position
        # past this hub's cursor is fine otherwise: another process, or a replay, issued it.
        sub.frames.put_nowait(_dump({"type": "resync_required", "pos": attached_at}))
        sub.go_live(after=attached_at)
        return
    events = await queries.events_since(svc.ctx, principal, EventPos(since), REPLAY_LIMIT + 1)
    if len(events) > REPLAY_LIMIT:
        sub.frames.put_nowait(_dump({"type": "resync_required", "pos": attached_at}))
        sub.go_live(after=attached_at)
        return
    last = EventPos(since)
    for event in events:
        sub.frames.put_nowait(frame(event))
        last = event.pos
    sub.go_live(after=last)


async def _write(websocket: WebSocket, sub: Subscriber) -> None:
    while True:
        text = await sub.frames.get()
        if text is None and sub.revoked:
            await websocket.close(code=CLOSE_UNAUTHENTICATED)
            return
        if text is None:
            await websocket.send_text(_dump({"type": "resync_required", "pos": None}))
            await websocket.close(code=CLOSE_RESYNC)
            return
        await websocket.send_text(text)


async def _heartbeat(sub: Subscriber, every: float) -> None:
    while True:
        await asyncio.sleep(every)
        sub.frames.put_nowait(_dump({"type": "ping"}))


async def _read(websocket: WebSocket, svc: Services, principal: Principal, sub: Subscriber) -> None:
    while websocket.application_state == WebSocketState.CONNECTED:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000))
        text = message.get("text")
        if text is None:
            sub.frames.put_nowait(_error(None, ErrorCode.MALFORMED, "send JSON text frames"))
            continue
        if len(text) > MAX_FRAME:
            sub.frames.put_nowait(_error(None, ErrorCode.PAYLOAD_TOO_LARGE, "frame too large"))
            continue
        reply = await _handle(svc, principal, text)
        if reply is not None:
            sub.frames.put_nowait(reply)


# what an API token needs for each client frame (connecting at all: conversations:read)
FRAME_SCOPES: dict[type[_Frame], str] = {
    SendFrame: Scope.MESSAGES_WRITE.value,
    TypingFrame: Scope.MESSAGES_WRITE.value,
    ReadFrame: Scope.CONVERSATIONS_WRITE.value,
}


async def _handle(svc: Services, principal: Principal, text: str) -> str | None:
    try:
        raw = json.loads(text)
    except ValueError:
        return _error(None, ErrorCode.MALFORMED, "frame is not valid JSON")
    if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
        return _error(None, ErrorCode.MALFORMED, "frame must be an object with a type")
    ref = raw.get("ref") if isinstance(raw.get("ref"), str) else None
    model = FRAMES.get(raw["type"])
    if model is None:
        return _error(ref, ErrorCode.MALFORMED, "unknown frame type")
    try:
        frame_in = model.model_validate(raw)
    except ValidationError as exc:
        fields = sorted({str(e["loc"][0]) for e in exc.errors() if e.get("loc")})
        return _error(ref, ErrorCode.VALIDATION, "invalid fields: " + ", ".join(fields))
    try:
        if isinstance(principal, TokenPrincipal):
            require_scope(principal, FRAME_SCOPES.get(type(frame_in), ANY_TOKEN))
        return await _apply(svc, principal, frame_in)
    except DomainError as exc:
        return _error(ref, exc.code, exc.detail)


async def _apply(svc: Services, principal: Principal, f: _Frame) -> str | None:
    match f:
        case SendFrame():
            sent = await msg_actions.check_send_message(
                svc.ctx,
                principal,
                ConversationId(f.conversation_id),
                body=f.body,
                client_id=f.client_id,
                note=f.note,
                mentions=f.mentions,
            )
            if sent.created:
                svc.metrics.messages.labels(kind=sent.message.kind.value).inc()
            return _dump(
                {
                    "type": "ack",
                    "ref": f.ref,
                    "duplicate": not sent.created,
                    "data": message_data(sent.message),
                }
            )
        case TypingFrame():
            await msg_actions.check_typing(
                svc.ctx, principal, ConversationId(f.conversation_id), private=f.private
            )
            return None
        case ReadFrame():
            moved = await msg_actions.check_mark_read(
                svc.ctx, principal, ConversationId(f.conversation_id), seq=f.seq
            )
            return _dump({"type": "ack", "ref": f.ref, "data": {"moved": moved}})
        case PingFrame(type="ping"):
            return _dump({"type": "pong", "ref": f.ref})
        case _:
            return None
