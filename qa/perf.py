"""`qa bench perf`: how fast the library ingests and answers, side by side on the same corpus with the
floor (the same model embedding the same sentences once, plus bare Chroma writes) and a plain LangChain
pipeline (RecursiveCharacterTextSplitter 1000/200 + langchain_chroma); writes bench/RESULTS.md, perf.json
and perf.png. A bench module beside qa/benchmarks.py: it only calls the library's public face.

Each pipeline runs in a fresh child process per corpus size (`python -m qa.perf SPEC.json`), so peak
memory and cold caches are its own; the parent builds the corpus once, collects each child's JSON, runs
the cold `qa ask` processes and writes the report after every child, so an interrupted run keeps its numbers.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict
from importlib import metadata
from pathlib import Path

import numpy as np

from qa import benchmarks, clean, sentences
from qa.config import Settings
from qa.ingest import from_text
from qa.types import Article

PIPELINES = ("floor", "ours", "langchain")
QUICK_SIZES = ("80",)
FULL_SIZES = ("base", "10000", "100000")
QUICK_QUESTIONS = 6  # MultiHop questions timed (and scored) in quick mode; full mode uses all 500
COLD_RUNS = 3
MIN_WORDS = 4  # filler lines with fewer words are page chrome (menus, buttons, bylines), not sentences
RESULTS = Path("bench/RESULTS.md")

Log = Callable[[str], None]


# -- corpora ---------------------------------------------------------------------------------------
#
# One ordered sequence of articles; every corpus is a prefix of it, cut at an exact sentence count:
#   1. base: the MultiHop-RAG evidence articles (facts grouped by url) and the RGB snippets, as
#      `qa bench quality` builds them, so the gold facts are in every corpus;
#   2. filler: SummEdits documents, then the WiCE evidence pages (dev, then test), every sentence not
#      seen before (case and space blind) and of at least MIN_WORDS words, lines kept as paragraphs;
#   3. when the real sentences run out: the filler again, pass r = 2, 3, ... with every sentence
#      prefixed "Copy r: ", so that no two sentences are equal (the report says how many were copies).


def _words(s: str) -> int:
    """Words with a letter or digit in them ("###" and "|" are not words)."""
    return sum(any(c.isalnum() for c in w) for w in s.split())


def _base(data: Path) -> list[Article]:
    _, truth = benchmarks.multihop(data)
    rgb = benchmarks.rgb_rows(data, range(10**6))
    return benchmarks.multihop_articles(truth.values()) + benchmarks.rgb_articles(rgb)


def _filler_pages(data: Path) -> Iterator[tuple[str, str, list[str]]]:
    """(title, source, lines) of each filler page in order."""
    docs = dict.fromkeys(r["doc"] for r in json.loads((data / "summedits_news.json").read_text()))
    for n, doc in enumerate(docs):
        yield f"summedits {n}", "summedits", doc.split("\n")
    for split in benchmarks.SPLITS:
        for row in benchmarks.wice_rows(data, split):
            meta = [e for e in row["evidence"] if e.startswith("(meta data)")]
            title = meta[0].split("TITLE:", 1)[-1].strip() if meta else row["meta"].get("claim_title", "")
            yield title or "wice page", f"wice {split}", [e for e in row["evidence"] if not e.startswith("(meta data)")]


def _new_sentences(lines: list[str], seen: set[str], max_chars: int) -> list[list[str]]:
    """The page's unseen sentences of MIN_WORDS+ words, line by line (empty lines dropped)."""
    out = []
    for line in lines:
        line = " ".join(clean.normalize(line).split())
        new = [line[s:e] for s, e in sentences.spans(line, max_chars)]
        new = [s for s in new if _words(s) >= MIN_WORDS and benchmarks._norm(s) not in seen]
        seen.update(benchmarks._norm(s) for s in new)
        if new:
            out.append(new)
    return out


