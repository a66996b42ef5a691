"""`qa bench quality`: the offline (extractive) pipeline measured on public data, dev and test splits,
each number beside a simple baseline measured in the same run, written to evals/RESULTS.md.

  RGB (en_fact)     answer accuracy                       baseline: the top-1 sentence by embedding alone
  MultiHop-RAG      evidence recall@5/@10, MRR@10          baseline: embedding-only top-k
                    answer accuracy (all, non-yes/no)      baseline: the top-1 sentence by embedding
                    null-query abstention (correct/false)  baseline: abstain below a top-1 cosine tuned on dev
  WiCE              support P/R/F1, claim-label accuracy   baseline: top-2 by embedding; majority label of dev
  SummEdits (news)  balanced accuracy of a summary check   baseline: summary-vs-best-sentence cosine, threshold
                    built on qa.verify (threshold on dev)            tuned on dev

The data are the files described in ../shared/data/README.md (`--data` or $QA_BENCH_DATA). Sentence
vectors are cached on disk by content (~/.cache/qa-bench or $QA_BENCH_CACHE), so a second run embeds
nothing. Thresholds are only ever fitted on a dev split, inside the run, and applied to test.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import platform
import subprocess
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa import answer, verify

SPLITS = ("dev", "test")
RGB_IDS = {"dev": range(0, 50), "test": range(50, 100)}
MH_IDS = {"dev": range(0, 250), "test": range(250, 500)}
SUMMEDITS_SPLIT = {"dev": "evaluation", "test": "test"}
WICE_LABELS = {verify.SUPPORTED: "supported", verify.PARTIAL: "partially_supported", verify.UNSUPPORTED: "not_supported"}
MAX_FALSE_ABSTENTION = 0.10  # the abstention baseline's threshold is the best on dev within this
# yes/no-type gold answers: an extractive sentence "contains" them by accident ("no" in "not", "know")
YES_NO = {"yes", "no", "true", "false", "consistent", "inconsistent", "agree", "disagree", "insufficient information."}

MAX_SHARDS = 64  # vector-cache files before they are merged
SHARD_TEXTS = 4096  # texts embedded (and saved) at a time

Log = Callable[[str], None]


# -- where things are ------------------------------------------------------------------------------


def find_data(path: str | Path | None = None) -> Path:
    """The folder of public data: the argument, $QA_BENCH_DATA, or ../shared/data beside the checkout
    or the working directory."""
    candidates = [Path(path)] if path else []
    if os.environ.get("QA_BENCH_DATA"):
        candidates.append(Path(os.environ["QA_BENCH_DATA"]))
    if not path:
        candidates += [Path(__file__).resolve().parents[2] / "shared" / "data", Path.cwd().parent / "shared" / "data",
                       Path.cwd() / "shared" / "data"]
    for c in candidates:
        if (c / "rgb_en_fact.jsonl").is_file():
            return c
    from qa.errors import InputError

    tried = ", ".join(str(c) for c in candidates)
    raise InputError(f"no benchmark data in {tried}; pass --data DIR (the folder of ../shared/data/README.md).")


def cache_dir() -> Path:
    return Path(os.environ.get("QA_BENCH_CACHE") or Path.home() / ".cache" / "qa-bench")


# -- vectors, cached by content --------------------------------------------------------------------


class VectorCache:
    """Sentence vectors on disk, one key per text (a hash of it) under a folder per embedding model;
    written in shards, so runs over overlapping texts (quick and full, dev and test) share them."""

    def __init__(self, embedder, root: Path | None = None):
        self.embedder = embedder
        self.name = embedder.name
        self.root = root or cache_dir()
        self.dir = self.root / hashlib.sha256(embedder.name.encode()).hexdigest()[:12]
        self.rows: dict[str, np.ndarray] = {}
        self.embedded = 0  # texts this process had to embed (0 on a warm cache)
        self.used: set[str] = set()  # keys of the texts asked for
        shards = sorted(self.dir.glob("[!.]*.npz")) if self.dir.is_dir() else []
        for shard in shards:
            try:
                with np.load(shard) as z:
                    self.rows.update(zip(z["keys"].tolist(), z["vecs"]))
            except (OSError, ValueError, KeyError):
                continue  # a shard being written by another run, or damaged: those texts are embedded again
        if len(shards) > MAX_SHARDS:  # many small ones (single questions): merged into one
            merged = self._save(list(self.rows), np.stack(list(self.rows.values())))
            for shard in shards:
                if shard != merged:
                    shard.unlink(missing_ok=True)

    @staticmethod
    def key(text: str) -> str:
        return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()

    def embed(self, texts: list[str]) -> np.ndarray:
        """(len(texts), dim) float32 unit rows; only texts never seen before reach the model."""
        keys = [self.key(t) for t in texts]
        self.used.update(keys)
        missing = {k: t for k, t in zip(keys, texts) if k not in self.rows}
        if missing:
            self._adopt_legacy(texts, keys)
            missing = {k: t for k, t in missing.items() if k not in self.rows}
        todo = list(missing.items())
        for b in range(0, len(todo), SHARD_TEXTS):  # saved as they come: an interrupted run keeps its work
            part = todo[b : b + SHARD_TEXTS]
            self._save([k for k, _ in part], self.embedder.embed([t for _, t in part]))
            self.embedded += len(part)
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        return np.stack([self.rows[k] for k in keys]).astype(np.float32)

    def _save(self, keys: list[str], vecs: np.ndarray) -> Path:
        self.rows.update(zip(keys, vecs))
        self.dir.mkdir(parents=True, exist_ok=True)
        name = hashlib.sha256("".join(keys).encode()).hexdigest()[:16]
        tmp = self.dir / f".{name}.{uuid.uuid4().hex[:8]}.tmp.npz"
        np.savez(tmp, keys=np.array(keys), vecs=vecs.astype(np.float32))
        tmp.replace(self.dir / f"{name}.npz")
        return self.dir / f"{name}.npz"

    def _adopt_legacy(self, texts: list[str], keys: list[str]) -> None:
        """The former bench/verifier.py cached a whole list in one file named by a hash of the list."""
        joined = "\\n".join(texts) + self.name  # a backslash and an n: the old key, as it was
        legacy = self.root / f"{hashlib.sha256(joined.encode()).hexdigest()[:16]}.npy"
        if legacy.is_file():
            vecs = np.load(legacy)
            if vecs.shape[0] == len(texts):
                first = dict(zip(keys, range(len(keys))))
                self._save(list(first), vecs[list(first.values())])


class CachedEmbedder:
    """An Embedder (qa.embeddings) whose vectors come from a VectorCache: what the benchmark's
    libraries embed with, so re-runs skip the model."""

    def __init__(self, cache: VectorCache):
        self.cache = cache
        self.name = cache.name

    def embed(self, texts: list[str]) -> np.ndarray:
        return self.cache.embed(texts)


# -- data ------------------------------------------------------------------------------------------


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def rgb_rows(data: Path, ids: Iterable[int]) -> list[dict]:
    ids = set(ids)
    return [r for r in _jsonl(data / "rgb_en_fact.jsonl") if r["id"] in ids]


def multihop(data: Path) -> tuple[list[dict], dict]:
    """(all 500 queries, ground truth by id)."""
    queries = json.loads((data / "multihop_rag_500_queries.json").read_text())["queries"]
    truth = json.loads((data / "multihop_rag_500_ground_truth.json").read_text())
    return queries, truth


def multihop_split(queries: list[dict], split: str) -> list[dict]:
    return [q for q in queries if int(q["id"]) in MH_IDS[split]]


def wice_rows(data: Path, split: str) -> list[dict]:
    return _jsonl(data / f"wice_claim_{split}.jsonl")


def summedits_rows(data: Path, split: str) -> list[dict]:
    return [r for r in json.loads((data / "summedits_news.json").read_text()) if r["split"] == SUMMEDITS_SPLIT[split]]


def rgb_articles(rows: list[dict]) -> list:
    """One article per positive or negative snippet of the questions (identical snippets collapse)."""
    from qa.ingest import from_text

    return [from_text(s, source="rgb", title=f"rgb {r['id']}.{n}")
            for r in rows for n, s in enumerate(r["positive"] + r["negative"]) if s.strip()]


def multihop_articles(entries: Iterable[dict]) -> list:
    """One article per url of the entries' evidence: its distinct `fact`s as paragraphs. (Over all 500
    entries, the 1,153 evidence items hold 438 distinct facts: 443 sentences once split.)"""
    from qa.ingest import from_text

    facts: dict[str, list[str]] = {}
    meta: dict[str, dict] = {}
    for entry in entries:
        for ev in entry["evidence_list"]:
            have = facts.setdefault(ev["url"], [])
            if ev["fact"] not in have:
                have.append(ev["fact"])
            meta[ev["url"]] = ev
    return [from_text("\n\n".join(fs), source=meta[u]["source"], title=meta[u]["title"], url=u,
                      published_at=meta[u].get("published_at", "")) for u, fs in facts.items()]


# -- scoring ---------------------------------------------------------------------------------------


def gold_groups(gold) -> list[list[str]]:
    """RGB `answer`: a string, a list of acceptable strings, or a list of lists (each inner list one
    required item, any alternative of it will do, as in RGB's checkanswer)."""
    if isinstance(gold, str):
        return [[gold]]
    if all(isinstance(g, str) for g in gold):
        return [list(gold)]
    return [g if isinstance(g, list) else [g] for g in gold]


def contains_gold(text: str, gold) -> bool:
    t = text.casefold()
    return all(any(alt.casefold() in t for alt in group) for group in gold_groups(gold))


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


# -- a library of the benchmark's articles ---------------------------------------------------------


class _Corpus:
    """A fresh extractive Library in a temporary folder, embedding through the cache."""

    def __init__(self, articles: list, cache: VectorCache):
        from qa.config import Settings
        from qa.library import Library

        self._tmp = tempfile.TemporaryDirectory(prefix="qa-bench-")
        self.lib = Library(self._tmp.name, Settings(mode="extractive"))
        self.lib.embedder = self.lib.retriever.embedder = CachedEmbedder(cache)
        self.cache = cache
        report = self.lib.ingest(articles)
        self.sentences = sum(d.sentences for d in report.added)

    def search(self, question: str, k: int):
        return self.lib.search(question, k)

    def embedding_top(self, question: str, k: int) -> list[tuple[str, float]]:
        """(sentence text, cosine) of the k nearest sentences by embedding alone."""
        qvec = self.cache.embed([question])[0]
        near = self.lib.store.nearest(qvec, min(k, self.sentences))
        sents, _ = self.lib.store.get_sentences([i for i, _ in near])
        text = {s.id: s.text for s in sents}
        return [(text[i], sim) for i, sim in near]

    def close(self) -> None:
        self._tmp.cleanup()


def _question(q: str) -> str:
    return " ".join(q.split())


# -- the benchmarks --------------------------------------------------------------------------------


def bench_rgb(rows: list[dict], cache: VectorCache) -> dict:
    corpus = _Corpus(rgb_articles(rows), cache)
    k = max(answer.POOL, 10)
    ours, base, abstained, reachable = [], [], [], []
    cache.embed([_question(r["query"]) for r in rows])  # one batch, one cache file
    try:
        for r in rows:
            q = _question(r["query"])
            hits = corpus.search(q, k)
            a = answer.extractive(q, hits, 5)
            reachable.append(any(contains_gold(h.sentence.text, r["answer"]) for h in hits[: answer.POOL]))
            ours.append(not a.abstained and contains_gold(a.answer, r["answer"]))
            abstained.append(a.abstained)
            top = corpus.embedding_top(q, 1)
            base.append(bool(top) and contains_gold(top[0][0], r["answer"]))
    finally:
        corpus.close()
    return {"n": len(rows), "sentences": corpus.sentences,
            "ours": {"accuracy": _mean(ours), "abstained": _mean(abstained), "gold_in_pool": _mean(reachable)},
            "baseline": {"accuracy": _mean(base)}}


def _multihop_runs(queries: list[dict], truth: dict, corpus: _Corpus) -> list[dict]:
    """Per question: our hits and answer, the embedding-only ranking, the gold facts."""
    k = max(answer.POOL, 10)
    out = []
    corpus.cache.embed([_question(q["question"]) for q in queries])  # one batch, one cache file
    for q in queries:
        text = _question(q["question"])
        hits = corpus.search(text, k)
        a = answer.extractive(text, hits, 5)
        out.append({"q": q, "gold": truth[q["id"]]["answer"], "facts": [e["fact"] for e in truth[q["id"]]["evidence_list"]],
                    "hits": [h.sentence.text for h in hits], "answer": a, "emb": corpus.embedding_top(text, 10)})
    return out


def _multihop_scores(runs: list[dict], abstain_below: float) -> dict:
    with_facts = [r for r in runs if r["facts"]]
    real = [r for r in runs if r["q"]["question_type"] != "null_query"]
    named = [r for r in real if r["gold"].casefold() not in YES_NO]
    is_null = [r["q"]["question_type"] == "null_query" for r in runs]

    def right(text: str, r: dict) -> bool:
        return r["gold"].casefold() in text.casefold()

    def ours(r: dict) -> bool:
        return not r["answer"].abstained and right(r["answer"].answer, r)

    def base(r: dict) -> bool:
        return bool(r["emb"]) and r["emb"][0][1] >= abstain_below and right(r["emb"][0][0], r)

    emb = lambda r: [t for t, _ in r["emb"]]  # noqa: E731
    null, false = _abstention([r["answer"].abstained for r in runs], is_null)
    b_null, b_false = _abstention([not r["emb"] or r["emb"][0][1] < abstain_below for r in runs], is_null)
    return {
        "n": len(runs), "with_evidence": len(with_facts), "null_queries": sum(is_null), "non_yes_no": len(named),
        "ours": {"recall@5": _mean(evidence_recall(r["hits"], r["facts"], 5) for r in with_facts),
                 "recall@10": _mean(evidence_recall(r["hits"], r["facts"], 10) for r in with_facts),
                 "mrr@10": _mean(reciprocal_rank(r["hits"], r["facts"]) for r in with_facts),
                 "accuracy": _mean(ours(r) for r in real), "accuracy_non_yes_no": _mean(ours(r) for r in named),
                 "null_abstention": null, "false_abstention": false},
        "baseline": {"recall@5": _mean(evidence_recall(emb(r), r["facts"], 5) for r in with_facts),
                     "recall@10": _mean(evidence_recall(emb(r), r["facts"], 10) for r in with_facts),
                     "mrr@10": _mean(reciprocal_rank(emb(r), r["facts"]) for r in with_facts),
                     "accuracy": _mean(base(r) for r in real), "accuracy_non_yes_no": _mean(base(r) for r in named),
                     "null_abstention": b_null, "false_abstention": b_false},
        "baseline_abstain_below": abstain_below,
    }


def bench_multihop(data: Path, cache: VectorCache, quick: bool, log: Log) -> dict[str, dict]:
    queries, truth = multihop(data)
    per_split = {s: multihop_split(queries, s) for s in SPLITS}
    if quick:
        per_split = {s: _quick_multihop(qs) for s, qs in per_split.items()}
        entries = [truth[q["id"]] for qs in per_split.values() for q in qs]
    else:
        entries = list(truth.values())  # the same 326 articles for both splits
    corpus = _Corpus(multihop_articles(entries), cache)
    try:
        runs = {s: _multihop_runs(qs, truth, corpus) for s, qs in per_split.items()}
    finally:
        corpus.close()
    dev = runs["dev"]
    threshold = fit_abstention([r["emb"][0][1] if r["emb"] else 0.0 for r in dev], [r["q"]["question_type"] == "null_query" for r in dev])
    log(f"MultiHop-RAG: {corpus.sentences} sentences; baseline abstains below cosine {threshold:.3f} (fitted on dev)")
    return {s: dict(_multihop_scores(runs[s], threshold), sentences=corpus.sentences) for s in SPLITS}


def _quick_multihop(queries: list[dict]) -> list[dict]:
    nulls = [q for q in queries if q["question_type"] == "null_query"][:2]
    return nulls + [q for q in queries if q["question_type"] != "null_query"][:4]


def bench_wice(rows: list[dict], cache: VectorCache, majority: str) -> dict:
    """Which sentences verify.pick_support picks as support, against the best-matching gold set
    (claims without one count for labels only), and the label verify.check gives on them."""
    texts = [r["claim"] for r in rows] + [s for r in rows for s in r["evidence"]]
    vecs = cache.embed(texts)
    claims, at = vecs[: len(rows)], len(rows)
    ours, base, labels = [], [], []
    for i, r in enumerate(rows):
        ev = vecs[at : at + len(r["evidence"])]
        at += len(r["evidence"])
        sims = ev @ claims[i]  # (n_evidence,)
        picked = verify.pick_support(r["claim"], r["evidence"], [float(s) for s in sims])
        top2 = [int(j) for j in np.argsort(-sims)[:2]]
        gold = [g for g in r["supporting_sentences"] if g]
        if gold:
            ours.append(prf(picked, gold))
            base.append(prf(top2, gold))
        label, _ = verify.check(r["claim"], [r["evidence"][j] for j in picked], float(sims[picked].max()) if picked else None)
        labels.append(WICE_LABELS[label] == r["label"])
    col = lambda xs, j: _mean(x[j] for x in xs)  # noqa: E731
    return {"n": len(rows), "with_gold": len(ours),
            "ours": {"precision": col(ours, 0), "recall": col(ours, 1), "f1": col(ours, 2), "label_accuracy": _mean(labels)},
            "baseline": {"precision": col(base, 0), "recall": col(base, 1), "f1": col(base, 2),
                         "label_accuracy": _mean(r["label"] == majority for r in rows)},
            "baseline_label": majority}


def wice(data: Path, split: str, cache: VectorCache, rows: list[dict] | None = None) -> dict:
    """WiCE on one split; the label baseline is the majority label of the dev split."""
    majority = Counter(r["label"] for r in wice_rows(data, "dev")).most_common(1)[0][0]
    return bench_wice(rows if rows is not None else wice_rows(data, split), cache, majority)


def summary_consistency(summary_sents: list[str], doc_sents: list[str], sims: np.ndarray) -> float:
    """A summary checked against its document with the verifier: for each summary sentence, the
    document sentences verify.pick_support picks, then verify.check on them; the summary's score is its
    weakest sentence's (a summary is as consistent as its least supported claim). sims:
    (len(summary_sents), len(doc_sents)) cosines."""
    scores = []
    for i, s in enumerate(summary_sents):
        picked = verify.pick_support(s, doc_sents, [float(x) for x in sims[i]])
        if not picked:
            scores.append(0.0)
            continue
        _, score = verify.check(s, [doc_sents[j] for j in picked], float(sims[i][picked].max()))
        scores.append(score)
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
        rows = {s: [r for r in rs if r["label"] == 1][:3] + [r for r in rs if r["label"] == 0][:3] for s, rs in rows.items()}
    scores = {s: _summedits_scores(rs, cache) for s, rs in rows.items()}
    labels = {s: [int(r["label"]) for r in rs] for s, rs in rows.items()}
    t_ours = fit_threshold(scores["dev"][0], labels["dev"])
    t_base = fit_threshold(scores["dev"][1], labels["dev"])
    return {s: {"n": len(rows[s]), "consistent": sum(labels[s]),
                "ours": {"balanced_accuracy": balanced_accuracy(scores[s][0], labels[s], t_ours)},
                "baseline": {"balanced_accuracy": balanced_accuracy(scores[s][1], labels[s], t_base)},
                "threshold": t_ours, "baseline_threshold": t_base} for s in SPLITS}


# -- the whole run ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    benchmark: str
    text: str
    check: Callable[[dict], bool]  # on the benchmark's test result


TARGETS = [
    Target("rgb", "accuracy >= 0.85", lambda t: t["ours"]["accuracy"] >= 0.85),
    Target("multihop", "evidence recall@10 >= 0.75", lambda t: t["ours"]["recall@10"] >= 0.75),
    Target("multihop", "null abstention >= 0.7 with false abstention <= 0.1",
           lambda t: t["ours"]["null_abstention"] >= 0.7 and t["ours"]["false_abstention"] <= 0.1),
    Target("wice", "support F1 above the baseline's", lambda t: t["ours"]["f1"] > t["baseline"]["f1"]),
    Target("summedits", "balanced accuracy above the baseline's",
           lambda t: t["ours"]["balanced_accuracy"] > t["baseline"]["balanced_accuracy"]),
]


def run(data: str | Path | None = None, quick: bool = False, log: Log = lambda m: None, command: str = "qa bench quality") -> dict:
    """Every benchmark on both splits; the report as a dict (see `markdown` for the page)."""
    from qa import embeddings

    t0 = time.perf_counter()
    data = find_data(data)
    cache = VectorCache(embeddings.load())
    results: dict[str, dict] = {}
    seconds: dict[str, float] = {}

    def timed(name: str, fn: Callable[[], dict]) -> None:
        t = time.perf_counter()
        results[name] = fn()
        seconds[name] = round(time.perf_counter() - t, 1)
        log(f"{name}: done in {seconds[name]:.0f} s")

    rgb_ids = {s: list(RGB_IDS[s])[:4] if quick else RGB_IDS[s] for s in SPLITS}
    timed("rgb", lambda: {s: bench_rgb(rgb_rows(data, rgb_ids[s]), cache) for s in SPLITS})
    timed("multihop", lambda: bench_multihop(data, cache, quick, log))
    wice_sample = (lambda rows: sorted(rows, key=lambda r: len(r["evidence"]))[:8]) if quick else (lambda rows: rows)
    timed("wice", lambda: {s: wice(data, s, cache, wice_sample(wice_rows(data, s))) for s in SPLITS})
    timed("summedits", lambda: bench_summedits(data, cache, quick))

    targets = [{"benchmark": t.benchmark, "target": t.text, "met": bool(t.check(results[t.benchmark]["test"]))} for t in TARGETS]
    return {
        "mode": "extractive", "quick": quick, "command": command, "commit": _commit(), "date": dt.date.today().isoformat(),
        "machine": _machine(), "embedding": cache.name, "texts": len(cache.used), "texts_embedded": cache.embedded,
        "seconds": round(time.perf_counter() - t0, 1), "seconds_by_benchmark": seconds,
        "results": results, "targets": targets,
    }


def _commit() -> str:
    for where in (Path.cwd(), Path(__file__).resolve().parent):
        try:
            head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=where, capture_output=True, text=True, timeout=10)
            if head.returncode != 0:
                continue
            dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", "qa"], cwd=where,
                                   capture_output=True, text=True, timeout=10).stdout.split("\n")
            changed = sorted(line[3:] for line in dirty if line.strip())
            return head.stdout.strip() + (f" + uncommitted changes to {', '.join(changed)}" if changed else "")
        except (OSError, subprocess.SubprocessError):
            continue
    return "n/a"


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    load = f", load average {os.getloadavg()[0]:.1f} at the end" if hasattr(os, "getloadavg") else ""
    return f"{os.cpu_count()} cores ({cpu}){load}, {platform.system()} {platform.release()}, Python {platform.python_version()}"


