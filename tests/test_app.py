"""The web page's server as scripts use it (gradio_client against `python app.py` on a free port), and
the page's HTML: escaped, highlighted at the stored offsets, labelled with the mode."""

import json
import os
import re
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, HTTPServer

import httpx
import pytest
from conftest import FIGHTERS_Q, FIGHTERS_SENTENCE, REFERENCE, ROOT, UNESCO_Q, app_server, get

pytestmark = pytest.mark.e2e  # the real model, Chroma, page or browser

SECRET = os.environ["OPENAI_API_KEY"]  # the suite's sweep key (conftest.py)
HOSTILE = "<script>alert(1)</script> <img src=x onerror=alert(2)>"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A server whose environment holds a key (extractive mode all the same): the page must never show it."""
    d = tmp_path_factory.mktemp("app")
    with app_server(d / "data", d / "server.log", OPENAI_API_KEY=SECRET, QA_MAX_FILE_BYTES="100000") as url:
        yield url, d / "data"


@pytest.fixture(scope="module")
def client(server):
    from gradio_client import Client, handle_file

    c = Client(server[0], verbose=False)
    report = c.predict([handle_file(str(REFERENCE))], "", "", "", api_name="/ingest")
    assert [d["title"] for d in report["added"]] == ["Syrian forces retake ancient city of Palmyra from ISIS"]
    assert report["added"][0]["source"] == "palmyra.txt"  # the upload's name, not a temporary path
    return c


def test_named_endpoints(client):
    assert {"/ask", "/summarize", "/ingest"} <= set(
        client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    )


def test_ask_returns_what_qa_ask_json_prints(client, server):
    got = client.predict(FIGHTERS_Q, api_name="/ask")
    assert "400" in got["answer"] and got["citations"][0]["text"].startswith(FIGHTERS_SENTENCE)
    env = {**os.environ, "QA_DATA_DIR": str(server[1]), "QA_MODE": "extractive", "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-m", "qa.cli", "ask", FIGHTERS_Q, "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert got == json.loads(out.stdout)


def test_ask_with_history_answers_a_follow_up(client):
    first = client.predict(FIGHTERS_Q, api_name="/ask")
    alone = client.predict("Who said so?", api_name="/ask")  # today's calls, without a history, still work
    after = client.predict("Who said so?", 5, None, [first], api_name="/ask")
    assert "Abdulrahman" not in alone["answer"] and alone["asked_as"] == ""
    assert "Abdulrahman" in after["answer"] and after["question"] == "Who said so?"
    assert after["asked_as"] == "Who said so? (ISIS fighters died battle Palmyra)"
    with pytest.raises(Exception, match="a history turn must be"):
        client.predict("Who said so?", 5, None, [7], api_name="/ask")


def test_summarize_json(client):
    got = client.predict(None, 2, api_name="/summarize")
    assert set(got) >= {"doc_ids", "mode", "sentences", "citations"} and got["mode"] == "extractive"
    assert len(got["sentences"]) == 2 and all(s["citations"] for s in got["sentences"])
    assert {c["doc_id"] for c in got["citations"]} <= set(got["doc_ids"])


def test_two_asks_at_once_both_answer(client, server):
    from gradio_client import Client

    second = Client(server[0], verbose=False)
    with ThreadPoolExecutor(2) as pool:
        fighters = pool.submit(client.predict, FIGHTERS_Q, api_name="/ask")
        unesco = pool.submit(second.predict, UNESCO_Q, api_name="/ask")
        fighters, unesco = fighters.result(timeout=120), unesco.result(timeout=120)
    assert "400" in fighters["answer"]
    assert "outstanding universal value" in unesco["citations"][0]["text"]


ROUNDS, ASKS, RECORDS = 2, 8, 20


def test_eight_asks_and_an_ingestion_at_once_through_the_api(client, server, tmp_path):
    """Each round: 8 /ask calls and one /ingest of a 20-article JSONL upload, all sent at once by separate
    clients. Every answer is right, the ingestion adds all 20, nothing that was stored goes missing, and the
    whole thing finishes (no deadlock). The numbers are printed: runs, failures, articles lost."""
    from gradio_client import Client, handle_file

    def docs() -> set[str]:
        env = {**os.environ, "QA_DATA_DIR": str(server[1]), "PYTHONPATH": str(ROOT)}
        out = subprocess.run(
            [sys.executable, "-m", "qa.cli", "docs", "--json"],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )
        assert out.returncode == 0, out.stderr
        return {d["doc_id"] for d in json.loads(out.stdout)}

    before, failures, t0 = docs(), [], time.monotonic()
    clients = [Client(server[0], verbose=False) for _ in range(ASKS + 1)]
    for r in range(ROUNDS):
        batch = tmp_path / f"round{r}.jsonl"
        batch.write_text(
            "\n".join(
                json.dumps(
                    {
                        "title": f"Ferry report {r}-{i}",
                        "text": f"The ferry carried {100 * r + i + 7} "
                        f"passengers to the island on day {i} of round {r}, the harbour master said.",
                    }
                )
                for i in range(RECORDS)
            )
        )
        with ThreadPoolExecutor(ASKS + 1) as pool:
            ingestion = pool.submit(clients[0].predict, [handle_file(str(batch))], "", "", "", api_name="/ingest")
            asks = [pool.submit(c.predict, FIGHTERS_Q, api_name="/ask") for c in clients[1:]]
            for f in [ingestion, *asks]:
                try:
                    f.result(timeout=300)  # a deadlock shows up here
                except Exception as e:  # noqa: BLE001  counted, then reported by the asserts below
                    failures.append(repr(e))
        report = ingestion.result() if ingestion.exception() is None else {"added": [], "failed": [failures[-1]]}
        assert len(report["added"]) == RECORDS and not report["failed"], report
        for a in (f.result() for f in asks if f.exception() is None):
            if not ("400" in a["answer"] and a["citations"][0]["text"].startswith(FIGHTERS_SENTENCE)):
                failures.append(f"wrong answer: {a['answer']!r}")
    after = docs()
    lost = before - after
    print(
        f"\npage API concurrency: {ROUNDS} rounds x ({ASKS} /ask + 1 /ingest of {RECORDS}), "
        f"{ROUNDS * (ASKS + 1)} calls, {len(failures)} failures, {len(lost)} articles lost, "
        f"{len(after) - len(before)} added, {time.monotonic() - t0:.1f} s"
    )
    assert failures == [] and lost == set() and len(after) == len(before) + ROUNDS * RECORDS


def test_errors_come_back_as_their_one_line_message(client):
    with pytest.raises(Exception, match="question is empty"):
        client.predict("   ", api_name="/ask")
    with pytest.raises(Exception, match="no document"):
        client.predict(["0000000000000000"], 3, api_name="/summarize")
    with pytest.raises(Exception, match="k must be between 1 and 50"):
        client.predict(FIGHTERS_Q, 10_000, api_name="/ask")


def test_upload_type_and_size_are_limited(client, server, tmp_path):
    from gradio_client import handle_file

    exe = tmp_path / "tool.exe"
    exe.write_bytes(b"MZ" + bytes(100))
    report = client.predict([handle_file(str(exe))], "", "", "", api_name="/ingest")
    assert not report["added"] and "tool.exe: unsupported file type" in report["failed"][0]["error"]
    big = ("A long sentence about nothing at all. " * 5000).encode()  # 190 kB, over the server's 100 kB
    refused = httpx.post(server[0] + "gradio_api/upload", files={"files": ("big.txt", big)}, timeout=30)
    assert refused.status_code == 413  # the server refuses it, whatever the client does


def test_ingest_reads_no_server_path(client, tmp_path):
    local = tmp_path / "secret.txt"
    local.write_text("The launch code of the office coffee machine is written on the fridge door.")
    report = client.predict([], str(local), "", "", api_name="/ingest")
    assert not report["added"] and report["failed"][0]["error"].endswith("not an http(s) URL")


def test_ingest_pasted_text(client):
    report = client.predict(
        [],
        "",
        "The harbour reopened on Monday after a week of storms kept ferries away.",
        "Harbour reopens",
        api_name="/ingest",
    )
    assert report["added"][0]["title"] == "Harbour reopens" and report["added"][0]["source"] == "pasted"


def test_the_page_never_shows_the_key(server):
    url = server[0]
    for path in ("", "config", "gradio_api/info"):
        body = get(url + path)
        assert SECRET not in body and SECRET[:12] not in body
    assert "mode: extractive" in get(url + "config")


def test_server_listens_on_loopback_only(server):
    port = int(server[0].rstrip("/").rsplit(":", 1)[1])
    listening = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for row in open(table).read().splitlines()[1:]:
            local, state = row.split()[1], row.split()[3]
            if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:  # 0A: LISTEN
                listening.append(local.rsplit(":", 1)[0])
    assert listening == ["0100007F"]  # 127.0.0.1, and nothing on IPv6 or any other address


# -- the HTML, without a server ---------------------------------------------------------------------


def test_library_handlers(tmp_path):
    """The empty library's one-click example, uploads with progress, pasted text, delete (in process)."""
    from qa.config import Settings
    from qa.library import Library
    from qa.web.handlers import Page, gr

    page = Page(Library(tmp_path / "data", Settings(mode="extractive")))
    assert page.library_view()[-1]["visible"] is True
    transcript, history, view, box = page.ask("Who won?", [], None)  # the error is a turn of the chat
    assert history == [
        {"question": "Who won?", "error": "No articles yet: add the example article, or upload one under Library."}
    ]
    assert 'class="turn error"' in transcript and "add the example article" in transcript and view == box == gr.update()
    status, rows, *_, offer = page.add_example()
    assert "Added: Syrian forces retake ancient city of Palmyra from ISIS (12 sentences)" in status
    assert rows[0][:4] == ["Syrian forces retake ancient city of Palmyra from ISIS", "palmyra.txt", "", 12]
    assert offer["visible"] is False

    note = tmp_path / "note.md"
    note.write_text("# Ferry news\n\nThe ferry to the island runs again from Monday, the port authority said.\n")
    steps = []
    status, rows, *_ = page.add_files(
        [str(REFERENCE), str(note)], progress=lambda p, desc=None: steps.append((p, desc))
    )
    assert "Added: Ferry news" in status and "Already in the library: Syrian forces" in status
    assert ((1, 2), "reading palmyra.txt") in steps and ((2, 2), "reading note.md") in steps
    assert any(desc == "indexed" for _, desc in steps)

    status, rows, *_ = page.add_text(
        "<b>Bold</b> claims were made on Friday by the mayor of the town.", "Pasted <i>", progress=lambda *a, **k: None
    )
    assert "Added: Pasted &lt;i&gt;" in status and len(rows) == 3
    status, rows, *_ = page.remove(rows[0][4])
    assert status.startswith("Deleted:") and len(rows) == 2


