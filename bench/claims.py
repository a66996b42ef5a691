"""`python -m bench quality`'s claim checks: the verifier (qa.verify, as the model path uses it) measured on
WiCE (which sentences support a claim, and its label) and on SummEdits (is a news summary consistent with its
document), each beside a baseline measured in the same run; thresholds are fitted on the dev split only.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

from bench.data import SPLITS, summedits_rows, wice_rows
from bench.scoring import _mean, balanced_accuracy, fit_threshold, prf
from bench.vectors import VectorCache
from qa import verify

WICE_LABELS = {
    verify.SUPPORTED: "supported",
    verify.PARTIAL: "partially_supported",
    verify.UNSUPPORTED: "not_supported",
}


def bench_wice(rows: list[dict], cache: VectorCache, majority: str) -> dict:
    """Which sentences the verifier chooses as support (verify.choose, as the model path does), against the
    best-matching gold set (claims without one count for labels only), and the label it gives."""
    texts = [r["claim"] for r in rows] + [s for r in rows for s in r["evidence"]]
    vecs = cache.embed(texts)
    claims, at = vecs[: len(rows)], len(rows)
    ours, base, labels = [], [], []
    for i, r in enumerate(rows):
        ev = vecs[at : at + len(r["evidence"])]
        at += len(r["evidence"])
        sims = ev @ claims[i]  # (n_evidence,)
        picked, label, _ = verify.choose(r["claim"], r["evidence"], [float(s) for s in sims], [])
        top2 = [int(j) for j in np.argsort(-sims)[:2]]
        gold = [g for g in r["supporting_sentences"] if g]
        if gold:
            ours.append(prf(picked, gold))
            base.append(prf(top2, gold))
        labels.append(WICE_LABELS[label] == r["label"])
    col = lambda xs, j: _mean(x[j] for x in xs)  # noqa: E731
    return {
        "n": len(rows),
        "with_gold": len(ours),
        "ours": {
            "precision": col(ours, 0),
            "recall": col(ours, 1),
            "f1": col(ours, 2),
            "label_accuracy": _mean(labels),
        },
        "baseline": {
            "precision": col(base, 0),
            "recall": col(base, 1),
            "f1": col(base, 2),
            "label_accuracy": _mean(r["label"] == majority for r in rows),
        },
        "baseline_label": majority,
    }


def wice(data: Path, split: str, cache: VectorCache, rows: list[dict] | None = None) -> dict:
    """WiCE on one split; the label baseline is the majority label of the dev split."""
    majority = Counter(r["label"] for r in wice_rows(data, "dev")).most_common(1)[0][0]
    return bench_wice(rows if rows is not None else wice_rows(data, split), cache, majority)


def summary_consistency(summary_sents: list[str], doc_sents: list[str], sims: np.ndarray) -> float:
    """A summary checked against its document with the verifier, as a model's claims are: for each summary
    sentence the support verify.choose finds among the document's sentences (words, numbers, names, and who did
    what to whom); the summary's score is its weakest sentence's (a summary is as consistent as its least supported
    claim). sims: (len(summary_sents), len(doc_sents)) cosines."""
    scores = [verify.choose(s, doc_sents, [float(x) for x in sims[i]], [])[2] for i, s in enumerate(summary_sents)]
    return min(scores) if scores else 0.0


def _summedits_scores(rows: list[dict], cache: VectorCache) -> tuple[list[float], list[float]]:
    """(ours, baseline) scores per row; higher = more likely consistent."""
    from qa import sentences

    split = lambda text: [text[a:b] for a, b in sentences.spans(text)]  # noqa: E731
    docs = {d: split(d) for d in dict.fromkeys(r["doc"] for r in rows)}
    summaries = [split(r["summary"]) or [r["summary"]] for r in rows]
    doc_vecs = {d: cache.embed(s) for d, s in docs.items()}
    sent_vecs = cache.embed([s for ss in summaries for s in ss])
    whole = cache.embed([" ".join(r["summary"].split()) for r in rows])
    ours, base, at = [], [], 0
    for i, r in enumerate(rows):
        n = len(summaries[i])
        dv = doc_vecs[r["doc"]]
        ours.append(summary_consistency(summaries[i], docs[r["doc"]], sent_vecs[at : at + n] @ dv.T))
        at += n
        base.append(float((dv @ whole[i]).max()) if len(dv) else 0.0)
    return ours, base


def bench_summedits(data: Path, cache: VectorCache, quick: bool) -> dict[str, dict]:
    rows = {s: summedits_rows(data, s) for s in SPLITS}
    if quick:
        rows = {
            s: [r for r in rs if r["label"] == 1][:3] + [r for r in rs if r["label"] == 0][:3] for s, rs in rows.items()
        }
    scores = {s: _summedits_scores(rs, cache) for s, rs in rows.items()}
    labels = {s: [int(r["label"]) for r in rs] for s, rs in rows.items()}
    t_ours = fit_threshold(scores["dev"][0], labels["dev"])
    t_base = fit_threshold(scores["dev"][1], labels["dev"])
    return {
        s: {
            "n": len(rows[s]),
            "consistent": sum(labels[s]),
            "ours": {"balanced_accuracy": balanced_accuracy(scores[s][0], labels[s], t_ours)},
            "baseline": {"balanced_accuracy": balanced_accuracy(scores[s][1], labels[s], t_base)},
            "threshold": t_ours,
            "baseline_threshold": t_base,
        }
        for s in SPLITS
    }
