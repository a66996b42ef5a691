"""PDF -> Article: words by position (pdfplumber), read column by column, running headers and footers left
out, line-end hyphenation joined, and a page map (where each page starts in the clean text) for "p. 3".

Called by qa/ingest.py for .pdf files; `page_of` turns a sentence's start offset into its page number.
"""

from __future__ import annotations

import bisect
import io
import logging
import re
from collections import Counter
from dataclasses import dataclass, field

from qa import clean
from qa.errors import InputError
from qa.text import content_id
from qa.types import Article

RUNNING_ZONE = 2  # lines at the top and at the bottom of a page where running headers and footers sit
RUNNING_GAP = 1.0  # and the gap, in their font size, that sets them apart from the text
PARAGRAPH_GAP = 0.7  # a vertical gap wider than this many font sizes starts a new paragraph
GUTTER_LINES = 0.2  # a gutter is crossed by at most this share of a page's lines (titles, full-width text)
COLUMN_WORDS = 0.2  # and has at least this share of the page's words on each side
_PAGE_NUMBER = re.compile(r"^\W*(?:page\s*)?(?:\d+|[ivxlc]+)(?:\s*(?:of|/)\s*\d+)?\W*$", re.IGNORECASE)
_DIGITS = re.compile(r"\d+")
_WORD = re.compile(r"\w+(?:-\w+)*")
_HYPHENATED = re.compile(r"(?P<head>\w+)-$")


@dataclass
class _Line:
    """A run of words on one baseline, or the part of it in one column."""

    page: int  # 1-based
    top: float
    bottom: float
    size: float
    words: list[dict] = field(repr=False)
    block: tuple = ()  # (band, column) on its page: a change of block is a column or page break

    @property
    def text(self) -> str:
        return " ".join(w["text"] for w in self.words)


def page_of(pages: tuple[int, ...] | list[int], offset: int) -> int:
    """The 1-based page on which the character at `offset` stands; `pages[i]` is where page i+1 starts."""
    return max(1, bisect.bisect_right(pages, offset))


def from_pdf(raw: bytes, source: str) -> Article:
    pages = _read_words(raw, source)
    if not any(pages):
        raise InputError(
            f"{source}: this PDF has no text layer (a scan?); run OCR on it first or give the article's text."
        )
    lines = _drop_running([_lines(words, n) for n, words in enumerate(pages, 1)])
    ordered = [piece for page in lines for piece in _reading_order(page)]
    pars = _paragraphs(ordered, _vocabulary(ordered))
    cleaned = [(page, text) for page, par in pars for text in clean.paragraphs(par)]
    title, rest = clean.split_title([t for _, t in cleaned])
    page_no = [page for page, _ in cleaned[len(cleaned) - len(rest) :]]
    parts = clean.body_parts(rest)
    text = "\n\n".join(t for _, t in parts)
    if not text:
        raise InputError(f"{source}: no article text left in the PDF after cleaning; give the article's text.")
    return Article(
        doc_id=content_id(text), title=title, text=text, source=source, pages=_page_map(parts, page_no, len(pages))
    )


def _read_words(raw: bytes, source: str) -> list[list[dict]]:
    """Each page's words with their boxes and font sizes; an encrypted or broken file is one InputError."""
    import pdfplumber
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect

    logging.getLogger("pdfminer").setLevel(logging.ERROR)  # its warnings on odd but readable files are noise here
    try:
        with pdfplumber.open(io.BytesIO(raw)) as pdf:
            # gaps measured against the font size: a fixed tolerance glues words of small type together
            return [p.extract_words(x_tolerance_ratio=0.15, extra_attrs=["size"]) for p in pdf.pages]
    # pdfminer raises many kinds on a broken file (PSEOF, PDFSyntaxError, KeyError, ...), pdfplumber wraps some
    except Exception as e:  # noqa: BLE001
        cause = e.args[0] if e.args and isinstance(e.args[0], Exception) else e
        if isinstance(cause, (PDFPasswordIncorrect, PDFEncryptionError)):
            raise InputError(
                f"{source}: the PDF is encrypted with a password; save an unprotected copy and add that."
            ) from None
        raise InputError(
            f"{source}: not a readable PDF ({type(cause).__name__}); the file may be damaged or truncated, "
            "save or download it again."
        ) from None


def _lines(words: list[dict], page: int) -> list[_Line]:
    """Words grouped by baseline, top to bottom, each line's words left to right."""
    lines: list[_Line] = []
    for w in sorted(words, key=lambda w: (round(w["top"]), w["x0"])):
        last = lines[-1] if lines else None
        if last and abs(w["top"] - last.top) <= 0.4 * max(w["size"], last.size):
            last.words.append(w)
            last.bottom = max(last.bottom, w["bottom"])
        else:
            lines.append(_Line(page, w["top"], w["bottom"], w["size"], [w]))
    for line in lines:
        line.words.sort(key=lambda w: w["x0"])
    return lines


def _drop_running(pages: list[list[_Line]]) -> list[list[_Line]]:
    """Leave out running headers and footers: lines at the top or bottom of a page, set apart from the text
    by a wide gap, that repeat in the same type size on most pages or on three at least (a chapter's
    header), page numbers aside ("Page 2 of 9" and "Page 3 of 9" are one line); and bare page numbers.
    The title on page 1, in larger type than the header that repeats it, stays."""

    def key(line: _Line) -> tuple[str, int]:
        return _DIGITS.sub("#", " ".join(line.text.casefold().split())), round(line.size)

    zones = [_edge(page) + _edge(page[::-1]) for page in pages]
    seen = Counter(k for zone in zones for k in {key(line) for line in zone})
    running = {k for k, n in seen.items() if n >= 3 or (n == 2 and 2 * n > len(pages))}
    dropped = {id(line) for zone in zones for line in zone if key(line) in running or _PAGE_NUMBER.match(line.text)}
    return [[line for line in page if id(line) not in dropped] for page in pages]


