"""SQLAlchemy (async) implementation of the core's storage ports.

Modules: ``schema`` (tables), ``database`` (engines, transactions, group commit on SQLite),
``uow`` (the unit of work and its repositories), ``migrate`` (Alembic runner). Imports ``core``
only; nothing outside ``app``/``__main__`` imports this package.
"""
