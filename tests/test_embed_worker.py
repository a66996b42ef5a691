"""A large ingestion embeds in a worker process (`python -m qa.embeddings`) while this process writes to
Chroma: the same vectors as embedding in-process, and a worker that dies mid-way loses nothing."""

import os
import signal
import threading
from pathlib import Path

import numpy as np
import pytest
from conftest import REFERENCE

from qa import embeddings, pipeline
from qa.config import Settings
from qa.errors import ModelFileError
from qa.library import Library

pytestmark = pytest.mark.e2e  # the real model, Chroma, page or browser

TOWNS = ["Alder", "Brook", "Cedar", "Dale", "Elm", "Fern", "Glen", "Heath", "Ivy", "Juniper"]
THINGS = ["bridges", "schools", "clinics", "parks", "libraries", "ferries", "markets", "roads"]


@pytest.fixture(scope="module")
def articles():
    """The reference article and 40 made-up local news articles of 10 sentences each (400 distinct sentences)."""
    from qa.ingest import from_text

    made = []
    for a in range(40):
        town = f"{TOWNS[a % 10]}{'ton' if a < 10 else 'ford' if a < 20 else 'ham' if a < 30 else 'wick'}"
        lines = [
            f"The council of {town} approved {3 + (a * 7 + n) % 40} new {THINGS[(a + n) % 8]} in {1990 + (a + n) % 30}, "
            f"officials said on day {n + 1} of the session."
            for n in range(10)
        ]
        made.append(from_text("\n\n".join(lines), source="made up", title=f"{town} council news"))
    return [REFERENCE, *made]


def _children() -> list[str]:
    """Pids of this process's children (all threads')."""
    try:
        return [c for t in Path("/proc/self/task").iterdir() for c in (t / "children").read_text().split()]
    except OSError:
        return []


class Children:
    """Pids of the embedding workers this process starts while the block runs (polled from /proc)."""

    def __enter__(self):
        self.seen, self.done = set(), threading.Event()
        self.thread = threading.Thread(target=self._poll, daemon=True)
        self.thread.start()
        return self

    def _poll(self):
        while not self.done.wait(0.01):
            self.seen.update(workers())

    def __exit__(self, *exc):
        self.done.set()
        self.thread.join()


def workers() -> list[int]:
    pids = [int(c) for c in _children()]
    out = []
    for pid in pids:
        try:
            if b"qa.embeddings" in Path(f"/proc/{pid}/cmdline").read_bytes():
                out.append(pid)
        except OSError:
            pass
    return out


def vectors(lib: Library) -> dict[str, np.ndarray]:
    got = lib.store.sentences.get(include=["embeddings"])
    return dict(zip(got["ids"], np.asarray(got["embeddings"])))


def test_worker_gives_the_same_index_as_embedding_in_process(tmp_path, articles):
    here = Library(tmp_path / "here", Settings(embed_worker_chars=10**12))
    with Children() as none:
        here.ingest(articles)
    assert none.seen == set()

    there = Library(tmp_path / "worker", Settings(embed_worker_chars=0))
    with Children() as started:
        report = there.ingest(articles)
    assert len(started.seen) == 1  # one worker for the whole ingestion
    assert workers() == []  # and it is gone afterwards
    assert len(report.added) == len(articles)

    a, b = vectors(here), vectors(there)
    assert a.keys() == b.keys() and len(a) >= 400
    assert max(float(np.abs(a[k] - b[k]).max()) for k in a) < 1e-5
    assert [d.to_dict() for d in here.documents()] == [d.to_dict() for d in there.documents()]
    q = "How many ISIS fighters died in the battle for Palmyra?"
    assert there.ask(q).to_dict() == here.ask(q).to_dict()


def test_a_worker_killed_mid_ingestion_is_replaced_by_embedding_in_process(tmp_path, articles, monkeypatch):
    monkeypatch.setattr(pipeline, "EMBED_BATCH", 64)  # many batches, so the kill lands mid-way
    killed = []

    def progress(done, total, what):
        if what == "indexed" and not killed:
            (pid,) = workers()
            os.kill(pid, signal.SIGKILL)
            killed.append((pid, done, total))

    lib = Library(tmp_path / "lib", Settings(embed_worker_chars=0))
    report = lib.ingest(articles, progress=progress)
    ((pid, done, total),) = killed
    assert 0 < done < total  # killed with articles still to embed
    assert len(report.added) == len(articles) and not report.failed
    for d in lib.documents():
        assert len(lib.store.sentences.get(where={"doc_id": d.doc_id})["ids"]) == d.sentences
    stored = vectors(lib)
    sents, _ = lib.store.get_sentences(sorted(stored))
    fresh = embeddings.load().embed([s.text for s in sents])
    assert np.abs(np.stack([stored[s.id] for s in sents]) - fresh).max() < 1e-5
    assert "400" in lib.ask("How many ISIS fighters died in the battle for Palmyra?").answer


def test_worker_reports_a_dead_child_and_exits_when_its_input_closes():
    w = embeddings.Worker("minilm", 64)
    assert w.submit(["Palmyra is an ancient city.", "Zebras escaped."])
    assert w.result().shape == (2, 384)
    w.close()
    assert w.proc.returncode == 0

    w = embeddings.Worker("minilm", 64)
    w.proc.send_signal(signal.SIGKILL)
    w.proc.wait()
    with pytest.raises((OSError, ValueError, ModelFileError)):
        w.submit(["anything"])
        w.result()
    w.close()


def test_an_ingestion_below_the_threshold_starts_no_worker(tmp_path):
    lib = Library(tmp_path, Settings())
    with Children() as started:
        report = lib.ingest([REFERENCE])
    assert started.seen == set() and len(report.added) == 1
