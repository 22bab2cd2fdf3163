"""Start-up cost of the command line: ``python -m bench.startup --runs 20``.

Runs each command as a fresh subprocess, many times, interleaved (one run of each command in
turn, so the load of this shared machine falls on all of them alike), and reports the median
and fastest wall time of each and the ratios between them:

- ``python -c pass``: the interpreter alone, the floor;
- ``briefbot --help``: the parser, nothing else;
- ``briefbot stats`` and ``briefbot brief`` on a seeded, analysed SQLite store (set up once
  per tree before timing, so no run seeds or analyses).

Besides wall time it reports the median CPU time (user + system) of each command, which the
load of a shared machine disturbs far less than wall time.

``--compare DIR`` also times another checkout of the code (for instance ``main`` unpacked
with ``git archive main | tar -x -C DIR``) in the same run, with ``PYTHONPATH=DIR`` and the
same interpreter, so "before" and "after" are measured side by side under the same load.
``--modules`` lists, per command, which of the heavy packages each tree imports.
``--unanalysed N`` also times one ``briefbot stats`` per tree on a store holding N ingested
documents that were never analysed (bench/corpus.py articles, no seeds), and counts how
many that ``stats`` left unanalysed: it should analyse none (issue 14, item 4).
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.corpus import generate
from bench.ingest_bench import cpu_model

ROOT = Path(__file__).resolve().parent.parent
HEAVY = (
    "sqlalchemy",
    "sqlalchemy.dialects.postgresql",
    "numpy",
    "jinja2",
    "aiohttp",
    "discord",
    "feedparser",
    "trafilatura",
    "tqdm",
)


def briefbot_command() -> list[str]:
    """The installed ``briefbot`` script beside this interpreter, else ``python -m bot``."""
    script = Path(sys.executable).with_name("briefbot")
    if script.exists():
        return [sys.executable, str(script)]
    return [sys.executable, "-m", "bot"]


def tree_env(tree: Path, store: Path) -> dict[str, str]:
    """The environment a command of ``tree`` runs in: its code first, its own store."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(tree)
    env["BRIEFBOT_DATABASE_URL"] = f"sqlite:///{store}"
    for key in [k for k in env if k.startswith("BRIEFBOT_") and k != "BRIEFBOT_DATABASE_URL"]:
        del env[key]
    return env


# CPU seconds (user + system) of each timed run, by command: on a loaded machine wall time
# mostly measures the load, CPU time much less so.
CPU: dict[str, list[float]] = {}


def run(cmd: list[str], env: dict[str, str], label: str | None = None) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    took = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if label is not None:
        cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
        CPU.setdefault(label, []).append(cpu)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr.strip()}")
    return took


