"""Which sentences support a claim: the verifier's pick among a document's sentences, as the WiCE and
SummEdits benchmarks score it."""

from __future__ import annotations

from qa.text import tokenize

# pick_support's weights, tuned on the WiCE dev split 
PICK_COVER, PICK_SIM, PICK_GAIN, PICK_MIN, PICK_POOL = 0.5, 0.5, 0.15, 0.6, 10


def pick_support(claim: str, sentences: list[str], sims: list[float] | None = None, most: int = 3) -> list[int]:
    """Which of `sentences` support the claim: the best by word coverage and similarity, then more
    only while each adds claim words the others lack (set cover). Indices, best first."""
    words = set(tokenize([claim])[0])
    if not words or not sentences:
        return []
    found = [set(t) & words for t in tokenize(sentences)]
    sims = sims if sims is not None else [0.0] * len(sentences)
    score = [PICK_COVER * len(f) / len(words) + PICK_SIM * s for f, s in zip(found, sims)]
    order = sorted(range(len(sentences)), key=lambda i: -score[i])
    picked, covered = [order[0]], set(found[order[0]])
    for i in order[1 : PICK_POOL]:
        if len(picked) >= most:
            break
        gain = len(found[i] - covered) / len(words)
        if gain >= PICK_GAIN and score[i] >= PICK_MIN * score[order[0]]:
            picked.append(i)
            covered |= found[i]
    return picked
