"""The facade: `Library(data_dir)` with ingest, ask, summarize, documents, remove, retriever.

What the CLI, the web page and the evals call; everything below it is reachable from here.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from qa import answer, chunking, embeddings, health, ingest, memory, sentences, summarize
from qa.config import Settings
from qa.errors import EmptyLibraryError, InputError, ModelError, ModelFileError, NotFoundError
from qa.retrieve import Retriever
from qa.store import Store
from qa.types import Answer, Article, CheckReport, DocumentInfo, IngestReport, Summary

# progress(done, total, what): called after each source is read and each batch is stored
Progress = Callable[[int, int, str], None]
EMBED_BATCH = 2048  # sentences embedded, then stored, together across articles: fewer, fuller calls


class Library:
    def __init__(self, data_dir: str | Path | None = None, settings: Settings | None = None, preload: bool = False):
        """preload: start loading the model now, in a thread, while Chroma opens (onnxruntime lets go of
        the GIL while it loads): `qa ask` in a new process saves the model's load time. Otherwise the
        model loads at its first use."""
        settings = settings or Settings()
        if data_dir is not None:
            settings = settings.model_copy(update={"data_dir": Path(data_dir)})
        self.settings = settings
        self.embedder = embeddings.Lazy(settings.embedding, settings.embedding_batch)
        if preload:  # not a daemon: a process that exits meanwhile (say, on a store error) waits for the
            # load to end, instead of onnxruntime aborting it from the half-built session
            threading.Thread(target=self.embedder.load, name="qa-model-load").start()
        self.store = Store(settings, self.embedder.name)
        self.retriever = Retriever(self.store, self.embedder, settings.data_dir / "keyword")
        self._write = threading.Lock()
        self._model_path = None  # the chat-model path, built on first use when one is configured

    # -- adding and removing ---------------------------------------------------------------------

    def ingest(self, sources: str | Path | list, progress: Progress | None = None) -> IngestReport:
        """Files, directories, URLs, or Articles. Already-present articles are skipped (a no-op); a
        source that cannot be read is reported in `failed` and the others still go in."""
        items = sources if isinstance(sources, list) else [sources]
        report = IngestReport()
        given: dict[str, list[Article]] = {}  # articles handed over, by source: each source is bounded as a file is
        for a in items:
            if isinstance(a, Article):
                given.setdefault(a.source, []).append(ingest.bounded(a))
        paths = ingest.expand([str(s) for s in items if not isinstance(s, Article)])
        articles: list[Article] = []
        with _timed(report, "read"):
            for src, group in given.items():
                self._admit(src, lambda group=group: group, articles, report)
            for done, src in enumerate(paths, 1):
                self._admit(src, lambda src=src: list(ingest.read(src, self.settings)), articles, report)
                if progress:
                    progress(done, len(paths), f"read {src}")
        self._add(articles, report, progress)
        if report.added:
            with _timed(report, "index"):  # the keyword index for the new generation, now, not on the next question
                self.retriever.refresh()
        return report

    def ingest_text(self, text: str, title: str = "", source: str = "pasted", url: str = "") -> IngestReport:
        return self.ingest([ingest.from_text(text, source=source, title=title, url=url)])

    def _admit(self, source: str, read: Callable[[], list[Article]], articles: list[Article],
               report: IngestReport) -> None:
        """The articles of one file (or one source's given articles) into `articles` when they can be read
        and hold at most QA_MAX_SENTENCES together (what bounds an ingestion's memory, checked before any
        embedding); into `report.failed` otherwise."""
        try:
            found, total, limit = read(), 0, self.settings.max_sentences
            for a in found:
                least = a.text.count("\n\n") + 1  # a sentence a paragraph at least: refused without splitting
                split = total + least <= limit
                total += len(sentences.spans(a.text, self.settings.max_sentence_chars)) if split else least
                if total > limit:
                    raise InputError(f"{source or 'text'}: more than {limit:,} sentences (QA_MAX_SENTENCES); split it "
                                     "into smaller files or raise QA_MAX_SENTENCES.")
            articles.extend(found)
        except InputError as e:
            report.failed.append((source, str(e)))

    def _add(self, articles: list[Article], report: IngestReport, progress: Progress | None) -> None:
        with self._write:
            present = self.store.document_ids()
            pending: dict[str, Article] = {}
            for a in articles:
                if a.doc_id in present or a.doc_id in pending:
                    report.skipped.append(self._info(a.doc_id) or _info(a, len(sentences.spans(a.text))))
                else:
                    pending[a.doc_id] = a
            # A large ingestion runs the model in a worker process, which embeds the next batch while this
            # process stores the last (chromadb's writes hold the GIL, so a thread cannot overlap them). It
            # costs ~1 s to start; only for the local model as the settings name it.
            big = sum(len(a.text) for a in pending.values()) >= self.settings.embed_worker_chars
            worker = big and isinstance(self.embedder, embeddings.Lazy) and self.embedder.name == embeddings.MiniLM.name
            self._pipeline(self._batches(pending.values(), report), report, progress, len(pending), worker)

    def _batches(self, articles, report: IngestReport) -> Iterator[list[tuple[Article, list]]]:
        """Articles with their sentences, about EMBED_BATCH sentences at a time."""
        batch: list[tuple[Article, list]] = []
        for a in articles:
            with _timed(report, "split"):
                batch.append((a, sentences.split(a.doc_id, a.text, self.settings.max_sentence_chars)))
            if sum(len(s) for _, s in batch) >= EMBED_BATCH:
                yield batch
                batch = []
        if batch:
            yield batch

    def _pipeline(self, batches, report: IngestReport, progress: Progress | None, total: int, use_worker: bool) -> None:
        """Embed batch i+1 (in the worker, when there is one) while batch i is stored. A worker that
        fails is closed and the rest is embedded here."""
        worker = _attempt(embeddings.Worker, self.settings.embedding, self.settings.embedding_batch) if use_worker else None
        done, ready = 0, None  # ready: (batch, its vectors), not yet stored
        try:
            for batch in batches:
                texts = [s.text for _, sents in batch for s in sents]
                sent = worker is not None and _attempt(worker.submit, texts)
                if ready:
                    done += self._store_batch(*ready, report)
                    if progress:
                        progress(done, total, "indexed")
                with _timed(report, "embed"):
                    vectors = _attempt(worker.result) if sent else None
                    if vectors is None:
                        if worker is not None:
                            worker.close()
                            worker = None
                        vectors = self.embedder.embed(texts)
                    ready = (batch, vectors)
            if ready:
                done += self._store_batch(*ready, report)
                if progress:
                    progress(done, total, "indexed")
        finally:
            if worker is not None:
                worker.close()

    def _store_batch(self, batch: list[tuple[Article, list]], vectors, report: IngestReport) -> int:
        rows, at = [], 0
        with _timed(report, "split"):
            for article, sents in batch:
                chunks = chunking.chunk(article.text, sents, self.settings.chunk_tokens, self.settings.chunk_overlap)
                rows.append((article, sents, chunks, vectors[at : at + len(sents)]))
                at += len(sents)
        with _timed(report, "store"):
            infos = self.store.add(rows)
            memory.release()
        report.added.extend(infos)
        with _timed(report, "index"):
            for (_, sents), info in zip(batch, infos):
                self.retriever.remember(sents, info)
        return len(batch)

    def remove(self, doc_id: str) -> DocumentInfo:
        """Every trace of a document: its record, sentences, chunks, and (by the new generation) its
        keyword entries."""
        with self._write:
            info = self._info(doc_id)
            if info is None:
                raise NotFoundError(f"no document {doc_id!r} in the library; `qa docs` lists the ids.")
            self.store.remove(doc_id)
            return info

    def check(self, full: bool = True) -> CheckReport:
        """What is wrong with the library: records of unfinished ingestions, documents that break the
        bounds, a keyword index out of step. full=False reads only the document records (fast)."""
        return health.check(self.store, self.settings, self.retriever.keyword_dir, full)

    def repair(self) -> CheckReport:
        """Fix what `check` finds (the report says what was done); good articles stay as they are.
        Run it when no other process is writing to this library."""
        with self._write:
            return health.repair(self.store, self.settings, self.retriever.keyword_dir)

    # -- reading -----------------------------------------------------------------------------------

    def documents(self) -> list[DocumentInfo]:
        return sorted(self.store.documents_info(), key=lambda d: (d.title.casefold(), d.doc_id))

    def article(self, doc_id: str) -> str:
        text = self.store.article_text(doc_id)
        if text is None:
            raise NotFoundError(f"no document {doc_id!r} in the library; `qa docs` lists the ids.")
        return text

    def search(self, question: str, k: int = 10, doc_ids: list[str] | None = None):
        return self.retriever.search(question, k, doc_ids)

    @property
    def mode(self) -> str:
        """'extractive', or 'llm: <model>' when a chat model is configured."""
        return self.settings.mode_label()

    def ask(self, question: str, k: int | None = None, doc_ids: list[str] | None = None) -> Answer:
        question, k = _question(question), k or self.settings.top_k
        if not self.settings.use_llm():
            return self._extractive(question, k, doc_ids)
        try:
            return self._model().ask(question, k, doc_ids)
        except ModelError as e:
            return self._fallback(e, question, k, doc_ids)

    def ask_stream(self, question: str, k: int | None = None, doc_ids: list[str] | None = None) -> Iterator[dict]:
        """Events: {"type": "token", "text"}, {"type": "citation", ...} as they arrive, then
        {"type": "answer", "answer": Answer}, the same Answer `ask` gives. Extractive: the answer only."""
        question, k = _question(question), k or self.settings.top_k
        if not self.settings.use_llm():
            yield {"type": "answer", "answer": self._extractive(question, k, doc_ids)}
            return
        try:
            yield from self._model().stream(question, k, doc_ids)
        except ModelError as e:
            yield {"type": "answer", "answer": self._fallback(e, question, k, doc_ids)}

    def as_runnable(self, k: int | None = None):
        """The answer chain as a LangChain Runnable: question (or {"question", "doc_ids"}) -> Answer."""
        if self.settings.use_llm():
            return self._model().runnable(k or self.settings.top_k)
        from langchain_core.runnables import RunnableLambda

        def extractive(x):
            q, doc_ids = (x, None) if isinstance(x, str) else (x["question"], x.get("doc_ids"))
            return self.ask(q, k, doc_ids)

        return RunnableLambda(extractive, name="qa_extractive")

    def _extractive(self, question: str, k: int, doc_ids: list[str] | None) -> Answer:
        hits = self.retriever.search(question, max(k, answer.POOL), doc_ids)
        return answer.extractive(question, hits, k)

    def _fallback(self, error: ModelError, question: str, k: int, doc_ids: list[str] | None) -> Answer:
        if not self.settings.llm_fallback:
            raise error
        ans = self._extractive(question, k, doc_ids)
        ans.note = f"The model failed ({error}); this is the extractive answer."
        return ans

    def _model(self):
        if self._model_path is None:
            from qa.chain import ModelPath

            self._model_path = ModelPath(self)
        return self._model_path

    def summarize(self, doc_ids: list[str] | None = None, sentences: int = 5) -> Summary:
        self.retriever.refresh()
        ids = doc_ids or sorted(self.retriever.docs)
        if not ids:
            raise EmptyLibraryError()
        for d in ids:
            if d not in self.retriever.docs:
                raise NotFoundError(f"no document {d!r} in the library; `qa docs` lists the ids.")
        if self.settings.use_llm():
            sents, _ = self.store.doc_sentences(ids)
            return self._model().summarize(ids, sents, self.retriever.docs, sentences)
        sents, vecs = self.store.doc_sentences(ids, vectors=True)
        return summarize.extractive(ids, sents, vecs, self.retriever.docs, sentences)

    def as_retriever(self, k: int = 5, doc_ids: list[str] | None = None):
        """A LangChain `BaseRetriever` over the sentences (Documents with ids and offsets)."""
        from qa.langchain_retriever import SentenceRetriever

        return SentenceRetriever(retriever=self.retriever, k=k, doc_ids=doc_ids)

    def _info(self, doc_id: str) -> DocumentInfo | None:
        got = self.store.documents_info([doc_id])
        return got[0] if got else None


def _info(a: Article, n: int) -> DocumentInfo:
    return DocumentInfo(a.doc_id, a.title, a.source, a.url, a.published_at, n, len(a.text))


@contextlib.contextmanager
def _timed(report: IngestReport, stage: str):
    t = time.perf_counter()
    try:
        yield
    finally:
        report.timings[stage] = report.timings.get(stage, 0.0) + time.perf_counter() - t


def _attempt(call, *args):
    """call(*args), or None when the embedding worker behind it failed (it died, or its pipe broke)."""
    try:
        return call(*args)
    except (OSError, ValueError, ModelFileError):
        return None


def _question(q: str) -> str:
    q = " ".join((q or "").split())
    if not q:
        raise InputError("the question is empty; ask something like `qa ask \"Who won?\"`.")
    return q
