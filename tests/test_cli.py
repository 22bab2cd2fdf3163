"""The command line: ingest, source, search, stats, and one clear line for every bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from briefs.store import open_store
from tests.conftest import SEEDS, Run, stored

GOOD = "A headline on arms\n\nSanctions were imposed on Monday. Officials said so.\n"


def _one_line(run: Run) -> str:
    lines = [line for line in run.err.splitlines() if line.strip()]
    assert len(lines) == 1, run.err
    return lines[0]


def test_ingest_files_and_folders(cli: Callable[..., Run], tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    (folder / "sub").mkdir(parents=True)
    (folder / "one.txt").write_text(GOOD, encoding="utf-8")
    (folder / "sub" / "two.md").write_text(GOOD.replace("Monday", "Tuesday"), encoding="utf-8")
    (folder / "ignored.json").write_text("{}", encoding="utf-8")
    run = cli("ingest", str(folder))
    assert run.code == 0, run.err
    assert "2 added" in run.err
    again = cli("ingest", str(folder))
    assert "2 unchanged" in again.err
    stats = cli("stats", "--format", "json").json()
    # The first command that reads data adds the seed corpus, even after files came first.
    assert stats["by_origin"] == {"file": 2, "seed": 5}
    again = cli("stats", "--format", "json").json()
    assert again["documents"] == 7


def test_seed_corpus_can_be_switched_off(cli: Callable[..., Run], tmp_path: Path) -> None:
    (tmp_path / "one.txt").write_text(GOOD, encoding="utf-8")
    off = {"BRIEFBOT_INGEST_SEED_CORPUS": "false"}
    assert cli("ingest", str(tmp_path / "one.txt"), extra_env=off).code == 0
    run = cli("stats", "--format", "json", extra_env=off)
    assert run.json()["by_origin"] == {"file": 1} and "seed corpus" not in run.err


def test_failed_files_are_named_and_the_rest_ingested(
    cli: Callable[..., Run], tmp_path: Path
) -> None:
    (tmp_path / "good.txt").write_text(GOOD, encoding="utf-8")
    (tmp_path / "empty.txt").write_bytes(b"")
    run = cli("ingest", str(tmp_path / "good.txt"), str(tmp_path / "empty.txt"))
    assert run.code == 1
    assert f"{tmp_path / 'empty.txt'}: empty file" in run.err
    assert "1 added, 1 failed" in run.err


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.txt", None, "no such file or folder"),
        ("empty-dir", "DIR", "no articles found in this folder"),
        ("image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary file"),
        ("empty.txt", b"", "empty file"),
        ("blank.txt", b"  \n\n \n", "empty file"),
        ("latin1.txt", "Caf\u00e9 sanctions on Pyongyang.".encode("latin-1"), "not UTF-8"),
        ("debris.txt", b"Advertisement\n\nShare This Post\n", "no article text left"),
    ],
)
def test_bad_ingest_input_is_one_line_and_changes_nothing(
    seeded_cli: Callable[..., Run],
    db_url: str,
    tmp_path: Path,
    name: str,
    content: bytes | str | None,
    message: str,
) -> None:
    path = tmp_path / name
    if content == "DIR":
        path.mkdir()
        (path / "notes.json").write_text("{}", encoding="utf-8")
    elif isinstance(content, bytes):
        path.write_bytes(content)
    before = stored(db_url)
    run = seeded_cli("ingest", str(path))
    assert run.code != 0
    line = run.err.splitlines()[0]
    assert str(path) in line and message in line, run.err
    assert stored(db_url) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["brief", "--format", "pdf"], "unknown format 'pdf'"),
        (["search", "x", "--format", "xml"], "unknown format 'xml'"),
        (["brief", "--max-items", "0"], "at least 1"),
        (["brief", "--since", "last tuesday"], "--since"),
        (["brief", "--since", "2023-10-01", "--until", "2023-09-01"], "is not before"),
        (["source", "not a ref!"], "is not a reference"),
        (["source", "ffffffffffff:1"], "no document 'ffffffffffff'"),
        (["source", "29979d9ea9c5:999"], "has no sentence 999"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_arguments_are_one_clear_line(
    seeded_cli: Callable[..., Run], db_url: str, args: list[str], message: str
) -> None:
    before = stored(db_url)
    run = seeded_cli(*args)
    assert run.code == 2
    assert message in _one_line(run)
    assert run.out == ""
    assert stored(db_url) == before


def test_unwritable_out_is_one_line_and_leaves_nothing(
    seeded_cli: Callable[..., Run], db_url: str, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x", encoding="utf-8")
    before = stored(db_url)
    run = seeded_cli("brief", "--out", str(blocker / "brief.md"))
    assert run.code == 2
    assert f"--out {blocker / 'brief.md'}: cannot write there" in _one_line(run)
    assert stored(db_url) == before
    assert blocker.read_text(encoding="utf-8") == "x"


def test_out_writes_the_file(seeded_cli: Callable[..., Run], tmp_path: Path) -> None:
    target = tmp_path / "brief.json"
    run = seeded_cli("brief", "--format", "json", "--out", str(target))
    assert run.code == 0 and run.out == ""
    assert json.loads(target.read_text(encoding="utf-8"))["kind"] == "brief"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".brief")] == []


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("::not a url::", "BRIEFBOT_DATABASE_URL: malformed database URL"),
        ("oracle://scott@db/x", "BRIEFBOT_DATABASE_URL: unsupported database 'oracle'"),
    ],
)
def test_malformed_database_url(
    seeded_cli: Callable[..., Run], db_url: str, url: str, message: str
) -> None:
    before = stored(db_url)
    run = seeded_cli("brief", extra_env={"BRIEFBOT_DATABASE_URL": url})
    assert run.code == 2
    assert message in _one_line(run)
    assert stored(db_url) == before


def test_bad_setting_names_the_variable(cli: Callable[..., Run]) -> None:
    run = cli("brief", extra_env={"BRIEFBOT_BRIEF_MAX_ITEMS": "many"})
    assert run.code == 2
    assert "BRIEFBOT_BRIEF_MAX_ITEMS" in _one_line(run)


def test_search_ranks_and_cites(seeded_cli: Callable[..., Run]) -> None:
    run = seeded_cli("search", "Shoigu visit", "--format", "json", "--limit", "3")
    brief = run.json()
    results = brief["sections"][0]["items"]
    assert len(results) == 3
    assert all("Shoigu" in r["text"] for r in results)
    md = seeded_cli("search", "Shoigu visit")
    assert md.out.startswith("# Search: Shoigu visit")
    none = seeded_cli("search", "zebra")
    assert "No stored statement matches this query." in none.out


def test_source_of_a_document_shows_its_metadata(seeded_cli: Callable[..., Run]) -> None:
    run = seeded_cli("source", "c5a6b88b0bf1")
    assert "- Publisher: The Korea Herald" in run.out
    assert "- Published: 2023-09-14" in run.out
    assert "[c5a6b88b0bf1:0]" in run.out


def test_python_dash_m_bot_runs_the_same_cli(env: dict[str, str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "stats", "--format", "json"],
        capture_output=True,
        text=True,
        env={**env, "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["documents"] == len(list(SEEDS.glob("*.txt")))


def test_a_file_that_is_not_a_store_is_one_clear_line(
    cli: Callable[..., Run], tmp_path: Path
) -> None:
    bogus = tmp_path / "not-a-store.sqlite3"
    bogus.write_bytes(b"this is not an SQLite database at all, just text" * 100)
    run = cli("brief", extra_env={"BRIEFBOT_DATABASE_URL": f"sqlite:///{bogus}"})
    assert run.code == 2
    assert "BRIEFBOT_DATABASE_URL: cannot open the database" in _one_line(run)
    assert bogus.read_bytes().startswith(b"this is not")


def test_a_store_from_a_newer_briefbot_is_refused(cli: Callable[..., Run], db_url: str) -> None:
    assert cli("stats").code == 0
    store = open_store(db_url)
    store.set_meta("schema_version", "999")
    store.close()
    run = cli("stats")
    assert run.code == 2 and "newer than this briefbot" in _one_line(run)


def test_broken_user_template_is_named(cli: Callable[..., Run], tmp_path: Path) -> None:
    (tmp_path / "brief.md.j2").write_text("{{ brief.nope }}", encoding="utf-8")
    run = cli("brief", extra_env={"BRIEFBOT_TEMPLATES_DIR": str(tmp_path)})
    assert run.code == 2 and "template brief.md.j2" in run.err.splitlines()[-1]


def test_unknown_settings_are_refused(cli: Callable[..., Run], tmp_path: Path) -> None:
    settings = tmp_path / "settings.toml"
    settings.write_text("[brief]\nmax_itemz = 5\n", encoding="utf-8")
    run = cli("brief", extra_env={"BRIEFBOT_SETTINGS": str(settings)})
    assert run.code == 2 and "unknown setting 'max_itemz' in [brief]" in _one_line(run)
    missing = cli("brief", extra_env={"BRIEFBOT_TEMPLATES_DIR": str(tmp_path / "nope")})
    assert missing.code == 2 and "does not exist" in _one_line(missing)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('[ingest]\nseed_corpus = "false"\n', "seed_corpus in [ingest]"),
        ('[ingest]\narticle_suffixes = ".txt"\n', "expected a list of strings"),
        ("[brief]\nmax_items = 2.5\n", "expected a whole number"),
        ("[store]\ndata_dir = 5\n", "expected text"),
    ],
)
def test_settings_of_the_wrong_type_are_refused_by_name(
    cli: Callable[..., Run], tmp_path: Path, line: str, message: str
) -> None:
    settings = tmp_path / "settings.toml"
    settings.write_text(line, encoding="utf-8")
    run = cli("stats", extra_env={"BRIEFBOT_SETTINGS": str(settings)})
    assert run.code == 2 and message in _one_line(run)


def test_out_file_gets_ordinary_permissions(seeded_cli: Callable[..., Run], tmp_path: Path) -> None:
    target = tmp_path / "brief.md"
    assert seeded_cli("brief", "--out", str(target)).code == 0
    assert target.stat().st_mode & 0o777 == 0o666 & ~_umask()


def _umask() -> int:
    import os

    current = os.umask(0)
    os.umask(current)
    return current


def test_until_is_shown_as_the_last_included_day(seeded_cli: Callable[..., Run]) -> None:
    run = seeded_cli("brief", "--until", "2023-08-31")
    assert "to 2023-08-31" in run.out and "2023-09-01" not in run.out.splitlines()[0]


def test_a_long_analysis_is_announced_with_progress(
    cli: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first brief after a large ingest waits for analysis: it says so, and how far."""
    import bot.services.shared

    monkeypatch.setattr(bot.services.shared, "ANNOUNCE_ANALYSIS", 10)
    for i in range(15):
        text = GOOD.replace("Monday", f"day {i}").replace("arms", f"arms {i}")
        (tmp_path / f"a{i:02d}.txt").write_text(text, encoding="utf-8")
    assert cli("ingest", str(tmp_path)).code == 0
    run = cli("brief")
    assert run.code == 0, run.err
    said = [line for line in run.err.splitlines() if line.startswith("briefbot: analys")]
    total = 20  # the 15 files and the 5 seeds
    assert said[0] == (
        f"briefbot: analysing {total} documents (new, or analysed by another version or other "
        "domain data); about 1 s"
    )
    assert [line.split(" (")[0] for line in said[1:-1]] == [
        f"briefbot: analysed {n} of {total} documents" for n in range(2, total, 2)
    ]
    assert said[-1].startswith(f"briefbot: analysed {total} documents in ")
    # Nothing left to analyse: the next brief says nothing about it.
    assert not [
        line for line in cli("brief").err.splitlines() if line.startswith("briefbot: analys")
    ]
