"""The foundation under load: a real `chroma run` server shared by two app workers, a SIGKILL in the
middle of a large ingestion, and questions asked while an ingestion runs."""

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

import httpx
import pytest
from conftest import (
    FIGHTERS_Q,
    FIGHTERS_SENTENCE,
    REFERENCE,
    ROOT,
    UNESCO_Q,
    UNESCO_SENTENCE,
    free_port,
    run_qa,
)

from qa.config import Settings
from qa.ingest import from_text
from qa.library import Library

pytestmark = pytest.mark.e2e  # the real model, Chroma, page or browser


@contextlib.contextmanager
def chroma_run(path, port: int | None = None, stop: int = signal.SIGTERM):
    """`chroma run --path PATH --host 127.0.0.1 --port N` in a new process; yields its URL once it answers,
    and ends it with `stop` (SIGKILL: as a crash)."""
    exe = shutil.which("chroma", path=os.path.dirname(sys.executable)) or shutil.which("chroma")
    port = port or free_port()
    proc = subprocess.Popen(
        [exe, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{url}/api/v2/heartbeat", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            pytest.fail("chroma run did not start")
        yield url
    finally:
        proc.send_signal(stop)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    with chroma_run(tmp_path_factory.mktemp("chroma-server")) as url:
        yield url


@pytest.fixture
def own_chroma(tmp_path):
    """A Chroma server of the test's own, so what it counts is only what it wrote."""
    with chroma_run(tmp_path / "chroma-server") as url:
        yield url


def test_two_workers_share_one_chroma_server(chroma_server, tmp_path):
    # each worker has its own local folder (keyword cache) and sees the other's writes through the server
    a = Library(settings=Settings(data_dir=tmp_path / "worker-a", chroma_url=chroma_server))
    b = Library(settings=Settings(data_dir=tmp_path / "worker-b", chroma_url=chroma_server))
    report = a.ingest([REFERENCE])
    assert len(report.added) + len(report.skipped) == 1
    ans = b.ask(FIGHTERS_Q)
    assert "400" in ans.answer and ans.citations[0].text.startswith(FIGHTERS_SENTENCE)
    other = from_text("Zebras Escape Zoo\n\nThree zebras escaped from the city zoo on Tuesday morning.")
    b.ingest([other])
    assert (
        a.ask("How many zebras escaped from the zoo?").citations[0].doc_id == other.doc_id
    )  # a's keyword index follows
    a.remove(other.doc_id)
    assert all(h.sentence.doc_id != other.doc_id for h in b.search("zebras escaped zoo", k=10))
    assert not (tmp_path / "worker-a" / "chroma").exists()  # nothing embedded: the server holds the index


def _articles(folder, n: int) -> None:
    folder.mkdir()
    for i in range(n):
        (folder / f"a{i:04d}.txt").write_text(
            f"Report number {i} on the harbour\n\nThe harbour authority counted {i * 7 + 3} ships on day {i}. "
            f"Inspector {i} said the {i % 13} cranes were working. Weather on day {i} was calm."
        )


def _size(folder) -> int:
    total = 0
    for f in folder.rglob("*") if folder.exists() else []:
        try:
            total += f.stat().st_size
        except FileNotFoundError:  # SQLite's journal comes and goes
            pass
    return total


def _consistency(lib: Library) -> tuple[int, int]:
    """(documents present, sentences that belong to no present document). Every present document
    must have all its sentences and chunks."""
    docs = lib.store.documents_info()
    sentences = lib.store.sentences.get(include=["metadatas"])["metadatas"]
    chunks = {m["doc_id"] for m in lib.store.chunks.get(include=["metadatas"])["metadatas"]}
    for d in docs:
        assert sum(m["doc_id"] == d.doc_id for m in sentences) == d.sentences, d
        assert d.doc_id in chunks, d
    present = {d.doc_id for d in docs}
    return len(docs), sum(1 for m in sentences if m["doc_id"] not in present)


def _documents_written(db) -> int:
    """Document records in Chroma's SQLite file, read-only while another process writes (only a document record
    has a `chars` field); 0 before the file or its tables exist."""
    import sqlite3

    try:
        with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)) as c:
            return c.execute("SELECT COUNT(*) FROM embedding_metadata WHERE key = 'chars'").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_sigkill_mid_ingestion_loses_nothing_and_resumes(tmp_path):
    _articles(tmp_path / "in", 1000)
    env = {**os.environ, "QA_DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "qa.cli", "ingest", str(tmp_path / "in")]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    chroma = tmp_path / "data" / "chroma" / "chroma.sqlite3"
    deadline = time.time() + 180
    while time.time() < deadline and _documents_written(chroma) == 0:  # the first batch's records, then the kill
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    lib = Library(tmp_path / "data")
    present, orphans = _consistency(lib)
    assert 0 < present < 1000, present  # killed in the middle
    assert all(h.sentence.doc_id in lib.store.document_ids() for h in lib.search("ships counted harbour", k=20))
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("present") == present and out.stdout.count("added") == 1000 - present
    lib = Library(tmp_path / "data")
    assert _consistency(lib) == (1000, 0)
    print(
        f"\nSIGKILL mid-ingestion: {present} of 1000 articles whole, {orphans} sentences of unfinished ones "
        f"hidden; the re-run added {1000 - present}, skipped {present}; 1000 present, 0 lost"
    )


def test_eight_questions_and_an_ingestion_at_once(palmyra, tmp_path):
    lib = Library(tmp_path)
    lib.ingest([REFERENCE])
    extra = [from_text(f"Harbour Report {i}\n\nThe harbour counted {i + 10} ships on Monday.") for i in range(40)]
    answers, errors = [], []

    def ask():
        try:
            answers.append(lib.ask(FIGHTERS_Q))
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=lambda: lib.ingest(extra))] + [threading.Thread(target=ask) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads), "deadlock"
    assert errors == []
    assert len(answers) == 8 and all(
        "400" in a.answer and a.citations[0].text.startswith(FIGHTERS_SENTENCE) for a in answers
    )
    assert len(lib.documents()) == 41
    print(
        f"\nPython API concurrency: 8 questions + 1 ingestion of 40, {len(errors)} errors, "
        f"{41 - len(lib.documents())} articles lost"
    )


