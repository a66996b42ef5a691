"""Raw article text -> clean paragraphs, a title, and no page chrome.

General rules, no site-specific strings:
- unicode NFKC, invisible characters (zero-width, bidi controls) removed, whitespace collapsed;
- a paragraph that repeats an earlier one (or is contained in it) is dropped: captions repeat;
- photo credits in parentheses are cut from captions;
- cross-link lines are dropped: an all-caps label ("RELATED: ...") or a cross-link label in any case
  ("Read more: ...", "See also: ..."), a colon, a headline or nothing;
- so are teaser lists (three or more short headline-like lines in a row, in title case or bulleted), bylines,
  signatures ("Jane Smith, Leeds"), agency credits, copyright and end marks, contact addresses, calls to share
  or follow, to click, sign up or get the app, affiliate notices, advertisement markers, a wire tag on its own line
  ("CNN --") or a lone word at either end of the text ("CNN"), and lines in capitals inside mixed-case text
  (another article's headline shouted as a link);
- in plain text the title is the first headline-like paragraph near the top, and what stands before it
  (browser banners, cookie notices, navigation) is page chrome.
"""

from __future__ import annotations

import collections
import re
import unicodedata

from qa.text import CLOSERS, STOPS

# zero-width spaces and joiners, BOM, word joiner, soft hyphen, bidi marks/embeddings/overrides/isolates
_INVISIBLE = re.compile("[\u00ad\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACES = re.compile(r"[^\S\n]+")
_CREDIT = re.compile(r"\s*\((?:photo|image|picture|video|credit|file photo)s?\b[^()]{0,160}\)", re.I)
_LINK_LINE = re.compile(
    r"""^(?: [A-Z][A-Z0-9\ &'/-]{1,30}                   # an all-caps label: "RELATED", "READ MORE"
          | (?i: (?:also\ )? (?:read|see|watch|listen|more|related|recommended|further\ reading|don'?t\ miss
                              |must[\ -]reads?|top\ stories|trending|popular)
                 (?:\ (?:more|also|next|now|too|on\ this|stories|articles|coverage|photos|videos|from\ \w+))* )
        ) \s*:(?:\s+(?P<headline>\S.*))?$""",
    re.VERBOSE,
)
_CHROME_LINE = re.compile(
    r"""(?P<byline> ^\W*(?i:by)\s+[A-Z][\w'’.-]*\s+[A-Z][\w'’.-]*(?:\s+\S+){0,8}$ )
      | (?P<signature> ^[A-Z][\w'’.-]+(?:\s+[A-Z][\w'’.-]+){1,3},(?:,?\s+[A-Z][\w'’.-]+){1,4}$ )
      | (?P<credit> (?i: \b(?:contributed|contributing)\s+(?:reporting\s+)?to\s+this\s+(?:report|story|article)\b
                      | ^(?:additional\s+)?(?:reporting|writing|editing)\s+by\s+[A-Z] ) )
      | (?P<note> (?i: ^this\s+(?:story|article|report)\s+(?:has\s+been|was)\s+(?:updated|corrected|amended)\b ) )
      | (?P<copyright> (?i: ^(?:©|\(c\)|copyright\b|tm\s*&|all\s+rights\s+reserved) ) )
      | (?P<contact> ^[\w.+-]+@[\w-]+(?:\.[\w-]+)+$ | ^@\w+$ )
      | (?P<end_mark> ^[^\w]+$ | (?i: ^\W*end\W*$ ) )
      | (?P<loading> (?i: ^loading\b.{0,60}(?:\.\.\.|…)$ ) )
      | (?P<advert> (?i: ^(?:advertisement|advert|sponsored(?:\s+content)?
                          |(?:story|article)\s+continues\s+(?:below|after)(?:\s+(?:this\s+)?(?:advertisement|advert|ad))?
                          |scroll\s+(?:down\s+)?to\s+continue(?:\s+with\s+content)?)\W*$ ) )
      | (?P<wire> ^[A-Z][\w.&]{1,15}(?:\s+[A-Z][\w.&]{1,15}){0,2}(?:\s*\([A-Z]{2,10}\))?\s*(?:--|—|–)\s*$ )
      | (?P<call> (?i: (?:^|[.?!]\s+)(?:please\s+)?(?:share|send)\s+(?:us\s+)?your\s+
                      (?:photos|videos|pictures|stories|tips|views)\b
                    | ^follow\s+.{1,40}?\bon\s+(?:facebook|twitter|instagram|tiktok|youtube|linkedin|threads|x)\b
                    | ^sign\s+up\s+(?:for|to)\b | \bsign\s+up\s+(?:for|to)\b.{0,80}\bnewsletter\b
                    | ^click\s+here\b | ^send\s+this\s+(?:page|article|story)\s+to\b
                    | \b(?:download|get)\s+(?:the\s+|our\s+)?[\w'’ ]{1,40}?\bapp\W*$
                    | \baffiliate\s+links?\b | \bearn\s+(?:a\s+)?(?:small\s+)?commission\b ) )""",
    re.VERBOSE,
)
_BULLET = re.compile(r"^[-–•*·]\s+")
_SENTENCE_END = re.compile(f"[{re.escape(STOPS)}…][{re.escape(CLOSERS)}]*$")
_MD_HEADING = re.compile(r"^#{1,6}\s+")
_NAVIGATION = re.compile(r"\s[|>»›•·/]\s")  # "Home | World | Europe", "News > Middle East"

TITLE_SEARCH = 3  # the headline must be among the first paragraphs
TITLE_MAX_WORDS = 25
REPEAT_WINDOW = 200  # earlier paragraphs a paragraph may be contained in (see drop_repeats)
TITLE_CHARS = 300  # a longer line is no headline; a longer given title is cut at a word (the lists show it)
CHROME_MAX_WORDS = 60  # a longer paragraph is article text even when it matches a chrome rule
TEASER_MAX_WORDS = 20
TEASER_RUN = 3  # this many teaser-like lines in a row are a list of other articles


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
    return (
        len(par) <= TITLE_CHARS
        and 2 <= len(words) <= TITLE_MAX_WORDS
        and not _SENTENCE_END.search(par)
        and not is_link_line(par)
        and not _NAVIGATION.search(par)
    )


def is_link_line(par: str) -> bool:
    return bool(_LINK_LINE.match(par)) and len(par.split()) <= 25 and not _SENTENCE_END.search(par)


def is_chrome_line(par: str) -> bool:
    """A byline, signature, credit, copyright line, contact address, end mark, call to action or link line."""
    return is_link_line(par) or (len(par.split()) <= CHROME_MAX_WORDS and bool(_CHROME_LINE.search(par)))


def _teaser_like(par: str) -> bool:
    """A headline of another article: short, no full stop, in title case or bulleted."""
    text = _BULLET.sub("", par)
    words = text.split()
    if not 2 <= len(words) <= TEASER_MAX_WORDS or re.search(r"[.…][\"'”’)\]]*$", text):
        return False
    long_words = [w for w in words if len(w) >= 4 and w[0].isalpha()]
    title_case = len(long_words) >= 2 and all(w[0].isupper() for w in long_words)
    return title_case or text != par


def _teasers(pars: list[str]) -> set[int]:
    """Indices of paragraphs in runs of TEASER_RUN or more teaser-like lines."""
    out: set[int] = set()
    run: list[int] = []
    for i, par in enumerate([*pars, ""]):
        if _teaser_like(par):
            run.append(i)
            continue
        if len(run) >= TEASER_RUN:
            out.update(run)
        run = []
    return out


def _shouted(par: str) -> bool:
    """Three or more words in capitals: another article's headline shouted as a link, or a section label."""
    return len(par.split()) >= 3 and par.upper() == par and sum(ch.isalpha() for ch in par) >= 10


def _chrome(pars: list[str]) -> set[int]:
    """Indices of the paragraphs that are page chrome, not the article."""
    out = _teasers(pars) | {i for i, p in enumerate(pars) if is_chrome_line(p)}
    shouted = {i for i, p in enumerate(pars) if _shouted(p)}
    if len(shouted) * 2 < len(pars):  # unless the article itself is in capitals (old wire copy)
        out |= shouted
    # a lone word before or after all of the text ("CNN", a wire tag), unless a sentence runs on from it
    text = [i for i in range(len(pars)) if i not in out]
    for i in text[:1] + text[-1:] if len(text) > 1 else []:
        following = pars[i + 1] if i + 1 < len(pars) else ""
        if len(pars[i].split()) == 1 and not ends_sentence(pars[i]) and not following[:1].islower():
            out.add(i)
    return out


def drop_repeats(pars: list[str]) -> list[str]:
    """Drop a paragraph equal to, or contained in, an earlier one (compared case- and space-blind)."""
    return [pars[i] for i in _unique(pars)]


def _unique(pars: list[str]) -> list[int]:
    """Indices of the paragraphs drop_repeats keeps. Containment is looked for among the last REPEAT_WINDOW
    paragraphs kept (captions repeat text near them), so that a text of a million lines is not compared with
    all of its earlier lines."""
    kept: list[int] = []
    seen: set[str] = set()
    recent: collections.deque[str] = collections.deque(maxlen=REPEAT_WINDOW)
    for i, par in enumerate(pars):
        key = " ".join(par.casefold().split())
        if key in seen or (len(key) >= 40 and any(key in s for s in recent)):
            continue
        kept.append(i)
        seen.add(key)
        recent.append(key)
    return kept


def split_title(pars: list[str], markdown: bool = False) -> tuple[str, list[str]]:
    """(title, body paragraphs) for plain text. Paragraphs before the headline are chrome; a chrome line
    ("Send this page to someone via email", a wire tag "CNN --") is never the title."""
    for i, par in enumerate(pars[:TITLE_SEARCH]):
        if markdown and _MD_HEADING.match(par):
            return _MD_HEADING.sub("", par), pars[i + 1 :]
        if is_headline(par) and not is_chrome_line(par):
            return par, pars[i + 1 :]
    first = next((p for p in pars if not is_chrome_line(p)), pars[0] if pars else "")
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
    return "\n\n".join(text for _, text in body_parts(pars))


def body_parts(pars: list[str]) -> list[tuple[int, str]]:
    """(index in pars, text) of each paragraph the clean text keeps, in order: a caller that knows where
    each paragraph came from (a PDF's pages) can tell where it lands."""
    chrome = _chrome(pars)
    kept = [(i, _MD_HEADING.sub("", p)) for i, p in enumerate(pars) if i not in chrome]
    return [kept[k] for k in _unique([text for _, text in kept])]


def ends_sentence(par: str) -> bool:
    return bool(_SENTENCE_END.search(par))
