"""``briefbot schedule set|show|clear|list|run`` and ``briefbot digest``: digests from the CLI.

``schedule`` manages the schedules a running bot posts (the store is shared; the bot's sweep
picks changes up within ``[schedules] sweep_minutes``). Without a bot, a webhook schedule is
posted by ``briefbot schedule run`` from cron, with the same ledger (never twice).
``briefbot digest`` prints the digest of a scope, or posts it once to a webhook.
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.services.schedules import local_time
from briefs.errors import InputError
from briefs.schedules import KINDS

# asyncio, aiohttp, discord.py (webhook delivery) and the digest machinery are imported by
# the commands that use them, not here: every `briefbot` command imports this module to build
# its parser.
if TYPE_CHECKING:
    import aiohttp

    from bot.cli import App
    from bot.services.digests import DigestService, RunResult


def register(subparsers: Any) -> None:
    """Add ``schedule`` and ``digest`` to the ``briefbot`` parser's subcommands."""
    p = subparsers.add_parser("schedule", help="scheduled digests: set, show, clear, list, run")
    actions = p.add_subparsers(dest="schedule_command", metavar="ACTION", required=True)

    def guild(q: argparse.ArgumentParser) -> None:
        q.add_argument(
            "--guild", metavar="G", help="the Discord server (id) whose schedules; default: CLI"
        )

    q = actions.add_parser("set", help="create or change a schedule (daily or weekly digest)")
    guild(q)
    where = q.add_mutually_exclusive_group(required=True)
    where.add_argument("--channel", metavar="C", help="post to this channel (id), via the bot")
    where.add_argument("--webhook", metavar="URL", help="post to this Discord webhook URL")
    q.add_argument("--kind", choices=KINDS, default="daily", help="daily (default) or weekly")
    q.add_argument("--weekday", metavar="DAY", help="weekly: monday ... sunday")
    q.add_argument("--time", required=True, metavar="HH:MM", help="local time, 24-hour clock")
    q.add_argument("--timezone", default="UTC", metavar="ZONE", help="IANA zone (UTC)")
    q.add_argument("--topic", action="append", default=[], help="only this topic (repeatable)")
    q.add_argument("--entity", action="append", default=[], help="only this entity (repeatable)")

    for name, text in (
        ("show", "schedules of a scope: timing, next digest, last deliveries, problems"),
        ("list", "every schedule of every scope"),
    ):
        q = actions.add_parser(name, help=text)
        if name == "show":
            guild(q)
        q.add_argument("--format", choices=["md", "json"], default="md")

    q = actions.add_parser("clear", help="delete a schedule (by id, channel id or webhook URL)")
    q.add_argument("schedule", metavar="SCHEDULE")
    guild(q)

    q = actions.add_parser(
        "run", help="post every webhook schedule that is due now (for cron, without the bot)"
    )

    p = subparsers.add_parser("digest", help="the digest of what is new; or post it to a webhook")
    p.add_argument("--guild", metavar="G", help="the Discord server (id) whose view; default: CLI")
    p.add_argument("--webhook", metavar="URL", help="post it once to this Discord webhook")
    p.add_argument("--since", metavar="DATE", help="new since DATE (default: the last digest)")
    p.add_argument("--topic", action="append", default=[], help="only this topic (repeatable)")
    p.add_argument("--entity", action="append", default=[], help="only this entity (repeatable)")
    p.add_argument("--format", choices=["md", "json"], default="md", help="md (default) or json")


def _service(app: App, session: aiohttp.ClientSession | None = None) -> DigestService:
    from bot.services.digests import DigestService

    return DigestService(app.services, session=session, notify=False)


