"""SQuAD 2.0 through the library's extractive path (part of `python -m bench quality`): one library of all 16
articles, every question asked of the whole library; dev = the first 8 articles, test = the last 8.

    .venv/bin/python -m bench.squad --latency 100     # warm answer latency of the parsed reader
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from bench import data as sets
from bench import quality, scoring, vectors
from qa import answer
from qa.text import squash

SPLIT = {"dev": slice(0, 8), "test": slice(8, 16)}
# answerable questions asked again without the paragraph that answers them: the unanswerable question a reader
# meets most (the articles are on the subject, the fact is not in them), which SQuAD's own unanswerable
# questions (written to look answered by their paragraph) leave out
WITHHELD_EVERY = 2
WITHHELD_EXTRA = 20  # hits retrieved beyond the pool, so that the pool stays full without the paragraph


def squad_data(data: Path) -> list[dict]:
    return json.loads((data / "squad2_dev_cs224n.json").read_text())["data"]


def squad_articles(articles: list[dict]) -> list:
    """One document per article: its paragraphs joined."""
    from qa.ingest import from_text

    return [
        from_text(
            "\n\n".join(p["context"] for p in a["paragraphs"]), source="squad", title=a["title"].replace("_", " ")
        )
        for a in articles
    ]


def squad_questions(articles: list[dict], split: str) -> list[dict]:
    """{"id", "question", "answers": [gold texts] ([] when unanswerable), "title"} of one split."""
    return [
        {
            "id": qa["id"],
            "question": " ".join(qa["question"].split()),
            "title": a["title"].replace("_", " "),
            "answers": [] if qa.get("is_impossible") else list(dict.fromkeys(x["text"] for x in qa["answers"])),
        }
        for a in articles[SPLIT[split]]
        for p in a["paragraphs"]
        for qa in p["qas"]
    ]


def withheld_questions(articles: list[dict], split: str) -> list[dict]:
    """Every WITHHELD_EVERY-th answerable question of a split, to be asked with its paragraph withheld:
    {"question", "answers", "context"}."""
    qs = [
        {
            "question": " ".join(qa["question"].split()),
            "answers": [x["text"] for x in qa["answers"]],
            "context": p["context"],
        }
        for a in articles[SPLIT[split]]
        for p in a["paragraphs"]
        for qa in p["qas"]
        if not qa.get("is_impossible")
    ]
    return qs[::WITHHELD_EVERY]


def withheld_hits(q: dict, corpus) -> list | None:
    """The question's evidence without its own paragraph's sentences: what articles on the subject that do not
    state the fact offer. None when the answer is still there (another paragraph states it too)."""
    inside = squash(q["context"])
    found = corpus.search(q["question"], answer.POOL + WITHHELD_EXTRA)
    hits = [h for h in found if squash(h.sentence.text) not in inside][: answer.POOL]
    if any(scoring.contains_gold(h.sentence.text, q["answers"]) for h in hits):
        return None
    return hits


def right(text: str, golds: list[str]) -> bool:
    t = text.casefold()
    return any(g.casefold() in t for g in golds)


def score(questions: list[dict], answers: list) -> dict:
    """Answerable right (answer and cited sentence hold a gold text), unanswerable abstained, false
    abstention, and the precision of answers shown as supported (an answered unanswerable one is wrong)."""
    ok, abst, false, sup = [], [], [], []
    for q, a in zip(questions, answers):
        good = (
            not a.abstained and right(a.answer, q["answers"]) and any(right(c.text, q["answers"]) for c in a.citations)
        )
        if q["answers"]:
            ok.append(good)
            false.append(a.abstained)
        else:
            abst.append(a.abstained)
        if not a.abstained and a.claims and a.claims[0].support == answer.SUPPORTED:
            sup.append(bool(q["answers"]) and good)
    mean = scoring._mean
    return {
        "n": len(questions),
        "answerable": len(ok),
        "unanswerable": len(abst),
        "answerable_right": mean(ok),
        "unanswerable_abstained": mean(abst),
        "false_abstention": mean(false),
        "supported_precision": mean(sup) if sup else None,
        "supported_share": len(sup) / len(questions) if questions else 0.0,
    }


def bench_squad(data: Path, cache: vectors.VectorCache, log=print, quick: bool = False) -> dict[str, dict]:
    """Both splits' scores; quick: the first 30 questions of each split (a smoke test)."""
    articles = squad_data(data)
    corpus = quality._Corpus(squad_articles(articles), cache)
    log(f"SQuAD 2.0: {corpus.sentences} sentences in the library")
    out = {}
    try:
        for split in SPLIT:
            qs = squad_questions(articles, split)[: 30 if quick else None]
            cache.embed([q["question"] for q in qs])
            t = time.perf_counter()
            answers = [answer.extractive(q["question"], corpus.search(q["question"], answer.POOL), 5) for q in qs]
            seconds = round(time.perf_counter() - t, 1)
            top = [_top_sentence(corpus, q["question"]) for q in qs]
            held = [(q, withheld_hits(q, corpus)) for q in withheld_questions(articles, split)[: 30 if quick else None]]
            held = [(q, hits) for q, hits in held if hits is not None]
            withheld = [answer.extractive(q["question"], hits, 5).abstained for q, hits in held]
            out[split] = {
                "ours": {**score(qs, answers), "withheld_abstained": scoring._mean(withheld)},
                "baseline": {**score(qs, top), "withheld_abstained": 0.0},  # it never abstains
                "n": len(qs),
                "withheld": len(held),
                "seconds": seconds,
                "sentences": corpus.sentences,
            }
    finally:
        corpus.close()
    return out


