"""Text, HTML, PDF, JSON/JSONL records and URLs -> Articles (clean text, title, source, date, content-hash id).

Every failure is an InputError naming the file (and line) and what to do; nothing here touches the index.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from qa import clean, records, webpage
from qa.config import Settings
from qa.errors import InputError
from qa.text import content_id, word_count
from qa.types import Article, DocumentInfo

TEXT_SUFFIXES = {".txt", ".md", ".markdown", ".text"}
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
JSON_SUFFIXES = {".json", ".jsonl", ".ndjson"}
PDF_SUFFIXES = {".pdf"}
SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | JSON_SUFFIXES | PDF_SUFFIXES
MIN_ARTICLE_WORDS = 5  # what an HTML page must yield to count as an article (not a menu or a footer)
# The longest fields an article record may carry: they are listed on every page and copied into each
# sentence's keyword entry, so one long title must not be repeated thousands of times. A longer title or
# source is cut at a word; a longer url or date is no usable link or date and is dropped.
FIELD_CHARS = {"title": clean.TITLE_CHARS, "source": 300, "url": 2048, "published_at": 64}
# A "word" longer than LONG_RUN characters is data (base64, minified code, a hex dump), not text; an
# article may hold at most UNBROKEN_CHARS of such runs, each of which is cut into pieces of
# QA_MAX_SENTENCE_CHARS, embedded one by one.
LONG_RUN = 1000
UNBROKEN_CHARS = 100_000
_LONG_RUN = re.compile(rf"\S{{{LONG_RUN},}}")
# well-formed multi-byte UTF-8 sequences: text that has them and still fails to decode is broken UTF-8
_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")


class Feed(Exception):
    """Not an article but a news feed (RSS or Atom): the addresses of its stories, to read in its place."""

    def __init__(self, links: list[str]) -> None:
        super().__init__(f"a feed of {len(links)} stories")
        self.links = links


FEED_TYPES = {"application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/xml", "text/xml"}
_FEED_ROOT = re.compile(rb"<(?:rss|feed|rdf:RDF)\b")


def expand(sources: list[str]) -> list[str]:
    """Paths, directories (searched recursively for supported files) and URLs, in a stable order."""
    out: list[str] = []
    for src in sources:
        if is_url(src):
            out.append(src)
            continue
        path = Path(src)
        if path.is_dir():
            found = [str(p) for p in sorted(path.rglob("*")) if p.is_file() and p.suffix.lower() in SUFFIXES]
            if not found:
                raise InputError(f"{src}: no {', '.join(sorted(SUFFIXES))} files in this folder; give article files.")
            out.extend(found)
        elif path.exists():
            out.append(src)
        else:
            raise InputError(f"{src}: no such file or directory.")
    return out


def is_url(src: str) -> bool:
    return src.startswith(("http://", "https://"))


def read(source: str, settings: Settings) -> Iterator[Article]:
    """The articles in one file or URL."""
    if is_url(source):
        yield from _from_url(source, settings)
        return
    path = Path(source)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise InputError(
            f"{source}: unsupported file type {suffix or '(none)'}; use one of {', '.join(sorted(SUFFIXES))}."
        )
    if path.exists() and not path.is_file():  # a pipe or a device would block the read or never end
        raise InputError(f"{source}: not a regular file; give a saved article file.")
    try:
        size = path.stat().st_size
        if size > settings.max_file_bytes:
            raise InputError(
                f"{source}: {size:,} bytes is over the {settings.max_file_bytes:,}-byte limit; split it or raise QA_MAX_FILE_BYTES."
            )
        raw = path.read_bytes()
    except OSError as e:
        raise InputError(
            f"{source}: cannot read the file ({e.strerror or type(e).__name__}); check the path and its permissions."
        ) from None
    if suffix in HTML_SUFFIXES:
        yield from_html(raw, source=source)
    elif suffix in JSON_SUFFIXES:
        yield from from_json(decode(raw, source), source, lines=suffix != ".json")
    elif suffix in PDF_SUFFIXES:
        from qa import pdf  # pdf imports this module (doc_id)

        yield pdf.from_pdf(raw, source)
    else:
        yield from_text(decode(raw, source), source=source, markdown=suffix in {".md", ".markdown"})


def decode(raw: bytes, source: str) -> str:
    """UTF-8 (with or without BOM), else the detected encoding (Latin-1, cp1252, ...); binary is refused."""
    if not raw.strip():
        raise InputError(f"{source}: the file is empty (or only spaces); give a file with article text.")
    if b"\x00" in raw[:8192] and not raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(f"{source}: looks like a binary file, not text; give a .txt, .md, .html or .json article.")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            raise InputError(f"{source}: broken UTF-16 text; save it as UTF-8 and try again.") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        if _UTF8_MULTIBYTE.search(raw):  # UTF-8 with broken bytes, not another encoding: do not guess
            line = raw.count(b"\n", 0, e.start) + 1
            raise InputError(
                f"{source}:{line}: invalid UTF-8 (byte {e.start:,}); fix that line or save the file as UTF-8."
            ) from None
    western = _western(raw)
    if western is not None:
        return western
    from charset_normalizer import from_bytes

    best = from_bytes(raw).best()
    if best is None:
        raise InputError(f"{source}: cannot tell the text encoding; save it as UTF-8 and try again.")
    return str(best)


def _western(raw: bytes) -> str | None:
    """cp1252 (a superset of Latin-1's printable range) when the text reads as Western European: mostly
    ASCII letters with a few accented ones. Statistical detection guesses wrong on short texts like
    "café"; a Cyrillic or Greek text in cp1252 would be almost all non-ASCII and is left to the detector."""
    try:
        text = raw.decode("cp1252")
    except UnicodeDecodeError:
        return None
    letters = [c for c in text if c.isalpha()]
    accented = sum(1 for c in letters if ord(c) > 127)
    return text if letters and accented / len(letters) < 0.3 else None


def from_text(
    text: str,
    source: str = "",
    title: str = "",
    url: str = "",
    published_at: str = "",
    markdown: bool = False,
    lead: str = "",
) -> Article:
    """`lead`: a standfirst that the text lacks, put first, under the headline."""
    check_prose(text, source)
    pars = clean.paragraphs(text)
    if title:
        title = " ".join(clean.normalize(title).split())
        if pars and pars[0].casefold() == title.casefold():
            pars = pars[1:]  # the headline repeated at the top of the body (an HTML h1)
    else:
        title, pars = clean.split_title(pars, markdown=markdown)
    pars = clean.paragraphs(lead) + pars
    body = clean.body(pars)
    if not body:
        raise InputError(
            f"{source or 'text'}: no article text left after cleaning (only spaces, invisible characters "
            "or page chrome); give it the article's text."
        )
    article = Article(
        doc_id=content_id(body), title=title, text=body, source=source, url=url, published_at=published_at
    )
    return bounded(article)


def bounded(article: Article) -> Article:
    """The article with its fields within FIELD_CHARS (its text and id unchanged)."""
    fields = {k: getattr(article, k) for k in FIELD_CHARS}
    cut = bounded_fields(fields)
    return article if cut == fields else replace(article, **cut)


def bounded_info(info: DocumentInfo) -> DocumentInfo:
    """A document record's fields within FIELD_CHARS (a record written before there were bounds)."""
    fields = {k: getattr(info, k) for k in FIELD_CHARS}
    cut = bounded_fields(fields)
    return info if cut == fields else replace(info, **cut)


def bounded_fields(fields: dict[str, str]) -> dict[str, str]:
    """{title, source, url, published_at} within FIELD_CHARS: title and source cut at a word, a url or
    date too long to be one dropped."""
    return {
        k: clean.clip(v, FIELD_CHARS[k]) if k in ("title", "source") else ("" if len(v) > FIELD_CHARS[k] else v)
        for k, v in fields.items()
    }


def check_prose(text: str, source: str) -> None:
    """Refuse text that is mostly one unbroken run of characters: each 600 characters of it would be
    one 'sentence' for the model, thousands of them, none of them readable."""
    runs = sum(m.end() - m.start() for m in _LONG_RUN.finditer(text))
    if runs > UNBROKEN_CHARS:
        raise InputError(
            f"{source or 'text'}: {runs:,} characters in runs of {LONG_RUN:,} or more without a space "
            f"(base64, minified code or data?), over the {UNBROKEN_CHARS:,} an article may hold; "
            "give article text."
        )


def from_html(raw: bytes | str, source: str = "", url: str = "") -> Article:
    """Main text and metadata by trafilatura; scripts, styles, navigation and comments are left out."""
    import trafilatura

    html = decode(raw, source) if isinstance(raw, bytes) else raw
    page = webpage.visible(html)
    doc = trafilatura.bare_extraction(
        page,
        url=url or None,
        with_metadata=True,
        include_comments=False,
        include_tables=False,
        favor_precision=True,
        # dates from the page's metadata and markup only, not guessed from text such as "Copyright 2024"
        date_extraction_params={"extensive_search": False, "original_date": True},
    )
    if doc is None or word_count(doc.text or "") < MIN_ARTICLE_WORDS:
        raise InputError(
            f"{source or url or 'page'}: no article text found in the HTML; give the page of one article, not a menu or an index."
        )
    home = url or doc.url or ""
    if webpage.front_page(home) and doc.pagetype != "article":
        raise InputError(
            f"{source or url or 'page'}: {home} is a site's front page, a list of stories rather than one article; "
            "give the address (or the saved page) of one story."
        )
    title = doc.title or clean.split_title(clean.paragraphs(doc.text))[0]
    return from_text(
        doc.text,
        source=doc.sitename or source or url,
        title=title,
        url=url or doc.url or "",
        published_at=doc.date or "",
        lead=webpage.shown_standfirst(page, doc.description or "", title, doc.text),
    )


def from_json(text: str, source: str, lines: bool) -> Iterator[Article]:
    """Records with a text and optionally a title, url, source and date (qa/records.py reads the names news
    APIs give them). A file with a bad record is refused whole (the line is named), so a re-run after fixing
    it ingests everything once."""
    found = list(records.parse(text, source, lines))
    if not found:
        raise InputError(f"{source}: no records found; expected objects with 'title' and 'text'.")
    articles = []
    for line, rec in found:
        where = f"{source}:{line}"
        meta = records.fields(rec)
        if not meta["text"].strip():
            raise InputError(f"{where}: each record {records.NO_TEXT}; fix that record.")
        check_prose(meta["text"], where)
        try:
            articles.append(
                from_text(
                    meta["text"],
                    source=meta["source"] or source,
                    title=meta["title"],
                    url=meta["url"],
                    published_at=meta["published_at"],
                    lead=meta["lead"],
                )
            )
        except InputError:
            raise InputError(
                f"{where}: the record's text is empty after cleaning; fix or remove that record."
            ) from None
    yield from articles


def _from_url(url: str, settings: Settings) -> Iterator[Article]:
    import httpx

    try:
        with httpx.stream("GET", url, timeout=settings.fetch_timeout, follow_redirects=True) as resp:
            if resp.status_code >= 400:
                raise InputError(f"{url}: the server answered HTTP {resp.status_code}; check the address.")
            kind = resp.headers.get("content-type", "").split(";")[0].strip().lower()
            if kind and not (
                kind.startswith("text/") or kind in {"application/xhtml+xml", "application/json"} | FEED_TYPES
            ):
                raise InputError(f"{url}: not a web page (content-type {kind}); give the article's HTML address.")
            body = bytearray()
            deadline = time.monotonic() + settings.fetch_timeout  # for the whole body, not each read
            for part in resp.iter_bytes():
                body += part
                if time.monotonic() > deadline:
                    raise httpx.ReadTimeout("deadline")
                if len(body) > settings.max_file_bytes:
                    raise InputError(
                        f"{url}: larger than the {settings.max_file_bytes:,}-byte limit; raise QA_MAX_FILE_BYTES to allow it."
                    )
    except httpx.TimeoutException:
        raise InputError(
            f"{url}: timed out after {settings.fetch_timeout:g} s; try again or raise QA_FETCH_TIMEOUT."
        ) from None
    except httpx.HTTPError as e:
        raise InputError(f"{url}: cannot fetch ({type(e).__name__}); check the address and the network.") from None
    if kind in FEED_TYPES and _FEED_ROOT.search(bytes(body[:4096])):
        raise Feed(_stories(url, bytes(body), settings))
    if kind == "application/json":
        yield from from_json(decode(bytes(body), url), url, lines=False)
    elif kind == "text/plain":
        yield from_text(decode(bytes(body), url), source=url, url=url)
    else:
        yield from_html(bytes(body), source=url, url=url)


def _stories(url: str, body: bytes, settings: Settings) -> list[str]:
    """The web addresses of a feed's stories, the first QA_FEED_ITEMS (feeds list the newest first)."""
    import feedparser

    links = [e.get("link", "") for e in feedparser.parse(body).entries]
    links = list(dict.fromkeys(link for link in links if is_url(link)))[: settings.feed_items]
    if not links:
        raise InputError(f"{url}: a news feed that links to no story; give the address of one story.")
    return links