@pytest.mark.parametrize(
    "host, setting, fetches",
    [
        ("127.0.0.1", "auto", True),
        ("localhost", "auto", True),
        ("0.0.0.0", "auto", False),
        ("10.0.0.7", "auto", False),
        ("0.0.0.0", "on", True),
        ("127.0.0.1", "off", False),
    ],
)
def test_a_page_open_to_a_network_fetches_no_urls(tmp_path, host, setting, fetches):
    """QA_PAGE_URLS: a page bound beyond loopback would fetch the server's own network for whoever asks,
    so by default it refuses URLs (one line, the setting named) and fetches nothing."""
    from qa.config import Settings
    from qa.library import Library
    from qa.web.handlers import Page, gr
    from qa.web.server import fetches_urls

    assert fetches_urls(host, setting) is fetches
    if fetches:
        return
    hits = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"Internal\n\nA secret sentence from the intranet.")

        def log_message(self, *args):
            pass

    httpd = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_port}/internal"
    try:
        page = Page(Library(tmp_path / "data", Settings(mode="extractive")), fetch_urls=False)
        status, *rest = page.add_urls(url)  # the message in the status line, the other outputs unchanged
        assert re.search("does not fetch URLs.*QA_PAGE_URLS=on", status) and 'class="qa-error"' in status
        assert rest == [gr.update()] * 5
        with pytest.raises(gr.Error, match="does not fetch URLs"):
            page.api_ingest(None, url, "", "")
        assert hits == [] and page.lib.documents() == []
    finally:
        httpd.shutdown()


def test_ask_endpoint_abstains_on_soldiers_and_finds_venice(client):
    soldiers = client.predict("How many Syrian soldiers died in the battle?", api_name="/ask")
    assert soldiers["abstained"] and soldiers["candidates"] and soldiers["probability"] is not None
    known = client.predict("What is Palmyra known as?", api_name="/ask")
    assert not known["abstained"] and "Venice of the Sands" in known["answer"]
    assert known["claims"][0]["support"] in ("supported", "partial") and known["claims"][0]["probability"] is not None
