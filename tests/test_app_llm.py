"""The web page with a chat model: `python app.py` configured through the environment (OPENAI_BASE_URL,
OPENAI_API_KEY, QA_MODEL) against the scripted OpenAI-compatible server of tests/fake_openai.py running in
this process. /ask returns the checked answer as `qa ask --json` prints it; the page streams the model's words
with chips as citations arrive, then shows the checked answer; the key appears nowhere."""

import json
import os
import subprocess
import sys
import time

import pytest
from conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    FIGHTERS_Q,
    FIGHTERS_SENTENCE,
    REFERENCE,
    ROOT,
    app_server,
    claims_json,
    get,
    key_of,
)
from fake_openai import FakeOpenAI

pytestmark = pytest.mark.e2e  # the real model, Chroma, page or browser

KEY = os.environ["OPENAI_API_KEY"]  # the suite's sweep key (conftest.py)
CLAIM = "400 ISIS fighters died in the battle for Palmyra."
HOSTILE = "<img src=x onerror=window.pwned=1>"
PAUSE = 0.25  # s between two streamed pieces: long enough for the page to show each one
WAIT = 60_000  # ms


class Quiet(FakeOpenAI):
    """The scripted server, silent when a client gave up before a late reply (a timeout test)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        shown = self.server.handle_error

        def handle_error(request, address):
            if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
                shown(request, address)

        self.server.handle_error = handle_error


class SlowStream(Quiet):
    """The scripted server, with a pause after each streamed piece, as a model writing."""

    def _handler(self):
        base = super()._handler()

        class Handler(base):
            def _event(self, obj):
                super()._event(obj)
                time.sleep(PAUSE)

        return Handler


def reply(body: dict) -> str:
    """The answer citing the 400-fighters sentence: claims JSON when asked whole, text with keys streamed; a
    follow-up (the chat's second question) rewritten as the first question."""
    if "rewrite a follow-up question" in body["messages"][0]["content"]:
        return FIGHTERS_Q
    key = key_of(body, "400 ISIS fighters")
    return f"{CLAIM} [{key}]" if body.get("stream") else claims_json((CLAIM, [key]))


@pytest.fixture(scope="module")
def model():
    with SlowStream() as s:
        s.default = {"content": reply, "stream_chunks": 6}
        yield s


@pytest.fixture(scope="module")
def server(model, tmp_path_factory):
    d = tmp_path_factory.mktemp("app-llm")
    env = {
        "OPENAI_BASE_URL": model.url,
        "OPENAI_API_KEY": KEY,
        "QA_MODEL": "test-model",
        "QA_MODE": "auto",
        "QA_LLM_TIMEOUT": "4",
        "QA_LLM_RETRIES": "0",
        # the page's model plumbing: labels as the verifier gives them (the reader's gate and its cap on
        # "supported" are tested in tests/test_llm.py)
        "QA_LLM_GATE": "false",
    }
    with app_server(d / "data", d / "server.log", **env) as url:
        yield url, d / "data", env


@pytest.fixture(scope="module")
def client(server):
    from gradio_client import Client, handle_file

    c = Client(server[0], verbose=False)
    report = c.predict([handle_file(str(REFERENCE))], "", "", "", api_name="/ingest")
    assert len(report["added"]) == 1
    return c


def test_api_ask_is_the_checked_llm_answer_qa_ask_json_prints(client, server, model):
    got = client.predict(FIGHTERS_Q, api_name="/ask")
    assert got["mode"] == "llm" and got["model"] == "test-model" and not got["abstained"]
    assert [c["support"] for c in got["claims"]] == ["supported"] and got["claims"][0]["citations"] == [1]
    assert [c["text"].startswith(FIGHTERS_SENTENCE) for c in got["citations"]] == [True]
    assert model.requests[-1]["body"].get("stream") is not True  # the API asks for the whole answer
    env = {**os.environ, "QA_DATA_DIR": str(server[1]), "PYTHONPATH": str(ROOT), **server[2]}
    out = subprocess.run(
        [sys.executable, "-m", "qa.cli", "ask", FIGHTERS_Q, "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert got == json.loads(out.stdout)


def test_api_model_timeout_is_its_message_without_the_key(client, model):
    model.reply("late", delay=6)
    with pytest.raises(Exception, match="did not answer within 4 s") as e:
        client.predict(FIGHTERS_Q, api_name="/ask")
    assert KEY not in str(e.value)


def test_api_model_server_error_is_its_message_without_the_key(client, model, server):
    model.fail(500, f"upstream failure for key {KEY}")  # a server that echoes the key back
    with pytest.raises(Exception, match=r"failed with HTTP 500 after 0 retries: try again later") as e:
        client.predict(FIGHTERS_Q, api_name="/ask")
    assert KEY not in str(e.value)
    got = client.predict(FIGHTERS_Q, api_name="/ask")  # the next question is answered as before
    assert "400" in got["answer"] and got["claims"][0]["support"] == "supported"
    log = (server[1].parent / "server.log").read_text()
    assert KEY not in log


def test_page_names_the_model_and_never_shows_the_key(server):
    for path in ("", "config", "gradio_api/info"):
        body = get(server[0] + path)
        assert KEY not in body and KEY[:12] not in body
    assert "mode: llm: test-model" in get(server[0] + "config")


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="no chromium (apt-get install -y chromium)")
def test_page_streams_the_answer_then_shows_it_checked(client, server):
    """In the browser: the answer area changes several times while the model writes (its words, then the
    chip of the 400-fighters sentence), then the checked answer replaces the draft."""
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 860})
        page.goto(server[0])
        expect(page.locator("#mode")).to_contain_text("mode: llm: test-model", timeout=WAIT)
        expect(page.locator("#transcript .placeholder")).to_be_visible(timeout=WAIT)  # before watching it
        page.evaluate("""() => {
            window.qaSeen = [];
            const t = document.querySelector("#transcript");
            new MutationObserver(() => {
                const d = t.querySelector(".turn.draft");
                window.qaSeen.push({draft: d ? d.innerText : null, chips: d ? d.querySelectorAll("button.chip").length : 0,
                                    badges: t.querySelectorAll(".badge").length});
            }).observe(t, {childList: true, subtree: true, characterData: true});
        }""")
        page.locator("#question textarea").fill(FIGHTERS_Q)
        page.locator("#ask").click()
        expect(page.locator("#transcript .badge")).to_have_text(["supported"], timeout=WAIT)
        seen = page.evaluate("window.qaSeen")
        html = page.content()
        expect(page.locator("#article-view mark.focus")).to_contain_text(FIGHTERS_SENTENCE)
        page.locator("#question textarea").fill("And how many fighters died, again?")  # a chat: the first turn stays
        page.locator("#ask").click()
        expect(page.locator("#transcript .badge")).to_have_text(["supported", "supported"], timeout=WAIT)
        expect(page.locator("#transcript .turn .question")).to_have_text(
            [FIGHTERS_Q, "And how many fighters died, again?"]
        )
        expect(page.locator("#transcript .asked-as")).to_have_text([f"asked as: {FIGHTERS_Q}"])  # the model's rewrite
        browser.close()

    drafts = [s for s in seen if s["draft"] is not None]
    assert all(s["badges"] == 0 for s in drafts)  # the draft never shows a verdict
    texts = list(dict.fromkeys(s["draft"] for s in drafts))
    assert len(texts) >= 4, texts  # the answer area changed again and again while the model wrote
    assert any(0 < len(t.split("writing…", 1)[-1].split("Cited so far")[0].strip(" ▍\n")) < len(CLAIM) for t in texts)
    assert not any("[S" in t for t in texts)  # keys become chips, never raw text
    chipped = [s for s in drafts if s["chips"]]
    assert chipped and FIGHTERS_SENTENCE in chipped[-1]["draft"]  # the citation while still streaming
    assert seen[-1]["draft"] is None  # the checked answer took the draft's place
    assert KEY not in html and "llm: test-model" in html
    assert 'class="claim"' in html and CLAIM in html


