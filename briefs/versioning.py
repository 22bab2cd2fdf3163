"""What identifies an analysis: the analysis code's version and the domain data it read.

Kept apart from ``briefs.analysis`` so that checking whether a store's analysis is current
(every read does) does not load the analysis code and compile its many patterns: a brief
from an analysed store never needs them (docs/performance.md, "Start-up").
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from briefs.lexicon import Lexicon

# Bump when analysis code (briefs/analysis.py and what it calls) changes in a way that
# changes stored results.
ANALYSIS_CODE_VERSION = "5"


def analysis_version(lexicon: Lexicon) -> str:
    """Changes when the analysis code or any domain data file it reads changes."""
    return hashlib.sha256(f"{ANALYSIS_CODE_VERSION}:{lexicon.fingerprint}".encode()).hexdigest()[
        :16
    ]
