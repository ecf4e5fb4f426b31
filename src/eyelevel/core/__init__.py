"""The domain: standard library only, imports nothing else of eyelevel.

- ``ids``, ``entities``, ``errors``, ``events``, ``principals``, ``secrets``: the vocabulary.
- ``rules``: pure decisions (``audience``: who may receive an event; ``roles``).
- ``ports``: the Protocols storage, bus, clock, mailer and password hashing implement.
- ``actions``: the only code that writes or emits events (``check_*``/``do_*``/``access_*``).
- ``queries``: the read side, through the same access checks.
"""
