"""The API key never leaves the environment. The suite runs with a made-up OPENAI_API_KEY (tests/conftest.py
sets it and sweeps every test's output and every file the tests wrote for it); here the paths most likely to
leak it are driven on purpose, against a scripted model server that echoes the key back in its errors as
some servers do: a rejected key, a timeout, a server error, `qa ask` (text and --json), `qa eval` reports in
model mode, the page and its /ask errors, and the openai, httpx and langchain loggers at DEBUG."""

import json
import logging
import os
import re
import shutil
import subprocess
import sys

import httpx
import pytest
from conftest import FIGHTERS_Q, REFERENCE, ROOT, SWEEP_KEY, app_server, claims_json, files_with, get, key_of, run_qa
from fake_openai import FakeOpenAI

from qa.config import Settings
from qa.errors import ModelError
from qa.library import Library

pytestmark = pytest.mark.e2e  # the real model, Chroma, page or browser

KEY = os.environ["OPENAI_API_KEY"]
assert KEY == SWEEP_KEY and KEY.startswith("sk-test-")
ECHO_401 = {"status": 401, "message": f"Incorrect API key provided: {KEY}. You can find your API key at ..."}
ECHO_500 = {"status": 500, "message": f"internal error while handling request with key {KEY}"}
LATE = {"content": "late", "delay": 3}


def answer(body: dict) -> str:
    """A correct model reply: the 400-fighters sentence, cited by its key (or the first key there is)."""
    user = body["messages"][-1]["content"]
    key = (
        key_of(body, "400 ISIS fighters")
        if "400 ISIS fighters" in user
        else re.search(r"^\[(S\d+)\]", user, re.MULTILINE).group(1)
    )
    return claims_json(("400 ISIS fighters died in the battle for Palmyra.", [key]))


def without_key(*texts: str) -> None:
    for t in texts:
        assert KEY not in t and KEY[len("sk-test-") :] not in t


@pytest.fixture(scope="module")
def model():
    with FakeOpenAI() as server:
        yield server


@pytest.fixture
def scripted(model):
    """The module's model server with a clean slate: no queued replies, no requests, no default."""
    model.replies.clear()
    model.requests.clear()
    model.default = None
    return model


def qa(*args, model, data_dir, **env):
    return run_qa(
        *args,
        timeout=300,
        QA_DATA_DIR=data_dir,
        QA_MODE="llm",
        OPENAI_BASE_URL=model.url,
        QA_MODEL="test-model",
        QA_LLM_RETRIES="0",
        QA_LLM_TIMEOUT="1",
        **env,
    )


@pytest.mark.parametrize(
    "fault, says",
    [
        (ECHO_401, "rejected the API key (HTTP 401): check OPENAI_API_KEY"),
        (ECHO_500, "failed with HTTP 500"),
        (LATE, "did not answer within 1 s"),
    ],
    ids=["401", "500", "timeout"],
)
def test_qa_ask_errors_never_show_the_key(palmyra, scripted, fault, says):
    """`qa ask --json`: exit 1 and the one-line error; with QA_LLM_FALLBACK, `qa ask`: the extractive answer and
    the model's error as its note. The key in neither."""
    scripted.default = fault
    out = qa("ask", FIGHTERS_Q, "--json", model=scripted, data_dir=palmyra.settings.data_dir)
    assert out.returncode == 1 and out.stdout == ""
    assert out.stderr.strip().splitlines() == [out.stderr.strip()] and says in out.stderr
    without_key(out.stdout, out.stderr)
    fallback = qa("ask", FIGHTERS_Q, model=scripted, data_dir=palmyra.settings.data_dir, QA_LLM_FALLBACK="true")
    assert fallback.returncode == 0 and "400" in fallback.stdout, fallback.stderr
    assert says in fallback.stderr and "extractive answer" in fallback.stderr
    without_key(fallback.stdout, fallback.stderr)


