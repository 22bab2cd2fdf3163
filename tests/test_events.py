"""Event clustering decisions (briefs/analysis/events.py), without a store.

The texts are written for these tests (no news article text is copied).
"""

from __future__ import annotations

from datetime import date

from briefs.analysis import events
from briefs.analysis.events import Background, Clusters, EventInput, Features, Story, decide

DAY = date(2024, 3, 5)


def doc(
    title: str,
    body: str = "",
    day: date = DAY,
    entities: frozenset[str] = frozenset(),
    background: Background | None = None,
) -> Features:
    data = EventInput(title, events.lead_of(body), body, entities, published=day)
    return events.features(data, background or Background())


def story(story_id: str, *docs: Features) -> Story:
    s = Story(story_id)
    for i, d in enumerate(docs):
        s.add(f"{story_id}-{i}", d)
    return s


def test_rare_words_weigh_more_than_common_ones() -> None:
    # wordfreq's English frequencies: a place name says more than an everyday word.
    assert events.idf("derna") > events.idf("city") > events.idf("said") >= events.MIN_IDF


def test_spelling_variants_are_one_term() -> None:
    a = doc("Sinéad O’Connor freezes")
    b = doc("Sinead O'Connor freezing")
    assert events.cosine(a.vector, b.vector) > 0.99


def test_numbers_and_number_words_but_not_years() -> None:
    found = events.numbers(
        "In 2023 some 1,000 containers and three entities; 11 people; $2 billion"
    )
    assert found == {"1000", "3", "11", "2e+09"}


def test_lead_is_the_first_sentences_within_the_limit() -> None:
    body = "First sentence here. " + "Second one is long. " * 40
    assert events.lead_of(body).startswith("First sentence here.")
    assert len(events.lead_of(body)) <= events.LEAD_CHARS + 1
    assert events.lead_of("No sentence end") == "No sentence end"


def test_a_teaser_joins_the_story_of_the_same_event_by_its_title() -> None:
    full = doc(
        "Floods in Derna kill thousands after two dams burst",
        "Two dams above Derna burst after Storm Daniel. Thousands are dead and many missing. "
        "Rescue teams from several countries arrived in eastern Libya on Wednesday.",
    )
    teaser = doc("Derna dams burst: thousands dead in Libya floods", "Storm Daniel hit Derna.")
    other = doc("Central bank raises interest rates", "The bank raised its rate by a quarter.")
    stories = [story("s-floods", full), story("s-rates", other)]
    assert decide(teaser, stories) == events.Decision("s-floods")


def test_unrelated_document_starts_its_own_story() -> None:
    stories = [story("s-a", doc("Cargo ship fire off the Dutch coast", "A car carrier burned."))]
    assert decide(doc("Singer dies aged 56", "Tributes were paid."), stories).story_id is None


def test_time_decay_keeps_a_late_report_of_an_old_event_apart() -> None:
    text = ("Derna dams burst in Libya floods", "Storm Daniel hit Derna.")
    old = story("s-old", doc(*text, day=date(2024, 2, 1)))
    assert events.score(doc(*text), old) < events.JOIN
    assert events.score(doc(*text, day=date(2024, 2, 2)), old) >= events.JOIN
    assert events.decay(date(2024, 2, 2), {date(2024, 2, 1)}) == 1.0
    assert decide(doc(*text), [old]).story_id is None


def test_event_day_is_a_named_date_close_before_publication() -> None:
    data = EventInput("t", "l", "b", published=DAY, dates=(date(2024, 3, 3), date(2023, 1, 1)))
    assert events.event_day(data) == date(2024, 3, 3)
    assert events.event_day(EventInput("t", "l", "b", published=DAY)) == DAY


def test_a_bridging_report_merges_two_stories_and_the_older_id_survives() -> None:
    a = ("Derna dams burst in Libya floods", "Storm Daniel hit Derna. Thousands dead.")
    b = ("Libya floods: Derna buries its dead", "Derna dams burst. Thousands dead in Libya.")
    older = story("s-b", doc(*b, day=date(2024, 3, 4)))
    younger = story("s-a", doc(*a))
    bridge = doc("Derna floods in Libya: dams burst, dead buried", "Storm Daniel; Derna dams.")
    decision = decide(bridge, [younger, older])
    # "s-a" sorts first, but "s-b" began a day earlier: its id is the one kept.
    assert decision == events.Decision("s-b", ("s-a",))