def heavy_modules(tree: Path, env: dict[str, str], args: list[str]) -> list[str]:
    """Which of HEAVY a command of ``tree`` imports (its ``sys.modules`` at exit)."""
    probe = (
        "import atexit, sys\n"
        f"heavy = {HEAVY!r}\n"
        "atexit.register(lambda: print('MODULES', *[m for m in heavy if m in sys.modules],"
        " file=sys.stderr))\n"
        "from bot.cli import main\n"
        f"raise SystemExit(main({args!r}))\n"
    )
    done = subprocess.run(  # in the tree: ``-c`` puts the working folder first on sys.path
        [sys.executable, "-c", probe],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    for line in done.stderr.splitlines():
        if line.startswith("MODULES"):
            return line.split()[1:]
    raise SystemExit(f"{tree}: {args} failed: {done.stderr.strip()}")


def unanalysed_stats(
    trees: dict[str, Path], work: Path, n: int, briefbot: list[str]
) -> list[tuple[str, float, int]]:
    """Per tree: seconds of one ``stats`` on a store of ``n`` unanalysed documents, and how
    many documents it left unanalysed (read from the store afterwards)."""
    import sqlite3

    articles = generate(work / "articles", n)
    rows = []
    for name, tree in trees.items():
        store = work / f"unanalysed-{name.replace(' ', '-')}.sqlite3"
        env = tree_env(tree, store)
        env["BRIEFBOT_INGEST_SEED_CORPUS"] = "false"
        env["HOME"] = env["XDG_DATA_HOME"] = str(work)
        run([*briefbot, "ingest", str(articles[0].parent)], env)
        took = run([*briefbot, "stats"], env)
        with sqlite3.connect(store) as conn:
            (left,) = conn.execute(
                "SELECT COUNT(*) FROM documents WHERE analysis_version IS NULL"
            ).fetchone()
        rows.append((name, took, left))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20, help="runs of each command (20)")
    parser.add_argument("--compare", type=Path, metavar="DIR", help="another checkout to time")
    parser.add_argument("--modules", action="store_true", help="list heavy imports per command")
    parser.add_argument(
        "--unanalysed", type=int, default=0, metavar="N", help="stats on N unanalysed documents"
    )
    args = parser.parse_args()

    trees = {"this tree": ROOT}
    if args.compare:
        trees = {"compared": args.compare.resolve(), "this tree": ROOT}
    work = Path(tempfile.mkdtemp(prefix="briefbot-startup-"))
    commands: dict[str, tuple[list[str], dict[str, str]]] = {
        "python -c pass": ([sys.executable, "-c", "pass"], dict(os.environ)),
    }
    briefbot = briefbot_command()
    envs: dict[str, dict[str, str]] = {}
    try:
        for name, tree in trees.items():
            env = tree_env(tree, work / f"{name.replace(' ', '-')}.sqlite3")
            envs[name] = env
            env_home = work / name.replace(" ", "-")
            env_home.mkdir()
            env["HOME"] = env["XDG_DATA_HOME"] = str(env_home)
            run([*briefbot, "brief"], env)  # seeds and analyses this tree's store, once
            for label, argv in (("--help", ["--help"]), ("stats", ["stats"]), ("brief", ["brief"])):
                commands[f"briefbot {label} [{name}]"] = ([*briefbot, *argv], env)

        times: dict[str, list[float]] = {label: [] for label in commands}
        for i in range(args.runs):
            order = list(commands.items())
            order = order[i % len(order) :] + order[: i % len(order)]  # rotate: no fixed slot
            for label, (cmd, env) in order:
                times[label].append(run(cmd, env, label))
        modules: list[tuple[str, str, str]] = []
        for name, tree in trees.items() if args.modules else ():
            for argv in (["--help"], ["stats"], ["brief"]):
                found = heavy_modules(tree, envs[name], argv)
                modules.append((f"briefbot {' '.join(argv)}", name, ", ".join(found) or "none"))
        unanalysed = (
            unanalysed_stats(trees, work, args.unanalysed, briefbot) if args.unanalysed else []
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)

    floor = statistics.median(times["python -c pass"])
    print(
        f"# {cpu_model()}, {os.cpu_count()} cores (shared), Python {platform.python_version()}, "
        f"{args.runs} runs each, interleaved\n"
    )
    print("| command | median s | fastest s | × python -c pass | median CPU s |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for label, values in times.items():
        median = statistics.median(values)
        cpu = statistics.median(CPU[label])
        print(f"| {label} | {median:.3f} | {min(values):.3f} | {median / floor:.1f} | {cpu:.3f} |")
    if args.compare:
        print("\n| command | this tree ÷ compared (median) | the same, CPU |")
        print("| --- | ---: | ---: |")
        for label in ("--help", "stats", "brief"):
            after = statistics.median(times[f"briefbot {label} [this tree]"])
            before = statistics.median(times[f"briefbot {label} [compared]"])
            cpu_after = statistics.median(CPU[f"briefbot {label} [this tree]"])
            cpu_before = statistics.median(CPU[f"briefbot {label} [compared]"])
            print(f"| briefbot {label} | {after / before:.2f} | {cpu_after / cpu_before:.2f} |")
    if modules:
        print("\n| command | tree | heavy modules imported |")
        print("| --- | --- | --- |")
        for row in modules:
            print(f"| {row[0]} | {row[1]} | {row[2]} |")

    if unanalysed:
        print(
            f"\n| briefbot stats, {args.unanalysed:,} unanalysed documents | seconds "
            "| left unanalysed |"
        )
        print("| --- | ---: | ---: |")
        for name, took, left in unanalysed:
            print(f"| {name} | {took:.2f} | {left:,} |")


if __name__ == "__main__":
    main()
