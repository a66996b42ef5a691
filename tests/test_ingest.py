"""Readers: files of every supported kind, their failures, and URLs served from 127.0.0.1."""

from __future__ import annotations

import gzip
import json
import socket
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from conftest import serve_http

from qa import ingest, sentences
from qa.config import Settings
from qa.errors import InputError
from qa.text import content_id

TITLE = "Flood waters recede in Valencia"
PARAS = [
    "VALENCIA — Flood waters began to recede across the Valencia region on Monday, three days after record "
    "rainfall swept away cars and cut off entire neighbourhoods from the city centre.",
    "Emergency services said more than two hundred people had been rescued from rooftops and stranded vehicles "
    "since Friday night, and that the search for the missing would continue through the week.",
    "The regional government announced an aid package for families whose homes were damaged, while farmers in "
    "the surrounding orchards counted the cost of ruined citrus harvests.",
    "Meteorologists warned that further storms could arrive later in the month as warm sea temperatures continue "
    "to fuel heavy rain along the Mediterranean coast.",
]
SECRETS = ["STYLESECRET", "SCRIPTSECRET", "INLINESCRIPT", "NAVSECRET", "IFRAMESECRET", "dataLayer", "font-family"]

ARTICLE_HTML = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{TITLE}</title>
<style>.banner {{ color: red; }} body {{ font-family: STYLESECRET; }}</style>
<script>var trackingPixel = "SCRIPTSECRET"; window.dataLayer = [];</script>
</head>
<body>
<nav><ul><li><a href="/">Home</a></li><li><a href="/world">World NAVSECRET</a></li><li><a href="/sport">Sport</a></li></ul></nav>
<main>
<article>
<h1>{TITLE}</h1>
<p>{PARAS[0]}</p>
<p>{PARAS[1]}</p>
<iframe src="https://ads.example.invalid/frame">IFRAMESECRET</iframe>
<p>{PARAS[2]}</p>
<script>document.write("INLINESCRIPT");</script>
<p>{PARAS[3]}</p>
</article>
</main>
</body>
</html>
"""

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)

PLAIN = f"{TITLE}\n\n" + "\n\n".join(PARAS) + "\n"


def _settings(**kw) -> Settings:
    return Settings(**kw)


def _read(path, settings: Settings | None = None):
    return list(ingest.read(str(path), settings or _settings()))


def _error(path, settings: Settings | None = None) -> str:
    with pytest.raises(InputError) as exc:
        _read(path, settings)
    msg = str(exc.value)
    assert "\n" not in msg, "error messages are one line"
    return msg


# ---------------------------------------------------------------- files


def test_txt(tmp_path):
    p = tmp_path / "floods.txt"
    p.write_text(PLAIN, encoding="utf-8")
    (art,) = _read(p)
    assert art.title == TITLE
    assert art.text == "\n\n".join(PARAS)
    assert art.source == str(p)
    assert art.doc_id == content_id(art.text)


def test_txt_with_bom_and_crlf(tmp_path):
    p = tmp_path / "floods.txt"
    p.write_bytes(b"\xef\xbb\xbf" + PLAIN.replace("\n", "\r\n").encode("utf-8"))
    (art,) = _read(p)
    assert art.title == TITLE
    assert art.text == "\n\n".join(PARAS)


def test_md(tmp_path):
    p = tmp_path / "floods.md"
    p.write_text(f"# {TITLE}\n\n{PARAS[0]}\n\n## Rescue\n\n{PARAS[1]}\n", encoding="utf-8")
    (art,) = _read(p)
    assert art.title == TITLE
    assert art.text == f"{PARAS[0]}\n\nRescue\n\n{PARAS[1]}"


def test_html_file(tmp_path):
    p = tmp_path / "floods.html"
    p.write_text(ARTICLE_HTML, encoding="utf-8")
    (art,) = _read(p)
    assert art.title == TITLE
    for para in PARAS:
        assert para in art.text
    for secret in SECRETS:
        assert secret not in art.text
    assert "<" not in art.text and "{" not in art.text


def test_html_line_breaks_in_the_source_are_spaces(tmp_path):
    """A browser shows a newline inside a paragraph's source as a space; blog editors wrap their HTML at a width
    ("are making the rounds on social media,\nshow Nigerian actress ..."), and each piece read as a paragraph of
    its own broke one sentence into four. <br> still breaks a line, and <pre> keeps its lines."""
    wrapped = PARAS[0].replace(" three days", "\n three days").replace(" and cut", " \nand cut")
    html = ARTICLE_HTML.replace(f"<p>{PARAS[0]}</p>", f"<p>{wrapped}<br></p>").replace(
        f"<p>{PARAS[3]}</p>",
        f"<p>{PARAS[3]}<br>The river is expected to fall further on Tuesday.</p><pre>river  level\n3.2 m</pre>",
    )
    p = tmp_path / "floods.html"
    p.write_text(html, encoding="utf-8")
    (art,) = _read(p)
    assert PARAS[0] in art.text.split("\n\n")
    assert "The river is expected to fall further on Tuesday." in art.text.split("\n\n")
    assert ["river level", "3.2 m"] == art.text.split("\n\n")[-2:]


def test_a_real_blog_page_wrapped_in_its_source_reads_as_whole_sentences():
    page = Path(__file__).parent / "pages" / "article_with_divs.html.gz"
    art = ingest.from_html(gzip.decompress(page.read_bytes()), source=page.name)
    texts = [s.text for s in sentences.split(art.doc_id, art.text)]
    assert (
        "Photos which were released online and are making the rounds on social media, show Nigerian actress, "
        "Kate Henshaw, looking absolutely stunning in new make-up photos." in texts
    )


NAV_ONLY = (
    "<html><head><title>Example News</title><script>var x = 1;</script></head><body>"
    '<nav><a href="/">Home</a> <a href="/world">World</a> <a href="/sport">Sport</a></nav>'
    "<footer>Copyright 2024 Example News</footer></body></html>"
)


def test_html_without_article_text(tmp_path):
    p = tmp_path / "nav.html"
    p.write_text(NAV_ONLY)
    msg = _error(p)
    assert "nav.html" in msg and "no article text" in msg


def test_a_japanese_page_is_an_article(tmp_path):
    """Japanese has no spaces between words: its article was counted as one "word" and refused as a menu."""
    body = "米朝首脳会談を巡って戦っていたのは、米大統領と北朝鮮委員長ばかりではなかった。中国の習近平国家主席も同じだった。"
    p = tmp_path / "ja.html"
    p.write_text(f"<html><head><title>米朝首脳会談</title></head><body><article><p>{body}</p></article></body></html>")
    [article] = _read(p)
    assert article.title == "米朝首脳会談" and body in article.text
    assert len(sentences.split(article.doc_id, article.text)) == 2


TEASERS = "".join(
    f'<article><h2><a href="/story/{n}">Story {n} headline</a></h2><p>A teaser of story {n}, a sentence that '
    f"says what the story is about and why anyone would read it.</p></article>"
    for n in range(8)
)


@pytest.mark.parametrize(
    "head, refused",
    [
        ('<link rel="canonical" href="https://news.example.com/">', True),
        (
            '<meta property="og:url" content="https://news.example.com"><meta property="og:type" content="website">',
            True,
        ),
        ('<link rel="canonical" href="https://news.example.com/"><meta property="og:type" content="article">', False),
        ('<link rel="canonical" href="https://news.example.com/?p=123">', False),
        ('<link rel="canonical" href="https://news.example.com/world/story-1">', False),
    ],
)
def test_a_sites_front_page_is_refused_with_what_to_give_instead(tmp_path, head, refused):
    """The front pages of CNN, WIRED and Yahoo UK (newspaper4k's test pages) were each taken as an article made of
    teasers (2, 6 and 38 sentences). A page whose own address is a site's root is a list of stories."""
    p = tmp_path / "home.html"
    p.write_text(f"<html><head><title>Example News</title>{head}</head><body><main>{TEASERS}</main></body></html>")
    if refused:
        msg = _error(p)
        assert "home.html" in msg and "front page" in msg and "one story" in msg
    else:
        assert "teaser of story 3" in _read(p)[0].text


def test_html_single_nav_item_is_not_an_article(tmp_path):
    p = tmp_path / "nav.html"
    p.write_text("<html><head><title>Home</title></head><body><nav>Home</nav></body></html>")
    msg = _error(p)
    assert "no article text" in msg


def test_html_without_date_has_no_published_at(tmp_path):
    p = tmp_path / "floods.html"
    html = ARTICLE_HTML.replace(
        "</main>", "</main><footer><p>Copyright 2024 Example News. All rights reserved.</p></footer>"
    )
    p.write_text(html, encoding="utf-8")
    (art,) = _read(p)
    assert art.published_at == ""


def test_html_date_from_metadata(tmp_path):
    p = tmp_path / "floods.html"
    html = ARTICLE_HTML.replace(
        '<meta charset="utf-8">',
        '<meta charset="utf-8"><meta property="article:published_time" content="2024-11-04T08:00:00Z">',
    )
    p.write_text(html, encoding="utf-8")
    (art,) = _read(p)
    assert art.published_at.startswith("2024-11-04")


def test_json_list_of_records(tmp_path):
    p = tmp_path / "records.json"
    recs = [
        {"title": "First story", "text": PARAS[0], "url": "https://example.invalid/1", "published_at": "2024-11-04"},
        {"title": "Second story", "text": PARAS[1], "source": "Example News"},
    ]
    p.write_text(json.dumps(recs), encoding="utf-8")
    a, b = _read(p)
    assert (a.title, a.text, a.url, a.published_at, a.source) == (
        "First story",
        PARAS[0],
        "https://example.invalid/1",
        "2024-11-04",
        str(p),
    )
    assert (b.title, b.text, b.source) == ("Second story", PARAS[1], "Example News")
    assert a.doc_id != b.doc_id


def test_json_single_object(tmp_path):
    p = tmp_path / "one.json"
    p.write_text(json.dumps({"title": TITLE, "text": "\n\n".join(PARAS)}), encoding="utf-8")
    (art,) = _read(p)
    assert art.title == TITLE and art.text == "\n\n".join(PARAS)


def test_json_record_without_title_takes_headline_from_text(tmp_path):
    p = tmp_path / "one.json"
    p.write_text(json.dumps({"text": PLAIN}), encoding="utf-8")
    (art,) = _read(p)
    assert art.title == TITLE and art.text == "\n\n".join(PARAS)


@pytest.mark.parametrize("suffix", [".jsonl", ".ndjson"])
def test_jsonl(tmp_path, suffix):
    p = tmp_path / f"records{suffix}"
    lines = [json.dumps({"title": f"Story {i}", "text": para}) for i, para in enumerate(PARAS)]
    p.write_text(lines[0] + "\n\n" + "\n".join(lines[1:]) + "\n", encoding="utf-8")  # a blank line is skipped
    arts = _read(p)
    assert [a.title for a in arts] == [f"Story {i}" for i in range(len(PARAS))]
    assert [a.text for a in arts] == PARAS


def test_jsonl_with_line_separator_inside_a_string(tmp_path):
    p = tmp_path / "records.jsonl"
    rec = {"title": "Story", "text": "First line of the story.\u2028Second line of the story."}
    p.write_text(json.dumps(rec, ensure_ascii=False) + "\n", encoding="utf-8")
    (art,) = _read(p)
    assert "Second line of the story." in art.text


def test_latin1_file_is_decoded(tmp_path):
    p = tmp_path / "cafe.txt"
    text = "Café reopens\n\nThe café on the square reopened on Monday after a long closure, the mayor said.\n"
    raw = text.encode("latin-1")
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    p.write_bytes(raw)
    (art,) = _read(p)
    assert art.title == "Café reopens"
    assert "café" in art.text and "\ufffd" not in art.text


@pytest.mark.parametrize("text", ["café", "Crème brûlée at the café on Monday."])
def test_short_latin1_is_decoded(tmp_path, text):
    p = tmp_path / "cafe.txt"
    p.write_bytes(text.encode("latin-1"))
    (art,) = _read(p)
    assert text in art.text


def test_utf16_with_bom_is_decoded(tmp_path):
    p = tmp_path / "utf16.txt"
    p.write_bytes(PLAIN.encode("utf-16"))
    (art,) = _read(p)
    assert art.title == TITLE and art.text == "\n\n".join(PARAS)


# ---------------------------------------------------------------- file errors


def test_empty_file(tmp_path):
    p = tmp_path / "empty.txt"
    p.write_bytes(b"")
    msg = _error(p)
    assert "empty.txt" in msg and "empty" in msg.replace("empty.txt", "")


def test_whitespace_only_file(tmp_path):
    p = tmp_path / "blank.txt"
    p.write_text("  \n\n\t \r\n   \n")
    msg = _error(p)
    assert "blank.txt" in msg and "empty" in msg


def test_invisible_only_file(tmp_path):
    p = tmp_path / "invisible.txt"
    p.write_text("\u200b\u200b\n\ufeff\u200d\n")
    msg = _error(p)
    assert "invisible.txt" in msg


@pytest.mark.parametrize("name", ["picture.txt", "picture.html", "picture.json"])
def test_binary_file(tmp_path, name):
    p = tmp_path / name
    p.write_bytes(PNG)
    msg = _error(p)
    assert name in msg and "binary" in msg


def test_malformed_json(tmp_path):
    p = tmp_path / "broken.json"
    p.write_text('[{"title": "A", "text": "Some text."},\n {"title": "B", "text": "More text."\n')
    msg = _error(p)
    assert "broken.json" in msg and "malformed JSON" in msg
    assert "line 3" in msg  # where in the file the parser gave up (the unterminated end)


def test_malformed_jsonl_names_the_line(tmp_path):
    p = tmp_path / "broken.jsonl"
    good = json.dumps({"title": "A", "text": "Some text."})
    p.write_text(f'{good}\n\n{{"title": "B", "text": \n{good}\n')
    msg = _error(p)
    assert "broken.jsonl:3" in msg and "malformed JSON" in msg


@pytest.mark.parametrize(
    "record",
    [
        {"title": "No text"},
        {"title": "Empty", "text": "   "},
        {"title": "Not a string", "text": 42},
        "just a string",
        None,
    ],
)
def test_json_record_without_text(tmp_path, record):
    p = tmp_path / "records.json"
    p.write_text(json.dumps([{"title": "Fine", "text": "Some text."}, record]))
    msg = _error(p)
    assert "records.json:2" in msg and "'text'" in msg


def test_news_api_records_are_read_by_their_own_field_names(tmp_path):
    """NewsAPI answers {"status": "ok", "articles": [{"source": {"name": ...}, "content": ..., "publishedAt": ...}]},
    MultiHop-RAG's corpus calls the text "body": each was refused ("needs a non-empty 'text'") or read as one
    record. The names news APIs and datasets use are read, and a list wrapped in one object is that list."""
    newsapi = {
        "status": "ok",
        "totalResults": 2,
        "articles": [
            {
                "source": {"id": None, "name": "Valencia Daily"},
                "title": TITLE,
                "url": "https://news.example.com/floods",
                "publishedAt": "2024-11-04T08:00:00Z",
                "description": DEK,
                "content": "\n\n".join(PARAS[:2]) + " Officials said … [+2361 chars]",
            },
            {
                "title": "Aid for families",
                "body": PARAS[2],
                "description": PARAS[2][:120],  # the lead's own words: not said twice
                "published_at": "2024-11-05",
                "source": "Example Wire",
            },
        ],
    }
    p = tmp_path / "newsapi.json"
    p.write_text(json.dumps(newsapi), encoding="utf-8")
    first, second = _read(p)
    assert (first.title, first.source, first.url) == (TITLE, "Valencia Daily", "https://news.example.com/floods")
    assert first.published_at.startswith("2024-11-04") and PARAS[1] in first.text
    assert first.text.startswith(DEK + "\n\n")  # NewsAPI's text is 200 characters; its description opens it
    assert first.text.rstrip(".…").endswith("Officials said")  # NewsAPI's "[+2361 chars]" is not article text
    assert (second.title, second.source, second.text) == ("Aid for families", "Example Wire", PARAS[2])


def test_jsonl_record_without_text_names_the_line(tmp_path):
    p = tmp_path / "records.jsonl"
    good = json.dumps({"title": "A", "text": "Some text."})
    p.write_text(f"{good}\n{good}\n\n" + json.dumps({"title": "B", "summary": "wrong key"}) + "\n")
    msg = _error(p)
    assert "records.jsonl:4" in msg and "'text'" in msg


def test_jsonl_record_that_cleans_to_nothing_names_file_and_line(tmp_path):
    p = tmp_path / "records.jsonl"
    good = json.dumps({"title": "A", "text": "Some text."})
    bad = json.dumps({"title": "B", "text": "RELATED: Something else", "source": "Reuters"})
    p.write_text(f"{good}\n{bad}\n")
    msg = _error(p)
    assert "records.jsonl:2" in msg


def test_json_without_records(tmp_path):
    p = tmp_path / "none.json"
    p.write_text("[]")
    msg = _error(p)
    assert "none.json" in msg and "no records" in msg


@pytest.mark.parametrize("name", ["article.epub", "article.docx", "README"])
def test_unsupported_suffix(tmp_path, name):
    p = tmp_path / name
    p.write_text("Some article text.")
    msg = _error(p)
    assert name in msg and "unsupported" in msg and ".txt" in msg


def test_file_over_limit(tmp_path):
    p = tmp_path / "big.txt"
    p.write_text(PLAIN * 10)
    msg = _error(p, _settings(max_file_bytes=1_000))
    assert "big.txt" in msg and "1,000-byte limit" in msg and "QA_MAX_FILE_BYTES" in msg
    # at the limit it is fine
    assert _read(p, _settings(max_file_bytes=p.stat().st_size))


def test_expand_missing_path(tmp_path):
    missing = tmp_path / "nope.txt"
    with pytest.raises(InputError, match="nope.txt"):
        ingest.expand([str(missing)])


def test_expand_directory_finds_supported_files(tmp_path):
    (tmp_path / "b.txt").write_text(PLAIN)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.md").write_text(PLAIN)
    (tmp_path / "photo.png").write_bytes(PNG)
    found = ingest.expand([str(tmp_path), "https://example.invalid/x"])
    assert found == [str(tmp_path / "b.txt"), str(tmp_path / "sub" / "a.md"), "https://example.invalid/x"]


# ---------------------------------------------------------------- document ids


def test_same_article_same_id(tmp_path):
    p = tmp_path / "floods.txt"
    p.write_text(PLAIN)
    (a,) = _read(p)
    (b,) = _read(p)
    assert a.doc_id == b.doc_id and a == b
    # a copy elsewhere, and the same text given directly, are the same document
    q = tmp_path / "copy.txt"
    q.write_text(PLAIN)
    (c,) = _read(q)
    assert c.doc_id == a.doc_id
    assert ingest.from_text(PLAIN).doc_id == a.doc_id


def test_id_ignores_cosmetic_differences(tmp_path):
    a = ingest.from_text(PLAIN)
    b = ingest.from_text("\ufeff" + PLAIN.replace("\n", "\r\n").replace(" ", "  "))
    assert a.doc_id == b.doc_id


def test_different_text_different_id():
    a = ingest.from_text(PLAIN)
    b = ingest.from_text(PLAIN.replace("Monday", "Tuesday"))
    assert a.doc_id != b.doc_id
    assert len(a.doc_id) == 16 and all(c in "0123456789abcdef" for c in a.doc_id)


def test_html_twice_same_id(tmp_path):
    p = tmp_path / "floods.html"
    p.write_text(ARTICLE_HTML)
    (a,) = _read(p)
    (b,) = _read(p)
    assert a.doc_id == b.doc_id


# ---------------------------------------------------------------- URLs (127.0.0.1 only)

SLOW_SECONDS = 2.0
BIG_HTML = ARTICLE_HTML.replace("</article>", "<p>" + "filler text " * 20_000 + "</p></article>")


RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Example News</title><link>{base}/</link>
<item><title>{title}</title><link>{base}/article.html</link><description>Waters recede.</description></item>
<item><title>Gone</title><link>{base}/missing</link></item>
<item><title>Plain</title><link>{base}/article.txt</link></item>
<item><title>Again</title><link>{base}/article.html</link></item>
</channel></rss>""".replace("{title}", TITLE)
ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Example News</title>
<entry><title>{title}</title><link href="{base}/article.html"/><id>urn:1</id><updated>2024-11-04T08:00:00Z</updated></entry>
<entry><title>A feed</title><link href="{base}/feed.xml"/><id>urn:2</id><updated>2024-11-03T08:00:00Z</updated></entry>
</feed>""".replace("{title}", TITLE)
FEEDS = {
    "/feed.xml": ("application/rss+xml; charset=utf-8", RSS),
    "/atom.xml": ("application/atom+xml", ATOM),
    "/empty-feed.xml": ("text/xml", '<rss version="2.0"><channel><title>Nothing yet</title></channel></rss>'),
}


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):  # keep test output quiet
        pass

    def _send(self, status: int, kind: str, body: bytes, headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):  # noqa: N802
        try:
            self._route()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeouts, size limit): expected

    def _route(self):
        path = self.path
        if path == "/article.html":
            self._send(200, "text/html; charset=utf-8", ARTICLE_HTML.encode())
        elif path == "/redirect":
            self._send(302, "text/html", b"", {"Location": "/article.html"})
        elif path == "/article.txt":
            self._send(200, "text/plain; charset=utf-8", PLAIN.encode())
        elif path == "/records.json":
            body = json.dumps([{"title": "First story", "text": PARAS[0]}, {"title": "Second story", "text": PARAS[1]}])
            self._send(200, "application/json", body.encode())
        elif path == "/missing":
            self._send(404, "text/html", b"<html><body>Not found</body></html>")
        elif path == "/error":
            self._send(500, "text/html", b"<html><body>Oops</body></html>")
        elif path == "/image.png":
            self._send(200, "image/png", PNG)
        elif path == "/big.html":
            self._send(200, "text/html; charset=utf-8", BIG_HTML.encode())
        elif path == "/big-chunked.html":
            # no Content-Length: the size limit must hold while streaming
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Connection", "close")
            self.end_headers()
            for _ in range(50):
                self.wfile.write(b"<p>" + b"filler text " * 1_000 + b"</p>")
        elif path == "/slow":
            time.sleep(SLOW_SECONDS)
            self._send(200, "text/html; charset=utf-8", ARTICLE_HTML.encode())
        elif path == "/trickle":
            # every byte arrives well within the timeout, but the whole page takes ~2 s
            body = PLAIN.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            step = len(body) // 8 + 1
            for i in range(0, len(body), step):
                self.wfile.write(body[i : i + step])
                self.wfile.flush()
                time.sleep(0.25)
        elif path in FEEDS:
            base = f"http://{self.headers['Host']}"
            self._send(200, FEEDS[path][0], FEEDS[path][1].format(base=base).encode())
        elif path == "/empty.html":
            self._send(200, "text/html", NAV_ONLY.encode())
        else:
            self._send(404, "text/plain", b"no such path")


