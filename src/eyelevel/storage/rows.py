"""Row mappers, the repository base and statements shared by the repositories."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from sqlalchemy import insert
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from eyelevel.core.entities import (
    Agent,
    ApiToken,
    Company,
    Conversation,
    Customer,
    Event,
    Message,
    MessageKind,
    Scope,
    Status,
)
from eyelevel.core.ids import (
    AgentId,
    CompanyId,
    ConversationId,
    CustomerId,
    EventPos,
    MessageId,
    TokenId,
)


def company_from(r: Row[Any]) -> Company:
    return Company(
        CompanyId(r.id),
        r.slug,
        r.name,
        r.description,
        r.phone,
        r.timezone,
        r.business_hours,
        r.created_at,
        r.reply_within_minutes,
        r.holidays,
        r.retention_days,
    )


def agent_from(r: Row[Any]) -> Agent:
    return Agent(
        AgentId(r.id),
        r.email,
        r.name,
        r.password_hash,
        r.active,
        r.created_at,
        r.totp_enabled_at is not None,
        r.presence,
    )


def customer_from(r: Row[Any]) -> Customer:
    return Customer(
        CustomerId(r.id),
        r.email,
        r.display_name,
        r.password_hash,
        r.email_verified_at is not None,
        r.created_at,
        r.erased_at is not None,
    )


def conversation_from(r: Row[Any]) -> Conversation:
    return Conversation(
        ConversationId(r.id),
        CompanyId(r.company_id),
        CustomerId(r.customer_id),
        r.subject,
        Status(r.status),
        r.owner_agent_id,
        r.owner_team_id,
        r.snoozed_until,
        r.last_seq,
        r.created_at,
        r.updated_at,
        r.last_message_at,
        r.last_activity_at,
        r.waiting_since,
        r.restricted_at is not None,
        r.topic_id,
        r.channel,
        r.language,
        r.routing_rule_id,
        r.sla,
        r.sla_due_at,
    )


def message_from(r: Row[Any]) -> Message:
    return Message(
        MessageId(r.id),
        CompanyId(r.company_id),
        ConversationId(r.conversation_id),
        r.seq,
        MessageKind(r.kind),
        r.body,
        r.author_agent_id,
        r.author_customer_id,
        r.author_name,
        r.client_id,
        r.created_at,
    )


def event_from(r: Row[Any]) -> Event:
    return Event(
        EventPos(r.pos),
        r.type,
        CompanyId(r.company_id),
        r.conversation_id,
        r.customer_id,
        r.payload,
        r.created_at,
    )


def token_from(r: Row[Any]) -> ApiToken:
    return ApiToken(
        TokenId(r.id),
        CompanyId(r.company_id),
        r.name,
        r.prefix,
        r.created_at,
        r.revoked_at,
        r.last_used_at,
        frozenset(Scope(s) for s in r.scopes.split() if s in _SCOPE_VALUES),
        r.expires_at,
    )


_SCOPE_VALUES = frozenset(s.value for s in Scope)


def scopes_text(scopes: frozenset[Scope]) -> str:
    """Scopes as one column: space-separated (as OAuth writes them), sorted."""
    return " ".join(sorted(s.value for s in scopes))


@cache
def insert_returning_pk(table: Any) -> Any:
    pk = next(iter(table.primary_key.columns))
    return insert(table).returning(pk)


class Repo:
    def __init__(self, conn: AsyncConnection) -> None:
        self._c = conn

    async def _one(self, stmt: Any) -> Row[Any] | None:
        return (await self._c.execute(stmt)).first()

    async def _all(self, stmt: Any) -> Sequence[Row[Any]]:
        return (await self._c.execute(stmt)).all()

    async def _insert_id(self, table: Any, values: dict[str, Any]) -> int:
        row = (await self._c.execute(insert_returning_pk(table), values)).one()
        return int(row[0])
