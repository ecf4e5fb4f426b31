"""HTTP and WebSocket surface (FastAPI): REST API v1, the socket, errors, operations.

Imports ``core`` and ``realtime``; never ``storage`` or ``config`` (the composition root hands
everything in as :class:`eyelevel.web.state.Services`).
"""
