"""Articles -> an extractive Summary: N sentences chosen for centrality and coverage, without repeats
(maximal marginal relevance), in reading order, each citing itself."""

from __future__ import annotations

import re

import numpy as np

from qa.clean import ends_sentence
from qa.types import Citation, DocumentInfo, Sentence, Summary, SummarySentence
from qa.verify import states

LAMBDA = 0.7  # weight of centrality against redundancy in MMR
MIN_WORDS = 6  # shorter "sentences" (datelines, fragments) are not summary material
# a web address or a social handle: an embedded post or a link ("pic.twitter.com/x -- Name (@name)"), not a fact
_EMBED = re.compile(r"https?://|\bwww\.|\b[\w-]+\.(?:com|org|net|co|io)/\S|(?<![\w.])@\w{2,}")


def extractive(
    doc_ids: list[str], sents: list[Sentence], vecs: np.ndarray, docs: dict[str, DocumentInfo], n: int
) -> Summary:
    """sents in reading order; vecs: (len(sents), dim) unit rows."""
    pool = [i for i, s in enumerate(sents) if _material(s.text)]
    if len(pool) < n:  # an article of few full sentences (a list, a transcript) still gets n lines
        pool = [i for i, s in enumerate(sents) if _material(s.text, strict=False)] or list(range(len(sents)))
    picked = mmr(vecs, pool, n, _centrality(sents, vecs, doc_ids))
    picked.sort()  # reading order: documents as given, then position
    summary = Summary(doc_ids=doc_ids, mode="extractive")
    for marker, i in enumerate(picked, 1):
        s, d = sents[i], docs[sents[i].doc_id]
        summary.citations.append(Citation.of(marker, s, d.title, d.url))
        summary.sentences.append(SummarySentence(s.text, [marker]))
    return summary


def _material(text: str, strict: bool = True) -> bool:
    """A sentence a summary may show: long enough, stating something (no question: a related article's
    headline often is one; no instruction), not an embedded post or link, and (strict) a full sentence: a line
    without a full stop is a section heading ("Local: Guns, family leave and shark fins") or introduces a list
    ("Here are the takeaways from Trump's day on the stand:"), and says nothing on its own."""
    full = ends_sentence(text) or not strict
    return full and len(text.split()) >= MIN_WORDS and states(text) and not _EMBED.search(text)


def _centrality(sents: list[Sentence], vecs: np.ndarray, doc_ids: list[str]) -> np.ndarray:
    """Cosine to the centroid of the sentence's own article, so that each article's core counts
    even when one article is much longer than the others."""
    central = np.zeros(len(sents), dtype=np.float32)
    for d in doc_ids:
        rows = [i for i, s in enumerate(sents) if s.doc_id == d]
        centroid = vecs[rows].mean(0)
        central[rows] = vecs[rows] @ (centroid / max(float(np.linalg.norm(centroid)), 1e-12))
    return central


def mmr(vecs: np.ndarray, pool: list[int], n: int, relevance: np.ndarray, lam: float = LAMBDA) -> list[int]:
    picked: list[int] = []
    left = list(pool)
    while left and len(picked) < n:
        if picked:
            redundancy = (vecs[left] @ vecs[picked].T).max(1)
        else:
            redundancy = np.zeros(len(left))
        gain = lam * relevance[left] - (1 - lam) * redundancy
        picked.append(left.pop(int(np.argmax(gain))))
    return picked
