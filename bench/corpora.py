"""The corpora `python -m bench perf` measures on: deterministic prefixes of one sequence of real sentences
from ../shared/data, cut at exact sentence counts.

One ordered sequence of articles; every corpus is a prefix of it, cut at an exact sentence count:
  1. base: the MultiHop-RAG evidence articles (facts grouped by url) and the RGB snippets, as
     `python -m bench quality` builds them, so the gold facts are in every corpus;
  2. filler: SummEdits documents, then the WiCE evidence pages (dev, then test), every sentence not
     seen before (case and space blind) and of at least MIN_WORDS words, lines kept as paragraphs;
  3. when the real sentences run out: the filler again, pass r = 2, 3, ... with every sentence
     prefixed "Copy r: ", so that no two sentences are equal (the report says how many were copies).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from bench import data as sets
from qa import clean, sentences
from qa.errors import InputError
from qa.ingest import from_text
from qa.text import squash
from qa.types import Article

MIN_WORDS = 4  # filler lines with fewer words are page chrome (menus, buttons, bylines), not sentences


def _words(s: str) -> int:
    """Words with a letter or digit in them ("###" and "|" are not words)."""
    return sum(any(c.isalnum() for c in w) for w in s.split())


def _base(data: Path) -> list[Article]:
    _, truth = sets.multihop(data)
    rgb = sets.rgb_rows(data, range(10**6))
    return sets.multihop_articles(truth.values()) + sets.rgb_articles(rgb)


def _filler_pages(data: Path) -> Iterator[tuple[str, str, list[str]]]:
    """(title, source, lines) of each filler page in order."""
    docs = dict.fromkeys(r["doc"] for r in json.loads((data / "summedits_news.json").read_text()))
    for n, doc in enumerate(docs):
        yield f"summedits {n}", "summedits", doc.split("\n")
    for split in sets.SPLITS:
        for row in sets.wice_rows(data, split):
            meta = [e for e in row["evidence"] if e.startswith("(meta data)")]
            title = meta[0].split("TITLE:", 1)[-1].strip() if meta else row["meta"].get("claim_title", "")
            yield title or "wice page", f"wice {split}", [e for e in row["evidence"] if not e.startswith("(meta data)")]


def _new_sentences(lines: list[str], seen: set[str], max_chars: int) -> list[list[str]]:
    """The page's unseen sentences of MIN_WORDS+ words, line by line (empty lines dropped)."""
    out = []
    for line in lines:
        line = " ".join(clean.normalize(line).split())
        new = [line[s:e] for s, e in sentences.spans(line, max_chars)]
        new = [s for s in new if _words(s) >= MIN_WORDS and squash(s) not in seen]
        seen.update(squash(s) for s in new)
        if new:
            out.append(new)
    return out


def _article(lines: list[list[str]], title: str, source: str, prefix: str = "") -> Article | None:
    """None for a page with nothing left to ingest (qa refuses a text that cleaning leaves empty: a WiCE page
    of only chrome, as the library would refuse it)."""
    text = "\n\n".join(" ".join(prefix + s for s in line) for line in lines)
    try:
        return from_text(text, source=source, title=title) if text.strip() else None
    except InputError:
        return None


def articles(data: Path, max_chars: int = 600) -> Iterator[tuple[Article, int, int]]:
    """(article, its sentence count as the library splits it, part), in order; part 0 is the base
    corpus, 1 the real filler, r >= 2 the filler's copy pass r."""
    seen: set[str] = set()
    ids: set[str] = set()

    def fresh(a: Article | None, copy: int):
        if a is not None and a.doc_id not in ids:
            ids.add(a.doc_id)
            spans = sentences.spans(a.text, max_chars)
            seen.update(squash(a.text[s:e]) for s, e in spans)
            yield a, len(spans), copy

    for a in _base(data):
        yield from fresh(a, 0)
    pages = []
    for title, source, lines in _filler_pages(data):
        kept = _new_sentences(lines, seen, max_chars)
        pages.append((title, source, kept))
        yield from fresh(_article(kept, title, source), 1)
    for copy in range(2, 10**6):
        for title, source, kept in pages:
            yield from fresh(_article(kept, title, source, f"Copy {copy}: "), copy)


def corpus(data: Path, size: str, max_chars: int = 600) -> tuple[list[Article], dict]:
    """The first `size` sentences of the sequence (the last article cut at a sentence end), or the
    base corpus for size "base"; with a summary of what is in it."""
    out: list[Article] = []
    total, copies = 0, 0
    want = None if size == "base" else int(size)
    for a, n, part in articles(data, max_chars):
        if want is None and part > 0:
            break
        if want is not None and total + n > want:
            a, n = _cut(a, want - total, max_chars)
        if n:
            out.append(a)
            total += n
            copies += n if part > 1 else 0
        if want is not None and total >= want:
            break
    return out, {"size": size, "sentences": total, "articles": len(out), "copied_sentences": copies}


def _cut(a: Article, n: int, max_chars: int) -> tuple[Article, int]:
    """The article's first n sentences."""
    if n <= 0:
        return a, 0
    end = sentences.spans(a.text, max_chars)[n - 1][1]
    cut = from_text(a.text[:end], source=a.source, title=a.title, url=a.url, published_at=a.published_at)
    return cut, len(sentences.spans(cut.text, max_chars))
