"""Scoring rules shared by the benchmarks: gold answers in text, evidence recall, P/R/F1 of picked
sentences, balanced accuracy and thresholds fitted on dev."""

from __future__ import annotations

from qa.text import unaccented

MAX_FALSE_ABSTENTION = 0.10  # the abstention baseline's threshold is the best on dev within this
# yes/no-type gold answers: an extractive sentence "contains" them by accident ("no" in "not", "know")
YES_NO = {"yes", "no", "true", "false", "consistent", "inconsistent", "agree", "disagree", "insufficient information."}


def gold_groups(gold) -> list[list[str]]:
    """RGB `answer`: a string, a list of acceptable strings, or a list of lists (each inner list one
    required item, any alternative of it will do, as in RGB's checkanswer)."""
    if isinstance(gold, str):
        return [[gold]]
    if all(isinstance(g, str) for g in gold):
        return [list(gold)]
    return [g if isinstance(g, list) else [g] for g in gold]


def contains_gold(text: str, gold) -> bool:
    """Every required item of the gold answer is in the text, in any case and with or without diacritics (an
    answer "Chloe Zhao" names "Chloé Zhao")."""
    t = unaccented(text).casefold()
    return all(any(unaccented(alt).casefold() in t for alt in group) for group in gold_groups(gold))


def _norm(s: str) -> str:
    return " ".join(s.casefold().split())


def _matches(sentence: str, facts: list[str]) -> bool:
    t = _norm(sentence)
    return any(t in f or f in t for f in facts)


def evidence_recall(texts: list[str], facts: list[str], k: int = 10) -> float:
    """Share of the gold facts that some top-k sentence is contained in (or contains)."""
    top = [_norm(t) for t in texts[:k]]
    facts = list(dict.fromkeys(_norm(f) for f in facts))
    return sum(any(t in f or f in t for t in top) for f in facts) / len(facts)


def reciprocal_rank(texts: list[str], facts: list[str], k: int = 10) -> float:
    """1 / rank of the first top-k sentence that is (part of) a gold fact; 0 when none is."""
    facts = [_norm(f) for f in facts]
    return next((1.0 / r for r, t in enumerate(texts[:k], 1) if _matches(t, facts)), 0.0)


def prf(picked: list[int], gold_sets: list[list[int]]) -> tuple[float, float, float]:
    """Precision, recall, F1 of picked sentence indices against the best-matching gold set."""
    best = (0.0, 0.0, 0.0)
    for gold in gold_sets:
        hit = len(set(picked) & set(gold))
        p = hit / len(picked) if picked else 0.0
        r = hit / len(gold) if gold else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        best = max(best, (p, r, f), key=lambda x: x[2])
    return best


def balanced_accuracy(scores: list[float], labels: list[int], threshold: float) -> float:
    """Mean of the recalls of both classes, predicting 1 when score >= threshold."""
    pred = [s >= threshold for s in scores]
    pos = [p for p, y in zip(pred, labels) if y == 1]
    neg = [not p for p, y in zip(pred, labels) if y == 0]
    recalls = [sum(c) / len(c) for c in (pos, neg) if c]
    return sum(recalls) / len(recalls) if recalls else 0.0


def fit_threshold(scores: list[float], labels: list[int]) -> float:
    """The threshold with the best balanced accuracy on these (dev) scores; among equally good ones,
    the middle one."""
    values = sorted(set(scores))
    cuts = [values[0] - 1e-6] + [(a + b) / 2 for a, b in zip(values, values[1:])] + [values[-1] + 1e-6]
    acc = [balanced_accuracy(scores, labels, c) for c in cuts]
    best = [c for c, a in zip(cuts, acc) if a >= max(acc) - 1e-12]
    return best[len(best) // 2]


def fit_abstention(top_sims: list[float], is_null: list[bool]) -> float:
    """Cosine threshold (abstain below it) that catches the most null queries, net of false
    abstentions, with false abstention <= MAX_FALSE_ABSTENTION on these (dev) questions."""
    cuts = [0.0] + sorted({round(s, 4) for s in top_sims})
    best, best_gain = 0.0, -1.0
    for c in cuts:
        null, false = _abstention([s < c for s in top_sims], is_null)
        if false <= MAX_FALSE_ABSTENTION and null - false > best_gain + 1e-12:
            best, best_gain = c, null - false
    return best


def _abstention(abstained: list[bool], is_null: list[bool]) -> tuple[float, float]:
    nulls = [a for a, n in zip(abstained, is_null) if n]
    others = [a for a, n in zip(abstained, is_null) if not n]
    return _mean(nulls), _mean(others)


def _mean(xs) -> float:
    xs = list(xs)
    return float(sum(xs) / len(xs)) if xs else 0.0
