"""The verifier on WiCE (../shared/data): does it pick the sentences that support a claim, and label the
claim right? Beside a baseline measured in the same run: the top-2 sentences by embedding similarity.

    python -m bench.verifier [dev|test ...]      # prints precision / recall / F1 and label accuracy

Precision and recall of a claim's picked sentences are taken against its best-matching gold set (any
one set is a correct citation); claims without a gold set (not_supported) count for labels only.
Sentence vectors are cached under ~/.cache/qa-bench so re-runs take seconds.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
CACHE = Path.home() / ".cache" / "qa-bench"
LABELS = {"supported": "supported", "partial": "partially_supported", "unsupported": "not_supported"}


def load(split: str) -> list[dict]:
    return [json.loads(line) for line in (DATA / f"wice_claim_{split}.jsonl").read_text().splitlines() if line.strip()]


def vectors(texts: list[str], embedder) -> np.ndarray:
    """(len(texts), dim), cached by content."""
    key = hashlib.sha256(("\\n".join(texts) + embedder.name).encode()).hexdigest()[:16]
    path = CACHE / f"{key}.npy"
    if path.exists():
        return np.load(path)
    vecs = embedder.embed(texts)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(path, vecs)
    return vecs


def prf(picked: list[int], gold_sets: list[list[int]]) -> tuple[float, float, float]:
    best = (0.0, 0.0, 0.0)
    for gold in gold_sets:
        hit = len(set(picked) & set(gold))
        p = hit / len(picked) if picked else 0.0
        r = hit / len(gold) if gold else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        best = max(best, (p, r, f), key=lambda x: x[2])
    return best


def evaluate(rows: list[dict], embedder) -> dict:
    from qa import verify

    texts = [r["claim"] for r in rows] + [s for r in rows for s in r["evidence"]]
    vecs = vectors(texts, embedder)
    claim_vecs, at = vecs[: len(rows)], len(rows)
    ours, base, labels = [], [], []
    for i, r in enumerate(rows):
        ev = vecs[at : at + len(r["evidence"])]
        at += len(r["evidence"])
        sims = ev @ claim_vecs[i]  # (n_evidence,)
        picked = verify.pick_support(r["claim"], r["evidence"], list(sims))
        top2 = list(np.argsort(-sims)[:2])
        gold = [g for g in r["supporting_sentences"] if g]
        if gold:
            ours.append(prf(picked, gold))
            base.append(prf(top2, gold))
        label, _ = verify.check(r["claim"], [r["evidence"][j] for j in picked], float(sims[picked].max()) if picked else None)
        labels.append(LABELS[label] == r["label"])
    mean = lambda xs, k: float(np.mean([x[k] for x in xs]))  # noqa: E731
    return {"claims": len(rows), "with_gold": len(ours),
            "ours": {"precision": mean(ours, 0), "recall": mean(ours, 1), "f1": mean(ours, 2)},
            "baseline_top2": {"precision": mean(base, 0), "recall": mean(base, 1), "f1": mean(base, 2)},
            "label_accuracy": float(np.mean(labels)), "majority_label_accuracy": _majority(rows)}


def _majority(rows: list[dict]) -> float:
    from collections import Counter

    return Counter(r["label"] for r in rows).most_common(1)[0][1] / len(rows)


def main(splits: list[str]) -> None:
    from qa import embeddings

    embedder = embeddings.load()
    for split in splits:
        t = time.perf_counter()
        res = evaluate(load(split), embedder)
        o, b = res["ours"], res["baseline_top2"]
        print(f"WiCE {split}: {res['claims']} claims ({res['with_gold']} with a gold set), {time.perf_counter() - t:.0f} s")
        print(f"  verifier picks   P {o['precision']:.3f}  R {o['recall']:.3f}  F1 {o['f1']:.3f}")
        print(f"  top-2 embedding  P {b['precision']:.3f}  R {b['recall']:.3f}  F1 {b['f1']:.3f}")
        print(f"  claim label accuracy {res['label_accuracy']:.3f} (majority class {res['majority_label_accuracy']:.3f})")


if __name__ == "__main__":
    main(sys.argv[1:] or ["dev"])