def test_older_breaks_ties_by_id() -> None:
    assert events.older(Story("s-2", first=DAY), Story("s-1", first=DAY)).story_id == "s-1"
    assert events.older(Story("s-1", first=DAY), Story("s-0")).story_id == "s-1"


# A store that has seen designations before: their frame is in many of its documents.
DESIGNATIONS = Background(
    documents=100,
    term_df={"treasur": 60, "designa": 60, "sanctio": 70, "departm": 60, "assets": 50},
    entity_df={"us-treasury": 60},
)


def test_boilerplate_common_in_the_store_is_damped() -> None:
    assert DESIGNATIONS.damp(60) < DESIGNATIONS.damp(5) == 1.0
    assert Background(documents=10).damp(9) == 1.0  # too small a store to tell
    a = ("Treasury designates Acme Shipping", "Treasury designated Acme Shipping.")
    b = ("Treasury designates Borealis Trading", "Treasury designated Borealis Trading.")
    fresh = events.cosine(doc(*a).vector, doc(*b).vector)
    damped = events.cosine(
        doc(*a, background=DESIGNATIONS).vector, doc(*b, background=DESIGNATIONS).vector
    )
    assert damped < fresh
    assert damped < events.JOIN


def test_two_designations_by_one_authority_stay_apart() -> None:
    first = doc(
        "Treasury sanctions Wagner Group as a transnational criminal organization",
        "The Treasury Department designated the Wagner Group. Its assets are blocked.",
        entities=frozenset({"us-treasury", "wagner-group"}),
        background=DESIGNATIONS,
    )
    second = doc(
        "Treasury sanctions broker over arms deals with North Korea",
        "The Treasury Department designated a Slovak broker. His assets are blocked.",
        entities=frozenset({"us-treasury", "north-korea"}),
        background=DESIGNATIONS,
    )
    assert decide(second, [story("s-wagner", first)]).story_id is None
    # Nor does a later report naming both merge them: their centroids are not alike.
    both = doc(
        "Treasury sanctions Wagner Group and a Slovak broker over North Korea arms deals",
        "The Treasury Department designated the Wagner Group and a Slovak arms broker.",
        entities=frozenset({"us-treasury", "wagner-group", "north-korea"}),
        background=DESIGNATIONS,
    )
    assert decide(both, [story("s-wagner", first), story("s-broker", second)]).merged == ()


def test_a_title_only_item_joins_by_its_title_or_stands_alone() -> None:
    full = doc("Kim and Putin meet at Vostochny cosmodrome", "Kim Jong Un met Vladimir Putin.")
    assert decide(doc("Putin and Kim meet at Vostochny"), [story("s", full)]).story_id == "s"
    assert decide(doc(""), [story("s", full)]).story_id is None
    assert doc("").vector == {}


def test_clusters_find_candidates_by_heavy_terms_and_merge_postings() -> None:
    clusters = Clusters()
    floods = doc("Derna dams burst in Libya floods", "Storm Daniel hit Derna.")
    rates = doc("Central bank raises interest rates", "The bank raised its rate.")
    clusters.add("s-1", "d1", floods)
    clusters.add("s-2", "d2", rates)
    clusters.add("s-1", "d1", floods)  # seen again: counted once
    assert clusters.stories["s-1"].members == {"d1"}
    found = clusters.candidates(doc("Libya floods in Derna"), {"s-1", "s-2"})
    assert [s.story_id for s in found] == ["s-1"]
    assert clusters.candidates(floods, {"s-2"}) == []  # not near in time
    clusters.merge("s-2", "s-1")
    assert set(clusters.stories) == {"s-2"}
    assert clusters.stories["s-2"].members == {"d1", "d2"}
    assert [s.story_id for s in clusters.candidates(floods, {"s-2"})] == ["s-2"]


def test_a_large_story_keeps_a_bounded_centroid() -> None:
    s = Story("s")
    for i in range(250):
        s.add(f"d{i}", Features({f"t{i}": 1.0, "shared": 1.0}, DAY, (f"t{i}", "shared")))
    assert len(s.total) <= 3 * events.CENTROID_TERMS
    assert "shared" in s.total


