"""The agent inbox and the company admin pages at ``/app``: a server-rendered shell plus small
hand-written ES modules that use only the public REST + WebSocket API v1.

Modules: ``pages`` (the router: the shell at ``/app`` and the static files under
``/app/static/<version>/``). ``static/`` holds the ES modules and the CSS (``views/`` one module
per screen or part, ``admin/`` the admin pages); the messenger's generic modules (API client,
socket, DOM builder, translations, time and file helpers) are served beside them as
``messenger/…`` so both apps share one copy. ``templates/`` holds the shell.
"""
