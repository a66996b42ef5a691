"""Raw article text -> clean paragraphs, a title, and no page chrome.

General rules, no site-specific strings:
- unicode NFKC, invisible characters (zero-width, bidi controls) removed, whitespace collapsed;
- a paragraph that repeats an earlier one (or is contained in it) is dropped: captions repeat;
- photo credits in parentheses are cut from captions;
- cross-link lines ("RELATED: ...", "READ MORE: ...": an all-caps label, a colon, a headline) are dropped;
- in plain text the title is the first headline-like paragraph near the top, and what stands before it
  (browser banners, cookie notices, navigation) is page chrome.
"""

from __future__ import annotations

import collections
import re
import unicodedata

# zero-width spaces and joiners, BOM, word joiner, soft hyphen, bidi marks/embeddings/overrides/isolates
_INVISIBLE = re.compile("[\u00ad\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACES = re.compile(r"[^\S\n]+")
_CREDIT = re.compile(r"\s*\((?:photo|image|picture|video|credit|file photo)s?\b[^()]{0,160}\)", re.I)
_LINK_LINE = re.compile(r"^[A-Z][A-Z0-9 &'/-]{1,30}:\s+\S")
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*$")
_MD_HEADING = re.compile(r"^#{1,6}\s+")
_NAVIGATION = re.compile(r"\s[|>»›•·/]\s")  # "Home | World | Europe", "News > Middle East"

TITLE_SEARCH = 3  # the headline must be among the first paragraphs
TITLE_MAX_WORDS = 25
REPEAT_WINDOW = 200  # earlier paragraphs a paragraph may be contained in (see drop_repeats)
TITLE_CHARS = 300  # a longer line is no headline; a longer given title is cut at a word (the lists show it)


def normalize(text: str) -> str:
    text = unicodedata.normalize("NFKC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _INVISIBLE.sub("", text)
    return _CONTROL.sub(" ", text)


def paragraphs(text: str) -> list[str]:
    """Non-empty lines, whitespace collapsed, with photo credits cut."""
    out = []
    for line in normalize(text).split("\n"):
        # spaces collapsed before credits are cut: _CREDIT's leading \s* on a long run of spaces is quadratic
        line = _SPACES.sub(" ", _CREDIT.sub("", _SPACES.sub(" ", line))).strip()
        if line:
            out.append(line)
    return out


def is_headline(par: str) -> bool:
    words = par.split()
    return (len(par) <= TITLE_CHARS and 2 <= len(words) <= TITLE_MAX_WORDS and not _SENTENCE_END.search(par)
            and not is_link_line(par) and not _NAVIGATION.search(par))


def is_link_line(par: str) -> bool:
    return bool(_LINK_LINE.match(par)) and len(par.split()) <= 25 and not _SENTENCE_END.search(par)


def drop_repeats(pars: list[str]) -> list[str]:
    """Drop a paragraph equal to, or contained in, an earlier one (compared case- and space-blind).
    Containment is looked for among the last REPEAT_WINDOW paragraphs kept (captions repeat text near
    them), so that a text of a million lines is not compared with all of its earlier lines."""
    kept: list[str] = []
    seen: set[str] = set()
    recent: collections.deque[str] = collections.deque(maxlen=REPEAT_WINDOW)
    for par in pars:
        key = " ".join(par.casefold().split())
        if key in seen or (len(key) >= 40 and any(key in s for s in recent)):
            continue
        kept.append(par)
        seen.add(key)
        recent.append(key)
    return kept


def split_title(pars: list[str], markdown: bool = False) -> tuple[str, list[str]]:
    """(title, body paragraphs) for plain text. Paragraphs before the headline are chrome."""
    for i, par in enumerate(pars[:TITLE_SEARCH]):
        if markdown and _MD_HEADING.match(par):
            return _MD_HEADING.sub("", par), pars[i + 1 :]
        if is_headline(par):
            return par, pars[i + 1 :]
    first = pars[0] if pars else ""
    return clip(" ".join(first[: TITLE_CHARS * 2].split()[:12]), TITLE_CHARS), pars


def clip(text: str, limit: int) -> str:
    """text with whitespace collapsed, cut to at most `limit` characters at the last space (hard
    when the text has none in the second half) and marked with an ellipsis when cut."""
    text = " ".join(text[: limit * 4].split()) if len(text) > limit else text
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[: cut if cut > limit // 2 else limit - 1].rstrip() + "…"


def body(pars: list[str]) -> str:
    """The stored clean text: chrome and repeats gone, paragraphs joined by blank lines."""
    pars = [p for p in pars if not is_link_line(p)]
    pars = [_MD_HEADING.sub("", p) for p in pars]
    return "\n\n".join(drop_repeats(pars))
