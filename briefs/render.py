"""Render briefs: Jinja2 templates for text formats, the JSON contract for machines.

Templates are looked up first in the user's folder (settings [templates] dir), then in the
shipped templates/. StrictUndefined turns a misspelt variable into an error, not a blank.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, TemplateNotFound

from briefs.brief import Brief
from briefs.errors import InputError
from briefs.resources import templates_dir

FORMATS = ("md", "json")


def make_environment(user_dir: Path | None = None) -> Environment:
    loaders = []
    if user_dir is not None:
        loaders.append(FileSystemLoader(str(user_dir)))
    loaders.append(FileSystemLoader(str(templates_dir())))
    env = Environment(
        loader=ChoiceLoader(loaders),
        undefined=StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["day"] = _day
    return env


def _day(value: datetime | str | None) -> str:
    if value is None:
        return "undated"
    if isinstance(value, datetime):
        return value.date().isoformat()
    return value[:10]


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r}; choose one of: {', '.join(FORMATS)}")
    return fmt


def render(brief: Brief, fmt: str = "md", env: Environment | None = None, **extra: Any) -> str:
    """The brief as text in ``fmt`` (md or json)."""
    check_format(fmt)
    if fmt == "json":
        return json.dumps(brief.to_dict(), indent=2, ensure_ascii=False) + "\n"
    env = env or make_environment()
    name = f"{brief.kind}.{fmt}.j2"
    try:
        template = env.get_template(name)
    except TemplateNotFound:
        template = env.get_template(f"brief.{fmt}.j2")
    return template.render(brief=brief.to_dict(), notes=brief.notes, **extra)