# -- the page ----------------------------------------------------------------------------------------

# (benchmark, metric key, label, baseline label, target index or None)
ROWS = [
    ("rgb", "accuracy", "answer accuracy", "top-1 sentence by embedding", 0),
    ("multihop", "recall@5", "evidence recall@5", "embedding-only top-k", None),
    ("multihop", "recall@10", "evidence recall@10", "embedding-only top-k", 1),
    ("multihop", "mrr@10", "evidence MRR@10", "embedding-only top-k", None),
    ("multihop", "accuracy", "answer accuracy (non-null)", "top-1 sentence by embedding", None),
    ("multihop", "accuracy_non_yes_no", "answer accuracy (non-null, gold not yes/no)", "top-1 sentence by embedding", None),
    ("multihop", "null_abstention", "correct abstention (null_query)", "abstain below a dev-tuned top-1 cosine", 2),
    ("multihop", "false_abstention", "false abstention (others; lower is better)", "abstain below a dev-tuned top-1 cosine", 2),
    ("wice", "precision", "support precision", "top-2 by embedding", None),
    ("wice", "recall", "support recall", "top-2 by embedding", None),
    ("wice", "f1", "support F1", "top-2 by embedding", 3),
    ("wice", "label_accuracy", "claim-label accuracy", "dev's majority label", None),
    ("summedits", "balanced_accuracy", "balanced accuracy", "summary-vs-best-sentence cosine, dev threshold", 4),
]
NAMES = {"rgb": "RGB en_fact", "multihop": "MultiHop-RAG", "wice": "WiCE", "summedits": "SummEdits news"}


