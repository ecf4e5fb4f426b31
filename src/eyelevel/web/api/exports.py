"""The customer's data export: request one, see its state, download the ZIP for 24 hours.
Customers only (docs/privacy.md, *Export*)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Response, status
from pydantic import ConfigDict, Field

from eyelevel.core.actions import exports
from eyelevel.core.actions.exports import ExportView
from eyelevel.web.auth import CurrentPrincipal, Svc
from eyelevel.web.schemas import ERRORS, In, Out, problem_response

router = APIRouter(prefix="/api/v1/me", tags=["privacy"], responses=ERRORS)
ExportId = Annotated[int, Path(ge=1, le=2**62, description="export id")]
ZIP_HEADERS = {
    "Cache-Control": "private, no-store",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Resource-Policy": "same-origin",
}


class ExportIn(In):
    """No options yet: the export always holds everything."""

    model_config = ConfigDict(json_schema_extra={"examples": [{}]})


class ExportOut(Out):
    id: int
    state: Literal["pending", "ready", "failed", "expired"]
    created_at: datetime
    ready_at: datetime | None = Field(description="when the ZIP was ready")
    expires_at: datetime | None = Field(description="the download works until then")
    size: int | None = Field(description="bytes of the ZIP, while ready")

    @classmethod
    def of(cls, v: ExportView) -> ExportOut:
        return cls(
            id=v.id,
            state=v.state,
            created_at=v.created_at,
            ready_at=v.ready_at,
            expires_at=v.expires_at,
            size=v.size,
        )


@router.post(
    "/exports",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Export my data (customers)",
    responses={
        409: problem_response("an export is being prepared already (export_pending)"),
        429: problem_response("three exports in 24 hours already (export_limit)"),
    },
)
async def request_export(
    svc: Svc, principal: CurrentPrincipal, body: ExportIn | None = None
) -> ExportOut:
    """Queues the export; a background job builds the ZIP (see GET /me/exports)."""
    return ExportOut.of(await exports.check_request_export(svc.ctx, principal))


@router.get("/exports", summary="My data exports, newest first (customers)")
async def list_exports(svc: Svc, principal: CurrentPrincipal) -> list[ExportOut]:
    return [ExportOut.of(v) for v in await exports.my_exports(svc.ctx, principal)]


@router.get(
    "/exports/{export_id}/download",
    summary="Download my data export (customers)",
    response_class=Response,
    responses={
        200: {"content": {"application/zip": {}}},
        409: problem_response("not ready yet, or failed (export_not_ready)"),
        410: problem_response("older than 24 hours (export_expired)"),
    },
)
async def download_export(export_id: ExportId, svc: Svc, principal: CurrentPrincipal) -> Response:
    data = await exports.fetch_export(svc.ctx, principal, export_id)
    return Response(
        data,
        media_type="application/zip",
        headers={
            **ZIP_HEADERS,
            "Content-Disposition": f'attachment; filename="eyelevel-export-{export_id}.zip"',
        },
    )