def cmd_schedule(app: App, args: argparse.Namespace) -> int:

    action = args.schedule_command
    service = app.services.schedules
    if action == "set":
        saved = service.set(
            args.guild,
            kind=args.kind,
            time=args.time,
            timezone=args.timezone,
            weekday=args.weekday,
            channel_id=args.channel,
            webhook_url=args.webhook,
            topics=args.topic,
            entities=args.entity,
        )
        app.out.write(
            f"schedule {saved.schedule.describe()}\n"
            f"next digest {local_time(saved.next_digest, saved.schedule)}\n"
        )
        return 0
    if action == "clear":
        schedule = service.clear(args.schedule, args.guild)
        app.say(f"briefbot: schedule {schedule.id} ({schedule.target}) cleared")
        return 0
    if action == "run":
        import asyncio

        return asyncio.run(_run(app))
    found = service.status(getattr(args, "guild", None), every_scope=action == "list")
    if args.format == "json":
        app.out.write(json.dumps([s.as_json() for s in found], indent=2) + "\n")
        return 0
    if not found:
        app.out.write("No schedules here. Add one with: briefbot schedule set --time 08:00 ...\n")
        return 0
    for status in found:
        app.out.write(status.text() + "\n")
    return 0


async def _run(app: App) -> int:
    import aiohttp

    schedules = app.services.schedules
    async with aiohttp.ClientSession() as session:
        service = _service(app, session)
        results = [
            r
            for r in await service.run_due()
            if r.status != "not_due" and schedules.get(r.schedule_id).webhook_url
        ]
    return _report(app, results)


def _report(app: App, results: list[RunResult]) -> int:
    failed = 0
    for r in results:
        line = f"briefbot: schedule {r.schedule_id}: {r.status}"
        if r.message_ids:
            line += f" ({len(r.message_ids)} messages)"
        if r.error:
            line += f": {r.error}"
            failed += r.status in {"failed", "partial", "disabled"}
        app.say(line)
    if not results:
        app.say("briefbot: no digest due now")
    return 1 if failed else 0


def cmd_digest(app: App, args: argparse.Namespace) -> int:
    import asyncio

    from briefs.dates import DateParseError, parse_cli_date

    since = None
    if args.since is not None:
        try:
            since = parse_cli_date(args.since)
        except DateParseError as exc:
            raise InputError(f"--since: {exc}") from None
    if args.webhook:
        from bot.delivery import check_webhook_url

        args.webhook = check_webhook_url(args.webhook)
        return asyncio.run(_post(app, args, since))
    service = _service(app)
    brief = service.preview(args.guild, topics=args.topic, entities=args.entity, since=since)
    app.emit(service.services.render(brief, args.format), None)
    return 0


async def _post(app: App, args: argparse.Namespace, since: datetime | None) -> int:
    """Post once to a webhook: through its schedule when one exists (ledger and window
    since its last digest), else the last day (or since --since), with no ledger."""
    import asyncio

    import aiohttp

    from bot.delivery import DeliveryFailed, WebhookTarget, send_all
    from bot.services.digests import policy_of

    scoped = app.services.schedules.of_scope(args.guild)
    known = [s for s in scoped if s.webhook_url == args.webhook.strip()]
    async with aiohttp.ClientSession() as session:
        service = _service(app, session)
        if known and since is None and not (args.topic or args.entity):
            return _report(app, [await service.post_now(known[0].id)])
        now = service.now()
        brief = await asyncio.to_thread(
            service.compose,
            None,
            since or now - timedelta(days=1),
            now,
            scope_id=args.guild,
            topics=args.topic,
            entities=args.entity,
        )
        messages = await asyncio.to_thread(service.render, brief)
        target = WebhookTarget(session, args.webhook.strip())
        try:
            ids = await send_all(
                target,
                messages,
                key=f"cli:{now.isoformat()}",
                policy=policy_of(app.services.settings.schedules),
            )
        except DeliveryFailed as exc:
            raise InputError(f"{target.label}: {exc.failure.reason}") from None
    app.say(f"briefbot: digest posted to {target.label} ({len(ids)} messages)")
    return 0
