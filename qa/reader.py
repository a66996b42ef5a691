"""Question + evidence sentences -> candidate answers with the features the answerability model reads:
per sentence (how much of the question it covers, its focus and relation, the names, cosine, BM25, rank,
its context) and per short span in it (entities and noun phrases: type, and what they attach to).
qa/reader_model.py turns features into probabilities; qa/answer.py decides what to show.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections import OrderedDict
from dataclasses import dataclass, field
from urllib.parse import urlparse

from qa import question as qn
from qa import reader_parse
from qa.keyword import tokenize
from qa.types import Hit

PARSED = 10  # sentences parsed per question: the pool's best by cosine and word coverage
MAX_SPAN = 12  # tokens; a longer phrase is read as the whole sentence
_ARGS = {"nsubj", "nsubjpass", "dobj", "pobj", "attr", "appos", "oprd", "dative", "npadvmod", "conj"}
_EDGE = {"PUNCT", "CCONJ", "ADP", "PART", "SCONJ"}

SPAN_FEATURES = ["exact", "loose", "contains_exact", "is_entity", "other_q", "focus_attached", "relation_attached",
                 "near", "counts_other", "question_overlap", "same_type", "length"]
SENTENCE_FEATURES = ["similarity", "similarity_gap", "top_similarity", "bm25", "rank", "fused", "cover", "cover_context",
                     "has_focus", "focus", "focus_context", "relation", "relation_context", "names", "names_context",
                     "pool_names", "typed", "parsed", "length", "typed_span", "attached_span", "counts_other",
                     "absent_from_pool", "missing_max", "numbers", "bigrams", "similarity_rank", "bm25_rank"]
# filled in by the model: the best span's probability, and whether a typed question found no typed span
MODEL_FEATURES = ["best_span", "typed_no_span"]


@dataclass
class Span:
    text: str
    features: list[float]
    exact: bool  # of the expected type (or holds an entity of it)
    p: float = 0.0


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
    q = qn.analyze(reader_parse.parse(question))
    words = [terms(h.sentence.text) for h in hits]
    weights = _weights(q.words, words)
    cover = [_share(weights, w) for w in words]
    order = sorted(range(len(hits)), key=lambda i: -(hits[i].similarity + cover[i]))
    parsed = set(order[:PARSED])
    docs = dict(zip(sorted(parsed), reader_parse.parse_many([hits[i].sentence.text for i in sorted(parsed)])))
    pool = _pool_stats(q, hits, weights)
    out = []
    for i, h in enumerate(hits):
        spans = _spans(q, docs[i]) if i in parsed else []
        out.append(Candidate(h, _sentence_features(q, h, i, words[i], weights, pool, spans, i in parsed), spans))
    return Reading(q, out)


def _weights(qwords: frozenset[str], pool: list[frozenset[str]]) -> dict[str, float]:
    """Question words weighted by how few pool sentences hold them: the subject everywhere tells little."""
    n = len(pool)
    return {t: math.log(1 + (n + 1) / (1 + sum(t in p for p in pool))) for t in qwords}


def _share(weights: dict[str, float], found: frozenset[str] | set[str]) -> float:
    total = sum(weights.values())
    return sum(w for t, w in weights.items() if t in found) / total if total else 0.0


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
    by_sim = sorted(range(len(hits)), key=lambda i: -hits[i].similarity)
    by_bm25 = sorted(range(len(hits)), key=lambda i: -hits[i].keyword)
    return {"top_similarity": max((h.similarity for h in hits), default=0.0),
            "similarity_rank": {i: r for r, i in enumerate(by_sim)}, "bm25_rank": {i: r for r, i in enumerate(by_bm25)},
            "bigrams": bigrams(q.text),
            "bm25": max((h.keyword for h in hits), default=0.0) or 1.0,
            "fused": max((h.score for h in hits), default=0.0) or 1.0,
            "pool_names": _name_share(q, everything, hosts), "hosts": hosts,
            "absent_from_pool": 1.0 - _share(weights, everything)}


def _sentence_features(q, h: Hit, rank: int, words, weights, pool, spans: list[Span], parsed: bool) -> list[float]:
    context = words | terms(f"{h.before} {h.title}")
    rel = {t: 1.0 for t in q.relation}
    typed = q.answer_type != qn.OTHER
    exact = [s for s in spans if s.exact]
    f = {
        "similarity": h.similarity, "similarity_gap": h.similarity - pool["top_similarity"],
        "top_similarity": pool["top_similarity"], "bm25": h.keyword / pool["bm25"], "rank": 1.0 / (1 + rank),
        "fused": h.score / pool["fused"], "cover": _share(weights, words), "cover_context": _share(weights, context),
        "has_focus": float(bool(q.focus)), "focus": float(q.focus in words), "focus_context": float(q.focus in context),
        "relation": _share(rel, words), "relation_context": _share(rel, context),
        "names": _name_share(q, words), "names_context": _name_share(q, context, pool["hosts"]),
        "pool_names": pool["pool_names"],
        "typed": float(typed), "parsed": float(parsed), "length": math.log1p(len(words)),
        "typed_span": float(typed and bool(exact)),
        "attached_span": max((s.features[5] + s.features[6] for s in exact), default=0.0),
        "counts_other": float(bool(exact) and all(s.features[8] for s in exact if s.features[3])),
        "absent_from_pool": pool["absent_from_pool"],
        "missing_max": max((w for t, w in weights.items() if t not in context), default=0.0) / max(weights.values(), default=1.0),
        "numbers": _name_share(_numbers(q), context),
        "bigrams": len(pool["bigrams"] & (bigrams(h.sentence.text) | bigrams(h.before))) / max(len(pool["bigrams"]), 1),
        "similarity_rank": 1.0 / (1 + pool["similarity_rank"][rank]), "bm25_rank": 1.0 / (1 + pool["bm25_rank"][rank]),
    }
    return [f[n] for n in SENTENCE_FEATURES]


def _numbers(q: qn.Question) -> qn.Question:
    """The question with only its numbers as names: "in 2014" must be in the sentence or its context."""
    return dataclasses.replace(q, entities=tuple(w for w in q.text.split() if any(ch.isdigit() for ch in w)))


_stem_cache: OrderedDict[str, list[str]] = OrderedDict()


def _stems(doc) -> list[str]:
    """Each token's stem ("" for a stopword); kept per sentence, as the parses are."""
    got = _stem_cache.get(doc.text)
    if got is None or len(got) != len(doc):
        got = _stem_cache[doc.text] = [(t[0] if t else "") for t in tokenize([tok.text for tok in doc])]
        if len(_stem_cache) > reader_parse.CACHE:
            _stem_cache.popitem(last=False)
    return got


