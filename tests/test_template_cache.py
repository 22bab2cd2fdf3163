"""Compiled templates kept between runs (briefs.render.template_cache; issue 14, item 1).

A cached template must render exactly what a freshly compiled one renders, an edited
template (shipped or the user's) must never be served stale, and a cache folder that
cannot be used safely or at all is skipped, never an error.
"""

from __future__ import annotations

import stat
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from briefs.brief import Brief
from briefs.render import make_environment, render, template_cache
from briefs.settings import load_settings
from tests.conftest import Run
from tests.test_templates import check_golden


def cached(folder: Path) -> list[str]:
    return sorted(p.name for p in (folder / "templates").glob("*.cache"))


def test_the_cache_lives_in_the_user_cache_folder(tmp_path: Path) -> None:
    home = {"HOME": str(tmp_path / "home")}
    assert load_settings(home).cache_dir == tmp_path / "home" / ".cache" / "briefbot"
    xdg = {**home, "XDG_CACHE_HOME": str(tmp_path / "xdg")}
    assert load_settings(xdg).cache_dir == tmp_path / "xdg" / "briefbot"


def test_a_cached_brief_renders_as_a_compiled_one(cli: Callable[..., Run], tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    env = {"XDG_CACHE_HOME": str(cache)}
    first = cli("brief", extra_env=env)
    assert first.code == 0
    names = cached(cache / "briefbot")
    assert len(names) == 2  # brief.md.j2 and the macros it imports
    assert stat.S_IMODE((cache / "briefbot" / "templates").stat().st_mode) == 0o700
    second = cli("brief", extra_env=env)  # loads both from the cache
    assert cached(cache / "briefbot") == names
    check_golden("brief.md", second.out)
    assert second.out == first.out


def test_an_edited_user_template_is_compiled_afresh(
    cli: Callable[..., Run], tmp_path: Path
) -> None:
    folder = tmp_path / "templates"
    folder.mkdir()
    template = folder / "brief.md.j2"
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache"), "BRIEFBOT_TEMPLATES_DIR": str(folder)}
    template.write_text("one: {{ brief.bluf | length }}\n", encoding="utf-8")
    assert cli("brief", extra_env=env).out == "one: 3\n"
    template.write_text("two: {{ brief.bluf | length }}\n", encoding="utf-8")
    assert cli("brief", extra_env=env).out == "two: 3\n"


def test_a_cache_folder_that_cannot_be_made_is_no_cache(
    cli: Callable[..., Run], tmp_path: Path
) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("", encoding="utf-8")
    assert template_cache(blocked / "briefbot") is None
    run = cli("brief", extra_env={"XDG_CACHE_HOME": str(blocked)})
    assert run.code == 0
    check_golden("brief.md", run.out)


def test_a_cache_that_fails_later_costs_a_compile_not_an_answer(tmp_path: Path) -> None:
    """The folder went away (or the disk filled) after the cache was set up."""
    cache = template_cache(tmp_path / "briefbot")
    assert cache is not None
    (tmp_path / "briefbot" / "templates").rmdir()
    brief = Brief(kind="brief", title="t", generated_at=datetime(2026, 1, 1, tzinfo=UTC))
    assert render(brief, "md", make_environment(None, cache)) == render(
        brief, "md", make_environment()
    )


def test_a_folder_others_may_write_to_is_not_used(tmp_path: Path) -> None:
    """What is loaded from the cache runs as code: a folder that is not private is skipped."""
    folder = tmp_path / "briefbot" / "templates"
    folder.mkdir(parents=True)
    folder.chmod(0o777)
    assert template_cache(tmp_path / "briefbot") is None
    folder.chmod(0o700)
    assert template_cache(tmp_path / "briefbot") is not None
    (tmp_path / "file").write_text("", encoding="utf-8")
    assert template_cache(tmp_path / "file") is None  # cannot be made: no error


def test_a_damaged_cache_file_is_compiled_over(cli: Callable[..., Run], tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    env = {"XDG_CACHE_HOME": str(cache)}
    first = cli("brief", extra_env=env).out
    for path in (cache / "briefbot" / "templates").glob("*.cache"):
        path.write_bytes(b"not a compiled template")
    assert cli("brief", extra_env=env).out == first
