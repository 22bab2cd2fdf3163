"""Discord rendering: every limit kept, statements whole with their citations, feed text inert.

Seed-corpus briefs come from the real command line (JSON contract, rebuilt as ``Brief``);
the large and hostile cases are generated briefs, many shapes from fixed random seeds.
"""

from __future__ import annotations

import functools
import io
import json
import random
import re
import subprocess
import sys
from dataclasses import asdict
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

import discord
import pytest

from bot.cli import main
from bot.discord_render import (
    LIMITS,
    DiscordMessage,
    dlen,
    escape_source,
    limit_violations,
    link,
    page_results,
    render_for_discord,
)
from briefs.brief import (
    Brief,
    Citation,
    Item,
    MonthCount,
    NewName,
    Profile,
    Query,
    Section,
    SourceRef,
    StoryRef,
    TimelineEntry,
    Window,
)
from briefs.clock import FrozenClock
from briefs.errors import SettingsError
from briefs.render import make_environment
from tests.briefdata import brief_from_dict
from tests.conftest import NOW
from tests.test_templates import check_golden

ZWSP = "\u200b"

SEED_COMMANDS = {
    "brief": ["brief"],
    "timeline": ["timeline", "--entity", "Shoigu"],
    "entity": ["entity", "Kirby"],
    "stories": ["stories"],
    "source": ["source", "29979d9ea9c5:6"],
    "search": ["search", "Russia", "--limit", "30"],
}


@pytest.fixture(scope="module")
def seed_json(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Each kind's JSON from the command line over one seeded store (digest: a brief relabelled,
    as the digest composer is not part of this module)."""
    tmp = tmp_path_factory.mktemp("seedstore")
    env = {"BRIEFBOT_DATABASE_URL": f"sqlite:///{tmp / 's.sqlite3'}", "HOME": str(tmp)}
    out: dict[str, dict[str, Any]] = {}
    for kind, args in SEED_COMMANDS.items():
        buf, err = io.StringIO(), io.StringIO()
        code = main([*args, "--format", "json"], env=env, clock=FrozenClock(NOW), out=buf, err=err)
        assert code == 0, err.getvalue()
        out[kind] = json.loads(buf.getvalue())
    out["digest"] = {**out["brief"], "kind": "digest", "title": "Digest: since the last post"}
    return out


# --- checkers -------------------------------------------------------------------------------


def assert_within_limits(messages: list[DiscordMessage]) -> None:
    """Every Discord limit, checked twice: our checker and discord.py's own embed length."""
    assert messages, "no message"
    for message in messages:
        assert limit_violations(message) == []
        total = 0
        for payload in message.embeds:
            assert set(payload) <= {"type", "title", "description", "color", "footer", "fields"}
            assert payload["title"] and payload["description"]
            embed = discord.Embed.from_dict(payload)
            assert embed.title == payload["title"]
            total += len(embed)
        assert total <= LIMITS.total
        assert 1 <= len(message.embeds) <= LIMITS.embeds
        assert "footer" in message.embeds[-1]


def assert_cont_headings(messages: list[DiscordMessage]) -> None:
    """A "(cont.)" embed continues the group of the embed before it."""
    titles = [e["title"] for m in messages for e in m.embeds]
    for before, title in pairwise(titles):
        if title.endswith(" (cont.)"):
            base = title.removesuffix(" (cont.)")
            assert before in (base, title) or (base == "Overview" and before == titles[0])


_PREFIX = re.compile(r"^(• |\*\*\d{4}-\d\d-\d\d\*\*( \(\w+\))?: |\*\*\d+\.\*\* )")


def statement_lines(messages: list[DiscordMessage]) -> list[str]:
    return [
        line
        for m in messages
        for e in m.embeds
        for line in e["description"].split("\n")
        if _PREFIX.match(line)
    ]


def _marker(c: Citation) -> str:
    return f"[{c.ref} `{c.sentence}`]"


@functools.cache
def _escaped(text: str) -> str:
    return escape_source(text)


def _shown_whole(text: str, line: str, citations: list[Citation]) -> bool:
    """The line shows ``text`` (whole, or cut with an ellipsis) and then its first citation."""
    at = line.find(" " + _marker(citations[0]))
    if at < 0:
        return False
    shown = _PREFIX.sub("", line[:at])
    full = _escaped(text)
    if shown == full:
        return True
    head = shown.removesuffix("…")
    return (
        shown.endswith("…")
        and full.replace(ZWSP, "").startswith(head.replace(ZWSP, ""))
        and len(head) > 0
    )


