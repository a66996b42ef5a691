"""Articles -> sentences, chunks and vectors -> the store, a batch at a time: the model embeds batch i+1 (in a
worker process for a large ingestion) while Chroma stores batch i. Called by the facade under its write lock."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator

from qa import chunking, embeddings, memory, sentences
from qa.config import Settings
from qa.errors import ModelFileError
from qa.retrieve import Retriever
from qa.store import Store
from qa.types import Article, IngestReport

# progress(done, total, what): called after each source is read and each batch is stored
Progress = Callable[[int, int, str], None]
EMBED_BATCH = 2048  # sentences embedded, then stored, together across articles: fewer, fuller calls


class Stages:
    def __init__(
        self,
        settings: Settings,
        embedder,
        store: Store,
        retriever: Retriever,
        report: IngestReport,
        progress: Progress | None,
    ):
        self.settings, self.embedder, self.store, self.retriever = settings, embedder, store, retriever
        self.report, self.progress = report, progress

    def run(self, articles: list[tuple[Article, list]], use_worker: bool) -> None:
        """Articles with their sentence spans (qa/sentences.py, split once where the sentences were counted)."""
        self._pipeline(self._batches(articles), len(articles), use_worker)

    def _batches(self, articles) -> Iterator[list[tuple[Article, list]]]:
        """Articles with their sentences, about EMBED_BATCH sentences at a time."""
        batch: list[tuple[Article, list]] = []
        for a, spans in articles:
            with timed(self.report, "split"):
                batch.append((a, sentences.split(a.doc_id, a.text, found=spans)))
            if sum(len(s) for _, s in batch) >= EMBED_BATCH:
                yield batch
                batch = []
        if batch:
            yield batch

    def _pipeline(self, batches, total: int, use_worker: bool) -> None:
        """Embed batch i+1 (in the worker, when there is one) while batch i is stored. A worker that
        fails is closed and the rest is embedded here."""
        worker = (
            attempt(embeddings.Worker, self.settings.embedding, self.settings.embedding_batch) if use_worker else None
        )
        done, ready = 0, None  # ready: (batch, its vectors), not yet stored
        try:
            for batch in batches:
                texts = [s.text for _, sents in batch for s in sents]
                sent = worker is not None and attempt(worker.submit, texts)
                if ready:
                    done += self._store_batch(*ready)
                    if self.progress:
                        self.progress(done, total, "indexed")
                with timed(self.report, "embed"):
                    vectors = attempt(worker.result) if sent else None
                    if vectors is None:
                        if worker is not None:
                            worker.close()
                            worker = None
                        vectors = self.embedder.embed(texts)
                    ready = (batch, vectors)
            if ready:
                done += self._store_batch(*ready)
                if self.progress:
                    self.progress(done, total, "indexed")
        finally:
            if worker is not None:
                worker.close()

    def _store_batch(self, batch: list[tuple[Article, list]], vectors) -> int:
        rows, at = [], 0
        with timed(self.report, "split"):
            for article, sents in batch:
                chunks = chunking.chunk(article.text, sents, self.settings.chunk_tokens, self.settings.chunk_overlap)
                rows.append((article, sents, chunks, vectors[at : at + len(sents)]))
                at += len(sents)
        with timed(self.report, "store"):
            infos = self.store.add(rows)
            memory.release()
        self.report.added.extend(infos)
        with timed(self.report, "index"):
            for (_, sents), info in zip(batch, infos):
                self.retriever.remember(sents, info)
        return len(batch)


@contextlib.contextmanager
def timed(report: IngestReport, stage: str):
    t = time.perf_counter()
    try:
        yield
    finally:
        report.timings[stage] = report.timings.get(stage, 0.0) + time.perf_counter() - t


def attempt(call, *args):
    """call(*args), or None when the embedding worker behind it failed (it died, or its pipe broke)."""
    try:
        return call(*args)
    except (OSError, ValueError, ModelFileError):
        return None
