"""Analysis: speakers, stance, stories, topics and names, on seeds and on small texts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text

from briefs.analysis.facts import analyze_sentences, candidate_names
from briefs.analysis.pipeline import analyze_pending
from briefs.analysis.quotes import attribute
from briefs.lexicon import Lexicon, load_lexicon
from briefs.store import SqlStore
from tests.conftest import SEEDS, Run

LEX = load_lexicon()


def speakers(sentences: list[str]) -> dict[int, tuple[str, str]]:
    return {
        a.position: (a.speaker.name, a.speaker.kind)
        for a in attribute(sentences, list(range(len(sentences))), LEX)
    }


def test_pronoun_resolves_to_the_last_named_speaker() -> None:
    got = speakers(
        [
            "John Kirby said the talks were advancing.",
            '"We are watching," he said.',
            "Shoigu visited Pyongyang in July.",
            '"It is a concern," he added.',
        ]
    )
    assert got[1] == ("John Kirby", "person")
    assert got[3] == ("John Kirby", "person"), "Shoigu is mentioned, not a speaker"


def test_anonymous_sources_stay_anonymous() -> None:
    got = speakers(
        [
            "The United States is watching closely, a senior US official said Thursday.",
            '"Russia is shopping around," the official said on condition of anonymity.',
        ]
    )
    assert got[0] == ("a senior US official", "anonymous")
    assert got[1] == ("a senior US official", "anonymous")


def test_titles_resolve_to_the_person_the_article_names() -> None:
    got = speakers(
        [
            "Talks are advancing, a National Security Council official said Wednesday.",
            "John Kirby, NSC coordinator for strategic communications, said more talks may follow.",
            "The NSC official noted that sanctions target raw materials.",
        ]
    )
    assert got[0][0] == got[1][0] == got[2][0] == "John Kirby"


def test_unattributed_quote_paragraph_continues_the_speaker() -> None:
    sentences = [
        "Cheong Seong-chang, director at the Sejong Institute, told AFP.",
        "“Russia is expected to ask for more artillery support.”",
    ]
    assert speakers(sentences)[1] == ("Cheong Seong-chang", "person")


def test_group_statement_and_they() -> None:
    got = speakers(
        [
            "At the United Nations, the United States, United Kingdom, South Korea and Japan "
            "said in a joint statement that any such deal would violate resolutions.",
            "“Russia is negotiating potential deals,” they said.",
        ]
    )
    assert got[0][1] == "group" and "Japan" in got[0][0]
    assert got[1] == got[0]


def test_appositive_does_not_steal_the_speaker() -> None:
    got = speakers(
        [
            "In comments earlier this year, Kim Yo-jong, sister of North Korean leader "
            "Kim Jong-un, said the US was “crossing a red line”."
        ]
    )
    assert got[0] == ("Kim Yo-jong", "person")


def test_denials_are_kept_apart_with_their_holder() -> None:
    facts = analyze_sentences(
        [
            "North Korea is said to have provided millions of artillery shells to Russia.",
            "North Korea has strongly and repeatedly dismissed the accusation.",
            "The Russian side has so far claimed that an arms trade is “groundless speculation.”",
        ],
        [0, 0, 1],
        date(2023, 8, 31),
        LEX,
    )
    assert facts[0].stance == "claim"
    assert (facts[1].stance, facts[1].stance_holder) == ("denial", "North Korea")
    assert (facts[2].stance, facts[2].stance_holder) == ("denial", "Russia")


def test_sentence_facts_carry_topics_mentions_and_dates() -> None:
    (fact,) = analyze_sentences(
        ["Kim Jong-un met Vladimir Putin on Sept. 13 to discuss satellites and sanctions."],
        [0],
        date(2023, 9, 21),
        LEX,
    )
    assert {"space", "sanctions", "diplomacy"} <= set(fact.topics)
    assert fact.mentions == {"kim-jong-un": 1, "vladimir-putin": 1}
    assert fact.dates[0].value == date(2023, 9, 13)


def test_candidate_names_skip_known_entities() -> None:
    names = candidate_names(
        [
            "Kim Jong Un met Ri Pyong-chol and Pak Jong-chon.",
            "Pak Jong-chon spoke later; Choe Son Hui and Sergey Shoygu listened.",
            "The Treasury Department, the European Union and the Development Office agreed.",
        ],
        LEX,
    )
    assert names == {"Pak Jong-chon": 2, "Ri Pyong-chol": 1}


def test_seed_stories_group_the_same_briefing(seeded: SqlStore) -> None:
    analyze_pending(seeded, LEX)
    with seeded.engine.connect() as conn:
        rows = dict(conn.execute(text("SELECT source_key, story_id FROM documents")).all())
    story = {key.split(":")[1][:3]: sid for key, sid in rows.items()}
    assert story["002"] == story["003"]
    assert len({story["000"], story["001"], story["002"], story["004"]}) == 4


def test_a_rewrite_joins_the_story_as_near_duplicate(seeded: SqlStore, tmp_path: Path) -> None:
    analyze_pending(seeded, LEX)
    original = (SEEDS / "001_4cc6572603486089.txt").read_text(encoding="utf-8")
    rewrite = original.replace("The Korea Herald", "The Rewrite Times").replace(
        "concerned about growing", "worried about growing"
    )
    (tmp_path / "rewrite.txt").write_text(rewrite, encoding="utf-8")
    from briefs.ingest.files import ingest_files
    from tests.conftest import NOW

    (result,) = ingest_files(seeded, [tmp_path / "rewrite.txt"], "file", lambda: NOW)
    assert result.outcome is not None and result.outcome.status == "added"
    assert analyze_pending(seeded, LEX) == 1
    with seeded.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT id, story_id, duplicate_of FROM documents WHERE origin = 'file'")
        ).one()
        seed_story = conn.execute(
            text("SELECT story_id FROM documents WHERE source_key LIKE 'seed:001%'")
        ).scalar_one()
    assert rows.story_id == seed_story and rows.duplicate_of is not None


def test_analysis_is_redone_only_when_stale(seeded: SqlStore) -> None:
    assert analyze_pending(seeded, LEX) == 5
    assert analyze_pending(seeded, LEX) == 0


SPORT = """Late goal sends United into the cup final