# -- scale-out end to end: `qa` processes and an app worker against one `chroma run` server ----------


def qa(*args, data_dir, chroma):
    """`qa ARGS` in a new process: a worker with its own local folder, the index on the Chroma server."""
    return run_qa(*args, QA_DATA_DIR=data_dir, QA_CHROMA_URL=chroma)


def asked(out) -> dict:
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


ZEBRAS = (
    "Zebras Escape Zoo\n\nThree zebras escaped from the city zoo on Tuesday morning and were found grazing in a park."
)


def test_cli_workers_share_one_chroma_server(own_chroma, tmp_path):
    """Ingest in one worker; ask, re-ingest, add and remove in others: each sees the others' writes."""
    a, b, c = (tmp_path / w for w in ("worker-a", "worker-b", "worker-c"))
    out = qa("ingest", REFERENCE, data_dir=a, chroma=own_chroma)
    assert out.returncode == 0 and out.stdout.startswith("added") and "12 sentences" in out.stdout, out.stderr
    doc_id = out.stdout.split()[1]
    fighters = asked(qa("ask", FIGHTERS_Q, "--json", data_dir=b, chroma=own_chroma))
    assert "400" in fighters["answer"] and fighters["citations"][0]["text"].startswith(FIGHTERS_SENTENCE)
    unesco = asked(qa("ask", UNESCO_Q, "--json", data_dir=c, chroma=own_chroma))
    assert UNESCO_SENTENCE in unesco["citations"][0]["text"]
    docs = asked(qa("docs", "--json", data_dir=c, chroma=own_chroma))
    again = qa("ingest", REFERENCE, data_dir=b, chroma=own_chroma)
    assert again.returncode == 0 and again.stdout.startswith(f"present  {doc_id}")
    assert asked(qa("docs", "--json", data_dir=a, chroma=own_chroma)) == docs  # a no-op
    zebras = tmp_path / "zebras.txt"
    zebras.write_text(ZEBRAS)
    assert qa("ingest", zebras, data_dir=c, chroma=own_chroma).stdout.startswith("added")
    hit = asked(qa("ask", "How many zebras escaped from the zoo?", "--json", data_dir=a, chroma=own_chroma))
    assert "Three zebras escaped" in hit["citations"][0]["text"]
    out = qa("rm", doc_id, data_dir=b, chroma=own_chroma)
    assert out.returncode == 0 and out.stdout.startswith(f"removed  {doc_id}")
    assert [d["title"] for d in asked(qa("docs", "--json", data_dir=a, chroma=own_chroma))] == ["Zebras Escape Zoo"]
    gone = asked(qa("ask", FIGHTERS_Q, "--json", data_dir=c, chroma=own_chroma))
    assert all(x["doc_id"] != doc_id for x in gone["citations"] + gone["candidates"])
    for w in (a, b, c):
        assert not (w / "chroma").exists()  # nothing embedded: the server holds the index


