"""Make the `qa` package in /work/main importable when the tests run from a checkout; shared fixtures; and
the secrets sweep: the whole suite runs with a made-up OPENAI_API_KEY that must never show up anywhere.

The sweep key is set here, at import, before any test or subprocess starts, so every process inherits it:
pytest-xdist's controller imports this file first and starts its workers afterwards, so they agree on it.
A test may use another key of its own; the sweep looks for this one. It looks in each test's captured
stdout, stderr and log and in its failure report (the test fails, named, when the key is there), and at
the end of the session in every file the tests wrote under pytest's temporary directory.
"""

import contextlib
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import pytest  # noqa: E402  (after the path set-up above)

if not os.environ.get("OPENAI_API_KEY", "").startswith("sk-test-"):  # never a real key in the tests
    os.environ["OPENAI_API_KEY"] = "sk-test-" + secrets.token_hex(16)
SWEEP_KEY = os.environ["OPENAI_API_KEY"]
# With a key set, QA_MODE=auto would take the model path; tests that want a model say so themselves.
os.environ["QA_MODE"] = "extractive"
os.environ["QA_LLM_JUDGE"] = "false"  # scripted model servers answer the questions; judge tests turn it on
os.environ.pop("OPENAI_BASE_URL", None)
HIDDEN = "[the test API key]"

REFERENCE = ROOT / "examples" / "palmyra.txt"
FIGHTERS_Q = "How many ISIS fighters died in the battle for Palmyra?"
FIGHTERS_SENTENCE = "Observatory director Rami Abdulrahman said 400 ISIS fighters died in the battle for Palmyra,"
UNESCO_Q = "What status does UNESCO give Palmyra?"
UNESCO_SENTENCE = "outstanding universal value"


def pytest_addoption(parser):
    parser.addoption(
        "--screenshot",
        default=None,
        metavar="PNG",
        help="where tests/test_browser.py saves the page's picture (the README's: docs/screenshot.png)",
    )


def pytest_configure(config):
    config.addinivalue_line("markers", "e2e: end to end with the real parts (model, Chroma server, page, browser)")


class FakeEmbedder:
    """A deterministic Embedder for the logic tests: each stemmed word hashed to a signed dimension, rows of
    unit length. Texts that share words are close; no model is loaded, so a call takes microseconds."""

    name = "fake-hashed-words-384"
    dim = 384

    def embed(self, texts: list[str]):
        import hashlib

        import numpy as np

        from qa.text import tokenize

        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        out[:, -1] = 0.05  # no zero rows: a text without words still has a direction
        for row, words in enumerate(tokenize(texts)):
            for w in words:
                h = int.from_bytes(hashlib.blake2b(w.encode(), digest_size=8).digest(), "little")
                out[row, h % (self.dim - 1)] += 1.0 if h >> 63 else -1.0
        return out / np.linalg.norm(out, axis=1, keepdims=True)


@pytest.fixture(scope="session")
def fake_palmyra(tmp_path_factory):
    """The reference article in a library that embeds with FakeEmbedder (real Chroma in a temp dir)."""
    from qa.config import Settings
    from qa.library import Library

    lib = Library(tmp_path_factory.mktemp("fake-palmyra"), Settings(mode="extractive"), embedder=FakeEmbedder())
    assert len(lib.ingest([REFERENCE]).added) == 1
    return lib


@pytest.fixture(scope="session")
def palmyra(tmp_path_factory):
    """A library (real Chroma on disk, real embedding model) holding the reference article."""
    from qa.library import Library

    lib = Library(tmp_path_factory.mktemp("palmyra"))
    report = lib.ingest([REFERENCE])
    assert len(report.added) == 1, report
    return lib


# Debian's chromium for the page's browser tests, started as this machine's closed network needs
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def qa_env(**extra) -> dict:
    """The environment a `qa` child process of the tests runs in: this checkout first on the path, extractive
    unless told otherwise, no proxies (every server a test talks to is on loopback)."""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "NO_PROXY": "127.0.0.1,localhost",
        **{k: str(v) for k, v in extra.items()},
    }
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        env.pop(var, None)
    return env


