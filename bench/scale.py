"""Scale: ``python -m bench.scale --write`` measures 1k, 10k and 100k documents on both backends.

For each size and backend it prepares an analysed store (SQLite: reused from the work folder,
else copied from a ready-made store, else generated and analysed as bench/brief_latency.py
does; PostgreSQL: the SQLite store copied in with the ``briefbot db migrate-to`` code, never
re-analysed), then measures, pinned to one core: ``/brief`` latency (the cases of
bench/brief_latency.py), digest latency (``compose_digest`` for the newest 100 and 1,000
documents, as a guild's schedule composes it) and the memory of a running bot (a child process
that starts the real ``BriefBot`` against the Discord API double of the tests, serves a few
commands and reports its peak RSS). Prints Markdown tables; ``--write`` puts them into
docs/performance.md under "Scale: 1k, 10k, 100k documents on SQLite and PostgreSQL".
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text

from bench.brief_latency import brief_cases, build
from briefs.analysis.pipeline import analyze_pending
from briefs.compose.digest import SETTLE, DigestRequest, compose_digest
from briefs.lexicon import Lexicon, load_lexicon
from briefs.settings import Settings, load_settings
from briefs.store import SqlStore, open_store
from briefs.store.copy import copy_store

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "performance.md"
HEADING = "## Scale: 1k, 10k, 100k documents on SQLite and PostgreSQL"
# Ready-made analysed SQLite stores on the development machine, tried before generating one.
READY = {
    1000: [Path("/tmp/c1k")],
    10000: [Path("/tmp/c10k"), Path("/tmp/botload-store")],
    100000: [Path("/tmp/c100k")],
}
DIGEST_SIZES = (100, 1000)
BRIEF_CASES = (
    "whole corpus",
    "--topic sanctions",
    "--entity Shoigu",
    "--query artillery shells",
    "--since last 30 days of corpus",
)
PG_USER = "briefbot"
# The server of the benchmark: a real configuration for a machine of this size, not the
# test suite's (64 MB shared buffers). fsync stays off: nothing here needs durability.
PG_OPTIONS = (
    "-c listen_addresses=127.0.0.1 -c shared_buffers=1GB -c effective_cache_size=4GB "
    "-c work_mem=16MB -c maintenance_work_mem=256MB -c fsync=off -c synchronous_commit=off "
    "-c full_page_writes=off -c max_wal_size=4GB"
)


def label(n: int) -> str:
    return f"{n // 1000}k" if n % 1000 == 0 else str(n)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- PostgreSQL server -------------------------------------------------------------------


class PgServer:
    """A PostgreSQL server whose data folder persists in the work folder, so copies are reused."""

    def __init__(self, folder: Path, port: int = 55432) -> None:
        from tests.pg import _bin_dir

        self.folder = folder
        self.data = folder / "data"
        self.port = port
        self.bin_dir = _bin_dir()
        self.prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        self.started = False

    def _run(self, *args: str) -> None:
        subprocess.run([*self.prefix, *args], check=True, capture_output=True, text=True)

    def start(self) -> None:
        if not self.data.exists():
            self.folder.mkdir(parents=True, exist_ok=True)
            if self.prefix:
                shutil.chown(self.folder, "postgres", "postgres")
            self.folder.chmod(0o700)
            self._run(
                str(self.bin_dir / "initdb"), "-D", str(self.data), "-U", PG_USER,
                "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync",
            )  # fmt: skip
        if (self.data / "postmaster.pid").exists():
            return  # already running (an earlier run left it up with --keep-server)
        options = f"{PG_OPTIONS} -p {self.port} -k {self.folder}"
        self._run(
            str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-o", options,
            "-l", str(self.folder / "server.log"), "-w", "-t", "120", "start",
        )  # fmt: skip
        self.started = True

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{PG_USER}@127.0.0.1:{self.port}/{database}"

    def ensure_database(self, database: str) -> None:
        admin = create_engine(self.url("postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            exists = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": database}
            ).first()
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{database}"'))
        admin.dispose()

    def drop_database(self, database: str) -> None:
        admin = create_engine(self.url("postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()

    def version(self) -> str:
        engine = create_engine(self.url("postgres"))
        with engine.connect() as conn:
            value = str(conn.execute(text("SHOW server_version")).scalar_one())
        engine.dispose()
        return value.split()[0]

    def stop(self) -> None:
        subprocess.run(
            [*self.prefix, str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", "fast",
             "-w", "stop"],
            check=False, capture_output=True,
        )  # fmt: skip


# -- stores ------------------------------------------------------------------------------


def sqlite_documents(path: Path) -> int:
    if not path.exists():
        return 0
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return int(conn.execute("SELECT count(*) FROM documents").fetchone()[0])
    except sqlite3.Error:
        return 0
    finally:
        conn.close()


def prepare_sqlite(work: Path, n: int) -> str:
    """An analysed SQLite store of about ``n`` documents in ``work``/<size>; its URL."""
    folder = work / label(n)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "store.sqlite3"
    if sqlite_documents(path) < n:
        ready = [
            p / "store.sqlite3" for p in READY.get(n, []) if sqlite_documents(p / "store.sqlite3")
        ]
        ready = [p for p in ready if n <= sqlite_documents(p) < n * 1.01]
        if ready:
            # The SQLite backup API: a consistent copy even if someone has the source open.
            log(f"{label(n)}: copying {ready[0]} to {path}")
            path.unlink(missing_ok=True)
            source = sqlite3.connect(f"file:{ready[0]}?mode=ro", uri=True)
            target = sqlite3.connect(path)
            source.backup(target, pages=65536)
            target.close()
            source.close()
        else:
            log(f"{label(n)}: generating and analysing {n} documents (about 100 per second)")
            build(folder, n).close()
    url = f"sqlite:///{path}"
    store = open_store(url)  # brings an older copy to the current schema
    try:
        start = time.perf_counter()
        done = analyze_pending(store, load_lexicon())
        if done:
            log(
                f"{label(n)}: analysed {done} stale documents "
                f"in {time.perf_counter() - start:.0f} s"
            )
    finally:
        store.close()
    # What the bot does on first use (the seed articles, analysed), done now so the bot of
    # the memory test finds the store as it leaves it and both backends hold the same rows.
    from bot.services.shared import Services
    from briefs.clock import FrozenClock

    engine = Services(bot_settings(url, folder), FrozenClock(datetime.now(UTC)))
    try:
        engine.ensure_ready()
    finally:
        engine.close()
    return url


def bot_settings(url: str, home: Path) -> Settings:
    """The bot's settings for a store: defaults, the store's URL, four worker threads."""
    return load_settings(
        {"BRIEFBOT_DATABASE_URL": url, "HOME": str(home), "BRIEFBOT_DISCORD_MAX_WORKERS": "4"}
    )


def prepare_postgres(server: PgServer, sqlite_url: str, n: int) -> tuple[str, float | None]:
    """The SQLite store copied into its own database (reused when the counts match)."""
    database = f"briefbot_scale_{label(n)}"
    url = server.url(database)
    source = open_store(sqlite_url)
    try:
        want = source.stats().documents
        server.ensure_database(database)
        target = open_store(url)
        try:
            have = target.stats().documents
        finally:
            target.close()
        if have == want:
            return url, None
        if have:
            server.drop_database(database)
            server.ensure_database(database)
        log(f"{label(n)}: copying {want} documents into PostgreSQL (migrate-to code)")
        start = time.perf_counter()
        target = open_store(url)
        try:
            counts = copy_store(source, target, 1000)
            wrong = [c.table for c in counts if not c.ok]
            if wrong:
                raise RuntimeError(f"copy to {url}: counts differ in {', '.join(wrong)}")
            engine = target.engine
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
        finally:
            target.close()
        seconds = time.perf_counter() - start
        log(f"{label(n)}: copied in {seconds:.0f} s")
        return url, seconds
    finally:
        source.close()


# -- measuring ---------------------------------------------------------------------------


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    """p50, p95 (nearest rank) and max."""
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]
    return statistics.median(ordered), p95, ordered[-1]


def timed(run: Callable[[], object], runs: int) -> tuple[float, float, float]:
    run()  # warm caches (lexicon, pages, plans)
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        samples.append((time.perf_counter() - start) * 1000)
    return percentiles(samples)


def digest_cases(store: SqlStore, lexicon: Lexicon) -> dict[str, Callable[[], object]]:
    """A guild's digest of its newest K documents, as ``DigestService`` composes it (no guild
    filter here: files ingested count for every guild), the window ending at the newest."""
    cases: dict[str, Callable[[], object]] = {}
    with store.engine.connect() as conn:
        # Arrival times have one-second resolution and ingest writes hundreds a second:
        # windows are cut between seconds, so they hold at least (not exactly) k documents.
        groups = [
            (datetime.fromisoformat(r[0]), int(r[1]))
            for r in conn.execute(
                text(
                    "SELECT fetched_at, count(*) FROM documents GROUP BY fetched_at "
                    "ORDER BY fetched_at DESC"
                )
            )
        ]
    newest = groups[0][0]

    def digest(request: DigestRequest) -> Callable[[], object]:
        return lambda: compose_digest(store, lexicon, request, request.end)

    for k in DIGEST_SIZES:
        held, cut = 0, groups[-1][0] - timedelta(seconds=1)
        for i, (_, count) in enumerate(groups):
            held += count
            if held >= k:
                if i + 1 < len(groups):
                    cut = groups[i + 1][0]
                break
        request = DigestRequest(guild_id=None, start=cut + SETTLE, end=newest + SETTLE)
        cases[f"newest {k:,} documents"] = digest(request)
    return cases


TIMED = ("briefs", "digests")


@dataclass
class Result:
    n: int
    backend: str
    documents: int = 0
    sentences: int = 0
    briefs: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    digests: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    digest_docs: dict[str, int] = field(default_factory=dict)
    memory: dict[str, float] = field(default_factory=dict)


def measure(url: str, n: int, backend: str, runs: int, digest_runs: int) -> Result:
    result = Result(n, backend)
    lexicon = load_lexicon()
    store = open_store(url)
    try:
        stats = store.stats()
        result.documents, result.sentences = stats.documents, stats.sentences
        cases = brief_cases(store, lexicon)
        for name in BRIEF_CASES:
            result.briefs[name] = timed(cases[name], runs)
            log(f"{label(n)} {backend} {name}: p50/p95/max {fmt(result.briefs[name])} ms")
        for name, run in digest_cases(store, lexicon).items():
            brief = run()
            window = brief.window  # type: ignore[attr-defined]
            result.digest_docs[name] = len(
                store.schedules.window_documents(None, window.start - SETTLE, window.end - SETTLE)
            )
            result.digests[name] = timed(run, digest_runs)
            log(f"{label(n)} {backend} digest {name}: {fmt(result.digests[name])} ms")
    finally:
        store.close()
    result.memory = memory_of_bot(url)
    log(f"{label(n)} {backend} memory: {result.memory}")
    return result


def measure_all(
    args: argparse.Namespace,
    sizes: list[int],
    backends: list[str],
    urls: dict[tuple[int, str], str],
) -> list[Result]:
    return [
        measure(urls[n, backend], n, backend, args.runs, args.digest_runs)
        for n in sizes
        for backend in backends
    ]


def fmt(values: tuple[float, float, float]) -> str:
    return " / ".join(f"{v:,.0f}" for v in values)


# -- memory of the running bot -----------------------------------------------------------


def proc_status() -> dict[str, float]:
    """VmRSS and VmHWM (peak RSS) of this process, MiB, from /proc/self/status."""
    found: dict[str, float] = {}
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                found[key] = int(value.split()[0]) / 1024
    return found


def memory_of_bot(url: str) -> dict[str, float]:
    """Run the bot in a child process (fresh interpreter, one core) and read its memory."""
    command = [sys.executable, "-m", "bench.scale", "--memory-child", url]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"memory child failed: {done.stderr[-2000:]}")
    values: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return values


async def memory_child(url: str) -> dict[str, float]:
    """Start the engine and the real ``BriefBot`` against the Discord double, serve one
    command of each kind of bench/bot_load.py's mix, report RSS (MiB) and peak RSS."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {0})
    from bench.bot_load import REQUESTS, _finished
    from bot.app import BriefBot
    from bot.services.shared import Services
    from briefs.clock import FrozenClock
    from tests.discord_double import DiscordDouble, patched_discord

    imported = proc_status()["VmRSS"]
    home = Path(os.environ.get("TMPDIR", "/tmp")) / f"briefbot-scale-home-{os.getpid()}"
    home.mkdir(exist_ok=True)
    settings = bot_settings(url, home)
    store = open_store(url)
    last = store.stats().last_published
    store.close()
    engine = Services(settings, FrozenClock((last or datetime.now(UTC)) + timedelta(days=1)))
    double = DiscordDouble()
    await double.start()
    served = 0
    try:
        with patched_discord(double):
            double.add_guild("Scale")
            bot = BriefBot(engine)
            async with double.running(bot, timeout=600):
                ready = proc_status()["VmRSS"]
                for _ in range(2):
                    for options in REQUESTS:
                        ix = await double.command("brief", options)
                        await ix.wait_for(_finished, 300)
                        served += 1
                after = proc_status()
    finally:
        await double.stop()
        engine.close()
        shutil.rmtree(home, ignore_errors=True)
    return {
        "imported": imported,
        "ready": ready,
        "after": after["VmRSS"],
        "peak": after["VmHWM"],
        "commands": served,
    }


