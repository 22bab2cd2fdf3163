"""docs/architecture.md's module map is true of the code (issue 16): every module of the
engine, the application and the benchmarks is named there, and every path it names exists.
A module is named by its path, or by its stem in the row of its folder (`briefs/feeds/`)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
PACKAGES = ("briefs", "bot", "bench")
# Made when a wheel is built (config/, templates/ and seeds/ copied in; pyproject.toml).
INSTALLED_ONLY = {"briefs/_data/"}


def _modules() -> list[Path]:
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if path.name != "__init__.py" and "__pycache__" not in path.parts:
                found.append(path.relative_to(ROOT))
    return found


def _named_in_map(module: Path) -> bool:
    if f"`{module.as_posix()}`" in DOC:
        return True
    folder = f"`{module.parent.as_posix()}/`"
    rows = [line for line in DOC.splitlines() if line.startswith("|") and folder in line]
    return any(re.search(rf"`{re.escape(module.stem)}`", row) for row in rows)


def test_every_module_is_in_the_module_map() -> None:
    missing = [m.as_posix() for m in _modules() if not _named_in_map(m)]
    assert missing == [], f"add these to docs/architecture.md's module map: {missing}"


def test_every_path_the_map_names_exists() -> None:
    named = set(re.findall(r"`((?:briefs|bot|bench|tests|config|templates)/[\w./-]+)`", DOC))
    gone = sorted(
        p for p in named if p not in INSTALLED_ONLY and not (ROOT / p.rstrip("/")).exists()
    )
    assert gone == [], f"docs/architecture.md names what no longer exists: {gone}"


def test_the_check_can_fail() -> None:
    """A module that is not in the map is seen as missing (the check is not vacuous)."""
    assert not _named_in_map(Path("briefs/no_such_module.py"))
    assert _named_in_map(Path("briefs/ingest/outlets.py"))
