"""`python -m bench quality --model`: the model path (QA_MODE=llm) measured end to end on test splits: RGB
(all 50), seeded samples of SQuAD 2.0 and MultiHop-RAG, and evals/palmyra.yaml -> evals/RESULTS-llm.md.
The local model by default (started here); any configured server with OPENAI_BASE_URL / QA_MODEL."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import random
import re
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench import report
from bench.data import (
    MH_IDS,
    RGB_IDS,
    multihop,
    multihop_articles,
    rgb_articles,
    rgb_rows,
    summedits_rows,
)
from bench.scoring import _matches, _mean, _norm, balanced_accuracy, contains_gold, fit_threshold
from bench.vectors import CachedEmbedder, VectorCache, cache_dir
from qa import local_model

SEED = 14
FULL = {"rgb": 50, "squad": 100, "multihop": 100, "summedits": 100}
# palmyra: cases of evals/palmyra.yaml (default all); summedits: summaries judged
QUICK = {"rgb": 1, "squad": 2, "multihop": 2, "palmyra": 2, "summedits": 2}
SQUAD_FILE, SQUAD_TEST = "squad2_dev_cs224n.json", slice(8, 16)
# sentences retrieved per question (their neighbours come too): what `qa local-model` tells users to set, so that a
# question's prompt is read in seconds on 2 cores and the full run fits 90 minutes
EVIDENCE = local_model.EVIDENCE_SENTENCES
# QA_LLM_MAX_TOKENS for the run, as `qa local-model` prints it. On a cold run under the product's default 1,024
# (2026-12-07) the replies that finished took 8 to 137 tokens; eight of the 250 questions' replies ran on to 1,024
# and took 116-134 s each. A reply cut off keeps only its closed claims, or gives way to the reader
MAX_TOKENS = local_model.MAX_TOKENS
# the latency probe: five sentences of the reference article as the whole evidence, a question and a follow-up
LATENCY_PARAGRAPHS = (
    "BEIRUT",
    "Syrian television",
    "The Syrian Observatory",
    "For government forces",
    "Observatory director",
)
LATENCY_QUESTIONS = (  # (question, the fact its answer must hold)
    ("How many ISIS fighters died in the battle for Palmyra?", "400"),
    ("Whose air strikes backed the Syrian government forces?", "Russian"),
)
Log = Callable[[str], None]


# -- the sets: (question, how to score it) ------------------------------------------------------------


def squad(data: Path, n: int) -> tuple[list, list[dict]]:
    """(the test half's 8 articles, n seeded questions: half answerable, half not). A small loader of our own
    until bench/squad.py lands."""
    from qa.ingest import from_text

    docs = json.loads((data / SQUAD_FILE).read_text())["data"][SQUAD_TEST]
    articles = [
        from_text("\n\n".join(p["context"] for p in d["paragraphs"]), source="squad2", title=d["title"]) for d in docs
    ]
    qas = [q for d in docs for p in d["paragraphs"] for q in p["qas"]]
    answerable = sorted((q for q in qas if not q["is_impossible"]), key=lambda q: q["id"])
    picked = _halves(answerable, sorted((q for q in qas if q["is_impossible"]), key=lambda q: q["id"]), n)
    golds = lambda q: sorted({a["text"] for a in q["answers"]})  # noqa: E731
    return articles, [{"question": q["question"], "gold": [golds(q)], "null": q["is_impossible"]} for q in picked]


def rgb(data: Path, n: int) -> tuple[list, list[dict]]:
    rows = rgb_rows(data, RGB_IDS["test"])[:n]
    return rgb_articles(rows), [{"question": r["query"], "gold": r["answer"], "null": False} for r in rows]


def multihop_sample(data: Path, n: int) -> tuple[list, list[dict]]:
    """n seeded test questions with the null queries in their share; the library of all 500 entries' articles."""
    queries, truth = multihop(data)
    test = sorted((q for q in queries if int(q["id"]) in MH_IDS["test"]), key=lambda q: int(q["id"]))
    nulls = [q for q in test if q["question_type"] == "null_query"]
    rest = [q for q in test if q["question_type"] != "null_query"]
    k = max(1, round(n * len(nulls) / len(test)))
    rng = random.Random(SEED)
    picked = _shuffled(nulls, rng)[:k] + _shuffled(rest, rng)[: n - k]
    return multihop_articles(truth.values()), [
        {
            "question": q["question"],
            "gold": truth[q["id"]]["answer"],
            "null": q["question_type"] == "null_query",
            "facts": [_norm(e["fact"]) for e in truth[q["id"]]["evidence_list"]],
        }
        for q in picked
    ]


def _halves(first: list, second: list, n: int) -> list:
    """n seeded picks, half from each pool (the odd one from the first)."""
    rng = random.Random(SEED)
    return _shuffled(first, rng)[: n - n // 2] + _shuffled(second, rng)[: n // 2]


def _shuffled(pool: list, rng: random.Random) -> list:
    """The pool in a seeded order: a smaller sample is the start of a larger one (and reuses its cached replies)."""
    pool = list(pool)
    rng.shuffle(pool)
    return pool


SETS = {"rgb": rgb, "squad": squad, "multihop": multihop_sample}


# -- scoring one answer ------------------------------------------------------------------------------


def right(text: str, gold) -> bool:
    """The gold answer is in the text; yes/no-type golds as whole words (not "no" inside "know")."""
    if isinstance(gold, str) and len(gold.split()) == 1 and gold.isalpha():
        return re.search(rf"\b{re.escape(gold)}\b", text, re.IGNORECASE) is not None
    return contains_gold(text, gold)


def holds_gold(sentence: str, q: dict) -> bool:
    """A cited sentence holds the gold evidence: one of MultiHop's facts, or (RGB, SQuAD) the answer itself."""
    if "facts" in q:
        return _matches(sentence, q["facts"])
    return right(sentence, q["gold"])


def score(q: dict, ans, seconds: float, cached: bool) -> dict:
    cited = [c.text for c in ans.citations]
    by_marker = {c.marker: c.text for c in ans.citations}
    ok = not ans.abstained and not q["null"] and right(ans.answer, q["gold"])
    supported = [c for c in ans.claims if c.support == "supported"]
    # a supported claim in an answer that is wrong (or that answers an unanswerable question)
    supported_wrong = bool(supported) and (q["null"] or not ok)
    return {
        "question": q["question"],
        "null": q["null"],
        "answer": ans.answer,
        "abstained": ans.abstained,
        "right": ok,
        "cited": len(cited),
        "cited_gold": sum(holds_gold(t, q) for t in cited),
        "claims": len(ans.claims),
        "per_claim": _mean(len(c.citations) for c in ans.claims) if ans.claims else 0.0,
        "claim_cites": [[by_marker[m] for m in c.citations if m in by_marker] for c in ans.claims],
        "supported_wrong": supported_wrong,
        "seconds": round(seconds, 2),
        "cached": cached,
        "prompt_tokens": (ans.usage or {}).get("prompt_tokens", 0),
        "completion_tokens": (ans.usage or {}).get("completion_tokens", 0),
    }


def summary(rows: list[dict]) -> dict:
    real, null = [r for r in rows if not r["null"]], [r for r in rows if r["null"]]
    good = [r for r in real if r["right"]]
    cited = [r for r in rows if r["cited"]]
    live = [r["seconds"] for r in rows if not r["cached"]]
    return {
        "n": len(rows),
        "answerable": len(real),
        "unanswerable": len(null),
        "accuracy": _mean(r["right"] for r in real),
        "abstained_unanswerable": _mean(r["abstained"] for r in null),
        "false_abstention": _mean(r["abstained"] for r in real),
        # of the answers that hold the right fact: the share citing a sentence that holds it (recall), and the
        # share of all their cited sentences that hold it (precision)
        "citation_recall": _mean(r["cited_gold"] > 0 for r in good),
        "citation_precision": _mean(r["cited_gold"] / r["cited"] for r in good if r["cited"]),
        "citations_per_claim": _mean(r["per_claim"] for r in cited),
        "supported_wrong": _mean(r["supported_wrong"] for r in rows),
        "seconds_p50": sorted(live)[len(live) // 2] if live else None,
        "seconds_max": max(live) if live else None,
        "uncached": len(live),
        "errors": sum("error" in r for r in rows),
        "prompt_tokens": sum(r["prompt_tokens"] for r in rows),
        "completion_tokens": sum(r["completion_tokens"] for r in rows),
    }


# -- SummEdits: the model as a judge -----------------------------------------------------------------


def summedits(data: Path, n: int | None, split: str = "test") -> list[dict]:
    """n seeded SummEdits (news) rows of a split, half of them consistent summaries; all of them for n=None."""
    rows = sorted(summedits_rows(data, split), key=lambda r: r["id"])
    if n is None:
        return rows
    return _halves([r for r in rows if r["label"] == 1], [r for r in rows if r["label"] == 0], n)


def judge_summaries(rows: list[dict], settings, cache: VectorCache, log: Log) -> list[dict]:
    """Each summary checked as the model path checks an answer's claims (chain._verified): for each of its
    sentences the support verify.choose finds among the document's sentences, then the model as a judge of
    that sentence against that support. A summary passes a check when every sentence does. The product's check
    is both (the judge can only lower the verifier's label); each alone is kept beside it."""
    from qa import chain, prompts, sentences, verify
    from qa.llm import ChatModel

    model, template = ChatModel(settings), prompts.load_all()["judge"]
    bar = settings.llm_judge_threshold
    split = lambda text: [text[a:b] for a, b in sentences.spans(text)]  # noqa: E731
    out = []
    for n, r in enumerate(rows, 1):
        doc, summary = split(r["doc"]), split(r["summary"]) or [r["summary"]]
        sims = cache.embed(summary) @ cache.embed(doc).T
        t = time.perf_counter()
        verifier, ps = True, []
        for i, claim in enumerate(summary):
            picked, label, _ = verify.choose(claim, doc, [float(x) for x in sims[i]], [])
            verifier &= label == verify.SUPPORTED
            ps.append(chain.judge(model, template, claim, [doc[j] for j in picked]))
        p = min(ps)  # a summary is as sure as its least sure sentence
        out.append(
            {
                "id": r["id"],
                "label": int(r["label"]),
                "verifier": verifier,
                "judge_p": p,
                "judge": p >= bar,
                "both": verifier and p >= bar,
                "sentences": len(summary),
                "calls": len(ps),
                "seconds": round(time.perf_counter() - t, 2),
            }
        )
        log(f"summedits {n}/{len(rows)} label {r['label']}: verifier {verifier}, judge p(yes) {p:.3f}")
    return out


def summedits_summary(rows: list[dict], bar: float, dev: list[dict] | None = None) -> dict:
    """Balanced accuracy of the checks, the judge held to the product's bar; with dev rows, the bar fitted on
    them too (what the product's bar should be) and the judge on these rows at that bar."""
    labels = [r["label"] for r in rows]
    out = {
        "n": len(rows),
        "consistent": sum(labels),
        **{
            f"{check}_balanced_accuracy": balanced_accuracy([float(r[check]) for r in rows], labels, 0.5)
            for check in ("verifier", "judge", "both")
        },
        "bar": bar,
        "judge_calls": sum(r["calls"] for r in rows),
        "seconds_p50": sorted(r["seconds"] for r in rows)[len(rows) // 2] if rows else None,
    }
    if dev:
        dev_p, dev_labels = [r["judge_p"] for r in dev], [r["label"] for r in dev]
        fitted = round(fit_threshold(dev_p, dev_labels), 4)
        out |= {
            "dev_n": len(dev),
            "dev_bar": fitted,
            "dev_judge_balanced_accuracy": balanced_accuracy(dev_p, dev_labels, fitted),
            "dev_judge_balanced_accuracy_at_bar": balanced_accuracy(dev_p, dev_labels, bar),
            "judge_balanced_accuracy_at_dev_bar": balanced_accuracy([r["judge_p"] for r in rows], labels, fitted),
        }
    return out


# -- running -------------------------------------------------------------------------------------------


def ask_all(
    name: str, articles: list, questions: list[dict], settings, cache: VectorCache, log: Log
) -> tuple[list[dict], list[dict]]:
    """Each question's scored answer; and, when the settings leave the model's judge off, the same question's with
    it on (the same library, so the same evidence and the same reply, from the cache)."""
    from qa.errors import ModelError
    from qa.library import Library
    from qa.types import Answer

    with tempfile.TemporaryDirectory(prefix=f"qa-bench-llm-{name}-") as tmp:
        lib = Library(tmp, settings, embedder=CachedEmbedder(cache))
        lib.ingest(articles)
        on = settings.model_copy(update={"llm_judge": True})
        judging = None if settings.llm_judge else Library(tmp, on, embedder=CachedEmbedder(cache))
        rows, judged = [], []
        for n, q in enumerate(questions, 1):
            text = " ".join(q["question"].split())
            cached = lib.estimate_tokens(text, None, 3, 0) == 0  # every call of it already in the reply cache
            t = time.perf_counter()
            try:
                ans = lib.ask(text)
            except ModelError as e:  # a timeout on one question is a wrong answer, not the end of the run
                rows.append(
                    {**score(q, Answer(text, "", False, "llm"), time.perf_counter() - t, cached), "error": str(e)}
                )
                log(f"{name} {n}/{len(questions)} failed: {e}")
                continue
            rows.append(score(q, ans, time.perf_counter() - t, cached))
            if judging is not None:
                try:
                    judged.append(score(q, judging.ask(text), 0.0, True))
                except ModelError:
                    judged.append(score(q, Answer(text, "", False, "llm"), 0.0, True))
            r = rows[-1]
            log(
                f"{name} {n}/{len(questions)} {r['seconds']:.1f}s {'right' if r['right'] else 'abstained' if r['abstained'] else 'wrong'}"
                f" cites {r['cited']} ({r['cited_gold']} gold): {text[:60]} -> {ans.answer[:80]}"
            )
        return rows, judged


def latency(settings) -> list[dict]:
    """Time to first token and to the whole answer, streamed as the page does, without the reply cache: the
    first question on a 5-sentence article right after the server starts, then a follow-up on it. The library
    is opened as the page opens it (its models and the chat client loaded in the background) and asked once
    that is done, as a user of the page asks once it is up."""
    from qa.ingest import from_text
    from qa.library import Library

    paragraphs = (report.ROOT / "examples" / "palmyra.txt").read_text().split("\n\n")
    text = "\n\n".join(p.strip() for p in paragraphs if p.strip().startswith(LATENCY_PARAGRAPHS))
    settings = settings.model_copy(update={"llm_cache_dir": None, "evidence_sentences": 5})
    out = []
    with tempfile.TemporaryDirectory(prefix="qa-bench-llm-latency-") as tmp:
        Library(tmp, settings).ingest([from_text(text, title="Palmyra, five sentences")])
        lib = Library(tmp, settings, preload=True)
        lib.ready()
        for label, (q, gold) in zip(("first question", "follow-up"), LATENCY_QUESTIONS):
            t, first = time.perf_counter(), None
            for event in lib.ask_stream(q):
                if first is None and event["type"] == "token":
                    first = time.perf_counter() - t
            ans = event["answer"]
            out.append(
                {
                    "case": label,
                    "question": q,
                    "first_token_s": round(first or 0.0, 2),
                    "total_s": round(time.perf_counter() - t, 2),
                    "evidence": lib.documents()[0].sentences,
                    "answer": ans.answer,
                    "right": right(ans.answer, gold),
                    "cited": [c.text[:60] for c in ans.citations],
                    **ans.usage,
                }
            )
    return out


def palmyra_suite(settings, cases: int | None = None) -> dict:
    """evals/palmyra.yaml (its first `cases` only, in a quick run) through the model."""
    from qa import evals, suite

    suites = [suite.load(report.ROOT / "evals" / "palmyra.yaml")]
    suites[0].cases = suites[0].cases[:cases]
    with evals.prepared(suites, settings) as runs:
        results, outputs = evals.run(runs[0])
    return {
        **evals.metrics(suites, results, outputs),
        "failed": [f"{r.case}: {r.why}" for r in results if not r.passed],
    }


JUDGED = ("accuracy", "citation_recall", "citations_per_claim", "supported_wrong")  # compared with the judge on


@contextlib.contextmanager
def model_settings(replies: Path, log: Log):
    """Settings for QA_MODE=llm: the configured server when OPENAI_BASE_URL or a key is set, else the local
    model started here (stopped on exit)."""
    from qa.config import Settings

    base = Settings(
        mode="llm",
        llm_cache_dir=replies,
        llm_retries=0,
        llm_timeout=600,
        evidence_sentences=EVIDENCE,
        llm_max_tokens=MAX_TOKENS,
    )
    if base.openai_base_url or base.openai_api_key:
        yield base
        return
    from qa import local_model

    t = time.perf_counter()
    with local_model.start() as server:
        log(f"local model {server.model} from {server.gguf} up in {time.perf_counter() - t:.1f} s")
        yield base.model_copy(
            update={"openai_base_url": server.base_url, "model": server.model, "llm_judge": local_model.JUDGE}
        )


def run(
    data: str | Path | None = None,
    quick: bool = False,
    log: Log = lambda m: None,
    command: str = "python -m bench quality --model",
    sizes: dict | None = None,
) -> dict:
    from bench.data import find_data
    from qa import embeddings

    t0 = time.perf_counter()
    data = find_data(data)
    sizes = sizes or (QUICK if quick else FULL)
    cache = VectorCache(embeddings.load())
    results, rows = {}, {}
    with model_settings(cache_dir() / "llm-replies", log) as settings:
        results["latency"] = latency(settings)
        log(f"latency: {json.dumps(results['latency'])}")
        for name, n in ((k, v) for k, v in sizes.items() if k in SETS):
            articles, questions = SETS[name](data, n)
            t = time.perf_counter()
            rows[name], judged = ask_all(name, articles, questions, settings, cache, log)
            results[name] = {**summary(rows[name]), "seconds": round(time.perf_counter() - t, 1)}
            if judged:  # what the model as a judge would change
                results[name]["with_judge"] = {k: summary(judged)[k] for k in JUDGED}
            log(f"{name}: {json.dumps(results[name])}")
        if sizes.get("summedits"):
            t = time.perf_counter()
            dev = None if quick else judge_summaries(summedits(data, None, "dev"), settings, cache, log)
            rows["summedits"] = judge_summaries(summedits(data, sizes["summedits"]), settings, cache, log)
            results["summedits"] = {
                **summedits_summary(rows["summedits"], settings.llm_judge_threshold, dev),
                "seconds": round(time.perf_counter() - t, 1),
            }
            log(f"summedits: {json.dumps(results['summedits'])}")
        t = time.perf_counter()
        results["palmyra"] = {
            **palmyra_suite(settings, sizes.get("palmyra")),
            "seconds": round(time.perf_counter() - t, 1),
        }
        model = settings.model
    return {
        "mode": "llm",
        "model": model,
        "quick": quick,
        "command": command,
        "commit": report.commit(),
        "date": dt.date.today().isoformat(),
        "machine": report.machine_line(report.machine()),
        "sizes": sizes,
        "seed": SEED,
        "max_tokens": settings.llm_max_tokens,
        "sample": sizes != FULL,
        "seconds": round(time.perf_counter() - t0, 1),
        "results": results,
        "rows": rows,
    }
