"""The `qa` command in a new process, as a user runs it: exit codes, text, JSON, one-line errors."""

import json
import re

import pytest
from conftest import FIGHTERS_Q, FIGHTERS_SENTENCE, REFERENCE, UNESCO_Q, run_qa

pytestmark = pytest.mark.e2e  # the real model, Chroma, page or browser


def qa(*args, data_dir):
    return run_qa(*args, QA_DATA_DIR=data_dir, timeout=120)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    out = qa("ingest", REFERENCE, data_dir=d)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("added")
    return d


def test_ask_prints_a_cited_answer(data_dir):
    out = qa("ask", FIGHTERS_Q, data_dir=data_dir)
    assert out.returncode == 0, out.stderr
    first, _, rest = out.stdout.partition("\n")
    assert "400" in first and first.endswith("[1]")
    assert "[1] " + FIGHTERS_SENTENCE[:60] in rest
    assert re.search(r"\((supported|may answer), p \d\.\d\d\)", rest), rest  # the badge with its probability


def test_ask_json_is_the_answer_contract(data_dir):
    out = qa("ask", UNESCO_Q, "--json", data_dir=data_dir)
    d = json.loads(out.stdout)
    assert d["mode"] == "extractive" and d["abstained"] is False
    assert "outstanding universal value" in d["citations"][0]["text"]
    assert d["claims"][0]["citations"] == [1]


def test_reingest_says_present_and_docs_lists_one(data_dir):
    out = qa("ingest", REFERENCE, data_dir=data_dir)
    assert out.returncode == 0 and out.stdout.startswith("present")
    docs = json.loads(qa("docs", "--json", data_dir=data_dir).stdout)
    assert len(docs) == 1 and docs[0]["title"] == "Syrian forces retake ancient city of Palmyra from ISIS"


def test_summarize_json(data_dir):
    d = json.loads(qa("summarize", "--sentences", "2", "--json", data_dir=data_dir).stdout)
    assert len(d["sentences"]) == 2 and len(d["citations"]) == 2 and d["mode"] == "extractive"


@pytest.mark.parametrize(
    "args, code, message",
    [
        (["ask"], 2, "Missing argument"),
        (["ask", "x", "-k", "0"], 2, "-k"),
        (["rm", "0000000000000000"], 1, "qa docs"),
        (["ingest", "/no/such/file.txt"], 1, "no such file"),
    ],
)
def test_errors_are_one_line_with_the_right_exit_code(data_dir, args, code, message):
    out = qa(*args, data_dir=data_dir)
    assert out.returncode == code
    assert message in out.stderr and "Traceback" not in out.stderr


def test_empty_library_tells_the_user_to_ingest(tmp_path):
    out = qa("ask", "Anything?", data_dir=tmp_path)
    assert out.returncode == 1
    assert out.stderr.strip() == "Error: No articles indexed yet: run `qa ingest PATH` first."


def test_bad_file_fails_with_its_name(tmp_path):
    bad = tmp_path / "broken.jsonl"
    bad.write_text('{"title": "a", "text": "fine"}\n{oops\n')
    out = qa("ingest", bad, data_dir=tmp_path / "d")
    assert out.returncode == 1
    assert "broken.jsonl:2" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.parametrize(
    "question, answered",
    [
        ("How many Syrian soldiers died in the battle?", None),  # 400 died, but they were ISIS fighters
        ("What is Palmyra known as?", "Venice of the Sands"),  # "Known as ... , it was": "it" is Palmyra
    ],
)
def test_ask_abstains_or_answers_as_the_article_says(data_dir, question, answered):
    d = json.loads(qa("ask", question, "--json", data_dir=data_dir).stdout)
    if answered is None:
        assert d["abstained"] and d["candidates"] and d["probability"] is not None, d
    else:
        assert not d["abstained"] and answered in d["answer"], d
        assert answered in d["citations"][0]["text"] and d["claims"][0]["probability"] == d["probability"]