@pytest.fixture(scope="module")
def server():
    with serve_http(_Handler) as url:
        yield url


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch):
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


def _url_error(url: str, settings: Settings | None = None) -> str:
    with pytest.raises(InputError) as exc:
        list(ingest.read(url, settings or _settings(fetch_timeout=5)))
    msg = str(exc.value)
    assert url in msg and "\n" not in msg
    return msg


def test_url_html_article(server):
    url = f"{server}/article.html"
    (art,) = list(ingest.read(url, _settings(fetch_timeout=5)))
    assert art.title == TITLE
    assert art.url == url
    for para in PARAS:
        assert para in art.text
    for secret in SECRETS:
        assert secret not in art.text


def test_url_same_page_as_file_same_text(server, tmp_path):
    p = tmp_path / "floods.html"
    p.write_text(ARTICLE_HTML)
    (from_file,) = _read(p)
    (from_url,) = list(ingest.read(f"{server}/article.html", _settings(fetch_timeout=5)))
    assert from_url.text == from_file.text and from_url.doc_id == from_file.doc_id


def test_url_redirect_followed(server):
    (art,) = list(ingest.read(f"{server}/redirect", _settings(fetch_timeout=5)))
    assert art.title == TITLE


def test_url_plain_text(server):
    url = f"{server}/article.txt"
    (art,) = list(ingest.read(url, _settings(fetch_timeout=5)))
    assert art.title == TITLE and art.text == "\n\n".join(PARAS) and art.url == url


