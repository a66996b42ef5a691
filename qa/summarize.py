"""Articles -> an extractive Summary: N sentences chosen for their place in their article (news says its main
point first) and their centrality, without repeats (maximal marginal relevance), in reading order, each citing
itself."""

from __future__ import annotations

import re

import numpy as np

from qa.clean import ends_sentence
from qa.text import word_count
from qa.types import Citation, DocumentInfo, Sentence, Summary, SummarySentence
from qa.verify import states

LAMBDA = 0.7  # weight of relevance against redundancy in MMR
# A sentence's relevance: LEAD x its place in its article (DECAY ** k for the article's k-th summary-material
# sentence) + (1 - LEAD) x its centrality. Round values, not fitted: ROUGE-2 recall of SummEdits' reference
# summaries (test, 21 articles) is 0.326 by centrality alone, 0.428 for the first five sentences, 0.443 with these,
# and 0.38-0.44 for any LEAD in 0.3-0.7 and DECAY in 0.5-0.85 (python -m bench quality, evals/RESULTS.md)
LEAD, DECAY = 0.5, 0.7
REPEAT = 0.9  # cosine at which a sentence says again what a picked one says (a lead restated, a caption twice)
MIN_WORDS = 6  # shorter "sentences" (datelines, fragments) are not summary material
# a web address or a social handle: an embedded post or a link ("pic.twitter.com/x -- Name (@name)"), not a fact
_EMBED = re.compile(r"https?://|\bwww\.|\b[\w-]+\.(?:com|org|net|co|io)/\S|(?<![\w.])@\w{2,}")
# a dateline opens a story's first paragraph: "BEIRUT —", "KABUL, Afghanistan (AP) --", "SEOUL, Aug. 20 (Yonhap) --",
# "(CNN) --"; an AP caption's "FILE -" is not one
DATELINE = re.compile(
    r"(?!FILE\b)(?:[A-Z][A-Z.'-]+(?:[ ,]+[A-Z][A-Za-z.'-]*){0,3}(?:,? [A-Z][a-z]{2}\.? \d{1,2})?\s*(?:\([^()]{2,30}\))?"
    r"|\([A-Z][\w ]{1,30}\))\s*(?:—|--|–| - )\s*[A-Z0-9“\"‘']"
)
LEAD_SEARCH = 6  # a dateline this far into an article's summary material starts its story


def extractive(
    doc_ids: list[str], sents: list[Sentence], vecs: np.ndarray, docs: dict[str, DocumentInfo], n: int
) -> Summary:
    """sents in reading order; vecs: (len(sents), dim) unit rows."""
    pool = [i for i, s in enumerate(sents) if material(s.text)]
    if len(pool) < n:  # an article of few full sentences (a list, a transcript) still gets n lines
        pool = [i for i, s in enumerate(sents) if material(s.text, strict=False)] or list(range(len(sents)))
    picked = mmr(vecs, pool, n, relevance(sents, vecs, doc_ids, pool))
    picked.sort()  # reading order: documents as given, then position
    summary = Summary(doc_ids=doc_ids, mode="extractive")
    for marker, i in enumerate(picked, 1):
        s, d = sents[i], docs[sents[i].doc_id]
        summary.citations.append(Citation.of(marker, s, d.title, d.url))
        summary.sentences.append(SummarySentence(s.text, [marker]))
    return summary


def material(text: str, strict: bool = True) -> bool:
    """A sentence a summary may show: long enough, stating something (no question: a related article's
    headline often is one; no instruction), not an embedded post or link, and (strict) a full sentence: a line
    without a full stop is a section heading ("Local: Guns, family leave and shark fins") or introduces a list
    ("Here are the takeaways from Trump's day on the stand:"), and says nothing on its own."""
    full = ends_sentence(text) or not strict
    return full and word_count(text) >= MIN_WORDS and states(text) and not _EMBED.search(text)


def relevance(sents: list[Sentence], vecs: np.ndarray, doc_ids: list[str], pool: list[int]) -> np.ndarray:
    """How much each sentence belongs in a summary: its place among its article's summary material (pool), first
    counting most, mixed with its centrality. A news article's lead states what happened; its most central
    sentences by cosine are often quotes and asides that name the topic ("The fraud is on the court, not on me,"
    Trump said.), and a reader wants the lead first."""
    place = np.zeros(len(sents), dtype=np.float32)
    for material in _by_article(sents, pool).values():
        story = _story(material, sents)
        place[story] = DECAY ** np.arange(len(story), dtype=np.float32)
    return LEAD * place + (1 - LEAD) * _centrality(sents, vecs, doc_ids)


def _story(material: list[int], sents: list[Sentence]) -> list[int]:
    """An article's summary material from where its story starts: at its dateline ("BEIRUT — Syrian government
    forces recaptured ...") when one opens a sentence after the first, as in a page's text copied whole, where the
    photo captions and the standfirst stand before it. What stands before counts by its centrality only."""
    start = next((k for k, i in enumerate(material[:LEAD_SEARCH]) if DATELINE.match(sents[i].text)), 0)
    return material[start:]


def _centrality(sents: list[Sentence], vecs: np.ndarray, doc_ids: list[str]) -> np.ndarray:
    """Cosine to the centroid of the sentence's own article, so that each article's core counts
    even when one article is much longer than the others."""
    central = np.zeros(len(sents), dtype=np.float32)
    articles = _by_article(sents, range(len(sents)))
    for rows in (articles[d] for d in doc_ids if d in articles):
        centroid = vecs[rows].mean(0)
        central[rows] = vecs[rows] @ (centroid / max(float(np.linalg.norm(centroid)), 1e-12))
    return central


def _by_article(sents: list[Sentence], indices) -> dict[str, list[int]]:
    """The indices grouped by their sentence's article, in order (one pass: a library can hold thousands)."""
    out: dict[str, list[int]] = {}
    for i in indices:
        out.setdefault(sents[i].doc_id, []).append(i)
    return out


def mmr(vecs: np.ndarray, pool: list[int], n: int, relevance: np.ndarray, lam: float = LAMBDA) -> list[int]:
    """Up to n of pool, each the most relevant less its likeness to those already picked; a sentence that
    repeats one picked (cosine >= REPEAT: a caption shown twice, the lead restated) only when nothing else is left."""
    picked: list[int] = []
    left = list(pool)
    while left and len(picked) < n:
        redundancy = (vecs[left] @ vecs[picked].T).max(1) if picked else np.zeros(len(left))
        gain = lam * relevance[left] - (1 - lam) * redundancy
        if (redundancy < REPEAT).any():
            gain[redundancy >= REPEAT] = -np.inf
        picked.append(left.pop(int(np.argmax(gain))))
    return picked