def _article(lines: list[list[str]], title: str, source: str, prefix: str = "") -> Article | None:
    text = "\n\n".join(" ".join(prefix + s for s in line) for line in lines)
    return from_text(text, source=source, title=title) if text.strip() else None


def articles(data: Path, max_chars: int = 600) -> Iterator[tuple[Article, int, int]]:
    """(article, its sentence count as the library splits it, part), in order; part 0 is the base
    corpus, 1 the real filler, r >= 2 the filler's copy pass r."""
    seen: set[str] = set()
    ids: set[str] = set()

    def fresh(a: Article | None, copy: int):
        if a is not None and a.doc_id not in ids:
            ids.add(a.doc_id)
            spans = sentences.spans(a.text, max_chars)
            seen.update(benchmarks._norm(a.text[s:e]) for s, e in spans)
            yield a, len(spans), copy

    for a in _base(data):
        yield from fresh(a, 0)
    pages = []
    for title, source, lines in _filler_pages(data):
        kept = _new_sentences(lines, seen, max_chars)
        pages.append((title, source, kept))
        yield from fresh(_article(kept, title, source), 1)
    for copy in range(2, 10**6):
        for title, source, kept in pages:
            yield from fresh(_article(kept, title, source, f"Copy {copy}: "), copy)


def corpus(data: Path, size: str, max_chars: int = 600) -> tuple[list[Article], dict]:
    """The first `size` sentences of the sequence (the last article cut at a sentence end), or the
    base corpus for size "base"; with a summary of what is in it."""
    out: list[Article] = []
    total, copies = 0, 0
    want = None if size == "base" else int(size)
    for a, n, part in articles(data, max_chars):
        if want is None and part > 0:
            break
        if want is not None and total + n > want:
            a, n = _cut(a, want - total, max_chars)
        if n:
            out.append(a)
            total += n
            copies += n if part > 1 else 0
        if want is not None and total >= want:
            break
    return out, {"size": size, "sentences": total, "articles": len(out), "copied_sentences": copies}


def _cut(a: Article, n: int, max_chars: int) -> tuple[Article, int]:
    """The article's first n sentences."""
    if n <= 0:
        return a, 0
    end = sentences.spans(a.text, max_chars)[n - 1][1]
    cut = from_text(a.text[:end], source=a.source, title=a.title, url=a.url, published_at=a.published_at)
    return cut, len(sentences.spans(cut.text, max_chars))


# -- questions and scoring -------------------------------------------------------------------------


def questions(data: Path, quick: bool) -> list[dict]:
    """MultiHop-RAG questions with their gold facts (cleaned as article text is: NFKC, spaces)."""
    queries, truth = benchmarks.multihop(data)
    queries = queries[:QUICK_QUESTIONS] if quick else queries
    return [{"question": " ".join(q["question"].split()),
             "facts": [clean.normalize(e["fact"]) for e in truth[q["id"]]["evidence_list"]]} for q in queries]


