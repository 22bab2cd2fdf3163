"""Render briefs: Jinja2 templates for text formats, the JSON contract for machines.

Templates are looked up first in the user's folder (settings [templates] dir), then in the
shipped templates/. StrictUndefined turns a misspelt variable into an error, not a blank.
The command line and the bot keep compiled templates in a user cache folder
(``template_cache``): compiling them costs more than the rest of rendering a brief.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import stat
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2 import (
    BytecodeCache,
    ChoiceLoader,
    Environment,
    FileSystemBytecodeCache,
    FileSystemLoader,
    StrictUndefined,
    TemplateError,
)
from jinja2 import __version__ as jinja_version
from jinja2.bccache import Bucket

from briefs.brief import Brief
from briefs.errors import InputError, SettingsError
from briefs.resources import templates_dir

FORMATS = ("md", "json", "html")
# Jinja2 keys a compiled template on its name and source only, not on the options that
# compiled it nor on Jinja2's own version: both are part of every cached file's name. Bump
# CACHE_VERSION whenever make_environment changes how templates compile (its options, the
# autoescape rule).
CACHE_VERSION = 1
_CACHE_TAG = hashlib.sha256(f"{CACHE_VERSION}:{jinja_version}".encode()).hexdigest()[:12]


# What ``dict`` itself has: for these names ``x.name`` is the attribute, not the key.
_DICT_ATTRIBUTES = frozenset(dir(dict))


class _Environment(Environment):
    """Templates read the brief as dicts (``item.text``): Jinja2 looks a name up as an
    attribute first and as a key only after that fails, and the failure (an exception) was a
    third of a long brief's rendering. A dict's key is taken at once when ``dict`` has no
    attribute of that name; what is found is the same either way."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                pass
        return super().getattr(obj, attribute)