# -- the handler in process: escaped drafts, the final rendering, errors ----------------------------


@pytest.fixture
def llm_page(palmyra):
    from qa.config import Settings
    from qa.library import Library
    from qa.web.handlers import Page

    with Quiet() as s:
        settings = Settings(
            data_dir=palmyra.settings.data_dir,
            mode="llm",
            model="test-model",
            openai_base_url=s.url,
            openai_api_key=KEY,
            llm_retries=0,
            llm_timeout=2,
            llm_gate=False,
        )
        yield Page(Library(settings=settings)), s


def test_stream_handler_escapes_and_ends_as_ask_renders(llm_page, monkeypatch):
    from qa.web import handlers, render

    page, model = llm_page
    monkeypatch.setattr(handlers, "STREAM_EVERY", 0)  # every piece shown
    model.reply(lambda b: f"{CLAIM[:-1]} [{key_of(b, '400 ISIS fighters')}]. {HOSTILE}", stream_chunks=12)
    steps = list(page.ask_stream(FIGHTERS_Q, [], None))
    drafts = [s[0] for s in steps[:-1]]
    assert len(drafts) >= 5 and all('class="turn draft"' in d for d in drafts)
    assert all("<img" not in d for d in drafts) and any("&lt;img src=x" in d for d in drafts)
    assert any('class="chip" data-doc=' in d for d in drafts) and not any("[S" in d for d in drafts)
    transcript, history, view, question = steps[-1]
    assert question == "" and history[0]["mode"] == "llm" and "<img" not in transcript
    assert [c["support"] for c in history[0]["claims"]] == ["supported", "unsupported"]
    assert transcript == render.transcript_html(history, page.settings)  # the same rendering as `ask`
    assert "draft" not in transcript and "mark" in view


def test_stream_handler_error_drops_the_draft_and_shows_the_message(llm_page):
    from qa.web.handlers import gr

    page, model = llm_page
    model.reply("late", delay=3)
    earlier = [
        {
            "question": "q",
            "answer": "a",
            "abstained": True,
            "mode": "llm",
            "model": "test-model",
            "note": "",
            "citations": [],
            "claims": [],
            "candidates": [],
        }
    ]
    steps = page.ask_stream(FIGHTERS_Q, earlier, None)
    assert 'class="turn draft"' in next(steps)[0]  # the question shows at once
    transcript, history, *_ = next(steps)  # the failed draft is taken away, the error is a turn in its place
    assert 'class="turn draft"' not in transcript and 'class="turn error"' in transcript
    assert history[:1] == earlier and history[1]["question"] == FIGHTERS_Q
    assert "did not answer within 2 s" in history[1]["error"] and KEY not in transcript
    assert list(steps) == []
    assert list(page.ask_stream("  ", [], None)) == [(gr.update(),) * 4]  # a warning; nothing changes
