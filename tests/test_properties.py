"""Properties (hypothesis) of the whole path, not only its pure parts (tests/test_sentences.py has those):
any text or bytes ingest or fail with InputError and nothing else; stored sentences slice back out of the
stored text; ids are stable and re-ingesting is a no-op; and any model output, however malformed, goes
through the citation parser and the chain without a crash and never cites outside its evidence.

The real embedding model and Chroma are shared across examples (module fixtures), so examples are few."""

import html
import json
import re

import pytest
from conftest import FIGHTERS_Q, key_of
from fake_openai import FakeOpenAI
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from qa import citations, ingest, sentences
from qa.config import Settings
from qa.errors import InputError, ModelError
from qa.library import Library
from qa.text import content_id

pytestmark = pytest.mark.e2e  # the real model, Chroma, page or browser

FEW = settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
MANY = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# invisible and direction characters, line and paragraph separators, controls, and sentence punctuation
ODD = (
    "\u200b\u200c\u200d\u2060\ufeff\u00ad\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
    "\u061c\u2028\u2029\x00\x07\x0b\x0c\x1b\x7f\r\n\t .!?…"
)
WORDS = ["The", "harbour", "reopened", "on", "Monday", "Mr.", "U.S.", "400", "تدمر", "ירושלים", "Ελλάδα", "中文", "🎉"]
texts = st.one_of(
    st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=300),  # any unicode, controls included
    st.lists(
        st.one_of(st.sampled_from(WORDS), st.sampled_from(list(ODD)), st.just(" "), st.just("\n\n")), max_size=120
    ).map("".join),
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


def _stored_sentences_slice_back(lib: Library, doc_id: str) -> None:
    stored = lib.article(doc_id)
    sents, _ = lib.store.doc_sentences([doc_id])
    assert sents, "a stored article has sentences"
    for n, s in enumerate(sents):
        assert stored[s.start : s.end] == s.text and s.text.strip() == s.text and s.text
        assert s.id == f"{doc_id}:{n}" and len(s.text) <= lib.settings.max_sentence_chars
    assert [(s.id, s.start, s.end) for s in sents] == [(x.id, x.start, x.end) for x in sentences.split(doc_id, stored)]


@pytest.fixture(scope="module")
def lib(tmp_path_factory):
    return Library(tmp_path_factory.mktemp("properties"))


@FEW
@given(text=texts)
@example(text="\u202eHarbour news\u202c\n\nThe har\u200bbour reopened on Monday.\u200f")
@example(text="\x00\x00\x00")
def test_any_text_ingests_or_fails_with_input_error(lib, text):
    """Cleaned, split, embedded, stored; then its stored sentences slice back out of its stored text, and
    ingesting it again (even with cosmetic changes: a BOM, CRLF, extra spaces) is a no-op."""
    try:
        article = ingest.from_text(text)
    except InputError as e:
        assert "\n" not in str(e)
        event("refused")
        return
    event("ingested")
    assert article.doc_id == ingest.from_text(text).doc_id
    report = lib.ingest([article])
    assert not report.failed and len(report.added) + len(report.skipped) == 1
    assert lib.article(article.doc_id) == article.text
    _stored_sentences_slice_back(lib, article.doc_id)
    generation, documents = lib.store.generation(), lib.documents()
    again = lib.ingest([ingest.from_text("\ufeff" + text.replace("\n", "\r\n").replace(" ", "  ") + "  ")])
    assert [d.doc_id for d in again.skipped] == [article.doc_id] and not again.added
    assert lib.store.generation() == generation and lib.documents() == documents


def page(title: str, paragraphs: list[str]) -> bytes:
    """An article page around arbitrary text (escaped as a page would have it)."""
    body = "".join(f"<p>{html.escape(p)} and the harbour reopened on Monday after the storm.</p>" for p in paragraphs)
    return (
        f"<html><head><title>{html.escape(title)}</title><script>var x = 1;</script></head>"
        f"<body><article><h1>{html.escape(title)}</h1>{body}</article></body></html>"
    ).encode()


def records(recs: list[tuple[object, str]], lines: bool) -> bytes:
    """JSON (or JSONL) records with arbitrary titles and texts."""
    objs = [{"title": t, "text": f"{x} The harbour reopened on Monday."} for t, x in recs]
    return ("\n".join(json.dumps(o) for o in objs) if lines else json.dumps(objs)).encode()


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("bytes")


SUFFIX = st.sampled_from([".txt", ".md", ".html", ".json", ".jsonl"])
files = st.one_of(  # (bytes, suffix): anything under any name, and pages and records under their own
    st.tuples(
        st.one_of(
            st.binary(max_size=2000),
            texts.map(lambda t: t.encode("utf-8")),
            texts.map(lambda t: t.encode("utf-16")),
            texts.map(lambda t: t.encode("latin-1", "replace")),
        ),
        SUFFIX,
    ),
    st.tuples(st.builds(page, st.text(max_size=60), st.lists(texts, min_size=1, max_size=4)), st.just(".html")),
    st.builds(
        lambda recs, lines: (records(recs, lines), ".jsonl" if lines else ".json"),
        st.lists(st.tuples(json_values, texts), min_size=1, max_size=3),
        st.booleans(),
    ),
)


