"""Golden-file tests, one per template. Regenerate with UPDATE_GOLDEN=1 and review the diff."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from jinja2 import UndefinedError

from briefs.brief import Brief
from briefs.errors import SettingsError
from briefs.render import make_environment, render
from briefs.resources import templates_dir
from briefs.store import StoreStats
from tests.conftest import Run

GOLDEN = Path(__file__).parent / "golden"


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"missing golden file {path}; run with UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8"), f"{name} differs from its golden file"


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("brief.md", ["brief"]),
        ("brief-sanctions.md", ["brief", "--topic", "sanctions", "--max-items", "5"]),
        ("source.md", ["source", "29979d9ea9c5:6"]),
        ("source-document.md", ["source", "29979d9ea9c5"]),
        ("search.md", ["search", "artillery shells", "--limit", "4"]),
        ("timeline.md", ["timeline", "--entity", "Shoigu"]),
        ("entity.md", ["entity", "Kirby"]),
        ("stories.md", ["stories"]),
    ],
)
def test_golden(cli: Callable[..., Run], name: str, args: list[str]) -> None:
    run = cli(*args)
    assert run.code == 0, run.err
    check_golden(name, run.out)


def test_stats_golden() -> None:
    stats = StoreStats(
        documents=5,
        sentences=124,
        retired_sentences=2,
        by_origin={"seed": 4, "file": 1},
        first_published=datetime(2023, 8, 30, tzinfo=UTC),
        last_published=datetime(2023, 10, 6, tzinfo=UTC),
        schema_version=1,
        location="/data/briefbot.sqlite3",
    )
    text = make_environment().get_template("stats.md.j2").render(stats=stats)
    check_golden("stats.md", text)


def test_every_template_has_a_golden_test() -> None:
    tested = {
        "brief.md.j2",
        "source.md.j2",
        "search.md.j2",
        "stats.md.j2",
        "timeline.md.j2",
        "entity.md.j2",
        "stories.md.j2",
        "_macros.md.j2",
        # HTML and Discord goldens: tests/test_html.py, tests/test_discord_render.py
        "brief.html.j2",
        "_macros.html.j2",
        "brief.discord.j2",
    }
    assert {p.name for p in templates_dir().glob("*.j2")} == tested


def test_strict_undefined_fails_loudly(tmp_path: Path) -> None:
    (tmp_path / "brief.md.j2").write_text("{{ brief.no_such_field }}", encoding="utf-8")
    brief = Brief(kind="brief", title="t", generated_at=datetime(2026, 1, 1, tzinfo=UTC))
    with pytest.raises(SettingsError, match=r"template brief\.md\.j2") as info:
        render(brief, "md", make_environment(tmp_path))
    assert isinstance(info.value.__context__, UndefinedError)


def test_user_template_folder_overrides_shipped(cli: Callable[..., Run], tmp_path: Path) -> None:
    (tmp_path / "brief.md.j2").write_text(
        "{{ brief.title }}: {{ brief.bluf | length }} statements\n", encoding="utf-8"
    )
    run = cli("brief", extra_env={"BRIEFBOT_TEMPLATES_DIR": str(tmp_path)})
    assert run.out == "Brief: sanctions and arms-trade news: 3 statements\n"


@pytest.mark.parametrize(
    ("source", "fault"),
    [
        ("{{ stats.documnts }}", "has no attribute 'documnts'"),
        ("{% for x in stats %}", "Unexpected end of template"),
    ],
    ids=["undefined", "syntax"],
)
def test_a_broken_user_stats_template_is_one_line_and_exit_2(
    cli: Callable[..., Run], tmp_path: Path, source: str, fault: str
) -> None:
    """`stats.md.j2` faults are reported like a brief template's, not as internal errors."""
    (tmp_path / "stats.md.j2").write_text(source, encoding="utf-8")
    run = cli("stats", extra_env={"BRIEFBOT_TEMPLATES_DIR": str(tmp_path)})
    assert run.code == 2
    # The first command on a new store also says it ingested the seed corpus.
    [line] = [x for x in run.err.splitlines() if x.startswith("briefbot: error")]
    assert line.startswith("briefbot: error: template ") and "stats.md.j2" in line
    assert fault in line
    assert cli("stats", "--format", "json").code == 0  # the store is untouched and readable
