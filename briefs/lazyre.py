"""Regular expressions compiled when first used, not when defined.

The domain data defines a pattern per topic, cue and gazetteer entity (dozens, more with a
user's own files); a read on an analysed store uses a handful of them, and compiling the
rest cost every command about 20 ms (docs/performance.md, "Start-up").
"""

from __future__ import annotations

import re
from typing import Any, cast

# What a compiled pattern offers; bound onto the stand-in once compiled.
_MEMBERS = (
    "search",
    "match",
    "fullmatch",
    "finditer",
    "findall",
    "sub",
    "subn",
    "split",
    "scanner",
    "flags",
    "groups",
    "groupindex",
)


class LazyPattern:
    """Stands for ``re.compile(pattern, flags)`` and compiles it on first use. The compiled
    pattern's methods are then set on the instance itself, so every later call goes
    straight to them and costs what a call on the compiled pattern costs."""

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self.pattern = pattern
        self._flags = flags

    def __getattr__(self, name: str) -> Any:
        """Only reached for what is not yet on the instance: compile, bind, answer."""
        if name.startswith("__") or name not in _MEMBERS:
            raise AttributeError(name)
        compiled = re.compile(self.pattern, self._flags)
        for member in _MEMBERS:
            setattr(self, member, getattr(compiled, member))
        return getattr(compiled, name)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, LazyPattern):
            return (self.pattern, self._flags) == (other.pattern, other._flags)
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.pattern, self._flags))

    def __reduce__(self) -> tuple[type[LazyPattern], tuple[str, int]]:
        return (LazyPattern, (self.pattern, self._flags))

    def __repr__(self) -> str:
        return f"lazy_compile({self.pattern!r}, {self._flags})"


def lazy_compile(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """``re.compile``, deferred to the pattern's first use (a syntax error shows then)."""
    return cast("re.Pattern[str]", LazyPattern(pattern, flags))
