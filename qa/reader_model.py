"""The reader's answerability model: a logistic regression for which span answers, gradient-boosted trees
for which sentence answers, and the thresholds of the badge; fitted by bench/train_reader.py, shipped in
qa/data/reader.json, run in numpy.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.config import DATA
from qa.reader import MODEL_FEATURES, SENTENCE_FEATURES, Reading
from qa.reader_spans import SPAN_FEATURES
from qa.text import asks

WEIGHTS = DATA / "reader.json"


@dataclass(frozen=True)
class Logistic:
    names: list[str]
    mean: np.ndarray  # (n_features,)
    scale: np.ndarray  # (n_features,)
    coef: np.ndarray  # (n_features,)
    intercept: float

    def prob(self, x: np.ndarray) -> np.ndarray:
        """(n, n_features) -> (n,) probabilities."""
        if len(x) == 0:
            return np.zeros(0)
        z = ((x - self.mean) / self.scale) @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))

    def to_dict(self) -> dict:
        return {
            "features": self.names,
            "mean": self.mean.round(6).tolist(),
            "scale": self.scale.round(6).tolist(),
            "coef": self.coef.round(6).tolist(),
            "intercept": round(float(self.intercept), 6),
        }

    @classmethod
    def of(cls, d: dict) -> Logistic:
        return cls(d["features"], np.array(d["mean"]), np.array(d["scale"]), np.array(d["coef"]), float(d["intercept"]))


@dataclass(frozen=True)
class Trees:
    """Gradient-boosted regression trees on the log-odds (fitted by scikit-learn's
    HistGradientBoostingClassifier in bench/train_reader.py), every tree's nodes in one set of arrays."""

    names: list[str]
    feature: np.ndarray  # (n_nodes,) feature index of each split
    threshold: np.ndarray  # (n_nodes,) x <= threshold goes left
    left: np.ndarray  # (n_nodes,) node index
    right: np.ndarray  # (n_nodes,)
    value: np.ndarray  # (n_nodes,) a leaf's log-odds
    leaf: np.ndarray  # (n_nodes,) bool
    roots: np.ndarray  # (n_trees,) each tree's first node
    baseline: float
    depth: int  # the deepest leaf's depth

    def prob(self, x: np.ndarray) -> np.ndarray:
        """(n, n_features) -> (n,) probabilities; all trees walked at once, one level per step."""
        if len(x) == 0:
            return np.zeros(0)
        node = np.repeat(self.roots[None, :], len(x), axis=0)  # (n, n_trees)
        rows = np.arange(len(x))[:, None]
        for _ in range(self.depth):
            go_left = x[rows, self.feature[node]] <= self.threshold[node]
            node = np.where(self.leaf[node], node, np.where(go_left, self.left[node], self.right[node]))
        z = self.baseline + self.value[node].sum(axis=1)
        return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))

    def to_dict(self) -> dict:
        return {
            "kind": "trees",
            "features": self.names,
            "feature": self.feature.tolist(),
            "threshold": [round(float(t), 6) for t in self.threshold],
            "left": self.left.tolist(),
            "right": self.right.tolist(),
            "value": [round(float(v), 6) for v in self.value],
            "leaf": self.leaf.astype(int).tolist(),
            "roots": self.roots.tolist(),
            "baseline": round(self.baseline, 6),
            "depth": self.depth,
        }

    @classmethod
    def of(cls, d: dict) -> Trees:
        return cls(
            d["features"],
            np.array(d["feature"], dtype=np.int64),
            np.array(d["threshold"]),
            np.array(d["left"], dtype=np.int64),
            np.array(d["right"], dtype=np.int64),
            np.array(d["value"]),
            np.array(d["leaf"], dtype=bool),
            np.array(d["roots"], dtype=np.int64),
            float(d["baseline"]),
            int(d["depth"]),
        )


def model_of(d: dict) -> Logistic | Trees:
    return Trees.of(d) if d.get("kind") == "trees" else Logistic.of(d)


@dataclass(frozen=True)
class Weights:
    span: Logistic
    sentence: Logistic | Trees
    abstain: float  # below this P(answers): "The articles do not say."
    supported: float  # at or above: "supported"; in between: "partial" (shown as "may answer")
    span_min: float  # the short span is the answer only at or above this P(span | sentence answers)
    min_names: float = 0.0  # the pool must hold this share of what the question names, or nothing answers
    min_match: float = 0.0  # ... and its best match (pool_match) must reach this


@functools.lru_cache(maxsize=4)
def load(path: Path = WEIGHTS) -> Weights:
    d = json.loads(Path(path).read_text())
    span, sentence = Logistic.of(d["span"]), model_of(d["sentence"])
    if span.names != SPAN_FEATURES or sentence.names != SENTENCE_FEATURES + MODEL_FEATURES:
        from qa.errors import ModelFileError

        raise ModelFileError(f"{path} was trained on other features; run `python -m bench.train_reader` again.")
    t = d["thresholds"]
    return Weights(
        span,
        sentence,
        t["abstain"],
        t["supported"],
        t["span_min"],
        t.get("min_names", 0.0),
        t.get("min_match", 0.0),
    )


def sentence_matrix(reading: Reading) -> np.ndarray:
    """(n_candidates, n_sentence_features) with MODEL_FEATURES appended (the best span's P must be set)."""
    typed = reading.question.answer_type != "OTHER"
    rows = []
    for c in reading.candidates:
        best = max((s.p for s in c.spans), default=0.0)
        rows.append(
            c.features
            + [
                best,
                float(
                    typed and c.features[SENTENCE_FEATURES.index("parsed")] > 0 and not any(s.exact for s in c.spans)
                ),
            ]
        )
    return np.array(rows, dtype=float).reshape(len(rows), len(SENTENCE_FEATURES) + len(MODEL_FEATURES))


def pool_match(reading: Reading) -> float:
    """How close the evidence comes to the question at best: the best cosine of a sentence, or of the
    question's words aligned to a sentence's and its context's words (a short question can be near 0 by
    cosine to the sentence that answers it, and still find every one of its words there)."""
    top, aligned = SENTENCE_FEATURES.index("top_similarity"), SENTENCE_FEATURES.index("align_context")
    return max((max(c.features[top], c.features[aligned]) for c in reading.candidates), default=0.0)


def score(reading: Reading, weights: Weights) -> Reading:
    """Fill in every span's and candidate's probability, and each candidate's best span."""
    for c in reading.candidates:
        ps = weights.span.prob(np.array([s.features for s in c.spans], dtype=float).reshape(-1, len(SPAN_FEATURES)))
        for s, p in zip(c.spans, ps):
            s.p = float(p)
        c.span = max(c.spans, key=lambda s: s.p, default=None)
    counts_other, names = SENTENCE_FEATURES.index("counts_other"), SENTENCE_FEATURES.index("pool_names")
    match = pool_match(reading)
    for c, p in zip(reading.candidates, weights.sentence.prob(sentence_matrix(reading))):
        # its numbers count something other than what the question counts ("400 fighters" for "how many
        # soldiers"): whatever else it shares with the question, it does not say; and evidence that lacks
        # what the question names (another tournament, another company), or that is far from it, is about
        # something else; and a sentence that asks ("Who directed Titanic?" as a page's heading) states nothing
        gated = c.features[names] < weights.min_names or match < weights.min_match or asks(c.hit.sentence.text)
        c.p = 0.0 if c.features[counts_other] or gated else float(p)
    return reading
