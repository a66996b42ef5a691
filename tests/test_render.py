"""The page's HTML (qa/web/render.py): escaped, highlighted at the stored offsets, labelled with the mode.
Pure functions: no gradio, no server."""

import re
import subprocess
import sys

from conftest import ROOT

from qa.web import render

HOSTILE = "<script>alert(1)</script> <img src=x onerror=alert(2)>"


def test_rendering_needs_no_gradio():
    code = "import sys, qa.web.render; assert 'gradio' not in sys.modules, 'gradio imported'"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def _answer(**kw) -> dict:
    c = {
        "marker": 1,
        "sentence_id": "d:0",
        "doc_id": "d",
        "title": HOSTILE,
        "text": HOSTILE,
        "start": 0,
        "end": 5,
        "url": "",
    }
    a = {
        "question": HOSTILE,
        "answer": HOSTILE,
        "abstained": False,
        "mode": "extractive",
        "model": "",
        "note": "",
        "citations": [c],
        "claims": [{"text": HOSTILE, "citations": [1], "support": "partial", "score": 0.5}],
        "candidates": [],
    }
    return {**a, **kw}


def test_every_text_is_escaped():
    from qa.config import Settings

    shown = render.transcript_html([_answer(), _answer(abstained=True, candidates=_answer()["citations"])], Settings())
    assert "<script" not in shown and "<img" not in shown
    assert "&lt;img src=x onerror=alert(2)&gt;" in shown
    assert 'class="badge partial"' in shown and "Nearest sentences" in shown


def test_highlight_slices_the_stored_text_then_escapes():
    from qa.web.render import highlight

    text = "First <b>one</b>. Second & last."
    start = text.index("Second")
    shown = highlight(text, [(0, start - 1)], focus=(start, len(text)))
    assert shown == (
        '<mark class="hl">First &lt;b&gt;one&lt;/b&gt;.</mark> '
        '<mark class="hl focus" id="qa-focus">Second &amp; last.</mark>'
    )
    assert highlight(text, [(5, 2), (0, 999)]) == "First &lt;b&gt;one&lt;/b&gt;. Second &amp; last."  # bad spans


def test_only_http_links_are_links():
    from qa.types import DocumentInfo
    from qa.web.render import article_html

    info = DocumentInfo("d", "T", "s", "javascript:alert(1)", "", 1, 4)
    assert "href" not in article_html(info, "text")
    assert 'href="https://example.com/a?b=1&amp;c=2"' in article_html(
        info.__class__(**{**info.to_dict(), "url": "https://example.com/a?b=1&c=2"}), "text"
    )


def test_mode_label():
    from qa.config import Settings
    from qa.web.render import mode_label

    assert mode_label(Settings(mode="extractive")) == "extractive"
    assert mode_label(Settings(mode="llm", model="test-model")) == "llm: test-model"
    assert mode_label(Settings(), {"mode": "llm", "model": "m2"}) == "llm: m2"
    assert mode_label(Settings(mode="llm"), {"mode": "extractive"}) == "extractive"


def test_the_badge_names_the_three_outcomes_with_the_probability():
    assert render.badge_html("supported", 0.934) == (
        '<span class="badge supported" title="the cited sentence answers the question">supported · p 0.93</span>'
    )
    assert ">may answer · p 0.41<" in render.badge_html("partial", 0.41)
    assert ">unsupported<" in render.badge_html("unsupported") and ">unsupported<" in render.badge_html("bogus")
    abstained = render.answer_html(
        _answer(abstained=True, answer="The articles do not say.", probability=0.12, candidates=_answer()["citations"]),
        "extractive",
    )
    assert 'The articles do not say. <span class="odds">(best candidate: p 0.12)</span>' in abstained


def test_the_pieces_of_a_sentence_cited_piece_by_piece_run_on_in_one_paragraph():
    pieces = ["Sam Altman leads OpenAI,", "was not removed by Anthropic,", "and is called brilliant.", "He is 38."]
    claims = [{"text": t, "citations": [1], "support": "partial", "score": 0.5} for t in pieces]
    html = render.answer_html(_answer(claims=claims), "llm")
    paragraphs = re.findall(r'<p class="sentence">(.*?)</p>', html)
    assert len(paragraphs) == 2 and paragraphs[0].count('class="claim"') == 3 and "He is 38." in paragraphs[1]
