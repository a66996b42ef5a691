"""Numbers for the offline core, measured on this machine:
ingestion sentences/s (MultiHop-RAG evidence articles + RGB snippets from ../shared/data),
warm answer latency (p50/p95 over the Palmyra and MultiHop questions), and cold `qa ask` in a new process.

    python -m bench.core            # prints a table; nothing is written
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"


def corpus() -> list:
    from qa.ingest import from_text

    truth = json.loads((DATA / "multihop_rag_500_ground_truth.json").read_text())
    by_url: dict[str, list] = defaultdict(list)
    meta = {}
    for entry in truth.values():
        for ev in entry["evidence_list"]:
            if ev["fact"] not in by_url[ev["url"]]:
                by_url[ev["url"]].append(ev["fact"])
            meta[ev["url"]] = ev
    articles = [from_text("\n\n".join(facts), title=meta[u]["title"], url=u, source=meta[u]["source"]) for u, facts in by_url.items()]
    for line in (DATA / "rgb_en_fact.jsonl").read_text().splitlines():
        rec = json.loads(line)
        for snippet in rec["positive"] + rec["negative"]:
            if snippet.strip():
                articles.append(from_text(snippet, title=rec["query"][:60]))
    return articles


def main() -> None:
    from qa.library import Library

    with tempfile.TemporaryDirectory() as tmp:
        articles = corpus()
        t = time.perf_counter()
        lib = Library(Path(tmp) / "lib")
        t_open = time.perf_counter() - t
        t = time.perf_counter()
        report = lib.ingest(articles)
        t_ingest = time.perf_counter() - t
        n_sent = sum(d.sentences for d in report.added)
        lib.ingest([str(ROOT / "examples" / "palmyra.txt")])
        questions = [q["question"] for q in json.loads((DATA / "multihop_rag_500_queries.json").read_text())["queries"][:100]]
        lib.ask(questions[0])  # the keyword index is built on first use after a change
        times = []
        for q in questions:
            t = time.perf_counter()
            lib.ask(q)
            times.append(time.perf_counter() - t)
        times.sort()
        env = {**os.environ, "QA_DATA_DIR": str(Path(tmp) / "lib"), "PYTHONPATH": str(ROOT)}
        colds = []
        for _ in range(3):
            t = time.perf_counter()
            subprocess.run([sys.executable, "-m", "qa.cli", "ask", "How many ISIS fighters died in the battle for Palmyra?"],
                           env=env, check=True, capture_output=True)
            colds.append(time.perf_counter() - t)
    print(f"library open (model load included)   {t_open:.2f} s")
    print(f"ingestion: {len(report.added)} articles, {n_sent} sentences in {t_ingest:.1f} s = {n_sent / t_ingest:.0f} sentences/s")
    print(f"warm answer latency over {len(times)} questions: p50 {statistics.median(times) * 1000:.0f} ms, "
          f"p95 {times[int(0.95 * len(times)) - 1] * 1000:.0f} ms")
    print(f"cold `qa ask` (new process, {len(colds)} runs): median {statistics.median(colds):.2f} s")


if __name__ == "__main__":
    main()