def assert_statements_whole(brief: Brief, messages: list[DiscordMessage]) -> None:
    lines = statement_lines(messages)
    statements = [*((i.text, i.citations) for i in brief.items())]
    statements += [(t.text, t.citations) for t in brief.timeline]
    passage = any(s.key == "passage" for s in brief.sections)
    if passage:
        return  # checked in test_source_passage_marks_the_cited_sentence
    assert len(lines) == len(statements), "a statement is missing or split"
    for text, citations in statements:
        marker = " " + _marker(citations[0])
        candidates = [line for line in lines if marker in line]
        assert any(_shown_whole(text, line, citations) for line in candidates), text[:80]


def payload(messages: list[DiscordMessage]) -> list[dict[str, Any]]:
    return [asdict(m) for m in messages]


# --- generated briefs -----------------------------------------------------------------------

HOSTILE = [
    "@everyone",
    "@here",
    "<@&1>",
    "<@123456789012345678>",
    "<@!42>",
    "<#987>",
    "**",
    "__init__",
    "||spoiler||",
    "[x](http://evil)",
    "[click here](https://evil.example/login)",
    "`code`",
    "~~gone~~",
    "> quoted",
    "# Heading",
    "-# small",
    "https://evil.example/a_(b)",
    "\\",
    "😀",
    "<t:1700000000:R>",
    "</ban:1>",
    "\u202egnp.exe",
    "\n\n- item",
]
WORDS = "sanctions arms Pyongyang Moscow shells transfer designation resolution envoy".split()


def _text(rng: random.Random, length: int) -> str:
    parts: list[str] = []
    size = 0
    while size < length:
        parts.append(rng.choice(HOSTILE) if rng.random() < 0.3 else rng.choice(WORDS))
        size += len(parts[-1]) + 1
    return " ".join(parts)[:length]


