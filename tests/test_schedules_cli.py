"""``briefbot schedule ...`` and ``briefbot digest`` in-process, on a real SQLite file."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import timedelta

from bot.cli import main
from briefs.clock import FrozenClock
from tests.conftest import NOW, Run
from tests.discord_double import threaded_double

GUILD = "123456789012345678"


def test_set_show_list_clear(cli: Callable[..., Run]) -> None:
    made = cli(
        "schedule", "set", "--guild", GUILD, "--channel", "234567890123456789",
        "--time", "08:00", "--timezone", "Europe/Kyiv", "--topic", "sanctions",
    )  # fmt: skip
    assert made.code == 0, made.err
    assert made.out.splitlines() == [
        "schedule [1] daily at 08:00 Europe/Kyiv to channel 234567890123456789; topics sanctions",
        "next digest 2026-11-23 08:00 Europe/Kyiv (06:00 UTC)",
    ]
    shown = cli("schedule", "show", "--guild", GUILD)
    assert "next digest 2026-11-23 08:00 Europe/Kyiv" in shown.out
    assert "no digest posted yet" in shown.out
    assert cli("schedule", "show").out.startswith("No schedules here")  # another scope
    listed = cli("schedule", "list", "--format", "json").json()
    assert [(s["id"], s["guild_id"], s["timezone"]) for s in listed] == [(1, GUILD, "Europe/Kyiv")]
    cleared = cli("schedule", "clear", "1", "--guild", GUILD)
    assert cleared.code == 0 and "schedule 1 (channel 234567890123456789) cleared" in cleared.err
    assert cli("schedule", "list", "--format", "json").json() == []


def test_bad_input_is_one_line_and_exit_2(cli: Callable[..., Run]) -> None:
    zone = cli("schedule", "set", "--channel", "1", "--time", "08:00", "--timezone", "Mars/Base")
    assert zone.code == 2
    assert zone.err.strip().endswith(
        "unknown time zone 'Mars/Base' (e.g. Europe/Kyiv, Asia/Seoul, UTC)"
    )
    time = cli("schedule", "set", "--channel", "1", "--time", "25:00")
    assert time.code == 2 and "expected HH:MM" in time.err
    weekly = cli("schedule", "set", "--channel", "1", "--time", "08:00", "--kind", "weekly")
    assert weekly.code == 2 and "needs a weekday" in weekly.err
    topic = cli("schedule", "set", "--channel", "1", "--time", "08:00", "--topic", "cooking")
    assert topic.code == 2 and "unknown topic 'cooking'" in topic.err
    missing = cli("schedule", "clear", "7")
    assert missing.code == 2 and "no schedule '7' here" in missing.err


def test_digest_prints_what_is_new(cli: Callable[..., Run]) -> None:
    result = cli("digest", "--format", "json")
    assert result.code == 0, result.err
    brief = result.json()
    assert brief["kind"] == "digest"
    assert len(brief["sources"]) == 5  # the seed corpus, ingested on first use
    assert brief["sections"] and all(s["items"] for s in brief["sections"])
    for section in brief["sections"]:
        for item in section["items"]:
            assert item["citations"]


def test_digest_webhook_posts_once_and_the_webhook_schedule_keeps_a_ledger(
    env: dict[str, str],
) -> None:
    """``briefbot digest --webhook`` and ``schedule run`` (cron, no bot) through the Discord
    API double: posted once, no mentions allowed, the webhook token never printed."""
    env = {**env, "BRIEFBOT_SCHEDULES_POST_WHEN_EMPTY": "true"}
    clock = FrozenClock(NOW)

    def run(*args: str) -> Run:
        out, err = io.StringIO(), io.StringIO()
        code = main(list(args), env=env, clock=clock, out=out, err=err)
        return Run(code, out.getvalue(), err.getvalue())

    with threaded_double() as double:
        guild = double.add_guild()
        hook = double.add_webhook(guild.channel("briefs"))
        url = hook.discord_url
        posted = run("digest", "--webhook", url)
        assert posted.code == 0, posted.err
        assert hook.token not in posted.err and f"webhooks/{hook.id}/…" in posted.err
        before = len(double.webhook_messages(hook.id))
        assert before >= 1
        # No schedule for these: a refused webhook is one line and exit 2.
        gone = double.add_webhook(guild.channel("general"))
        del double.webhooks[gone.id]  # deleted in Discord
        refused = run("digest", "--webhook", gone.discord_url)
        assert refused.code == 2 and refused.err.count("\n") == 1
        assert "Discord answered 404 (unknown webhook, code 10015)" in refused.err
        assert gone.token not in refused.err
        for command in ("digest", "schedule set --time 08:00"):
            bogus = run(*command.split(), "--webhook", "https://example.org/hooks/1/secret")
            assert bogus.code == 2 and bogus.err.strip() == (
                "briefbot: error: https://example.org/hooks/1/… is not a Discord webhook URL "
                "(https://discord.com/api/webhooks/ID/TOKEN, from the channel's Integrations)"
            )
        # With a schedule for the webhook, `digest --webhook` goes through its ledger.
        assert run("schedule", "set", "--webhook", url, "--time", "08:00").code == 0
        first = run("digest", "--webhook", url)
        assert first.code == 0 and "schedule 1: sent" in first.err
        again = run("digest", "--webhook", url)  # same second: the window is taken
        assert "schedule 1: taken" in again.err
        after_manual = len(double.webhook_messages(hook.id))
        assert after_manual > before
        # From cron: the next 08:00 UTC is due once, then nothing more.
        clock.advance(timedelta(days=1, minutes=1))
        cron = run("schedule", "run")
        assert cron.code == 0 and "schedule 1: sent" in cron.err, cron.err
        assert run("schedule", "run").err.strip() == "briefbot: no digest due now"
        assert len(double.webhook_messages(hook.id)) > after_manual
        shown = run("schedule", "show", "--format", "json").json()
        assert [d["status"] for d in shown[0]["deliveries"]] == ["sent", "sent"]
        assert hook.token not in json.dumps(shown)
        # A webhook that is gone: the run fails with the reason, exit 1, schedule disabled.
        double.remove_channel(guild.channel("briefs"))
        clock.advance(timedelta(days=1))
        gone = run("schedule", "run")
        assert gone.code == 1
        assert "schedule 1: disabled: Discord answered 404 (unknown webhook" in gone.err
        assert "DISABLED: Discord answered 404" in run("schedule", "show").out
    sent = [m for m in double.messages if m.kind == "webhook"]
    assert all(m.allowed_mentions == {"parse": []} for m in sent)
    assert double.violations == []
    double.assert_clean()


def test_a_digest_leads_with_one_line_per_story(cli: Callable[..., Run]) -> None:
    """Key developments: each story's line first (its date and outlets), most outlets first;
    a second statement of a story follows its line, never as a line of its own."""
    brief = cli("digest", "--format", "json").json()
    assert brief["sections"][0]["key"] == "developments"
    items = brief["sections"][0]["items"]
    lines = [i["story"] for i in items if "story" in i]
    assert items[0].get("story") and len(lines) == len(brief["stories"]) == 4
    assert len({line["id"] for line in lines}) == len(lines)
    assert lines[0]["outlets"] == 2 and all(line["outlets"] == 1 for line in lines[1:])
    assert all(line["date"] for line in lines)