def contained_recall(texts: list[str], facts: list[str], k: int = 10) -> float:
    """Share of the gold facts found whole inside some top-k retrieved text (LangChain's chunks)."""
    top = [benchmarks._norm(t) for t in texts[:k]]
    facts = list(dict.fromkeys(benchmarks._norm(f) for f in facts))
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
    return {"sentences": sum(d.sentences for d in report.added), "texts_embedded": sum(d.sentences for d in report.added),
            "ingest_s": ingest, "ingest_cpu_s": cpu, "stages": dict(report.timings or {}), "open_s": opened, "first_search_s": first,
            "search": search, "answer": answer, "recall@10": _recall(benchmarks.evidence_recall, texts, qs)}


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
        col.add(ids=[s.id for s in sents[b : b + batch]], embeddings=vectors[b : b + batch], documents=texts[b : b + batch])
    store, cpu = time.perf_counter() - t, cpu + time.process_time() - cpu_store
    log("ingested", force=True)

    def search(q: str) -> list[str]:
        return col.query(query_embeddings=embedder.embed([q]), n_results=10, include=["documents"])["documents"][0]

    latency, found = _timed(search, qs)
    return {"sentences": len(sents), "texts_embedded": len(sents), "ingest_s": embed + store,
            "ingest_cpu_s": cpu, "stages": {"embed": embed, "store": store}, "search": latency,
            "recall@10": _recall(benchmarks.evidence_recall, found, qs)}


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
    db = Chroma.from_documents(docs, Same(), persist_directory=str(folder),
                               client_settings=chromadb.Settings(anonymized_telemetry=False))
    written, cpu = time.perf_counter() - t, time.process_time() - cpu
    log("ingested", force=True)
    latency, _ = _timed(lambda q: db.similarity_search(q, k=5), qs)
    found = [[d.page_content for d in db.similarity_search(q["question"], k=10)] for q in qs]
    max_chars = Settings().max_sentence_chars
    return {"sentences": sum(len(sentences.spans(a.text, max_chars)) for a in articles), "texts_embedded": len(docs),
            "ingest_s": split + written, "ingest_cpu_s": cpu, "stages": {"split": split, "embed": spent[0], "store": written - spent[0]},
            "search": latency, "recall@10": _recall(contained_recall, found, qs)}


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
    result["code"] = code_version()  # other work may land while a long run goes on
    Path(spec["result"]).write_text(json.dumps(result))


# -- the run: corpora, children, cold starts -------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent


def run(data: str | Path | None, sizes: list[str], quick: bool, save: Callable[[dict], None], log: Log,
        command: str) -> dict:
    """Every pipeline on every corpus size; `save(report)` after each child, so partial runs keep numbers."""
    data = benchmarks.find_data(data)
    t0 = time.perf_counter()
    report = {"quick": quick, "command": command, "commit": benchmarks._commit(), "code": code_version(),
              "date": dt.date.today().isoformat(),
              "machine": machine(), "load_start": os.getloadavg()[0], "sizes": [], "complete": False}
    qs = questions(data, quick)
    with tempfile.TemporaryDirectory(prefix="qa-perf-") as tmp:
        for size in sizes:
            arts, info = corpus(data, size, Settings().max_sentence_chars)
            entry = {**info, "pipelines": {}}
            report["sizes"].append(entry)
            log(f"perf: corpus {size}: {info['sentences']} sentences in {info['articles']} articles"
                f" ({time.perf_counter() - t0:.0f} s)")
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
    spec.write_text(json.dumps({"pipeline": name, "size": size, "corpus": str(corpus_file), "folder": str(folder),
                                "result": str(out)}))
    log(f"perf: {name} {size}: started")
    t = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "qa.perf", str(spec)], env=_env(), stdout=subprocess.DEVNULL, check=False)
    if done.returncode != 0 or not out.is_file():
        from qa.errors import QAError

        raise QAError(f"the {name} pipeline on the {size} corpus failed (exit {done.returncode}); its messages are above.")
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
        subprocess.run([sys.executable, "-m", "qa.cli", "ask", question], env=_env(QA_DATA_DIR=str(folder)),
                       check=True, capture_output=True)
        times.append(time.perf_counter() - t)
    return times


def code_version() -> str:
    """A hash of the qa package's source as it is now: children that ran different code differ."""
    digest = hashlib.sha256()
    for f in sorted(Path(__file__).parent.rglob("*.py")):
        digest.update(f.read_bytes())
    return digest.hexdigest()[:10]


def du(folder: Path) -> int:
    """Bytes on disk under the folder (allocated blocks, as du counts them)."""
    return sum(p.stat().st_blocks * 512 for p in folder.rglob("*") if p.is_file())


