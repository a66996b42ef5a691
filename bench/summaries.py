"""Extractive summaries against written ones: SummEdits' news articles each come with the summary its edits were
made from (`original_summary`: one or two sentences a person checked as consistent). Each article is ingested as
`qa ingest` would (cleaned, split), summarized in five sentences by `summarize.extractive` (the offline
`qa summarize`), and scored by how much of the written summary the five sentences hold: ROUGE-1 and ROUGE-2
recall (Google's rouge-score, stemmed). Baseline: the article's first five summary-material sentences (lead-5,
the standard news baseline)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bench.data import SPLITS, summedits_rows
from bench.vectors import VectorCache

SENTENCES = 5


def bench_summaries(data: Path, cache: VectorCache, quick: bool) -> dict[str, dict]:
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2"], use_stemmer=True)
    out = {}
    for split in SPLITS:
        written = {r["doc"]: r["original_summary"] for r in summedits_rows(data, split)}
        docs = list(written)[:2] if quick else list(written)
        ours, lead = [], []
        for doc in docs:
            summary, first = _summaries(doc, cache)
            ours.append(_recall(scorer, written[doc], summary))
            lead.append(_recall(scorer, written[doc], first))
        out[split] = {"n": len(docs), "ours": _mean(ours), "baseline": _mean(lead)}
    return out


def _summaries(doc: str, cache: VectorCache) -> tuple[str, str]:
    """The article's summary by qa, and its lead-5."""
    from qa import sentences, summarize
    from qa.ingest import from_text
    from qa.types import DocumentInfo

    a = from_text(doc, source="summedits")
    sents = sentences.split(a.doc_id, a.text)
    vecs = cache.embed([s.text for s in sents])
    info = {a.doc_id: DocumentInfo(a.doc_id, a.title, a.source, "", "", len(sents), len(a.text))}
    summary = summarize.extractive([a.doc_id], sents, vecs, info, SENTENCES)
    lead = [s.text for s in sents if summarize.material(s.text)][:SENTENCES]
    return " ".join(s.text for s in summary.sentences), " ".join(lead)


def _recall(scorer, reference: str, summary: str) -> tuple[float, float]:
    got = scorer.score(reference, summary)
    return got["rouge1"].recall, got["rouge2"].recall


def _mean(scores: list[tuple[float, float]]) -> dict:
    return {
        "rouge1_recall": float(np.mean([s[0] for s in scores])),
        "rouge2_recall": float(np.mean([s[1] for s in scores])),
    }
