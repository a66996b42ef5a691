"""Tune the extractive answerer's constants (qa/answer.py) on the dev splits of ../shared/data.

Builds the two dev corpora once (RGB en_fact ids 0-49; MultiHop-RAG ids 0-249), retrieves each question's
hits once, then re-runs `answer.extractive` on those cached hits under a staged grid of the module's
constants, and prototypes an abstention rule that also asks the evidence to name what the question names.

    PYTHONPATH=. /work/venv/bin/python -W ignore bench/tune_extractive.py      # from /work/main; ~4 min on 2 cores
"""

from __future__ import annotations

import argparse
import itertools
import multiprocessing as mp
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
warnings.filterwarnings("ignore")

from qa import answer, benchmarks, verify  # noqa: E402  (no Chroma, no model in this process)

RGB_DEV, MH_DEV = benchmarks.RGB_IDS["dev"], benchmarks.MH_IDS["dev"]
CONSTANTS = [c for c in ["W_SIM", "W_COVER", "W_TYPE", "W_RANK", "MIN_SIM", "MIN_COVER", "MIN_NAMES", "SPAN_MARGIN",
                         "NAME_WEIGHT", "MAX_DISTANCE", "DECAY", "POOL"] if hasattr(answer, c)]
DEFAULTS = {c: getattr(answer, c) for c in CONSTANTS}
# corpora and scoring are the ones `qa bench quality` reports with (qa/benchmarks.py)
contains_gold, _YES_NO = benchmarks.contains_gold, benchmarks.YES_NO


# -- data ------------------------------------------------------------------------------------------


def rgb_dev() -> list[dict]:
    return benchmarks.rgb_rows(benchmarks.find_data(), RGB_DEV)


def multihop() -> tuple[list[dict], dict]:
    queries, truth = benchmarks.multihop(benchmarks.find_data())
    return benchmarks.multihop_split(queries, "dev"), truth


def build_and_search(name: str) -> tuple[str, dict, int, float]:
    """(name, {question id: hits}, sentences indexed, seconds): runs in its own process (own Chroma)."""
    from qa.library import Library

    t = time.time()
    if name == "rgb":
        rows = rgb_dev()
        articles, questions = benchmarks.rgb_articles(rows), [(r["id"], r["query"]) for r in rows]
    else:
        queries, truth = multihop()
        articles, questions = benchmarks.multihop_articles(truth.values()), [(q["id"], q["question"]) for q in queries]
    with tempfile.TemporaryDirectory(prefix=f"tune-{name}-") as d:
        lib = Library(d)
        lib.embedder = lib.retriever.embedder = benchmarks.CachedEmbedder(benchmarks.VectorCache(lib.embedder))
        report = lib.ingest(articles)
        n = sum(a.sentences for a in report.added)
        hits = {qid: lib.search(" ".join(text.split()), max(answer.POOL, 10)) for qid, text in questions}
    return name, hits, n, time.time() - t


def evidence_recall(hits: list, facts: list[str], k: int = 10) -> float:
    return benchmarks.evidence_recall([h.sentence.text for h in hits], facts, k)


# -- the prototype abstention rule (shipped since as answer.answers; kept to re-tune its thresholds) ----


def answers_by_evidence(question: str, pool: list, min_sim: float, min_names: float, sim_of: str = "max") -> bool:
    """Answer only when some evidence is close to the question (cosine) and the evidence names at least
    `min_names` of what the question names."""
    return max(h.similarity for h in pool) >= min_sim and answer.name_coverage(question, pool) >= min_names


# -- evaluation ------------------------------------------------------------------------------------

_DATA: dict = {}  # set before the worker pool forks: questions, hits, gold
_ORIGINAL_ANSWERS = answer.answers


def memoize_tokenize() -> None:
    """Same tokens, computed once per text: the grid re-tokenizes the same sentences thousands of times."""
    original = answer.tokenize
    cache: dict[str, list[str]] = {}

    def tokenize(texts: list[str]) -> list[list[str]]:
        missing = [t for t in dict.fromkeys(texts) if t not in cache]
        if missing:
            cache.update(zip(missing, original(missing)))
        return [cache[t] for t in texts]

    answer.tokenize = verify.tokenize = tokenize


def set_constants(setting: dict) -> None:
    for c in CONSTANTS:
        setattr(answer, c, setting.get(c, DEFAULTS[c]))
    rule = setting.get("rule")
    if rule is None:
        answer.answers = _ORIGINAL_ANSWERS
    else:
        answer.answers = lambda question, pool, cover=0.0: answers_by_evidence(question, pool, **rule)


