"""Fit the extractive reader's model (qa/data/reader.json) on dev splits only: SQuAD 2.0's first 8
articles (in a library of all 16), RGB ids 0-49, MultiHop-RAG ids 0-249; then pick the badge's thresholds
on the same dev questions and write the dev scores beside the weights. Deterministic.

    .venv/bin/python -m bench.train_reader --data ../shared/data

To judge a change before shipping a retrain, `python -m bench.reader_ablation --hits FILE` gives the out-of-fold
scores over several fold splits (their spread is the noise a change must beat), with or without given features.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import pickle
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench import data as sets
from bench import quality, scoring, squad, vectors
from qa import answer, reader, reader_model
from qa.reader import MODEL_FEATURES, SENTENCE_FEATURES
from qa.reader_spans import SPAN_FEATURES
from qa.text import squash

SEED = 13  # nothing here is random; kept so that a later sampler starts from a stated seed
L2 = 1.0  # ridge penalty on the standardised coefficients (the span model)
TREES = 200  # boosting rounds of the sentence model
RATE, LEAVES, MIN_LEAF = 0.05, 15, 200  # its learning rate, leaves per tree, least dev rows in a leaf
FOLDS = 2  # thresholds are picked on out-of-fold probabilities: a model is over-confident on its own rows
NAME_GRID = (0.0, 0.25, 0.5, 0.75, 1.0)  # shares of the question's names tried as the evidence's minimum
MATCH_GRID = (0.0, 0.3, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7)  # least pool matches (reader_model.pool_match) tried
MIN_SHOWN = 20  # dev answers at least, for a precision to choose the supported threshold by
MAX_FALSE = 0.08  # the abstention threshold keeps false abstention at most this on every dev set
MIN_PRECISION = 0.92  # "supported" from the lowest probability whose answers are this precise on dev
MAX_SPAN_LOSS = 0.02  # a short span replaces its sentence where that costs at most this share of right answers


@dataclass
class Item:
    dataset: str
    answerable: bool
    reading: reader.Reading
    sentence_ok: list[bool]  # per candidate: the sentence answers
    span_ok: list[list[bool]] | None  # per candidate, per span: the span holds the answer (None: no gold text)


def _label(dataset: str, q: dict, hits, reading: reader.Reading) -> Item:
    golds = q.get("golds")
    ok, span_ok = [], []
    for h, c in zip(hits, reading.candidates):
        text = h.sentence.text
        has_gold = golds is not None and scoring.contains_gold(text, golds)
        if dataset == "squad":
            has_gold = has_gold and h.title == q["title"]
        ok.append(bool(q["answerable"] and (has_gold or scoring._matches(text, q.get("facts", [])))))
        span_ok.append([golds is not None and _tight(s.text, golds) for s in c.spans])
    return Item(dataset, q["answerable"], reading, ok, span_ok if golds is not None else None)


def _tight(span: str, golds) -> bool:
    """The span holds a gold answer and little else: at most twice its length (RGB's lists: every item)."""
    groups = scoring.gold_groups(golds)
    if not scoring.contains_gold(span, golds):
        return False
    longest = sum(max(len(a) for a in g if a.casefold() in span.casefold()) for g in groups)
    return len(span) <= 2 * longest + 4


def _questions(data: Path) -> dict[str, tuple[list, list[dict]]]:
    """Per dataset: (articles, dev questions as {"question", "answerable", "golds", "facts", "title"})."""
    sq = squad.squad_data(data)
    squad_qs = [
        {
            "question": q["question"],
            "answerable": bool(q["answers"]),
            "golds": q["answers"] or None,
            "title": q["title"],
        }
        for q in squad.squad_questions(sq, "dev")
    ]
    rgb = sets.rgb_rows(data, sets.RGB_IDS["dev"])
    rgb_qs = [{"question": " ".join(r["query"].split()), "answerable": True, "golds": r["answer"]} for r in rgb]
    queries, truth = sets.multihop(data)
    mh_qs = []
    for q in sets.multihop_split(queries, "dev"):
        gold = truth[q["id"]]["answer"]
        null = q["question_type"] == "null_query"
        mh_qs.append(
            {
                "question": " ".join(q["question"].split()),
                "answerable": not null,
                "golds": None if null or gold.casefold() in scoring.YES_NO else gold,
                "facts": [squash(e["fact"]) for e in truth[q["id"]]["evidence_list"]],
            }
        )
    return {
        "squad": (squad.squad_articles(sq), squad_qs),
        "rgb": (sets.rgb_articles(rgb), rgb_qs),
        "multihop": (sets.multihop_articles(truth.values()), mh_qs),
    }


def retrieve_all(data: Path, cache: vectors.VectorCache, log=print) -> list[tuple[str, dict, list]]:
    """(dataset, question, hits) of every dev question, retrieved as `qa ask` retrieves."""
    out = []
    for name, (articles, qs) in _questions(data).items():
        t = time.perf_counter()
        corpus = quality._Corpus(articles, cache)
        cache.embed([q["question"] for q in qs])
        try:
            out += [(name, q, corpus.search(q["question"], answer.POOL)) for q in qs]
        finally:
            corpus.close()
        log(f"{name}: {len(qs)} dev questions, {corpus.sentences} sentences, {time.perf_counter() - t:.0f} s")
    return out


def read_all(retrieved: list[tuple[str, dict, list]]) -> list[Item]:
    return [_label(name, q, hits, reader.read(q["question"], hits)) for name, q, hits in retrieved if hits]


def fit_logistic(x: np.ndarray, y: np.ndarray, w: np.ndarray, names: list[str]) -> reader_model.Logistic:
    """L2-penalised logistic regression by Newton's method on standardised features."""
    mean, scale = x.mean(0), x.std(0)
    scale[scale < 1e-9] = 1.0
    z = np.hstack([(x - mean) / scale, np.ones((len(x), 1))])
    beta = np.zeros(z.shape[1])
    penalty = np.full(z.shape[1], L2)
    penalty[-1] = 0.0
    for _ in range(50):
        p = 1 / (1 + np.exp(-np.clip(z @ beta, -30, 30)))
        grad = z.T @ (w * (p - y)) + penalty * beta
        hess = (z * (w * p * (1 - p))[:, None]).T @ z + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hess, grad)
        beta -= step
        if np.abs(step).max() < 1e-7:
            break
    return reader_model.Logistic(names, mean, scale, beta[:-1], float(beta[-1]))