def test_url_json(server):
    arts = list(ingest.read(f"{server}/records.json", _settings(fetch_timeout=5)))
    assert [a.title for a in arts] == ["First story", "Second story"]


@pytest.mark.parametrize("path, status", [("/missing", 404), ("/error", 500)])
def test_url_http_error(server, path, status):
    msg = _url_error(f"{server}{path}")
    assert f"HTTP {status}" in msg


def test_url_not_a_web_page(server):
    msg = _url_error(f"{server}/image.png")
    assert "image/png" in msg and "not a web page" in msg


@pytest.mark.parametrize("path", ["/big.html", "/big-chunked.html"])
def test_url_over_limit(server, path):
    msg = _url_error(f"{server}{path}", _settings(max_file_bytes=50_000, fetch_timeout=5))
    assert "50,000-byte limit" in msg and "QA_MAX_FILE_BYTES" in msg


def test_url_article_under_limit(server):
    (art,) = list(ingest.read(f"{server}/article.html", _settings(max_file_bytes=50_000, fetch_timeout=5)))
    assert art.title == TITLE


def test_url_timeout(server):
    t0 = time.monotonic()
    msg = _url_error(f"{server}/slow", _settings(fetch_timeout=0.5))
    assert time.monotonic() - t0 < SLOW_SECONDS
    assert "timed out after 0.5 s" in msg and "QA_FETCH_TIMEOUT" in msg


