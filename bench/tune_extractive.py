"""Tune the extractive answerer's constants (qa/answer.py) on the dev splits of ../shared/data.

Builds the two dev corpora once (RGB en_fact ids 0-49; MultiHop-RAG ids 0-249), retrieves each question's
hits once, then re-runs `answer.extractive` on those cached hits under a staged grid of the module's
constants, and prototypes an abstention rule that also asks the evidence to name what the question names.

    PYTHONPATH=. /work/venv/bin/python -W ignore bench/tune_extractive.py      # from /work/main, ~3-4 min
"""

from __future__ import annotations

import argparse
import functools
import itertools
import json
import multiprocessing as mp
import re
import sys
import tempfile
import time
import warnings
from pathlib import Path
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
warnings.filterwarnings("ignore")

from qa import answer, verify  # noqa: E402  (pure modules: no Chroma, no model in this process)

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
RGB_DEV, MH_DEV = range(0, 50), range(0, 250)
CONSTANTS = ["W_SIM", "W_COVER", "W_TYPE", "W_RANK", "MIN_SIM", "MIN_COVER", "NAME_WEIGHT", "MAX_DISTANCE", "DECAY", "POOL"]
DEFAULTS = {c: getattr(answer, c) for c in CONSTANTS}


# -- data ------------------------------------------------------------------------------------------


def rgb_dev() -> list[dict]:
    rows = [json.loads(line) for line in (DATA / "rgb_en_fact.jsonl").read_text().splitlines() if line.strip()]
    return [r for r in rows if r["id"] in RGB_DEV]


def multihop() -> tuple[list[dict], dict]:
    queries = json.loads((DATA / "multihop_rag_500_queries.json").read_text())["queries"]
    truth = json.loads((DATA / "multihop_rag_500_ground_truth.json").read_text())
    return [q for q in queries if int(q["id"]) in MH_DEV], truth


def rgb_articles(rows: list[dict]) -> list:
    """One article per positive or negative snippet of the dev questions (identical snippets collapse)."""
    from qa.ingest import from_text

    return [from_text(s, source="rgb", title=f"rgb {r['id']}.{n}")
            for r in rows for n, s in enumerate(r["positive"] + r["negative"])]


def multihop_articles(truth: dict) -> list:
    """One article per url from the evidence of all 500 entries: its distinct `fact`s as paragraphs.
    (The 1,153 evidence entries hold 438 distinct facts: 443 sentences once split.)"""
    from qa.ingest import from_text

    facts: dict[str, list[str]] = {}
    meta: dict[str, dict] = {}
    for entry in truth.values():
        for ev in entry["evidence_list"]:
            have = facts.setdefault(ev["url"], [])
            if ev["fact"] not in have:
                have.append(ev["fact"])
            meta[ev["url"]] = ev
    return [from_text("\n\n".join(fs), source=meta[u]["source"], title=meta[u]["title"], url=u,
                      published_at=meta[u].get("published_at", "")) for u, fs in facts.items()]


def build_and_search(name: str) -> tuple[str, dict, int, float]:
    """(name, {question id: hits}, sentences indexed, seconds): runs in its own process (own Chroma)."""
    from qa.library import Library

    t = time.time()
    if name == "rgb":
        rows = rgb_dev()
        articles, questions = rgb_articles(rows), [(r["id"], r["query"]) for r in rows]
    else:
        queries, truth = multihop()
        articles, questions = multihop_articles(truth), [(q["id"], q["question"]) for q in queries]
    with tempfile.TemporaryDirectory(prefix=f"tune-{name}-") as d:
        lib = Library(d)
        report = lib.ingest(articles)
        n = sum(a.sentences for a in report.added)
        hits = {qid: lib.search(" ".join(text.split()), answer.POOL) for qid, text in questions}
    return name, hits, n, time.time() - t


# -- scoring -----------------------------------------------------------------------------------------


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


def evidence_recall(hits: list, facts: list[str], k: int = 10) -> float:
    """Share of the gold facts that some top-k sentence is contained in (or contains)."""
    texts = [_norm(h.sentence.text) for h in hits[:k]]
    facts = list(dict.fromkeys(_norm(f) for f in facts))
    return sum(any(t in f or f in t for t in texts) for f in facts) / len(facts)


# -- the prototype abstention rule -----------------------------------------------------------------
# Proposed for qa/answer.py: `answers(question, best, pool)` in place of `answers(best)`.

_NAME = re.compile(r"(?<!^)(?<![.?!] )\b[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)*")
_POSSESSIVE = re.compile(r"['’]s\b")


def name_coverage(question: str, pool: list) -> float:
    """Mean over the question's names (capitalised runs: "Jeh Johnson", "The Verge") of the share of
    their words found in the pool's sentences or titles; a name that is a source's web address
    ("The Verge" ~ www.theverge.com) is found. 1.0 when the question names nothing."""
    found = set().union(*(answer.terms(f"{h.sentence.text} {h.title}") for h in pool))
    hosts = " ".join(urlparse(h.url).netloc.casefold() for h in pool)
    shares = []
    for name in _NAME.findall(question):
        words = answer.terms(name)
        if not words:
            continue
        bare = _POSSESSIVE.sub("", name.casefold())
        keys = {re.sub(r"\W", "", bare), re.sub(r"\W", "", re.sub(r"^the\s+", "", bare))}
        at_host = any(len(k) >= 4 and k in hosts for k in keys)
        shares.append(1.0 if at_host else len(words & found) / len(words))
    return sum(shares) / len(shares) if shares else 1.0


