"""Files in conversations: send a photo or a PDF as a message, fetch it (or its thumbnail)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Path, Response, UploadFile, status

from eyelevel.core.actions import attachments
from eyelevel.core.entities import MAX_ATTACHMENT_BYTES, MAX_BODY_CHARS, MAX_CLIENT_ID_CHARS, Scope
from eyelevel.core.ids import AttachmentId, ConversationId
from eyelevel.web.auth import CurrentPrincipal, Svc
from eyelevel.web.schemas import ERRORS, MessageOut, problem_response
from eyelevel.web.scopes import needs

router = APIRouter(prefix="/api/v1", tags=["attachments"], responses=ERRORS)
FileId = Annotated[int, Path(ge=1, le=2**62, description="attachment id")]
ConvId = Annotated[int, Path(ge=1, le=2**62, description="conversation id")]
# served files never run as a page of ours, even if a browser were to sniff them as HTML
FILE_HEADERS = {
    "Cache-Control": "private, max-age=31536000, immutable",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Resource-Policy": "same-origin",
}


@router.post(
    "/conversations/{conversation_id}/attachments",
    status_code=status.HTTP_201_CREATED,
    summary="Send a photo or a PDF as a message",
    responses={
        200: {"model": MessageOut, "description": "a repeat of an earlier client_id"},
        413: problem_response("larger than 10 MB (attachment_too_large)"),
        415: problem_response("not JPEG, PNG, WebP, HEIC or PDF (unsupported_media_type)"),
    },
    openapi_extra=needs(Scope.MESSAGES_WRITE),
)
async def upload(
    conversation_id: ConvId,
    file: Annotated[UploadFile, File(description="JPEG, PNG, WebP, HEIC/HEIF or PDF; ≤ 10 MB")],
    svc: Svc,
    principal: CurrentPrincipal,
    response: Response,
    body: Annotated[str, Form(max_length=MAX_BODY_CHARS + 1000)] = "",
    client_id: Annotated[str | None, Form(max_length=MAX_CLIENT_ID_CHARS + 100)] = None,
    note: Annotated[bool, Form(description="a private note (company principals only)")] = False,
) -> MessageOut:
    """Images are re-encoded without their metadata (EXIF, GPS) and get a thumbnail; a PDF is
    stored as it is. The file is checked by its content, not by its name or declared type."""
    data = await file.read(MAX_ATTACHMENT_BYTES + 1)
    sent = await attachments.check_send_attachment(
        svc.ctx,
        principal,
        ConversationId(conversation_id),
        data=data,
        filename=file.filename or "file",
        body=body,
        client_id=client_id,
        note=note,
    )
    if sent.created:
        svc.metrics.messages.labels(kind=sent.message.kind.value).inc()
    else:
        response.status_code = status.HTTP_200_OK
    return MessageOut.of(sent.message)


@router.get(
    "/attachments/{attachment_id}",
    summary="Download an attachment",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}, "application/pdf": {}}}},
    openapi_extra=needs(Scope.CONVERSATIONS_READ),
)
async def download(attachment_id: FileId, svc: Svc, principal: CurrentPrincipal) -> Response:
    attachment, data = await attachments.fetch_attachment(
        svc.ctx, principal, AttachmentId(attachment_id), thumbnail=False
    )
    inline = attachment.content_type.startswith("image/")
    disposition = "inline" if inline else "attachment"
    return Response(
        data,
        media_type=attachment.content_type,
        headers={
            **FILE_HEADERS,
            "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(attachment.name)}",
        },
    )


@router.get(
    "/attachments/{attachment_id}/thumbnail",
    summary="A small JPEG preview of an image attachment",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}}},
    openapi_extra=needs(Scope.CONVERSATIONS_READ),
)
async def thumbnail(attachment_id: FileId, svc: Svc, principal: CurrentPrincipal) -> Response:
    _, data = await attachments.fetch_attachment(
        svc.ctx, principal, AttachmentId(attachment_id), thumbnail=True
    )
    return Response(data, media_type="image/jpeg", headers=FILE_HEADERS)
