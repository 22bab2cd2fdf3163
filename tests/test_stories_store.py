"""Stories through the store: teasers join, ids stay, a bridging report merges (the older
id survives), untitled items are no one's duplicates. The items are written for these tests."""

from __future__ import annotations

from datetime import datetime
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

from sqlalchemy import text

from briefs.analysis.pipeline import analyze_pending
from briefs.ingest.files import ingest_files
from briefs.lexicon import load_lexicon
from briefs.store import SqlStore
from tests.conftest import NOW

LEX = load_lexicon()

FLOODS = [
    (
        "a",
        "2024-03-05T08:00:00+00:00",
        "Dams burst above Derna as Storm Daniel floods eastern Libya",
        "Two dams above Derna gave way after Storm Daniel, sweeping houses into the sea.",
    ),
    (
        "b",
        "2024-03-05T11:00:00+00:00",
        "Derna counts its dead after the dams burst in Libya floods",
        "Rescuers in Derna said thousands died when the two dams burst in the storm.",
    ),
    (
        "c",
        "2024-03-05T15:00:00+00:00",
        "Libya floods: Derna dams burst, thousands missing",
        "Storm Daniel broke two dams above Derna; thousands are missing in eastern Libya.",
    ),
]
RATES = (
    "r",
    "2024-03-05T12:00:00+00:00",
    "Central bank raises its interest rate by a quarter point",
    "The central bank lifted its benchmark rate to fight inflation.",
)


def feed(path: Path, items: list[tuple[str, str, str, str]]) -> Path:
    body = "".join(
        "<item>"
        f"<title>{escape(title)}</title>"
        f"<link>https://news.example/{key}</link><guid>https://news.example/{key}</guid>"
        f"<pubDate>{format_datetime(datetime.fromisoformat(when))}</pubDate>"
        f"<description>{escape(teaser)}</description>"
        "</item>"
        for key, when, title, teaser in items
    )
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        "<title>Example News</title><link>https://news.example/</link>"
        f"<description>Example</description>{body}</channel></rss>\n",
        encoding="utf-8",
    )
    return path


def ingest(store: SqlStore, path: Path) -> None:
    results = list(ingest_files(store, [path], "file", lambda: NOW))
    assert all(r.ok for r in results), [r.error for r in results]


def stories(store: SqlStore) -> dict[str, tuple[str, str | None]]:
    """(story, duplicate of) by the item's key (the end of its link)."""
    with store.engine.connect() as conn:
        rows = conn.execute(text("SELECT url, story_id, duplicate_of FROM documents")).all()
    return {str(r.url).rsplit("/", 1)[1]: (str(r.story_id), r.duplicate_of) for r in rows}


def test_teasers_of_one_event_share_a_story_and_others_stand_apart(
    store: SqlStore, tmp_path: Path
) -> None:
    untitled = [
        ("u1", "2024-03-05T09:00:00+00:00", "Parliament passes the budget", ""),
        ("u2", "2024-03-05T09:05:00+00:00", "Snow closes the airport", ""),
        ("t", "2024-03-05T16:00:00+00:00", "Derna dams burst in Libya floods", ""),
    ]
    ingest(store, feed(tmp_path / "f.xml", [*FLOODS, RATES, *untitled]))
    analyze_pending(store, LEX)
    got = stories(store)
    assert got["a"][0] == got["b"][0] == got["c"][0]
    assert got["r"][0] != got["a"][0]
    # A title-only item joins by its title, or stands alone; never anyone's "empty" copy.
    assert got["t"][0] == got["a"][0]
    assert got["u1"][0] != got["u2"][0]
    assert all(dup is None for key, (_, dup) in got.items() if key in {"u1", "u2", "t"})


def test_story_ids_stay_when_documents_join_and_when_reanalysed(
    store: SqlStore, tmp_path: Path
) -> None:
    ingest(store, feed(tmp_path / "one.xml", FLOODS[:2]))
    analyze_pending(store, LEX)
    first = stories(store)
    ingest(store, feed(tmp_path / "two.xml", [FLOODS[2], RATES]))
    analyze_pending(store, LEX)
    second = stories(store)
    assert second["a"] == first["a"] and second["b"] == first["b"]
    assert second["c"][0] == first["a"][0]
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE documents SET analysis_version = 'older'"))
    assert analyze_pending(store, LEX) == 4
    assert stories(store) == second


def test_a_bridging_report_merges_two_stories_and_the_older_id_survives(
    store: SqlStore, tmp_path: Path
) -> None:
    ingest(store, feed(tmp_path / "one.xml", FLOODS[:2]))
    analyze_pending(store, LEX)
    older = stories(store)["a"][0]
    # As if the second report had started a story of its own (a younger one).
    with store.engine.begin() as conn:
        conn.execute(
            text("UPDATE documents SET story_id = 's-younger' WHERE url LIKE '%/b'"),
        )
    ingest(store, feed(tmp_path / "two.xml", [FLOODS[2]]))
    analyze_pending(store, LEX)
    got = stories(store)
    assert got["a"][0] == got["b"][0] == got["c"][0] == older


def test_a_feeds_series_titles_do_not_make_one_story(store: SqlStore, tmp_path: Path) -> None:
    # One publisher's column: the same title frame on unrelated items, each with its own news.
    columns = [
        (
            f"m{i}",
            f"2024-03-05T0{i}:30:00+00:00",
            f"{sector} Roundup: Market Talk",
            f"{names} and more in the latest notes on {sector}.",
        )
        for i, (sector, names) in enumerate(
            [
                ("Health Care", "Orvane Pharma, Kestrel Labs"),
                ("Energy", "Brightwell Gas, Tundra Power"),
                ("Basic Materials", "Ferrovia Mining, Calder Steel"),
                ("Financial Services", "Harbourline Bank, Quill Insurance"),
            ],
            start=1,
        )
    ]
    ingest(store, feed(tmp_path / "f.xml", [*columns, *FLOODS]))
    analyze_pending(store, LEX)
    titles = store.analysis.titles(100)
    assert ("Energy Roundup: Market Talk", "Example News") in titles
    got = stories(store)
    assert len({got[key][0] for key, *_ in columns}) == len(columns)
    assert got["a"][0] == got["b"][0] == got["c"][0]  # the column's own repeats nothing else
