"""Web push out: VAPID keys, RFC 8291 encryption and the guarded HTTP send
(implements ``core.ports.PushSender``). Imports ``core`` and the SSRF guard of ``webhooks``."""
