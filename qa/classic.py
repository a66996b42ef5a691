"""The classic extractive reader (the default, QA_READER=classic): the sentence that answers, cited, cut to a short
direct answer when the question's type (how many / when / who / where, by patterns) finds exactly one fitting
phrase; otherwise the sentence itself. Abstains with `ABSTAIN` when the evidence does not answer. The parsed
reader (qa/reader*.py, QA_READER=parsed) is to replace it once it passes the reference suite.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from urllib.parse import urlparse

import regex as re  # variable-length look-behind for "in <Place>"

from qa import verify
from qa.text import tokenize
from qa.types import ABSTAIN, Answer, Claim, Hit, citations

POOL = 20  # sentences considered for an answer

# weights and abstention thresholds searched on the dev splits of ../shared/data (commit 24e9f4d and before)
W_SIM, W_COVER, W_TYPE, W_RANK = 1.0, 0.6, 0.25, 0.15
MIN_SIM = 0.42  # below this best cosine in the pool, nothing retrieved is about the question ...
MIN_COVER = 0.9  # ... (unless the best sentence has this share of the question's weighted words)
MIN_NAMES = 0.5  # ... and the evidence must name at least this share of what the question names
SPAN_MARGIN = 1.5  # a short answer is cut only when its phrase is this much closer than the next one
NAME_WEIGHT = 0.25  # a named entity's pull on the answer phrase, against the relation's words
MAX_DISTANCE = 12  # words between a question word and a candidate phrase that still count
DECAY = 4  # ... and how fast their pull fades: weight / (1 + distance / DECAY)
CLAUSE = 4  # words of distance added by each clause break between a question word and the phrase

NUMBER, DATE, PERSON, PLACE, OTHER = "number", "date", "person", "place", "other"

_QTYPES = [
    (
        NUMBER,
        re.compile(
            r"\bhow (many|much|old|long|far|big|large|tall|high)\b|\bwhat (number|percentage|percent|amount|share)\b",
            re.I,
        ),
    ),
    (
        DATE,
        re.compile(
            r"\bwhen\b|\bwhat (year|date|day|month|time)\b|\bin which (year|month)\b|\bwhich (year|day|month)\b", re.I
        ),
    ),
    (
        PERSON,
        re.compile(
            r"^\W*(who|whom|whose)\b|\bwhich (person|people|company|organi[sz]ation|group|team|official|agency|firm)\b",
            re.I,
        ),
    ),
    (
        PLACE,
        re.compile(
            r"\bwhere\b|\bwhich (city|country|place|region|state|town|province)\b|\bin what (city|country)\b", re.I
        ),
    ),
]

_MONTH = r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
_DAY = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
_REL = r"(?:(?:last|next|this|earlier this|later this)\s+(?:year|month|week|spring|summer|autumn|fall|winter|decade)|yesterday|today|tomorrow|\d+\s+(?:years?|months?|weeks?|days?)\s+ago)"
_WHEN = (
    rf"(?:\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}(?:,?\s+(?:19|20)\d\d)?"
    rf"|{_MONTH}(?:\s+\d{{1,2}}(?:st|nd|rd|th)?)?(?:,?\s+(?:19|20)\d\d)?(?:\s+{_REL})?"
    rf"|{_DAY}(?:\s+(?:morning|afternoon|evening|night))?|(?:19|20)\d\d(?:s)?|{_REL})"
)
_SPANS = {
    DATE: re.compile(rf"(?:\b(?:since|in|on|by|until|from|before|after|during|early|late)\s+)?\b{_WHEN}\b"),
    NUMBER: re.compile(
        r"(?<![\w.])(?:\$\s?)?\d[\d,]*(?:\.\d+)?(?:\s?(?:%|percent|per cent|million|billion|trillion|thousand|hundred))?(?![\w])"
        r"|\b(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|hundreds|thousands|dozens|a dozen)\b",
        re.I,
    ),
    PERSON: re.compile(
        r"(?<!^)\b[A-Z][a-z]+(?:[-'][A-Za-z]+)*(?:\s+(?:(?:al|bin|de|van|von|da|del)[- ])?[A-Z][a-z]+(?:[-'][A-Za-z]+)*)*\b"
        r"|^[A-Z][a-z]+(?:[-'][A-Za-z]+)*(?:\s+[A-Z][a-z]+(?:[-'][A-Za-z]+)*)+\b|\b[A-Z]{2,}\b"
    ),
    PLACE: re.compile(r"(?<=\b(?:in|at|from|near|to) )(?:the )?[A-Z][a-z]+(?:\s+[A-Z][a-z]+)*"),
}
_YEAR = re.compile(r"^(?:19|20)\d\d$")
_NAME = re.compile(r"(?<!^)(?<![.?!] )\b[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)*")
_POSSESSIVE = re.compile(r"['’]s\b")
_CLAUSE_BREAK = re.compile(r"[,;:()\u2013\u2014]")
_QWORDS = {
    "how",
    "mani",
    "much",
    "what",
    "when",
    "where",
    "who",
    "whom",
    "whose",
    "which",
    "why",
    "did",
    "doe",
    "do",
    "is",
    "are",
    "was",
    "were",
    "has",
    "have",
    "had",
}


@dataclass
class _Scored:
    hit: Hit
    score: float
    cover: float  # weighted share of the question's words the sentence has
    span: str | None  # a phrase of the question's type, when exactly one fits best


def question_type(question: str) -> str:
    return next((t for t, rx in _QTYPES if rx.search(question)), OTHER)


@functools.lru_cache(maxsize=8192)  # a sentence's words are asked for several times per answer
def terms(text: str) -> frozenset[str]:
    return frozenset(tokenize([text])[0]) - _QWORDS


def extractive(question: str, hits: list[Hit], k: int) -> Answer:
    if not hits:
        return Answer(question, ABSTAIN, True, "extractive")
    qtype, pool = question_type(question), hits[:POOL]
    weights = _weights(terms(question), [terms(h.sentence.text) for h in pool])
    top_score = max(h.score for h in pool)
    relation = _relation(question, weights)
    scored = sorted((_score(question, qtype, weights, relation, h, top_score) for h in pool), key=lambda s: -s.score)
    best = scored[0]
    rest = [s.hit for s in scored[1 : k + 1]]
    if not answers(question, pool, best.cover):
        return Answer(question, ABSTAIN, True, "extractive", candidates=citations([s.hit for s in scored[:k]]))
    text = best.span or best.hit.sentence.text
    [citation] = citations([best.hit])
    support, score = verify.check(text, [citation.text])
    return Answer(
        question,
        text,
        False,
        "extractive",
        citations=[citation],
        claims=[Claim(text, [1], support, score)],
        candidates=citations(rest, start=2),
    )


def answers(question: str, pool: list[Hit], cover: float = 0.0) -> bool:
    """Answer only when something retrieved is close to the question (by cosine, or the best sentence
    has nearly all its words) and the evidence names at least half of what the question names: a
    question about an entity the articles never mention is not answered by a sentence about another."""
    close = max(h.similarity for h in pool) >= MIN_SIM or cover >= MIN_COVER
    return close and name_coverage(question, pool) >= MIN_NAMES


def name_coverage(question: str, pool: list[Hit]) -> float:
    """Mean over the question's names (capitalised runs: "Jeh Johnson", "The Verge") of the share of
    their words found in the pool's sentences or titles; a name that is a source's web address
    ("The Verge" ~ www.theverge.com) counts as found. 1.0 when the question names nothing."""
    found = set().union(*(terms(f"{h.sentence.text} {h.title}") for h in pool))
    hosts = " ".join(urlparse(h.url).netloc.casefold() for h in pool)
    shares = []
    for name in _NAME.findall(question):
        words = terms(name)
        if not words:
            continue
        bare = _POSSESSIVE.sub("", name.casefold())
        keys = {re.sub(r"\W", "", bare), re.sub(r"\W", "", re.sub(r"^the\s+", "", bare))}
        at_host = any(len(k) >= 4 and k in hosts for k in keys)
        shares.append(1.0 if at_host else len(words & found) / len(words))
    return sum(shares) / len(shares) if shares else 1.0


def _weights(qterms: set[str], pool_terms: list[set[str]]) -> dict[str, float]:
    """Question words weighted by how few candidate sentences contain them: the article's subject
    ("Palmyra") is everywhere and tells little; the predicate ("control") picks the sentence."""
    n = len(pool_terms)
    return {t: math.log(1 + (n + 1) / (1 + sum(t in p for p in pool_terms))) for t in qterms}


def _score(
    question: str, qtype: str, weights: dict[str, float], relation: dict[str, float], hit: Hit, top_score: float
) -> _Scored:
    text = hit.sentence.text
    found = terms(text)
    total = sum(weights.values())
    cover = sum(w for t, w in weights.items() if t in found) / total if total else 0.0
    spans = type_spans(qtype, text, question)
    span = _best_span(spans, text, relation)
    score = W_SIM * hit.similarity + W_COVER * cover + W_TYPE * bool(spans) + W_RANK * hit.score / top_score
    return _Scored(hit, score, cover, span)


def _relation(question: str, weights: dict[str, float]) -> dict[str, float]:
    """Weights for placing a short answer: the question's named entities are its topic, its other
    words the relation asked about ("When had ISIS *taken control* of Palmyra?"), and the answer phrase
    stands by the relation."""
    names = terms(" ".join(re.findall(r"(?<!^)(?<![.?!] )\b[A-Z][\w-]*", question)))
    return {t: w * (NAME_WEIGHT if t in names else 1.0) for t, w in weights.items()}


def type_spans(qtype: str, text: str, question: str) -> list[re.Match]:
    """Phrases of the expected type in the sentence that the question does not already contain."""
    if qtype == OTHER:
        return []
    asks_year = bool(re.search(r"\byear\b", question, re.I))
    qwords = set(re.findall(r"\w+", question.casefold()))
    found = []
    for m in _SPANS[qtype].finditer(text):
        phrase = m.group().strip()
        if phrase.casefold() in question.casefold() or set(re.findall(r"\w+", phrase.casefold())) <= qwords:
            continue
        if qtype == NUMBER and _YEAR.match(phrase) and not asks_year:
            continue
        found.append(m)
    return found


def _best_span(spans: list[re.Match], text: str, weights: dict[str, float]) -> str | None:
    """The phrase closest to the question's weighted words; None unless it is clearly the closest."""
    if not spans:
        return None
    words = [(m.start(), m.end()) for m in re.finditer(r"\w+", text)]
    stems = tokenize([text[a:b] for a, b in words])
    ranked = sorted(((_closeness(m, text, words, stems, weights), m) for m in spans), key=lambda p: -p[0])
    if ranked[0][0] == 0 or (len(ranked) > 1 and ranked[0][0] < SPAN_MARGIN * ranked[1][0]):
        return None
    return _extend(text, ranked[0][1], set(weights))


