"""The foundation under load: a real `chroma run` server shared by two app workers, a SIGKILL in the
middle of a large ingestion, and questions asked while an ingestion runs."""

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
from conftest import FIGHTERS_Q, FIGHTERS_SENTENCE, REFERENCE, ROOT

from qa.config import Settings
from qa.ingest import from_text
from qa.library import Library


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    exe = shutil.which("chroma", path=os.path.dirname(sys.executable)) or shutil.which("chroma")
    port = free_port()
    proc = subprocess.Popen([exe, "run", "--path", str(tmp_path_factory.mktemp("chroma-server")), "--host", "127.0.0.1",
                             "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            if httpx.get(f"{url}/api/v2/heartbeat", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail("chroma run did not start")
    yield url
    proc.terminate()
    proc.wait(10)


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
    assert a.ask("How many zebras escaped from the zoo?").citations[0].doc_id == other.doc_id  # a's keyword index follows
    a.remove(other.doc_id)
    assert all(h.sentence.doc_id != other.doc_id for h in b.search("zebras escaped zoo", k=10))
    assert not (tmp_path / "worker-a" / "chroma").exists()  # nothing embedded: the server holds the index


def _articles(folder, n: int) -> None:
    folder.mkdir()
    for i in range(n):
        (folder / f"a{i:04d}.txt").write_text(
            f"Report number {i} on the harbour\n\nThe harbour authority counted {i * 7 + 3} ships on day {i}. "
            f"Inspector {i} said the {i % 13} cranes were working. Weather on day {i} was calm.")


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


def test_sigkill_mid_ingestion_loses_nothing_and_resumes(tmp_path):
    _articles(tmp_path / "in", 1000)
    env = {**os.environ, "QA_DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "qa.cli", "ingest", str(tmp_path / "in")]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    chroma = tmp_path / "data" / "chroma"
    deadline = time.time() + 120
    while time.time() < deadline and _size(chroma) < 2_000_000:
        time.sleep(0.2)
    time.sleep(1.0)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    lib = Library(tmp_path / "data")
    present, orphans = _consistency(lib)
    assert 0 < present < 1000, present  # killed in the middle
    assert all(h.sentence.doc_id in lib.store.document_ids() for h in lib.search("ships counted harbour", k=20))
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("present") == present and out.stdout.count("added") == 1000 - present
    lib = Library(tmp_path / "data")
    assert _consistency(lib) == (1000, 0)


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
    assert len(answers) == 8 and all("400" in a.answer and a.citations[0].text.startswith(FIGHTERS_SENTENCE) for a in answers)
    assert len(lib.documents()) == 41
