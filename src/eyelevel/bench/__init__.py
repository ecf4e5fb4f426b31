"""``eyelevel bench``: load over real WebSockets on loopback, and a table of what it measured.

For each backend (SQLite; PostgreSQL + Redis when configured) the bench

1. creates a fresh database (a new SQLite file in a temporary directory, or a dedicated
   PostgreSQL database ``eyelevel_bench`` created and dropped on the given server), migrates it
   and seeds companies, agents and *verified* customers with the operator actions;
2. starts ``python -m eyelevel serve`` as a separate process on a free loopback port;
3. signs every account in over HTTP and starts one conversation per active customer;
4. opens the customer, agent and idle sockets from one or more client processes and drives
   them: open loop at ``--rate`` messages/s (half from customers, half agent replies by
   default), or closed loop (``--rate 0``: every sender waits for its ack, then sends again);
5. measures send→ack (the server acks only after the commit) and send→delivery to the other
   side (customer → every agent of the company, agent → the customer), counts errors and
   undelivered pushes, samples the server's RSS and CPU, checks that every acknowledged
   message is in the database, prints a table, stops the server and exits.

Each message's ``client_id`` carries its send time (``CLOCK_MONOTONIC``, shared by all
processes of the machine), so a delivery is timed by whichever client process receives it.
Only ``127.0.0.1`` is ever contacted. Every wait has a deadline.

Modules, each importing only those listed before it:

- ``options``: ``Options``, ``BenchError`` and the fixed limits (timeouts, concurrency);
- ``results``: ``WorkerResult`` (one client process) and ``RunResult`` (a scenario, merged);
- ``accounts``: ``Account``; planning, seeding and signing in the accounts (step 1 and 3);
- ``server``: the server process and its database: create, start, stop, count (1, 2 and 5);
- ``client``: a client process, the ``multiprocessing`` spawn target (4 and 5);
- ``load``: spawns the client processes and samples the server meanwhile (4 and 5);
- ``report``: the table and the notes under it;
- ``scenario``: ``run``, the command itself: every scenario in turn, then the report.
- ``inbox``: ``eyelevel bench inbox``, a separate benchmark of the agent inbox's reads (lists,
  opening a conversation, search) over HTTP on a database filled by ``eyelevel seed``.

The rest of eyelevel imports only this package (``Options`` and ``run``), and only from the
command line; ``core`` never imports it. Heavy dependencies (httpx, websockets, psutil, rich,
the app) are imported inside the functions that use them.
"""

from __future__ import annotations

from eyelevel.bench.options import Options
from eyelevel.bench.scenario import run

__all__ = ["Options", "run"]
