"""``briefbot feeds add|list|remove|enable|test`` and ``briefbot poll``: feeds on the command line.

Registered by ``bot.cli`` (``register``), run with the same ``App`` as every other command.
Refusals are InputErrors naming the URL or feed, shown as one line with exit status 2; a
refused feed stores nothing.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.argtypes import int_at_least
from briefs.errors import BriefbotError, InputError

# asyncio, aiohttp, feedparser and the store are imported by the commands that use them, not
# here: every `briefbot` command imports this module to build its parser.
if TYPE_CHECKING:
    from bot.cli import App
    from briefs.feeds.decide import Policy
    from briefs.feeds.poll import FeedOutcome
    from briefs.feeds.suggested import SuggestedFeed
    from briefs.settings import FeedSettings
    from briefs.store.feeds import Feed

PREVIEW_ITEMS = 10


_count = int_at_least(0)


def register(subparsers: Any) -> None:
    """Add ``feeds`` and ``poll`` to the ``briefbot`` parser's subcommands."""
    p = subparsers.add_parser(
        "feeds", help="follow RSS/Atom feeds: add, list, suggested, remove, test"
    )
    actions = p.add_subparsers(dest="feeds_command", metavar="ACTION", required=True)

    def guild(q: argparse.ArgumentParser) -> None:
        q.add_argument(
            "--guild", metavar="G", help="the Discord server (id) whose feeds; default: this CLI"
        )

    q = actions.add_parser(
        "add",
        help="follow a feed: fetched once now, its items stored",
        # argparse cannot show a positional inside an exclusive group; say it as the docs do.
        usage="%(prog)s (URL | --suggested) [--guild G] [--backfill N] "
        "[--full-text | --no-full-text] [--channel C [--include WORD]... [--exclude WORD]...]",
    )
    which = q.add_mutually_exclusive_group(required=True)
    which.add_argument("url", metavar="URL", nargs="?", help="the feed's address (http or https)")
    which.add_argument(
        "--suggested",
        action="store_true",
        help="follow every suggested feed not followed yet, one at a time "
        "(see: briefbot feeds suggested)",
    )
    guild(q)
    q.add_argument(
        "--backfill",
        type=_count,
        default=0,
        metavar="N",
        help="count the newest N current items as new for the next digest (default 0)",
    )
    q.add_argument(
        "--full-text",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="fetch the article page of teaser items (default: [feeds] full_text)",
    )
    q.add_argument("--channel", metavar="C", help="subscribe this channel (id) to the feed")
    q.add_argument(
        "--include",
        action="append",
        default=[],
        metavar="WORD",
        help="with --channel: only items naming WORD (repeatable)",
    )
    q.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="WORD",
        help="with --channel: no items naming WORD (repeatable)",
    )

    q = actions.add_parser("list", help="followed feeds: status, last error, next poll")
    guild(q)
    q.add_argument("--format", choices=["md", "json"], default="md", help="md (default) or json")

    q = actions.add_parser("suggested", help="the suggested feeds, marking those followed here")
    guild(q)
    q.add_argument("--format", choices=["md", "json"], default="md", help="md (default) or json")

    q = actions.add_parser("remove", help="stop following a feed (its items stay)")
    q.add_argument("feed", metavar="FEED", help="feed id or URL (see: briefbot feeds list)")
    guild(q)

    q = actions.add_parser("enable", help="resume a feed that was disabled after failures")
    q.add_argument("feed", metavar="FEED", help="feed id or URL (see: briefbot feeds list)")
    guild(q)

    q = actions.add_parser("test", help="fetch and parse a feed, and preview it; stores nothing")
    q.add_argument("url", metavar="URL")

    subparsers.add_parser("poll", help="one polling round now: every feed that is due")


def policy(feeds: FeedSettings) -> Policy:
    from briefs.feeds.decide import Policy

    return Policy(
        min_interval=timedelta(minutes=feeds.min_interval_minutes),
        default_interval=timedelta(minutes=feeds.default_interval_minutes),
        max_interval=timedelta(minutes=feeds.max_interval_minutes),
        max_failures=feeds.max_failures,
    )


