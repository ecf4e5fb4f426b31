"""Background work from the ``jobs`` table: the worker loop and its handlers (mail for now).

Imports ``core`` only. Runs inside ``eyelevel serve`` by default, or as ``eyelevel worker``.
"""