def test_url_timeout_bounds_the_whole_fetch(server):
    msg = _url_error(f"{server}/trickle", _settings(fetch_timeout=0.5))
    assert "timed out" in msg


def test_url_no_article(server):
    msg = _url_error(f"{server}/empty.html")
    assert "no article text" in msg


def test_url_connection_refused():
    with socket.socket() as s:  # a port that nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/article.html"
    msg = _url_error(url, _settings(fetch_timeout=2))
    assert "cannot fetch" in msg


def test_url_read_twice_same_id(server):
    url = f"{server}/article.html"
    (a,) = list(ingest.read(url, _settings(fetch_timeout=5)))
    (b,) = list(ingest.read(url, _settings(fetch_timeout=5)))
    assert a.doc_id == b.doc_id


DEK = "Three days after record rainfall, the region counts its losses. Two hundred people were rescued from rooftops."


def _dek_page(description: str, shown: str) -> str:
    head = ARTICLE_HTML.replace("</title>", f'</title><meta name="description" content="{description}">')
    return head.replace("<main>", f'<header><p class="standfirst">{shown}</p></header><main>')


@pytest.mark.parametrize(
    ("description", "shown", "kept"),
    [
        (DEK, DEK, True),  # the standfirst under the headline, outside the article body
        (DEK, "", False),  # a description for search engines only, never shown
        (DEK[:60] + "...", DEK[:60] + "...", False),  # cut off: no whole sentence
        (PARAS[0], PARAS[0], False),  # the lead itself, already in the text
        (" ".join([DEK] * 8), " ".join([DEK] * 8), False),  # 144 words: not a standfirst
    ],
)
def test_a_shown_standfirst_that_the_body_leaves_out_is_kept(description, shown, kept):
    """WIRED's standfirst ("The West Bank was Israel's surveillance laboratory. Since the Israel-Hamas war began,
    ...") stands outside its article body, and the extraction dropped it: the story's summary was not in the
    library. The page's own description is kept, at the top, when the page shows it and the text lacks it."""
    art = ingest.from_html(_dek_page(description, shown), source="floods.html")
    paragraphs = art.text.split("\n\n")
    assert (paragraphs[0] == DEK) is kept
    assert kept or not art.text.startswith(DEK[:40])
    assert paragraphs.count(PARAS[0]) == 1 and art.title == TITLE