def test_the_key_travels_only_in_the_authorization_header(palmyra, scripted):
    scripted.default = {"content": answer}
    out = qa("ask", FIGHTERS_Q, "--json", model=scripted, data_dir=palmyra.settings.data_dir)
    assert out.returncode == 0 and "400" in json.loads(out.stdout)["answer"], out.stderr
    without_key(out.stdout, out.stderr)
    assert scripted.requests
    for r in scripted.requests:
        headers = {k.lower(): v for k, v in r["headers"].items()}
        assert headers["authorization"] == f"Bearer {KEY}"
        without_key(json.dumps(r["body"]), r["path"], *(v for k, v in headers.items() if k != "authorization"))


def test_debug_logging_shows_no_key(palmyra, scripted, caplog):
    """openai, httpx, httpcore and langchain at DEBUG, through a good answer, a rejected key (echoed) and a
    server error (echoed); the loggers did write (so the test could fail), never the key."""
    caplog.set_level(logging.DEBUG)
    lib = Library(
        settings=Settings(
            data_dir=palmyra.settings.data_dir,
            mode="llm",
            model="test-model",
            openai_base_url=scripted.url,
            llm_retries=1,
            llm_timeout=2,
        )
    )
    scripted.reply(answer)
    assert "400" in lib.ask(FIGHTERS_Q).answer
    for fault in (ECHO_401, ECHO_500, ECHO_500):
        scripted.replies.append(fault)
    for _ in range(2):
        with pytest.raises(ModelError) as e:
            lib.ask(FIGHTERS_Q)
        without_key(str(e.value))
    names = {r.name.split(".")[0].rstrip("0123456789") for r in caplog.records}  # openai's vendored httpx2, httpcore2
    assert {"openai", "httpx", "httpcore"} <= names, names
    without_key(caplog.text, *(str(r.args) for r in caplog.records))


def test_openai_log_debug_in_the_cli_shows_no_key(palmyra, scripted):
    scripted.replies += [{"content": answer}, ECHO_401]
    for status in (0, 1):
        out = qa("ask", FIGHTERS_Q, model=scripted, data_dir=palmyra.settings.data_dir, OPENAI_LOG="debug")
        assert out.returncode == status, out.stderr
        assert "HTTP Response: POST" in out.stderr  # the SDK's debug log was on
        without_key(out.stdout, out.stderr)