def _spans(q: qn.Question, doc) -> list[Span]:
    """Entities, and the phrases that are arguments of a verb or a preposition, minus those the question
    already says; each with its features."""
    stems = _stems(doc)
    near = _Near([t for t in doc if q.focus and stems[t.i] == q.focus], [t for t in doc if stems[t.i] in q.relation],
                 [i for i, s in enumerate(stems) if s and s in q.words])
    found: dict[tuple[int, int], str] = {}
    for e in doc.ents:
        start = e.start
        while start > 0 and doc[start - 1].dep_ == "compound" and doc[start - 1].pos_ == "PROPN":
            start -= 1  # a title before a name: "Mayor Jane Ortiz"
        found[(start, e.end)] = e.label_
    for t in doc:
        if t.dep_ in _ARGS and t.pos_ in {"NOUN", "PROPN", "NUM"}:
            lo, hi = t.left_edge.i, t.right_edge.i + 1
            if hi - lo > MAX_SPAN:
                lo, hi = next(((c.start, c.end) for c in doc.noun_chunks if c.start <= t.i < c.end), (t.i, t.i + 1))
            found.setdefault(_trim(doc, lo, hi), "")
    ents = [(e.start, e.end, e.label_) for e in doc.ents]
    spans = []
    for (lo, hi), label in found.items():
        content = {s for s in stems[lo:hi] if s}
        if hi <= lo or not content or content <= q.words:
            continue
        inner = {lab for a, b, lab in ents if lo <= a and b <= hi}
        spans.append(_span(q, doc, stems, near, lo, hi, label, inner, content))
    same = sum(s.exact for s in spans)
    for s in spans:
        s.features[10] = 1.0 / same if s.exact else 0.0
    return spans


def _trim(doc, lo: int, hi: int) -> tuple[int, int]:
    while lo < hi and (doc[lo].pos_ in _EDGE or doc[lo].is_quote):
        lo += 1
    while hi > lo and (doc[hi - 1].pos_ in _EDGE or doc[hi - 1].is_quote):
        hi -= 1
    return lo, hi


@dataclass
class _Near:
    focus: list  # tokens of the sentence that are the question's focus
    relation: list  # ... its relation words
    words: list[int]  # positions of any of its words


def _span(q: qn.Question, doc, stems: list[str], at: _Near, lo: int, hi: int, label: str, inner: set[str],
          content) -> Span:
    exact, loose = qn.EXACT[q.answer_type], qn.LOOSE[q.answer_type]
    root = doc[lo:hi].root
    is_exact = label in exact
    rel_toks = [t for t in at.relation if not lo <= t.i < hi]
    near = min((lo - i if i < lo else i - hi + 1 for i in at.words if not lo <= i < hi), default=None)
    counts_other = q.answer_type in qn.COUNTS and any(
        (t.ent_type_ in exact or is_exact) and t.dep_ in {"nummod", "quantmod"} and stems[t.head.i] not in q.words
        for t in doc[lo:hi])  # "400" counts "fighters", so it does not answer "how many soldiers"
    f = [float(is_exact), float(label in loose), float(not is_exact and bool(inner & exact)), float(bool(label)),
         float(q.answer_type == qn.OTHER), _attached(root, at.focus, lo, hi), _attached(root, rel_toks, lo, hi),
         1.0 / (1 + near / 3) if near is not None else 0.0, float(counts_other),
         len(content & q.words) / len(content), 0.0, math.log1p(hi - lo)]
    return Span(doc[lo:hi].text, f, is_exact or bool(inner & exact))


def _attached(root, toks, lo: int, hi: int) -> float:
    """1 / (1 + tree distance) from the span's head to the nearest of toks; 1 when one is inside the span."""
    if not toks:
        return 0.0
    if any(lo <= t.i < hi for t in toks):
        return 1.0
    return max(1.0 / (1 + _distance(root, t)) for t in toks)


def _distance(a, b) -> int:
    """Edges between two tokens of one parse."""
    up = {a.i: 0}
    for d, t in enumerate(a.ancestors, 1):
        up[t.i] = d
    if b.i in up:
        return up[b.i]
    for d, t in enumerate(b.ancestors, 1):
        if t.i in up:
            return d + up[t.i]
    return 20  # different sentences of one text: far apart