class _TemplateCache(FileSystemBytecodeCache):
    """Jinja2's file cache, except that a cache it cannot read or write is no cache: a full
    disk or a folder made read-only later costs a compile, never an answer."""

    def load_bytecode(self, bucket: Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except OSError:
            bucket.reset()

    def dump_bytecode(self, bucket: Bucket) -> None:
        with contextlib.suppress(OSError):
            super().dump_bytecode(bucket)


def template_cache(cache_dir: Path) -> BytecodeCache | None:
    """Compiled templates in ``cache_dir``/templates, or None when that folder cannot be
    made, is not a folder of this user's, or others may write to it (what is loaded from
    it runs as code). Each entry is checked against its template's source before use, so an
    edited template (shipped or the user's) is compiled afresh."""
    folder = cache_dir / "templates"
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = folder.lstat()
    except OSError:
        return None
    if (
        not stat.S_ISDIR(info.st_mode)
        or (hasattr(os, "getuid") and info.st_uid != os.getuid())
        or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
        or not os.access(folder, os.W_OK | os.X_OK)
    ):
        return None
    return _TemplateCache(str(folder), f"{_CACHE_TAG}-%s.cache")


def make_environment(
    user_dir: Path | None = None, cache: BytecodeCache | None = None
) -> Environment:
    """Templates from the user's folder, then the shipped ones; compiled ones kept in
    ``cache`` when given (``template_cache``)."""
    loaders = []
    if user_dir is not None:
        loaders.append(FileSystemLoader(str(user_dir)))
    loaders.append(FileSystemLoader(str(templates_dir())))
    env = _Environment(
        loader=ChoiceLoader(loaders),
        undefined=StrictUndefined,
        autoescape=_autoescape,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        bytecode_cache=cache,
    )
    env.filters["day"] = _day
    env.filters["last_day"] = _last_day
    env.filters["http_url"] = http_url
    env.filters["md"] = escape_markdown
    env.filters["md_url"] = markdown_url
    return env


def _autoescape(name: str | None) -> bool:
    """HTML templates are autoescaped; Markdown and Discord ones escape in their own way."""
    return name is not None and name.endswith((".html.j2", ".html"))


def _day(value: datetime | str | None) -> str:
    if value is None:
        return "undated"
    if isinstance(value, datetime):
        return value.date().isoformat()
    return value[:10]


def http_url(value: str | None) -> str | None:
    """The URL if it is http(s), else None: a feed's ``javascript:`` link never becomes a link."""
    if not value or any(ch.isspace() for ch in value.strip()):
        return None
    parts = urlsplit(value.strip())
    if parts.scheme.lower() in ("http", "https") and parts.netloc:
        return value.strip()
    return None


# --- Markdown: source text made inert -------------------------------------------------------
# Source text (titles, statements, outlets, names) is shown verbatim, so a feed's
# ``<script>`` or ``[click](javascript:...)`` must read as text in every Markdown viewer
# (CommonMark and GitHub's flavour), and the only links are the sources' own http(s) URLs.

# Inline markup anywhere: backslash, code, emphasis, strikethrough; ``[``, which opens every
# link, image, reference definition, footnote and task box (a lone ``]`` forms nothing, so
# "[North Korea]" in a quote stays readable as "\[North Korea]"); ``<`` before a non-space
# (HTML tags, comments, autolinks); ``&`` of an entity reference.
_MD_INLINE = re.compile(r"([\\`*_~\[]|<(?=\S)|&(?=#?[A-Za-z0-9]+;))")
# Block markup read at the start of a line (the text may start a list item or a line).
_MD_LINE_START = re.compile(r"^([#>+=-])")
_MD_ORDERED = re.compile(r"^(\d+)([.)])")
# A trailing run of ``#`` would be read as the closing sequence of a heading and dropped.
_MD_CLOSING_HASHES = re.compile(r"(^|\s)(#+)$")
# GitHub's extended autolinks: ``scheme://``, ``www.`` and e-mail addresses. A backslash
# before the colon or the dot stops the first two; an e-mail only a zero-width space stops.
_MD_SCHEME = re.compile(r":(?=//)")
_MD_WWW = re.compile(r"(?<![A-Za-z0-9.-])(www)\.", re.IGNORECASE)
_MD_EMAIL = re.compile(r"(?<=[A-Za-z0-9._+-])@(?=\S)")
_ZWSP = "\u200b"
# Anything one of the patterns above could act on; text without any (most titles, outlets
# and statements) is returned as it is, after the white space, without the seven passes.
_MD_ANY = re.compile(r"[\\`*_~\[<&@#]|^[>+=-]|^\d+[.)]|:(?=//)|www\.", re.IGNORECASE)


def escape_markdown(text: str | None) -> str:
    """Source text as inert Markdown that still shows exactly that text.

    White space collapses to single spaces (a line break could start a block); every
    character that would form markup is backslash-escaped, which a Markdown viewer hides and
    a human reading the raw text skips easily: ``<script>`` is ``\\<script>``,
    ``[click](javascript:...)`` is ``\\[click](javascript:...)``; ``https://`` gets a
    backslash before its colon so it is not auto-linked; an e-mail address gets an invisible
    zero-width space after its ``@`` (GitHub links addresses whatever the escapes).
    """
    if not text:
        return ""
    text = " ".join(text.split())
    if _MD_ANY.search(text) is None:
        return text
    text = _MD_INLINE.sub(r"\\\1", text)
    text = _MD_LINE_START.sub(r"\\\1", text)
    text = _MD_ORDERED.sub(r"\1\\\2", text)
    text = _MD_CLOSING_HASHES.sub(r"\1\\\2", text)
    text = _MD_SCHEME.sub(r"\\:", text)
    text = _MD_WWW.sub(r"\1\\.", text)
    return _MD_EMAIL.sub("@" + _ZWSP, text)


def markdown_url(value: str | None) -> str | None:
    """A source's http(s) URL for a Markdown autolink ``<url>``, else None (no link at all).

    Inside ``<...>`` nothing is Markdown, so only ``<``, ``>`` and controls, which would end or
    break the autolink, are percent-encoded.
    """
    url = http_url(value)
    if url is None:
        return None
    return "".join(f"%{ord(ch):02X}" if ch in "<>\x7f" or ord(ch) < 0x20 else ch for ch in url)


def _last_day(value: str | None) -> str:
    """The last day an exclusive window end includes (an end at midnight is the day before)."""
    if value is None:
        return "undated"
    end = datetime.fromisoformat(value)
    if (end.hour, end.minute, end.second) == (0, 0, 0):
        end -= timedelta(days=1)
    return end.date().isoformat()


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r}; choose one of: {', '.join(FORMATS)}")
    return fmt


def render(brief: Brief, fmt: str, env: Environment, **extra: Any) -> str:
    """The brief as text in ``fmt``: md, json, or html (one self-contained page), with the
    templates of ``env`` (``make_environment``; its owner keeps it, as it compiles each
    template once)."""
    check_format(fmt)
    if fmt == "json":
        return json.dumps(brief.to_dict(), indent=2, ensure_ascii=False) + "\n"
    names = [f"{brief.kind}.{fmt}.j2", f"brief.{fmt}.j2"]  # the kind's own, else the brief's
    return render_template(env, names, brief=brief.to_dict(), notes=brief.notes, **extra)


def render_template(env: Environment, names: str | Sequence[str], **context: Any) -> str:
    """Render a template (the first of ``names`` that exists); a fault in it (most likely a
    user's own, from the settings' ``[templates] dir``) is a SettingsError naming the
    template, not an internal error."""
    try:
        wanted = [names] if isinstance(names, str) else names
        return env.select_template(wanted).render(**context)
    except TemplateError as exc:
        first = names if isinstance(names, str) else names[0]
        where = getattr(exc, "filename", None) or getattr(exc, "name", None) or first
        raise SettingsError(f"template {where}: {exc.message or exc}") from None
