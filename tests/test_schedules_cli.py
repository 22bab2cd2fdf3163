"""``briefbot schedule ...`` and ``briefbot digest`` in-process, on a real SQLite file."""

from __future__ import annotations

import io
import json
from collections.abc import Callable

from bot.cli import main
from briefs.clock import FrozenClock
from tests.conftest import NOW, Run
from tests.test_schedules_delivery import HOOK_ID, TOKEN, WEBHOOK, DiscordREST, rest

__all__ = ["rest"]  # the Discord REST stand-in fixture, shared with the delivery tests

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
    rest: DiscordREST, env: dict[str, str]
) -> None:
    env = {**env, "BRIEFBOT_SCHEDULES_POST_WHEN_EMPTY": "true"}

    def run(*args: str) -> Run:
        out, err = io.StringIO(), io.StringIO()
        code = main(list(args), env=env, clock=FrozenClock(NOW), out=out, err=err)
        return Run(code, out.getvalue(), err.getvalue())

    posted = run("digest", "--webhook", WEBHOOK)
    assert posted.code == 0, posted.err
    assert TOKEN not in posted.err and f"webhooks/{HOOK_ID}/…" in posted.err
    assert rest.messages and all(
        m["where"].startswith(f"/webhooks/{HOOK_ID}/") for m in rest.messages
    )
    before = len(rest.messages)
    # With a schedule for the webhook, `digest --webhook` goes through its ledger.
    assert run("schedule", "set", "--webhook", WEBHOOK, "--time", "08:00").code == 0
    first = run("digest", "--webhook", WEBHOOK)
    assert first.code == 0 and "schedule 1: sent" in first.err
    again = run("digest", "--webhook", WEBHOOK)  # same second: the window is taken
    assert "schedule 1: taken" in again.err
    assert len(rest.messages) > before
    shown = run("schedule", "show", "--format", "json").json()
    assert [d["status"] for d in shown[0]["deliveries"]] == ["sent"]
    assert TOKEN not in json.dumps(shown)
