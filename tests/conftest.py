"""Make the `qa` package in /work/main importable when the tests run from a checkout; shared fixtures; and
the secrets sweep: the whole suite runs with a made-up OPENAI_API_KEY that must never show up anywhere.

The sweep key is set here, at import, before any test or subprocess starts, so every process inherits it:
pytest-xdist's controller imports this file first and starts its workers afterwards, so they agree on it.
A test may use another key of its own; the sweep looks for this one. It looks in each test's captured
stdout, stderr and log and in its failure report (the test fails, named, when the key is there), and at
the end of the session in every file the tests wrote under pytest's temporary directory.
"""

import contextlib
import os
import secrets
import sys
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import pytest

if not os.environ.get("OPENAI_API_KEY", "").startswith("sk-test-"):  # never a real key in the tests
    os.environ["OPENAI_API_KEY"] = "sk-test-" + secrets.token_hex(16)
SWEEP_KEY = os.environ["OPENAI_API_KEY"]
# With a key set, QA_MODE=auto would take the model path; tests that want a model say so themselves.
os.environ["QA_MODE"] = "extractive"
os.environ.pop("OPENAI_BASE_URL", None)
HIDDEN = "[the test API key]"

REFERENCE = ROOT / "examples" / "palmyra.txt"
FIGHTERS_Q = "How many ISIS fighters died in the battle for Palmyra?"
FIGHTERS_SENTENCE = "Observatory director Rami Abdulrahman said 400 ISIS fighters died in the battle for Palmyra,"
UNESCO_Q = "What status does UNESCO give Palmyra?"
UNESCO_SENTENCE = "outstanding universal value"


@pytest.fixture(scope="session")
def palmyra(tmp_path_factory):
    """A library (real Chroma on disk, real embedding model) holding the reference article."""
    from qa.library import Library

    lib = Library(tmp_path_factory.mktemp("palmyra"))
    report = lib.ingest([REFERENCE])
    assert len(report.added) == 1, report
    return lib


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
        report.longrepr = (f"{before}\n\nSECRET LEAK: the test's OPENAI_API_KEY appeared in {', '.join(found)} "
                           f"of {item.nodeid} ({call.when}).").strip()
    return report


def files_with(root: Path, needle: bytes) -> list[Path]:
    """Files under root whose bytes contain needle."""
    hits = []
    for path in sorted(root.rglob("*")):
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
