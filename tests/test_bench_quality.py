"""`python -m bench quality --quick`: a few questions of every benchmark, dev and test, each beside its baseline;
the report's shape and that every number is a rate. (The real numbers are in evals/RESULTS.md.)"""

import json
import os
import subprocess
import sys

import pytest
from conftest import ROOT

from bench import data as sets
from bench import quality, quality_report, scoring

pytestmark = pytest.mark.e2e  # the real model, Chroma, page or browser

SPLITS = ("dev", "test")
METRICS = {
    "rgb": ["accuracy"],
    "multihop": [
        "recall@5",
        "recall@10",
        "mrr@10",
        "accuracy",
        "accuracy_non_yes_no",
        "null_abstention",
        "false_abstention",
    ],
    "wice": ["precision", "recall", "f1", "label_accuracy"],
    "summedits": ["balanced_accuracy"],
}


def _data():
    try:
        return sets.find_data()
    except SystemExit:
        return None


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    if _data() is None:
        pytest.skip("the public benchmark data (../shared/data) is not here")
    out = tmp_path_factory.mktemp("bench")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "QA_MODE": "extractive"}
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "quality",
            "--quick",
            "--out",
            str(out / "RESULTS.md"),
            "--json",
            str(out / "report.json"),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    return json.loads((out / "report.json").read_text()), (out / "RESULTS.md").read_text(), run.stdout


def test_report_has_every_benchmark_and_split_beside_a_baseline(quick):
    report, _, _ = quick
    assert report["mode"] == "extractive" and report["quick"] is True
    assert report["command"].startswith("python -m bench quality --quick")
    assert report["commit"] and report["date"] and "cores" in report["machine"]
    for bench, metrics in METRICS.items():
        for split in SPLITS:
            res = report["results"][bench][split]
            assert res["n"] > 0
            for side in ("ours", "baseline"):
                assert set(metrics) <= set(res[side]), (bench, split, side)
                for m, v in res[side].items():
                    assert 0.0 <= v <= 1.0, (bench, split, side, m, v)


def test_targets_are_marked(quick):
    report, page, _ = quick
    assert len(report["targets"]) == len(quality.TARGETS)
    assert all(isinstance(t["met"], bool) for t in report["targets"])
    marks = page.count("**met**") + page.count("**missed**")
    assert marks >= len(quality.TARGETS)


def test_page_is_a_table_of_dev_and_test(quick):
    report, page, stdout = quick
    assert "| benchmark | metric | dev: ours | dev: baseline | test: ours | test: baseline |" in page
    rows = [line for line in page.splitlines() if line.startswith("| ") and not line.startswith("| benchmark")]
    assert len(rows) == len(quality_report.ROWS)
    for line in rows:
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert all(v == "n/a" or 0.0 <= float(v) <= 1.0 for v in cells[2:6]), line
    assert f"- mode: {report['mode']}" in page and f"`{report['command']}`" in page and report["commit"] in page
    assert "| benchmark |" in stdout


def test_scoring_rules():
    assert scoring.contains_gold("It was Paris, in France", [["Paris", "Lyon"], ["France"]])
    assert not scoring.contains_gold("It was Paris", [["Paris"], ["France"]])
    assert scoring.contains_gold("the WINNER", "winner") and scoring.contains_gold("b won", ["a", "b"])
    assert scoring.contains_gold("Chloe Zhao won", "Chloé Zhao") and scoring.contains_gold(
        "Chloé Zhao won", "Chloe Zhao"
    )
    assert not scoring.contains_gold("Chloe Zhang won", "Chloé Zhao")
    assert scoring.prf([1, 2], [[5], [2, 3]]) == (0.5, 0.5, 0.5)
    scores, labels = [0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1]
    t = scoring.fit_threshold(scores, labels)
    assert 0.2 < t <= 0.8 and scoring.balanced_accuracy(scores, labels, t) == 1.0
    assert scoring.reciprocal_rank(["x", "Gold fact."], ["gold  fact."]) == 0.5
    assert scoring.fit_abstention([0.2, 0.3, 0.6, 0.7], [True, True, False, False]) == pytest.approx(0.6)


def test_a_withheld_question_sees_no_sentence_of_its_paragraph_and_is_dropped_if_another_answers():
    from bench import squad
    from qa.types import Hit, Sentence

    paragraph = "The bridge opened in 1932. It carried trams until  1958."
    others = ["The city grew fast after the war.", "A second bridge was planned in the 1960s."]

    class Corpus:  # the library's search, over a fixed ranking: the paragraph's sentences first
        def __init__(self, texts):
            self.texts = texts

        def search(self, question, k):
            return [Hit(Sentence(f"d:{n}", "d", n, t, 0, len(t)), 1.0, 1.0, 0.0) for n, t in enumerate(self.texts)][:k]

    q = {"question": "When did the bridge open?", "answers": ["1932"], "context": paragraph}
    hits = squad.withheld_hits(q, Corpus(["The bridge opened in 1932.", "It carried trams until 1958.", *others]))
    assert [h.sentence.text for h in hits] == others
    assert squad.withheld_hits(q, Corpus(["The bridge opened in 1932.", "Since 1932 it has stood.", *others])) is None


def test_the_squad_rows_count_the_withheld_questions(quick):
    report, _, _ = quick
    for split in SPLITS:
        res = report["results"]["squad"][split]
        assert res["withheld"] > 0 and 0.0 <= res["ours"]["withheld_abstained"] <= 1.0
        assert res["baseline"]["withheld_abstained"] == 0.0
