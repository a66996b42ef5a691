"""SQuAD 2.0 through `qa ask`'s extractive path: one library of all 16 articles, every question asked of
the whole library; dev = the first 8 articles, test = the last 8. With `main`, also RGB and MultiHop-RAG
with the same reader (the loaders and corpora of qa/benchmarks.py).

    .venv/bin/python -m bench.squad --data ../shared/data [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from qa import answer, benchmarks

SPLIT = {"dev": slice(0, 8), "test": slice(8, 16)}
TARGETS = {
    "answerable_right": 0.80,
    "unanswerable_abstained": 0.60,
    "false_abstention": 0.10,
    "supported_precision": 0.90,
}


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
    mean = benchmarks._mean
    return {
        "n": len(questions),
        "answerable": len(ok),
        "unanswerable": len(abst),
        "answerable_right": mean(ok),
        "unanswerable_abstained": mean(abst),
        "false_abstention": mean(false),
        "supported_precision": mean(sup),
        "supported_share": len(sup) / len(questions) if questions else 0.0,
    }


def bench_squad(data: Path, cache: benchmarks.VectorCache, log=print) -> dict[str, dict]:
    articles = squad_data(data)
    corpus = benchmarks._Corpus(squad_articles(articles), cache)
    log(f"SQuAD 2.0: {corpus.sentences} sentences in the library")
    out = {}
    try:
        for split in SPLIT:
            qs = squad_questions(articles, split)
            cache.embed([q["question"] for q in qs])
            t = time.perf_counter()
            answers = [answer.extractive(q["question"], corpus.search(q["question"], answer.POOL), 5) for q in qs]
            out[split] = dict(score(qs, answers), seconds=round(time.perf_counter() - t, 1), sentences=corpus.sentences)
    finally:
        corpus.close()
    return out


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None)
    parser.add_argument("--json", default=None, help="write the numbers here as well")
    parser.add_argument("--only-squad", action="store_true")
    args = parser.parse_args(argv)
    from qa import embeddings

    data = benchmarks.find_data(args.data)
    cache = benchmarks.VectorCache(embeddings.load())
    report = {"squad": bench_squad(data, cache)}
    for split, r in report["squad"].items():
        marks = ", ".join(
            f"{k} {r[k]:.3f}"
            + (f" (target {'<=' if k == 'false_abstention' else '>='} {v})" if split == "test" else "")
            for k, v in TARGETS.items()
        )
        print(
            f"SQuAD 2.0 {split}: {r['n']} questions; {marks}; supported share {r['supported_share']:.3f};"
            f" {r['seconds']:.0f} s"
        )
    if not args.only_squad:
        report["rgb"] = {
            s: benchmarks.bench_rgb(benchmarks.rgb_rows(data, benchmarks.RGB_IDS[s]), cache) for s in benchmarks.SPLITS
        }
        for s, r in report["rgb"].items():
            print(
                f"RGB {s}: accuracy {r['ours']['accuracy']:.3f} (target >= 0.85 on test),"
                f" abstained {r['ours']['abstained']:.3f},"
                f" gold in pool {r['ours']['gold_in_pool']:.3f}"
            )
        report["multihop"] = benchmarks.bench_multihop(data, cache, False, print)
        for s, r in report["multihop"].items():
            o = r["ours"]
            print(
                f"MultiHop-RAG {s}: recall@10 {o['recall@10']:.3f} (>= 0.87),"
                f" null abstention {o['null_abstention']:.3f} (>= 0.90),"
                f" false abstention {o['false_abstention']:.3f} (<= 0.10), accuracy {o['accuracy']:.3f},"
                f" non-yes/no {o['accuracy_non_yes_no']:.3f}"
            )
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2, default=str))
    return report


if __name__ == "__main__":
    main()
