"""Typed identifiers: a conversation id can never be passed where a company id is expected."""

from typing import NewType

CompanyId = NewType("CompanyId", int)
TeamId = NewType("TeamId", int)
AgentId = NewType("AgentId", int)
CustomerId = NewType("CustomerId", int)
ConversationId = NewType("ConversationId", int)
MessageId = NewType("MessageId", int)
TokenId = NewType("TokenId", int)
AttachmentId = NewType("AttachmentId", int)
LabelId = NewType("LabelId", int)
CannedResponseId = NewType("CannedResponseId", int)
EventPos = NewType("EventPos", int)
ConversationTopicId = NewType("ConversationTopicId", int)
RoutingRuleId = NewType("RoutingRuleId", int)
