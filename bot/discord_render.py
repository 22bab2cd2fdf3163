"""Briefs as Discord message payloads, within every Discord limit, safe against feed text.

Pure: no discord import and no I/O, so it is testable on its own. It produces plain dicts;
the bot turns each into an embed with ``discord.Embed.from_dict`` and sends every message with
``allowed_mentions=AllowedMentions.none()``.

The text of every block comes from the Jinja2 template ``<kind>.discord.j2`` (falling back to
``brief.discord.j2``), one macro per kind of block; this module only packs the blocks:

- a *block* is one statement with its citation(s), one timeline entry, one story, one source,
  one note. A block is never cut between embeds or messages, so a statement always travels with
  its citation. A block longer than an embed description (pathological feed text) has its
  source text shortened with ``…``; its citations are kept.
- blocks are grouped (intro, bottom line, each section, timeline, stories, new names,
  sources); each group starts a new embed titled with its heading, and a group that does not
  fit in one embed continues in the next, titled ``<heading> (cont.)``.
- embeds are packed greedily into messages: at most 10 embeds and 6,000 characters per
  message. The last embed of each message carries the footer (kind, window, generated time,
  part i/n, "full brief attached").

Lengths are counted in UTF-16 code units (what Discord's clients count), which is never less
than the number of code points, so both readings of "characters" are respected.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

from jinja2 import Environment, TemplateError, TemplateNotFound
from jinja2.runtime import Macro

from briefs.brief import Brief
from briefs.errors import SettingsError
from briefs.render import make_environment


@dataclass(frozen=True)
class Limits:
    """Discord's documented limits on one message and its embeds."""

    title: int = 256
    description: int = 4096
    fields: int = 25
    field_name: int = 256
    field_value: int = 1024
    footer: int = 2048
    author: int = 256
    total: int = 6000  # title, description, field names and values, footer, author: all embeds
    embeds: int = 10
    content: int = 2000


LIMITS = Limits()

# Citations shown after a statement; wire copy cited by more documents adds "+N more".
MAX_CITATIONS = 6
# Footer budget: the footer template's text is cut to this, so packing can reserve it up front.
FOOTER_MAX = 400
ELLIPSIS = "…"
COLOR = 0x2B6CB0  # one colour for every briefbot embed


@dataclass(frozen=True)
class DiscordMessage:
    """One message to send: plain ``content`` and embed dicts for ``discord.Embed.from_dict``.

    ``attach_markdown`` is true on the one message (the last) that should carry the full brief
    as a Markdown file, when the caller asked for it.
    """

    content: str
    embeds: list[dict[str, Any]]
    attach_markdown: bool = False


def dlen(text: str) -> int:
    """Length as Discord counts it (UTF-16 code units; an emoji outside the BMP counts 2)."""
    return len(text.encode("utf-16-le")) // 2


# --- escaping -------------------------------------------------------------------------------

_ZWSP = "\u200b"
# Everything Discord markdown reads inline: bold/italics, underline, strike, spoiler, code,
# masked-link brackets, and the backslash itself.
_MARKDOWN = re.compile(r"([\\*_~|`\[\]])")
# Block syntax is only read at the start of a line; source text is collapsed to one line.
_LINE_START = re.compile(r"^([#>+-])")
_ORDERED = re.compile(r"^(\d+)\.")
_EVERYONE = re.compile(r"@(everyone|here)", re.IGNORECASE)
# <@123>, <@!123>, <@&123>, <#123>, <:emoji:1>, <a:emoji:1>, <t:123>, </cmd:1>, <https://...>
_ANGLE = re.compile(r"<(?=\S)")
# A scheme followed by // is auto-linked by Discord; a zero-width space after the colon is not.
_SCHEME = re.compile(r"\b([A-Za-z][A-Za-z0-9+.-]*:)(//)")
# C0/C1 controls and bidirectional overrides (which can make a link read backwards).
_INVISIBLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def escape_source(text: str | None) -> str:
    """Source or feed text made inert for Discord.

    White space collapses to single spaces (no line-start markdown); markdown characters are
    backslash-escaped, so ``**``, spoilers and ``[text](url)`` masked links render literally;
    ``@everyone``/``@here`` and every ``<...>`` construct (user, role and channel mentions,
    emoji, timestamps, slash-command links) get a zero-width space so they neither ping nor
    render; ``scheme://`` gets one after the colon so a URL in a sentence is not auto-linked.
    Visible text is unchanged apart from the escapes Discord hides.
    """
    if not text:
        return ""
    text = " ".join(_INVISIBLE.sub("", text).split())
    text = _MARKDOWN.sub(r"\\\1", text)
    text = _LINE_START.sub(r"\\\1", text)
    text = _ORDERED.sub(r"\1\\.", text)
    text = _EVERYONE.sub("@" + _ZWSP + r"\1", text)
    text = _ANGLE.sub("<" + _ZWSP, text)
    return _SCHEME.sub(r"\1" + _ZWSP + r"\2", text)


