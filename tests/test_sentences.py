"""Sentence spans and chunks: pure functions, checked with properties (hypothesis) and concrete cases."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qa import chunking, sentences
from qa.text import count_tokens

PROPS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Text that exercises the splitter: words, sentence punctuation, abbreviations, newlines, odd whitespace,
# non-Latin scripts, combining marks, emoji, and long runs with no punctuation at all.
_pieces = st.sampled_from(
    [
        "Mr. ",
        "Dr. ",
        "U.S. ",
        "a.m. ",
        "Jan. 5. ",
        "e.g. ",
        "3.14 ",
        "...",
        "?! ",
        "! ",
        ". ",
        ".\n",
        "\n",
        "\n\n",
        "\r\n",
        " ",
        "  ",
        "\t",
        "\u00a0",
        "\u2028",
        "\u3000",
        "\u200b",
        "word ",
        "Sentence one. ",
        "Another sentence here! ",
        "Is it? ",
        '"Quoted." ',
        "(aside.) ",
        "Ελληνικά κείμενο. ",
        "中文句子。",
        "عربي نص. ",
        "नमस्ते दुनिया। ",
        "e\u0301 ",
        "🎉 ",
        "👩‍👩‍👧 ",
    ]
)
_runs = st.builds(lambda w, n: (w + " ") * n, st.sampled_from(["abc", "Lorem", "xyzzy", "ß"]), st.integers(10, 200))
_solid = st.builds(lambda c, n: c * n, st.sampled_from(["a", "é", "中", "-"]), st.integers(50, 1500))
texts = st.one_of(
    st.text(max_size=400),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=400),
    st.lists(st.one_of(_pieces, st.text(max_size=20), _runs, _solid), max_size=40).map("".join),
)
max_chars_st = st.one_of(st.just(600), st.integers(min_value=1, max_value=300))


def _check_spans(text: str, sents, doc: str, max_chars: int) -> None:
    prev_end = -1
    for n, s in enumerate(sents):
        assert text[s.start : s.end] == s.text
        assert s.text, "empty sentence"
        assert s.text == s.text.strip(), "sentence not trimmed"
        assert s.start >= prev_end and s.start < s.end, "spans overlap or go backwards"
        prev_end = s.end
        assert len(s.text) <= max_chars
        assert s.id == f"{doc}:{n}" and s.n == n and s.doc_id == doc


@PROPS
@given(text=texts, max_chars=max_chars_st)
def test_spans_slice_back_and_are_ordered(text, max_chars):
    doc = "abc123"
    sents = sentences.split(doc, text, max_chars=max_chars)
    _check_spans(text, sents, doc, max_chars)
    # deterministic: the same text always gives the same sentences (ids are fixed at ingestion)
    assert sentences.split(doc, text, max_chars=max_chars) == sents


@PROPS
@given(text=texts)
def test_non_space_text_is_covered(text):
    """Whatever is not whitespace lands in some sentence: the splitter loses no words."""
    sents = sentences.split("d", text, max_chars=80)
    covered = [False] * len(text)
    for s in sents:
        for i in range(s.start, s.end):
            covered[i] = True
    lost = [c for c, cov in zip(text, covered) if not cov and not c.isspace()]
    assert lost == []


@PROPS
@given(text=texts)
def test_ids_consecutive_from_zero(text):
    sents = sentences.split("doc", text)
    assert [s.id for s in sents] == [f"doc:{n}" for n in range(len(sents))]
    assert [s.n for s in sents] == list(range(len(sents)))


def test_empty_and_blank_text_has_no_sentences():
    assert sentences.split("d", "") == []
    assert sentences.split("d", " \n\n\t \n") == []


def test_abbreviations_do_not_split():
    text = "Mr. Smith went to Washington D.C. on Jan. 5. He left."
    sents = sentences.split("d", text)
    assert [s.text for s in sents] == ["Mr. Smith went to Washington D.C. on Jan. 5.", "He left."]
    assert [s.id for s in sents] == ["d:0", "d:1"]
    assert (sents[1].start, sents[1].end) == (text.index("He left."), len(text))


@pytest.mark.parametrize(
    "text, expected",
    [
        # boundaries nupunkt misses in real news: a lower-case word, a full stop, a capital
        (
            "Users flooded the site with outage reports. Tens of thousands of users could not log in.",
            ["Users flooded the site with outage reports.", "Tens of thousands of users could not log in."],
        ),
        (
            "The U.S. is burning less coal. That's been driving emissions down.",
            ["The U.S. is burning less coal.", "That's been driving emissions down."],
        ),
        (
            "Before the testimony could resume, Trump weighed in. \u201c\u201dThis is a very unfair trial.",
            ["Before the testimony could resume, Trump weighed in.", "\u201c\u201dThis is a very unfair trial."],
        ),
        (
            "Many were tested in the West Bank. Israel's army promoted the work.",
            ["Many were tested in the West Bank.", "Israel's army promoted the work."],
        ),
    ],
)
def test_missed_boundaries_are_split(text, expected):
    sents = sentences.split("d", text)
    assert [s.text for s in sents] == expected
    assert all(text[s.start : s.end] == s.text for s in sents)
    assert [s.id for s in sents] == [f"d:{n}" for n in range(len(expected))]


@pytest.mark.parametrize(
    "text",
    [
        "The parade starts at 9 a.m. ET on Thursday.",
        "President George H.W. Bush tapped him for the post.",
        "Fans of Brazil vs. Argentina filled the stadium.",
        "The theory of Smith et al. Was later disputed.",
        "The study (approx. Ten thousand people) ran for a year.",
        "Seddique Mateen met Rep. Ed Royce once, at a dinner in the U.S. Capitol.",
        "The company moved to Sacramento from Calif. Headquarters in 2019.",
    ],
)
def test_abbreviations_and_initials_before_capitals_stay_one_sentence(text):
    assert [s.text for s in sentences.split("d", text)] == [text]


def test_paragraphs_split_even_without_punctuation():
    text = "Syrian forces retake Palmyra\n\nThe army entered the city on Sunday. Fighting continued."
    assert [s.text for s in sentences.split("d", text)] == [
        "Syrian forces retake Palmyra",
        "The army entered the city on Sunday.",
        "Fighting continued.",
    ]


def test_chinese_and_japanese_sentences_end_at_their_full_stops():
    """Chinese and Japanese put no space after "。", "！" or "？", where nupunkt looks for one: a paragraph was one
    "sentence" (cut at 600 characters), so a citation pointed at a whole paragraph."""
    text = "梁振英在答问大会上道歉。他说:“我道歉。”议员们要求他辞职！他会辞职吗？\n首脳会談は6月12日に開かれた。The U.S. said so."
    assert [s.text for s in sentences.split("d", text)] == [
        "梁振英在答问大会上道歉。",
        "他说:“我道歉。”",
        "议员们要求他辞职！",
        "他会辞职吗？",
        "首脳会談は6月12日に開かれた。",
        "The U.S. said so.",
    ]


def test_long_run_is_cut_at_spaces():
    text = " ".join(f"word{i}" for i in range(400))  # ~3,000 characters, no punctuation
    sents = sentences.split("d", text, max_chars=100)
    assert len(sents) > 1
    assert all(len(s.text) <= 100 for s in sents)
    # cut between words, never inside one
    assert " ".join(s.text for s in sents) == text


def test_run_without_spaces_is_cut_hard():
    text = "x" * 1_000
    sents = sentences.split("d", text, max_chars=300)
    assert [len(s.text) for s in sents] == [300, 300, 300, 100]


# ---------------------------------------------------------------- chunking

ARTICLE = (
    "Syrian forces retake ancient city of Palmyra from ISIS\n\n"
    "BEIRUT — Syrian government forces recaptured Palmyra on Sunday, state media and a monitoring group said. "
    "Syrian television quoted a military source.\n\n"
    "The Syrian Observatory for Human Rights said there was still gunfire in the eastern part of the city. "
    "The bulk of the ISIS force had pulled out and retreated east.\n\n"
    "Palmyra is also home to some of the most extensive ruins of the Roman empire. " * 3
).strip()


def _check_chunks(text, sents, chunks, max_tokens):
    by_id = {s.id: s for s in sents}
    tokens = dict(zip((s.id for s in sents), count_tokens([s.text for s in sents])))
    seen: set[str] = set()
    for k, c in enumerate(chunks):
        assert c.text == text[c.start : c.end]
        assert c.id == f"{c.doc_id}#{k}"
        assert c.sentence_ids, "empty chunk"
        window = [by_id[i] for i in c.sentence_ids]
        # whole sentences, consecutive, and the chunk is exactly their extent
        ns = [s.n for s in window]
        assert ns == list(range(ns[0], ns[0] + len(ns)))
        assert (c.start, c.end) == (window[0].start, window[-1].end)
        for s in window:
            assert c.text[s.start - c.start : s.end - c.start] == s.text
        assert c.tokens == sum(tokens[i] for i in c.sentence_ids)
        if len(window) > 1:
            assert c.tokens <= max_tokens
        seen.update(c.sentence_ids)
    assert seen == set(by_id), "a sentence is in no chunk"
    # chunks move forward through the text
    assert [c.start for c in chunks] == sorted(c.start for c in chunks)


@pytest.mark.parametrize("max_tokens", [1, 5, 20, 50, 200, 10_000])
@pytest.mark.parametrize("overlap", [0, 1, 2])
def test_chunks_are_whole_sentence_windows(max_tokens, overlap):
    sents = sentences.split("doc", ARTICLE)
    before = list(sents)
    chunks = chunking.chunk(ARTICLE, sents, max_tokens=max_tokens, overlap=overlap)
    _check_chunks(ARTICLE, sents, chunks, max_tokens)
    # chunking never changes sentences or their ids
    assert sents == before == sentences.split("doc", ARTICLE)


def test_large_budget_gives_one_chunk():
    sents = sentences.split("doc", ARTICLE)
    (only,) = chunking.chunk(ARTICLE, sents, max_tokens=10_000)
    assert only.sentence_ids == tuple(s.id for s in sents)
    assert only.text == ARTICLE


def test_sentence_over_budget_is_its_own_chunk():
    text = "Short one. " + " ".join(["enormous"] * 80) + ". Short two."
    sents = sentences.split("doc", text)
    chunks = chunking.chunk(text, sents, max_tokens=20, overlap=0)
    big = [c for c in chunks if c.tokens > 20]
    assert len(big) == 1 and len(big[0].sentence_ids) == 1


def test_no_sentences_no_chunks():
    assert chunking.chunk("", [], max_tokens=50) == []


@PROPS
@given(text=texts, max_tokens=st.integers(1, 120), overlap=st.integers(0, 3))
def test_chunk_properties(text, max_tokens, overlap):
    sents = sentences.split("doc", text, max_chars=200)
    ids = [s.id for s in sents]
    chunks = chunking.chunk(text, sents, max_tokens=max_tokens, overlap=overlap)
    _check_chunks(text, sents, chunks, max_tokens)
    assert [s.id for s in sents] == ids
    assert [s.id for s in sentences.split("doc", text, max_chars=200)] == ids


def test_sentence_ids_are_independent_of_chunk_settings():
    sents = sentences.split("doc", ARTICLE)
    ids = {
        (m, o): [i for c in chunking.chunk(ARTICLE, sents, max_tokens=m, overlap=o) for i in c.sentence_ids]
        for m in (10, 40, 200)
        for o in (0, 1)
    }
    for flat in ids.values():
        assert all(re.fullmatch(r"doc:\d+", i) for i in flat)
        assert set(flat) == {s.id for s in sents}
