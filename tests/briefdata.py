"""Briefs rebuilt from their JSON contract, for renderer tests that start from CLI output."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from briefs.brief import (
    Brief,
    Citation,
    EntityRef,
    Item,
    MonthCount,
    NewName,
    Profile,
    Query,
    Quote,
    Section,
    SourceRef,
    StoryLine,
    StoryRef,
    TimelineEntry,
    Window,
)


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _cites(raw: list[dict[str, Any]]) -> list[Citation]:
    return [Citation(**c) for c in raw]


def _item(raw: dict[str, Any]) -> Item:
    story = StoryLine(**raw["story"]) if "story" in raw else None
    return Item(raw["text"], _cites(raw["citations"]), raw.get("date"), raw.get("stance"), story)


def brief_from_dict(data: dict[str, Any], notes: list[str] | None = None) -> Brief:
    """The inverse of ``Brief.to_dict()`` (notes are not in the JSON: pass them)."""
    profile = data.get("profile")
    generated = _dt(data["generated_at"])
    assert generated is not None
    return Brief(
        kind=data["kind"],
        title=data["title"],
        generated_at=generated,
        window=Window(_dt(data["window"]["start"]), _dt(data["window"]["end"])),
        query=Query(**data["query"]),
        bluf=[_item(i) for i in data["bluf"]],
        sections=[
            Section(s["key"], s["heading"], [_item(i) for i in s["items"]])
            for s in data["sections"]
        ],
        timeline=[
            TimelineEntry(t["date"], t["precision"], t["text"], _cites(t["citations"]))
            for t in data["timeline"]
        ],
        quotes=[Quote(q["speaker"], q["text"], _cites(q["citations"])) for q in data["quotes"]],
        stories=[StoryRef(**s) for s in data["stories"]],
        entities=[EntityRef(**e) for e in data["entities"]],
        sources=[SourceRef(**s) for s in data["sources"]],
        profile=Profile(
            **{
                **profile,
                "mentions_by_month": [MonthCount(**m) for m in profile["mentions_by_month"]],
            }
        )
        if profile
        else None,
        new_names=[NewName(**n) for n in data.get("new_names", [])],
        notes=list(notes or []),
    )
