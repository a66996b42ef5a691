"""Article text -> Sentences with stable ids and character offsets (`text[start:end] == sentence`).

Paragraphs are split first (nupunkt would join a headline to the next line), then nupunkt, whose model
ships inside the package, splits each paragraph. Ids depend only on the text, never on chunking.
"""

from __future__ import annotations

import re

import nupunkt

from qa.types import Sentence

_PARAGRAPH = re.compile(r"[^\n]+")
_SPACE = re.compile(r"\s")


def spans(text: str, max_chars: int = 600) -> list[tuple[int, int]]:
    """(start, end) of each sentence, whitespace trimmed, none longer than max_chars."""
    out: list[tuple[int, int]] = []
    for para in _PARAGRAPH.finditer(text):
        base = para.start()
        for s, e in nupunkt.sent_spans(para.group()):
            s, e = _trim(text, base + s, base + e)
            if e > s:
                out.extend(_cut(text, s, e, max_chars))
    return out


def split(doc_id: str, text: str, max_chars: int = 600) -> list[Sentence]:
    return [
        Sentence(id=f"{doc_id}:{n}", doc_id=doc_id, n=n, text=text[s:e], start=s, end=e)
        for n, (s, e) in enumerate(spans(text, max_chars))
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