def answers_by_evidence(question: str, best, pool: list, min_sim: float, min_names: float, sim_of: str = "max") -> bool:
    """Answer only when some evidence is close to the question (cosine) and the evidence names at least
    `min_names` of what the question names."""
    sim = max(h.similarity for h in pool) if sim_of == "max" else best.hit.similarity
    return sim >= min_sim and name_coverage(question, pool) >= min_names


# -- evaluation ------------------------------------------------------------------------------------

_DATA: dict = {}  # set before the worker pool forks: questions, hits, gold
_ASKING: dict = {}  # the question and pool extractive is answering (for the prototype rule)
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
        answer.answers = lambda best: answers_by_evidence(_ASKING["q"], best, _ASKING["pool"], **rule)


def ask(question: str, hits: list):
    _ASKING.update(q=question, pool=hits[: answer.POOL])
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


# yes/no-type gold answers: an extractive sentence "contains" them by accident ("no" in "not", "know")
_YES_NO = {"yes", "no", "true", "false", "consistent", "inconsistent", "agree", "disagree", "insufficient information."}


def run_grid(pool, settings: list[dict]) -> list[dict]:
    return pool.map(evaluate, settings, chunksize=1)


# -- the staged grid -------------------------------------------------------------------------------
# Scores only order sentences, so only the weights' ratios matter: W_SIM stays 1 and the others vary.


def stage_weights() -> list[dict]:
    grid = itertools.product([0.3, 0.6, 1.0, 1.5], [0.0, 0.25, 0.5], [0.0, 0.15, 0.4], [10, 15, 20])
    return [dict(W_SIM=1.0, W_COVER=c, W_TYPE=t, W_RANK=r, POOL=p) for c, t, r, p in grid]


def stage_spans(base: dict) -> list[dict]:
    grid = itertools.product([0.0, 0.25, 0.5, 1.0], [6, 12, 20], [2, 4, 8])
    return [dict(base, NAME_WEIGHT=n, MAX_DISTANCE=m, DECAY=k) for n, m, k in grid]


def stage_threshold(base: dict) -> list[dict]:
    grid = itertools.product([0.30, 0.36, 0.40, 0.42, 0.44, 0.46, 0.50], [0.5, 0.7, 0.9, 1.01])
    return [dict(base, MIN_SIM=s, MIN_COVER=c) for s, c in grid]


def stage_rule(base: dict) -> list[dict]:
    grid = itertools.product([0.0, 0.38, 0.40, 0.42, 0.44], [0.0, 0.4, 0.5, 0.6], ["max", "best"])
    return [dict(base, rule=dict(min_sim=s, min_names=n, sim_of=o)) for s, n, o in grid if s or n]


def rank_answering(r: dict) -> tuple:
    """Which sentence and phrase: RGB accuracy first, then MultiHop named-answer accuracy."""
    return (round(r["rgb_acc"], 4), round(r["mh_named"], 4), round(r["rgb_sent"], 4), -_distance(r["setting"]))


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
    parser.add_argument("--top", type=int, default=5, help="rows shown per stage")
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
        answering = max([weights[0], spans[0]], key=rank_answering)["setting"]
        thresholds = sorted(run_grid(pool, stage_threshold(answering)), key=rank_abstaining, reverse=True)
        rules = sorted(run_grid(pool, stage_rule(answering)), key=rank_abstaining, reverse=True)
        n_settings += len(weights) + len(spans) + len(thresholds) + len(rules)
        # the rule alone on the shipped constants, to separate its effect from the weights'
        rule_on_defaults = evaluate(dict(rule=rules[0]["setting"]["rule"]))
        threshold_on_defaults = evaluate({c: thresholds[0]["setting"][c] for c in ("MIN_SIM", "MIN_COVER")})

    table("Stage 1: sentence weights and pool (thresholds as shipped); best first", [("defaults", defaults)] + [(f"#{i + 1}", r) for i, r in enumerate(weights[: args.top])], recall)
    table("Stage 2: span placement on the best weights; best first", [(f"#{i + 1}", r) for i, r in enumerate(spans[: args.top])], recall)
    table("Stage 3: the shipped rule answers(best): MIN_SIM / MIN_COVER; best first", [(f"#{i + 1}", r) for i, r in enumerate(thresholds[: args.top])], recall)
    table("Stage 4: prototype rule answers_by_evidence (cosine + name coverage); best first", [(f"#{i + 1}", r) for i, r in enumerate(rules[: args.top])], recall)
    table("Summary", [
        ("current defaults", defaults),
        ("defaults + best thresh.", threshold_on_defaults),
        ("defaults + best rule", rule_on_defaults),
        ("best, shipped rule", thresholds[0]),
        ("best, prototype rule", rules[0]),
    ], recall)
    print("\nRGB / MH = the answer as given (span when cut); *sent = the whole cited sentence instead.")
    print("MHnamed = non-null questions whose gold is not yes/no-like (yes/no golds match sentences by accident).")
    print(f"\n{n_settings} settings evaluated; total {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
