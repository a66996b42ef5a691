"""`python -m bench news`: the hand-written questions on the real news pages of tests/pages. The set itself must be
sound (every expected answer is in a page as qa stores it, every page is listed), and the command's page must
report the answers it got. (The real numbers are in evals/RESULTS-news.md.)"""

import gzip
import os
import re
import subprocess
import sys

import pytest
from conftest import ROOT

from bench import news
from qa import ingest, suite

PAGES = ROOT / "tests" / "pages"


def _stored_text() -> str:
    return "\n".join(
        ingest.from_html(gzip.decompress(p.read_bytes()), source=p.name).text for p in sorted(PAGES.glob("*.gz"))
    ).casefold()


def test_every_expected_answer_is_in_a_page_and_every_page_is_in_the_set():
    s = suite.load(news.SUITE)
    assert sorted(a.name for a in s.articles) == sorted(p.name for p in PAGES.glob("*.html.gz"))
    text = _stored_text()
    missing = [
        (c.id, item)
        for c in s.cases
        for item in c.expect.get("contains", [])
        if not any(str(alt).casefold() in text for alt in (item if isinstance(item, list) else [item]))
    ]
    assert missing == []
    assert all(("contains" in c.expect) != bool(c.expect.get("abstain")) for c in s.cases)  # one or the other
    assert sum(bool(c.expect.get("abstain")) for c in s.cases) >= 5  # the set asks what the pages do not say


def test_unpacked_gives_the_page_and_leaves_other_articles(tmp_path):
    page = PAGES / "yna_co_kr.html.gz"
    out = news.unpacked(page, tmp_path)
    assert out.name == "yna_co_kr.html" and out.read_bytes() == gzip.decompress(page.read_bytes())
    assert news.unpacked(ROOT / "examples" / "palmyra.txt", tmp_path) == ROOT / "examples" / "palmyra.txt"


@pytest.mark.e2e
def test_quick_run_reports_the_answers_it_got(tmp_path):
    out = tmp_path / "RESULTS-news.md"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "QA_MODE": "extractive"}
    run = subprocess.run(
        [sys.executable, "-m", "bench", "news", "--quick", "--out", str(out)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    page = out.read_text()
    rows = [line for line in page.splitlines() if re.match(r"\| [a-z0-9-]+ \|", line)][1:]  # the header first
    assert [r.split(" | ")[0].strip("| ") for r in rows] == [c.id for c in suite.load(news.SUITE).cases[:3]]
    passed = sum(r.rstrip(" |").endswith("yes") for r in rows)
    assert f"questions: 3; passed {passed}" in page
    assert f"{passed} of 3 passed" in run.stdout
    assert "mode: extractive" in page
    # a quick run is not a result: it may not overwrite the real page
    refused = subprocess.run(
        [sys.executable, "-m", "bench", "news", "--quick", "--out", str(ROOT / "evals" / "RESULTS-news.md")],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )
    assert refused.returncode != 0 and "not results" in refused.stderr