# -- report ------------------------------------------------------------------------------


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kib = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
        ram = f"{mem_kib / 1024 / 1024:.0f} GiB RAM"
    except (OSError, StopIteration):
        ram = "RAM unknown"
    return f"{cpu}, {os.cpu_count()} cores, {ram}"


def slope(points: list[tuple[int, float]]) -> float | None:
    """Least-squares exponent b of y = a * N^b (log-log fit)."""
    pts = [(math.log(n), math.log(y)) for n, y in points if n > 0 and y > 0]
    if len(pts) < 2:
        return None
    mx = statistics.fmean(x for x, _ in pts)
    my = statistics.fmean(y for _, y in pts)
    sxx = sum((x - mx) ** 2 for x, _ in pts)
    return sum((x - mx) * (y - my) for x, y in pts) / sxx if sxx else None


def in_words(b: float | None) -> str:
    if b is None:
        return "n/a"
    if b < 0.1:
        return "flat"
    if b < 0.35:
        return "slow (under N^⅓)"
    if b < 0.75:
        return "sublinear (about √N)"
    if b < 1.2:
        return "linear"
    return "superlinear"


def report(
    args: argparse.Namespace,
    results: list[Result],
    pg_version: str | None,
    copy_seconds: dict[int, float],
    load: tuple[tuple[float, ...], tuple[float, ...]],
) -> str:
    backends = sorted({r.backend for r in results}, key=["sqlite", "postgres"].index)
    name = {"sqlite": "SQLite", "postgres": "PostgreSQL"}
    versions = f"SQLite {sqlite3.sqlite_version}" + (
        f", PostgreSQL {pg_version}" if pg_version else ""
    )
    command = "python -m bench.scale --write"
    if args.sizes != "1000,10000,100000" or args.backends != "sqlite,postgres":
        command += f" --sizes {args.sizes} --backends {args.backends}"
    if args.runs != 30 or args.digest_runs != 15:
        command += f" --runs {args.runs} --digest-runs {args.digest_runs}"
    lines = [
        HEADING,
        "",
        "```sh",
        command,
        "```",
        "",
        f"Machine: {machine()}, Linux {platform.release()}, Python {platform.python_version()}, "
        f"{versions}. Load average (1, 5, 15 min) "
        f"{', '.join(f'{v:.2f}' for v in load[0])} at the start and "
        f"{', '.join(f'{v:.2f}' for v in load[1])} at the end"
        + (
            " (other engineers' test suites shared the cores, so single points can be off by "
            "a quarter or more)"
            if max(load[0] + load[1]) >= 2
            else " (about 1 of it is the benchmark itself: the other core was mostly free)"
        )
        + ". The benchmark runs at normal priority, pinned to one core "
        "(`os.sched_setaffinity`); the PostgreSQL server is not pinned.",
        "",
        "Stores: the generated corpus of bench/corpus.py, ingested and analysed into SQLite "
        "(reused from earlier runs: analysis runs at about 100 documents per second), plus the "
        "5 seed articles the bot ingests on first use, then "
        "copied into PostgreSQL with the code of `briefbot db migrate-to` (counts checked) "
        "and `VACUUM ANALYZE`d. PostgreSQL runs locally on 127.0.0.1 with 1 GB shared "
        "buffers, fsync off, in the same machine; each query goes through the connection "
        "pool over TCP."
        + (
            " Copy times (SQLite to PostgreSQL, with the index builds and `VACUUM ANALYZE`): "
            + ", ".join(f"{label(n)} {s:.0f} s" for n, s in sorted(copy_seconds.items()))
            + "."
            if copy_seconds
            else ""
        ),
        "",
        "### `/brief` latency",
        "",
        f"In-process `compose_brief`, the requests of bench/brief_latency.py, one warm-up "
        f"call, then {args.runs} runs each; milliseconds, p50 / p95 / max.",
        "",
        "| backend | documents | sentences | " + " | ".join(BRIEF_CASES) + " |",
        "| --- | ---: | ---: | " + " | ".join("---:" for _ in BRIEF_CASES) + " |",
    ]
    for r in results:
        lines.append(
            f"| {name[r.backend]} | {r.documents:,} | {r.sentences:,} | "
            + " | ".join(fmt(r.briefs[c]) for c in BRIEF_CASES)
            + " |"
        )
    digest_names = [f"newest {k:,} documents" for k in DIGEST_SIZES]
    lines += [
        "",
        "### Digest latency",
        "",
        "`compose_digest` (briefs/compose/digest.py) as `DigestService` calls it for a "
        "schedule: the "
        "window ends at the newest document's arrival and starts just before the 100th or "
        f"1,000th newest; one warm-up, {args.digest_runs} runs; milliseconds, p50 / p95 / max "
        "(documents in the window in brackets).",
        "",
        "| backend | documents | " + " | ".join(digest_names) + " |",
        "| --- | ---: | " + " | ".join("---:" for _ in digest_names) + " |",
    ]
    for r in results:
        cells = [
            f"{fmt(r.digests[d])} ({r.digest_docs[d]})" if d in r.digests else "n/a"
            for d in digest_names
        ]
        lines.append(f"| {name[r.backend]} | {r.documents:,} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "### Memory of the running bot",
        "",
        "A fresh process (one core) opens the store through `bot.services.shared.Services`, "
        "starts the "
        "real `BriefBot` (discord.py) against the Discord API double of the tests on "
        "127.0.0.1 (in the same process, so its few MiB are included), and serves 14 `/brief` "
        "commands (bench/bot_load.py's mix twice). RSS from /proc/self/status, MiB: after "
        "imports, once the bot is ready, after the commands, and the peak (VmHWM).",
        "",
        "| backend | documents | imported | ready | after commands | peak |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        m = r.memory
        lines.append(
            f"| {name[r.backend]} | {r.documents:,} | {m['imported']:.0f} | {m['ready']:.0f} "
            f"| {m['after']:.0f} | {m['peak']:.0f} |"
        )
    lines += [
        "",
        "### How cost grows with the corpus",
        "",
        "Exponent b of a least-squares fit of log(p95) against log(documents) (cost ∝ N^b): "
        "0 is flat, 1 is linear. Also the ratio of the largest store's p95 to the smallest's "
        "(the corpus grows 100-fold).",
        "",
        "| measure | "
        + " | ".join(f"{name[b]} b" for b in backends)
        + " | "
        + " | ".join(f"{name[b]} ratio" for b in backends)
        + " | growth |",
        "| --- | " + " | ".join("---:" for _ in backends * 2) + " | --- |",
    ]
    measures: list[tuple[str, Callable[[Result], float | None]]] = [
        *[(f"`/brief` {c}", lambda r, c=c: r.briefs[c][1]) for c in BRIEF_CASES],
        *[
            (f"digest, {d}", lambda r, d=d: r.digests[d][1] if d in r.digests else None)
            for d in digest_names
        ],
        ("bot peak RSS", lambda r: r.memory["peak"]),
    ]
    summary: dict[str, dict[str, float | None]] = {}
    for title, get in measures:
        exps, ratios = [], []
        for b in backends:
            pts = [(r.documents, v) for r in results if r.backend == b and (v := get(r))]
            e = slope(pts)
            exps.append(e)
            ratios.append(pts[-1][1] / pts[0][1] if len(pts) >= 2 else None)
            summary.setdefault(title, {})[b] = e
        worst = max((e for e in exps if e is not None), default=None)
        lines.append(
            f"| {title} | "
            + " | ".join("n/a" if e is None else f"{e:.2f}" for e in exps)
            + " | "
            + " | ".join("n/a" if q is None else f"×{q:.1f}" for q in ratios)
            + f" | {in_words(worst)} |"
        )
    lines += ["", *targets(results, name), ""]
    return "\n".join(wrap(line) for line in lines)


def targets(results: list[Result], name: dict[str, str]) -> list[str]:
    """The issue's targets, met or missed, with the figure."""
    out = ["Targets (issue 7):", ""]
    for r in results:
        worst_case = max(BRIEF_CASES, key=lambda c: r.briefs[c][1])
        p95 = r.briefs[worst_case][1]
        if r.n == 10000:
            ok = p95 < 300
            out.append(
                f"- `/brief` p95 under 300 ms at 10k, {name[r.backend]}: "
                f"{'met' if ok else 'MISSED'} (slowest request {worst_case}, {p95:,.0f} ms)."
            )
        if r.n == 100000:
            ok = p95 < 1000
            out.append(
                f"- `/brief` p95 under 1 s at 100k, {name[r.backend]}: "
                f"{'met' if ok else 'MISSED'} (slowest request {worst_case}, {p95:,.0f} ms)."
            )
            peak = r.memory["peak"]
            out.append(
                f"- memory under 500 MB at 100k, {name[r.backend]}: "
                f"{'met' if peak * 1.048576 < 500 else 'MISSED'} (peak RSS {peak:,.0f} MiB)."
            )
    return out


def wrap(line: str) -> str:
    """Prose wrapped like the rest of docs/; tables, headings and code as they are."""
    if line.startswith(("|", "#", "```", "python ")) or len(line) <= 95:
        return line
    indent = "  " if line.startswith("- ") else ""
    return textwrap.fill(
        line, 95, break_on_hyphens=False, break_long_words=False, subsequent_indent=indent
    )


def write_section(text_: str) -> None:
    """Replace (or add) the scale section of docs/performance.md, up to the next "## "."""
    doc = DOC.read_text(encoding="utf-8")
    start = doc.find(HEADING)
    if start == -1:
        doc = doc.rstrip("\n") + "\n\n" + text_
    else:
        end = doc.find("\n## ", start + len(HEADING))
        doc = doc[:start] + text_ + ("\n" + doc[end + 1 :] if end != -1 else "")
    DOC.write_text(doc, encoding="utf-8")


# -- command -----------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,10000,100000", help="documents, comma-separated")
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--runs", type=int, default=30, help="timed runs per brief case")
    parser.add_argument("--digest-runs", type=int, default=15, help="timed runs per digest case")
    parser.add_argument("--work", type=Path, default=Path("/tmp/briefbot-scale"))
    parser.add_argument("--prepare-only", action="store_true", help="build the stores, no timing")
    parser.add_argument("--keep-server", action="store_true", help="leave PostgreSQL running")
    parser.add_argument("--write", action="store_true", help="update docs/performance.md")
    parser.add_argument("--report-only", action="store_true", help="re-render the last run")
    parser.add_argument("--memory-child", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if args.memory_child:
        print(json.dumps(asyncio.run(memory_child(args.memory_child))))
        return
    if args.report_only:
        # Re-render the last run's figures (results.json in the work folder), e.g. after
        # editing the report's wording.
        saved = json.loads((args.work / "results.json").read_text())
        results = [
            Result(**{**r, **{k: {n: tuple(v) for n, v in r[k].items()} for k in TIMED}})
            for r in saved["results"]
        ]
        times_file = args.work / "copy-seconds.json"
        copies = {int(k): v for k, v in json.loads(times_file.read_text()).items()}
        load = (tuple(saved["load"][0]), tuple(saved["load"][1]))
        text_ = report(args, results, saved["pg"], copies, load)
        print(text_)
        if args.write:
            write_section(text_)
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    backends = args.backends.split(",")
    args.work.mkdir(parents=True, exist_ok=True)
    server = PgServer(args.work / "pg") if "postgres" in backends else None
    urls: dict[tuple[int, str], str] = {}
    copy_seconds: dict[int, float] = {}
    try:
        if server is not None:
            server.start()
        for n in sizes:
            urls[n, "sqlite"] = prepare_sqlite(args.work, n)
            if server is not None:
                urls[n, "postgres"], seconds = prepare_postgres(server, urls[n, "sqlite"], n)
                if seconds is not None:
                    copy_seconds[n] = seconds
        # Copy times of earlier runs (stores are reused), so the report can still give them.
        times_file = args.work / "copy-seconds.json"
        if times_file.exists():
            earlier = {int(k): v for k, v in json.loads(times_file.read_text()).items()}
            copy_seconds = {**earlier, **copy_seconds}
        times_file.write_text(json.dumps(copy_seconds))
        if args.prepare_only:
            return
        if hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(0, {0})
        load_before = os.getloadavg()
        results = measure_all(args, sizes, backends, urls)
        load = (load_before, os.getloadavg())
        pg_version = server.version() if server else None
        saved = {"results": [asdict(r) for r in results], "load": load, "pg": pg_version}
        (args.work / "results.json").write_text(json.dumps(saved, indent=1))
        text_ = report(args, results, pg_version, copy_seconds, load)
        print("\n" + text_)
        if args.write:
            write_section(text_)
    finally:
        if server is not None and not args.keep_server:
            server.stop()


if __name__ == "__main__":
    main()
