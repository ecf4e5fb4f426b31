"""eyelevel: customer service at eye level.

Packages and the direction of imports (checked by import-linter):

- ``core``: the domain (entities, rules, ports, actions, queries); imports nothing else.
- ``storage``, ``realtime``: implementations of core ports; import ``core`` only.
- ``web``: FastAPI (REST API v1, WebSocket, errors); imports ``core`` and ``realtime``.
- ``jobs``: the background worker (mail outbox); imports ``core``.
- ``app``: the composition root; ``__main__``: the command line. Only these two import
  ``config`` and ``storage``.
"""

__version__ = "0.1.0"
