"""HTML export: one self-contained, autoescaped page whose citation links all land somewhere."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest

from briefs.brief import Brief, Citation, Item, Section, SourceRef, StoryRef, TimelineEntry
from briefs.render import http_url, make_environment, render
from tests.conftest import Run
from tests.test_templates import check_golden

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


class Page(HTMLParser):
    """Collects what the checks need: tags, ids, links, resource references, text."""

    VOID = frozenset({"meta", "br", "img", "hr", "link", "input"})

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.ids: list[str] = []
        self.hrefs: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.stack: list[str] = []
        self.text: list[str] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend(attrs)
        for name, value in attrs:
            if name == "id" and value:
                self.ids.append(value)
            if name == "href" and value:
                self.hrefs.append(value)
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack[-1:]}"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def check_page(text: str) -> Page:
    """Well formed, self-contained, no script, unique ids, every #link lands on an id."""
    assert text.startswith("<!DOCTYPE html>\n")
    page = Page(text)
    assert page.stack == [], f"unclosed {page.stack}"
    assert len(page.ids) == len(set(page.ids)), "duplicate id"
    for href in page.hrefs:
        if href.startswith("#"):
            assert href[1:] in page.ids, f"{href} targets nothing"
        else:
            assert href.startswith(("http://", "https://")), href
    assert "script" not in page.tags and "iframe" not in page.tags and "img" not in page.tags
    assert not [n for n, _ in page.attrs if n in ("src", "srcset") or n.startswith("on")]
    assert "@media print" in text and "<style>" in text
    css = text[text.index("<style>") : text.index("</style>")]
    assert "url(" not in css and "@import" not in css
    return page


CLI_CASES = {
    "brief": ["brief"],
    "sanctions": ["brief", "--topic", "sanctions", "--max-items", "5"],
    "source": ["source", "29979d9ea9c5:6"],
    "search": ["search", "artillery shells", "--limit", "4"],
    "timeline": ["timeline", "--entity", "Shoigu"],
    "entity": ["entity", "Kirby"],
    "stories": ["stories"],
}


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[str, dict]]:  # type: ignore[type-arg]
    """Each command's HTML and JSON over one seeded store, through the real command line."""
    import io
    import json

    from bot.cli import main
    from briefs.clock import FrozenClock

    tmp = tmp_path_factory.mktemp("htmlstore")
    env = {"BRIEFBOT_DATABASE_URL": f"sqlite:///{tmp / 's.sqlite3'}", "HOME": str(tmp)}
    out = {}
    for name, args in CLI_CASES.items():
        runs = []
        for fmt in ("html", "json"):
            buf, err = io.StringIO(), io.StringIO()
            code = main([*args, "--format", fmt], env=env, clock=FrozenClock(NOW), out=buf, err=err)
            assert code == 0, err.getvalue()
            runs.append(buf.getvalue())
        out[name] = (runs[0], json.loads(runs[1]))
    return out


@pytest.mark.parametrize("name", list(CLI_CASES))
def test_every_kind_is_a_valid_page(pages: dict[str, tuple[str, dict]], name: str) -> None:  # type: ignore[type-arg]
    html, brief = pages[name]
    page = check_page(html)
    statements = [*brief["bluf"], *(i for s in brief["sections"] for i in s["items"])]
    statements += brief["timeline"]
    for s in statements:
        for c in s["citations"]:
            assert (
                f'href="#src-{c["ref"]}" title="source {c["ref"]}, sentence {c["sentence"]}"'
                in html
            )
    assert {f"src-{s['ref']}" for s in brief["sources"]} <= set(page.ids)
    text = "".join(page.text)
    for s in statements:
        assert s["text"] in text  # verbatim, once the entities are decoded


def test_golden_brief_html(pages: dict[str, tuple[str, dict]]) -> None:  # type: ignore[type-arg]
    check_golden("brief.html", pages["brief"][0])


def test_golden_source_html(pages: dict[str, tuple[str, dict]]) -> None:  # type: ignore[type-arg]
    html = pages["source"][0]
    check_golden("source.html", html)
    assert html.count("<mark>") == 1 and 'class="here"' in html


def test_sources_link_back_to_what_cites_them(pages: dict[str, tuple[str, dict]]) -> None:  # type: ignore[type-arg]
    html, brief = pages["brief"]
    first = brief["bluf"][0]["citations"][0]["ref"]
    item = re.search(rf'<li id="src-{first}">.*?</li>', html)
    assert item and '<a href="#bluf-1">bluf-1</a>' in item.group(0)


def hostile_brief() -> Brief:
    evil = '<script>alert(1)</script> "><img src=x onerror=alert(1)> & </li></ul>'
    return Brief(
        kind="brief",
        title=f"Brief: {evil}",
        generated_at=NOW,
        bluf=[Item(f"Statement {evil}", [Citation(1, "aaaaaaaaaaaa:1")])],
        sections=[Section("watch", "What to watch", [Item(evil, [Citation(2, "bbbbbbbbbbbb:0")])])],
        timeline=[TimelineEntry("2023-09-01", "month", evil, [Citation(1, "aaaaaaaaaaaa:1")])],
        stories=[StoryRef("s-1", evil, [1, 2], 2)],
        sources=[
            SourceRef(1, "aaaaaaaaaaaa", evil, evil, "2023-09-01", "javascript:alert(1)", "feed"),
            SourceRef(2, "bbbbbbbbbbbb", "T", None, None, 'https://ex.org/a?b=1&c="x"', "feed"),
        ],
        notes=[evil],
    )


def test_source_text_is_escaped() -> None:
    html = render(hostile_brief(), "html", make_environment())
    page = check_page(html)
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "javascript:" not in page.hrefs and not any("javascript" in h for h in page.hrefs)
    assert 'href="https://ex.org/a?b=1&amp;c=&#34;x&#34;"' in html
    assert (
        "".join(page.text).count("<script>alert(1)</script>") == 9
    )  # title twice, note, 3 statements, story, source title and publisher


def test_markdown_is_not_html_escaped() -> None:
    """Autoescaping is for HTML templates only: the Markdown backslash-escapes what would be
    markup (tests/test_markup.py) and keeps quotes and ampersands as they are, no entities."""
    md = render(hostile_brief(), "md", make_environment())
    assert '- Statement \\<script>alert(1)\\</script> ">\\<img src=x onerror=alert(1)> & ' in md
    assert "&lt;" not in md and "&#34;" not in md


def test_http_url_filter() -> None:
    assert http_url("https://a.example/x") == "https://a.example/x"
    assert http_url(" http://a.example ") == "http://a.example"
    for bad in ("javascript:alert(1)", "data:text/html,x", "https://a b", "//a.example", None, ""):
        assert http_url(bad) is None


def test_cli_writes_html_file(cli: Callable[..., Run], tmp_path: object) -> None:
    from pathlib import Path

    target = Path(str(tmp_path)) / "brief.html"
    run = cli("brief", "--format", "html", "--out", str(target))
    assert run.code == 0, run.err
    check_page(target.read_text(encoding="utf-8"))
    assert cli("stats", "--format", "html").code == 2
