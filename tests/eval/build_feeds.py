"""Write the multi-outlet set's feed files (tests/eval/multi_outlet/feeds/) from corpus.toml.

The set is delivered as the product receives news: RSS 2.0 and Atom files, one per feed, that
``briefbot ingest`` reads. Writing them from one labelled source keeps text and labels in
step; tests/test_eval_sets.py fails when the committed files differ from what this writes.

``python -m tests.eval.build_feeds`` rewrites them.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

MULTI_DIR = Path(__file__).with_name("multi_outlet")
CORPUS_PATH = MULTI_DIR / "corpus.toml"
FEEDS_DIR = MULTI_DIR / "feeds"


@dataclass(frozen=True)
class Item:
    """One feed item as the corpus describes it (labels live in tests.eval.sets)."""

    id: str
    feed: str
    published: datetime
    link: str
    title: str
    summary: str
    text: str
    source: tuple[str, str] | None = None  # (name, url) of an aggregator's <source>


def load_corpus(path: Path = CORPUS_PATH) -> dict[str, Any]:
    with path.open("rb") as fh:
        return tomllib.load(fh)


def items_of(raw: dict[str, Any]) -> list[Item]:
    out = []
    for doc in raw["doc"]:
        source = doc.get("source")
        out.append(
            Item(
                id=doc["id"],
                feed=doc["feed"],
                published=datetime.fromisoformat(doc["published"].replace("Z", "+00:00")),
                link=doc["link"],
                title=doc["title"],
                summary=doc["summary"],
                text=doc["text"].strip(),
                source=(source["name"], source["url"]) if source else None,
            )
        )
    return out


def _html(text: str) -> str:
    """Paragraphs (blank-line separated) as <p> elements, the way feeds carry article text."""
    paragraphs = [" ".join(p.split()) for p in text.split("\n\n") if p.strip()]
    return "".join(f"<p>{escape(p)}</p>" for p in paragraphs)


def _rss_date(when: datetime, index: int) -> str:
    # Both spellings real feeds use: "GMT" and a numeric zone.
    return format_datetime(when.astimezone(UTC), usegmt=index % 2 == 0)


def rss(feed: dict[str, Any], items: list[Item]) -> str:
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">',
        "<channel>",
        f"<title>{escape(feed['title'])}</title>",
        f"<link>{escape(feed['site'])}</link>",
        f"<description>{escape(feed['title'])}</description>",
        "<language>en</language>",
    ]
    for n, item in enumerate(items):
        lines.append("<item>")
        lines.append(f"<title>{escape(item.title)}</title>")
        lines.append(f"<link>{escape(item.link)}</link>")
        lines.append(f'<guid isPermaLink="true">{escape(item.link)}</guid>')
        lines.append(f"<pubDate>{_rss_date(item.published, n)}</pubDate>")
        lines.append(f"<description>{escape(item.summary)}</description>")
        if item.text:
            lines.append(f"<content:encoded><![CDATA[{_html(item.text)}]]></content:encoded>")
        if item.source:
            name, url = item.source
            lines.append(f"<source url={quoteattr(url)}>{escape(name)}</source>")
        lines.append("</item>")
    lines += ["</channel>", "</rss>", ""]
    return "\n".join(lines)


def atom(feed: dict[str, Any], items: list[Item]) -> str:
    newest = max(i.published for i in items).astimezone(UTC).isoformat()
    lines = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<feed xmlns="http://www.w3.org/2005/Atom">',
        f"<title>{escape(feed['title'])}</title>",
        f"<link href={quoteattr(feed['site'])}/>",
        f"<id>{escape(feed['site'])}/</id>",
        f"<updated>{newest}</updated>",
    ]
    for item in items:
        stamp = item.published.astimezone(UTC).isoformat()
        lines.append("<entry>")
        lines.append(f"<title>{escape(item.title)}</title>")
        lines.append(f'<link rel="alternate" href={quoteattr(item.link)}/>')
        lines.append(f"<id>{escape(item.link)}</id>")
        lines.append(f"<published>{stamp}</published>")
        lines.append(f"<updated>{stamp}</updated>")
        lines.append(f"<summary>{escape(item.summary)}</summary>")
        if item.text:
            lines.append(f'<content type="html">{escape(_html(item.text))}</content>')
        if item.source:
            name, url = item.source
            lines.append(
                f"<source><title>{escape(name)}</title><link href={quoteattr(url)}/></source>"
            )
        lines.append("</entry>")
    lines += ["</feed>", ""]
    return "\n".join(lines)


def render(raw: dict[str, Any]) -> dict[str, str]:
    """File name -> content of every feed file, items newest first as feeds list them."""
    items = items_of(raw)
    out: dict[str, str] = {}
    for feed in raw["feed"]:
        mine = sorted(
            (i for i in items if i.feed == feed["id"]), key=lambda i: i.published, reverse=True
        )
        if not mine:
            continue
        out[feed["file"]] = atom(feed, mine) if feed["kind"] == "atom" else rss(feed, mine)
    return out


def main() -> None:
    FEEDS_DIR.mkdir(exist_ok=True)
    files = render(load_corpus())
    for old in FEEDS_DIR.iterdir():
        if old.name not in files:
            old.unlink()
    for name, content in files.items():
        (FEEDS_DIR / name).write_text(content, encoding="utf-8")
    print(f"wrote {len(files)} feed files to {FEEDS_DIR}")


if __name__ == "__main__":
    main()
