"""The ``briefbot`` command line: the composition root that wires settings, services and output."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TextIO

from bot.argtypes import int_at_least
from bot.cli_db import cmd_db
from bot.cli_db import register as register_db
from bot.cli_feeds import cmd_feeds, cmd_poll
from bot.cli_feeds import register as register_feeds
from bot.cli_schedule import cmd_digest, cmd_schedule
from bot.cli_schedule import register as register_schedule
from briefs import __version__
from briefs.clock import Clock, system_clock
from briefs.errors import BriefbotError, InputError, StoreReadOnly
from briefs.settings import Settings, load_settings

# Start-up: this module and the command modules it registers import only what building the
# parser needs. A command imports its own parts when it runs (the store and SQLAlchemy for
# any command that reads data, numpy where ranking runs, Jinja2 to render, aiohttp for feeds,
# discord.py for `run`), so `briefbot --help` or a usage error costs little more than Python
# itself (docs/performance.md, "Start-up"; tests/test_startup.py guards it).
if TYPE_CHECKING:
    from aiohttp.abc import AbstractResolver

    from bot.services.shared import Services
    from briefs.store import Visibility

log = logging.getLogger("briefbot")


class UsageError(Exception):
    """Bad command-line usage; the message is one line."""


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line instead of exiting with a usage dump."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see {self.prog} --help)")


_positive = int_at_least(1)


def _format(text: str) -> str:
    from briefs.render import FORMATS

    if text not in FORMATS:
        raise argparse.ArgumentTypeError(
            f"unknown format {text!r}; choose one of: {', '.join(FORMATS)}"
        )
    return text


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="briefbot",
        description="Sourced briefs on sanctions and arms-trade news. Every statement is a "
        "verbatim source sentence with its citation.",
    )
    parser.add_argument("--version", action="version", version=f"briefbot {__version__}")
    parser.add_argument("--settings", type=Path, help="settings TOML file (else BRIEFBOT_SETTINGS)")
    parser.add_argument(
        "--database", metavar="URL", help="database URL (else BRIEFBOT_DATABASE_URL)"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress and details")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def output_options(p: argparse.ArgumentParser, *, out: bool = True) -> None:
        p.add_argument("--format", type=_format, default="md", help="md (default), json or html")
        if out:
            p.add_argument("--out", type=Path, metavar="FILE", help="write to FILE, not stdout")
        p.add_argument(
            "--guild",
            metavar="G",
            help="only what this Discord server (id) sees: no other server's feed items",
        )

    def window_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--since", metavar="DATE", help="published on or after DATE (YYYY-MM-DD)")
        p.add_argument(
            "--until",
            metavar="DATE",
            help="published on or before DATE (YYYY-MM-DD; a date-time is an exclusive bound)",
        )

    p = sub.add_parser(
        "brief", help="a sourced brief of the corpus, or of a topic, entity or query"
    )
    p.add_argument("--topic", help="only statements on this topic (see config/topics.toml)")
    p.add_argument("--entity", help="only statements naming this entity (a name or alias)")
    p.add_argument("--query", help="only statements matching these words (full-text search)")
    window_options(p)
    p.add_argument(
        "--max-items", type=_positive, help="statements in the brief (settings [brief] max_items)"
    )
    output_options(p)

    p = sub.add_parser("ingest", help="add article files or folders to the store")
    p.add_argument("paths", nargs="+", type=Path, metavar="PATH")

    p = sub.add_parser("source", help="where a statement came from: REF is doc or doc:sentence")
    p.add_argument("ref", metavar="REF")
    p.add_argument("--context", type=_positive, default=1, help="neighbouring sentences (1)")
    output_options(p)

    p = sub.add_parser("search", help="stored statements matching QUERY, best first")
    p.add_argument("query", metavar="QUERY")
    p.add_argument(
        "--limit", type=_positive, help="results to show (settings [brief] search_limit)"
    )
    window_options(p)
    output_options(p)

    p = sub.add_parser("timeline", help="dated statements in date order")
    p.add_argument("--entity", help="only statements naming this entity")
    p.add_argument("--topic", help="only statements on this topic")
    window_options(p)
    p.add_argument("--limit", type=_positive, default=40, help="entries at most (40)")
    output_options(p)

    p = sub.add_parser("entity", help="profile of a person, state, organisation or weapon")
    p.add_argument("name", metavar="NAME", help="a name or alias from config/entities.toml")
    output_options(p)

    p = sub.add_parser("stories", help="stories (events reported across outlets)")
    window_options(p)
    output_options(p)

    register_feeds(sub)
    register_schedule(sub)
    register_db(sub)

    sub.add_parser(
        "run", help="run the Discord bot (token from DISCORD_TOKEN; see docs/discord.md)"
    )

    p = sub.add_parser("stats", help="what the store holds")
    p.add_argument("--format", choices=["md", "json"], default="md", help="md (default) or json")
    return parser


class App:
    """What every command needs: the services (``app.services``: settings, store, clock,
    lexicon and the use cases) and where output goes."""

    def __init__(self, settings: Settings, clock: Clock, out: TextIO, err: TextIO) -> None:
        self.out = out
        self.err = err
        from bot.services.shared import Services

        self.services: Services = Services(settings, clock, say=self.say)
        # The environment main() was given (DISCORD_TOKEN is read from it by `run`).
        self.env: Mapping[str, str] = os.environ
        # Feed fetches' DNS (main()'s ``resolver``; None: the system's).
        self.resolver: AbstractResolver | None = None

    def say(self, message: str) -> None:
        print(message, file=self.err)

    def emit(self, text: str, out: Path | None) -> None:
        if out is None:
            self.out.write(text)
            return
        write_atomically(out, text)
        self.say(f"briefbot: wrote {out}")


def write_atomically(path: Path, text: str) -> None:
    """Write through a temporary file in the same folder, so a failure leaves nothing half-done."""
    import tempfile

    try:
        folder = path.parent if str(path.parent) else Path(".")
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=folder)
    except OSError as exc:
        raise InputError(f"--out {path}: cannot write there ({exc.strerror})") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; the output is an ordinary file
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise InputError(f"--out {path}: cannot write there ({exc.strerror})") from None


def _window(args: argparse.Namespace) -> tuple[datetime | None, datetime | None]:
    since = until = None
    if args.since is None and args.until is None:
        return since, until  # the date parser (briefs.dates) is not even imported
    from briefs.dates import DateParseError, parse_cli_date

    try:
        if args.since is not None:  # an empty value is refused, not taken as "no bound"
            since = parse_cli_date(args.since)
        if args.until is not None:
            until = parse_cli_date(args.until, end=True)  # a date-only --until: its whole day
    except DateParseError as exc:
        flag = "--since" if args.since is not None and since is None else "--until"
        raise InputError(f"{flag}: {exc}") from None
    if since and until and since >= until:
        raise InputError(f"--since {args.since} is not before --until {args.until}")
    return since, until


def _visible(args: argparse.Namespace) -> Visibility | None:
    """``--guild G``: only what that Discord server sees; else the whole store."""
    from briefs.store.base import Visibility

    guild = getattr(args, "guild", None)
    return Visibility(guild) if guild is not None else None


def cmd_brief(app: App, args: argparse.Namespace) -> int:
    since, until = _window(args)
    brief = app.services.briefs.brief(
        topic=args.topic,
        entity=args.entity,
        query=args.query,
        since=since,
        until=until,
        max_items=args.max_items,
        visible=_visible(args),
    )
    app.emit(app.services.render(brief, args.format), args.out)
    return 0


def cmd_source(app: App, args: argparse.Namespace) -> int:
    brief = app.services.briefs.source(args.ref, args.context, _visible(args))
    app.emit(app.services.render(brief, args.format), args.out)
    return 0


def cmd_search(app: App, args: argparse.Namespace) -> int:
    since, until = _window(args)
    brief = app.services.briefs.search(args.query, args.limit, since, until, _visible(args))
    app.emit(app.services.render(brief, args.format), args.out)
    return 0


def cmd_timeline(app: App, args: argparse.Namespace) -> int:
    since, until = _window(args)
    brief = app.services.briefs.timeline(
        args.entity, args.topic, since, until, args.limit, _visible(args)
    )
    app.emit(app.services.render(brief, args.format), args.out)
    return 0


def cmd_entity(app: App, args: argparse.Namespace) -> int:
    brief = app.services.briefs.entity(args.name, _visible(args))
    app.emit(app.services.render(brief, args.format), args.out)
    return 0


def cmd_stories(app: App, args: argparse.Namespace) -> int:
    since, until = _window(args)
    brief = app.services.briefs.stories(since, until, _visible(args))
    app.emit(app.services.render(brief, args.format), args.out)
    return 0


def cmd_stats(app: App, args: argparse.Namespace) -> int:
    stats = app.services.briefs.stats()
    if args.format == "json":
        data = asdict(stats)
        for key in ("first_published", "last_published"):
            data[key] = data[key].isoformat() if data[key] else None
        app.out.write(json.dumps(data, indent=2) + "\n")
        return 0
    from briefs.render import render_template

    app.out.write(render_template(app.services.environment, "stats.md.j2", stats=stats))
    return 0


def cmd_ingest(app: App, args: argparse.Namespace) -> int:
    from briefs.ingest.files import collect_files

    files, errors = collect_files(args.paths, app.services.settings.article_suffixes)
    for error in errors:
        app.say(f"briefbot: error: {error}")
    counts: Counter[str] = Counter()
    if files:
        from tqdm import tqdm

        progress = tqdm(
            total=len(files), unit="file", file=app.err, disable=not app.err.isatty(), leave=False
        )
        # One file at a time: only each file's result is kept, never its text.
        for result in app.services.documents.ingest(files):
            progress.update(1)
            if result.error:
                progress.write(f"briefbot: error: {result.error}", file=app.err)
                counts["failed"] += 1
            else:
                assert result.outcome is not None
                counts[result.outcome.status] += 1
                log.info(
                    "%s: %s %s", result.path, result.outcome.status, result.outcome.document_id
                )
        progress.close()
    counts["failed"] += len(errors)
    summary = ", ".join(
        f"{counts[k]} {k}"
        for k in ("added", "updated", "unchanged", "duplicate", "failed")
        if counts[k]
    )
    app.say(f"briefbot: ingest: {summary or 'nothing to do'}")
    return 1 if counts["failed"] else 0


def cmd_run(app: App, args: argparse.Namespace) -> int:
    from bot.run import run_bot  # discord.py is imported only to run the bot

    return run_bot(app.services, app.env, app.err)


def _must_write(args: argparse.Namespace) -> bool:
    """Whether the command stores something: on a read-only store it is refused up front,
    before any fetch or post, rather than failing at its first write."""
    if args.command in {"ingest", "poll", "run"}:
        return True
    if args.command == "feeds":
        return bool(args.feeds_command in {"add", "remove", "enable"})
    if args.command == "schedule":
        return bool(args.schedule_command in {"set", "clear", "run"})
    return args.command == "digest" and args.webhook is not None


def _command_name(args: argparse.Namespace) -> str:
    """``feeds add``, ``schedule set``: the command with its action, for messages."""
    action = getattr(args, f"{args.command}_command", None)
    return f"{args.command} {action}" if action else str(args.command)


COMMANDS = {
    "brief": cmd_brief,
    "ingest": cmd_ingest,
    "source": cmd_source,
    "search": cmd_search,
    "timeline": cmd_timeline,
    "entity": cmd_entity,
    "stories": cmd_stories,
    "stats": cmd_stats,
    "feeds": cmd_feeds,
    "poll": cmd_poll,
    "schedule": cmd_schedule,
    "digest": cmd_digest,
    "run": cmd_run,
    "db": cmd_db,
}


def main(
    argv: Sequence[str] | None = None,
    *,
    env: dict[str, str] | None = None,
    clock: Clock = system_clock,
    out: TextIO | None = None,
    err: TextIO | None = None,
    resolver: AbstractResolver | None = None,
) -> int:
    """The command line; ``resolver`` answers feed fetches' DNS look-ups (tests give one
    that maps public names to 127.0.0.1; None: the system's)."""
    out = out or sys.stdout
    err = err or sys.stderr
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except UsageError as exc:
        print(f"briefbot: error: {exc}", file=err)
        return 2
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=err,
    )
    if args.command is None:
        parser.print_help(out)
        return 0
    app: App | None = None
    try:
        settings = load_settings(env, args.settings)
        if args.database:
            origins = {**settings.origins, "store.database_url": "--database"}
            settings = replace(settings, database_url=args.database, origins=origins)
        app = App(settings, clock, out, err)
        app.env = os.environ if env is None else env
        app.resolver = resolver
        documents = app.services.documents
        if _must_write(args) and documents.read_only:
            raise StoreReadOnly(
                f"the store {documents.location} is read-only ({documents.read_only}); "
                f"briefbot {_command_name(args)} must write to it"
            )
        return COMMANDS[args.command](app, args)
    except BriefbotError as exc:
        print(f"briefbot: error: {exc}", file=err)
        return 2
    except KeyboardInterrupt:
        print("briefbot: interrupted", file=err)
        return 130
    except BrokenPipeError:
        return 0
    except Exception:
        log.exception("internal error in %r", args.command)
        print(
            "briefbot: internal error (the log above has the details); please report it",
            file=err,
        )
        return 70
    finally:
        if app is not None:
            app.services.close()


if __name__ == "__main__":
    raise SystemExit(main())
