"""Answers and summaries to take away: the Markdown that `qa ask/summarize --format markdown` prints and the
page's Copy button copies (pure functions of qa/printing.py), and the CLI's --format on the reference article."""

import json
import re

import pytest
from conftest import FIGHTERS_Q, FIGHTERS_SENTENCE, REFERENCE, run_qa

from qa import printing
from qa.types import ABSTAIN, Answer, Citation, Claim, DocumentInfo, Summary, SummarySentence

DOC = DocumentInfo(
    "d1", "Ferry *strike* ends", "harbour-news.html", "https://news.example/ferry", "2026-03-27T08:00:00", 12, 900
)
PDF = DocumentInfo("d2", "Council minutes", "minutes.pdf", "", "", 40, 5000, (0, 1200, 2600))
FERRY = Citation(1, "d1:3", "d1", DOC.title, "The strike ended after [three] days, the union said.", 120, 172, DOC.url)
MINUTES = Citation(2, "d2:17", "d2", PDF.title, "The council voted 7-2 for the new timetable.", 2700, 2745, page=3)


def test_an_answer_as_markdown_cites_each_claim_with_its_numbered_source():
    ans = Answer(
        "How long did the strike last?",
        "Three days.",
        False,
        "extractive",
        citations=[FERRY, MINUTES],
        claims=[
            Claim("It lasted three days.", [1], "supported"),
            Claim("The council agreed.", [2], "partial"),
            Claim("Fares fell.", [], "unsupported"),
        ],
        asked_as="How long did the ferry strike last?",
    )
    assert printing.answer_markdown(ans, {"d1": DOC, "d2": PDF}) == (
        "**Q: How long did the strike last?**\n"
        "*Asked as: How long did the ferry strike last?*\n"
        "\n"
        "It lasted three days. [1] The council agreed. [2] Fares fell. (unsupported: no citation)\n"
        "\n"
        "Sources:\n"
        "\n"
        "1. “The strike ended after \\[three\\] days, the union said.” — *Ferry \\*strike\\* ends*, harbour-news.html, "
        "2026-03-27, <https://news.example/ferry> (sentence `d1:3`)\n"
        "2. “The council voted 7-2 for the new timetable.” — *Council minutes*, minutes.pdf, p. 3 (sentence `d2:17`)\n"
    )


def test_an_abstention_as_markdown_lists_the_nearest_sentences():
    ans = Answer("Who won the cup?", ABSTAIN, True, "extractive", candidates=[FERRY])
    md = printing.answer_markdown(ans, {"d1": DOC})
    assert md.startswith(f"**Q: Who won the cup?**\n\n{ABSTAIN}\n\nNearest sentences (none answers the question):\n")
    assert "Sources" not in md and md.count("\n1. “The strike ended") == 1


def test_a_summary_as_markdown():
    s = Summary(
        ["d1", "d2"],
        "extractive",
        [SummarySentence("The strike ended.", [1]), SummarySentence("The council <b>voted</b>.", [2])],
        [FERRY, MINUTES],
    )
    md = printing.summary_markdown(s, {"d1": DOC, "d2": PDF})
    head, text, sources = md.split("\n\n", 2)
    assert head == "**Summary of Ferry \\*strike\\* ends; Council minutes**"
    assert text == "The strike ended. [1] The council \\<b\\>voted\\</b\\>. [2]"
    assert sources.splitlines()[0] == "Sources:" and [ln[:3] for ln in sources.splitlines()[2:]] == ["1. ", "2. "]


def test_only_http_links_become_links():
    bad = DocumentInfo("d1", "T", "s", "javascript:alert(1)", "", 1, 1)
    line = printing.sources_markdown([FERRY.__class__(**{**FERRY.__dict__, "url": ""})], {"d1": bad})[0]
    assert "javascript" not in line and "<" not in line


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    data = tmp_path_factory.mktemp("printing") / "data"
    assert run_qa("ingest", REFERENCE, QA_DATA_DIR=data).returncode == 0
    return data


def test_qa_ask_format_markdown_on_the_reference_article(library):
    out = run_qa("ask", FIGHTERS_Q, "--format", "markdown", QA_DATA_DIR=library)
    assert out.returncode == 0, out.stderr
    got = json.loads(run_qa("ask", FIGHTERS_Q, "--json", QA_DATA_DIR=library).stdout)
    first = got["citations"][0]
    lines = out.stdout.splitlines()
    assert lines[0] == f"**Q: {FIGHTERS_Q}**" and "400" in lines[2] and re.search(r"\[1\]$", lines[2])
    source = next(ln for ln in lines if ln.startswith("1. "))
    assert FIGHTERS_SENTENCE in source and f"(sentence `{first['sentence_id']}`)" in source
    assert f"*Syrian forces retake ancient city of Palmyra from ISIS*, {printing.md(str(REFERENCE))}" in source
    as_json = run_qa("ask", FIGHTERS_Q, "--format", "json", QA_DATA_DIR=library).stdout
    assert as_json == json.dumps(got, indent=2, ensure_ascii=False) + "\n"


def test_qa_summarize_format_markdown_and_a_wrong_format(library):
    out = run_qa("summarize", "-n", "2", "--format", "markdown", QA_DATA_DIR=library)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("**Summary of Syrian forces retake ancient city of Palmyra from ISIS**\n\n")
    assert [ln[:3] for ln in out.stdout.split("Sources:\n\n")[1].splitlines()] == ["1. ", "2. "]
    wrong = run_qa("summarize", "--format", "html", QA_DATA_DIR=library)
    assert wrong.returncode == 2 and all(w in wrong.stderr for w in ("'html' is not one of", "'markdown'", "'json'"))


def test_readme_markdown_example_is_what_the_code_prints(palmyra):
    """README's Markdown block, for the reference article ingested as `examples/palmyra.txt`."""
    from dataclasses import replace

    from conftest import ROOT

    shown = (ROOT / "README.md").read_text().split("### Markdown", 1)[1].split("```\n", 2)[1]
    ans = palmyra.ask(FIGHTERS_Q)
    docs = {c.doc_id: replace(palmyra.document(c.doc_id), source="examples/palmyra.txt") for c in ans.citations}
    assert printing.answer_markdown(ans, docs) == shown


def test_the_pieces_of_a_sentence_stay_on_its_line_in_the_terminal():
    claims = [Claim("It lasted three days,", [1], "supported"), Claim("and fares fell.", [], "unsupported")]
    ans = Answer(
        "How long?",
        "",
        False,
        "llm",
        citations=[FERRY],
        claims=[*claims, Claim("The council agreed.", [1], "supported")],
    )
    lines = printing.answer_text(ans).splitlines()
    assert lines[:2] == [
        "It lasted three days, [1] and fares fell. (unsupported: no citation)",
        "The council agreed. [1]",
    ]
