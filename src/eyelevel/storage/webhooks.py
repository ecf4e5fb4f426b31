"""Webhook endpoints, deliveries, attempts and the relay's stream cursor."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Row

from eyelevel.core.ids import CompanyId, EventPos
from eyelevel.core.webhooks import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookDeliveryId,
    WebhookEndpoint,
    WebhookEndpointId,
)
from eyelevel.storage import schema as t
from eyelevel.storage.rows import Repo

CURSOR = "webhooks"
ATTEMPTS_SHOWN = 20  # per delivery in a log page


def _endpoint(r: Row[Any]) -> WebhookEndpoint:
    return WebhookEndpoint(
        id=WebhookEndpointId(r.id),
        company_id=CompanyId(r.company_id),
        url=r.url,
        description=r.description,
        event_types=tuple(r.event_types),
        include_notes=r.include_notes,
        enabled=r.enabled,
        disabled_reason=r.disabled_reason,
        secret=r.secret,
        previous_secret=r.previous_secret,
        previous_secret_until=r.previous_secret_until,
        failing_since=r.failing_since,
        start_pos=int(r.start_pos),
        created_at=r.created_at,
        updated_at=r.updated_at,
    )


def _delivery(r: Row[Any], attempts: Sequence[WebhookAttempt] = ()) -> WebhookDelivery:
    return WebhookDelivery(
        id=WebhookDeliveryId(r.id),
        company_id=CompanyId(r.company_id),
        endpoint_id=WebhookEndpointId(r.endpoint_id),
        msg_id=r.msg_id,
        event_type=r.event_type,
        event_pos=r.event_pos,
        payload=r.payload,
        state=r.state,
        attempts=r.attempts,
        tries=r.tries,
        next_attempt_at=r.next_attempt_at,
        created_at=r.created_at,
        updated_at=r.updated_at,
        attempt_log=tuple(attempts),
    )


def _attempt(r: Row[Any]) -> WebhookAttempt:
    return WebhookAttempt(
        id=r.id,
        delivery_id=WebhookDeliveryId(r.delivery_id),
        attempted_at=r.attempted_at,
        status_code=r.status_code,
        latency_ms=r.latency_ms,
        response=r.response,
        error=r.error,
    )


class SqlWebhooks(Repo):
    async def create_endpoint(self, values: dict[str, Any]) -> WebhookEndpoint:
        endpoint_id = await self._insert_id(t.webhook_endpoints, values)
        found = await self.endpoint(values["company_id"], WebhookEndpointId(endpoint_id))
        assert found is not None
        return found

    async def endpoint(
        self, company_id: CompanyId, endpoint_id: WebhookEndpointId
    ) -> WebhookEndpoint | None:
        c = t.webhook_endpoints.c
        r = await self._one(
            select(t.webhook_endpoints).where(c.company_id == company_id, c.id == endpoint_id)
        )
        return _endpoint(r) if r else None

    async def endpoints_of(self, company_id: CompanyId) -> list[WebhookEndpoint]:
        c = t.webhook_endpoints.c
        rows = await self._all(
            select(t.webhook_endpoints).where(c.company_id == company_id).order_by(c.id)
        )
        return [_endpoint(r) for r in rows]

    async def update_endpoint(
        self, company_id: CompanyId, endpoint_id: WebhookEndpointId, values: dict[str, Any]
    ) -> None:
        c = t.webhook_endpoints.c
        await self._c.execute(
            update(t.webhook_endpoints)
            .where(c.company_id == company_id, c.id == endpoint_id)
            .values(**values)
        )

    async def delete_endpoint(self, company_id: CompanyId, endpoint_id: WebhookEndpointId) -> None:
        d = t.webhook_deliveries.c
        ids = select(d.id).where(d.company_id == company_id, d.endpoint_id == endpoint_id)
        a = t.webhook_attempts.c
        await self._c.execute(
            delete(t.webhook_attempts).where(a.company_id == company_id, a.delivery_id.in_(ids))
        )
        await self._c.execute(
            delete(t.webhook_deliveries).where(
                d.company_id == company_id, d.endpoint_id == endpoint_id
            )
        )
        c = t.webhook_endpoints.c
        await self._c.execute(
            delete(t.webhook_endpoints).where(c.company_id == company_id, c.id == endpoint_id)
        )

    async def enabled_endpoints(self, company_ids: Sequence[CompanyId]) -> list[WebhookEndpoint]:
        if not company_ids:
            return []
        c = t.webhook_endpoints.c
        rows = await self._all(
            select(t.webhook_endpoints)
            .where(c.company_id.in_(sorted(set(company_ids))), c.enabled.is_(True))
            .order_by(c.company_id, c.id)
        )
        return [_endpoint(r) for r in rows]

    async def cursor(self) -> EventPos | None:
        c = t.stream_cursors.c
        r = await self._one(select(c.pos).where(c.name == CURSOR))
        return None if r is None else EventPos(int(r.pos))

    async def lock_cursor(self) -> EventPos | None:
        c = t.stream_cursors.c
        stmt = select(c.pos).where(c.name == CURSOR)
        if self._c.dialect.name == "postgresql":
            stmt = stmt.with_for_update()
        r = await self._one(stmt)
        return None if r is None else EventPos(int(r.pos))

    async def ensure_cursor(self, pos: EventPos) -> None:
        dialect = postgresql if self._c.dialect.name == "postgresql" else sqlite
        await self._c.execute(
            dialect.insert(t.stream_cursors)
            .values(name=CURSOR, pos=pos)
            .on_conflict_do_nothing(index_elements=["name"])
        )

    async def set_cursor(self, pos: EventPos) -> None:
        c = t.stream_cursors.c
        await self._c.execute(update(t.stream_cursors).where(c.name == CURSOR).values(pos=pos))

    async def create_delivery(self, values: dict[str, Any]) -> WebhookDelivery:
        delivery_id = await self._insert_id(t.webhook_deliveries, values)
        found = await self.delivery(WebhookDeliveryId(delivery_id))
        assert found is not None
        return found

    async def delivery(self, delivery_id: WebhookDeliveryId) -> WebhookDelivery | None:
        c = t.webhook_deliveries.c
        r = await self._one(select(t.webhook_deliveries).where(c.id == delivery_id))
        return _delivery(r) if r else None

    async def deliveries(
        self,
        company_id: CompanyId,
        endpoint_id: WebhookEndpointId,
        *,
        before_id: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int,
    ) -> list[WebhookDelivery]:
        c = t.webhook_deliveries.c
        stmt = select(t.webhook_deliveries).where(
            c.company_id == company_id, c.endpoint_id == endpoint_id
        )
        if before_id is not None:
            stmt = stmt.where(c.id < before_id)
        if since is not None:
            stmt = stmt.where(c.created_at >= since)
        if until is not None:
            stmt = stmt.where(c.created_at <= until)
        rows = await self._all(stmt.order_by(c.id.desc()).limit(limit))
        if not rows:
            return []
        a = t.webhook_attempts.c
        attempts: dict[int, list[WebhookAttempt]] = {}
        for r in await self._all(
            select(t.webhook_attempts)
            .where(a.company_id == company_id, a.delivery_id.in_([r.id for r in rows]))
            .order_by(a.id.desc())
        ):
            shown = attempts.setdefault(r.delivery_id, [])
            if len(shown) < ATTEMPTS_SHOWN:
                shown.append(_attempt(r))
        return [_delivery(r, attempts.get(r.id, ())) for r in rows]

    async def update_delivery(self, delivery_id: WebhookDeliveryId, values: dict[str, Any]) -> None:
        c = t.webhook_deliveries.c
        await self._c.execute(
            update(t.webhook_deliveries).where(c.id == delivery_id).values(**values)
        )

    async def add_attempt(self, delivery: WebhookDelivery, values: dict[str, Any]) -> None:
        await self._insert_id(
            t.webhook_attempts,
            {"company_id": delivery.company_id, "delivery_id": delivery.id, **values},
        )
