"""Markup from sources is inert in Markdown and Discord; JSON keeps it verbatim.

A feed's title, outlet or sentence can carry ``<script>``, ``[click](javascript:...)``,
``![img](...)`` or ``<https://evil>``, and a source's URL can be ``javascript:``, ``data:`` or
``file:``. The Markdown views are rendered by GitHub's own Markdown library (cmark-gfm, with
its autolink, strikethrough, table and task-list extensions and raw HTML let through, so any
HTML that got into the Markdown shows up as a tag) and the result is read like a browser
would: no tag but the views' own, no link but the sources' http(s) URLs, and the source text
shown exactly as written. The Discord messages are checked for Discord's markup.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import cmarkgfm
import pytest
from cmarkgfm.cmark import Options
from hypothesis import example, given
from hypothesis import strategies as st

from bot.cli import main
from bot.discord_render import (
    DiscordMessage,
    dlen,
    escape_source,
    page_results,
    render_for_discord,
)
from briefs.brief import (
    Brief,
    Citation,
    Item,
    NewName,
    Section,
    SourceRef,
    StoryRef,
    TimelineEntry,
    Window,
)
from briefs.clock import FrozenClock
from briefs.render import escape_markdown, http_url, make_environment, markdown_url, render
from tests.briefdata import brief_from_dict
from tests.conftest import NOW

SCRIPT = "<script>alert(1)</script>"
IFRAME = "<iframe src=https://evil.example/x></iframe>"
CLICK = "[click](javascript:alert(1))"
IMAGE = "![img](http://x.example/p.png)"
AUTOLINK = "<https://evil.example>"
GOOD_URL = "https://good.example/news/1"
ZWSP = "\u200b"

BODY = """{city} imposed new sanctions on North Korean arms traders {SCRIPT} on Monday, \
officials said.

{minister} Defence Minister Sergei Shoigu discussed artillery shells {IFRAME} with envoys in \
Pyongyang on September 19, 2023, the ministry said.

The Treasury sanctioned {firms} for arms transfers, see {CLICK} and {IMAGE} or {AUTOLINK}, \
a spokesman said.