def generated_brief(
    seed: int,
    *,
    kind: str = "brief",
    statements: int = 200,
    length: int = 3000,
    sources: int = 100,
    title_len: int = 1000,
) -> Brief:
    """A brief far beyond one message: long hostile statements, many sources and stories."""
    rng = random.Random(seed)
    refs = list(range(1, sources + 1))

    def cites() -> list[Citation]:
        n = 40 if rng.random() < 0.05 else rng.randint(1, 3)
        return [
            Citation(r, f"{r:012x}:{rng.randint(0, 999)}")
            for r in rng.sample(refs, min(n, len(refs)))
        ]

    def item() -> Item:
        return Item(_text(rng, rng.randint(1, length)), cites())

    src = [
        SourceRef(
            ref=r,
            id=f"{r:012x}",
            title=_text(rng, rng.randint(1, title_len)),
            publisher=rng.choice([None, "The <@&1> Times", "@everyone Daily", "Yonhap"]),
            published=rng.choice([None, "2023-09-14"]),
            url=rng.choice(
                [None, "javascript:alert(1)", f"https://news.example/{r}?a=(1)", "http://x/" * 80]
            ),
            origin="feed",
        )
        for r in refs
    ]
    brief = Brief(
        kind=kind,  # type: ignore[arg-type]
        title=_text(rng, title_len),
        generated_at=NOW,
        window=Window(datetime(2023, 8, 30, tzinfo=UTC), datetime(2023, 10, 7, tzinfo=UTC)),
        query=Query(text=_text(rng, 50)),
        sources=src,
        notes=[_text(rng, 300)],
    )
    if kind in ("brief", "digest", "entity"):
        brief.bluf = [item() for _ in range(3)]
        keys = ["developments", "quotes", "sanctions", "denials", "watch"]
        per = max(1, (statements - 3) // len(keys))
        brief.sections = [Section(k, k.title(), [item() for _ in range(per)]) for k in keys]
        brief.timeline = [
            TimelineEntry("2023-09-01", rng.choice(["day", "month"]), _text(rng, length), cites())
            for _ in range(20)
        ]
        brief.new_names = [NewName(_text(rng, 40), 3, "person", _text(rng, 20)) for _ in range(5)]
    if kind == "entity":
        brief.profile = Profile(
            "kirby",
            _text(rng, 300),
            "person",
            _text(rng, 300),
            [_text(rng, 60)] * 20,
            [MonthCount("2023-09", 4)],
        )
    if kind in ("brief", "digest", "stories"):
        brief.stories = [
            StoryRef(
                f"s-{i}",
                _text(rng, title_len),
                rng.sample(refs, rng.randint(1, min(60, sources))),
                7,
            )
            for i in range(30)
        ]
    if kind == "timeline":
        brief.timeline = [
            TimelineEntry("2023-09-01", "day", _text(rng, length), cites())
            for _ in range(statements)
        ]
    if kind == "search":
        brief.sections = [Section("results", "Results", [item() for _ in range(statements)])]
    if kind == "source":
        items = [Item(_text(rng, length), [Citation(1, f"{1:012x}:{i}")]) for i in range(9)]
        brief.query = Query(text=f"{1:012x}:4")
        brief.sections = [Section("passage", "Passage", items)]
        brief.sources = src[:1]
    return brief


KINDS = ["brief", "digest", "timeline", "entity", "stories", "source", "search"]


# --- tests: seed corpus ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_seed_briefs_fit_every_limit(seed_json: dict[str, dict[str, Any]], kind: str) -> None:
    brief = brief_from_dict(seed_json[kind])
    messages = render_for_discord(brief, attach_markdown=True)
    assert_within_limits(messages)
    assert_cont_headings(messages)
    assert_statements_whole(brief, messages)
    assert [m.attach_markdown for m in messages] == [False] * (len(messages) - 1) + [True]
    assert all("full brief attached" in m.embeds[-1]["footer"]["text"] for m in messages)
    assert messages[0].embeds[0]["title"] == escape_source(brief.title)
    footer = messages[0].embeds[-1]["footer"]["text"]
    assert footer.startswith(f"{kind} · ") and "generated 2026-11-22 08:00 UTC" in footer
    pages = page_results(brief, 5)
    assert_within_limits(pages)


def test_seed_brief_reads_bottom_line_first_sources_last(
    seed_json: dict[str, dict[str, Any]],
) -> None:
    brief = brief_from_dict(seed_json["brief"])
    messages = render_for_discord(brief)
    titles = [e["title"] for m in messages for e in m.embeds]
    assert titles[:2] == [brief.title, "Bottom line"]
    assert titles[-1] in ("Sources", "Sources (cont.)")
    first = statement_lines(messages)[0]
    assert _shown_whole(brief.bluf[0].text, first, brief.bluf[0].citations)
    sources = "\n".join(
        e["description"] for m in messages for e in m.embeds if "Sources" in e["title"]
    )
    for s in brief.sources:
        assert f"**[{s.ref}]** {escape_source(s.title)} — {s.publisher}, {s.published}" in sources
    assert "footer" not in messages[0].embeds[0] or len(messages[0].embeds) == 1


def test_seed_brief_discord_golden(seed_json: dict[str, dict[str, Any]]) -> None:
    brief = brief_from_dict(seed_json["brief"])
    messages = render_for_discord(brief, attach_markdown=True)
    text = json.dumps(payload(messages), indent=2, ensure_ascii=False) + "\n"
    check_golden("brief.discord.json", text)


def test_seed_search_pages_golden(seed_json: dict[str, dict[str, Any]]) -> None:
    brief = brief_from_dict(seed_json["search"])
    pages = page_results(brief, 5)
    results = brief.sections[0].items
    assert len(pages) == -(-len(results) // 5)
    for n, page in enumerate(pages, 1):
        assert page.embeds[0]["footer"]["text"].endswith(f"page {n}/{len(pages)}")
    text = json.dumps(payload(pages[:2]), indent=2, ensure_ascii=False) + "\n"
    check_golden("search.discord-pages.json", text)


def test_source_passage_marks_the_cited_sentence(seed_json: dict[str, dict[str, Any]]) -> None:
    brief = brief_from_dict(seed_json["source"])
    messages = render_for_discord(brief)
    assert_within_limits(messages)
    lines = messages[0].embeds[1]["description"].split("\n")
    here = [line for line in lines if line.startswith("→ ")]
    cited = next(i for i in brief.sections[0].items if i.citations[0].sentence == "29979d9ea9c5:6")
    assert here == [f"→ `29979d9ea9c5:6` **{escape_source(cited.text)}**"]
    assert len(lines) == len(brief.sections[0].items)
    intro = messages[0].embeds[0]["description"]
    assert "The Korea Herald · 2023-08-31" in intro and "`29979d9ea9c5`" in intro


# --- tests: generated, hostile and huge ------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("seed", [1, 2])
def test_huge_hostile_briefs_fit_every_limit(kind: str, seed: int) -> None:
    brief = generated_brief(seed, kind=kind)
    messages = render_for_discord(brief, attach_markdown=True)
    assert len(messages) > 1
    assert_within_limits(messages)
    assert_cont_headings(messages)
    assert_statements_whole(brief, messages)
    assert_inert(messages)
    assert payload(render_for_discord(brief, attach_markdown=True)) == payload(messages)
    pages = page_results(brief, 10)
    assert_within_limits(pages)
    assert_inert(pages)


@pytest.mark.parametrize("seed", range(10, 40))
def test_random_shapes_fit_every_limit(seed: int) -> None:
    """Property-style: many sizes and kinds from fixed seeds, each checked against every limit."""
    rng = random.Random(seed)
    brief = generated_brief(
        seed,
        kind=rng.choice(KINDS),
        statements=rng.randint(1, 60),
        length=rng.choice([5, 200, 1500, 5000]),
        sources=rng.randint(1, 120),
        title_len=rng.choice([1, 100, 2000]),
    )
    messages = render_for_discord(brief, max_messages=rng.choice([None, 3]))
    assert_within_limits(messages)
    assert_cont_headings(messages)
    if len(messages) < 3:
        assert_statements_whole(brief, messages)
    assert_within_limits(page_results(brief, rng.randint(1, 12)))


def assert_inert(messages: list[DiscordMessage]) -> None:
    """No mention, masked link or raw URL from source text survives in what is sent."""
    texts = [m.content for m in messages]
    for m in messages:
        for e in m.embeds:
            texts += [e["title"], e["description"], e["footer"]["text"] if "footer" in e else ""]
    for text in texts:
        assert "@everyone" not in text and "@here" not in text
        assert not re.search(r"<[@#:/t]", text), "a mention, channel, emoji or timestamp"
        assert "\u202e" not in text
        # The only masked links are the sources' own, whose text is their real host.
        for label, url in re.findall(r"(?<!\\)\[([^\]\\]*)\]\(([^)]*)\)", text):
            assert url.startswith(("https://news.example/", "http://x/")), url
            assert label == re.sub(r"^https?://([^/]+).*", r"\1", url)
        assert not re.search(r"(?<!\\)\]\(http://evil", text)
        assert "://evil" not in text  # scheme:// broken with a zero-width space: no autolink


def test_long_statement_is_cut_but_keeps_its_citation() -> None:
    text = "Shells " + "x" * 9000 + " end."
    cites = [Citation(1, "aaaaaaaaaaaa:3")]
    brief = Brief(
        "brief",
        "Long",
        NOW,
        bluf=[Item(text, cites)],
        sources=[SourceRef(1, "aaaaaaaaaaaa", "T", "P", "2023-09-01", None, "feed")],
    )
    messages = render_for_discord(brief)
    assert_within_limits(messages)
    (line,) = statement_lines(messages)
    assert line.endswith("… [1 `aaaaaaaaaaaa:3`]")
    assert dlen(line) == LIMITS.description
    assert _shown_whole(text, line, cites)


def test_many_citations_keep_the_first_and_count_the_rest() -> None:
    cites = [Citation(i, f"{i:012x}:0") for i in range(1, 51)]
    brief = Brief("brief", "Wire copy", NOW, bluf=[Item("Same sentence everywhere.", cites)])
    (line,) = statement_lines(render_for_discord(brief))
    assert line.startswith("• Same sentence everywhere. [1 `000000000001:0`]")
    assert line.endswith("[6 `000000000006:0`] +44 more")


def test_split_is_deterministic_and_sections_continue() -> None:
    brief = generated_brief(7, statements=120, length=900, sources=20)
    first = render_for_discord(brief)
    again = render_for_discord(generated_brief(7, statements=120, length=900, sources=20))
    assert payload(first) == payload(again)
    titles = [e["title"] for m in first for e in m.embeds]
    assert "Developments (cont.)" in titles
    assert titles.count("Developments") == 1
    footers = [m.embeds[-1]["footer"]["text"] for m in first]
    assert footers[-1].endswith(f"part {len(first)}/{len(first)}")


def test_max_messages_drops_the_rest_and_asks_for_the_attachment() -> None:
    brief = generated_brief(3, statements=100, length=2000)
    full = render_for_discord(brief)
    capped = render_for_discord(brief, max_messages=2)
    assert len(full) > 2 and len(capped) == 2
    assert capped[0].embeds == full[0].embeds or "full brief attached" in str(capped[0].embeds)
    assert capped[-1].attach_markdown and not capped[0].attach_markdown
    assert capped[-1].content.startswith("This brief is too long for the channel:")
    assert f"{len(full) - 2} more messages left out" in capped[-1].content
    assert_within_limits(capped)


def test_paging_keeps_order_and_page_size() -> None:
    brief = generated_brief(5, kind="search", statements=37, length=100)
    pages = page_results(brief, 5)
    assert_within_limits(pages)
    lines = statement_lines(pages)
    assert [int(re.match(r"\*\*(\d+)\.\*\*", line).group(1)) for line in lines] == list(  # type: ignore[union-attr]
        range(1, 38)
    )
    assert all(len(statement_lines([p])) <= 5 for p in pages)
    assert len(pages) == 8
    assert pages[0].embeds[0]["description"].startswith("> ")  # the note opens page 1
    # Results too long for five a page make more, smaller pages.
    big = page_results(generated_brief(5, kind="search", statements=37, length=3000), 5)
    assert len(big) > 8
    assert_within_limits(big)
    assert page_results(Brief("search", "Search: x", NOW), 5)[0].embeds[0]["description"]


def test_stories_page() -> None:
    brief = generated_brief(9, kind="stories", statements=0, length=10, title_len=50)
    pages = page_results(brief, 4)
    assert_within_limits(pages)
    shown = sum(
        line.startswith("**") for p in pages for line in p.embeds[0]["description"].split("\n")
    )
    assert shown == len(brief.stories)
    with pytest.raises(ValueError):
        page_results(brief, 0)


# --- escaping -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("@everyone look", f"@{ZWSP}everyone look"),
        ("hi @HERE", f"hi @{ZWSP}HERE"),
        ("<@&1> and <@123> in <#9>", f"<{ZWSP}@&1> and <{ZWSP}@123> in <{ZWSP}#9>"),
        ("**bold** __u__ ~~s~~ ||sp||", r"\*\*bold\*\* \_\_u\_\_ \~\~s\~\~ \|\|sp\|\|"),
        ("[x](http://evil)", rf"\[x\](http:{ZWSP}//evil)"),
        ("`code` \\", r"\`code\` \\"),
        ("# Big\n> quote", r"\# Big > quote"),
        ("-# small", r"\-# small"),
        ("1. list", r"1\. list"),
        ("a\u202eb\x00c", "abc"),
        ("plain text, 3 < 4.", "plain text, 3 < 4."),
        (None, ""),
    ],
)
def test_escape_source(raw: str | None, expected: str) -> None:
    assert escape_source(raw) == expected


def test_source_links_show_their_real_host() -> None:
    assert link("https://www.yna.co.kr/view/AEN2023?a=(1)") == (
        "[www.yna.co.kr](https://www.yna.co.kr/view/AEN2023?a=%281%29)"
    )
    assert link("javascript:alert(1)") == ""
    assert link("https://x/" + "a" * 600) == ""
    assert link(None) == ""


def test_user_template_errors_are_one_line(tmp_path: Path) -> None:
    shipped = (Path(__file__).parents[1] / "templates" / "brief.discord.j2").read_text()
    broken = shipped.replace("{{ brief.title | dsrc }}", "{{ brief.no_such_field }}")
    (tmp_path / "brief.discord.j2").write_text(broken, encoding="utf-8")
    brief = Brief("brief", "t", NOW)
    with pytest.raises(SettingsError, match=r"template brief\.discord\.j2, macro title"):
        render_for_discord(brief, make_environment(tmp_path))


def test_module_never_imports_discord() -> None:
    code = "import sys, bot.discord_render; assert 'discord' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[1])
