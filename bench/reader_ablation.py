"""Is a change to the reader worth a retrain? Out-of-fold scores of the reader on the dev questions, over several
shuffles of the folds, so that a change is read against the noise of the fold split (one shuffle can move SQuAD
abstention by 0.03 on its own). Reads the dev retrieval that `python -m bench.train_reader --hits FILE` saves.

    .venv/bin/python -m bench.reader_ablation --hits FILE [--shuffles 3] [--blank FEATURE ...]

Per dev set it prints: choice (the best candidate answers, over answerable questions: no threshold), AUC (the best
candidate's P, answerable against unanswerable), and the thresholded scores train_reader writes (answered with an
answering sentence / unanswerable abstained / false abstention). --blank holds features at a constant, which is the
reader without them at the same trees: the ablation of a feature, with nothing else moved.
These are dev scores; test is `python -m bench quality`, and a dev gain has not always carried to test.
"""

from __future__ import annotations

import argparse
import pickle
import random
from pathlib import Path

import numpy as np

from bench import train_reader as tr
from qa import reader_model
from qa.reader import SENTENCE_FEATURES
from qa.reader_spans import SPAN_FEATURES

BLANK = 0.5  # what a blanked feature is held at


def auc(positive: list[float], negative: list[float]) -> float:
    """P(a random positive scores above a random negative), ties counting half."""
    a, b = np.asarray(positive, float)[:, None], np.asarray(negative, float)[None, :]
    return float((a > b).mean() + 0.5 * (a == b).mean())


def ranking(outs: list[tr.Outcome]) -> dict[str, tuple[float, float | None]]:
    """Per dataset: (choice, AUC); AUC is None for a set without unanswerable questions."""
    out = {}
    for d in sorted({o.dataset for o in outs}):
        answerable = [o for o in outs if o.dataset == d and o.answerable]
        unanswerable = [o for o in outs if o.dataset == d and not o.answerable]
        choice = float(np.mean([o.ok for o in answerable])) if answerable else 0.0
        separation = auc([o.p for o in answerable], [o.p for o in unanswerable]) if unanswerable else None
        out[d] = (choice, separation)
    return out


def blank(items: list[tr.Item], names: list[str]) -> None:
    unknown = [n for n in names if n not in SENTENCE_FEATURES and n not in SPAN_FEATURES]
    if unknown:
        raise SystemExit(f"no such feature: {', '.join(unknown)} (see qa/reader.py and qa/reader_spans.py)")
    rows = [SENTENCE_FEATURES.index(n) for n in names if n in SENTENCE_FEATURES]
    spans = [SPAN_FEATURES.index(n) for n in names if n in SPAN_FEATURES]
    for i in items:
        for c in i.reading.candidates:
            for j in rows:
                c.features[j] = BLANK
            for s in c.spans:
                for j in spans:
                    s.features[j] = BLANK


def thresholded(outs: list[tr.Outcome]) -> dict[str, dict]:
    """The dev scores at the thresholds train_reader would pick from these probabilities."""
    min_names, min_match = tr.pick_gates(outs)
    gated = tr.gate(outs, min_names, min_match)
    abstain = tr.pick_abstain(gated)
    weights = reader_model.Weights(None, None, abstain, tr.pick_supported(gated, abstain), 0, min_names, min_match)
    return tr.dev_scores(gated, weights)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hits", type=Path, required=True, help="the dev retrieval saved by train_reader --hits")
    parser.add_argument("--shuffles", type=int, default=3, help="fold splits: the first is train_reader's own")
    parser.add_argument("--blank", nargs="*", default=[], help="features held at a constant")
    args = parser.parse_args(argv)
    items = tr.read_all(pickle.loads(args.hits.read_bytes()))
    blank(items, args.blank)
    runs = []
    for seed in range(args.shuffles):
        order = list(items)
        if seed:
            random.Random(seed).shuffle(order)
        outs = tr.out_of_fold(order)
        runs.append((ranking(outs), thresholded(outs)))
        _print(f"shuffle {seed}", *runs[-1])
    if len(runs) > 1:
        mean = {d: tuple(_mean([r[0][d][k] for r in runs]) for k in (0, 1)) for d in runs[0][0]}
        print(f"mean of {len(runs)}: " + "  ".join(f"{d} choice {c:.3f} AUC {_fmt(a)}" for d, (c, a) in mean.items()))


def _print(label: str, ranks: dict, scores: dict) -> None:
    parts = []
    for d, (choice, separation) in ranks.items():
        s = scores[d]
        parts.append(
            f"{d} choice {choice:.3f} AUC {_fmt(separation)} | answered {s['answered_with_an_answering_sentence']:.3f}"
            f" abstained {_fmt(s['unanswerable_abstained'])} false {s['false_abstention']:.3f}"
        )
    print(f"{label}: " + "  ".join(parts), flush=True)


def _mean(xs: list) -> float | None:
    xs = [x for x in xs if x is not None]
    return float(np.mean(xs)) if xs else None


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


if __name__ == "__main__":
    main()