John Kirby said on September 20, 2023 the United States would impose {more} sanctions on arms \
deals **now** @everyone <@123> and `code` ~~gone~~ &amp; press@state.gov www.evil.example \
https://evil.example/a.
"""

# Four hostile documents: titles and outlets with markup, URLs of every unsafe scheme, and one
# good https URL (the only link any view may show).
DOCS = {
    "a.txt": (
        dict(city="Washington", minister="Russian", firms="three firms", more="further"),
        {
            "title": f"Sanctions {SCRIPT} on Pyongyang {CLICK}",
            "publisher": f"Evil {IFRAME} {IMAGE} Times",
            "url": "javascript:alert(1)",
            "published": "2023-09-20",
        },
    ),
    "b.txt": (
        dict(city="The European Union", minister="Moscow's", firms="four banks", more="new"),
        {
            "title": f"Arms {AUTOLINK} deal **bold** # not a heading",
            "publisher": "@everyone Daily <@123>",
            "url": f"data:text/html,{SCRIPT}",
            "published": "2023-09-21",
        },
    ),
    "c.txt": (
        dict(city="London", minister="Russia's", firms="two shippers", more="tougher"),
        {"title": f"- Shells {CLICK} ##", "url": "file:///etc/passwd", "published": "2023-09-22"},
    ),
    "d.txt": (
        dict(city="Tokyo", minister="The Russian", firms="five traders", more="wider"),
        {
            "title": "1. Good outlet <b>bold</b>",
            "publisher": "Good News",
            "url": GOOD_URL,
            "published": "2023-09-23",
        },
    ),
}
HOSTILE_TITLES = {name: meta["title"] for name, (_, meta) in DOCS.items()}


def _toml(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid TOML basic string


class Hostile:
    """A real store with the seed corpus and the four hostile documents, and the CLI on it."""

    def __init__(self, folder: Path) -> None:
        articles = folder / "articles"
        articles.mkdir()
        manifest = []
        for name, (words, meta) in DOCS.items():
            body = BODY.format(
                SCRIPT=SCRIPT, IFRAME=IFRAME, CLICK=CLICK, IMAGE=IMAGE, AUTOLINK=AUTOLINK, **words
            )
            (articles / name).write_text(body, encoding="utf-8")
            manifest.append(f'["{name}"]')
            manifest += [f"{k} = {_toml(v)}" for k, v in meta.items() if k != "published"]
            manifest.append(f"published = {meta['published']}")
        (articles / "manifest.toml").write_text("\n".join(manifest) + "\n", encoding="utf-8")
        self.env = {
            "BRIEFBOT_DATABASE_URL": f"sqlite:///{folder / 'store.sqlite3'}",
            "HOME": str(folder),
        }
        self.run("ingest", str(articles))
        found = json.loads(self.run("search", "Treasury sanctioned", "--format", "json"))
        self.ids = {s["title"]: s["id"] for s in found["sources"]}
        assert set(self.ids) == set(HOSTILE_TITLES.values())

    def run(self, *args: str) -> str:
        out, err = io.StringIO(), io.StringIO()
        code = main(list(args), env=self.env, clock=FrozenClock(NOW), out=out, err=err)
        assert code == 0, err.getvalue()
        return out.getvalue()

    def doc(self, name: str) -> str:
        return self.ids[HOSTILE_TITLES[name]]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Hostile:
    return Hostile(tmp_path_factory.mktemp("hostile"))


# --- reading Markdown as a viewer shows it ---------------------------------------------------


class Shown(HTMLParser):
    """The HTML a Markdown viewer makes: its tags, link targets, and the text of each block."""

    BLOCKS = frozenset({"h1", "h2", "p", "li", "blockquote"})

    def __init__(self, markdown: str) -> None:
        super().__init__(convert_charrefs=True)
        self.html = cmarkgfm.markdown_to_html_with_extensions(
            markdown,
            options=Options.CMARK_OPT_UNSAFE,  # raw HTML through: a tag that got in shows
            extensions=["autolink", "strikethrough", "table", "tasklist"],
        )
        self.tags: list[str] = []
        self.hrefs: list[str] = []
        self.resources: list[str] = []
        self.blocks: list[str] = []
        self._open: list[list[str]] = []
        self.feed(self.html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name == "href":
                self.hrefs.append(value or "")
            elif name in ("src", "srcset", "action", "formaction", "data"):
                self.resources.append(value or "")
        if tag in self.BLOCKS:
            self._open.append([])

    def handle_endtag(self, tag: str) -> None:
        if tag in self.BLOCKS and self._open:
            self.blocks.append("".join(self._open.pop()).strip())

    def handle_data(self, data: str) -> None:
        for block in self._open:
            block.append(data)

    @property
    def text(self) -> str:
        return "\n".join(self.blocks)


# The tags the Markdown templates make themselves; anything else came from source text.
VIEW_TAGS = {"h1", "h2", "p", "ul", "ol", "li", "blockquote", "em", "strong", "code", "a"}


def assert_inert_markdown(md: str, allowed_links: set[str]) -> Shown:
    shown = Shown(md)
    assert set(shown.tags) <= VIEW_TAGS, sorted(set(shown.tags) - VIEW_TAGS)
    assert shown.resources == []
    for href in shown.hrefs:
        parts = urlsplit(href)
        assert parts.scheme in ("http", "https"), href
        assert href in allowed_links, href
    return shown


def visible(text: str) -> str:
    """Source text as a viewer should show it: verbatim, white space collapsed."""
    return " ".join(text.replace("\x00", "\ufffd").split())


# --- Markdown views, from the command line ----------------------------------------------------

VIEWS: dict[str, Callable[[Hostile], list[str]]] = {
    "brief (default format)": lambda h: ["brief"],
    "brief --format md": lambda h: ["brief", "--format", "md"],
    "digest": lambda h: ["digest", "--since", "2023-09-01"],
    "search": lambda h: ["search", "Treasury sanctioned arms transfers"],
    "source document": lambda h: ["source", h.doc("a.txt")],
    "source passage": lambda h: ["source", h.doc("b.txt") + ":2"],
    "timeline": lambda h: ["timeline", "--entity", "Shoigu"],
    "entity": lambda h: ["entity", "Shoigu"],
    "stories": lambda h: ["stories"],
}


@pytest.mark.parametrize("view", list(VIEWS))
def test_markdown_views_show_source_markup_as_text(hostile: Hostile, view: str) -> None:
    md = hostile.run(*VIEWS[view](hostile))
    shown = assert_inert_markdown(md, {GOOD_URL})
    # Not vacuous: each view shows hostile source text, and shows it exactly as written.
    found = [h for h in (SCRIPT, IFRAME, CLICK, AUTOLINK, *HOSTILE_TITLES.values()) if h in md]
    assert found, "the view shows none of the hostile text"
    for raw in found:
        assert raw in shown.text, raw
    assert "\\<script>" in md or "\\<iframe" in md or "\\[click]" in md


def test_sources_link_only_their_own_http_urls(hostile: Hostile) -> None:
    """In the sources list a javascript:, data: or file: URL is shown without a link; the
    https one is the only link, as an autolink."""
    md = hostile.run("brief", "--query", "Treasury sanctioned arms transfers")
    shown = assert_inert_markdown(md, {GOOD_URL})
    assert GOOD_URL in shown.hrefs
    assert f"<{GOOD_URL}>" in md
    for bad in ("javascript:", "data:", "file:"):
        assert f"<{bad}" not in md
    for name in ("a.txt", "b.txt", "c.txt"):
        if f"(id {hostile.doc(name)}, file)" in md:
            line = next(x for x in md.splitlines() if f"(id {hostile.doc(name)}," in x)
            assert ", <" not in line
    assert sum(f"(id {hostile.doc(n)}, file)" in md for n in ("a.txt", "b.txt", "c.txt")) >= 1


@pytest.mark.parametrize("name", ["a.txt", "b.txt", "c.txt", "d.txt"])
def test_source_view_links_only_http(hostile: Hostile, name: str) -> None:
    md = hostile.run("source", hostile.doc(name))
    shown = assert_inert_markdown(md, {GOOD_URL})
    title, publisher = DOCS[name][1]["title"], DOCS[name][1].get("publisher")
    blocks = [b.replace(ZWSP, "") for b in shown.blocks]
    assert blocks[0] == title  # the h1, verbatim
    if publisher:
        assert f"Publisher: {publisher}" in blocks
    if name == "d.txt":
        assert shown.hrefs == [GOOD_URL] and f"- Link: <{GOOD_URL}>" in md
    else:
        assert shown.hrefs == [] and "- Link: none (file document)" in md


def test_json_keeps_source_text_verbatim(hostile: Hostile) -> None:
    """JSON is data: titles, outlets, URLs and statements exactly as stored, no escapes."""
    data = json.loads(hostile.run("brief", "--query", "Treasury sanctioned", "--format", "json"))
    by_id = {s["id"]: s for s in data["sources"]}
    for name, (_, meta) in DOCS.items():
        source = by_id.get(hostile.doc(name))
        if source is None:
            continue
        assert source["title"] == meta["title"]
        assert source["url"] == meta["url"]
        assert source["publisher"] == meta.get("publisher")
    assert len(by_id.keys() & {hostile.doc(n) for n in DOCS}) >= 2
    texts = [i["text"] for i in data["bluf"]] + [
        i["text"] for s in data["sections"] for i in s["items"]
    ]
    assert any(CLICK in t and IMAGE in t and AUTOLINK in t for t in texts)
    assert not any("\\<" in t or "\\[" in t or ZWSP in t for t in texts)


# --- Discord, from the same store -------------------------------------------------------------

_MASKED = re.compile(r"(?<!\\)\[((?:[^\]\\]|\\.)*)\]\(([^)\s]*)\)")


def assert_inert_discord(messages: list[DiscordMessage], sources: list[SourceRef]) -> None:
    """No HTML or Discord construct from source text, and no link but the sources' own."""
    own = {http_url(s.url) for s in sources} - {None}
    texts = [m.content for m in messages]
    for m in messages:
        for e in m.embeds:
            texts += [e["title"], e["description"], e.get("footer", {}).get("text", "")]
    for text in texts:
        assert not re.search(r"<[^\s\u200b]", text), "a tag, mention or <url> autolink"
        assert "@everyone" not in text
        for label, url in _MASKED.findall(text):
            parts = urlsplit(url)
            assert parts.scheme in ("http", "https") and url in own, url
            assert label == parts.hostname
        # a scheme:// that Discord would auto-link: only inside a source's masked link
        bare = _MASKED.sub("", text)
        assert not re.search(r"[A-Za-z][A-Za-z0-9+.-]*://", bare), bare


