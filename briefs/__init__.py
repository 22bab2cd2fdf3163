"""briefbot's engine: ingest, store, analyse, compose and render sourced briefs.

This package never imports discord; ``bot/`` adapts it to Discord and the command line.
"""

__version__ = "0.1.0"