def _closeness(
    m: re.Match, text: str, words: list[tuple[int, int]], stems: list[list[str]], weights: dict[str, float]
) -> float:
    """Sum over question words near the phrase of weight / (1 + distance / DECAY): distance in words,
    plus CLAUSE words for each comma, semicolon, colon, dash or bracket in between, since a time or
    a number belongs to its own clause ("...had controlled the city since last year")."""
    inside = [i for i, (a, b) in enumerate(words) if a >= m.start() and b <= m.end()]
    if not inside:
        return 0.0
    lo, hi = inside[0], inside[-1]
    best: dict[str, float] = {}
    for i, toks in enumerate(stems):
        if lo <= i <= hi:
            continue
        d = lo - i if i < lo else i - hi
        gap = text[words[i][1] : words[lo][0]] if i < lo else text[words[hi][1] : words[i][0]]
        d += CLAUSE * len(_CLAUSE_BREAK.findall(gap))
        for t in toks:
            if t in weights and d <= MAX_DISTANCE:
                best[t] = max(best.get(t, 0.0), weights[t] / (1 + d / DECAY))
    return sum(best.values())


def _extend(text: str, m: re.Match, qterms: set[str]) -> str:
    """A number reads better with its noun: "400" -> "400 ISIS fighters" when those words follow it
    and the question asked about them."""
    phrase = m.group().strip()
    if not re.match(r"\$?\d", phrase):
        return phrase
    following = []
    for word in text[m.end() :].split()[:4]:
        word = word.strip(",.;:")
        if not re.fullmatch(r"[\w'’-]+", word):
            break
        following.append(word)
    for n in range(len(following), 0, -1):
        if terms(following[n - 1]) & qterms:
            return " ".join([phrase, *following[:n]])
    return phrase