def cmd_feeds(app: App, args: argparse.Namespace) -> int:
    import asyncio

    action = args.feeds_command
    if action == "list":
        return _list(app, args)
    if action == "remove":
        feed = app.services.feeds.remove(args.feed, args.guild)
        app.say(f"briefbot: no longer following feed {feed.id} ({feed.url}); its items stay")
        return 0
    if action == "enable":
        feed = app.services.feeds.enable(args.feed, args.guild)
        app.say(f"briefbot: feed {feed.id} ({feed.url}) enabled; polled at the next round")
        return 0
    if action == "test":
        return asyncio.run(_test(app, args))
    if action == "suggested":
        return _suggested(app, args)
    if (args.include or args.exclude) and not args.channel:
        raise InputError("--include and --exclude filter a channel's items: give --channel too")
    if args.suggested:
        return asyncio.run(_add_suggested(app, args, app.services.feeds.suggested(args.guild)))
    return asyncio.run(_add(app, args))


async def _test(app: App, args: argparse.Namespace) -> int:
    result, parsed = await app.services.feeds.test(args.url, app.resolver)
    out = app.out
    out.write(
        f"{parsed.title}\n{result.final_url} ({parsed.version}, {len(parsed.entries)} items)\n"
    )
    for entry in parsed.entries[:PREVIEW_ITEMS]:
        when = _day(entry.published_at) if entry.published_at else "undated   "
        out.write(f"- {when} {entry.title}\n")
        if entry.link:
            out.write(f"  {entry.link}\n")
    if len(parsed.entries) > PREVIEW_ITEMS:
        out.write(f"… and {len(parsed.entries) - PREVIEW_ITEMS} more\n")
    for warning in parsed.warnings[:5]:
        app.say(f"briefbot: warning: {warning}")
    for skipped in parsed.skipped[:5]:
        app.say(f"briefbot: entry skipped: {skipped}")
    return 0


async def _follow(app: App, args: argparse.Namespace, url: str, warn: str = "") -> tuple[Feed, str]:
    """``feeds add`` of one URL with the command's options: the feed, and what it brought as
    ``N items; M new for the next digest``. Warnings go to stderr, after ``warn``."""
    feed, outcome, parsed = await app.services.feeds.add(
        url,
        args.guild,
        backfill=args.backfill,
        full_text=args.full_text,
        channel_id=args.channel,
        include=args.include,
        exclude=args.exclude,
        resolver=app.resolver,
    )
    for warning in outcome.warnings[:5]:
        app.say(f"briefbot: warning: {warn}{warning}")
    for skipped in outcome.skipped[:5]:
        app.say(f"briefbot: entry skipped: {warn}{skipped}")
    return feed, f"{len(parsed.entries)} items; {outcome.new} new for the next digest"


async def _add(app: App, args: argparse.Namespace) -> int:
    feed, brought = await _follow(app, args, args.url)
    app.out.write(f"following feed {feed.id}: {feed.name} ({brought})\n")
    return 0


async def _add_suggested(
    app: App, args: argparse.Namespace, suggestions: list[tuple[SuggestedFeed, Feed | None]]
) -> int:
    """Follow each suggested feed not followed yet, through the same path as ``feeds add
    URL``; a refusal is reported and the next feed tried. Exit 1 if any was refused."""
    counts: Counter[str] = Counter()
    for suggested, followed in suggestions:
        if followed is not None:
            app.out.write(f"already followed: {suggested.title}, as feed {followed.id}\n")
            counts["already followed"] += 1
            continue
        try:
            feed, brought = await _follow(app, args, suggested.url, f"{suggested.title}: ")
        except BriefbotError as exc:
            app.out.write(f"refused: {suggested.title}: {exc}\n")
            counts["refused"] += 1
            continue
        app.out.write(f"added: {suggested.title}, as feed {feed.id} ({brought})\n")
        counts["added"] += 1
    summary = ", ".join(f"{counts[k]} {k}" for k in ("added", "already followed", "refused"))
    app.say(f"briefbot: feeds add --suggested: {len(suggestions)} suggested: {summary}")
    return 1 if counts["refused"] else 0


