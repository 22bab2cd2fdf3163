"""Render briefs: Jinja2 templates for text formats, the JSON contract for machines.

Templates are looked up first in the user's folder (settings [templates] dir), then in the
shipped templates/. StrictUndefined turns a misspelt variable into an error, not a blank.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateError,
)

from briefs.brief import Brief
from briefs.errors import InputError, SettingsError
from briefs.resources import templates_dir

FORMATS = ("md", "json", "html")


def make_environment(user_dir: Path | None = None) -> Environment:
    loaders = []
    if user_dir is not None:
        loaders.append(FileSystemLoader(str(user_dir)))
    loaders.append(FileSystemLoader(str(templates_dir())))
    env = Environment(
        loader=ChoiceLoader(loaders),
        undefined=StrictUndefined,
        autoescape=_autoescape,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["day"] = _day
    env.filters["last_day"] = _last_day
    env.filters["http_url"] = http_url
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


def render(brief: Brief, fmt: str = "md", env: Environment | None = None, **extra: Any) -> str:
    """The brief as text in ``fmt``: md, json, or html (one self-contained page)."""
    check_format(fmt)
    if fmt == "json":
        return json.dumps(brief.to_dict(), indent=2, ensure_ascii=False) + "\n"
    env = env or make_environment()
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
