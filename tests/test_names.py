"""Names as analysts see them (issue 12, item 4): spelling and transliteration variants link
to one entity, different people never merge, and new names are typed."""

from __future__ import annotations

import pytest

from briefs.analysis.facts import analyze_sentences, candidate_names
from briefs.compose.brief import new_name_list
from briefs.lexicon import load_lexicon
from briefs.names import (
    close,
    family_name,
    fold,
    key,
    name_kind,
    same_name,
    same_word,
    words,
)

LEX = load_lexicon()


def test_fold_and_key_ignore_case_accents_hyphens_spaces_and_possessives() -> None:
    assert fold("Choe Son-hui's") == "choe son hui"
    assert key("P'yŏngyang") == key("Pyong Yang") == key("pyongyang") == "pyongyang"
    assert words("Kim Jong-un") == ("kim", "jongun")
    assert words("Kim Jong Un") == ("kim", "jong", "un")


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Kim Jong Un", "Kim Jong-un"),
        ("Choe Son Hui", "Choe Son-hui"),
        ("Shoygu", "Shoigu"),
        ("Sergey Shoygu", "Sergei Shoigu"),
        ("Mkrtichev", "Mkrtychev"),
        ("Makrtichev", "Mkrtychev"),
        ("Ashot Makrtichev", "Ashot Mkrtychev"),
        ("Pyong-yang", "Pyongyang"),
        ("KIM JONG UN", "Kim Jong-un"),
    ],
)
def test_variants_are_one_name(a: str, b: str) -> None:
    assert same_name(a, b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # Different given names, one surname: never merged.
        ("Kim Jong-un", "Kim Yo-jong"),
        ("Kim Jong-un", "Kim In-ae"),
        ("Kim Ju-ae", "Kim In-ae"),
        ("Kim Jong-un", "Kim Jong-il"),
        ("Kim Jong-un", "Kim Jong-nam"),
        # Short words must be equal, and long ones must sound alike and start alike.
        ("Putin", "Patin"),
        ("Miller", "Mills"),
        ("Wagner", "Warner"),
        ("Lavrov", "Navrov"),
        ("Sergei Shoigu", "Sergei"),
    ],
)
def test_different_names_are_not_merged(a: str, b: str) -> None:
    assert not same_name(a, b)


def test_same_word_bounds_the_edits_by_length() -> None:
    assert same_word("sergey", "sergei")  # one edit in six letters
    assert not same_word("shoigu", "shoygoo")  # two edits in six: too far
    assert same_word("mkrtychev", "makrtichev")  # two edits from nine letters on


@pytest.mark.parametrize(
    ("text", "entity"),
    [
        ("Foreign Minister Sergey Shoygu arrived.", "sergei-shoigu"),
        ("Shoygu arrived.", "sergei-shoigu"),
        ("He met Kim Jong Un on Tuesday.", "kim-jong-un"),
        ("KIM JONG UN spoke.", "kim-jong-un"),
        ("Counterpart Choe Son Hui agreed.", "choe-son-hui"),
        ("Treasury listed Ashot Mkrtichev, a broker.", "ashot-mkrtychev"),
        ("The broker Ashot Makrtichev denied it.", "ashot-mkrtychev"),
        ("Choe Son-hui's trip to Moscow", "choe-son-hui"),
        ("North Korean Foreign Minister Choe Son Hui in the Kremlin", "choe-son-hui"),
        ("Sergei Lavrov met her.", "sergey-lavrov"),
        ("He flew to Pyong-yang.", "north-korea"),
        ("He flew to P'yŏngyang.", "north-korea"),
    ],
)
def test_variants_link_to_the_gazetteer_entity(text: str, entity: str) -> None:
    assert entity in LEX.mentions_in(text)


@pytest.mark.parametrize(
    ("text", "not_linked"),
    [
        ("Kim Yo Jong issued a statement.", "kim-jong-un"),
        ("Kim Ju Ae appeared beside him.", "kim-in-ae"),
        ("Kim Ju Ae appeared beside him.", "kim-jong-un"),
        ("Kim Jong Il's portrait hung there.", "kim-jong-un"),
        ("Kim In-ae said so.", "kim-jong-un"),
    ],
)
def test_variants_never_merge_different_people(text: str, not_linked: str) -> None:
    assert not_linked not in LEX.mentions_in(text)


