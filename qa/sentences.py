"""Article text -> Sentences with stable ids and character offsets (`text[start:end] == sentence`).

Paragraphs are split first (nupunkt would join a headline to the next line), then nupunkt, whose model
ships inside the package, splits each paragraph, and a boundary it missed after a plain word ("... outage
reports. Tens of ...") is split too. Ids depend only on the text, never on chunking.
"""

from __future__ import annotations

import re

import nupunkt

from qa.text import CJK_STOPS, CLOSERS
from qa.types import Sentence

_PARAGRAPH = re.compile(r"[^\n]+")
_SPACE = re.compile(r"\s")
# A full stop after a lower-case word, or a capitalised one of four letters or more, then a capital: a
# boundary, unless the word is an abbreviation. A word inside a dotted abbreviation ("a.m.", "U.S.") or
# of one letter ("John F. Kennedy") is never taken.
_MISSED = re.compile(
    r"""(?<![\w.'’-]) (?P<word> [a-z][a-z'’-]+ | [A-Z][a-z]{3,} ) \.
        (?P<close> [\"'”’)\]]* )
        (?P<space> \s+ )
        (?= [\"'“”‘’(\[]* [A-Z] )""",
    re.VERBOSE,
)
# A full stop of Chinese or Japanese ("。", "！", "？") and its closing quotes, then more text: those languages put no
# space after it, where nupunkt looks for one
_CJK_STOP = re.compile(f"[{CJK_STOPS}][{re.escape(CLOSERS)}]*(?=\\S)")
# abbreviations that stand before a capitalised word (lower case; capitalised ones of four letters or more)
ABBREVIATIONS = frozenset(
    "approx ca cf ed eds esp etc fig figs ibid incl lit mr mrs ms no nos op pp resp vol vols vs viz al seq "
    "apr aug dec feb jan jul jun mar nov oct sep sept "
    "assn blvd bros capt comdr corp dept dist govt inst intl natl prof supt univ "
    "ariz calif colo conn mass mich minn nebr okla penn tenn wash wisc".split()
)


def spans(text: str, max_chars: int = 600) -> list[tuple[int, int]]:
    """(start, end) of each sentence, whitespace trimmed, none longer than max_chars."""
    out: list[tuple[int, int]] = []
    for para in _PARAGRAPH.finditer(text):
        base = para.start()
        for a, b in nupunkt.sent_spans(para.group()):
            for s, e in _missed(text, *_trim(text, base + a, base + b)):
                for c, d in _cjk(text, s, e):
                    out.extend(_cut(text, c, d, max_chars))
    return out


def _missed(text: str, s: int, e: int) -> list[tuple[int, int]]:
    """The span split at the boundaries nupunkt missed; empty when the span is."""
    cuts = (m.span("space") for m in _MISSED.finditer(text, s, e) if m["word"].casefold() not in ABBREVIATIONS)
    return _pieces(s, e, cuts)


def _cjk(text: str, s: int, e: int) -> list[tuple[int, int]]:
    """The span split after each Chinese or Japanese full stop inside it."""
    return _pieces(s, e, ((m.end(), m.end()) for m in _CJK_STOP.finditer(text, s, e)))


def _pieces(s: int, e: int, cuts) -> list[tuple[int, int]]:
    """The span s..e cut at each (end of one piece, start of the next); empty when the span is."""
    pieces = []
    for end, start in cuts:
        pieces.append((s, end))
        s = start
    return [*pieces, (s, e)] if e > s else pieces


def split(doc_id: str, text: str, max_chars: int = 600, found: list[tuple[int, int]] | None = None) -> list[Sentence]:
    """The text's sentences; from `found` (its spans) when the caller has split it already."""
    found = spans(text, max_chars) if found is None else found
    return [
        Sentence(id=f"{doc_id}:{n}", doc_id=doc_id, n=n, text=text[s:e], start=s, end=e)
        for n, (s, e) in enumerate(found)
    ]


def _trim(text: str, s: int, e: int) -> tuple[int, int]:
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    return s, e


def _cut(text: str, s: int, e: int, max_chars: int) -> list[tuple[int, int]]:
    """A run-on 'sentence' (a list, a table row, text with no punctuation) is cut at the last space
    before max_chars, or hard at max_chars when there is none."""
    pieces = []
    while e - s > max_chars:
        window = text[s : s + max_chars]
        cut = max((m.start() for m in _SPACE.finditer(window)), default=0)
        cut = cut if cut > max_chars // 2 else max_chars
        a, b = _trim(text, s, s + cut)
        if b > a:
            pieces.append((a, b))
        s, _ = _trim(text, s + cut, e)
    if e > s:
        pieces.append((s, e))
    return pieces
