"""Debris tests per seed: named page furniture must be gone, named sentences must stay."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from briefs.ingest.articles import infer_publication_date, read_article
from briefs.ingest.cleaning import clean_page, load_rules
from briefs.segment import split_sentences
from tests.conftest import SEEDS

CASES = {
    "000_38c0eca9db33b099.txt": {
        "gone": [
            "Back To Top",
            "MOST POPULAR",
            "LATEST NEWS",
            "subscribe",
            "visit an aircraft manufacturing plant. (TASS-Yonhap)",
            "(Yonhap)",
        ],
        "kept": [
            "The United States is closely monitoring possible arms trade between North Korea and "
            "Russia, a senior US official said Thursday, after last week's summit between their "
            "leaders raised concerns about military cooperation.",
            "Although it is not a member of the alliance, South Korea was invited to the summit "
            "along with Australia, Japan and others.",
            "DPRK stands for the Democratic People's Republic of Korea, the North's official name.",
        ],
        "sentences": 24,
    },
    "001_4cc6572603486089.txt": {
        "gone": [
            "The Korea Herald",
            "By Yonhap",
            "Published : Sept. 14, 2023",
            "Link copied",
            "in this captured image. (Yonhap)",
        ],
        "kept": [
            "The United States is concerned about growing defense cooperation between North Korea "
            "and Russia, a National Security Council official said Wednesday, adding the US will "
            "take appropriate steps if necessary to counter any potential arms deal between the "
            "two countries.",
            'The spokesperson also reiterated that the US will watch "very closely" the '
            "development from the summit and will not hesitate to impose sanctions \"if it's "
            'appropriate."',
        ],
        "sentences": 25,
    },
    "002_894ebee4b520c802.txt": {
        "gone": [
            "The Korea Herald",
            "By Yonhap",
            "Published : Aug. 31, 2023",
            "Link copied",
            "on July 26. (KCNA)",
            'ironclad." (Yonhap)',
        ],
        "kept": [
            "North Korea has strongly and repeatedly dismissed the accusation.",
            '"We remain committed to a diplomatic approach to the DPRK and call on DPRK to engage '
            'in dialogue," she told the press briefing, adding, "Our commitment to the defense of '
            'the Republic of Korea Japan remains ironclad."',
        ],
        "sentences": 27,
    },
    "003_831499b3296b145f.txt": {
        "gone": [
            "Advertisement",
            "Estonia Moves to Ban",
            "Other Topics of Interest",
            "The move aims to safeguard against potential interference from Moscow and Minsk.",
            "To suggest a correction or clarification",
            "Ctrl + Enter",
        ],
        "kept": [
            "The White House on Wednesday, Aug. 30, said it was “concerned” that Russia is in "
            "secret and active talks with North Korea to acquire a range of munitions and supplies "
            "for Moscow’s fight in Ukraine.",
            "What’s being done about it?",
            "There’s been no reaction to Kirby’s comments so far but after Shoigu’s visit to North "
            "Korea last month, Russia’s defense ministry said: “This visit will contribute to "
            "strengthening Russian-North Korean military ties and will be an important step in the "
            "development of cooperation between the two countries.”",
        ],
        "sentences": 25,
    },
    "004_57f114cd95563023.txt": {
        "gone": [
            "No menu items!",
            "Share This Post",
            "- Advertisement -",
            "Provided by the President’s Office",
            "Source: Donga",
            "Related Posts",
        ],
        "kept": [
            "Foreign media reports that North Korea began supplying weapons to Russia after the "
            "North Korea-Russia summit held last month are attracting attention.",
            "In particular, since Russia holds the status of a permanent member of the Security "
            "Council along with the United States, the United Kingdom, France, and China, there "
            "are many predictions that if a joint response at the Security Council level due to "
            "arms trade with North Korea is pursued, it will try to block it by exercising its "
            "‘veto’.",
        ],
        "sentences": 23,
    },
}


def test_every_seed_has_a_case() -> None:
    assert sorted(p.name for p in SEEDS.glob("*.txt")) == sorted(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_debris_gone_and_sentences_kept(name: str) -> None:
    article = read_article(SEEDS / name)
    case = CASES[name]
    for debris in case["gone"]:
        assert debris not in article.body, f"{name}: debris {debris!r} left in the body"
    sentences = [s for s, _ in split_sentences(article.body)]
    for kept in case["kept"]:
        assert kept in sentences, f"{name}: sentence lost or broken: {kept[:60]!r}"
    assert len(sentences) == case["sentences"]
    # No glued stray characters (the Korean teaser after "subscribe") or doubled captions.
    assert all(ch.isascii() or ch in "“”‘’–…—" for ch in article.body), name


def test_seed_metadata_and_provenance() -> None:
    got = {p.name: read_article(p) for p in sorted(SEEDS.glob("*.txt"))}
    a = got["001_4cc6572603486089.txt"]
    assert a.title.startswith("US concerned about burgeoning defense cooperation")
    assert (a.publisher, a.byline) == ("The Korea Herald", "Yonhap")
    # Printed "Sept. 14, 2023 - 09:17" in Korea time (the manifest gives the zone).
    assert a.published_at == datetime(2023, 9, 14, 0, 17, tzinfo=UTC)
    assert a.provenance == {
        "title": "text",
        "publisher": "text",
        "byline": "text",
        "published": "text",
    }
    b = got["000_38c0eca9db33b099.txt"]
    assert b.publisher == "Yonhap" and b.provenance["publisher"] == "text"  # from "(Yonhap)"
    assert b.published_at == datetime(2023, 9, 21, tzinfo=UTC)
    assert b.provenance["published"] == "manifest"
    c = got["003_831499b3296b145f.txt"]
    assert c.provenance["title"] == "inferred" and c.title.startswith("The White House on")
    assert c.publisher == "The Moscow Times" and c.provenance["publisher"] == "manifest"
    assert c.published_at == datetime(2023, 8, 30, tzinfo=UTC)
    assert c.provenance["published"] == "manifest"
    d = got["004_57f114cd95563023.txt"]
    assert d.publisher == "Donga" and d.provenance["publisher"] == "text"
    assert d.title.startswith("Has North Korea started supplying weapons to Russia?")


def test_publication_date_inference() -> None:
    today = date(2026, 11, 22)
    assert infer_publication_date(
        "It said on Wednesday, Aug. 30, that talks advance.", today
    ) == date(2023, 8, 30)
    assert infer_publication_date("Signed on March 3, 2021, the deal ...", today) == date(
        2021, 3, 3
    )
    assert infer_publication_date("No dates at all here.", today) is None


def test_rules_are_data(tmp_path: Path) -> None:
    """A new debris line is removed by adding it to a rules file, not by code."""
    rules_file = tmp_path / "cleaning.toml"
    rules_file.write_text('drop_lines = ["Sponsored content"]\n', encoding="utf-8")
    page = "Title line\n\nA real sentence here.\n\nSponsored content\n\nAnother sentence."
    cleaned = clean_page(page, load_rules(rules_file))
    assert "Sponsored content" not in cleaned.body
    assert "Another sentence." in cleaned.body
    default = clean_page(page, load_rules())
    assert "Sponsored content" in default.body