DISCORD_VIEWS = {
    "brief": lambda h: ["brief"],
    "digest": lambda h: ["digest", "--since", "2023-09-01"],
    "search": lambda h: ["search", "Treasury sanctioned arms transfers"],
    "source": lambda h: ["source", h.doc("a.txt")],
    "passage": lambda h: ["source", h.doc("d.txt") + ":2"],
    "timeline": lambda h: ["timeline", "--entity", "Shoigu"],
    "entity": lambda h: ["entity", "Shoigu"],
    "stories": lambda h: ["stories"],
}


@pytest.mark.parametrize("view", list(DISCORD_VIEWS))
def test_discord_messages_are_inert(hostile: Hostile, view: str) -> None:
    data = json.loads(hostile.run(*DISCORD_VIEWS[view](hostile), "--format", "json"))
    brief = brief_from_dict(data)
    messages = render_for_discord(brief, attach_markdown=True)
    assert_inert_discord(messages, brief.sources)
    assert_inert_discord(page_results(brief, 5), brief.sources)
    sent = json.dumps([m.embeds for m in messages], ensure_ascii=False)
    assert "script>" in sent or "iframe" in sent or "click" in sent  # not vacuous


def test_discord_digest_story_titles_are_escaped(hostile: Hostile) -> None:
    """A digest leads with one line per story and lists its stories by title (source text
    like any other): escaped wherever Discord shows them."""
    data = json.loads(hostile.run("digest", "--since", "2023-09-01", "--format", "json"))
    brief = brief_from_dict(data)
    assert [s.key for s in brief.sections][:1] == ["developments"]
    assert all(i.story is not None for i in brief.sections[0].items[:1])
    titles = [s.title for s in brief.stories if "click" in s.title]
    assert titles, "no story title with markup in the digest"
    sent = json.dumps([m.embeds for m in render_for_discord(brief)], ensure_ascii=False)
    for title in titles:
        assert json.dumps(escape_source(title), ensure_ascii=False)[1:-1] in sent
        assert json.dumps(title, ensure_ascii=False)[1:-1] not in sent