def test_a_variant_is_counted_once_where_the_alias_also_matches() -> None:
    """The run "Sergei Shoigu" is matched as written; the variant pass adds nothing to it."""
    assert LEX.mentions_in("Sergei Shoigu and Sergey Shoygu") == {"sergei-shoigu": 2}


def test_a_longer_variant_replaces_the_aliases_inside_it() -> None:
    """Longest match, as for aliases as written: "UN" inside "KIM JONG UN" is not the UN."""
    assert LEX.mentions_in("KIM JONG UN spoke at the UN.") == {
        "kim-jong-un": 1,
        "united-nations": 1,
    }


def test_an_entity_is_found_by_a_variant_of_its_name() -> None:
    assert LEX.entity("Sergey Shoygu").id == "sergei-shoigu"
    assert LEX.entity("choe son hui").id == "choe-son-hui"
    assert LEX.entity("Kim Yo Jong").id == "kim-yo-jong"
    assert LEX.entity("Kim Ju Ae").id != "kim-in-ae"


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("Ri Pyong-chol", "person"),
        ("Acme Shipping Company", "organisation"),
        ("Alabuga Special Economic Zone", None),  # no organisation word: not typed as one
        ("Shahed Aviation Industries", "organisation"),
        ("MV Lady R", "vessel"),
        ("Treasury Department", None),
        ("Korea Real Estate Board", "organisation"),
        ("European Union", None),  # only kind words (the gazetteer knows it, in any case)
        ("Development Office", None),
        ("Defence Ministry", None),
        ("East Sea", None),
        ("Victory Day", None),
        ("Korean Peninsula", None),
        ("Vostochny Cosmodrome", None),
        ("Under Secretary", None),
        ("Chief Cabinet Secretary Hirokazu", None),
        ("New Zealand", None),
        ("Typhoon Khanun", None),
        ("Armed Equipment", None),
    ],
)
def test_new_names_are_typed_or_left_out(name: str, kind: str | None) -> None:
    assert name_kind(name) == kind


def test_new_names_leave_out_what_the_gazetteer_knows_and_kinds_of_thing() -> None:
    names = candidate_names(
        [
            "The Treasury Department and the European Union listed Acme Shipping Company.",
            "The Foreign, Commonwealth and Development Office said Sergey Shoygu met Ri Ok-chol.",
            "South Korean President Yoon Suk Yeol spoke at Vostochny Cosmodrome.",
        ],
        LEX,
    )
    assert set(names) == {"Acme Shipping Company", "Ri Ok-chol"}


def test_a_new_name_spelt_like_a_known_entity_says_so() -> None:
    assert close("Kim Jong Il", "Kim Jong-un") and not same_name("Kim Jong Il", "Kim Jong-un")
    listed = new_name_list(
        LEX, [("Kim Jong Il", 4), ("Development Office", 3), ("Acme Shipping Company", 2)]
    )
    assert [(n.name, n.kind, n.like) for n in listed] == [
        ("Kim Jong Il", "person", "Kim Jong-un"),
        ("Acme Shipping Company", "organisation", None),
    ]


@pytest.mark.parametrize(
    ("name", "family"),
    [
        ("Choe Son-hui", "Choe"),
        ("Kim Jong-un", "Kim"),
        ("Sergey Lavrov", "Lavrov"),
        ("Linda Thomas-Greenfield", "Thomas-Greenfield"),
        ("Angara", None),
    ],
)
def test_family_names(name: str, family: str | None) -> None:
    assert family_name(name) == family


def test_a_family_name_alone_names_the_person_the_document_named_in_full() -> None:
    sentences = [
        "Kim Jong-un met Choe Son-hui.",
        "Choe's trip followed; Choe met Kim later.",
        "Kim Yo-jong spoke.",
        "Kim said so.",  # two Kims named by now: neither
    ]
    facts = analyze_sentences(sentences, [0, 1, 2, 3], None, LEX)
    assert facts[1].mentions == {"choe-son-hui": 2, "kim-jong-un": 1}
    assert facts[3].mentions == {}
    # Not named in full first: a family name alone links nothing.
    assert analyze_sentences(["Choe spoke."], [0], None, LEX)[0].mentions == {}