def markdown(report: dict) -> str:
    res = report["results"]
    lines = [
        "# Quality benchmarks" + (" (quick sample: a smoke test, not results)" if report["quick"] else ""),
        "",
        "Written by the command below; do not edit by hand. Data: `../shared/data` (see its README for the",
        "dev/test splits). Every constant and threshold is tuned on dev only; test is reported, never tuned on.",
        "",
        f"- command: `{report['command']}`",
        f"- mode: {report['mode']} (embedding {report['embedding']}, no language model)",
        f"- commit: {report['commit']}",
        f"- date: {report['date']}",
        f"- machine: {report['machine']}",
        f"- runtime: {report['seconds']:.0f} s (" + ", ".join(f"{NAMES[k]} {v:.0f} s" for k, v in report["seconds_by_benchmark"].items())
        + f"; {report['texts_embedded']} of {report['texts']} distinct texts embedded in this run, the rest read from the"
        " vector cache: a first run embeds them all, mostly WiCE's evidence pages)",
        "",
        "| benchmark | metric | dev: ours | dev: baseline | test: ours | test: baseline | baseline | target (test) |",
        "|---|---|---:|---:|---:|---:|---|---|",
    ]
    for bench, key, label, base_label, target in ROWS:
        d, t = res[bench]["dev"], res[bench]["test"]
        mark = ""
        if target is not None:
            tg = report["targets"][target]
            mark = f"{tg['target']}: **{'met' if tg['met'] else 'missed'}**"
        lines.append(f"| {NAMES[bench]} | {label} | {d['ours'][key]:.3f} | {d['baseline'][key]:.3f} | "
                     f"{t['ours'][key]:.3f} | {t['baseline'][key]:.3f} | {base_label} | {mark} |")
    met = sum(t["met"] for t in report["targets"])
    mh, se, wi, rgb = res["multihop"], res["summedits"], res["wice"], res["rgb"]
    lines += [
        "",
        f"Targets met on test: {met} of {len(report['targets'])}.",
        "",
        "## What was measured",
        "",
        f"- **RGB** (en_fact; dev ids 0-49, test 50-99; {rgb['dev']['n']} / {rgb['test']['n']} questions): a library of the split's"
        f" positive and negative snippets, one document each ({rgb['dev']['sentences']} / {rgb['test']['sentences']} sentences);"
        " `qa ask`'s extractive path (hybrid search, `answer.extractive`). Right when the answer contains a gold answer"
        f" (case-insensitive; every item of a list-of-lists gold). Ours abstained on {rgb['dev']['ours']['abstained']:.2f} / "
        f"{rgb['test']['ours']['abstained']:.2f} of the questions. A sentence holding a gold answer was among the"
        f" answerer's {answer.POOL} candidates for {rgb['dev']['ours']['gold_in_pool']:.2f} / {rgb['test']['ours']['gold_in_pool']:.2f}"
        " of them: the ceiling of a one-sentence answer from this retrieval.",
        f"- **MultiHop-RAG** ({mh['dev']['n']} / {mh['test']['n']} questions, ids 0-249 / 250-499): one library of the evidence"
        f" of all ground-truth entries grouped by url ({mh['dev']['sentences']} sentences, both splits). Recall@k: share of a"
        " question's gold facts that a top-k sentence is part of; MRR@10: 1/rank of the first such sentence"
        f" ({mh['dev']['with_evidence']} / {mh['test']['with_evidence']} questions with evidence). Answer accuracy: the gold"
        f" string in the answer, over non-null questions; the non-yes/no subset ({mh['dev']['non_yes_no']} / {mh['test']['non_yes_no']})"
        " leaves out golds such as \"Yes\" that a sentence contains by accident. Abstention over"
        f" {mh['dev']['null_queries']} / {mh['test']['null_queries']} null queries. The abstention baseline abstains when the"
        f" best cosine is below {mh['dev']['baseline_abstain_below']:.3f}, the threshold with the most null queries caught"
        f" net of false abstentions on dev within false abstention <= {MAX_FALSE_ABSTENTION} (never abstaining scores 0 / 0).",
        f"- **WiCE** ({wi['dev']['n']} / {wi['test']['n']} claims; {wi['dev']['with_gold']} / {wi['test']['with_gold']} with a gold"
        " set): the sentences `verify.pick_support` picks, scored against the best-matching gold set; the label is"
        f" `verify.check` on them. Label baseline: always \"{wi['dev']['baseline_label']}\" (dev's majority).",
        f"- **SummEdits** (news; dev = split \"evaluation\", {se['dev']['n']} pairs; test = split \"test\", {se['test']['n']} pairs):"
        " each summary sentence gets support picked among its document's sentences (`verify.pick_support`) and checked"
        " (`verify.check`); the summary's score is its weakest sentence's, consistent when >="
        f" {se['dev']['threshold']:.3f} (fitted on dev). Baseline: the cosine of the whole summary and its closest document"
        f" sentence, consistent when >= {se['dev']['baseline_threshold']:.3f} (fitted on dev).",
        "",
    ]
    return "\n".join(lines)


def write(report: dict, out: Path, json_out: Path | None = None) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(markdown(report))
    if json_out:
        json_out.write_text(json.dumps(report, indent=2, default=str))
