"""The server's VAPID keys and the customers' push subscriptions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Row

from eyelevel.core.ids import CustomerId
from eyelevel.core.push import PushSubscription, PushSubscriptionId, VapidKeys
from eyelevel.storage import schema as t
from eyelevel.storage.rows import Repo

_s = t.push_subscriptions.c
KEYS_ROW = 1


def _subscription(r: Row[Any]) -> PushSubscription:
    return PushSubscription(
        id=PushSubscriptionId(r.id),
        customer_id=CustomerId(r.customer_id),
        endpoint=r.endpoint,
        p256dh=r.p256dh,
        auth=r.auth,
        label=r.label,
        lang=r.lang,
        created_at=r.created_at,
        last_success_at=r.last_success_at,
    )


class SqlPush(Repo):
    async def keys(self) -> VapidKeys | None:
        k = t.push_keys.c
        r = await self._one(select(k.public_key, k.private_key).where(k.id == KEYS_ROW))
        return VapidKeys(r.public_key, r.private_key) if r else None

    async def add_keys(self, keys: VapidKeys, now: datetime) -> None:
        dialect = postgresql if self._c.dialect.name == "postgresql" else sqlite
        await self._c.execute(
            dialect.insert(t.push_keys)
            .values(
                id=KEYS_ROW,
                public_key=keys.public_key,
                private_key=keys.private_key,
                created_at=now,
            )
            .on_conflict_do_nothing(index_elements=["id"])
        )

    async def by_endpoint(self, endpoint: str) -> PushSubscription | None:
        r = await self._one(select(t.push_subscriptions).where(_s.endpoint == endpoint))
        return _subscription(r) if r else None

    async def get(self, subscription_id: PushSubscriptionId) -> PushSubscription | None:
        r = await self._one(select(t.push_subscriptions).where(_s.id == subscription_id))
        return _subscription(r) if r else None

    async def of_customer(self, customer_id: CustomerId) -> list[PushSubscription]:
        rows = await self._all(
            select(t.push_subscriptions).where(_s.customer_id == customer_id).order_by(_s.id)
        )
        return [_subscription(r) for r in rows]

    async def add(self, values: dict[str, Any]) -> PushSubscription:
        subscription_id = await self._insert_id(t.push_subscriptions, values)
        found = await self.get(PushSubscriptionId(subscription_id))
        assert found is not None
        return found

    async def update(self, subscription_id: PushSubscriptionId, values: dict[str, Any]) -> None:
        await self._c.execute(
            update(t.push_subscriptions).where(_s.id == subscription_id).values(**values)
        )

    async def delete(self, subscription_id: PushSubscriptionId) -> bool:
        done = await self._c.execute(delete(t.push_subscriptions).where(_s.id == subscription_id))
        return bool(done.rowcount)
