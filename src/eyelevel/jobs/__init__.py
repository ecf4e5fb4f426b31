"""Background work from the ``jobs`` table: the worker loop and its handlers (mail, the
wake-up of snoozed conversations, webhook deliveries) and the webhook relay.

Imports ``core`` only. Runs inside ``eyelevel serve`` by default, or as ``eyelevel worker``.
"""