def ask(question: str, hits: list):
    return answer.extractive(question, hits, k=5)


def evaluate(setting: dict) -> dict:
    set_constants(setting)
    d = _DATA
    rgb = [(r, ask(r["query"], d["rgb_hits"][r["id"]])) for r in d["rgb"]]
    mh = [(q, ask(q["question"], d["mh_hits"][q["id"]])) for q in d["mh"]]

    def sentence(a):  # the whole cited sentence instead of the cut span
        return "" if a.abstained else a.citations[0].text

    nulls = [a for q, a in mh if q["question_type"] == "null_query"]
    real = [(d["truth"][q["id"]]["answer"], a) for q, a in mh if q["question_type"] != "null_query"]
    named = [(g, a) for g, a in real if g.casefold() not in _YES_NO]
    mean = lambda xs: sum(xs) / len(xs) if xs else 0.0  # noqa: E731
    return {
        "setting": setting,
        "rgb_acc": mean([not a.abstained and contains_gold(a.answer, r["answer"]) for r, a in rgb]),
        "rgb_sent": mean([contains_gold(sentence(a), r["answer"]) for r, a in rgb]),
        "rgb_abst": mean([a.abstained for _, a in rgb]),
        "null_abst": mean([a.abstained for a in nulls]),
        "false_abst": mean([a.abstained for _, a in real]),
        "mh_acc": mean([not a.abstained and g.casefold() in a.answer.casefold() for g, a in real]),
        "mh_sent": mean([g.casefold() in sentence(a).casefold() for g, a in real]),
        "mh_named": mean([not a.abstained and g.casefold() in a.answer.casefold() for g, a in named]),
        "mh_named_sent": mean([g.casefold() in sentence(a).casefold() for g, a in named]),
    }


def rgb_outcomes(setting: dict) -> dict[str, int]:
    """Where each RGB question is lost: retrieval (no gold sentence among the hits), the choice of
    sentence, the cut to a short span, or abstention."""
    set_constants(setting)
    out = dict.fromkeys(["right", "not retrieved", "wrong sentence", "span cut wrong", "abstained"], 0)
    for r in _DATA["rgb"]:
        hits, a = _DATA["rgb_hits"][r["id"]], ask(r["query"], _DATA["rgb_hits"][r["id"]])
        if a.abstained:
            out["abstained"] += 1
        elif contains_gold(a.answer, r["answer"]):
            out["right"] += 1
        elif not any(contains_gold(h.sentence.text, r["answer"]) for h in hits[: answer.POOL]):
            out["not retrieved"] += 1
        elif not contains_gold(a.citations[0].text, r["answer"]):
            out["wrong sentence"] += 1
        else:
            out["span cut wrong"] += 1
    set_constants({})
    return out


def run_grid(pool, settings: list[dict]) -> list[dict]:
    return pool.map(evaluate, settings, chunksize=1)


# -- the staged grid -------------------------------------------------------------------------------
# Scores only order sentences, so only the weights' ratios matter: W_SIM stays 1 and the others vary.


def stage_weights() -> list[dict]:
    grid = itertools.product([0.3, 0.6, 1.0, 1.5], [0.0, 0.25, 0.5], [0.0, 0.15, 0.4], [10, 20])
    return [dict(W_SIM=1.0, W_COVER=c, W_TYPE=t, W_RANK=r, POOL=p) for c, t, r, p in grid]


def stage_spans(base: dict) -> list[dict]:
    grid = itertools.product([0.0, 0.25, 1.0], [6, 12, 20], [2, 4, 8])
    return [dict(base, NAME_WEIGHT=n, MAX_DISTANCE=m, DECAY=k) for n, m, k in grid]


def stage_threshold(base: dict) -> list[dict]:
    grid = itertools.product([0.30, 0.36, 0.40, 0.42, 0.44, 0.46, 0.50], [0.5, 0.7, 0.9, 1.01])
    return [dict(base, MIN_SIM=s, MIN_COVER=c) for s, c in grid]


RULE_SIMS, RULE_NAMES = [0.0, 0.36, 0.38, 0.40, 0.42, 0.44, 0.46], [0.0, 0.4, 0.5, 0.6]


def stage_rule(base: dict) -> list[dict]:
    grid = itertools.product(RULE_SIMS, RULE_NAMES)
    return [dict(base, rule=dict(min_sim=s, min_names=n, sim_of="max")) for s, n in grid if s or n]