def _top_sentence(corpus, question: str):
    """The baseline: the sentence nearest the question by embedding, as an answer shown supported."""
    from qa.types import Answer, Citation, Claim

    [(text, _)] = corpus.embedding_top(question, 1) or [("", 0.0)]
    return Answer(
        question,
        text,
        False,
        "extractive",
        citations=[Citation(1, "", "", "", text, 0, len(text))],
        claims=[Claim(text, [1], answer.SUPPORTED)],
    )


def latency(data: Path, cache: vectors.VectorCache, n: int) -> dict:
    """Warm `qa ask` (extractive) over the SQuAD library: the process has answered before, but each timed
    question is new, so most of its evidence sentences are parsed for the first time."""
    import numpy as np

    from qa import reader

    articles = squad_data(data)
    corpus = quality._Corpus(squad_articles(articles), cache)
    qs = [q["question"] for q in squad_questions(articles, "test")][::7][: n + 5]
    cache.embed(qs)
    try:
        for q in qs[:5]:
            corpus.lib.ask(q)
        total, read = [], []
        for q in qs[5:]:
            t = time.perf_counter()
            hits = corpus.search(q, answer.POOL)
            t1 = time.perf_counter()
            answer.extractive(q, hits, 5)
            total.append(time.perf_counter() - t)
            read.append(time.perf_counter() - t1)
    finally:
        corpus.close()
    ms = lambda xs, p: round(1000 * float(np.percentile(xs, p)), 1)  # noqa: E731
    return {
        "questions": len(total),
        "parsed_per_question": reader.PARSED,
        "ask_p50_ms": ms(total, 50),
        "ask_p90_ms": ms(total, 90),
        "reader_p50_ms": ms(read, 50),
        "reader_p90_ms": ms(read, 90),
    }


def main(argv: list[str] | None = None) -> dict:
    """`python -m bench.squad --latency N`: warm answer latency on the SQuAD library. The SQuAD
    scores themselves are in `python -m bench quality`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None)
    parser.add_argument("--latency", type=int, default=100, help="warm answers timed")
    args = parser.parse_args(argv)
    from qa import embeddings

    result = latency(sets.find_data(args.data), vectors.VectorCache(embeddings.load()), args.latency)
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
