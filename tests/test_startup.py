"""Start-up and hidden work (issue 14, items 1 and 4).

Each command imports what it needs when it runs, so ``briefbot --help`` costs little more than
Python itself and a brief from an SQLite store never loads the PostgreSQL dialect, aiohttp,
discord.py, feedparser or trafilatura. Checked by structure, in a fresh interpreter (which
modules end up in ``sys.modules``), not by timing; bench/startup.py measures the time.

``briefbot stats`` counts what awaits analysis and analyses nothing: checked on the store.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from briefs.analysis.facts import analysis_version
from briefs.lexicon import load_lexicon
from briefs.store import open_store
from tests.conftest import Run

ROOT = Path(__file__).resolve().parent.parent
# Never needed to build the parser, whatever the command.
HEAVY = (
    "sqlalchemy",
    "numpy",
    "jinja2",
    "aiohttp",
    "discord",
    "feedparser",
    "trafilatura",
    "apscheduler",
    "tqdm",
    "asyncio",
)
# Never needed by a brief, a search or stats from an SQLite store.
NOT_FOR_READS = (
    "sqlalchemy.dialects.postgresql",
    "psycopg",
    "aiohttp",
    "discord",
    "feedparser",
    "trafilatura",
    "apscheduler",
)
# Analysis code (and its many patterns) and the pipeline's process pool: a read on an
# analysed store needs none of them (the analysis version is in briefs.analysis.versioning).
ANALYSIS = (
    "briefs.analysis.facts",
    "briefs.dates",
    "briefs.analysis.quotes",
    "briefs.analysis.pipeline",
)
GOOD = """Title: Ministry announces new export controls
Publisher: Test Wire
Date: 2026-11-20

The ministry said on Friday that it would tighten export controls on drone parts.
"These measures close a loophole," the minister said at a press conference in the capital.
Officials added that the rules take effect next month and apply to all shipments.
"""


def imported_by(code: str, env: dict[str, str] | None = None) -> tuple[int, str, set[str]]:
    """Run ``code`` in a fresh interpreter; its exit status, stdout, and every module it
    imported (``sys.modules`` at exit, printed by an exit hook)."""
    probe = (
        "import atexit, json, sys\n"
        "atexit.register(lambda: print('\\nMODULES' + json.dumps(sorted(sys.modules)),"
        " file=sys.stderr))\n" + code
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    [line] = [x for x in done.stderr.splitlines() if x.startswith("MODULES")]
    return done.returncode, done.stdout, set(json.loads(line.removeprefix("MODULES")))


def run_cli(args: Sequence[str], env: dict[str, str] | None = None) -> tuple[int, str, set[str]]:
    """``briefbot ARGS`` in a fresh interpreter, as the installed script runs it."""
    return imported_by(f"from bot.cli import main\nraise SystemExit(main({list(args)!r}))", env)


def loaded(modules: set[str], packages: Sequence[str]) -> list[str]:
    """Which of ``packages`` (or their submodules) are among ``modules``."""
    return [p for p in packages if any(m == p or m.startswith(p + ".") for m in modules)]


def test_importing_the_command_line_imports_no_heavy_package() -> None:
    code, _, modules = imported_by("import bot.cli\nimport bot.__init__")
    assert code == 0
    assert "bot.cli" in modules  # the probe works
    assert loaded(modules, HEAVY) == []
    assert not any(m.startswith("briefs.store") for m in modules)


def test_help_imports_no_sqlalchemy_and_no_command_module() -> None:
    code, out, modules = run_cli(["--help"])
    assert code == 0 and "usage: briefbot" in out and "stats" in out
    assert loaded(modules, HEAVY) == []
    assert (
        not {"bot.services.shared", "briefs.store", "briefs.analysis.facts", "briefs.render"}
        & modules
    )


def test_a_usage_error_imports_nothing_heavy() -> None:
    code, _, modules = run_cli(["brief", "--max-items", "0"])
    assert code == 2
    assert loaded(modules, HEAVY) == []


def test_reads_from_sqlite_import_only_what_they_need(
    tmp_path: Path, cli: Callable[..., Run]
) -> None:
    url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    env = {"BRIEFBOT_DATABASE_URL": url, "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path)}
    assert cli("brief", extra_env=env).code == 0  # seeds and analyses, in this process

    code, out, modules = run_cli(["brief", "--format", "md"], env)
    assert code == 0 and "[1]" in out
    assert loaded(modules, ("sqlalchemy", "numpy", "jinja2")) == ["sqlalchemy", "numpy", "jinja2"]
    assert loaded(modules, NOT_FOR_READS) == []
    assert "sqlalchemy.dialects.sqlite" in modules
    assert loaded(modules, ANALYSIS) == []

    code, out, modules = run_cli(["search", "sanctions"], env)
    assert code == 0 and out
    assert loaded(modules, (*NOT_FOR_READS, *ANALYSIS)) == []

    code, out, modules = run_cli(["stats", "--format", "json"], env)
    assert code == 0 and json.loads(out)["documents"] == 5
    assert loaded(modules, (*NOT_FOR_READS, *ANALYSIS, "numpy", "jinja2")) == []

    # Dates given: their parser, still no analysis.
    code, out, modules = run_cli(["brief", "--since", "2020-01-01"], env)
    assert code == 0 and "[1]" in out
    assert "briefs.dates" in modules
    assert (
        loaded(
            modules, ("briefs.analysis.facts", "briefs.analysis.quotes", "briefs.analysis.pipeline")
        )
        == []
    )


def test_ranking_uses_one_blas_thread_unless_told_otherwise() -> None:
    """numpy's OpenBLAS threads cost more to start than ranking a brief (briefs.compose.rank)."""
    probe = "import briefs.compose.rank, os\nprint(os.environ['OPENBLAS_NUM_THREADS'])"
    code, out, _ = imported_by(probe, {"OPENBLAS_NUM_THREADS": ""})
    assert code == 0 and out.strip() == ""  # set, even empty: left as it is
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.stdout.strip() == "1", done.stderr
    code, out, _ = imported_by(probe, {"OPENBLAS_NUM_THREADS": "4"})
    assert code == 0 and out.strip() == "4"