def _dataset_weights(items: list[Item]) -> dict[str, float]:
    """Each set's rows weighted up by the square root of how much smaller it is than the largest."""
    n = {d: sum(i.dataset == d for i in items) for d in {i.dataset for i in items}}
    return {d: (max(n.values()) / c) ** 0.5 for d, c in n.items()}


def fit(items: list[Item]) -> tuple[reader_model.Logistic, reader_model.Logistic]:
    dw = _dataset_weights(items)
    rows = [
        (s.features, ok, dw[i.dataset])
        for i in items
        if i.span_ok is not None
        for c, good, oks in zip(i.reading.candidates, i.sentence_ok, i.span_ok)
        if good
        for s, ok in zip(c.spans, oks)
    ]
    span = fit_logistic(
        np.array([r[0] for r in rows]),
        np.array([r[1] for r in rows], float),
        np.array([r[2] for r in rows]),
        SPAN_FEATURES,
    )
    n = len(SENTENCE_FEATURES) + len(MODEL_FEATURES)
    placeholder = reader_model.Logistic(SENTENCE_FEATURES + MODEL_FEATURES, np.zeros(n), np.ones(n), np.zeros(n), 0.0)
    weights = reader_model.Weights(span, placeholder, 0.0, 0.0, 0.0)
    xs, ys, ws = [], [], []
    for i in items:
        reader_model.score(i.reading, weights)  # fills the span probabilities the sentence model reads
        xs.append(reader_model.sentence_matrix(i.reading))
        ys += i.sentence_ok
        ws += [dw[i.dataset]] * len(i.sentence_ok)
    sentence = fit_trees(np.vstack(xs), np.array(ys, float), np.array(ws), SENTENCE_FEATURES + MODEL_FEATURES)
    return span, sentence