The striker scored in the 89th minute on Saturday to send United into the final.

The coach praised the defence and said the team would rest before the final next month.

Fans celebrated in the streets until late at night, and ticket sales opened on Monday.
"""

MARKETS = """Stocks rise as tech rally continues

Shares of chip makers rose 3 percent on Tuesday, lifting the index to a record close.

Analysts said strong earnings and lower bond yields supported the rally.
"""


@pytest.mark.parametrize("topic", ["sanctions", "arms", "munitions", "missiles", "diplomacy"])
def test_unrelated_articles_never_appear_in_topical_briefs(
    cli: Callable[..., Run], tmp_path: Path, topic: str
) -> None:
    (tmp_path / "sport.txt").write_text(SPORT, encoding="utf-8")
    (tmp_path / "markets.txt").write_text(MARKETS, encoding="utf-8")
    assert cli("stats").code == 0
    assert cli("ingest", str(tmp_path)).code == 0
    brief = cli("brief", "--topic", topic, "--format", "json", "--max-items", "20").json()
    titles = {s["title"] for s in brief["sources"]}
    assert "Late goal sends United into the cup final" not in titles
    assert "Stocks rise as tech rally continues" not in titles
    whole = cli("brief", "--format", "json").json()
    assert brief["sources"] and whole["sources"]


def test_timeline_entity_and_stories_commands(cli: Callable[..., Run]) -> None:
    timeline = cli("timeline", "--format", "json").json()
    dates = [t["date"] for t in timeline["timeline"]]
    assert dates == sorted(dates) and len(dates) >= 10
    entity = cli("entity", "Shoigu", "--format", "json").json()
    assert entity["profile"]["name"] == "Sergei Shoigu"
    assert entity["profile"]["mentions_by_month"]
    for item in entity["bluf"]:
        assert "Shoigu" in item["text"]
    stories = cli("stories", "--format", "json").json()
    assert len(stories["stories"]) == 4
    biggest = stories["stories"][0]
    assert (biggest["outlets"], biggest["first_report"], biggest["last_report"]) == (
        2,
        "2023-08-30",
        "2023-08-31",
    )
    unknown = cli("entity", "Nobody Atall")
    assert unknown.code == 2 and "not in the gazetteer" in unknown.err


def test_users_extend_the_gazetteer_and_topics_without_code(
    cli: Callable[..., Run], tmp_path: Path
) -> None:
    entities = tmp_path / "entities.toml"
    entities.write_text(
        '[[entity]]\nid = "wagner"\nname = "Wagner Group"\ntype = "organisation"\n'
        'aliases = ["Wagner", "Wagner military group"]\n\n'
        '[[entity]]\nid = "cbs"\nname = "CBS News"\ntype = "organisation"\naliases = ["CBS"]\n',
        encoding="utf-8",
    )
    topics = tmp_path / "topics.toml"
    topics.write_text(
        '[media]\nlabel = "Media reports"\nterms = ["CBS", "broadcast", "media reports"]\n',
        encoding="utf-8",
    )
    env = {"BRIEFBOT_ANALYSIS_ENTITIES": str(entities), "BRIEFBOT_ANALYSIS_TOPICS": str(topics)}
    profile = cli("entity", "CBS", "--format", "json", extra_env=env).json()
    assert profile["profile"]["name"] == "CBS News"
    assert profile["profile"]["mentions_by_month"] == [{"month": "2023-10", "mentions": 3}]
    brief = cli("brief", "--topic", "media", "--format", "json", extra_env=env).json()
    assert brief["query"]["topic"] == "media" and brief["bluf"]
    # Without the user's files CBS is unknown again: analysis follows the data in use.
    plain = cli("entity", "CBS")
    assert plain.code == 2 and "not in the gazetteer" in plain.err


@pytest.mark.parametrize(
    ("setting", "content", "message"),
    [
        ("ENTITIES", '[entity]\nid = "x"\nname = "X"\ntype = "person"\n', "[[entity]]"),
        (
            "ENTITIES",
            '[[entity]]\nid = "x"\nname = "X"\ntype = "person"\naliases = "X"\n',
            "aliases must be a list",
        ),
        ("ENTITIES", '[[entity]]\nname = "X"\ntype = "person"\n', "id must be a non-empty string"),
        ("TOPICS", 'media = "CBS"\n', "must be a table"),
        ("TOPICS", '[media]\nterms = "CBS"\n', "terms must be a list of strings"),
        ("TOPICS", '[media]\nlabel = "Media"\n', "lacks terms"),
        ("TOPICS", "", "is a folder"),
    ],
)
def test_malformed_domain_data_is_a_clear_error_not_a_crash(
    cli: Callable[..., Run], tmp_path: Path, setting: str, content: str, message: str
) -> None:
    if content:
        path = tmp_path / "user.toml"
        path.write_text(content, encoding="utf-8")
    else:
        path = tmp_path / "a-folder"
        path.mkdir()
    result = cli("brief", extra_env={f"BRIEFBOT_ANALYSIS_{setting}": str(path)})
    assert result.code == 2, result.err
    assert message in result.err and "internal error" not in result.err


def test_a_users_entity_sharing_an_alias_with_a_shipped_state_does_not_break_attribution(
    tmp_path: Path,
) -> None:
    """Two bodies matching the same words ("Moscow": Russia, and a user's city government)
    used to be compared with each other when sorting a group of speakers, and failed."""
    extra = tmp_path / "entities.toml"
    extra.write_text(
        '[[entity]]\nid = "moscow-city"\nname = "Moscow City Government"\n'
        'type = "organisation"\naliases = ["Moscow"]\n',
        encoding="utf-8",
    )
    lexicon = load_lexicon(extra_entities=extra)
    [found] = attribute(["Moscow and Pyongyang said the deal was lawful."], [0], lexicon)
    # "Moscow" may mean either body (the user made it ambiguous): both are named, once each.
    assert found.speaker.kind == "group"
    assert found.speaker.name == "Russia, Moscow City Government and North Korea"


@pytest.mark.parametrize(
    ("text", "linked"),
    [
        # The US (or South Korean) National Security Council is not the UN's.
        ("a National Security Council official said", {"us-nsc": 1}),
        ("the Russian Security Council, headed by Shoigu", {"russia": 1, "sergei-shoigu": 1}),
        ("Russia vetoed it at the Security Council.", {"russia": 1, "un-security-council": 1}),
        ("The Security Council met.", {"un-security-council": 1}),
        # Named whole: "UN" inside a longer name is not the United Nations itself.
        (
            "The U.N. Security Council and the UN panel of experts",
            {"un-security-council": 1, "un-panel-of-experts": 1},
        ),
        ("violate Security Council resolutions", {"unsc-resolutions": 1}),
    ],
)
def test_security_councils_and_the_un_panel_are_told_apart(
    text: str, linked: dict[str, int]
) -> None:
    assert dict(load_lexicon().mentions_in(text)) == linked


def test_what_is_derived_from_a_lexicon_is_kept_with_it_not_in_a_module() -> None:
    """Two lexicons never share a cast (kept per instance), and a pickled lexicon (sent to
    an analysis worker) carries its data only."""
    import dataclasses
    import pickle

    first = load_lexicon()
    second = dataclasses.replace(first)  # the same data, another lexicon
    sentences = ["Kim Jong Un said the talks went well.", "He added more."]
    assert list(attribute(sentences, [0, 0], first)) == list(attribute(sentences, [0, 0], second))
    built: list[int] = []

    def build(lexicon: Lexicon) -> int:
        built.append(1)
        return len(lexicon.entities)

    assert first.derived(build) == first.derived(build) == len(first.entities)
    assert len(built) == 1  # made once per lexicon
    second.derived(build)
    assert len(built) == 2  # the other lexicon makes its own
    copy = pickle.loads(pickle.dumps(first))
    assert "_derived" not in copy.__dict__ and copy.entities == first.entities


def test_the_un_security_council_topic_is_not_another_security_council() -> None:
    """A US National Security Council official, or Russia's Security Council, is not the UN
    Security Council: the topic (like the gazetteer's entity) needs the UN's own name."""
    lexicon = load_lexicon()
    assert "unsc" not in lexicon.scan("A National Security Council official said Wednesday.")[0]
    assert "unsc" not in lexicon.scan("Russia's Security Council met on Friday.")[0]
    assert "unsc" not in lexicon.scan("The Russian Security Council met on Friday.")[0]
    for sentence in (
        "The Security Council met on Friday.",
        "The UN Security Council met on Friday.",
        "It would violate Security Council resolutions.",
    ):
        assert "unsc" in lexicon.scan(sentence)[0], sentence