def test_ingesting_text_files_imports_no_feed_or_page_parser(tmp_path: Path) -> None:
    article = tmp_path / "one.txt"
    article.write_text(GOOD, encoding="utf-8")
    env = {
        "BRIEFBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'store.sqlite3'}",
        "HOME": str(tmp_path),
        "BRIEFBOT_INGEST_SEED_CORPUS": "false",
    }
    code, _, modules = run_cli(["ingest", str(article)], env)
    assert code == 0
    assert loaded(modules, (*NOT_FOR_READS, "numpy", "jinja2")) == []


# -- stats: no hidden work ----------------------------------------------------------------


def test_stats_counts_unanalysed_documents_and_analyses_none(
    cli: Callable[..., Run], tmp_path: Path, db_url: str
) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    for i in range(3):
        text = GOOD.replace("drone parts", f"drone parts of kind {i}")
        (folder / f"a{i}.txt").write_text(text, encoding="utf-8")
    no_seeds = {"BRIEFBOT_INGEST_SEED_CORPUS": "false"}
    assert cli("ingest", str(folder), extra_env=no_seeds).code == 0
    version = analysis_version(load_lexicon())

    def pending() -> list[str]:
        store = open_store(db_url)
        try:
            return store.analysis.pending(version)
        finally:
            store.close()

    assert len(pending()) == 3

    result = cli("stats", "--format", "json", extra_env=no_seeds)
    assert result.code == 0, result.err
    assert result.json()["documents"] == 3
    assert result.json()["awaiting_analysis"] == 3
    assert "analys" not in result.err  # nothing analysed, nothing announced
    md = cli("stats", extra_env=no_seeds)
    assert md.code == 0
    assert "- Documents: 3 (3 file)" in md.out
    assert "- Awaiting analysis: 3 documents" in md.out and "briefbot brief" in md.out
    assert len(pending()) == 3  # the store still holds them unanalysed

    assert cli("brief", extra_env=no_seeds).code == 0  # a read analyses them, as before
    assert pending() == []
    after = cli("stats", "--format", "json", extra_env=no_seeds)
    assert after.json()["awaiting_analysis"] == 0
    assert "Awaiting analysis" not in cli("stats", extra_env=no_seeds).out


def test_a_bad_reference_and_a_corpus_count_analyse_nothing(
    cli: Callable[..., Run], tmp_path: Path, db_url: str, env: dict[str, str]
) -> None:
    """``source`` refuses a malformed reference before analysing, and ``/about``'s count of
    documents (``Services.corpus_size``) counts without analysing."""
    from bot.services.shared import Services
    from briefs.clock import FrozenClock
    from briefs.settings import load_settings
    from tests.conftest import NOW

    folder = tmp_path / "articles"
    folder.mkdir()
    for i in range(2):
        text = GOOD.replace("drone parts", f"drone parts of kind {i}")
        (folder / f"a{i}.txt").write_text(text, encoding="utf-8")
    no_seeds = {"BRIEFBOT_INGEST_SEED_CORPUS": "false"}
    assert cli("ingest", str(folder), extra_env=no_seeds).code == 0
    version = analysis_version(load_lexicon())

    def pending() -> int:
        store = open_store(db_url)
        try:
            return len(store.analysis.pending(version))
        finally:
            store.close()

    bad = cli("source", "not a ref!", extra_env=no_seeds)
    assert bad.code != 0
    assert "is not a reference" in bad.err and "analys" not in bad.err
    assert pending() == 2

    engine = Services(load_settings({**env, **no_seeds}), FrozenClock(NOW))
    try:
        assert engine.briefs.corpus_size() == 2
    finally:
        engine.close()
    assert pending() == 2


def test_stats_of_a_new_store_seeds_it_but_does_not_analyse(
    cli: Callable[..., Run], db_url: str
) -> None:
    result = cli("stats", "--format", "json")
    assert result.code == 0
    assert "ingesting the seed corpus" in result.err  # said, as for every first read
    assert result.json()["documents"] == result.json()["awaiting_analysis"] == 5
    store = open_store(db_url)
    try:
        assert len(store.analysis.pending(analysis_version(load_lexicon()))) == 5
    finally:
        store.close()
