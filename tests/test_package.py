"""The wheel `pip install .` builds holds the library only: no benchmark code, the page's static files and the
data the library reads."""

import subprocess
import sys
import zipfile

import pytest
from conftest import ROOT

pytestmark = pytest.mark.e2e  # builds a real wheel with pip


def test_the_wheel_holds_the_library_and_no_benchmarks(tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    [wheel] = tmp_path.glob("qa-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert not [n for n in names if n.startswith(("bench/", "tests/")) or "benchmark" in n or "/perf" in n], names
    for wanted in (
        "qa/library.py",
        "qa/web/render.py",
        "qa/web/static/page.css",
        "qa/web/static/chips.js",
        "qa/data/reader.json",
        "qa/data/minilm-tokenizer.json",
        "qa/prompt_templates/answer.txt",
        "qa/examples/palmyra.txt",
    ):
        assert wanted in names, wanted