def _edge(lines: list[_Line]) -> list[_Line]:
    """The first lines, up to RUNNING_ZONE of them, when a wide gap parts them from the rest."""
    for n, (a, b) in enumerate(zip(lines[:RUNNING_ZONE], lines[1 : RUNNING_ZONE + 1])):
        if max(b.top - a.bottom, a.top - b.bottom) > RUNNING_GAP * a.size:
            return lines[: n + 1]
    return []


def _reading_order(lines: list[_Line]) -> list[_Line]:
    """A page's lines in reading order: top to bottom, but column by column where the page has columns.
    A line that crosses a gutter (a title, a full-width paragraph) closes the columns above it."""
    cuts = _gutters(lines)
    out: list[_Line] = []
    band: dict[int, list[_Line]] = {}  # column -> its lines since the last full-width line
    n_band = 0
    for line in lines:
        if any(bisect.bisect(cuts, w["x0"]) != bisect.bisect(cuts, w["x1"]) for w in line.words):
            out += [piece for col in sorted(band) for piece in band[col]]
            line.block = (n_band + 1, -1)
            out.append(line)
            band, n_band = {}, n_band + 2
            continue
        cols = [bisect.bisect(cuts, (w["x0"] + w["x1"]) / 2) for w in line.words]
        for col in sorted(set(cols)):
            words = [w for w, c in zip(line.words, cols) if c == col]
            band.setdefault(col, []).append(_Line(line.page, line.top, line.bottom, line.size, words, (n_band, col)))
    return out + [piece for col in sorted(band) for piece in band[col]]


def _gutters(lines: list[_Line]) -> list[float]:
    """The x of each gutter between columns: a vertical strip at least a font size wide that (almost) no
    line's words cover, with a fair share of the page's words on either side."""
    words = [w for line in lines for w in line.words]
    if len(lines) < 4:
        return []
    lo, hi = int(min(w["x0"] for w in words)), int(max(w["x1"] for w in words)) + 1
    cover = [0] * (hi - lo)
    for line in lines:
        hit = set()
        for w in line.words:
            hit.update(range(int(w["x0"]) - lo, int(w["x1"]) - lo))
        for x in hit:
            cover[x] += 1
    em = sorted(w["size"] for w in words)[len(words) // 2]
    cuts, start = [], None
    for x, n in enumerate(cover + [len(lines)]):
        if n <= GUTTER_LINES * len(lines):
            start = x if start is None else start
            continue
        if start is not None and x - start >= em:
            mid = lo + (start + x) / 2
            left = sum(w["x1"] <= mid for w in words)
            if min(left, sum(w["x0"] >= mid for w in words)) >= COLUMN_WORDS * len(words):
                cuts.append(mid)
        start = None
    return cuts


def _paragraphs(lines: list[_Line], vocab: set[str]) -> list[tuple[int, str]]:
    """(page, text) of each paragraph: lines joined until a wide gap or a change of type size. A sentence
    that runs on into the next column or page (no full stop, a lower-case start) stays one paragraph."""
    pars: list[list] = []  # [page, text, last line]
    for line in lines:
        prev = pars[-1] if pars else None
        if prev and (_same_paragraph(prev[2], line) or _runs_on(prev[1], prev[2], line)):
            prev[1], prev[2] = _join(prev[1], line.text, vocab), line
        else:
            pars.append([line.page, line.text, line])
    return [(page, text) for page, text, _ in pars]


def _same_paragraph(prev: _Line, line: _Line) -> bool:
    return (
        (prev.page, prev.block) == (line.page, line.block)
        and _same_size(prev, line)
        and line.top - prev.bottom <= PARAGRAPH_GAP * line.size
    )


def _runs_on(text: str, prev: _Line, line: _Line) -> bool:
    moved = (prev.page, prev.block) != (line.page, line.block)
    return moved and _same_size(prev, line) and line.text[:1].islower() and not clean.ends_sentence(text)


def _same_size(a: _Line, b: _Line) -> bool:
    return abs(a.size - b.size) <= 0.15 * max(a.size, b.size)


def _join(text: str, more: str, vocab: set[str]) -> str:
    """Two lines as one: "recon-" + "struction" -> "reconstruction", but "al-" + "Assad" -> "al-Assad" and
    "well-" + "known" stays "well-known" when the document writes it so elsewhere."""
    if text.endswith("\u00ad"):  # a soft hyphen only ever marks a break
        return text[:-1] + more
    hyphen = _HYPHENATED.search(text)
    if not hyphen:
        return f"{text} {more}"
    tail = _WORD.match(more)
    if tail and more[:1].islower():
        head, rest = hyphen["head"], tail.group().split("-")[0]
        if (head + rest).casefold() in vocab or f"{head}-{rest}".casefold() not in vocab:
            return text[:-1] + more
    return text + more


def _vocabulary(lines: list[_Line]) -> set[str]:
    """The words the document writes whole within a line, hyphens included: evidence for line-end hyphens."""
    return {m.group().casefold() for line in lines for m in _WORD.finditer(line.text)}


def _page_map(parts: list[tuple[int, str]], page_no: list[int], n_pages: int) -> tuple[int, ...]:
    """Where each page starts in the text "\\n\\n".join(parts); a page with no text starts where the next one does."""
    starts: dict[int, int] = {}
    at = 0
    for i, text in parts:
        starts.setdefault(page_no[i], at)
        at += len(text) + 2
    out, nxt = [], at - 2
    for page in range(n_pages, 0, -1):
        nxt = starts.get(page, nxt)
        out.append(nxt)
    return tuple(reversed(out))