def test_a_storys_running_length_gives_the_centroids_cosine() -> None:
    s = Story("s")
    docs = [
        doc("Derna dams burst in Libya floods", "Storm Daniel hit Derna."),
        doc("Libya floods: Derna buries its dead", "Thousands dead in Derna."),
        doc("Aid reaches Derna after the floods", "Rescue teams arrived in Libya."),
    ]
    for i, d in enumerate(docs):
        s.add(f"d{i}", d)
    probe = doc("Derna floods", "Libya").vector
    assert abs(s.similarity(probe) - events.cosine(probe, s.centroid())) < 1e-12
    other = story("t", doc("Central bank raises rates", "Inflation."))
    s.absorb(other)
    assert abs(s.similarity(probe) - events.cosine(probe, s.centroid())) < 1e-12


def test_series_affixes_are_a_publishers_repeated_title_starts_and_ends() -> None:
    titles = [
        ("Health Care Roundup: Market Talk", "Ledger"),
        ("Energy & Utilities Roundup: Market Talk", "Ledger"),
        ("Basic Materials Roundup: Market Talk", "Ledger"),
        ("Watch live: harbour board hears the dredging plan", "Ledger"),
        ("Cargo ship fire: one dead off the coast", "Ledger"),
        ("Cargo ship fire: crew rescued", "Ledger"),
        ("Health Care Roundup: Market Talk", "Courier"),  # another publisher's
    ]
    series = events.series_affixes(titles)
    assert set(series) == {"Ledger"}  # the Courier repeats nothing
    ledger = series["Ledger"]
    # The repeated end, as far back as it repeats; the whole title never counts.
    assert events.without_series("Financial Services Roundup: Market Talk", ledger) == (
        "Financial Services"
    )
    # Twice is not a series; a start with no separator beside it is not an affix.
    assert events.without_series("Cargo ship fire: tug arrives", ledger).startswith("Cargo")
    assert events.title_affixes(events.title_tokens("Hunter Biden deal falls apart")) == set()
    assert events.without_series("No series here", frozenset()) == "No series here"


def test_a_series_title_is_no_evidence_of_one_event() -> None:
    ledger = Background(
        series=events.series_affixes(
            [(f"{s} Roundup: Market Talk", "Ledger") for s in ("Health Care", "Energy", "Tech")]
        )
    )

    def item(sector: str, companies: str) -> Features:
        data = EventInput(
            f"{sector} Roundup: Market Talk",
            f"{companies} in the latest notes on {sector}.",
            f"{companies} in the latest notes on {sector}.",
            publisher="Ledger",
        )
        return events.features(data, ledger)

    health = item("Health Care", "Orvane Pharma and Kestrel Labs")
    energy = item("Energy", "Brightwell Gas and Tundra Power")
    assert "roundup" not in health.vector and "talk" not in health.vector
    assert decide(energy, [story("s-health", health, health)]).story_id is None
    # Without the publisher's series, the shared title alone joins them.
    bare = Background()
    same = [
        events.features(EventInput(t, "", ""), bare)
        for t in ("Health Care Roundup: Market Talk", "Energy Roundup: Market Talk")
    ]
    assert events.cosine(same[0].vector, same[1].vector) > events.cosine(
        health.vector, energy.vector
    )


def test_marks_are_entities_numbers_and_rare_title_words() -> None:
    d = doc("Derna dam burst kills 300", "The city said 300 died.", entities=frozenset({"libya"}))
    assert {"@libya", "#300", "derna"} <= d.evidence
    assert "kill" not in d.evidence  # a common word is no mark


def test_many_shared_marks_join_at_a_lower_similarity() -> None:
    marks = frozenset({"@a", "@b", "#3", "derna"})
    s = Story("s-1", evidence=set(marks))
    near = Features({"x": 1.0}, DAY, (), marks)
    few = Features({"x": 1.0}, DAY, (), frozenset({"@a", "#3"}))
    between = (events.JOIN_EVIDENT + events.JOIN) / 2
    assert events.near_enough(events.JOIN, few, s)
    assert events.near_enough(between, near, s)
    assert not events.near_enough(between, few, s)
    assert not events.near_enough(events.JOIN_EVIDENT - 0.01, near, s)


def test_a_title_less_its_series_reads_as_written() -> None:
    series = events.series_affixes([(f"Watch live: {t}", "Ledger") for t in "abc"])["Ledger"]
    title = "Watch live: Derna’s toll tops 5,300"
    assert events.without_series(title, series) == "Derna’s toll tops 5,300"
    data = EventInput(title, "", "", publisher="Ledger")
    vec = events.vector(data, Background(series={"Ledger": series}))
    assert "#5300" in vec and "watch" not in vec