def rank_answering(r: dict) -> tuple:
    """Which sentence and phrase: RGB accuracy first, then MultiHop named-answer accuracy."""
    return (round(r["rgb_acc"], 4), round(r["mh_named"], 4), round(r["rgb_sent"], 4), -_distance(r["setting"]))


def rank_whole_sentence(r: dict) -> tuple:
    return (round(r["rgb_sent"], 4), round(r["mh_named_sent"], 4), -_distance(r["setting"]))


def rank_abstaining(r: dict) -> tuple:
    """When to abstain: within the targets (false <= 0.1, RGB never abstains), most null queries caught."""
    within = r["false_abst"] <= 0.10 and r["rgb_abst"] == 0
    return (within, round(r["null_abst"] - r["false_abst"], 4), round(r["rgb_acc"], 4), -_distance(r["setting"]))


def _distance(s: dict) -> float:
    """How far a setting moves from the shipped constants (ties go to the smaller change)."""
    return sum(abs(s.get(c, DEFAULTS[c]) - DEFAULTS[c]) / (abs(DEFAULTS[c]) or 1) for c in CONSTANTS)


# -- report ----------------------------------------------------------------------------------------

COLUMNS = [("rgb_acc", "RGB"), ("rgb_sent", "RGBsent"), ("null_abst", "nullAbst"), ("false_abst", "falseAbst"),
           ("mh_acc", "MHacc"), ("mh_sent", "MHsent"), ("mh_named", "MHnamed"), ("mh_named_sent", "MHnamedSent")]


def describe(s: dict) -> str:
    changed = [f"{c}={s[c]:g}" for c in CONSTANTS if c in s and s[c] != DEFAULTS[c]]
    if s.get("rule"):
        r = s["rule"]
        changed.append(f"rule=evidence(sim[{r['sim_of']}]>={r['min_sim']:g}, names>={r['min_names']:g})")
    return ", ".join(changed) or "(defaults)"