def test_discord_links_only_http_sources() -> None:
    sources = [
        SourceRef(1, "aaaaaaaaaaaa", CLICK, SCRIPT, "2023-09-01", "javascript:alert(1)", "feed"),
        SourceRef(2, "bbbbbbbbbbbb", IMAGE, AUTOLINK, None, f"data:text/html,{SCRIPT}", "feed"),
        SourceRef(3, "cccccccccccc", IFRAME, None, None, "file:///etc/passwd", "feed"),
        SourceRef(4, "dddddddddddd", "Good", "Good News", None, GOOD_URL, "feed"),
    ]
    brief = Brief("brief", f"Brief {CLICK}", NOW, sources=sources)
    messages = render_for_discord(brief)
    assert_inert_discord(messages, sources)
    description = "\n".join(e["description"] for m in messages for e in m.embeds)
    assert f"[good.example]({GOOD_URL})" in description
    assert "data:text" not in description and "etc/passwd" not in description
    assert len(_MASKED.findall(description)) == 1  # the javascript: one is not a link either


@pytest.mark.parametrize("title", ["x" * 1499 + "*bold*", "y" * 1499 + "[x](https://e)"])
def test_discord_title_line_is_cut_after_whole_escapes(title: str) -> None:
    """The title line of /brief format:markdown is ``**<title>**: ...``: a long title cut in
    the middle of an escape left a backslash that escaped the closing ``**``."""
    from bot.cogs.common import _plain

    shown = _plain(title)
    head = shown.removesuffix("…")
    assert (len(head) - len(head.rstrip("\\"))) % 2 == 0, head[-10:]  # no dangling escape
    assert dlen(shown) <= 1500
    assert dlen(_plain("😀" * 1000)) <= 1500  # cut by Discord's count, not code points


# --- Markdown escaping, for any text -----------------------------------------------------------

TOKENS = [
    SCRIPT,
    IFRAME,
    CLICK,
    IMAGE,
    AUTOLINK,
    "<b>",
    "</p>",
    "<!--",
    "-->",
    "<?php",
    "<![CDATA[",
    "<a@b.co>",
    "[x]: javascript:alert(1)",
    "[x]",
    "[^1]",
    "[ ] ",
    "https://evil.example/a_b",
    "www.evil.example",
    "press@state.gov",
    "mailto:a@b.co",
    "xmpp:a@b.co",
    "&amp;",
    "&#60;",
    "&lt;b&gt;",
    "**",
    "__",
    "~~",
    "`",
    "```",
    "~~~",
    "- ",
    "* ",
    "+ ",
    "1. ",
    "2) ",
    "# ",
    "> ",
    "---",
    "===",
    "| a | b |",
    "\\",
    "\n",
    "    ",
]
MARKUP = "<>[]()!*_`~\\&#;:/@.=-+|\"' \n\t1aw"
TEXTS = st.lists(
    st.one_of(st.sampled_from(TOKENS), st.text(alphabet=MARKUP, max_size=8), st.text(max_size=6)),
    max_size=10,
).map("".join)
URLS = st.sampled_from(
    [
        None,
        GOOD_URL,
        "javascript:alert(1)",
        f"data:text/html,{SCRIPT}",
        "file:///etc/passwd",
        "https://good.example/[x](javascript:alert(1))<b>",
    ]
)
ENV = make_environment()