def test_a_running_app_worker_sees_what_other_workers_write(own_chroma, tmp_path):
    """An app worker that has already answered (its keyword index loaded) answers from an article another
    process added afterwards, and stops citing one another process removed."""
    from gradio_client import Client
    from test_app import app_server

    assert qa("ingest", REFERENCE, data_dir=tmp_path / "cli", chroma=own_chroma).returncode == 0
    with app_server(tmp_path / "app", tmp_path / "app.log", QA_CHROMA_URL=own_chroma) as url:
        client = Client(url, verbose=False)
        first = client.predict(FIGHTERS_Q, api_name="/ask")
        assert "400" in first["answer"] and first["citations"][0]["text"].startswith(FIGHTERS_SENTENCE)
        zebras = tmp_path / "zebras.txt"
        zebras.write_text(ZEBRAS)
        out = qa("ingest", zebras, data_dir=tmp_path / "cli", chroma=own_chroma)
        zebra_id = out.stdout.split()[1]
        hit = client.predict("Where were the zebras found grazing?", api_name="/ask")
        assert hit["citations"][0]["doc_id"] == zebra_id and "grazing in a park" in hit["citations"][0]["text"]
        assert qa("rm", zebra_id, data_dir=tmp_path / "cli", chroma=own_chroma).returncode == 0
        after = client.predict("Where were the zebras found grazing?", api_name="/ask")
        assert all(c["doc_id"] != zebra_id for c in after["citations"] + after["candidates"])
    assert not (tmp_path / "app" / "chroma").exists()


def test_chroma_server_killed_and_restarted_loses_nothing(tmp_path):
    """SIGKILL the Chroma server under a running worker: while it is down the CLI says so in one line (exit 1);
    once it is back on the same folder and port, the same worker answers again and every article is there."""
    port, folder = free_port(), tmp_path / "chroma-server"
    zebras = from_text(ZEBRAS)
    with chroma_run(folder, port, stop=signal.SIGKILL) as url:
        worker = Library(settings=Settings(data_dir=tmp_path / "worker", chroma_url=url))
        worker.ingest([REFERENCE, zebras])
        before = worker.documents()
        assert "400" in worker.ask(FIGHTERS_Q).answer
    down = qa("docs", data_dir=tmp_path / "cli", chroma=url)
    assert down.returncode == 1 and "Traceback" not in down.stderr and len(down.stderr.strip().splitlines()) == 1
    with pytest.raises(Exception):  # noqa: B017  the worker's own error while the server is away
        worker.ask(FIGHTERS_Q)
    with chroma_run(folder, port) as again:
        assert again == url
        ans = worker.ask(FIGHTERS_Q)
        assert "400" in ans.answer and ans.citations[0].text.startswith(FIGHTERS_SENTENCE)
        assert worker.documents() == before and len(before) == 2
        assert "Three zebras escaped" in worker.ask("How many zebras escaped from the zoo?").citations[0].text


def _nothing_listening() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def test_chroma_url_that_nothing_answers_is_one_line(tmp_path):
    url = _nothing_listening()
    for args in (["docs"], ["ingest", str(REFERENCE)]):
        out = qa(*args, data_dir=tmp_path, chroma=url)
        assert out.returncode == 1 and "Traceback" not in out.stderr and out.stdout == ""
        assert len(out.stderr.strip().splitlines()) == 1, out.stderr
    env = {**os.environ, "PYTHONPATH": str(ROOT), "QA_DATA_DIR": str(tmp_path), "QA_CHROMA_URL": url}
    app = subprocess.run(
        [sys.executable, str(ROOT / "app.py"), "--port", str(free_port())],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
        check=False,
    )
    assert app.returncode == 1 and "Traceback" not in app.stderr and len(app.stderr.strip().splitlines()) == 1, (
        app.stderr
    )


def test_chroma_url_that_nothing_answers_names_the_url_and_the_fix(tmp_path):
    url = _nothing_listening()
    out = qa("docs", data_dir=tmp_path, chroma=url)
    assert url in out.stderr and "QA_CHROMA_URL" in out.stderr and "chroma run" in out.stderr
