"""The only code that changes state or emits events.

``check_*`` validates input and authorizes, then calls ``do_*``, which applies an already
valid change inside a transaction (functions ending in ``_txn`` must run inside one).
``access_*`` fetches an object and authorizes the principal in one step, so tenancy is checked
in one place. Every public action runs in exactly one :meth:`Database.write` transaction.
"""
