"""Follow-up questions: `Library.ask(q, history=...)` and `ask_stream` take the earlier turns into account.
Offline the last question's names and focus carry over (qa/followup.py); with a chat model the question is
rewritten standalone by the model (prompts/condense.txt, the scripted server here) and then asked as usual."""

import os

import pytest
from conftest import FIGHTERS_Q, FIGHTERS_SENTENCE, UNESCO_Q, FakeEmbedder, claims_json, key_of
from fake_openai import FakeOpenAI

from qa import followup
from qa.config import Settings
from qa.errors import InputError
from qa.library import Library
from qa.types import Answer

KEY = os.environ["OPENAI_API_KEY"]  # the suite's sweep key (conftest.py)
WHO = "Who said so?"  # alone it names nothing: the article's "said" sentences are many
REWRITE = "Who said that 400 ISIS fighters died in the battle for Palmyra?"


# -- offline: names and focus carry over ----------------------------------------------------------


def test_a_follow_up_is_answered_only_with_its_history(palmyra):
    first = palmyra.ask(FIGHTERS_Q)
    alone = palmyra.ask(WHO)
    after = palmyra.ask(WHO, history=[first.to_dict()])
    assert "Abdulrahman" not in alone.answer and alone.asked_as == ""
    assert "Abdulrahman" in after.answer and after.citations[0].text.startswith(FIGHTERS_SENTENCE)
    assert after.question == WHO and after.asked_as == f"{WHO} (ISIS fighters died battle Palmyra)"
    assert after.to_dict()["asked_as"] == after.asked_as
    streamed = [e for e in palmyra.ask_stream(WHO, history=[(FIGHTERS_Q, first.answer)]) if e["type"] == "answer"]
    assert streamed[0]["answer"].to_dict() == after.to_dict()


def test_a_question_with_its_own_subject_is_asked_as_it_is(palmyra):
    first = palmyra.ask(FIGHTERS_Q)
    ans = palmyra.ask(UNESCO_Q, history=[first])
    assert ans.asked_as == "" and "outstanding universal value" in ans.answer


def test_what_carries_over():
    last = [(FIGHTERS_Q, "400 ISIS fighters died")]
    assert followup.standalone("What about the monuments?", last) == "What about the monuments? (ISIS Palmyra)"
    assert followup.standalone("And in Iraq?", last) == "And in Iraq? (fighters died battle)"
    assert followup.standalone("Who won the Oscar for best film?", last) == "Who won the Oscar for best film?"
    assert followup.standalone(WHO, []) == WHO
    # a chain keeps its subject: a turn's question is what it was asked as
    chained = followup.turns([{"question": WHO, "asked_as": f"{WHO} (ISIS Palmyra)", "answer": "Rami Abdulrahman"}])
    assert followup.standalone("When?", chained) == "When? (ISIS Palmyra)"


def test_history_shapes(fake_palmyra):
    ans = Answer(FIGHTERS_Q, "400", False, "extractive")
    assert followup.turns([{"question": " How  many? ", "answer": "4"}, ans, ("Q?", "A."), {"question": ""}]) == [
        ("How many?", "4"),
        (FIGHTERS_Q, "400"),
        ("Q?", "A."),
    ]
    for bad in ([42], ["just a string"], [{"answer": "no question"}]):
        with pytest.raises(InputError, match='a history turn must be {"question": ..., "answer": ...}'):
            fake_palmyra.ask(WHO, history=bad)


# -- with a chat model: the question rewritten by the model ----------------------------------------


@pytest.fixture
def model():
    with FakeOpenAI() as s:
        yield s


@pytest.fixture
def lib(fake_palmyra, model):
    """One evidence sentence (and its neighbours): what the model sees depends on the question asked. The reader's
    gate is off: with fake vectors its probabilities mean nothing (tests/test_llm.py tests it for real)."""
    settings = Settings(
        data_dir=fake_palmyra.settings.data_dir,
        mode="llm",
        model="test-model",
        openai_base_url=model.url,
        openai_api_key=KEY,
        llm_retries=0,
        llm_timeout=5,
        evidence_sentences=1,
        llm_gate=False,
    )
    return Library(settings=settings, embedder=FakeEmbedder())


def answer(body: dict) -> str:
    return claims_json(("Rami Abdulrahman said 400 ISIS fighters died.", [key_of(body, "400 ISIS fighters")]))


def test_the_model_rewrites_a_follow_up_and_the_rewrite_is_asked(lib, model):
    model.reply(f'"{REWRITE}"')
    model.reply(answer)
    ans = lib.ask(WHO, history=[{"question": FIGHTERS_Q, "answer": "400 ISIS fighters died."}])
    condense, asked = (r["body"]["messages"] for r in model.requests)
    assert "rewrite a follow-up question" in condense[0]["content"]
    assert f"Q: {FIGHTERS_Q}\nA: 400 ISIS fighters died." in condense[-1]["content"]
    assert f"Follow-up: {WHO}" in condense[-1]["content"]
    assert f"Question: {REWRITE}" in asked[-1]["content"]
    assert ans.question == WHO and ans.asked_as == REWRITE and ans.mode == "llm"
    assert ans.citations[0].text.startswith(FIGHTERS_SENTENCE) and ans.claims[0].support != "unsupported"


def test_without_history_no_rewrite_and_the_sentence_is_not_found(lib, model):
    model.reply(lambda b: claims_json(("Nobody.", [])))
    lib.ask(WHO)
    assert len(model.requests) == 1 and FIGHTERS_SENTENCE not in model.requests[0]["body"]["messages"][-1]["content"]


def test_streaming_a_follow_up(lib, model):
    model.reply(REWRITE)
    model.reply(lambda b: f"Rami Abdulrahman said so [{key_of(b, '400 ISIS fighters')}].", stream_chunks=4)
    events = list(lib.ask_stream(WHO, history=[{"question": FIGHTERS_Q, "answer": "400"}]))
    final = events[-1]["answer"]
    assert any(e["type"] == "citation" for e in events)
    assert final.asked_as == REWRITE and final.question == WHO and final.citations[0].text.startswith(FIGHTERS_SENTENCE)


def test_a_failed_rewrite_falls_back_to_the_offline_one(lib, model):
    model.fail(500)
    fallback = Library(settings=lib.settings.model_copy(update={"llm_fallback": True}), embedder=FakeEmbedder())
    ans = fallback.ask(WHO, history=[{"question": FIGHTERS_Q, "answer": "400"}])
    assert ans.mode == "extractive" and "model failed" in ans.note
    assert ans.asked_as == f"{WHO} (ISIS fighters died battle Palmyra)"


def test_qa_ask_previous_shows_what_it_was_asked_as(tmp_path):
    from conftest import REFERENCE, run_qa

    assert run_qa("ingest", REFERENCE, QA_DATA_DIR=tmp_path).returncode == 0
    out = run_qa("ask", WHO, "--previous", FIGHTERS_Q, QA_DATA_DIR=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(f"(asked as: {WHO} (ISIS fighters died battle Palmyra))\n")
    assert "Abdulrahman" in out.stdout
