"""Question + evidence sentences -> candidate answers with the features the answerability model reads:
per sentence (how much of the question it covers, its focus and relation, the names, cosine, BM25, rank,
its context) and per short span in it (entities and noun phrases: type, and what they attach to).
qa/reader_model.py turns features into probabilities; qa/answer.py decides what to show.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import re
from dataclasses import dataclass, field
from urllib.parse import urlparse

from qa import align, reader_parse, reader_spans, structure
from qa import question as qn
from qa.reader_spans import Span
from qa.text import tokenize
from qa.types import Hit

PARSED = 10  # sentences parsed per question: the pool's best by cosine and word coverage

SENTENCE_FEATURES = (
    "similarity top_similarity bm25 rank fused cover cover_context has_focus focus "
    "focus_context relation relation_context names names_context pool_names typed parsed length "
    "typed_span attached_span verb_span counts_other absent_from_pool missing_max numbers bigrams bm25_rank other_year "
    "negated negation_differs doer_agrees doer_swapped similarity_behind cover_behind align_behind "
    "align align_min align_context align_min_context"
).split()
ALIGNED = SENTENCE_FEATURES[-4:]  # from qa/align.py, for the parsed sentences (0 for the others)
# how far a candidate trails the pool's best in meaning, words and alignment (0 for the best): what wins is
# relative to what else the articles offer (dev out-of-fold: SQuAD answerable right 0.721 -> 0.740)
BEHIND = [SENTENCE_FEATURES.index(n) for n in ("similarity", "cover")]
# the span features the sentence's features are made of
FOCUS_AT, RELATION_AT, ON_VERB, COUNTS_OTHER = (
    reader_spans.SPAN_FEATURES.index(n)
    for n in ("focus_attached", "relation_attached", "verb_attached", "counts_other")
)
# filled in by the model: the best span's probability, and whether a typed question found no typed span
MODEL_FEATURES = ["best_span", "typed_no_span"]


@dataclass
class Candidate:
    hit: Hit
    features: list[float]  # SENTENCE_FEATURES
    spans: list[Span] = field(default_factory=list)
    p: float = 0.0  # P(the sentence answers the question)
    span: Span | None = None  # the best short answer in it


@dataclass
class Reading:
    question: qn.Question
    candidates: list[Candidate]


@functools.lru_cache(maxsize=20_000)
def terms(text: str) -> frozenset[str]:
    return frozenset(tokenize([text])[0])


@functools.lru_cache(maxsize=20_000)
def bigrams(text: str) -> frozenset[tuple[str, str]]:
    words = tokenize([text])[0]
    return frozenset(zip(words, words[1:]))


def read(question: str, hits: list[Hit]) -> Reading:
    """Features of every hit (and of the spans of the best PARSED of them); no probabilities yet."""
    qdoc = reader_parse.parse(question)
    q = qn.analyze(qdoc)
    doers = set().union(*(e.doers for e in structure.events(qdoc))) - WH_WORDS
    words = [terms(h.sentence.text) for h in hits]
    weights = _weights(q.words, words)
    cover = [_share(weights, w) for w in words]
    order = sorted(range(len(hits)), key=lambda i: -(hits[i].similarity + cover[i]))
    parsed = set(order[:PARSED])
    near = sorted(parsed)
    docs = dict(zip(near, reader_parse.parse_many([hits[i].sentence.text for i in near])))
    pool = _pool_stats(q, hits, weights)
    aligned = dict(
        zip(near, align.alignments(question, [hits[i].sentence.text for i in near], [_context(hits[i]) for i in near]))
    )
    rows = []
    for i, h in enumerate(hits):
        spans = reader_spans.spans(q, docs[i]) if i in parsed else []
        own = aligned.get(i, (0.0, 0.0, 0.0, 0.0))
        said = words[i] | _named(q, spans)
        features = _sentence_features(q, h, i, said, weights, pool, spans, i in parsed, own[0])
        rows.append((h, features + _negation(qdoc, docs.get(i)) + _roles(doers, docs.get(i)), list(own), spans))
    ahead = [[r[1][j] for r in rows] for j in BEHIND] + [[r[2][0] for r in rows]]
    best = [max(v, default=0.0) for v in ahead]
    return Reading(
        q,
        [
            Candidate(h, f + [b - v[k] for b, v in zip(best, ahead)] + own, spans)
            for k, (h, f, own, spans) in enumerate(rows)
        ],
    )


def _named(q: qn.Question, spans: list[Span]) -> frozenset[str]:
    """The name a "Who is James Hansen?" question asks about, when the sentence describes it: the description
    was found on a mention of the same one ("Hansen, an adjunct professor ..."), which need not say it whole."""
    if q.answer_type == qn.DESCRIPTION and any(s.exact for s in spans):
        return terms(q.entities[0])
    return frozenset()


def _negation(qdoc, doc) -> list[float]:
    """Whether the question is negated, and whether the sentence says otherwise ("When did the UK not
    subscribe?" of "the UK formally subscribed"): the commonest shape of a question the text does not answer."""
    asked = _negated(qdoc)
    return [float(asked), float(doc is not None and asked != _negated(doc))]


def _roles(doers: set[str], doc) -> list[float]:
    """Whether the question's doer ("What status does UNESCO give") does something in the sentence too
    ("... designated a site ... by UNESCO"), and whether it is only done to there (roles swapped: "Who
    defeated ISIS?" of "ISIS defeated the army"); 0.5 and 0 when the question names no doer."""
    if not doers or doc is None:
        return [0.5, 0.0]
    events = structure.events(doc)
    does = bool(doers & set().union(*(e.doers for e in events)))
    done_to = bool(doers & set().union(*(e.done_to for e in events)))
    return [float(does), float(done_to and not does)]


def _negated(doc) -> bool:
    """The clause is denied ("did not subscribe", "never", "no one"). "Without" is not counted: "adults without
    health insurance", "homes without power" name who is meant; they deny nothing, and a sentence that says
    "uninsured" or "lost power" answers them."""
    return any(t.dep_ == "neg" or t.lower_ in NEGATIONS for t in doc)


WH_WORDS = frozenset("what which who whom whose".split())
NEGATIONS = frozenset("not never no nor neither none nobody nothing".split())


def _context(h: Hit) -> str:
    """What a sentence's "it", "he" or "this" may stand for: the sentence before it and the article's title;
    nothing for a sentence that does not point back (a caption's "a UNESCO world heritage site" is about
    its citadel, not about the city the title names)."""
    if not refers_back(h.sentence.text):
        return ""
    return f"{h.title}. {h.before}" if h.title else h.before


BACK = frozenset("it its he him his she her they them their this that these those there".split())


def refers_back(text: str) -> bool:
    return any(w.strip(".,;:!?\"'()").casefold() in BACK for w in text.split())


def _weights(qwords: frozenset[str], pool: list[frozenset[str]]) -> dict[str, float]:
    """Question words weighted by how few pool sentences hold them: the subject everywhere tells little."""
    n = len(pool)
    return {t: math.log(1 + (n + 1) / (1 + sum(t in p for p in pool))) for t in qwords}


def _share(weights: dict[str, float], found: frozenset[str] | set[str]) -> float:
    """The weighted share of the question's words found. Summed exactly (fsum): the words come from a set,
    whose order changes from one process to the next, and a float sum in another order can differ in its
    last bit, enough to move a trained threshold (retraining was not reproducible)."""
    total = math.fsum(weights.values())
    return math.fsum(w for t, w in weights.items() if t in found) / total if total else 0.0


def _name_share(q: qn.Question, found: frozenset[str] | set[str], hosts: str = "") -> float:
    """Mean share of each question name's words that are found (1.0 when the question names nothing); a
    name that is a source's web address ("The Verge" ~ www.theverge.com) counts as found."""
    shares = []
    for name in q.entities:
        words = terms(name)
        if not words:
            continue
        key = "".join(ch for ch in name.casefold().removeprefix("the ").removesuffix("'s") if ch.isalnum())
        shares.append(1.0 if hosts and len(key) >= 4 and key in hosts else len(words & found) / len(words))
    return sum(shares) / len(shares) if shares else 1.0


def _pool_stats(q: qn.Question, hits: list[Hit], weights: dict[str, float]) -> dict[str, float]:
    everything = set().union(*(terms(f"{h.sentence.text} {h.before} {h.title}") for h in hits)) if hits else set()
    hosts = " ".join(urlparse(h.url).netloc.casefold() for h in hits if h.url)
    by_bm25 = sorted(range(len(hits)), key=lambda i: -hits[i].keyword)
    return {
        "top_similarity": max((h.similarity for h in hits), default=0.0),
        "bm25_rank": {i: r for r, i in enumerate(by_bm25)},
        "bigrams": bigrams(q.text),
        "bm25": max((h.keyword for h in hits), default=0.0) or 1.0,
        "fused": max((h.score for h in hits), default=0.0) or 1.0,
        "pool_names": _name_share(q, everything, hosts),
        "hosts": hosts,
        "absent_from_pool": 1.0 - _share(weights, everything),
        "years": frozenset(YEAR.findall(q.text)),
    }


def _sentence_features(
    q, h: Hit, rank: int, words, weights, pool, spans: list[Span], parsed: bool, aligned: float
) -> list[float]:
    context = words | terms(_context(h))
    rel = {t: 1.0 for t in q.relation}
    typed = q.answer_type != qn.OTHER
    exact = [s for s in spans if s.exact]
    f = {
        # the sentence's meaning match: its cosine, or its words aligned to the question's when that is more
        # (a short question can be near 0 by cosine to the sentence that answers it: qa/align.py)
        "similarity": max(h.similarity, aligned),
        "top_similarity": pool["top_similarity"],
        "bm25": h.keyword / pool["bm25"],
        "rank": 1.0 / (1 + rank),
        "fused": h.score / pool["fused"],
        "cover": _share(weights, words),
        "cover_context": _share(weights, context),
        "has_focus": float(bool(q.focus)),
        "focus": float(q.focus in words),
        "focus_context": float(q.focus in context),
        "relation": _share(rel, words),
        "relation_context": _share(rel, context),
        "names": _name_share(q, words),
        "names_context": _name_share(q, context, pool["hosts"]),
        "pool_names": pool["pool_names"],
        "typed": float(typed),
        "parsed": float(parsed),
        "length": math.log1p(len(words)),
        "typed_span": float(typed and bool(exact)),
        "attached_span": max((s.features[FOCUS_AT] + s.features[RELATION_AT] for s in exact), default=0.0),
        "verb_span": max((s.features[ON_VERB] for s in exact), default=0.0),
        "counts_other": float(not exact and any(s.features[COUNTS_OTHER] for s in spans)),
        "absent_from_pool": pool["absent_from_pool"],
        "missing_max": max((w for t, w in weights.items() if t not in context), default=0.0)
        / max(weights.values(), default=1.0),
        "numbers": _name_share(_numbers(q), context),
        "bigrams": len(pool["bigrams"] & (bigrams(h.sentence.text) | bigrams(h.before))) / max(len(pool["bigrams"]), 1),
        "bm25_rank": 1.0 / (1 + pool["bm25_rank"][rank]),
        "other_year": float(_other_year(pool["years"], h.sentence.text)),
    }
    return [f[n] for n in SENTENCE_FEATURES[: -len(ALIGNED) - 7]]


YEAR = re.compile(r"\b(?:1[89]|20)\d\d\b")


def _other_year(asked: frozenset[str], text: str) -> bool:
    """The question names a year and the sentence names years, none of them the question's ("Q1 2023" for
    "revenue in Q1 2021"): it tells of another time."""
    stated = set(YEAR.findall(text))
    return bool(asked and stated and not stated & asked)


def _numbers(q: qn.Question) -> qn.Question:
    """The question with only its numbers as names: "in 2014" must be in the sentence or its context."""
    return dataclasses.replace(q, entities=tuple(w for w in q.text.split() if any(ch.isdigit() for ch in w)))
