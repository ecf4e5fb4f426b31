"""Operations: liveness, readiness, Prometheus metrics, and the API docs from local assets."""

from __future__ import annotations

from importlib.resources import files

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from eyelevel.web.state import services

router = APIRouter(include_in_schema=False)


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    svc = services(request)
    checks = {name: await check() for name, check in svc.ready_checks.items()}
    ok = all(checks.values())
    return JSONResponse(
        {"status": "ok" if ok else "unavailable", "checks": checks}, status_code=200 if ok else 503
    )


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    svc = services(request)
    svc.metrics.hub_cursor.set(svc.hub.cursor)
    svc.metrics.bus_lag.set(svc.hub.lag_seconds)
    return Response(generate_latest(svc.metrics.registry), media_type=CONTENT_TYPE_LATEST)


@router.get("/api/v1/docs")
async def docs() -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url="/api/v1/openapi.json",
        title="eyelevel API v1",
        swagger_js_url="/api/v1/docs-assets/swagger-ui-bundle.js",
        swagger_css_url="/api/v1/docs-assets/swagger-ui.css",
        swagger_favicon_url="/api/v1/docs-assets/favicon.png",
        # no online validator badge: it would make the browser call a third party
        swagger_ui_parameters={"validatorUrl": None},
    )


def mount_docs_assets(app: FastAPI) -> None:
    # Swagger UI 5 (it renders OpenAPI 3.1) as shipped by the fastapi-offline package
    assets = str(files("fastapi_offline") / "static")
    app.mount("/api/v1/docs-assets", StaticFiles(directory=assets), name="docs-assets")