def link(url: str | None) -> str:
    """A source's own URL as a masked link whose text is the URL's host, or "" if unusable.

    Only http(s) URLs up to 512 characters; characters that would end the link are
    percent-encoded. The link text is the real host, so the link cannot pretend to be another
    site.
    """
    if not url or len(url) > 512:
        return ""
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return ""
    safe = quote(url.strip(), safe="/:?#@!$&'*+,;=%~-._")
    return f"[{escape_source(parts.hostname)}]({safe})"


# --- templates ------------------------------------------------------------------------------


def _environment(env: Environment | None) -> Environment:
    env = env or make_environment()
    env.filters["dsrc"] = escape_source
    env.filters["dlink"] = link
    return env


class _Macros:
    """The block macros of ``<kind>.discord.j2`` (else ``brief.discord.j2``)."""

    def __init__(self, env: Environment, kind: str) -> None:
        self.name = f"{kind}.discord.j2"
        try:
            try:
                template = env.get_template(self.name)
            except TemplateNotFound:
                self.name = "brief.discord.j2"
                template = env.get_template(self.name)
            self._module = template.module
        except TemplateError as exc:
            raise SettingsError(f"template {self.name}: {exc.message or exc}") from None

    def __call__(self, name: str, *args: Any) -> str:
        try:
            macro: Macro = getattr(self._module, name)
            return str(macro(*args)).strip()
        except (TemplateError, AttributeError) as exc:
            # Most likely a user's own template (settings [templates] dir): name it and the fault.
            message = getattr(exc, "message", None) or str(exc)
            raise SettingsError(f"template {self.name}, macro {name}: {message}") from None


def _cut(text: str, n: int) -> str:
    """``text`` shortened to at most ``n`` code points plus an ellipsis, at a word if near."""
    if len(text) <= n:
        return text
    head = text[:n]
    space = head.rfind(" ")
    if space >= n - 40 and space > 0:
        head = head[:space]
    return head.rstrip() + ELLIPSIS


def _fit(render: Callable[[int | None], str], raw_len: int, limit: int) -> str:
    """The longest rendering within ``limit``: ``render(n)`` shortens the source text to n.

    Rendered length grows with n (escaping only adds), so a binary search finds the largest n.
    If even an empty text does not fit (never with the shipped templates), the rendering itself
    is cut, which keeps the limit at the price of the tail.
    """
    full = render(None)
    if dlen(full) <= limit:
        return full
    lo, hi = 0, raw_len
    best = render(0)
    if dlen(best) > limit:
        return _hard_cut(best, limit)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        text = render(mid)
        if dlen(text) <= limit:
            lo, best = mid, text
        else:
            hi = mid - 1
    return best


def _clip(text: str, limit: int) -> str:
    return text if dlen(text) <= limit else _hard_cut(text, limit)


def _hard_cut(text: str, limit: int) -> str:
    """The first characters of ``text`` and an ellipsis, within ``limit`` (last resort)."""
    out = []
    used = 0
    for ch in text:
        if used + dlen(ch) > limit - 1:
            break
        out.append(ch)
        used += dlen(ch)
    return "".join(out) + ELLIPSIS


