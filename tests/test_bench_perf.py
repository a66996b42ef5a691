"""`python -m bench perf --quick`: the library, the floor and the LangChain pipeline, each in its own process on
a small real corpus; the report's shape, every number present and positive, recall a rate, the page and
plot written where quick mode writes them and never over bench/RESULTS.md. No timing assertions: the
numbers are in bench/RESULTS.md."""

import json
import os
import re
import subprocess
import sys

import pytest
from conftest import ROOT

from bench import corpora, perf, perf_report
from bench import data as sets
from qa import clean, sentences
from qa.text import squash

pytestmark = pytest.mark.e2e  # the real model, Chroma, page or browser

RESULTS = ROOT / "bench" / "RESULTS.md"


def _data():
    try:
        return sets.find_data()
    except SystemExit:
        return None


def _bench(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "QA_MODE": "extractive"}
    return subprocess.run(
        [sys.executable, "-m", "bench", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    if _data() is None:
        pytest.skip("the public benchmark data (../shared/data) is not here")
    out = tmp_path_factory.mktemp("perf") / "RESULTS.md"
    before = RESULTS.read_bytes() if RESULTS.exists() else None
    run = _bench("perf", "--quick", "--out", str(out))
    assert run.returncode == 0, run.stderr
    after = RESULTS.read_bytes() if RESULTS.exists() else None
    return json.loads(out.with_name("perf.json").read_text()), out, run, before == after


def test_every_pipeline_measured_on_the_quick_corpus(quick):
    report, _, _, _ = quick
    assert report["quick"] is True and report["complete"] is True
    assert report["command"].startswith("python -m bench perf --quick") and report["commit"] and report["date"]
    assert report["machine"]["cores"] > 0 and report["machine"]["versions"]["chromadb"]
    [entry] = report["sizes"]
    assert entry["size"] == perf.QUICK_SIZES[0] and entry["sentences"] == int(perf.QUICK_SIZES[0])
    assert set(entry["pipelines"]) == set(perf_report.PIPELINES)
    for name, p in entry["pipelines"].items():
        assert p["sentences"] == entry["sentences"], name
        assert (
            p["ingest_s"] > 0
            and p["ingest_cpu_s"] > 0
            and p["texts_embedded"] > 0
            and p["peak_rss_bytes"] > 0
            and p["disk_bytes"] > 0
        ), name
        assert p["stages"]["embed"] > 0 and all(v >= 0 for v in p["stages"].values()), name
        assert sum(p["stages"].values()) <= p["ingest_s"] * 1.01, name
        queries = ["search", "answer"] if name == "ours" else ["search"]
        for q in queries:
            assert p[q]["n"] == perf.QUICK_QUESTIONS and 0 < p[q]["p50_ms"] <= p[q]["p95_ms"], (name, q)
        assert 0.0 <= p["recall@10"] <= 1.0, name
        assert re.fullmatch(r"[0-9a-f]{10}", p["code"]), name  # the source each child ran
    ours = entry["pipelines"]["ours"]
    assert len(ours["cold_ask_s"]) == perf_report.COLD_RUNS and min(ours["cold_ask_s"]) > 0
    assert ours["open_s"] > 0 and ours["first_search_s"] > 0


def test_page_plot_and_json_written_where_quick_mode_writes(quick):
    report, out, run, results_untouched = quick
    page = out.read_text()
    assert page.index("## Ratios") < page.index("## Targets") < page.index("## Absolute numbers")
    assert "quick: a smoke test" in page and f"`{report['command']}`" in page and report["machine"]["cpu"] in page
    ratios = page.split("## Ratios", 1)[1].split("## Targets", 1)[0]
    [row] = [line for line in ratios.splitlines() if line.startswith(f"| {perf.QUICK_SIZES[0]} | ")]
    cells = [c.strip() for c in row.strip("|").split("|")]
    ratios = [float(x) for c in cells[2:4] for x in re.fullmatch(r"([\d.]+)x \(CPU ([\d.]+)x\)", c).groups()]
    assert all(r > 0 for r in ratios) and 0 <= float(cells[4]) <= 1
    marked = [t for t in report["targets"] if t["met"] is not None]
    assert len(marked) == 3 and page.count("**met**") + page.count("**missed**") == len(marked)
    assert out.with_name("perf.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert str(out) in run.stdout and "| corpus | sentences |" in run.stdout
    assert all(f"perf: {name} {perf.QUICK_SIZES[0]}: done" in run.stderr for name in perf_report.PIPELINES)
    assert results_untouched


def test_quick_mode_refuses_to_write_the_results_page():
    run = _bench("perf", "--quick", "--out", "bench/RESULTS.md", timeout=60)
    assert run.returncode == 2 and "not results" in run.stderr
    run = _bench("perf", "--sizes", "ten", timeout=60)
    assert run.returncode == 2 and "--sizes" in run.stderr


def test_corpora_are_exact_prefixes_of_one_sequence_of_distinct_sentences():
    data = _data()
    if data is None:
        pytest.skip("the public benchmark data (../shared/data) is not here")
    small, info = corpora.corpus(data, "300")
    big, big_info = corpora.corpus(data, "4000")

    def count(arts):
        return sum(len(sentences.spans(a.text)) for a in arts)

    assert count(small) == info["sentences"] == 300 and count(big) == big_info["sentences"] == 4000
    assert [a.doc_id for a in small[:-1]] == [a.doc_id for a in big[: len(small) - 1]]
    texts = [squash(a.text[s:e]) for a in big[len(corpora._base(data)) :] for s, e in sentences.spans(a.text)]
    assert len(texts) == len(set(texts))
    assert (
        sum(corpora._words(t) < corpora.MIN_WORDS for t in texts) <= len(texts) // 100
    )  # re-splitting a page can differ
    base, base_info = corpora.corpus(data, "base")
    _, truth = sets.multihop(data)
    facts = {clean.normalize(e["fact"]) for t in truth.values() for e in t["evidence_list"]}
    body = "\n".join(a.text for a in base)
    assert base_info["copied_sentences"] == 0 and sum(squash(f) in squash(body) for f in facts) >= 0.95 * len(facts)


def test_langchain_recall_rule():
    assert perf.contained_recall(["x", "The GOLD  fact. And more."], ["gold fact.", "absent"]) == 0.5
    assert perf.contained_recall(["gold"], ["gold fact."]) == 0.0  # a piece of the fact is not the fact
