"""`python -m bench perf`: how fast the library ingests and answers, side by side on the same corpus with
the floor (the same model embedding the same sentences once, plus bare Chroma writes) and a plain LangChain
pipeline (RecursiveCharacterTextSplitter 1000/200 + langchain_chroma); writes bench/RESULTS.md, perf.json
and perf.png. It only calls the library's public face.

Each pipeline runs in a fresh child process per corpus size (`python -m bench.perf SPEC.json`), so peak
memory and cold caches are its own; the parent builds the corpus once, collects each child's JSON, runs
the cold `qa ask` processes and writes the report after every child, so an interrupted run keeps its numbers.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import numpy as np

from bench import report as about
from bench.corpora import corpus
from bench.data import find_data, multihop
from bench.perf_report import COLD_RUNS, PIPELINES, targets
from bench.scoring import evidence_recall
from qa import clean, sentences
from qa.config import Settings
from qa.text import squash
from qa.types import Article

QUICK_SIZES = ("80",)
FULL_SIZES = ("base", "10000", "100000")
QUICK_QUESTIONS = 6  # MultiHop questions timed (and scored) in quick mode; full mode uses all 500
RESULTS = about.ROOT / "bench" / "RESULTS.md"
ROOT = about.ROOT

Log = Callable[[str], None]


def questions(data: Path, quick: bool) -> list[dict]:
    """MultiHop-RAG questions with their gold facts (cleaned as article text is: NFKC, spaces)."""
    queries, truth = multihop(data)
    queries = queries[:QUICK_QUESTIONS] if quick else queries
    return [
        {
            "question": " ".join(q["question"].split()),
            "facts": [clean.normalize(e["fact"]) for e in truth[q["id"]]["evidence_list"]],
        }
        for q in queries
    ]


def contained_recall(texts: list[str], facts: list[str], k: int = 10) -> float:
    """Share of the gold facts found whole inside some top-k retrieved text (LangChain's chunks)."""
    top = [squash(t) for t in texts[:k]]
    facts = list(dict.fromkeys(squash(f) for f in facts))
    return sum(any(f in t for t in top) for f in facts) / len(facts)


def _latency(seconds: list[float]) -> dict:
    p50, p95 = np.percentile(seconds, [50, 95])
    return {"n": len(seconds), "p50_ms": float(p50) * 1000, "p95_ms": float(p95) * 1000}


def _timed(fn: Callable[[str], object], qs: list[dict]) -> tuple[dict, list]:
    """fn over every question after one warm-up call: (latency, the results)."""
    fn(qs[0]["question"])
    seconds, results = [], []
    for q in qs:
        t = time.perf_counter()
        results.append(fn(q["question"]))
        seconds.append(time.perf_counter() - t)
    return _latency(seconds), results


def _recall(rule: Callable[[list[str], list[str], int], float], texts: list[list[str]], qs: list[dict]) -> float:
    """Mean recall@10 over the questions with evidence (null queries have none)."""
    scored = [rule(t, q["facts"], 10) for t, q in zip(texts, qs) if q["facts"]]
    return float(np.mean(scored)) if scored else 0.0


# -- the three pipelines, each run in its own child process ----------------------------------------


class _Progress:
    """Progress lines on stderr, at most one every `every` seconds."""

    def __init__(self, label: str, every: float = 20.0):
        self.label, self.every, self.t0, self.last = label, every, time.perf_counter(), -every

    def __call__(self, message: str, force: bool = False) -> None:
        now = time.perf_counter() - self.t0
        if force or now - self.last >= self.every:
            self.last = now
            print(f"perf: {self.label}: {message} ({now:.0f} s)", file=sys.stderr, flush=True)


class _PeakMemory:
    """Peak resident memory of this process and its children together (ours embeds a large ingestion
    in a worker process): sampled every 20 ms, and never below this process's own peak (getrusage)."""

    def __init__(self, every: float = 0.02):
        self.peak, self.every, self.done = 0, every, threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()

    def _sample(self) -> None:
        while not self.done.wait(self.every):
            self.peak = max(self.peak, sum(_rss(pid) for pid in ["self", *_children()]))

    def stop(self) -> int:
        self.done.set()
        self.thread.join()
        return max(self.peak, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)  # Linux: KiB


def _children() -> list[str]:
    try:
        return [c for t in Path("/proc/self/task").iterdir() for c in (t / "children").read_text().split()]
    except OSError:
        return []


def _rss(pid: str) -> int:
    """Resident bytes of a process (0 when it is gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:"))) * 1024
    except (OSError, StopIteration):
        return 0


def _cpu() -> float:
    """CPU seconds of this process and its finished children (the embedding worker), all threads."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _embedder():
    from qa import embeddings

    s = Settings()
    return embeddings.load(s.embedding, s.embedding_batch)


def run_ours(articles: list[Article], qs: list[dict], folder: Path, log: _Progress) -> dict:
    """The library: ingest (stages from IngestReport.timings), then warm search and answer latency."""
    from qa.library import Library

    t = time.perf_counter()
    lib = Library(folder, Settings(mode="extractive"))
    opened = time.perf_counter() - t
    total = len(articles)
    t, cpu = time.perf_counter(), _cpu()
    report = lib.ingest(articles, progress=lambda done, n, what: log(f"ingest: {done}/{total} articles"))
    ingest, cpu = time.perf_counter() - t, _cpu() - cpu
    log("ingested", force=True)
    t = time.perf_counter()
    lib.search(qs[0]["question"], k=10)  # the keyword index is built here if ingestion left it for later
    first = time.perf_counter() - t
    search, hits = _timed(lambda q: lib.search(q, k=10), qs)
    answer, _ = _timed(lib.ask, qs)
    texts = [[h.sentence.text for h in hs] for hs in hits]
    return {
        "sentences": sum(d.sentences for d in report.added),
        "texts_embedded": sum(d.sentences for d in report.added),
        "ingest_s": ingest,
        "ingest_cpu_s": cpu,
        "stages": dict(report.timings or {}),
        "open_s": opened,
        "first_search_s": first,
        "search": search,
        "answer": answer,
        "recall@10": _recall(evidence_recall, texts, qs),
    }


def run_floor(articles: list[Article], qs: list[dict], folder: Path, log: _Progress) -> dict:
    """The same sentences embedded once, then added with their vectors to a fresh Chroma collection;
    for queries, the bare vector search (embed the question, query Chroma for 10)."""
    import chromadb

    embedder = _embedder()
    max_chars = Settings().max_sentence_chars
    sents = [s for a in articles for s in sentences.split(a.doc_id, a.text, max_chars)]
    texts = [s.text for s in sents]
    step = 5000  # per call, only for progress lines: the model's batches are the same
    parts = []
    t, cpu = time.perf_counter(), time.process_time()
    for b in range(0, len(texts), step):
        log(f"embed: {b}/{len(texts)} sentences")
        parts.append(embedder.embed(texts[b : b + step]))
    embed, cpu = time.perf_counter() - t, time.process_time() - cpu
    vectors = np.concatenate(parts)  # (n_sentences, 384)
    client = chromadb.PersistentClient(path=str(folder), settings=chromadb.Settings(anonymized_telemetry=False))
    col = client.create_collection("floor", embedding_function=None, configuration={"hnsw": {"space": "cosine"}})
    batch = client.get_max_batch_size()
    t, cpu_store = time.perf_counter(), time.process_time()
    for b in range(0, len(sents), batch):
        col.add(
            ids=[s.id for s in sents[b : b + batch]], embeddings=vectors[b : b + batch], documents=texts[b : b + batch]
        )
    store, cpu = time.perf_counter() - t, cpu + time.process_time() - cpu_store
    log("ingested", force=True)

    def search(q: str) -> list[str]:
        return col.query(query_embeddings=embedder.embed([q]), n_results=10, include=["documents"])["documents"][0]

    latency, found = _timed(search, qs)
    return {
        "sentences": len(sents),
        "texts_embedded": len(sents),
        "ingest_s": embed + store,
        "ingest_cpu_s": cpu,
        "stages": {"embed": embed, "store": store},
        "search": latency,
        "recall@10": _recall(evidence_recall, found, qs),
    }


def run_langchain(articles: list[Article], qs: list[dict], folder: Path, log: _Progress) -> dict:
    """RecursiveCharacterTextSplitter(1000, 200) over each article's text, langchain_chroma.Chroma with
    the same model as a LangChain Embeddings, similarity_search(k=5) timed, k=10 scored."""
    import chromadb
    from langchain_chroma import Chroma
    from langchain_core.embeddings import Embeddings
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    model, spent = _embedder(), [0.0]

    class Same(Embeddings):
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            t = time.perf_counter()
            vecs = model.embed(texts).tolist()
            spent[0] += time.perf_counter() - t
            log(f"embed: {len(texts)} chunks in this batch")
            return vecs

        def embed_query(self, text: str) -> list[float]:
            return model.embed([text])[0].tolist()

    t, cpu = time.perf_counter(), time.process_time()
    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
    docs = splitter.create_documents([a.text for a in articles], metadatas=[{"title": a.title} for a in articles])
    split = time.perf_counter() - t
    t = time.perf_counter()
    db = Chroma.from_documents(
        docs, Same(), persist_directory=str(folder), client_settings=chromadb.Settings(anonymized_telemetry=False)
    )
    written, cpu = time.perf_counter() - t, time.process_time() - cpu
    log("ingested", force=True)
    latency, _ = _timed(lambda q: db.similarity_search(q, k=5), qs)
    found = [[d.page_content for d in db.similarity_search(q["question"], k=10)] for q in qs]
    max_chars = Settings().max_sentence_chars
    return {
        "sentences": sum(len(sentences.spans(a.text, max_chars)) for a in articles),
        "texts_embedded": len(docs),
        "ingest_s": split + written,
        "ingest_cpu_s": cpu,
        "stages": {"split": split, "embed": spent[0], "store": written - spent[0]},
        "search": latency,
        "recall@10": _recall(contained_recall, found, qs),
    }


RUNS = {"ours": run_ours, "floor": run_floor, "langchain": run_langchain}


def child(spec_path: Path) -> None:
    """One pipeline on one corpus, in this (fresh) process; its JSON goes where the spec says."""
    spec = json.loads(spec_path.read_text())
    saved = json.loads(Path(spec["corpus"]).read_text())
    arts = [Article(**a) for a in saved["articles"]]
    log = _Progress(f"{spec['pipeline']} {spec['size']}")
    memory = _PeakMemory()
    result = RUNS[spec["pipeline"]](arts, saved["questions"], Path(spec["folder"]), log)
    result["peak_rss_bytes"] = memory.stop()
    result["code"] = about.code_version()  # other work may land while a long run goes on
    Path(spec["result"]).write_text(json.dumps(result))


# -- the run: corpora, children, cold starts -------------------------------------------------------


def run(
    data: str | Path | None, sizes: list[str], quick: bool, save: Callable[[dict], None], log: Log, command: str
) -> dict:
    """Every pipeline on every corpus size; `save(report)` after each child, so partial runs keep numbers."""
    data = find_data(data)
    t0 = time.perf_counter()
    report = {
        "quick": quick,
        "command": command,
        "commit": about.commit(),
        "code": about.code_version(),
        "date": dt.date.today().isoformat(),
        "machine": about.machine(("onnxruntime", "chromadb", "langchain-chroma", "langchain-text-splitters")),
        "load_start": os.getloadavg()[0],
        "sizes": [],
        "complete": False,
    }
    qs = questions(data, quick)
    with tempfile.TemporaryDirectory(prefix="qa-perf-") as tmp:
        for size in sizes:
            arts, info = corpus(data, size, Settings().max_sentence_chars)
            entry = {**info, "pipelines": {}}
            report["sizes"].append(entry)
            log(
                f"perf: corpus {size}: {info['sentences']} sentences in {info['articles']} articles"
                f" ({time.perf_counter() - t0:.0f} s)"
            )
            saved = Path(tmp) / f"corpus-{size}.json"
            saved.write_text(json.dumps({"articles": [asdict(a) for a in arts], "questions": qs}))
            del arts
            for name in PIPELINES:
                entry["pipelines"][name] = _measure(name, size, saved, Path(tmp), qs[0]["question"], log)
                log(f"perf: {name} {size}: done ({time.perf_counter() - t0:.0f} s)")
                _finish(report, t0)
                save(report)
    report["complete"] = True
    _finish(report, t0)
    save(report)
    return report


def _measure(name: str, size: str, corpus_file: Path, tmp: Path, question: str, log: Log) -> dict:
    """One child: its JSON, plus what the parent measures from outside (disk, cold start)."""
    folder, out = tmp / f"{name}-{size}", tmp / f"{name}-{size}.json"
    spec = tmp / f"{name}-{size}.spec.json"
    spec.write_text(
        json.dumps(
            {"pipeline": name, "size": size, "corpus": str(corpus_file), "folder": str(folder), "result": str(out)}
        )
    )
    log(f"perf: {name} {size}: started")
    t = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "bench.perf", str(spec)], env=_env(), stdout=subprocess.DEVNULL, check=False
    )
    if done.returncode != 0 or not out.is_file():
        from qa.errors import QAError

        raise QAError(
            f"the {name} pipeline on the {size} corpus failed (exit {done.returncode}); its messages are above."
        )
    result = json.loads(out.read_text())
    result["child_s"] = time.perf_counter() - t
    result["disk_bytes"] = du(folder)
    if name == "ours":
        result["cold_ask_s"] = cold_ask(folder, question)
    shutil.rmtree(folder, ignore_errors=True)
    return result


def _env(**extra: str) -> dict:
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "PYTHONPATH": path, "QA_MODE": "extractive", **extra}


def cold_ask(folder: Path, question: str, runs: int = COLD_RUNS) -> list[float]:
    """Seconds for `qa ask` in a new process (interpreter start, imports, model load, answer), each run."""
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "qa.cli", "ask", question],
            env=_env(QA_DATA_DIR=str(folder)),
            check=True,
            capture_output=True,
        )
        times.append(time.perf_counter() - t)
    return times


def du(folder: Path) -> int:
    """Bytes on disk under the folder (allocated blocks, as du counts them)."""
    return sum(p.stat().st_blocks * 512 for p in folder.rglob("*") if p.is_file())


def _finish(report: dict, t0: float) -> None:
    report["seconds"] = round(time.perf_counter() - t0, 1)
    report["load_end"] = os.getloadavg()[0]
    report["targets"] = targets(report)


if __name__ == "__main__":
    child(Path(sys.argv[1]))