def test_eval_reports_in_model_mode_hold_no_key(scripted, tmp_path):
    scripted.default = {"content": answer}
    junit, report, cache = tmp_path / "eval.xml", tmp_path / "eval.json", tmp_path / "cache"
    out = qa(
        "eval",
        ROOT / "evals" / "palmyra.yaml",
        "--junit",
        junit,
        "--json",
        report,
        "--cache-dir",
        cache,
        "--min-pass",
        "0",
        model=scripted,
        data_dir=tmp_path / "data",
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(report.read_text())["cases"] and "<testsuite" in junit.read_text()
    assert list(cache.glob("*.json")), "the reply cache was written"
    without_key(out.stdout, out.stderr, junit.read_text(), report.read_text())
    assert files_with(tmp_path, KEY.encode()) == []
    scripted.default = ECHO_401
    shutil.rmtree(cache)
    out = qa(
        "eval",
        ROOT / "evals" / "palmyra.yaml",
        "--json",
        tmp_path / "failed.json",
        "--cache-dir",
        cache,
        model=scripted,
        data_dir=tmp_path / "data",
    )
    assert out.returncode == 1 and "rejected the API key" in out.stderr
    without_key(out.stdout, out.stderr)
    assert files_with(tmp_path, KEY.encode()) == []


@pytest.fixture(scope="module")
def page(model, tmp_path_factory):
    d = tmp_path_factory.mktemp("secrets-app")
    env = {
        "OPENAI_BASE_URL": model.url,
        "QA_MODEL": "test-model",
        "QA_MODE": "llm",
        "QA_LLM_RETRIES": "0",
        "QA_LLM_TIMEOUT": "2",
    }
    model.default = {"content": answer}
    with app_server(d / "data", d / "server.log", **env) as url:
        from gradio_client import Client, handle_file

        client = Client(url, verbose=False)
        assert len(client.predict([handle_file(str(REFERENCE))], "", "", "", api_name="/ingest")["added"]) == 1
        yield url, client, d / "server.log"


@pytest.mark.parametrize("fault", [ECHO_401, ECHO_500, LATE], ids=["401", "500", "timeout"])
def test_page_and_its_api_errors_never_show_the_key(page, scripted, fault):
    from gradio_client.exceptions import AppError

    url, client, log = page
    scripted.default = fault
    for path in ("", "config", "gradio_api/info"):
        without_key(get(url + path))
    with pytest.raises(AppError) as e:  # the page's one-line message
        client.predict(FIGHTERS_Q, api_name="/ask")
    without_key(str(e.value), repr(e.value))
    event = httpx.post(url + "gradio_api/call/ask", json={"data": [FIGHTERS_Q, 5, None]}, timeout=30).json()["event_id"]
    raw = httpx.get(f"{url}gradio_api/call/ask/{event}", timeout=60).text  # the error as it goes over the wire
    assert "event: error" in raw
    without_key(raw, log.read_text())
    scripted.default = {"content": answer}
    assert "400" in client.predict(FIGHTERS_Q, api_name="/ask")["answer"]


# -- the sweep itself can fail -----------------------------------------------------------------------

LEAKY = """
import os

def test_prints_the_key():
    print("debug:", os.environ["OPENAI_API_KEY"])

def test_writes_the_key(tmp_path):
    (tmp_path / "report.json").write_text('{"key": "%s"}' % os.environ["OPENAI_API_KEY"])

def test_keeps_it_to_itself():
    assert os.environ["OPENAI_API_KEY"]
"""


def inner_pytest(folder, *args):
    """pytest in a new process on `folder`/tests with a copy of this suite's conftest.py; (exit code, output)."""
    (folder / "tests").mkdir(exist_ok=True)
    shutil.copy(ROOT / "tests" / "conftest.py", folder / "tests" / "conftest.py")
    (folder / "tests" / "test_leaky.py").write_text(LEAKY)
    basetemp = folder / "inner-basetemp"
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            f"--basetemp={basetemp}",
            "tests/test_leaky.py",
            *args,
        ],
        cwd=folder,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=300,
        check=False,
    )
    shutil.rmtree(basetemp, ignore_errors=True)  # it holds the key on purpose: the outer sweep must not find it
    return out.returncode, out.stdout + out.stderr


def test_the_sweep_fails_a_test_that_prints_the_key(tmp_path):
    """The printing test fails, named, and its captured output is shown without the key."""
    code, shown = inner_pytest(tmp_path, "-k", "prints or keeps")
    assert code == 1, shown
    assert (
        "SECRET LEAK: the test's OPENAI_API_KEY appeared in Captured stdout call of "
        "tests/test_leaky.py::test_prints_the_key (call)"
    ) in shown
    assert "debug: [the test API key]" in shown and "1 failed, 1 passed" in shown
    without_key(shown)


def test_the_sweep_fails_a_session_that_wrote_the_key_to_a_file(tmp_path):
    """Both tests pass; the file one of them wrote still fails the session, and is named."""
    code, shown = inner_pytest(tmp_path, "-k", "writes or keeps")
    assert code == 1 and "2 passed" in shown, shown
    assert "SECRET LEAK: the test's OPENAI_API_KEY is in 1 file(s) the tests wrote:" in shown
    assert re.search(r"test_writes_the_key0/report\.json", shown)
    without_key(shown)
    assert inner_pytest(tmp_path, "-k", "keeps")[0] == 0  # and a clean session passes