def run_qa(*args, timeout: float = 180, **env) -> subprocess.CompletedProcess:
    """`qa ARGS` in a new process, as a user runs it (`env`: extra environment, e.g. QA_DATA_DIR=...)."""
    return subprocess.run(
        [sys.executable, "-m", "qa.cli", *map(str, args)],
        capture_output=True,
        text=True,
        env=qa_env(**env),
        timeout=timeout,
        check=False,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def app_server(data_dir, log_path, args=None, port=None, **env):
    """`python app.py` in a new process (default: `--port` a free loopback port); yields its URL once the page
    answers. `args` replace the default arguments; `port` is then where the page is expected."""
    port = port or free_port()
    env = qa_env(**{"QA_DATA_DIR": data_dir, "QA_MODE": "extractive", **env})
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, str(ROOT / "app.py"), *(args if args is not None else ["--port", str(port)])],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_for(url, proc, log_path)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()


def wait_for(url, proc, log_path, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"app.py exited {proc.returncode}:\n{open(log_path).read()}")
        with contextlib.suppress(OSError):
            if urllib.request.urlopen(url, timeout=2).status == 200:
                return
        time.sleep(0.3)
    raise AssertionError(f"app.py did not answer on {url} in {timeout} s:\n{open(log_path).read()}")


def get(url: str) -> str:
    return urllib.request.urlopen(url, timeout=10).read().decode()


def key_of(body: dict, fragment: str) -> str:
    """The evidence key a chat request's prompt gave to the sentence containing `fragment`."""
    user = body["messages"][-1]["content"]
    for m in re.finditer(r"^\[(S\d+)\] (.*)$", user, re.M):
        if fragment in m.group(2):
            return m.group(1)
    raise AssertionError(f"{fragment!r} not in the evidence")


def claims_json(*claims) -> str:
    """A structured model reply: (text, keys) per claim."""
    return json.dumps({"abstain": False, "claims": [{"text": t, "keys": k} for t, k in claims]})


@contextlib.contextmanager
def serve_http(handler):
    """A real HTTP server on 127.0.0.1 (a free port) running `handler` (a BaseHTTPRequestHandler class)
    in a thread; yields its base URL, e.g. http://127.0.0.1:40123."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    host, port = httpd.server_address[:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        httpd.shutdown()
        httpd.server_close()


# -- the secrets sweep ------------------------------------------------------------------------------


def _leaks(report) -> list[str]:
    """Where in a test report the sweep key appears: captured sections by name, or the failure text."""
    found = [name for name, text in report.sections if SWEEP_KEY in text]
    if report.longrepr is not None and SWEEP_KEY in report.longreprtext:
        found.append("the failure report")
    return found


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    found = _leaks(report)
    if found:  # fail the test, and say why without showing the key again
        before = report.longreprtext.replace(SWEEP_KEY, HIDDEN) if report.longrepr is not None else ""
        report.sections = [(name, text.replace(SWEEP_KEY, HIDDEN)) for name, text in report.sections]
        report.outcome = "failed"
        report.longrepr = (
            f"{before}\n\nSECRET LEAK: the test's OPENAI_API_KEY appeared in {', '.join(found)} "
            f"of {item.nodeid} ({call.when})."
        ).strip()
    return report


def files_with(root: Path, needle: bytes) -> list[Path]:
    """Files under root whose bytes contain needle. Chroma's HNSW segment files (`chroma/<segment>/*.bin`) are
    left out: hnswlib writes its buffers as allocated, so freed heap that once held the process environment can
    land in them (seen once in a clean-clone run: the key in a `length.bin`, never in any text qa writes)."""
    hits = []
    for path in sorted(root.rglob("*")):
        if path.suffix == ".bin" and path.parent.parent.name == "chroma":
            continue
        with contextlib.suppress(OSError):
            if path.is_file() and not path.is_symlink() and needle in path.read_bytes():
                hits.append(path)
    return hits


def pytest_sessionfinish(session, exitstatus):
    """Every file the tests wrote (logs, eval JSON and JUnit reports, pages, indexes) under pytest's
    temporary directory, all xdist workers' included: the key must be in none of them."""
    if hasattr(session.config, "workerinput"):  # an xdist worker: the controller scans the whole tree
        return
    factory = getattr(session.config, "_tmp_path_factory", None)
    if factory is None:
        return
    try:
        root = factory.getbasetemp()
    except OSError:
        return
    leaked = files_with(root, SWEEP_KEY.encode())
    if leaked:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        lines = [f"SECRET LEAK: the test's OPENAI_API_KEY is in {len(leaked)} file(s) the tests wrote:"]
        lines += [f"  {p.relative_to(root)}" for p in leaked]
        if reporter is not None:
            reporter.write_line("\n".join(lines), red=True, bold=True)
        else:
            print("\n".join(lines), file=sys.stderr)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
