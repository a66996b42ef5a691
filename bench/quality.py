"""`python -m bench quality`: the offline (extractive) pipeline measured on public data, dev and test
splits, each number beside a simple baseline measured in the same run, written to evals/RESULTS.md.

  RGB (en_fact)     answer accuracy                       baseline: the top-1 sentence by embedding alone
  MultiHop-RAG      evidence recall@5/@10, MRR@10          baseline: embedding-only top-k
                    answer accuracy (all, non-yes/no)      baseline: the top-1 sentence by embedding
                    null-query abstention (correct/false)  baseline: abstain below a top-1 cosine tuned on dev
  WiCE              support P/R/F1, claim-label accuracy   baseline: top-2 by embedding; majority label of dev
  SummEdits (news)  balanced accuracy of a summary check   baseline: summary-vs-best-sentence cosine, threshold
                    built on qa.verify (threshold on dev)            tuned on dev

Thresholds are only ever fitted on a dev split, inside the run, and applied to test.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench import report
from bench.data import (
    RGB_IDS,
    SPLITS,
    find_data,
    multihop,
    multihop_articles,
    multihop_split,
    rgb_articles,
    rgb_rows,
    wice_rows,
)
from bench.scoring import (
    YES_NO,
    _abstention,
    _mean,
    contains_gold,
    evidence_recall,
    fit_abstention,
    reciprocal_rank,
)
from bench.vectors import CachedEmbedder, VectorCache
from qa import answer

Log = Callable[[str], None]


# -- a library of the benchmark's articles ---------------------------------------------------------


class _Corpus:
    """A fresh extractive Library in a temporary folder, embedding through the cache."""

    def __init__(self, articles: list, cache: VectorCache):
        from qa.config import Settings
        from qa.library import Library

        self._tmp = tempfile.TemporaryDirectory(prefix="qa-bench-")
        self.lib = Library(self._tmp.name, Settings(mode="extractive"), embedder=CachedEmbedder(cache))
        self.cache = cache
        report = self.lib.ingest(articles)
        self.sentences = sum(d.sentences for d in report.added)

    def search(self, question: str, k: int):
        return self.lib.search(question, k)

    def embedding_top(self, question: str, k: int) -> list[tuple[str, float]]:
        """(sentence text, cosine) of the k nearest sentences by embedding alone."""
        return [(h.sentence.text, h.similarity) for h in self.lib.search(question, k, hybrid=False)]

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
    return {
        "n": len(rows),
        "sentences": corpus.sentences,
        "ours": {"accuracy": _mean(ours), "abstained": _mean(abstained), "gold_in_pool": _mean(reachable)},
        "baseline": {"accuracy": _mean(base)},
    }


def _multihop_runs(queries: list[dict], truth: dict, corpus: _Corpus) -> list[dict]:
    """Per question: our hits and answer, the embedding-only ranking, the gold facts."""
    k = max(answer.POOL, 10)
    out = []
    corpus.cache.embed([_question(q["question"]) for q in queries])  # one batch, one cache file
    for q in queries:
        text = _question(q["question"])
        hits = corpus.search(text, k)
        a = answer.extractive(text, hits, 5)
        out.append(
            {
                "q": q,
                "gold": truth[q["id"]]["answer"],
                "facts": [e["fact"] for e in truth[q["id"]]["evidence_list"]],
                "hits": [h.sentence.text for h in hits],
                "answer": a,
                "emb": corpus.embedding_top(text, 10),
            }
        )
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
        "n": len(runs),
        "with_evidence": len(with_facts),
        "null_queries": sum(is_null),
        "non_yes_no": len(named),
        "ours": {
            "recall@5": _mean(evidence_recall(r["hits"], r["facts"], 5) for r in with_facts),
            "recall@10": _mean(evidence_recall(r["hits"], r["facts"], 10) for r in with_facts),
            "mrr@10": _mean(reciprocal_rank(r["hits"], r["facts"]) for r in with_facts),
            "accuracy": _mean(ours(r) for r in real),
            "accuracy_non_yes_no": _mean(ours(r) for r in named),
            "null_abstention": null,
            "false_abstention": false,
        },
        "baseline": {
            "recall@5": _mean(evidence_recall(emb(r), r["facts"], 5) for r in with_facts),
            "recall@10": _mean(evidence_recall(emb(r), r["facts"], 10) for r in with_facts),
            "mrr@10": _mean(reciprocal_rank(emb(r), r["facts"]) for r in with_facts),
            "accuracy": _mean(base(r) for r in real),
            "accuracy_non_yes_no": _mean(base(r) for r in named),
            "null_abstention": b_null,
            "false_abstention": b_false,
        },
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
    threshold = fit_abstention(
        [r["emb"][0][1] if r["emb"] else 0.0 for r in dev], [r["q"]["question_type"] == "null_query" for r in dev]
    )
    log(f"MultiHop-RAG: {corpus.sentences} sentences; baseline abstains below cosine {threshold:.3f} (fitted on dev)")
    return {s: dict(_multihop_scores(runs[s], threshold), sentences=corpus.sentences) for s in SPLITS}


def _quick_multihop(queries: list[dict]) -> list[dict]:
    nulls = [q for q in queries if q["question_type"] == "null_query"][:2]
    return nulls + [q for q in queries if q["question_type"] != "null_query"][:4]


# -- the whole run ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    benchmark: str
    text: str
    check: Callable[[dict], bool]  # on the benchmark's test result


TARGETS = [
    Target("rgb", "accuracy >= 0.85", lambda t: t["ours"]["accuracy"] >= 0.85),
    Target("multihop", "evidence recall@10 >= 0.87", lambda t: t["ours"]["recall@10"] >= 0.87),
    Target(
        "multihop",
        "null abstention >= 0.9 with false abstention <= 0.1",
        lambda t: t["ours"]["null_abstention"] >= 0.9 and t["ours"]["false_abstention"] <= 0.1,
    ),
    Target("wice", "support F1 above the baseline's", lambda t: t["ours"]["f1"] > t["baseline"]["f1"]),
    Target(
        "summedits",
        "balanced accuracy above the baseline's",
        lambda t: t["ours"]["balanced_accuracy"] > t["baseline"]["balanced_accuracy"],
    ),
    Target("squad", "answerable right >= 0.80", lambda t: t["ours"]["answerable_right"] >= 0.80),
    Target(
        "squad",
        "unanswerable abstained >= 0.60 with false abstention <= 0.10",
        lambda t: t["ours"]["unanswerable_abstained"] >= 0.60 and t["ours"]["false_abstention"] <= 0.10,
    ),
    Target("squad", "precision of 'supported' >= 0.90", lambda t: (t["ours"]["supported_precision"] or 0.0) >= 0.90),
]


def run(
    data: str | Path | None = None,
    quick: bool = False,
    log: Log = lambda m: None,
    command: str = "python -m bench quality",
) -> dict:
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
    from bench import claims, squad, summaries  # squad builds its library with this module's _Corpus

    timed("rgb", lambda: {s: bench_rgb(rgb_rows(data, rgb_ids[s]), cache) for s in SPLITS})
    timed("multihop", lambda: bench_multihop(data, cache, quick, log))
    timed("squad", lambda: squad.bench_squad(data, cache, log, quick))
    wice_sample = (lambda rows: sorted(rows, key=lambda r: len(r["evidence"]))[:8]) if quick else (lambda rows: rows)
    timed("wice", lambda: {s: claims.wice(data, s, cache, wice_sample(wice_rows(data, s))) for s in SPLITS})
    timed("summedits", lambda: claims.bench_summedits(data, cache, quick))
    timed("summaries", lambda: summaries.bench_summaries(data, cache, quick))

    targets = [
        {"benchmark": t.benchmark, "target": t.text, "met": bool(t.check(results[t.benchmark]["test"]))}
        for t in TARGETS
    ]
    return {
        "mode": "extractive",
        "quick": quick,
        "command": command,
        "commit": report.commit(),
        "date": dt.date.today().isoformat(),
        "machine": report.machine_line(report.machine()),
        "embedding": cache.name,
        "texts": len(cache.used),
        "texts_embedded": cache.embedded,
        "seconds": round(time.perf_counter() - t0, 1),
        "seconds_by_benchmark": seconds,
        "results": results,
        "targets": targets,
    }
