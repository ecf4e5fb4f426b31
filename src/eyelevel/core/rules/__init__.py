"""Pure decisions of the domain: no I/O, no clock reads, easy to test exhaustively."""
