"""The unit of work: every repository on one connection inside one transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from eyelevel.core.entities import (
    Event,
    NewEvent,
)
from eyelevel.storage.accounts import SqlAccounts, SqlSessions, SqlTokens
from eyelevel.storage.agent_security import SqlAgentSecurity
from eyelevel.storage.attachments import SqlAttachments
from eyelevel.storage.audit import SqlAudit
from eyelevel.storage.callbacks import SqlCallbacks
from eyelevel.storage.canned import SqlCanned
from eyelevel.storage.companies import SqlCompanies
from eyelevel.storage.complaints import SqlComplaints
from eyelevel.storage.contact import SqlContact
from eyelevel.storage.conversations import SqlConversations, SqlMessages
from eyelevel.storage.erasure import SqlErasure
from eyelevel.storage.exports import SqlExports
from eyelevel.storage.inbox import SqlInbox
from eyelevel.storage.labels import SqlLabels
from eyelevel.storage.mail import SqlMail
from eyelevel.storage.push import SqlPush
from eyelevel.storage.ratings import SqlRatings
from eyelevel.storage.reports import SqlReports
from eyelevel.storage.retention import SqlRetention
from eyelevel.storage.routing import SqlRouting
from eyelevel.storage.search import SqlSearch
from eyelevel.storage.sharing import SqlSharing
from eyelevel.storage.sla import SqlSla
from eyelevel.storage.stream import SqlEvents, SqlJobs
from eyelevel.storage.teams import SqlTeams
from eyelevel.storage.webhooks import SqlWebhooks


class SqlUnitOfWork:
    """Repositories bound to one connection; collects emitted events for after-commit publish."""

    def __init__(self, conn: AsyncConnection, *, postgres: bool, writable: bool) -> None:
        self.accounts = SqlAccounts(conn)
        self.companies = SqlCompanies(conn)
        self.conversations = SqlConversations(conn)
        self.messages = SqlMessages(conn)
        self.attachments = SqlAttachments(conn)
        self.audit = SqlAudit(conn)
        self.events = SqlEvents(conn, postgres)
        self.tokens = SqlTokens(conn)
        self.search = SqlSearch(conn)
        self.sessions = SqlSessions(conn)
        self.jobs = SqlJobs(conn)
        self.security = SqlAgentSecurity(conn)
        self.inbox = SqlInbox(conn)
        self.teams = SqlTeams(conn)
        self.labels = SqlLabels(conn)
        self.complaints = SqlComplaints(conn)
        self.ratings = SqlRatings(conn)
        self.canned = SqlCanned(conn)
        self.webhooks = SqlWebhooks(conn)
        self.sharing = SqlSharing(conn)
        self.exports = SqlExports(conn)
        self.retention = SqlRetention(conn)
        self.erasure = SqlErasure(conn)
        self.routing = SqlRouting(conn)
        self.mail = SqlMail(conn)
        self.callbacks = SqlCallbacks(conn)
        self.contact = SqlContact(conn)
        self.sla = SqlSla(conn)
        self.push = SqlPush(conn)
        self.reports = SqlReports(conn)
        self.emitted: list[Event] = []
        self._writable = writable

    async def emit(self, event: NewEvent, now: datetime) -> Event:
        if not self._writable:
            raise RuntimeError("emit() in a read-only unit of work")
        stored = await self.events.append(event, now)
        self.emitted.append(stored)
        return stored