def fit_trees(x: np.ndarray, y: np.ndarray, w: np.ndarray, names: list[str]) -> reader_model.Trees:
    """scikit-learn's histogram gradient boosting (installed with the bench extra, not at run time),
    flattened into reader_model.Trees; checked to predict what scikit-learn predicts."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    model = HistGradientBoostingClassifier(
        max_iter=TREES,
        learning_rate=RATE,
        max_leaf_nodes=LEAVES,
        min_samples_leaf=MIN_LEAF,
        l2_regularization=1.0,
        early_stopping=False,
        random_state=SEED,
    )
    model.fit(x, y, sample_weight=w)
    parts, roots, at = [], [], 0
    for [tree] in model._predictors:
        nodes = tree.nodes
        roots.append(at)
        parts.append(
            (
                nodes["feature_idx"],
                nodes["num_threshold"],
                nodes["left"] + at,
                nodes["right"] + at,
                nodes["value"],
                nodes["is_leaf"].astype(bool),
                nodes["depth"],
            )
        )
        at += len(nodes)

    def col(j: int) -> np.ndarray:
        return np.concatenate([p[j] for p in parts])

    trees = reader_model.Trees(
        names,
        col(0).astype(np.int64),
        col(1).astype(float),
        col(2).astype(np.int64),
        col(3).astype(np.int64),
        col(4).astype(float),
        col(5),
        np.array(roots, dtype=np.int64),
        float(np.ravel(model._baseline_prediction)[0]),
        int(col(6).max()),
    )
    assert np.allclose(trees.prob(x[:2000]), model.predict_proba(x[:2000])[:, 1], atol=1e-6)
    return trees


@dataclass
class Outcome:
    dataset: str
    answerable: bool
    p: float  # the best candidate's P(answers)
    ok: bool  # the best sentence answers
    span_p: float  # its best span's probability (0 without one)
    span_ok: bool | None  # that span holds the answer (None: no gold text to tell)
    names: float  # the pool's share of what the question names
    match: float  # reader_model.pool_match


def outcomes(items: list[Item], weights: reader_model.Weights) -> list[Outcome]:
    out = []
    for i in items:
        reader_model.score(i.reading, weights)
        b = max(range(len(i.reading.candidates)), key=lambda j: i.reading.candidates[j].p)
        c = i.reading.candidates[b]
        span_ok = None
        if c.span is not None and i.span_ok is not None:
            span_ok = i.span_ok[b][c.spans.index(c.span)]
        names = c.features[SENTENCE_FEATURES.index("pool_names")]
        out.append(
            Outcome(
                i.dataset,
                i.answerable,
                c.p,
                i.sentence_ok[b],
                c.span.p if c.span else 0.0,
                span_ok,
                names,
                reader_model.pool_match(i.reading),
            )
        )
    return out


def out_of_fold(items: list[Item]) -> list[Outcome]:
    """Every dev question scored by a model that did not see it (scored as soon as its fold's model is fitted:
    fitting rescores the rows it is fitted on)."""
    outs = []
    for f in range(FOLDS):
        span, sentence = fit([i for k, i in enumerate(items) if k % FOLDS != f])
        fold = [i for k, i in enumerate(items) if k % FOLDS == f]
        outs += outcomes(fold, reader_model.Weights(span, sentence, 0, 0, 0))
    return outs


def _grid(values: list[float]) -> list[float]:
    return sorted({round(v, 3) for v in values} | {0.0})


def pick_abstain(outs: list[Outcome]) -> float:
    """The threshold abstaining on the most unanswerable dev questions (mean over the sets that have them)
    while false abstention stays within MAX_FALSE on every set."""
    sets = sorted({o.dataset for o in outs})
    best, gain = 0.0, -1.0
    for t in _grid([o.p for o in outs]):
        false = [np.mean([o.p < t for o in outs if o.dataset == d and o.answerable]) for d in sets]
        caught = [
            np.mean([o.p < t for o in outs if o.dataset == d and not o.answerable])
            for d in sets
            if any(o.dataset == d and not o.answerable for o in outs)
        ]
        if max(false) <= MAX_FALSE and np.mean(caught) > gain + 1e-12:
            best, gain = t, float(np.mean(caught))
    return best


def gate(outs: list[Outcome], min_names: float, min_match: float) -> list[Outcome]:
    return [dataclasses.replace(o, p=0.0) if o.names < min_names or o.match < min_match else o for o in outs]


def pick_gates(outs: list[Outcome]) -> tuple[float, float]:
    """The share of the question's names the evidence must hold and the least pool match, from NAME_GRID
    x MATCH_GRID: the pair whose abstention threshold (pick_abstain) catches the most unanswerable
    dev questions within MAX_FALSE."""
    best, gain = (0.0, 0.0), -1.0
    sets = {o.dataset for o in outs}
    for m in NAME_GRID:
        for sim in MATCH_GRID:
            gated = gate(outs, m, sim)
            t = pick_abstain(gated)
            false = max(np.mean([o.p < t for o in gated if o.dataset == d and o.answerable]) for d in sets)
            caught = np.mean(
                [
                    np.mean([o.p < t for o in gated if o.dataset == d and not o.answerable])
                    for d in {o.dataset for o in outs if not o.answerable}
                ]
            )
            if false <= MAX_FALSE and caught > gain + 1e-12:
                best, gain = (m, sim), float(caught)
    return best


def pick_supported(outs: list[Outcome], abstain: float) -> float:
    """The lowest threshold at which the dev answers shown as supported are MIN_PRECISION right."""
    for t in _grid([o.p for o in outs if o.p >= abstain]):
        shown = [o.answerable and o.ok for o in outs if o.p >= max(t, abstain)]
        if len(shown) >= MIN_SHOWN and np.mean(shown) >= MIN_PRECISION:
            return max(t, abstain)
    return 1.0


def pick_span(outs: list[Outcome], abstain: float) -> float:
    """The lowest span probability at which cutting answers to their span loses at most MAX_SPAN_LOSS of
    the right answers on dev."""
    judged = [o for o in outs if o.p >= abstain and o.ok and o.span_ok is not None]
    for t in _grid([o.span_p for o in judged]):
        lost = sum(o.span_p >= t and not o.span_ok for o in judged)
        if lost <= MAX_SPAN_LOSS * max(len(judged), 1):
            return t
    return 1.0


def dev_scores(outs: list[Outcome], w: reader_model.Weights) -> dict[str, dict]:
    """Per dev set, from the training labels (the benchmarks' own scoring is bench/squad.py's)."""
    scores = {}
    for d in sorted({o.dataset for o in outs}):
        mine = [o for o in outs if o.dataset == d]
        ans = [o for o in mine if o.answerable]
        una = [o for o in mine if not o.answerable]
        sup = [o.answerable and o.ok for o in mine if o.p >= w.supported]
        scores[d] = {
            "questions": len(mine),
            "answered_with_an_answering_sentence": _r(np.mean([o.p >= w.abstain and o.ok for o in ans])),
            "false_abstention": _r(np.mean([o.p < w.abstain for o in ans])),
            "unanswerable_abstained": _r(np.mean([o.p < w.abstain for o in una])) if una else None,
            "supported_precision": _r(np.mean(sup)) if sup else None,
        }
    return scores


def _r(x) -> float:
    return round(float(x), 3)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None)
    parser.add_argument("--out", default=str(reader_model.WEIGHTS))
    parser.add_argument("--hits", default=None, help="save the dev retrieval here (or read it, when it exists)")
    args = parser.parse_args(argv)
    from qa import embeddings

    t0 = time.perf_counter()
    data = sets.find_data(args.data)
    retrieved = None
    if args.hits and Path(args.hits).is_file():  # a retrieval saved by an earlier run, to iterate on features
        retrieved = pickle.loads(Path(args.hits).read_bytes())
    if retrieved is None:
        retrieved = retrieve_all(data, vectors.VectorCache(embeddings.load()))
        if args.hits:
            Path(args.hits).write_bytes(pickle.dumps(retrieved))
    items = read_all(retrieved)
    outs = out_of_fold(items)
    span, sentence = fit(items)
    min_names, min_match = pick_gates(outs)
    outs = gate(outs, min_names, min_match)
    abstain = pick_abstain(outs)
    weights = reader_model.Weights(
        span, sentence, abstain, pick_supported(outs, abstain), pick_span(outs, abstain), min_names, min_match
    )
    dev = dev_scores(outs, weights)
    doc = {
        "about": "The extractive reader's model (qa/reader_model.py): a logistic regression giving each span P(it "
        "holds the answer | its sentence answers), gradient-boosted trees giving each sentence P(it answers the "
        "question), and the badge's thresholds (picked on out-of-fold dev probabilities). "
        "Written by the command below; do not edit by hand.",
        "command": ".venv/bin/python -m bench.train_reader --data ../shared/data",
        "trained_on": {
            "squad": "SQuAD 2.0 dev half: the first 8 articles of squad2_dev_cs224n.json (with their "
            "unanswerable questions), asked of a library of all 16",
            "rgb": "RGB en_fact ids 0-49",
            "multihop": "MultiHop-RAG ids 0-249 (null queries as unanswerable)",
        },
        "rows": {"questions": len(items), "sentences": sum(len(i.sentence_ok) for i in items)},
        "seed": SEED,
        "l2": L2,
        "trees": TREES,
        "seconds": round(time.perf_counter() - t0),
        "thresholds": {
            "abstain": weights.abstain,
            "supported": weights.supported,
            "span_min": weights.span_min,
            "min_names": weights.min_names,
            "min_match": weights.min_match,
        },
        "threshold_rules": {
            "max_false_abstention": MAX_FALSE,
            "min_supported_precision": MIN_PRECISION,
            "max_span_loss": MAX_SPAN_LOSS,
        },
        "dev_out_of_fold": dev,
        "span": span.to_dict(),
        "sentence": sentence.to_dict(),
    }
    Path(args.out).write_text(json.dumps(doc, indent=1) + "\n")
    print(json.dumps({k: doc[k] for k in ("thresholds", "dev_out_of_fold", "rows", "seconds")}, indent=1))
    reader_model.load.cache_clear()


if __name__ == "__main__":
    main()
