"""The eval suites: every suite in evals/ passes (a regression on a known fact fails CI); the runner's
exit codes, JUnit XML, malformed suites named by file and line, and determinism."""

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
from conftest import REFERENCE, ROOT

from qa import evals, suite
from qa.config import Settings

pytestmark = pytest.mark.e2e  # the real model, Chroma, page or browser

SUITES = sorted((ROOT / "evals").glob("*.yaml"))


def qa_eval(*args, cwd=ROOT):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for k in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "QA_MODE"):
        env.pop(k, None)
    return subprocess.run(
        [sys.executable, "-m", "qa.cli", "eval", *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize("path", SUITES, ids=[p.stem for p in SUITES])
def test_every_suite_passes(path, tmp_path):
    s = suite.load(path)
    with evals.prepared([s], Settings(mode="extractive")) as runs:
        results, outputs = evals.run(runs[0])
    failed = [f"{r.case}: {r.why}" for r in results if not r.passed]
    assert not failed, failed
    m = evals.metrics([s], results, outputs)
    assert m["citation_precision"] == 1.0 and m["false_abstention"] == 0.0


def test_cli_passes_writes_junit_and_is_deterministic(tmp_path):
    a = qa_eval("evals/", "--junit", tmp_path / "j.xml", "--json", tmp_path / "a.json")
    b = qa_eval("evals/", "--json", tmp_path / "b.json")
    assert a.returncode == 0 and b.returncode == 0, a.stdout + a.stderr
    root = ET.parse(tmp_path / "j.xml").getroot()
    assert root.tag == "testsuites" and int(root.get("tests")) >= 10 and root.get("failures") == "0"
    strip = lambda d: [{k: v for k, v in c.items() if k != "latency_s"} for c in d["cases"]]  # noqa: E731
    assert strip(json.loads((tmp_path / "a.json").read_text())) == strip(json.loads((tmp_path / "b.json").read_text()))


def test_a_wrong_fact_exits_1_and_names_the_case(tmp_path):
    (tmp_path / "wrong.yaml").write_text(f"""
articles: [{REFERENCE}]
cases:
  - id: wrong-death-toll
    question: How many ISIS fighters died in the battle for Palmyra?
    expect: {{number: 500}}
  - id: right-fact
    question: What status does UNESCO give Palmyra?
    expect: {{contains: [outstanding universal value]}}
""")
    out = qa_eval(tmp_path / "wrong.yaml", "--junit", tmp_path / "j.xml")
    assert out.returncode == 1
    assert "FAIL  wrong/wrong-death-toll" in out.stdout and "PASS  wrong/right-fact" in out.stdout
    failure = ET.parse(tmp_path / "j.xml").getroot().find(".//testcase[@name='wrong-death-toll']/failure")
    assert failure is not None and "500" in failure.get("message")
    assert qa_eval(tmp_path / "wrong.yaml", "--min-pass", "0.5").returncode == 0


@pytest.mark.parametrize(
    "body, where, message",
    [
        ("articles: []\ncases:\n  - question: x\n    expect: {contain: [a]}\n", ":4:", "unknown key 'contain'"),
        ("articles: []\ncases:\n  - question: x\n    colour: red\n", ":4:", "unknown key 'colour'"),
        ("articles: []\ncases: [\n", ":", "not valid YAML"),
        ("articles: []\ncases: []\n", ":2:", "non-empty list"),
        ("articles: [missing.txt]\ncases:\n  - question: x\n", ":1:", "does not exist"),
        ("articles: []\ncases:\n  - question: x\n    summarize: {sentences: 2}\n", ":3:", "exactly one of"),
    ],
)
def test_malformed_suites_exit_2_with_file_and_line(tmp_path, body, where, message):
    path = tmp_path / "bad.yaml"
    path.write_text(body)
    with pytest.raises(suite.SuiteError, match=message) as e:
        suite.load(path)
    assert str(path) + where in str(e.value)
    out = qa_eval(path)
    assert out.returncode == 2 and message in out.stderr and "Traceback" not in out.stderr