# --- blocks ---------------------------------------------------------------------------------


@dataclass
class _Group:
    heading: str  # embed title of the group's first embed
    blocks: list[str] = field(default_factory=list)
    cont: str = ""  # embed title when the group continues in a new embed


def _with_text(obj: dict[str, Any], key: str, n: int | None) -> dict[str, Any]:
    if n is None:
        return obj
    return {**obj, key: _cut(obj[key] or "", n)}


def _cites(citations: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    return citations[:MAX_CITATIONS], max(0, len(citations) - MAX_CITATIONS)


class _Blocks:
    """Renders the blocks of one brief, each within ``limit`` characters."""

    def __init__(self, macros: _Macros, brief: dict[str, Any], limit: int) -> None:
        self.m = macros
        self.brief = brief
        self.limit = limit
        self.sources = {s["ref"]: s for s in brief["sources"]}

    def fit(self, macro: str, obj: dict[str, Any], key: str, *args: Any) -> str:
        return _fit(
            lambda n: self.m(macro, _with_text(obj, key, n), *args),
            len(obj[key] or ""),
            self.limit,
        )

    def statement(self, item: dict[str, Any]) -> str:
        cites, more = _cites(item["citations"])
        return self.fit("statement", {**item, "citations": cites}, "text", more)

    def result(self, item: dict[str, Any], number: int) -> str:
        cites, more = _cites(item["citations"])
        source = self.sources.get(cites[0]["ref"]) if cites else None
        return self.fit("result", {**item, "citations": cites}, "text", more, number, source)

    def passage(self, item: dict[str, Any]) -> str:
        here = (
            bool(item["citations"])
            and item["citations"][0]["sentence"] == (self.brief["query"]["text"])
        )
        return self.fit("passage", item, "text", here)

    def timeline(self, entry: dict[str, Any]) -> str:
        cites, more = _cites(entry["citations"])
        return self.fit("timeline_entry", {**entry, "citations": cites}, "text", more)

    def story(self, story: dict[str, Any]) -> str:
        reports = [self.sources[r] for r in story["refs"] if r in self.sources]
        return self.fit("story", story, "title", reports)

    def source(self, source: dict[str, Any]) -> str:
        return self.fit("source", source, "title")

    def note(self, note: str) -> str:
        box = {"text": note}
        return self.fit("note", box, "text")

    def section(self, section: dict[str, Any]) -> list[str]:
        items = section["items"]
        if section["key"] == "results":
            return [self.result(item, i) for i, item in enumerate(items, 1)]
        if section["key"] == "passage":
            return [self.passage(item) for item in items]
        return [self.statement(item) for item in items]


def _groups(brief: Brief, macros: _Macros) -> list[_Group]:
    """Every block of the brief, grouped by embed heading, in reading order."""
    data = brief.to_dict()
    blocks = _Blocks(macros, data, LIMITS.description)
    title = _title(macros, data)
    intro = _Group(title, cont=_heading(macros, "intro", "", True))
    opening = _fit(lambda n: macros("intro", data), 0, LIMITS.description)
    intro.blocks.extend(b for b in [opening, *(blocks.note(n) for n in brief.notes)] if b)
    groups = [intro]

    def add(key: str, new: Iterable[str], label: str = "") -> None:
        found = [b for b in new if b]
        if found:
            first, cont = _heading(macros, key, label), _heading(macros, key, label, True)
            groups.append(_Group(first, found, cont))

    add("bluf", (blocks.statement(i) for i in data["bluf"]))
    for section in data["sections"]:
        add(section["key"], blocks.section(section), section["heading"])
    add("timeline", (blocks.timeline(e) for e in data["timeline"]))
    add("stories", (blocks.story(s) for s in data["stories"]))
    if data.get("new_names"):
        add("new_names", [_clip(macros("new_names", data["new_names"]), LIMITS.description)])
    add("sources", (blocks.source(s) for s in data["sources"]))
    return groups


def _title(macros: _Macros, data: dict[str, Any]) -> str:
    """The brief's title for the first embed (never empty: Discord shows a bare embed oddly)."""
    title = _fit(
        lambda n: macros("title", _with_text(data, "title", n)), len(data["title"]), LIMITS.title
    )
    return title or data["kind"]


def _heading(macros: _Macros, key: str, label: str = "", cont: bool = False) -> str:
    return _clip(macros("heading", key, label, cont), LIMITS.title)


def _footer(macros: _Macros, data: dict[str, Any], label: str, attached: bool) -> str:
    return _clip(macros("footer", data, label, attached), FOOTER_MAX)


# --- packing --------------------------------------------------------------------------------


def _embed_chars(embed: dict[str, Any]) -> int:
    n = dlen(embed.get("title", "")) + dlen(embed.get("description", ""))
    n += dlen(embed.get("footer", {}).get("text", ""))
    n += dlen(embed.get("author", {}).get("name", ""))
    for f in embed.get("fields", []):
        n += dlen(f.get("name", "")) + dlen(f.get("value", ""))
    return n


def _pack(groups: Sequence[_Group], footer_reserve: int) -> list[list[dict[str, Any]]]:
    """Blocks into embeds into messages, first fit in reading order (deterministic)."""
    messages: list[list[dict[str, Any]]] = []
    embeds: list[dict[str, Any]] = []
    used = 0  # characters of ``embeds``, footer reserve included once

    for group in groups:
        current: dict[str, Any] | None = None
        for i, block in enumerate(group.blocks):
            if current is not None:
                grow = 1 + dlen(block)
                fits_embed = dlen(current["description"]) + grow <= LIMITS.description
                if fits_embed and used + grow <= LIMITS.total:
                    current["description"] += "\n" + block
                    used += grow
                    continue
            title = group.heading if i == 0 else group.cont
            need = dlen(title) + dlen(block)
            if embeds and (len(embeds) >= LIMITS.embeds or used + need > LIMITS.total):
                messages.append(embeds)
                embeds, used = [], 0
            if not embeds:
                used = footer_reserve
            current = {"type": "rich", "title": title, "description": block, "color": COLOR}
            embeds.append(current)
            used += need
    if embeds:
        messages.append(embeds)
    return messages


def _finish(
    messages: list[list[dict[str, Any]]],
    footer: Callable[[int, int], str],
    attach_markdown: bool,
) -> list[DiscordMessage]:
    out = []
    for i, embeds in enumerate(messages, 1):
        embeds[-1]["footer"] = {"text": footer(i, len(messages))}
        out.append(DiscordMessage("", embeds, attach_markdown and i == len(messages)))
    return out


def _reserve(footer: Callable[[int, int], str]) -> int:
    return max(dlen(footer(99999, 99999)), dlen(footer(1, 1)))


def render_for_discord(
    brief: Brief,
    env: Environment | None = None,
    *,
    attach_markdown: bool = False,
    max_messages: int | None = None,
) -> list[DiscordMessage]:
    """The whole brief as one or more messages, bottom line first, sources last.

    ``env`` is a :func:`briefs.render.make_environment` environment (the user's template
    folder first); the Discord filters are added to it. ``attach_markdown`` says the caller
    attaches the full brief as a Markdown file to the last message (the footer says so).
    ``max_messages`` caps the number of messages: the rest is dropped, the last kept message
    says so in its content, and it asks for the Markdown attachment.
    """
    env = _environment(env)
    macros = _Macros(env, brief.kind)
    groups = _groups(brief, macros)
    data = brief.to_dict()

    def footer_for(attached: bool) -> Callable[[int, int], str]:
        def footer(part: int, parts: int) -> str:
            label = f"part {part}/{parts}" if parts > 1 else ""
            return _footer(macros, data, label, attached)

        return footer

    messages = _pack(groups, _reserve(footer_for(True)))
    dropped = 0
    if max_messages is not None and len(messages) > max(1, max_messages):
        dropped = len(messages) - max(1, max_messages)
        messages = messages[: max(1, max_messages)]
    attached = attach_markdown or dropped > 0
    out = _finish(messages, footer_for(attached), attached)
    if dropped:
        note = _clip(macros("truncated", dropped), LIMITS.content)
        out[-1] = DiscordMessage(note, out[-1].embeds, True)
    return out


def page_results(
    brief: Brief, page_size: int, env: Environment | None = None
) -> list[DiscordMessage]:
    """The brief's results as pages of one message (one embed) each, for paging buttons.

    The results are the search results, the stories, the timeline entries or the statements,
    whichever the kind has; notes open the first page. A page holds up to ``page_size``
    results, fewer when they would not fit one embed, so the page count is known only here:
    show "page i of len(pages)". There is always at least one page.
    """
    if page_size < 1:
        raise ValueError("page_size must be at least 1")
    env = _environment(env)
    macros = _Macros(env, brief.kind)
    data = brief.to_dict()
    blocks = _Blocks(macros, data, LIMITS.description)
    results: list[str]
    if data["stories"] and brief.kind == "stories":
        results = [blocks.story(s) for s in data["stories"]]
    elif data["timeline"] and brief.kind == "timeline":
        results = [blocks.timeline(e) for e in data["timeline"]]
    else:
        results = [blocks.statement(i) for i in data["bluf"]]
        for section in data["sections"]:
            results.extend(blocks.section(section))
    notes = [blocks.note(n) for n in brief.notes]
    if not results and not notes:
        notes = [macros("empty", data)]
    title = _title(macros, data)

    def footer(page: int, pages: int) -> str:
        return _footer(macros, data, f"page {page}/{pages}", False)

    reserve = _reserve(footer)
    pages: list[list[str]] = []
    page: list[str] = []
    count = 0
    budget = min(LIMITS.description, LIMITS.total - reserve - dlen(title))
    for block, is_result in [*((n, False) for n in notes), *((r, True) for r in results)]:
        size = sum(dlen(b) + 1 for b in page) + dlen(block)
        if page and (size > budget or (is_result and count >= page_size)):
            pages.append(page)
            page, count = [], 0
        page.append(block)
        count += is_result
    pages.append(page)
    messages = [
        [{"type": "rich", "title": title, "description": "\n".join(p), "color": COLOR}]
        for p in pages
    ]
    return _finish(messages, footer, False)


# --- checking -------------------------------------------------------------------------------


def limit_violations(message: DiscordMessage) -> list[str]:
    """Every Discord limit the message breaks, as readable lines (empty when it is valid).

    Used by the tests, and usable by the bot as a last guard before sending.
    """
    found: list[str] = []
    if dlen(message.content) > LIMITS.content:
        found.append(f"content {dlen(message.content)} > {LIMITS.content}")
    if len(message.embeds) > LIMITS.embeds:
        found.append(f"{len(message.embeds)} embeds > {LIMITS.embeds}")
    if not message.content and not message.embeds:
        found.append("empty message")
    total = 0
    for n, embed in enumerate(message.embeds):
        checks = [
            ("title", embed.get("title", ""), LIMITS.title),
            ("description", embed.get("description", ""), LIMITS.description),
            ("footer", embed.get("footer", {}).get("text", ""), LIMITS.footer),
            ("author", embed.get("author", {}).get("name", ""), LIMITS.author),
        ]
        fields = embed.get("fields", [])
        if len(fields) > LIMITS.fields:
            found.append(f"embed {n}: {len(fields)} fields > {LIMITS.fields}")
        for f in fields:
            checks.append(("field name", f.get("name", ""), LIMITS.field_name))
            checks.append(("field value", f.get("value", ""), LIMITS.field_value))
        for what, text, limit in checks:
            if dlen(text) > limit:
                found.append(f"embed {n}: {what} {dlen(text)} > {limit}")
        total += _embed_chars(embed)
    if total > LIMITS.total:
        found.append(f"embeds total {total} > {LIMITS.total}")
    return found
