"""How customers reach a company: channels.

``messenger`` is the customer's web app at ``/`` (an installable PWA) and the website widget
at ``/widget/{slug}`` with its loader ``/widget.js``. Its pages are server-rendered shells for
small hand-written ES modules that use only the public REST + WebSocket API v1.

Channels import ``core`` and ``web`` (for the request's services, authentication helpers and
:mod:`eyelevel.web.i18n`); they never import ``storage``, ``config``, ``app`` or ``jobs``
(import-linter enforces it). The composition root includes their routers.
"""
