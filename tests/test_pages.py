"""Saved web pages (.html, .htm): main text, HTML metadata with provenance, bad pages refused.

The fixture tests/pages/korea-herald-kirby.html is a saved news page (navigation, ads, share
buttons, related-article teasers, footer) around the article of seeds/001, so its sentences
are real and must come out exactly as the text file's do.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from briefs.errors import InputError
from briefs.ingest.articles import read_article
from briefs.ingest.pages import decode_page, page_metadata, read_page
from briefs.segment import split_sentences
from briefs.store import open_store
from briefs.store.identity import document_id_for
from tests.conftest import SEEDS, Run, snapshot

PAGE = Path(__file__).parent / "pages" / "korea-herald-kirby.html"
SEED = SEEDS / "001_4cc6572603486089.txt"
NO_SEEDS = {"BRIEFBOT_INGEST_SEED_CORPUS": "false"}
TODAY = date(2026, 11, 22)
BODY = (
    "<p>The council imposed new sanctions on Monday, officials in Seoul said.</p>\n"
    "<p>The measures target three shipping firms accused of moving arms to Russia.</p>\n"
    "<p>“We will keep watching closely,” a senior official told reporters on Tuesday.</p>\n"
)


def page(head: str = "", body: str = BODY, charset: str = '<meta charset="utf-8">') -> str:
    return (
        f"<!DOCTYPE html><html><head>{charset}<title>Page</title>{head}</head><body>"
        f'<nav><a href="/">Home</a> <a href="/world">World</a></nav>'
        f"<article>{body}</article><footer>About us</footer></body></html>"
    )


def write(folder: Path, name: str, content: str | bytes) -> Path:
    path = folder / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def doc_id(path: Path) -> str:
    return document_id_for(f"file:{path.resolve()}")


def stored(db_url: str, document_id: str) -> tuple[object, list[str]]:
    store = open_store(db_url)
    try:
        document = store.documents.get(document_id)
        texts = [row.text for row in store.analysis.live_sentences(document_ids=[document_id])]
        return document, texts
    finally:
        store.close()


# -- the saved news page, end to end -----------------------------------------------------------


def test_saved_news_page_keeps_the_article_and_its_metadata(
    cli: Callable[..., Run], db_url: str, tmp_path: Path
) -> None:
    path = Path(shutil.copy(PAGE, tmp_path / "kirby.html"))
    run = cli("ingest", str(path), extra_env=NO_SEEDS)
    assert run.code == 0, run.err
    assert "1 added" in run.err

    document, sentences = stored(db_url, doc_id(path))
    assert document is not None
    assert document.title == (
        "US concerned about burgeoning defense cooperation between N. Korea, Russia: White House"
    )
    assert document.publisher == "The Korea Herald"  # og:site_name, not the "(Yonhap)" credit
    assert document.byline == "Yonhap"
    # article:published_time 2023-09-14T09:17:00+09:00, to the minute, in UTC.
    assert document.published_at == datetime(2023, 9, 14, 0, 17, tzinfo=UTC)
    assert document.published_precision == "minute"
    assert document.url == "https://www.koreaherald.com/view.php?ud=20230914000046"
    assert document.origin == "file"
    assert document.provenance == {
        "title": "page",
        "publisher": "page",
        "byline": "page",
        "published": "page",
        "url": "page",
    }

    # Every sentence of the article, in order, and nothing else: the same body, hence the
    # same sentences, as the article saved as text and cleaned by the same rules.
    text_body = read_article(SEED).body
    assert document.body == text_body
    assert sentences == [s for s, _ in split_sentences(text_body)]
    for debris in (
        "Advertisement",
        "Subscribe",
        "Life & Culture",
        "Sports",
        "Facebook",
        "KakaoTalk",
        "Link copied",
        "Read more",
        "Kim, Putin hold summit at Russian spaceport",
        "Seoul warns Moscow",
        "MOST POPULAR",
        "BTS member",
        "is seen answering questions",  # the photo caption
        "#Kirby",
        "cookies",
        "Herald Corporation",
        "All rights reserved",
        "gtag",
        "(Yonhap)",
    ):
        assert debris not in document.body, debris

    again = cli("ingest", str(path), extra_env=NO_SEEDS)
    assert again.code == 0 and "1 unchanged" in again.err


def test_a_page_sentence_is_cited_and_looked_up_like_any_other(
    cli: Callable[..., Run], tmp_path: Path
) -> None:
    path = Path(shutil.copy(PAGE, tmp_path / "kirby.htm"))
    assert cli("ingest", str(path), extra_env=NO_SEEDS).code == 0
    doc = doc_id(path)

    source = cli("source", f"{doc}:6", extra_env=NO_SEEDS)
    assert source.code == 0, source.err
    assert (
        f"→ [{doc}:6] **\"What's going on in the Donbas and down in the south (of Ukraine) is a "
        "gunfight as you've heard me say before -- heavily dependent on artillery.**"
    ) in source.out
    assert "- Publisher: The Korea Herald" in source.out
    assert "- Published: 2023-09-14" in source.out
    assert "https://www.koreaherald.com/view.php?ud=20230914000046" in source.out

    brief = cli("brief", "--format", "json", extra_env=NO_SEEDS).json()
    assert [s["id"] for s in brief["sources"]] == [doc]
    assert brief["sources"][0]["url"] == "https://www.koreaherald.com/view.php?ud=20230914000046"
    assert brief["sources"][0]["publisher"] == "The Korea Herald"
    items = brief["bluf"] + [i for s in brief["sections"] for i in s["items"]]
    assert items
    for item in items:
        for citation in item["citations"]:
            lookup = cli("source", citation["sentence"], "--format", "json", extra_env=NO_SEEDS)
            cited = [i for i in lookup.json()["sections"][0]["items"] if i["citations"]]
            assert any(i["text"] == item["text"] for i in cited), citation


# -- the same article as a text file and as a page --------------------------------------------


def test_same_clean_text_as_txt_and_html_is_a_duplicate(
    cli: Callable[..., Run], tmp_path: Path
) -> None:
    html = Path(shutil.copy(PAGE, tmp_path / "kirby.html"))
    txt = Path(shutil.copy(SEED, tmp_path / "kirby.txt"))
    run = cli("ingest", str(html), str(txt), extra_env=NO_SEEDS)
    assert run.code == 0 and "1 added, 1 duplicate" in run.err
    # The seed corpus, ingested on first use, holds the same article: it is not stored twice.
    stats = cli("stats", "--format", "json").json()
    assert stats["by_origin"] == {"file": 1, "seed": 4}


def test_same_article_with_different_text_is_stored_twice_in_one_story(
    cli: Callable[..., Run], tmp_path: Path
) -> None:
    html = Path(shutil.copy(PAGE, tmp_path / "kirby.html"))
    text = SEED.read_text(encoding="utf-8")
    text = text.replace("DPRK stands for", "Editor's note: DPRK stands for", 1)
    txt = write(tmp_path, "kirby.txt", text)
    run = cli("ingest", str(html), str(txt), extra_env=NO_SEEDS)
    assert run.code == 0 and "2 added" in run.err
    both = {doc_id(html), doc_id(txt)}
    stories = cli("stories", "--format", "json", extra_env=NO_SEEDS).json()["stories"]
    assert len(stories) == 1 and sorted(stories[0]["refs"]) == [1, 2]
    # A sentence both carry is one statement citing both documents.
    brief = cli("brief", "--format", "json", extra_env=NO_SEEDS).json()
    for item in brief["bluf"] + [i for s in brief["sections"] for i in s["items"]]:
        cited = {c["sentence"].split(":")[0] for c in item["citations"]}
        assert cited == ({doc_id(txt)} if "Editor's note" in item["text"] else both)


# -- encodings and bad input -------------------------------------------------------------------


@pytest.mark.parametrize(
    "charset",
    [
        '<meta charset="windows-1252">',
        '<meta http-equiv="Content-Type" content="text/html; charset=ISO-8859-1">',
    ],
)
def test_windows_1252_page_is_decoded_with_its_declared_charset(
    cli: Callable[..., Run], db_url: str, tmp_path: Path, charset: str
) -> None:
    body = (
        "<p>The Café Pyongyang’s owner was sanctioned on Monday, officials said.</p>"
        "<p>“It is a fine of 5,000 €,” the ministry said in a statement.</p>"
    )
    path = write(tmp_path, "cp1252.html", page(body=body, charset=charset).encode("cp1252"))
    run = cli("ingest", str(path), extra_env=NO_SEEDS)
    assert run.code == 0, run.err
    _, sentences = stored(db_url, doc_id(path))
    assert sentences == [
        "The Café Pyongyang’s owner was sanctioned on Monday, officials said.",
        "“It is a fine of 5,000 €,” the ministry said in a statement.",
    ]


def test_html_suffixes_are_read_as_pages_whatever_their_case(tmp_path: Path) -> None:
    path = write(tmp_path, "UPPER.HTM", page('<meta property="og:title" content="Sanctions">'))
    article = read_page(path, today=TODAY)
    assert article.title == "Sanctions" and article.provenance["title"] == "page"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.html", b"", "empty file, nothing to ingest"),
        ("blank.html", b" \n\t\n", "empty file, nothing to ingest"),
        ("image.html", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR<html>", "binary file"),
        (
            "latin1.html",
            page(charset="").replace("council", "Café council").encode("cp1252"),
            "not UTF-8 text (invalid byte at offset",
        ),
        (
            "no-body.html",
            b"<!DOCTYPE html><html><head><title>Empty</title></head><body></body></html>",
            "no article text found in this page",
        ),
        (
            "navigation.html",
            page(
                body='<ul class="menu"><li><a href="/a">National</a></li>'
                '<li><a href="/b">Business and economy</a></li><li><a href="/c">Sports</a></li>'
                '<li><a href="/d">Life and culture news</a></li></ul>'
            ).encode("utf-8"),
            "no article text found in this page",
        ),
        (
            "debris.html",
            page(body="<p>Advertisement</p><p>Share This Post</p>").encode("utf-8"),
            "no article text found in this page",
        ),
    ],
)
def test_bad_pages_are_one_line_naming_the_file_and_store_nothing(
    cli: Callable[..., Run],
    db_url: str,
    tmp_path: Path,
    name: str,
    content: bytes,
    message: str,
) -> None:
    assert cli("stats", extra_env={}).code == 0  # a seeded store, to prove nothing changes
    store = open_store(db_url)
    before = snapshot(store)
    store.close()
    path = write(tmp_path, name, content)
    run = cli("ingest", str(path))
    assert run.code == 1
    lines = [line for line in run.err.splitlines() if line.strip()]
    assert lines[0].startswith(f"briefbot: error: {path}: ") and message in lines[0], run.err
    assert lines[1:] == ["briefbot: ingest: 1 failed"]
    if "UTF-8" in message:
        assert "iconv -t UTF-8" in lines[0]
    store = open_store(db_url)
    assert snapshot(store) == before
    store.close()


def test_folder_mixing_text_pages_and_feeds(
    cli: Callable[..., Run], db_url: str, tmp_path: Path
) -> None:
    folder = tmp_path / "saved"
    (folder / "pages").mkdir(parents=True)
    write(
        folder,
        "note.txt",
        "A headline on arms\n\nSanctions were imposed on Friday. Officials said so.\n",
    )
    shutil.copy(PAGE, folder / "pages" / "kirby.html")
    write(folder / "pages", "other.htm", page('<meta property="og:site_name" content="Wire">'))
    write(
        folder,
        "feed.xml",
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Desk</title>'
        "<item><title>Arms shipment seized</title><link>https://example.org/a</link>"
        "<description>Customs officers seized an arms shipment bound for Russia on Thursday."
        "</description></item></channel></rss>",
    )
    write(folder, "notes.json", "{}")
    run = cli("ingest", str(folder), extra_env=NO_SEEDS)
    assert run.code == 0, run.err
    assert "4 added" in run.err
    stats = cli("stats", "--format", "json", extra_env=NO_SEEDS).json()
    assert stats["by_origin"] == {"file": 4}
    other, _ = stored(db_url, doc_id(folder / "pages" / "other.htm"))
    assert other is not None and other.publisher == "Wire"


# -- metadata: what the page declares, with an honest origin ------------------------------------


def test_date_only_meta_is_day_precise_and_no_date_is_never_now(tmp_path: Path) -> None:
    dated = write(tmp_path, "dated.html", page('<meta name="date" content="2023-09-13">'))
    article = read_page(dated, today=TODAY)
    assert article.published_at == datetime(2023, 9, 13, tzinfo=UTC)
    assert article.published_precision == "day" and article.provenance["published"] == "page"

    undated = write(tmp_path, "undated.html", page())
    article = read_page(undated, today=TODAY)
    assert article.published_at is None and article.published_precision == "none"
    assert article.provenance["published"] == "none"


def test_json_ld_supplies_what_meta_tags_do_not(tmp_path: Path) -> None:
    ld = (
        '<script type="application/ld+json">{"@context": "https://schema.org", "@graph": ['
        '{"@type": "WebSite", "name": "Ignored"},'
        '{"@type": "NewsArticle", "headline": "Council targets shipping firms",'
        ' "datePublished": "2023-10-06T08:30:00Z",'
        ' "author": [{"@type": "Person", "name": "Jane Doe"}, {"name": "Kim Min-ji"}],'
        ' "publisher": {"@type": "Organization", "name": "Example Daily"},'
        ' "mainEntityOfPage": {"@id": "https://example.org/news/123?utm_source=x"}}]}'
        "</script>"
    )
    article = read_page(write(tmp_path, "ld.html", page(ld)), today=TODAY)
    assert article.title == "Council targets shipping firms"
    assert article.byline == "Jane Doe, Kim Min-ji"
    assert article.publisher == "Example Daily"
    assert article.published_at == datetime(2023, 10, 6, 8, 30, tzinfo=UTC)
    assert article.url == "https://example.org/news/123"
    assert set(article.provenance.values()) == {"page"}


def test_title_element_loses_the_site_name_and_links_are_not_bylines() -> None:
    meta = page_metadata(
        "<html><head><title>Council targets shipping firms | Example Daily</title>"
        '<meta property="og:site_name" content="Example Daily">'
        '<meta property="article:author" content="https://www.facebook.com/example">'
        '<meta name="author" content="By Jane Doe">'
        '<meta property="og:url" content="https://example.org/news/123">'
        '<link rel="canonical" href="/news/123?ref=home#top"></head></html>'
    )
    assert meta.title == "Council targets shipping firms"
    assert meta.byline == "Jane Doe"
    assert meta.url == "https://example.org/news/123"


def test_manifest_fills_gaps_but_overrides_nothing_the_page_declares(tmp_path: Path) -> None:
    head = '<meta property="og:title" content="From the page">'
    path = write(tmp_path, "a.html", page(head))
    (tmp_path / "manifest.toml").write_text(
        '["a.html"]\ntitle = "From the manifest"\npublished = 2023-09-21\n'
        'publisher = "Manifest Press"\nurl = "https://example.org/a"\n',
        encoding="utf-8",
    )
    article = read_page(path, today=TODAY)
    assert article.title == "From the page" and article.provenance["title"] == "page"
    assert article.publisher == "Manifest Press"
    assert article.published_at == datetime(2023, 9, 21, tzinfo=UTC)
    assert article.url == "https://example.org/a"
    assert article.provenance == {
        "title": "page",
        "publisher": "manifest",
        "byline": "none",
        "published": "manifest",
        "url": "manifest",
    }


def test_a_first_paragraph_that_is_not_the_headline_stays_article_text(tmp_path: Path) -> None:
    body = (
        "<p>“Sanctions will follow,” the minister said</p>"
        "<p>The council met on Monday to discuss the arms shipments.</p>"
    )
    head = '<meta property="og:title" content="Minister warns of sanctions">'
    article = read_page(write(tmp_path, "q.html", page(head, body)), today=TODAY)
    assert article.title == "Minister warns of sanctions"
    assert article.body.startswith("“Sanctions will follow,” the minister said")

    repeated = "<h1>Minister warns of sanctions</h1>" + body.replace(" said</p>", " said.</p>")
    article = read_page(write(tmp_path, "h1.html", page(head, repeated)), today=TODAY)
    assert not article.body.startswith("Minister warns")


def test_xhtml_page_is_a_page_not_a_feed(cli: Callable[..., Run], tmp_path: Path) -> None:
    xhtml = '<?xml version="1.0" encoding="utf-8"?>\n' + page().replace(
        "<html>", '<html xmlns="http://www.w3.org/1999/xhtml">'
    )
    path = write(tmp_path, "x.html", xhtml)
    run = cli("ingest", str(path), extra_env=NO_SEEDS)
    assert run.code == 0 and "1 added" in run.err, run.err


# -- decoding ----------------------------------------------------------------------------------


def test_decoding_follows_the_browser_order() -> None:
    text = "<p>Café</p>"
    bom16 = b"\xff\xfe" + text.encode("utf-16-le")
    assert decode_page(bom16, "p.html") == text  # a byte-order mark wins (NUL bytes and all)
    bom8 = b"\xef\xbb\xbf" + '<meta charset="windows-1252"><p>Café</p>'.encode()
    assert decode_page(bom8, "p.html").endswith("Café</p>")  # not "CafÃ©"
    unknown = '<meta charset="no-such-charset"><p>Café</p>'.encode()
    assert decode_page(unknown, "p.html").endswith("Café</p>")  # unknown label: UTF-8
    undefined = '<meta charset="windows-1252"><p>x\x81y</p>'.encode("latin-1")
    assert "x\x81y" in decode_page(undefined, "p.html")  # as browsers do; cleaning drops it
    with pytest.raises(
        InputError,
        match=r"p\.html: not valid shift_jis text, the charset the page declares \(invalid",
    ):
        decode_page(b'<meta charset="shift_jis"><p>\x81 </p>', "p.html")