@given(text=TEXTS, url=URLS)
@example(text="<!--https://evil.example/a_b", url=None)  # found by the explore profile
def test_markdown_escaping_property(text: str, url: str | None) -> None:
    """For any text in every source-text slot of a brief, the viewer shows that text and
    nothing else: no tag and no link, image or autolink that the template did not emit."""
    cites = [Citation(1, "aaaaaaaaaaaa:0")]
    brief = Brief(
        "brief",
        text,
        NOW,
        window=Window(None, None),
        notes=[text],
        bluf=[Item(text, cites)],
        sections=[Section("developments", text, [Item(text, cites)])],
        timeline=[TimelineEntry("2023-09-01", "day", text, cites)],
        stories=[StoryRef("s-1", text, [1], 1)],
        new_names=[NewName(text, 2, "organisation", "Kim In-ae")],
        sources=[SourceRef(1, "aaaaaaaaaaaa", text, text, "2023-09-01", url, "feed")],
    )
    md = render(brief, "md", ENV)
    ours = markdown_url(url)
    shown = Shown(md)
    assert set(shown.tags) <= VIEW_TAGS, (md, shown.html)
    assert shown.resources == []
    assert len(shown.hrefs) == (1 if ours else 0), shown.html
    for href in shown.hrefs:
        assert urlsplit(href).scheme == "https" and urlsplit(href).hostname == "good.example"
    seen = [visible(b.replace(ZWSP, "")) for b in shown.blocks]
    want = visible(text.replace(ZWSP, ""))
    cited = visible(f"{want} [1: aaaaaaaaaaaa:0]")
    assert seen[0] == want  # the title
    assert seen.count(want) >= 3  # title, note, section heading
    assert seen.count(cited) == 2  # bottom line, section
    assert visible(f"2023-09-01: {cited}") in seen  # timeline
    assert visible(f"{want} (organisation, 2; spelt like Kim In-ae)") in seen  # new names
    assert any(b.startswith(visible(f"[1] {want} —")) for b in seen), seen  # source line


@given(text=TEXTS)
def test_escape_markdown_is_stable_and_only_adds_escapes(text: str) -> None:
    out = escape_markdown(text)
    # Removing the escapes (a backslash before punctuation, the zero-width spaces) gives the
    # text back: nothing is dropped or reordered.
    unescaped = re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", out).replace(ZWSP, "")
    assert unescaped == " ".join(text.split()).replace(ZWSP, "")
    assert "\n" not in out


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (SCRIPT, "\\<script>alert(1)\\</script>"),
        (CLICK, "\\[click](javascript:alert(1))"),
        (IMAGE, "!\\[img](http\\://x.example/p.png)"),
        (AUTOLINK, "\\<https\\://evil.example>"),
        ("[North Korea] said", "\\[North Korea] said"),
        ("3 < 4 & AT&T &amp;", "3 < 4 & AT&T \\&amp;"),
        ("**now** _so_ `x` ~~y~~ a\\b", "\\*\\*now\\*\\* \\_so\\_ \\`x\\` \\~\\~y\\~\\~ a\\\\b"),
        ("# Big\n> quote", "\\# Big > quote"),
        ("- item", "\\- item"),
        ("1. first", "1\\. first"),
        ("ends with ##", "ends with \\##"),
        ("www.evil.example", "www\\.evil.example"),
        ("press@state.gov", f"press@{ZWSP}state.gov"),
        ("Plain news: Seoul, Sept. 13 (Yonhap) -- it said.", None),
        (None, ""),
    ],
)
def test_escape_markdown(raw: str | None, expected: str | None) -> None:
    assert escape_markdown(raw) == (raw if expected is None else expected)


def test_markdown_url() -> None:
    assert markdown_url(GOOD_URL) == GOOD_URL
    assert markdown_url("https://a.example/<b>") == "https://a.example/%3Cb%3E"
    for bad in ("javascript:alert(1)", "data:text/html,x", "file:///etc/passwd", None, ""):
        assert markdown_url(bad) is None