def table(title: str, rows: list[tuple[str, dict]], recall: float) -> None:
    print(f"\n{title}")
    head = f"{'':<24}" + "".join(f"{h:>12}" for _, h in COLUMNS) + f"{'recall@10':>11}  setting"
    print(head)
    for label, r in rows:
        print(f"{label:<24}" + "".join(f"{r[k]:>12.3f}" for k, _ in COLUMNS) + f"{recall:>11.3f}  {describe(r['setting'])}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--top", type=int, default=6, help="rows shown per stage")
    args = parser.parse_args()
    t0 = time.time()

    # 1. both corpora, built and searched in parallel processes (each its own Chroma and model)
    with mp.get_context("spawn").Pool(2) as builders:
        built = {name: (hits, n, secs) for name, hits, n, secs in builders.map(build_and_search, ["rgb", "multihop"])}
    queries, truth = multihop()
    _DATA.update(rgb=rgb_dev(), mh=queries, truth=truth, rgb_hits=built["rgb"][0], mh_hits=built["multihop"][0])
    for name, (hits, n, secs) in built.items():
        print(f"{name}: {n} sentences indexed, {len(hits)} questions searched (k={answer.POOL}) in {secs:.0f} s")

    # evidence recall@10 depends on retrieval only: the same for every setting
    with_evidence = [q for q in queries if truth[q["id"]]["evidence_list"]]
    recalls = [evidence_recall(_DATA["mh_hits"][q["id"]], [e["fact"] for e in truth[q["id"]]["evidence_list"]]) for q in with_evidence]
    recall = sum(recalls) / len(recalls)
    recall20 = sum(evidence_recall(_DATA["mh_hits"][q["id"]], [e["fact"] for e in truth[q["id"]]["evidence_list"]], k=answer.POOL)
                   for q in with_evidence) / len(with_evidence)
    print(f"MultiHop evidence recall@10 = {recall:.3f} (@{answer.POOL} = {recall20:.3f}) over {len(with_evidence)} questions with evidence")
    ceiling = sum(any(contains_gold(h.sentence.text, r["answer"]) for h in _DATA["rgb_hits"][r["id"]][: answer.POOL])
                  for r in _DATA["rgb"]) / len(_DATA["rgb"])
    print(f"RGB ceiling: a sentence holding the gold answer is among the {answer.POOL} hits for {ceiling:.2f} of the questions")

    # 2. the grid, on the cached hits
    memoize_tokenize()
    defaults = evaluate({})  # also warms the token cache the workers inherit
    n_settings = 1
    with mp.get_context("fork").Pool(2) as pool:
        weights = sorted(run_grid(pool, stage_weights()), key=rank_answering, reverse=True)
        spans = sorted(run_grid(pool, stage_spans(weights[0]["setting"])), key=rank_answering, reverse=True)
        best_answering = max([weights[0], spans[0]], key=rank_answering)
        # 50 RGB questions: a gain of one question is noise; keep the shipped weights unless the grid gains two
        gain = best_answering["rgb_acc"] - defaults["rgb_acc"]
        answering = best_answering["setting"] if gain >= 2 / len(_DATA["rgb"]) - 1e-9 else {}
        whole = sorted(weights, key=rank_whole_sentence, reverse=True)
        thresholds = sorted(run_grid(pool, stage_threshold(answering)), key=rank_abstaining, reverse=True)
        rules = sorted(run_grid(pool, stage_rule(answering)), key=rank_abstaining, reverse=True)
        n_settings += len(weights) + len(spans) + len(thresholds) + len(rules)
        # the best abstention rules alone on the shipped constants, to separate their effect from the weights'
        sim_only = max((r for r in rules if not r["setting"]["rule"]["min_names"]), key=rank_abstaining)
        threshold_on_defaults, sim_only_on_defaults, rule_on_defaults, weights_and_rule = run_grid(pool, [
            {c: thresholds[0]["setting"][c] for c in ("MIN_SIM", "MIN_COVER")},
            dict(rule=sim_only["setting"]["rule"]),
            dict(rule=rules[0]["setting"]["rule"]),
            dict(best_answering["setting"], rule=rules[0]["setting"]["rule"]),
        ])

    table("Stage 1: sentence weights and pool (thresholds as shipped); best first", [("defaults", defaults)] + [(f"#{i + 1}", r) for i, r in enumerate(weights[: args.top])], recall)
    table("Stage 1b: the same grid ranked for whole-sentence answers (RGBsent); best first", [(f"#{i + 1}", r) for i, r in enumerate(whole[: args.top])], recall)
    table("Stage 2: span placement on the best weights; best first", [(f"#{i + 1}", r) for i, r in enumerate(spans[: args.top])], recall)
    table("Stage 3: the shipped rule answers(best): MIN_SIM / MIN_COVER; best first", [(f"#{i + 1}", r) for i, r in enumerate(thresholds[: args.top])], recall)
    table("Stage 4: prototype rule answers_by_evidence (cosine + name coverage); best first", [(f"#{i + 1}", r) for i, r in enumerate(rules[: args.top])], recall)
    print("\nPrototype rule, null abstention / false abstention by threshold (similarity = best cosine in the pool):")
    grid = {(r["setting"]["rule"]["min_sim"], r["setting"]["rule"]["min_names"]): r for r in rules if r["setting"]["rule"]["sim_of"] == "max"}
    print(f"{'min_sim  names >=':<20}" + "".join(f"{n:>13g}" for n in RULE_NAMES))
    for sim in RULE_SIMS:
        cells = [grid.get((sim, n)) for n in RULE_NAMES]
        print(f"{sim:<20g}" + "".join(f"{c['null_abst']:>7.2f}/{c['false_abst']:.3f}" if c else f"{'-':>13}" for c in cells))
    kept = "grid weights" if answering else "shipped weights (grid gain < 2 RGB questions)"
    table(f"Summary (answering constants used for stages 3-4: {kept})", [
        ("current defaults", defaults),
        ("defaults + MIN_SIM tuned", threshold_on_defaults),
        ("defaults + max-sim only", sim_only_on_defaults),
        ("defaults + proto rule", rule_on_defaults),
        ("grid weights + proto", weights_and_rule),
    ], recall)
    spread = sorted({round(r["rgb_acc"], 3) for r in spans}), sorted({round(r["mh_named"], 3) for r in spans})
    print(f"\nStage 2 spread over {len(spans)} span settings: RGB {spread[0]}, MHnamed {spread[1]}")
    for label, s in [("current defaults", {}), ("defaults + proto rule", rule_on_defaults["setting"])]:
        print(f"RGB outcomes, {label}: " + ", ".join(f"{k} {v}" for k, v in rgb_outcomes(s).items()))
    print("\nRGB / MH = the answer as given (span when cut); *sent = the whole cited sentence instead.")
    print("MHnamed = non-null questions whose gold is not yes/no-like (yes/no golds match sentences by accident).")
    print(f"\n{n_settings} settings evaluated; total {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