def test_a_news_feed_is_read_as_its_stories(server):
    """An RSS or Atom address was refused ("not a web page (content-type application/rss+xml)"). A feed is the
    addresses of its stories, each read in its place, once, at most QA_FEED_ITEMS of them."""
    with pytest.raises(ingest.Feed) as rss:
        list(ingest.read(f"{server}/feed.xml", _settings(fetch_timeout=5)))
    assert rss.value.links == [f"{server}/article.html", f"{server}/missing", f"{server}/article.txt"]
    with pytest.raises(ingest.Feed) as first:
        list(ingest.read(f"{server}/feed.xml", _settings(fetch_timeout=5, feed_items=1)))
    assert first.value.links == [f"{server}/article.html"]
    with pytest.raises(ingest.Feed) as atom:
        list(ingest.read(f"{server}/atom.xml", _settings(fetch_timeout=5)))
    assert atom.value.links == [f"{server}/article.html", f"{server}/feed.xml"]
    assert "links to no story" in _url_error(f"{server}/empty-feed.xml")


def test_a_library_given_a_feed_adds_its_stories_and_names_those_it_cannot_read(server, tmp_path):
    from conftest import FakeEmbedder

    from qa.library import Library

    lib = Library(tmp_path / "lib", _settings(fetch_timeout=5), embedder=FakeEmbedder())
    report = lib.ingest([f"{server}/atom.xml"])
    assert [d.title for d in report.added] == [TITLE]  # the feed's own story; the feed it lists is not followed
    assert [src for src, _ in report.failed] == [f"{server}/feed.xml"]
    report = lib.ingest([f"{server}/feed.xml"])
    assert [d.title for d in report.skipped] == [TITLE, TITLE] and not report.added  # the .txt says the same
    assert [src for src, _ in report.failed] == [f"{server}/missing"]
    assert "HTTP 404" in report.failed[0][1]