def machine() -> dict:
    info = {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(), "ram_gb": None,
            "os": f"{platform.system()} {platform.release()}", "python": platform.python_version()}
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
        info["cpu"] = next(line.split(":", 1)[1].strip() for line in lines if line.startswith("model name"))
        mem = next(line for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal"))
        info["ram_gb"] = round(int(mem.split()[1]) / 2**20, 1)
    except (OSError, StopIteration):
        pass
    info["versions"] = {p: metadata.version(p) for p in ("onnxruntime", "chromadb", "langchain-chroma", "langchain-text-splitters")}
    return info


def _finish(report: dict, t0: float) -> None:
    report["seconds"] = round(time.perf_counter() - t0, 1)
    report["load_end"] = os.getloadavg()[0]
    report["targets"] = targets(report)


# -- targets (issue 6) -------------------------------------------------------------------------------


def _ratio(p: dict, a: str, b: str) -> float:
    return p[a]["ingest_s"] / p[b]["ingest_s"]


def _ratios(p: dict, a: str, b: str) -> str:
    """Wall-time ratio, then the CPU-time one (steadier when other jobs share the machine)."""
    return f"{_ratio(p, a, b):.2f}x (CPU {p[a]['ingest_cpu_s'] / p[b]['ingest_cpu_s']:.2f}x)"


def _cold(p: dict) -> float:
    return statistics.median(p["ours"]["cold_ask_s"])


# (target, corpus sizes it is judged on or None for every size run, pipelines it needs, (value, met))
TARGETS: list[tuple[str, tuple[str, ...] | None, tuple[str, ...], Callable[[dict], tuple[str, bool]]]] = [
    ("ingestion time <= 1.15x the floor's", ("10000", "100000"), ("ours", "floor"),
     lambda p: (_ratios(p, "ours", "floor"), _ratio(p, "ours", "floor") <= 1.15)),
    ("ingestion time <= the LangChain pipeline's", ("10000", "100000"), ("ours", "langchain"),
     lambda p: (_ratios(p, "ours", "langchain"), _ratio(p, "ours", "langchain") <= 1.0)),
    ("extractive answer p50 <= 30 ms", ("10000",), ("ours",),
     lambda p: (f"{p['ours']['answer']['p50_ms']:.0f} ms", p["ours"]["answer"]["p50_ms"] <= 30)),
    ("extractive answer p50 <= 60 ms", ("100000",), ("ours",),
     lambda p: (f"{p['ours']['answer']['p50_ms']:.0f} ms", p["ours"]["answer"]["p50_ms"] <= 60)),
    ("retrieval p95 <= 2x its p50", None, ("ours",),
     lambda p: (f"{p['ours']['search']['p95_ms'] / p['ours']['search']['p50_ms']:.2f}x",
                p["ours"]["search"]["p95_ms"] <= 2 * p["ours"]["search"]["p50_ms"])),
    ("cold `qa ask` <= 2.5 s (median)", None, ("ours",), lambda p: (f"{_cold(p):.2f} s", _cold(p) <= 2.5)),
    ("peak memory <= 1 GB", ("100000",), ("ours",),
     lambda p: (f"{p['ours']['peak_rss_bytes'] / 1e6:.0f} MB", p["ours"]["peak_rss_bytes"] <= 1e9)),
    ("evidence recall@10 above the LangChain pipeline's", None, ("ours", "langchain"),
     lambda p: (f"{p['ours']['recall@10']:.3f} vs {p['langchain']['recall@10']:.3f}",
                p["ours"]["recall@10"] > p["langchain"]["recall@10"])),
]


def targets(report: dict) -> list[dict]:
    """Each target on each corpus it applies to: met True/False, or None when not (yet) measured."""
    done = {e["size"]: e["pipelines"] for e in report["sizes"]}
    rows = []
    for text, sizes, needs, check in TARGETS:
        for size in sizes or list(done):
            p = done.get(size, {})
            value, met = check(p) if all(n in p for n in needs) else ("not measured", None)
            rows.append({"target": text, "size": size, "value": value, "met": met})
    return rows


# -- the page and the plot -------------------------------------------------------------------------

NAMES = {"ours": "ours (qa Library)", "floor": "floor (model + bare Chroma)", "langchain": "LangChain (1000/200 chunks)"}
STAGES = ("read", "split", "embed", "store", "index")
QUERIES = {"ours": [("search", "`Library.search(q, k=10)`"), ("answer", "`Library.ask(q)` (extractive)")],
           "floor": [("search", "embed q + Chroma query, 10 sentences")],
           "langchain": [("search", "`similarity_search(q, k=5)`")]}


def _label(size: str) -> str:
    return "base (MultiHop + RGB)" if size == "base" else f"{int(size):,}"


def _s(x: float | None, digits: int = 1) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def _ratio_rows(report: dict) -> list[str]:
    head = ("| corpus | sentences | ours / floor ingestion time | ours / LangChain ingestion time | recall@10 ours"
            " | recall@10 LangChain | answer p50 | retrieval p50 / p95 | cold `qa ask` |")
    rows = [head, "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for e in report["sizes"]:
        p = e["pipelines"]
        if not all(n in p for n in PIPELINES):
            rows.append(f"| {_label(e['size'])} | {e['sentences']:,} | (running) | | | | | | |")
            continue
        o = p["ours"]
        rows.append(f"| {_label(e['size'])} | {e['sentences']:,} | {_ratios(p, 'ours', 'floor')} | {_ratios(p, 'ours', 'langchain')}"
                    f" | {o['recall@10']:.3f} | {p['langchain']['recall@10']:.3f} | {o['answer']['p50_ms']:.0f} ms"
                    f" | {o['search']['p50_ms']:.0f} / {o['search']['p95_ms']:.0f} ms | {_cold(p):.2f} s |")
    return rows


def _target_rows(report: dict) -> list[str]:
    rows = ["| target | corpus | value | status |", "|---|---|---:|---|"]
    for t in report["targets"]:
        status = {True: "**met**", False: "**missed**", None: "not measured"}[t["met"]]
        rows.append(f"| {t['target']} | {_label(t['size'])} | {t['value']} | {status} |")
    return rows


def _ingest_rows(report: dict) -> list[str]:
    rows = ["| corpus | pipeline | texts embedded | seconds | CPU seconds | sentences/s | " + " | ".join(STAGES)
            + " | other | peak memory | on disk |", "|---|---|---:|---:|---:|---:|" + "---:|" * len(STAGES) + "---:|---:|---:|"]
    for e in report["sizes"]:
        for name, p in e["pipelines"].items():
            st = p["stages"]
            other = p["ingest_s"] - sum(st.values()) if st else None
            cells = " | ".join(_s(st.get(k)) for k in STAGES)
            rows.append(f"| {_label(e['size'])} | {NAMES[name]} | {p['texts_embedded']:,} | {p['ingest_s']:.1f} | {p['ingest_cpu_s']:.1f} | "
                        f"{e['sentences'] / p['ingest_s']:.0f} | {cells} | {_s(other)} | {p['peak_rss_bytes'] / 1e6:.0f} MB"
                        f" | {p['disk_bytes'] / 1e6:.1f} MB |")
    return rows


def _query_rows(report: dict) -> list[str]:
    rows = ["| corpus | pipeline | query | p50 | p95 | questions | evidence recall@10 |", "|---|---|---|---:|---:|---:|---:|"]
    for e in report["sizes"]:
        for name, p in e["pipelines"].items():
            for key, what in QUERIES[name]:
                q = p[key]
                rows.append(f"| {_label(e['size'])} | {NAMES[name]} | {what} | {q['p50_ms']:.1f} ms | {q['p95_ms']:.1f} ms | {q['n']}"
                            f" | {p['recall@10']:.3f} |")
    return rows


def _cold_lines(report: dict) -> list[str]:
    out = []
    for e in report["sizes"]:
        o = e["pipelines"].get("ours")
        if o:
            runs = ", ".join(f"{s:.2f}" for s in o["cold_ask_s"])
            out.append(f"- {_label(e['size'])}: cold `qa ask` {runs} s (median {statistics.median(o['cold_ask_s']):.2f} s); "
                       f"`Library()` open {o['open_s']:.2f} s; the first search after ingestion "
                       f"{o['first_search_s'] * 1000:.0f} ms (the model loads then, as the keyword index does)")
    return out


def _code_changes(report: dict) -> list[str]:
    """A line when some pipeline ran other code than the run started with (work landed meanwhile)."""
    other = [f"{name} on {_label(e['size'])} ran {p.get('code', 'n/a')}" for e in report["sizes"]
             for name, p in e["pipelines"].items() if p.get("code") != report.get("code")]
    return [f"- **the code under qa/ changed during this run**: {'; '.join(other)}"] if other else []


def markdown(report: dict) -> str:
    m = report["machine"]
    versions = ", ".join(f"{k} {v}" for k, v in m["versions"].items())
    copies = [f"{_label(e['size'])}: {e['copied_sentences']:,}" for e in report["sizes"] if e["copied_sentences"]]
    lines = [
        "# Performance benchmarks" + (" (quick: a smoke test, not results)" if report["quick"] else ""),
        "",
        "Written by `qa bench perf`; do not edit by hand. Each pipeline ran in its own fresh process per corpus,",
        "one after another, in the same run on the same machine.",
        *(["", "**Partial run**: the numbers are those finished when this page was written."] if not report["complete"] else []),
        "",
        "## Ratios",
        "",
        *_ratio_rows(report),
        "",
        "## Targets (issue 6)",
        "",
        *_target_rows(report),
        "",
        "## Absolute numbers",
        "",
        f"- command: `{report['command']}`",
        f"- commit: {report['commit']} (source hash of qa/: {report.get('code', 'n/a')})",
        *_code_changes(report),
        f"- date: {report['date']}; runtime {report['seconds']:.0f} s",
        f"- machine: {m['cpu']}, {m['cores']} cores, {m['ram_gb']} GB RAM, {m['os']}, Python {m['python']}; {versions}",
        f"- load average (1 min): {report['load_start']:.2f} at the start, {report['load_end']:.2f} at the end",
        "",
        "### Ingestion",
        "",
        *_ingest_rows(report),
        "",
        "### Queries (warm: after one warm-up question, MultiHop-RAG questions in order)",
        "",
        *_query_rows(report),
        "",
        *_cold_lines(report),
        "",
        "![Ingestion rate and query latency against corpus size](perf.png)",
        "",
        "## How it was measured",
        "",
        "- **Corpora**: one ordered sequence of real articles from `../shared/data`; every corpus is its first N sentences",
        "  (as the library splits them; the last article is cut at a sentence end). First the base corpus, as",
        "  `qa bench quality` builds it: the MultiHop-RAG evidence facts grouped by url into articles, and the RGB",
        "  snippets (one article each); then SummEdits documents and WiCE evidence pages (dev, then test), keeping only",
        f"  sentences not seen before (case and space blind) with at least {MIN_WORDS} words (shorter lines are menus and",
        "  buttons). When those run out the filler is used again with every sentence prefixed `Copy r: ` (pass r = 2, 3, ...)",
        "  so no two sentences are equal" + (f"; copied sentences: {'; '.join(copies)}." if copies else "; no corpus here needed copies."),
        "- **Ours**: `Library(dir).ingest(articles)` on `qa.ingest.from_text` Articles (seconds = the call; stages from",
        "  `IngestReport.timings`, `n/a` when the library does not report them; other = the rest). The library writes",
        "  three Chroma collections (sentences, chunks, articles) and a keyword index; from 500,000 characters of new",
        "  text it embeds in a worker process while it stores the previous batch (its stages are then the time the",
        "  ingestion waited for each; CPU seconds include the worker's).",
        "- **Floor**: the same sentences embedded once by the same model (`qa.embeddings.load()`, the library's batch",
        "  size, sorted by length over 5,000 sentences at a time), then added with their vectors to a fresh Chroma",
        "  collection (cosine, batches of `get_max_batch_size()`): the model's time plus the bare writes, one after the",
        "  other. No pipeline that does both in turn can be faster; one that overlaps them (ours, with its worker) can.",
        "- **LangChain**: `RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)` over each article's text,",
        "  `langchain_chroma.Chroma.from_documents` (persistent, defaults) with the same model wrapped as a LangChain",
        "  `Embeddings`; it embeds chunks, not sentences (texts embedded above).",
        "- **Recall@10**: MultiHop-RAG evidence recall over the questions with evidence (null queries skipped), gold facts",
        "  cleaned as article text is. Ours and the floor: a gold fact is found when a top-10 sentence is part of it or",
        "  it of the sentence (the rule of `qa bench quality`); LangChain: when the fact is inside one of the top-10",
        "  chunks (`similarity_search(q, k=10)`; case and whitespace ignored).",
        "- **Ingestion time**: wall seconds; CPU seconds are the process's CPU time over all its threads in the same",
        "  span, steadier than wall time when other jobs share the machine (see the load average). Targets use wall time.",
        "- **Latency**: wall time per call in the pipeline's process, after one warm-up question. **Cold `qa ask`**:",
        f"  `python -m qa.cli ask QUESTION` in a new process on the library just built, {COLD_RUNS} runs. **Peak memory**:",
        "  the child's resident memory plus its children's (ours: the embedding worker), sampled every 20 ms, and never",
        "  below the child's own peak (getrusage). **On disk**: allocated bytes under the pipeline's folder.",
        "",
    ]
    return "\n".join(lines)


def plot(report: dict, path: Path) -> None:
    """Ingestion rate, retrieval and answer latency against corpus size, one line per pipeline."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ing, ret, ans) = plt.subplots(1, 3, figsize=(14, 4.2))
    for name, color in zip(PIPELINES, ("tab:gray", "tab:blue", "tab:orange")):
        pts = [(e["sentences"], e["pipelines"][name]) for e in report["sizes"] if name in e["pipelines"]]
        if not pts:
            continue
        xs = [x for x, _ in pts]
        ing.plot(xs, [x / p["ingest_s"] for x, p in pts], "o-", color=color, label=NAMES[name])
        ret.plot(xs, [p["search"]["p50_ms"] for _, p in pts], "o-", color=color, label=f"{name} p50")
        ret.plot(xs, [p["search"]["p95_ms"] for _, p in pts], "s--", color=color, alpha=0.6, label=f"{name} p95")
        if name == "ours":
            ans.plot(xs, [p["answer"]["p50_ms"] for _, p in pts], "o-", color=color, label="ours p50")
            ans.plot(xs, [p["answer"]["p95_ms"] for _, p in pts], "s--", color=color, alpha=0.6, label="ours p95")
    ans.plot([10_000, 100_000], [30, 60], "rx", markersize=10, label="target p50")
    for ax, title, unit in ((ing, "Ingestion rate", "sentences / s"), (ret, "Retrieval latency (warm)", "ms"),
                            (ans, "Extractive answer latency (warm)", "ms")):
        ax.set_xscale("log")
        ax.set_ylim(bottom=0)
        ax.set_title(title)
        ax.set_xlabel("corpus size (sentences)")
        ax.set_ylabel(unit)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(f"qa bench perf{' --quick' if report['quick'] else ''} · {report['date']} · {report['machine']['cpu']}", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def write(report: dict, out: Path, json_out: Path) -> None:
    """The page, the JSON and the plot (perf.png beside the page)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    json_out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(markdown(report))
    json_out.write_text(json.dumps(report, indent=2))
    plot(report, out.parent / "perf.png")


if __name__ == "__main__":
    child(Path(sys.argv[1]))
