"""Question + ranked sentences -> an extractive Answer. The reader (qa/reader.py, qa/reader_model.py) gives
each sentence a probability that it answers; the best one is the answer, cut to its short span when the
span is likely right, and labelled by that probability: supported, partial ("may answer"), or an
abstention (`ABSTAIN`) that lists the nearest candidates.
"""

from __future__ import annotations

from qa import reader, reader_model
from qa.types import ABSTAIN, Answer, Claim, Hit, citations

POOL = 20  # sentences considered for an answer
SUPPORTED, PARTIAL = "supported", "partial"


def badge(p: float, weights: reader_model.Weights) -> str | None:
    """The claim's label for an answer probability; None: abstain."""
    if p >= weights.supported:
        return SUPPORTED
    return PARTIAL if p >= weights.abstain else None


def extractive(question: str, hits: list[Hit], k: int, weights: reader_model.Weights | None = None) -> Answer:
    if not hits:
        return Answer(question, ABSTAIN, True, "extractive")
    weights = weights or reader_model.load()
    reading = reader_model.score(reader.read(question, hits[:POOL]), weights)
    ranked = sorted(reading.candidates, key=lambda c: -c.p)
    best = ranked[0]
    p = round(best.p, 3)
    support = badge(best.p, weights)
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
