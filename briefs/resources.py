"""Where the shipped data lives: the repository checkout, or the installed wheel.

A development checkout keeps ``templates/``, ``config/`` and ``seeds/`` at the top level; the
wheel carries the same folders under ``briefs/_data/``. Looking in both keeps one code path.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent
_CHECKOUT_ROOT = _PACKAGE_DIR.parent
_WHEEL_DATA = _PACKAGE_DIR / "_data"


def resource_path(name: str) -> Path:
    """Return the path of a shipped folder or file (``templates``, ``config``, ``seeds``...)."""
    candidates = [_WHEEL_DATA / name, _CHECKOUT_ROOT / name]
    if name == "brief.schema.json":
        candidates.insert(1, _CHECKOUT_ROOT / "docs" / name)
    for candidate in candidates:
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"shipped resource {name!r} not found (looked in {candidates})")


def templates_dir() -> Path:
    return resource_path("templates")


def config_dir() -> Path:
    return resource_path("config")


def seeds_dir() -> Path:
    return resource_path("seeds")


def schema_path() -> Path:
    return resource_path("brief.schema.json")