def _suggested(app: App, args: argparse.Namespace) -> int:
    suggestions = app.services.feeds.suggested(args.guild)
    if args.format == "json":
        data = [suggestion_json(s, f) for s, f in suggestions]
        app.out.write(json.dumps(data, indent=2) + "\n")
        return 0
    if not suggestions:
        app.out.write("No suggested feeds: the list is empty.\n")
        return 0
    for s, f in suggestions:
        lines = [f"{s.title}" + (f"  [followed here: feed {f.id}]" if f else ""), f"    {s.url}"]
        if s.about:
            lines.append(f"    {s.about}")
        if s.topics:
            lines.append(f"    topics: {', '.join(s.topics)}")
        app.out.write("\n".join(lines) + "\n")
    left = sum(f is None for _, f in suggestions)
    where = f" --guild {args.guild}" if args.guild is not None else ""
    app.out.write(
        f"\n{len(suggestions)} suggested, {len(suggestions) - left} followed here"
        + (f"; follow the others with: briefbot feeds add --suggested{where}\n" if left else "\n")
    )
    return 0


def suggestion_json(s: SuggestedFeed, followed: Feed | None) -> dict[str, Any]:
    return {
        "url": s.url,
        "title": s.title,
        "about": s.about,
        "topics": list(s.topics),
        "followed": followed is not None,
        "feed_id": followed.id if followed is not None else None,
    }


def _day(value: datetime) -> str:
    return value.strftime("%Y-%m-%d")


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value is not None else "never"


def _list(app: App, args: argparse.Namespace) -> int:
    feeds = app.services.feeds.of_scope(args.guild)
    if args.format == "json":
        app.out.write(json.dumps([feed_json(f) for f in feeds], indent=2) + "\n")
        return 0
    if not feeds:
        app.out.write("No feeds followed here. Add one with: briefbot feeds add URL\n")
        return 0
    for f in feeds:
        state = "enabled" if f.enabled else f"DISABLED: {f.disabled_reason}"
        lines = [f"[{f.id}] {f.name}", f"    {f.url}", f"    {state}; {f.entries} items"]
        status = f" (HTTP {f.last_status})" if f.last_status else ""
        lines[-1] += f"; last fetched {_when(f.last_fetched_at)}{status}"
        if f.last_error:
            lines.append(
                f"    last error ({f.last_error_type}, {f.failures} in a row): {f.last_error}"
            )
        if f.enabled:
            lines.append(f"    next poll {_when(f.next_poll_at)}")
        app.out.write("\n".join(lines) + "\n")
    return 0


def feed_json(f: Feed) -> dict[str, Any]:
    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value is not None else None

    return {
        "id": f.id,
        "url": f.url,
        "title": f.title,
        "enabled": f.enabled,
        "disabled_reason": f.disabled_reason,
        "full_text": f.full_text,
        "items": f.entries,
        "added_at": iso(f.added_at),
        "last_fetched_at": iso(f.last_fetched_at),
        "last_status": f.last_status,
        "last_error_type": f.last_error_type,
        "last_error": f.last_error,
        "failures": f.failures,
        "next_poll_at": iso(f.next_poll_at),
    }


def cmd_poll(app: App, args: argparse.Namespace) -> int:
    import asyncio

    return asyncio.run(_poll(app))


async def _poll(app: App) -> int:
    """One round over the same feed leases as the bot's polling job: a feed another process
    (a bot, another ``briefbot poll``) is polling now is skipped, and said so."""
    import asyncio

    from tqdm import tqdm

    from briefs.feeds.poll import LEASED
    from briefs.store.base import process_owner

    due = await asyncio.to_thread(app.services.feeds.due)
    progress = tqdm(
        total=len(due), unit="feed", file=app.err, disable=not app.err.isatty(), leave=False
    )

    def step(outcome: FeedOutcome) -> None:
        progress.update(1)
        if outcome.status == "failed":
            what = "disabled" if outcome.disabled else "failed"
            progress.write(f"briefbot: feed {outcome.feed_id} {what}: {outcome.error}", app.err)
        elif outcome.status == LEASED:
            progress.write(
                f"briefbot: feed {outcome.feed_id} is being polled by another process "
                f"(lease held by {outcome.held_by} until {_when(outcome.held_until)}); skipped",
                app.err,
            )

    summary = await app.services.feeds.poll_due(
        process_owner(), resolver=app.resolver, progress=step
    )
    progress.close()
    app.say(f"briefbot: poll: {summary.line()}")
    return 0
