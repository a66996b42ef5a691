"""`python -m bench news`: the hand-written questions of bench/news_pages.yaml on the real news pages of
tests/pages, run as an eval suite (qa/evals.py) in whatever mode the environment configures (the offline
default, or QA_MODE=llm with a model), written to evals/RESULTS-news.md: every question with its answer, label
and probability, and the suite's fact accuracy and abstention. The pages are stored gzipped; they are unpacked
into a temp folder and ingested from there, as a user's saved pages would be."""

from __future__ import annotations

import dataclasses
import datetime as dt
import gzip
import tempfile
import time
from pathlib import Path

from bench import report
from bench.report import ROOT

SUITE = ROOT / "bench" / "news_pages.yaml"


def run(suite_path: Path = SUITE, cases: int | None = None, command: str = "python -m bench news") -> dict:
    """The suite's results (first `cases` cases only, for a smoke test) and its metrics."""
    from qa import evals, suite
    from qa.config import Settings

    t = time.perf_counter()
    s = suite.load(suite_path)
    if cases is not None:
        s = dataclasses.replace(s, cases=s.cases[:cases])
    settings = Settings()
    with tempfile.TemporaryDirectory(prefix="qa-bench-news-") as tmp:
        s = dataclasses.replace(s, articles=[unpacked(a, Path(tmp)) for a in s.articles])
        results, outputs = evals.run_suites([s], settings)
    return {
        "command": command,
        "commit": report.commit(),
        "date": dt.date.today().isoformat(),
        "machine": report.machine_line(report.machine()),
        "mode": settings.mode_label(),
        "seconds": round(time.perf_counter() - t, 1),
        "metrics": evals.metrics([s], results, outputs),
        "cases": [_row(c, r) for c, r in zip(s.cases, results)],
    }


def unpacked(article: Path, into: Path) -> Path:
    """A .gz page as the file it holds (its name without .gz); any other article as it is."""
    if article.suffix != ".gz":
        return article
    out = into / article.name.removesuffix(".gz")
    out.write_bytes(gzip.decompress(article.read_bytes()))
    return out


def _row(case, result) -> dict:
    out = result.output
    claim = (out.get("claims") or [{}])[0]
    expect = "the articles do not say" if case.expect.get("abstain") else _expected(case.expect.get("contains", []))
    label = "abstained" if out.get("abstained") else claim.get("support", "")
    return {
        "id": case.id,
        "question": case.question,
        "expected": expect,
        "answer": out.get("answer", ""),
        "label": label,
        "p": out.get("probability"),
        "passed": result.passed,
    }


def _expected(contains: list) -> str:
    return "; ".join(" or ".join(map(str, c)) if isinstance(c, list) else str(c) for c in contains)


def markdown(rep: dict) -> str:
    m = rep["metrics"]
    rate = lambda v: "n/a" if v is None else f"{v:.3f}"  # noqa: E731
    rows = [
        f"| {r['id']} | {_cell(r['question'])} | {_cell(r['expected'])} | {_cell(r['answer'][:120])} | {r['label']}"
        f" | {'' if r['p'] is None else format(r['p'], '.2f')} | {'yes' if r['passed'] else '**no**'} |"
        for r in rep["cases"]
    ]
    return "\n".join(
        [
            "# News pages: hand-written questions",
            "",
            "Written by the command below; do not edit by hand. The questions of bench/news_pages.yaml (see its header:",
            "a small development set, not a target) on the 13 real news pages of tests/pages, in one fresh library.",
            "",
            f"- command: `{rep['command']}`; mode: {rep['mode']}; commit {rep['commit']}; {rep['date']}; {rep['machine']}"
            f"; {rep['seconds']:.0f} s",
            f"- questions: {m['cases']}; passed {m['passed']}",
            f"- fact accuracy (answerable questions right): {rate(m['fact_accuracy'])}; false abstention:"
            f" {rate(m['false_abstention'])}; unanswerable questions abstained: {rate(m['correct_abstention'])}",
            f"- answer latency p50 {m['latency_p50_s']:.3f} s, max {m['latency_max_s']:.3f} s",
            "",
            "A question passes when its answer holds the expected text (any one of the alternatives), or, for an",
            "unanswerable one, when it says the articles do not say. Label: the answer's first claim (`partial` is",
            "shown as \"may answer\"); p: the reader's probability that the answer's sentence answers the question.",
            "",
            "| id | question | expected | answer | label | p | passed |",
            "|---|---|---|---|---|---:|---|",
            *rows,
            "",
        ]
    )


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def write(rep: dict, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(markdown(rep))
