"""Sending webhooks: the SSRF-guarded HTTP transport (``transport``).

Payloads, signing and the retry schedule are pure rules in ``eyelevel.core.webhooks``; the
relay and the delivery attempts are actions (``core/actions/webhooks.py``, ``deliveries.py``).
Imports ``core`` only (and httpx).
"""
