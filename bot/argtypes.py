"""argparse value types shared by the command-line modules."""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable

# ASCII digits only: ``int`` also reads Arabic-Indic, full-width and other Unicode digits.
_WHOLE = re.compile(r"\s*[+-]?[0-9]+\s*")
# Counts and limits end up in SQL (LIMIT, a sentence range): past a 32-bit integer they would
# overflow the query (an internal error) instead of being refused here.
MAXIMUM = 2**31 - 1


def int_at_least(minimum: int, maximum: int = MAXIMUM) -> Callable[[str], int]:
    """A whole-number argument type whose error names the bound, so bad input reads clearly."""

    def parse(text: str) -> int:
        if not _WHOLE.fullmatch(text):
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}")
        value = int(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(
                f"expected a number of at least {minimum}, got {value}"
            )
        if value > maximum:
            raise argparse.ArgumentTypeError(f"expected a number of at most {maximum}")
        return value

    parse.__name__ = f"int>={minimum}"
    return parse
