"""The folders follow the data flow, and imports follow it too (docs/architecture.md, "Module
map"): feeds and files → ingest → store → analysis → compose → render. A stage imports the
shared modules at the top of ``briefs/``, the stages before it, and the store (every stage
reads or writes through it); never a later stage. The store imports no other stage (it
stores what it is handed), the shared modules import none, and nothing in ``briefs/``
imports ``bot/`` or discord."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Stage of each folder (and of render.py); every other module of briefs/ is shared (0).
STAGES = {"feeds": 1, "ingest": 1, "store": 2, "analysis": 3, "compose": 4, "render": 5}
STORE = 2


def _stage(module: str) -> int:
    """The stage of a ``briefs.*`` module name."""
    parts = module.split(".")
    return STAGES.get(parts[1], 0) if len(parts) > 1 else 0


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports, at the top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _allowed(mine: int, theirs: int) -> bool:
    """Whether a module of stage ``mine`` may import one of stage ``theirs``."""
    if theirs in (0, mine):
        return True
    return mine not in (0, STORE) and (theirs <= mine or theirs == STORE)


def _breaches() -> list[str]:
    found = []
    for path in sorted((ROOT / "briefs").rglob("*.py")):
        if "_data" in path.parts:
            continue
        name = _module_name(path)
        mine = _stage(name)
        for imported in sorted(_imports(path)):
            if imported.split(".")[0] in ("bot", "discord"):
                found.append(f"{name} imports {imported}")
            if not imported.startswith("briefs.") or imported == "briefs":
                continue
            theirs = _stage(imported)
            if not _allowed(mine, theirs):
                found.append(f"{name} (stage {mine}) imports {imported} (stage {theirs})")
    return found


def test_imports_follow_the_data_flow() -> None:
    assert _breaches() == []


def test_the_check_can_fail() -> None:
    """A compose module importing the render stage, or the store importing analysis, would
    be seen."""
    assert _stage("briefs.compose.brief") == 4 and _stage("briefs.render") == 5
    assert _stage("briefs.store.documents") == STORE and _stage("briefs.models") == 0
    assert not _allowed(4, 5)  # compose importing render
    assert not _allowed(STORE, 3)  # the store importing analysis
    assert not _allowed(0, 1)  # a shared module importing ingest
    assert not _allowed(3, 4)  # analysis importing compose
    assert _allowed(1, STORE) and _allowed(4, 3) and _allowed(3, 0)
    assert "briefs.store.base" in _imports(ROOT / "briefs" / "compose" / "brief.py")
