"""briefbot's application layer: the command line, and (later) Discord and the scheduler."""