@MANY
@given(file=files)
def test_any_bytes_in_any_reader_give_articles_or_input_error(folder, file):
    raw, suffix = file
    path = folder / f"input{suffix}"
    path.write_bytes(raw)
    try:
        articles = list(ingest.read(str(path), Settings()))
    except InputError as e:
        assert str(path) in str(e) and "\n" not in str(e)
        event(f"{suffix} refused")
        return
    event(f"{suffix} read")
    for a in articles:
        assert a.text.strip() and a.doc_id == content_id(a.text)
        assert not re.search("[\u200b\u200d\u202e\ufeff\x00]", a.text)
        for s in sentences.split(a.doc_id, a.text):
            assert a.text[s.start : s.end] == s.text


# -- model output ----------------------------------------------------------------------------------

# keys that were in the evidence (S1..S12; RIGHT: the 400-fighters sentence's), some that were not, malformed ones
RIGHT = "S_RIGHT"
keys = st.one_of(
    st.just(RIGHT),
    st.integers(1, 12).map(lambda n: f"S{n}"),
    st.integers(0, 99).map(lambda n: f"S{n}"),
    st.sampled_from(["s3", " S1 ", "S01", "1", "S", "[S2]", "S-1"]),
    st.text(max_size=5),
)
# claims a model might make: the article's own facts (some of which the right key supports), and inventions
CLAIMS = [
    "400 ISIS fighters died in the battle for Palmyra.",
    "Syrian government forces recaptured Palmyra on Sunday.",
    "UNESCO designated Palmyra a site of outstanding universal value.",
    "There was still gunfire in the east of the city.",
    "The moon is made of cheese.",
    "4000 fighters died.",
    "",
]


def as_text(claims: list[tuple[str, list[str]]]) -> str:
    """The plain-text form: "claim [S1][S9] claim [S3]"."""
    return " ".join(t + "".join(f"[{k}]" for k in ks) for t, ks in claims)


claim = st.fixed_dictionaries(
    {
        "text": st.one_of(st.sampled_from(CLAIMS), st.text(max_size=80), json_values),
        "keys": st.one_of(st.lists(keys, max_size=4), json_values),
    }
)
cited = st.lists(
    st.tuples(
        st.one_of(st.just(CLAIMS[0]), st.sampled_from(CLAIMS)),  # claims that use the right key
        st.lists(keys, max_size=2).map(lambda ks: [RIGHT, *ks]),
    ),
    min_size=1,
    max_size=3,
)
outputs = st.one_of(
    st.text(max_size=300),  # anything at all
    json_values.map(json.dumps),  # any JSON shape
    st.builds(lambda a, cs: json.dumps({"abstain": a, "claims": cs}), json_values, st.lists(claim, max_size=5)),
    st.lists(st.tuples(st.sampled_from(CLAIMS), st.lists(keys, max_size=3)), max_size=5).map(as_text),
    cited.map(lambda cs: json.dumps({"abstain": False, "claims": [{"text": t, "keys": ks} for t, ks in cs]})),
    cited.map(as_text),
    st.just(
        "```json\n" + json.dumps({"abstain": False, "claims": [{"text": "400 died", "keys": ["S1", "S99"]}]}) + "\n```"
    ),
)


@MANY
@given(output=outputs)
def test_citation_parser_never_raises_and_keys_are_well_formed(output):
    abstained, claims = citations.parse(output)
    assert isinstance(abstained, bool)
    for c in claims:
        assert isinstance(c.text, str) and c.text
        assert all(re.fullmatch(r"S[1-9]\d*|S0", k) for k in c.keys)


@pytest.fixture(scope="module")
def model():
    with FakeOpenAI() as server:
        yield server


@pytest.fixture(scope="module")
def llm(palmyra, model):
    settings_ = Settings(
        data_dir=palmyra.settings.data_dir,
        mode="llm",
        model="test-model",
        openai_base_url=model.url,
        llm_retries=0,
        llm_timeout=10,
    )
    lib = Library(settings=settings_)
    evidence = {h.sentence.id for h in lib.search(FIGHTERS_Q, settings_.evidence_sentences)}
    return lib, evidence


@FEW
@given(output=outputs)
@example(output=json.dumps({"abstain": False, "claims": [{"text": "400 ISIS fighters died.", "keys": ["S1", "S99"]}]}))
def test_any_model_output_cites_only_its_evidence(llm, model, output):
    """Through the real chain (evidence, the openai client, the parser, verification): the answer is an
    Answer, and every citation is a sentence that was in the evidence shown to the model, every cited
    claim's markers point at those citations, and an unsupported claim cites nothing."""
    lib, evidence = llm
    model.default = {"content": lambda body: output.replace(RIGHT, key_of(body, "400 ISIS fighters"))}
    try:
        ans = lib.ask(FIGHTERS_Q)
    except ModelError as e:  # the one documented failure: a one-line message
        assert "\n" not in str(e)
        event("ModelError")
        return
    event("abstained" if ans.abstained else f"{len(ans.citations)} citations")
    # the reader's own answer, marked, when it finds that none of the sentences the model quoted answers
    assert ans.mode == "llm" or (ans.mode == "extractive" and "the reader's answer" in ans.note)
    assert {c.sentence_id for c in ans.citations} <= evidence
    markers = {c.marker for c in ans.citations}
    for cl in ans.claims:
        assert set(cl.citations) <= markers
        assert cl.support in ("supported", "partial", "unsupported")
        assert cl.support != "unsupported" or cl.citations == []
        assert cl.citations or cl.support == "unsupported"
    for c in ans.citations:
        assert lib.article(c.doc_id)[c.start : c.end] == c.text
