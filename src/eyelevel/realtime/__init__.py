"""Real-time fan-out: event buses (``local``, ``redis``) and the per-process ``hub``.

Imports ``core`` only. The bus carries committed events between processes; the hub turns them
into an ordered, gap-free stream per process (filling gaps from the database) and pushes each
event to the sockets the audience rule allows.
"""
