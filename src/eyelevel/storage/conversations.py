"""Conversations, messages and read markers: the hot path of every send."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import and_, bindparam, exists, func, insert, or_, select, update

from eyelevel.core.entities import (
    Conversation,
    Message,
    MessageKind,
    ReadMarker,
    Status,
)
from eyelevel.core.ids import (
    AgentId,
    CompanyId,
    ConversationId,
    ConversationTopicId,
    CustomerId,
    MessageId,
    TeamId,
)
from eyelevel.core.ports import ConversationFilter, Listed, ListPhase, ListPosition, ListSort
from eyelevel.storage import schema as t
from eyelevel.storage.rows import (
    Repo,
    conversation_from,
    customer_from,
    message_from,
)
from eyelevel.storage.search import index_message_txn

# Statements on the hot path (sending a message, the hub's reads) are built once, with bound
# parameters: building a statement per call and computing its cache key costs SQLAlchemy more
# than running it (about 47 µs against 14 µs per SELECT by key on SQLite).
_conversation_by_id = select(t.conversations).where(t.conversations.c.id == bindparam("p_id"))
_conversation_for_update = _conversation_by_id.with_for_update()


# company_id leads the keys of a conversation's rows (tenancy): naming it lets them be used
_message_by_client_id = select(t.messages).where(
    t.messages.c.company_id == bindparam("p_company_id"),
    t.messages.c.conversation_id == bindparam("p_conversation_id"),
    t.messages.c.client_id == bindparam("p_client_id"),
)


@cache
def _advance_seq(status_changed: bool, activity: bool, waiting_changed: bool) -> Any:
    c = t.conversations.c
    now = bindparam("p_now", type_=c.updated_at.type)
    values: dict[str, Any] = {"last_seq": c.last_seq + 1, "updated_at": now}
    if status_changed:
        values.update(status=bindparam("p_status", type_=c.status.type), snoozed_until=None)
    if waiting_changed:
        values.update(waiting_since=bindparam("p_waiting", type_=c.waiting_since.type))
    if activity:
        values.update(last_activity_at=now, last_message_at=now)
    return (
        update(t.conversations)
        .where(c.id == bindparam("p_id"))
        .values(**values)
        .returning(c.last_seq)
    )


class SqlConversations(Repo):
    async def get(self, conversation_id: ConversationId) -> Conversation | None:
        r = (await self._c.execute(_conversation_by_id, {"p_id": conversation_id})).first()
        return conversation_from(r) if r else None

    async def get_for_update(self, conversation_id: ConversationId) -> Conversation | None:
        r = (await self._c.execute(_conversation_for_update, {"p_id": conversation_id})).first()
        return conversation_from(r) if r else None

    async def create(
        self,
        *,
        company_id: CompanyId,
        customer_id: CustomerId,
        subject: str,
        owner_team_id: TeamId | None,
        now: datetime,
        topic_id: ConversationTopicId | None = None,
        channel: str = "messenger",
        language: str | None = None,
    ) -> Conversation:
        cid = await self._insert_id(
            t.conversations,
            {
                "company_id": company_id,
                "customer_id": customer_id,
                "subject": subject,
                "status": Status.OPEN.value,
                "owner_team_id": owner_team_id,
                "last_seq": 0,
                "created_at": now,
                "updated_at": now,
                "last_activity_at": now,
                "topic_id": topic_id,
                "channel": channel,
                "language": language,
            },
        )
        return Conversation(
            ConversationId(cid),
            company_id,
            customer_id,
            subject,
            Status.OPEN,
            None,
            owner_team_id,
            None,
            0,
            now,
            now,
            None,
            now,
            topic_id=topic_id,
            channel=channel,
            language=language,
        )

    async def advance_seq(
        self,
        conversation: Conversation,
        *,
        status: Status,
        now: datetime,
        activity: bool,
        waiting_since: datetime | None,
    ) -> int:
        changed = status != conversation.status
        waiting_changed = waiting_since != conversation.waiting_since
        params: dict[str, Any] = {"p_id": conversation.id, "p_now": now}
        if changed:
            params["p_status"] = status.value
        if waiting_changed:
            params["p_waiting"] = waiting_since
        stmt = _advance_seq(changed, activity, waiting_changed)
        row = (await self._c.execute(stmt, params)).one()
        return int(row[0])

    async def set_status(
        self,
        conversation_id: ConversationId,
        status: Status,
        snoozed_until: datetime | None,
        now: datetime,
        *,
        clear_waiting: bool = False,
    ) -> None:
        values: dict[str, Any] = {
            "status": status.value,
            "snoozed_until": snoozed_until,
            "updated_at": now,
        }
        if clear_waiting:
            values["waiting_since"] = None
        await self._c.execute(
            update(t.conversations).where(t.conversations.c.id == conversation_id).values(values)
        )

    async def set_owner(
        self,
        conversation_id: ConversationId,
        agent_id: AgentId | None,
        team_id: TeamId | None,
        now: datetime,
    ) -> None:
        await self._c.execute(
            update(t.conversations)
            .where(t.conversations.c.id == conversation_id)
            .values(owner_agent_id=agent_id, owner_team_id=team_id, updated_at=now)
        )

    async def open_owned_by(self, company_id: CompanyId, agent_id: AgentId) -> list[Conversation]:
        c = t.conversations.c
        stmt = (
            select(t.conversations)
            .where(
                c.company_id == company_id,
                c.owner_agent_id == agent_id,
                c.status != Status.RESOLVED.value,
            )
            .order_by(c.id)
            .with_for_update()
        )
        return [conversation_from(r) for r in await self._all(stmt)]

    async def listing(self, flt: ConversationFilter, *, latest: bool = False) -> list[Listed]:
        """One page; sort=waiting reads the waiting stretch, then (when the page is not full)
        the idle one, each from an index in its order (see the conversations' indexes)."""
        if flt.mentioning is not None:
            return await self._mentioned(flt, flt.mentioning, latest)
        if flt.sort == ListSort.NEWEST:
            return await self._stretch(flt, ListPhase.ACTIVITY, flt.limit, latest)
        keyed, tail = (
            (ListPhase.WAITING, ListPhase.IDLE)
            if flt.sort == ListSort.WAITING
            else (ListPhase.DUE, ListPhase.UNDUE)
        )
        if flt.after is not None and flt.after.phase == tail:
            return await self._stretch(flt, tail, flt.limit, latest)
        rows = await self._stretch(flt, keyed, flt.limit, latest)
        if len(rows) < flt.limit:
            rest = replace(flt, after=None)
            rows += await self._stretch(rest, tail, flt.limit - len(rows), latest)
        return rows

    async def _stretch(
        self, flt: ConversationFilter, phase: ListPhase, limit: int, latest: bool
    ) -> list[Listed]:
        c = t.conversations.c
        stmt = _page_select(latest).where(*_filters(flt))
        pos = flt.after
        if pos is not None and pos.phase != phase:
            raise ValueError(f"a {pos.phase} position in a {phase} stretch")
        if phase in _KEYED:
            key = _KEYED[phase]
            stmt = stmt.where(key.is_not(None))
            if pos is not None:
                assert pos.activity is not None
                stmt = stmt.where(
                    key >= pos.at,
                    or_(
                        key > pos.at,
                        c.last_activity_at > pos.activity,
                        and_(c.last_activity_at == pos.activity, c.id > pos.id),
                    ),
                )
            stmt = stmt.order_by(key, c.last_activity_at, c.id)
        else:
            if phase in _TAIL:
                stmt = stmt.where(_TAIL[phase].is_(None))
            if pos is not None:
                stmt = stmt.where(
                    c.last_activity_at <= pos.at,
                    or_(c.last_activity_at < pos.at, c.id < pos.id),
                )
            stmt = stmt.order_by(c.last_activity_at.desc(), c.id.desc())
        out: list[Listed] = []
        for r in await self._all(stmt.limit(limit)):
            conv = conversation_from(r)
            out.append(_listed(r, conv, _position(conv, phase), latest))
        return out

    async def _mentioned(
        self, flt: ConversationFilter, agent_id: AgentId, latest: bool
    ) -> list[Listed]:
        """Newest mention first: ``conversation_mentions`` (a row per agent and conversation,
        kept by triggers) read in its index order, each joined to its conversation by primary
        key and filtered there."""
        c, cm = t.conversations.c, t.conversation_mentions.c
        stmt = (
            _page_select(
                latest, t.conversation_mentions.join(t.conversations, c.id == cm.conversation_id)
            )
            .add_columns(cm.mentioned_at)
            .where(cm.agent_id == agent_id, *_filters(replace(flt, company_ids=None)))
        )
        if flt.company_ids is not None:
            stmt = stmt.where(_in(cm.company_id, flt.company_ids))
        pos = flt.after
        if pos is not None:
            if pos.phase != ListPhase.MENTION:
                raise ValueError(f"a {pos.phase} position in a list of mentions")
            stmt = stmt.where(
                cm.mentioned_at <= pos.at,
                or_(cm.mentioned_at < pos.at, cm.conversation_id < pos.id),
            )
        stmt = stmt.order_by(cm.mentioned_at.desc(), cm.conversation_id.desc()).limit(flt.limit)
        out: list[Listed] = []
        for r in await self._all(stmt):
            conv = conversation_from(r)
            position = ListPosition(ListPhase.MENTION, r.mentioned_at, conv.id)
            out.append(_listed(r, conv, position, latest))
        return out


# A list page with each conversation's newest message and its customer (``latest``): joined by
# key (messages by (company_id, conversation_id, seq = last_seq), customers by id), their
# columns prefixed so that they do not collide with the conversation's.
_last = t.messages.alias("last_message")
_customer = t.customers.alias("customer")
_LAST_COLUMNS = [col.label(f"m_{col.name}") for col in _last.c]
_CUSTOMER_COLUMNS = [col.label(f"u_{col.name}") for col in _customer.c]


def _page_select(latest: bool, source: Any = None) -> Any:
    c = t.conversations.c
    source = t.conversations if source is None else source
    if not latest:
        return select(t.conversations).select_from(source)
    joined = source.outerjoin(
        _last,
        and_(
            _last.c.company_id == c.company_id,
            _last.c.conversation_id == c.id,
            _last.c.seq == c.last_seq,
        ),
    ).join(_customer, _customer.c.id == c.customer_id)
    return select(t.conversations, *_LAST_COLUMNS, *_CUSTOMER_COLUMNS).select_from(joined)


class _Prefixed:
    """The columns of a row that start with a prefix, by their names without it."""

    __slots__ = ("_prefix", "_row")

    def __init__(self, row: Any, prefix: str) -> None:
        self._row, self._prefix = row, prefix

    def __getattr__(self, name: str) -> Any:
        return getattr(self._row, self._prefix + name)


def _listed(r: Any, conv: Conversation, position: ListPosition, latest: bool) -> Listed:
    if not latest:
        return Listed(conv, position)
    last_message: Any = _Prefixed(r, "m_")
    customer: Any = _Prefixed(r, "u_")
    last = message_from(last_message) if r.m_id is not None else None
    return Listed(conv, position, last, customer_from(customer))


def _in(column: Any, ids: frozenset[CompanyId]) -> Any:
    """``=`` for one company (the usual case), so the planner sees an equality prefix."""
    if len(ids) == 1:
        return column == next(iter(ids))
    return column.in_(sorted(ids))


def _filters(flt: ConversationFilter) -> list[Any]:
    c = t.conversations.c
    # restricted (customer erased, under legal hold): in no list (docs/privacy.md, *Erasure*)
    out: list[Any] = [c.restricted_at.is_(None)]
    if flt.customer_id is not None:
        out.append(c.customer_id == flt.customer_id)
    if flt.company_ids is not None:
        out.append(_in(c.company_id, flt.company_ids))
    if flt.status is not None:
        out.append(c.status == flt.status.value)
    if flt.owner_agent_id is not None:
        out.append(c.owner_agent_id == flt.owner_agent_id)
    if flt.owner_team_id is not None:
        out.append(c.owner_team_id == flt.owner_team_id)
    if flt.unassigned:
        out.append(c.owner_agent_id.is_(None))
    if flt.topic_id is not None:
        out.append(c.topic_id == flt.topic_id)
    if flt.label_id is not None:
        cl = t.conversation_labels.c
        out.append(
            exists().where(
                cl.company_id == c.company_id,
                cl.conversation_id == c.id,
                cl.label_id == flt.label_id,
            )
        )
    return out


# the ordered stretches (oldest key first) and the tails without a key (newest activity first)
_KEYED = {
    ListPhase.WAITING: t.conversations.c.waiting_since,
    ListPhase.DUE: t.conversations.c.sla_due_at,
}
_TAIL = {
    ListPhase.IDLE: t.conversations.c.waiting_since,
    ListPhase.UNDUE: t.conversations.c.sla_due_at,
}


def _position(conv: Conversation, phase: ListPhase) -> ListPosition:
    if phase == ListPhase.WAITING:
        assert conv.waiting_since is not None
        return ListPosition(phase, conv.waiting_since, conv.id, conv.last_activity_at)
    if phase == ListPhase.DUE:
        assert conv.sla_due_at is not None
        return ListPosition(phase, conv.sla_due_at, conv.id, conv.last_activity_at)
    return ListPosition(phase, conv.last_activity_at, conv.id)


class SqlMessages(Repo):
    async def get_by_client_id(self, conversation: Conversation, client_id: str) -> Message | None:
        params = {
            "p_company_id": conversation.company_id,
            "p_conversation_id": conversation.id,
            "p_client_id": client_id,
        }
        r = (await self._c.execute(_message_by_client_id, params)).first()
        return message_from(r) if r else None

    async def find_opening(
        self, company_id: CompanyId, customer_id: CustomerId, client_id: str
    ) -> Message | None:
        m, c = t.messages.c, t.conversations.c
        r = await self._one(
            select(t.messages)
            .join(
                t.conversations,
                and_(c.company_id == m.company_id, c.id == m.conversation_id),
            )
            .where(
                c.company_id == company_id,
                c.customer_id == customer_id,
                m.client_id == client_id,
                m.seq == 1,
            )
        )
        return message_from(r) if r else None

    async def insert(
        self,
        *,
        conversation: Conversation,
        seq: int,
        kind: MessageKind,
        body: str,
        author_agent_id: AgentId | None,
        author_customer_id: CustomerId | None,
        author_name: str,
        client_id: str | None,
        now: datetime,
    ) -> Message:
        mid = await self._insert_id(
            t.messages,
            {
                "company_id": conversation.company_id,
                "conversation_id": conversation.id,
                "seq": seq,
                "kind": kind.value,
                "body": body,
                "author_agent_id": author_agent_id,
                "author_customer_id": author_customer_id,
                "author_name": author_name,
                "client_id": client_id,
                "created_at": now,
            },
        )
        if self._c.dialect.name == "sqlite":  # PostgreSQL's index is a generated column
            await index_message_txn(self._c, message_id=mid, body=body)
        return Message(
            MessageId(mid),
            conversation.company_id,
            conversation.id,
            seq,
            kind,
            body,
            author_agent_id,
            author_customer_id,
            author_name,
            client_id,
            now,
        )

    async def page(
        self,
        conversation: Conversation,
        *,
        after_seq: int | None,
        before_seq: int | None,
        limit: int,
        include_notes: bool,
    ) -> list[Message]:
        c = t.messages.c
        stmt = select(t.messages).where(
            c.company_id == conversation.company_id, c.conversation_id == conversation.id
        )
        if not include_notes:
            stmt = stmt.where(c.kind != MessageKind.NOTE.value)
        if after_seq is not None:
            stmt = stmt.where(c.seq > after_seq)
        if before_seq is not None:
            stmt = stmt.where(c.seq < before_seq)
        if before_seq is not None and after_seq is None:
            # paging backwards: the newest `limit` before the cursor, returned oldest first
            rows = await self._all(stmt.order_by(c.seq.desc()).limit(limit))
            return [message_from(r) for r in reversed(rows)]
        return [message_from(r) for r in await self._all(stmt.order_by(c.seq).limit(limit))]

    async def last_visible(
        self, conversations: Sequence[Conversation], include_notes: bool
    ) -> dict[ConversationId, Message]:
        if not conversations:
            return {}
        c = t.messages.c
        companies = sorted({conv.company_id for conv in conversations})
        inner = select(c.company_id, c.conversation_id, func.max(c.seq).label("seq")).where(
            c.company_id.in_(companies), c.conversation_id.in_([conv.id for conv in conversations])
        )
        if not include_notes:
            inner = inner.where(c.kind != MessageKind.NOTE.value)
        sub = inner.group_by(c.company_id, c.conversation_id).subquery()
        rows = await self._all(
            select(t.messages).join(
                sub,
                and_(
                    c.company_id == sub.c.company_id,
                    c.conversation_id == sub.c.conversation_id,
                    c.seq == sub.c.seq,
                ),
            )
        )
        return {ConversationId(r.conversation_id): message_from(r) for r in rows}

    async def unread_counts(
        self,
        conversations: Sequence[Conversation],
        *,
        reader: str,
        kinds: frozenset[MessageKind],
    ) -> dict[ConversationId, int]:
        if not conversations:
            return {}
        m, r = t.messages.c, t.read_markers.c
        stmt = (
            select(m.conversation_id, func.count().label("n"))
            .select_from(
                t.messages.outerjoin(
                    t.read_markers,
                    and_(
                        r.company_id == m.company_id,
                        r.conversation_id == m.conversation_id,
                        r.reader == reader,
                    ),
                )
            )
            .where(
                m.company_id.in_(sorted({c.company_id for c in conversations})),
                m.conversation_id.in_([c.id for c in conversations]),
                m.kind.in_(sorted(k.value for k in kinds)),
                m.seq > func.coalesce(r.last_read_seq, 0),
            )
            .group_by(m.conversation_id)
        )
        return {ConversationId(row.conversation_id): int(row.n) for row in await self._all(stmt)}

    async def set_read(
        self, conversation: Conversation, reader: str, seq: int, now: datetime
    ) -> bool:
        company_id, conversation_id = conversation.company_id, conversation.id
        c = t.read_markers.c
        moved = await self._c.execute(
            update(t.read_markers)
            .where(
                c.company_id == company_id,
                c.conversation_id == conversation_id,
                c.reader == reader,
                c.last_read_seq < seq,
            )
            .values(last_read_seq=seq, updated_at=now)
        )
        if moved.rowcount:
            return True
        exists = await self._one(
            select(c.last_read_seq).where(
                c.company_id == company_id, c.conversation_id == conversation_id, c.reader == reader
            )
        )
        if exists is not None:
            return False
        await self._c.execute(
            insert(t.read_markers).values(
                company_id=company_id,
                conversation_id=conversation_id,
                reader=reader,
                last_read_seq=seq,
                updated_at=now,
            )
        )
        return True

    async def read_markers(self, conversation: Conversation) -> list[ReadMarker]:
        rows = await self._all(
            select(t.read_markers).where(
                t.read_markers.c.company_id == conversation.company_id,
                t.read_markers.c.conversation_id == conversation.id,
            )
        )
        return [ReadMarker(conversation.id, r.reader, r.last_read_seq) for r in rows]
