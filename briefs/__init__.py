"""briefbot's engine: ingest, store, analyse, compose and render sourced briefs.

This package never imports discord; ``bot/`` adapts it to Discord and the command line.
"""

import os

# numpy's OpenBLAS starts a pool of threads when it is first imported, and they spin for
# about 0.1 s of CPU each before they sleep: more than ranking a brief costs, on a small
# machine. Ranking matrices (at most compose.MAX_CANDIDATES rows) multiply as fast or faster
# on one thread (docs/performance.md, "Start-up"), so that is the default; an explicit
# OPENBLAS_NUM_THREADS in the environment wins. Set here, before any module of
# the engine imports numpy (ranking, story matching).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

__version__ = "0.1.0"
