"""Question + ranked sentences -> an extractive Answer. The reader (qa/reader.py, qa/reader_model.py) gives
each sentence a probability that it answers; the best one is the answer, cut to its short span when the
span is likely right, and labelled by that probability: supported, partial ("may answer"), or an
abstention (`ABSTAIN`) that lists the nearest candidates.
"""

from __future__ import annotations

import dataclasses
import math

from qa import reader, reader_model
from qa.text import latin
from qa.types import ABSTAIN, Answer, Claim, Hit, citations
from qa.verify import PARTIAL, SUPPORTED

POOL = 20  # sentences considered for an answer


def badge(p: float, weights: reader_model.Weights, question: str) -> str | None:
    """The claim's label for an answer probability; None: abstain."""
    if p >= sure(question, weights):
        return SUPPORTED
    return PARTIAL if p >= weights.abstain else None


def sure(question: str, weights: reader_model.Weights) -> float:
    """The probability from which the reader's answer is `supported`: its trained threshold, or never for a
    question written mostly in another script than Latin (the reader learnt from English questions; its
    probability for "巴尔米拉被称为什么？" is not calibrated, so such an answer may answer, at best)."""
    return weights.supported if latin(question) else math.inf


def answers(c: reader.Candidate) -> float:
    """A candidate's probability as an answer: its p when the reader parsed it (one of the pool's PARSED closest),
    else 0. The trees saw too few unparsed winners on dev (7 of 3105) to score one ("Two big team fights determined
    the outcome" came out at 0.44 for "How much prize money did T1 win?", matching nothing). Its p still orders the
    model's evidence (likeliest): there, zeroing it moved 42 of 250 sampled answers, no better on balance."""
    return c.p if c.features[PARSED_AT] else 0.0


PARSED_AT = reader.SENTENCE_FEATURES.index("parsed")


def extractive(question: str, hits: list[Hit], k: int, weights: reader_model.Weights | None = None) -> Answer:
    if not hits:
        return Answer(question, ABSTAIN, True, "extractive")
    weights = weights or reader_model.load()
    return from_reading(question, reading(question, hits, weights), k, weights)


def reading(question: str, hits: list[Hit], weights: reader_model.Weights | None = None) -> reader.Reading:
    """The reader's probability that each of the first POOL sentences answers the question."""
    return reader_model.score(reader.read(question, hits[:POOL]), weights or reader_model.load())


def from_reading(question: str, reading: reader.Reading, k: int, weights: reader_model.Weights) -> Answer:
    """The answer a scored reading gives (the model path's fallback reads the same pool once, for its gate)."""
    ranked = sorted(reading.candidates, key=lambda c: -answers(c))
    best = ranked[0]
    p = round(answers(best), 3)
    support = badge(answers(best), weights, question)
    if support is None:
        return Answer(
            question, ABSTAIN, True, "extractive", candidates=citations([c.hit for c in ranked[:k]]), probability=p
        )
    # the short span only when the sentence is a sure answer and the span likely the right cut of it
    short = support == SUPPORTED and best.span is not None and best.span.p >= weights.span_min
    text = best.span.text if short else best.hit.sentence.text
    return Answer(
        question,
        text,
        False,
        "extractive",
        citations=citations([best.hit]),
        claims=[Claim(text, [1], support, p, p)],
        candidates=citations([c.hit for c in ranked[1 : k + 1]], start=2),
        probability=p,
    )


# -- the reader's view of a model's answer (QA_LLM_GATE) -------------------------------------------------------


def answering(claims: list[Claim], cited: dict[int, str], answers: dict[str, float], sure: float) -> list[Claim]:
    """A model's claim its sentences state (cited: marker -> sentence id) is `supported` only when the reader is
    sure (p >= its supported threshold) that one of them answers the question, as in the extractive path; else
    `partial` ("may answer"): a true sentence beside the point is not an answer. Each claim carries that p."""
    out = []
    for c in claims:
        p = max((answers.get(cited[m], 0.0) for m in c.citations), default=0.0)
        support = PARTIAL if c.support == SUPPORTED and p < sure else c.support
        out.append(dataclasses.replace(c, support=support, probability=round(p, 3)))
    return out


def beside_the_point(claims: list[Claim], cited: dict[int, str], answers: dict[str, float], bar: float) -> float | None:
    """The reader's best p among the sentences a model's answer cites, when it read them all and finds that none
    answers (p < bar, its abstention threshold): a small model often quotes a true sentence beside the question.
    None when the answer cites nothing, cites a sentence the reader did not read, or one it finds may answer."""
    ids = [cited[m] for c in claims for m in c.citations]
    if not ids or any(i not in answers for i in ids):
        return None
    best = max(answers[i] for i in ids)
    return round(best, 3) if best < bar else None


def likeliest(reading: reader.Reading, pool: list[Hit], n: int) -> list[Hit]:
    """The evidence for the model: n sentences taken in turn from the reader's order (likeliest to answer first)
    and retrieval's (closest first), so that neither ranker's miss costs the sentence that answers; a small model
    reads few sentences well."""
    by_reader = [c.hit for c in sorted(reading.candidates, key=lambda c: -c.p)]  # stable: retrieval breaks ties
    turns = [h for pair in zip(by_reader, pool) for h in pair] + pool  # the rest of the pool if n is more
    seen: dict[str, Hit] = {}
    for h in turns:
        seen.setdefault(h.sentence.id, h)
    return list(seen.values())[:n]
