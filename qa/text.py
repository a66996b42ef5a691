"""Small text helpers every stage uses: keyword tokens (stemmed words without stopwords), model token
counts (tiktoken cl100k_base, read from the file shipped in qa/data), and normalised text for comparisons."""

from __future__ import annotations

import functools
import hashlib
import json
import re
import threading
import unicodedata
from pathlib import Path

_local = threading.local()  # a Snowball stemmer is not safe to share between threads
_WORD = re.compile(r"(?u)\b\w\w+\b")  # bm25s's (and scikit-learn's) token pattern
IRREGULAR = Path(__file__).parent / "data" / "irregular-verbs.json"  # written by `python -m bench.irregular_verbs`


@functools.lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN)


@functools.lru_cache(maxsize=1)
def _irregular() -> dict[str, str]:
    """Past forms of irregular verbs -> the verb ("won" -> "win"), which stemming alone does not join."""
    return json.loads(IRREGULAR.read_text())


def tokenize(texts: list[str]) -> list[list[str]]:
    """Lower-cased, stemmed words without English stopwords, one list per text: what
    `bm25s.tokenize(texts, stopwords="en", stemmer=...)` gives, without its per-call set-up (a progress
    bar and a stopword set per text), which dominated short calls; an irregular verb's past form is read
    as the verb ("Who won?" matches "wins"), and letters without their accents."""
    import Stemmer

    if not hasattr(_local, "stemmer"):
        _local.stemmer = Stemmer.Stemmer("english")
    stop, stem, verb = _stopwords(), _local.stemmer.stemWords, _irregular()
    out = []
    for t in texts:
        words = stem([verb.get(w, w) for w in _WORD.findall(unaccented(t.lower())) if w not in stop])
        out.append([b for w in words for b in _cjk_bigrams(w)] if _CJK_CHAR.search(t) else words)
    return out


def _cjk_bigrams(word: str) -> list[str]:
    """A word as a keyword index should see it: Chinese and Japanese put no spaces between words, so a
    run of their characters is a whole phrase ("巴尔米拉古城"), which a question's "巴尔米拉" never matches.
    Such a run is read as its overlapping pairs of characters (what Lucene's CJK analyzer does, with no
    dictionary to segment by); a lone character stays itself. Other words are unchanged."""
    if not _CJK_CHAR.search(word):
        return [word]
    out = []
    for run in _CJK_SPLIT.findall(word):
        if _CJK_CHAR.match(run):
            out.extend([run] if len(run) == 1 else [run[i : i + 2] for i in range(len(run) - 1)])
        elif len(run) > 1 or run.isdigit():
            out.append(run)
    return out


def unaccented(text: str) -> str:
    """The text without diacritics ("Chloé Zhao" -> "Chloe Zhao"): a name is often typed, or written by a
    model, without them. Only the accents of Latin, Greek and Cyrillic letters go: a Japanese "ピ" keeps
    its mark (it is another sound, not an accent) and Korean syllables stay whole."""
    if text.isascii():
        return text
    bare = "".join(ch for ch in unicodedata.normalize("NFKD", text) if not _ACCENT.match(ch))
    return unicodedata.normalize("NFC", bare)


_ACCENT = re.compile("[\u0300-\u036f]")  # Unicode's combining diacritical marks


@functools.lru_cache(maxsize=1)
def encoding():
    import tiktoken

    import qa.config  # noqa: F401  sets TIKTOKEN_CACHE_DIR before tiktoken looks for the file

    return tiktoken.get_encoding("cl100k_base")


def count_tokens(texts: list[str]) -> list[int]:
    # one call per text: encode_ordinary_batch starts a thread pool per call, which costs far more than
    # the encoding itself for an article's worth of sentences
    encode = encoding().encode_ordinary
    return [len(encode(t)) for t in texts]


def squash(text: str) -> str:
    """Case- and space-blind form of a text, for "is this the same sentence" comparisons."""
    return " ".join(text.casefold().split())


def flat(text: str) -> str:
    """The text on one line, runs of whitespace as one space."""
    return " ".join(text.split())


def content_id(text: str) -> str:
    """A document's id: a hash of its clean text, so the same article is stored once."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


# Chinese, Japanese and Korean characters: those languages write words without spaces between them
CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
# what ends a sentence: a stop (English, or Chinese and Japanese), then any closing quotes and brackets
CJK_STOPS = "。！？"
STOPS = ".!?" + CJK_STOPS
CLOSERS = "\"'”’)]」』）"
_STOP_MARKS = tuple(STOPS)
_CJK_CHAR = re.compile(f"[{CJK}]")
_CJK_SPLIT = re.compile(f"[{CJK}]+|[^{CJK}]+")


def word_count(text: str) -> int:
    """Words in a text: those between spaces, and in Chinese, Japanese or Korean about one per two characters
    (a Japanese article has few spaces and is not a menu of five words)."""
    return len(text.split()) + len(_CJK_CHAR.findall(text)) // 2


def latin(text: str) -> bool:
    """Most of the text's letters are Latin ones (English, French, Turkish...), or it has no letters."""
    letters = [ch for ch in text if ch.isalpha()]
    return sum(ch < "\u0250" for ch in letters) * 2 >= len(letters)


def asks(text: str) -> bool:
    """The sentence is itself a question: it states nothing, so it neither answers nor supports (a page's
    heading "Who directed Titanic?"; a quoted one, 'he asked: "Why now?"', reports what was asked)."""
    return text.rstrip().endswith(("?", "？"))


def runs_on(text: str) -> bool:
    """A claim that does not end its sentence ("Sam Altman is A," cited piece by piece): the next one goes on it."""
    return not text.rstrip().rstrip(CLOSERS).endswith(_STOP_MARKS)
