"""Question -> ranked sentences: vector search (Chroma) and BM25 (bm25s), fused by reciprocal rank.
(qa/langchain_retriever.py offers the same search as a LangChain retriever.)"""

from __future__ import annotations

import threading
from pathlib import Path

from qa import clean, ingest, keyword
from qa.embeddings import Embedder
from qa.errors import DocumentNotFoundError, EmptyLibraryError
from qa.store import Store
from qa.text import tokenize
from qa.types import DocumentInfo, Hit, Sentence

RRF_K = 60  # the constant of Cormack et al. (2009); ranks, not raw scores, are fused
POOL = 50  # candidates taken from each of the two searches


class Retriever:
    def __init__(self, store: Store, embedder: Embedder, keyword_dir: Path):
        self.store = store
        self.embedder = embedder
        self.keyword_dir = keyword_dir
        self._generation: str | None = None
        self._keyword: keyword.KeywordIndex | None = None
        self.docs: dict[str, DocumentInfo] = {}
        self._lock = threading.Lock()
        self._fresh: dict[str, list[str]] = {}  # words of sentences just ingested, for the next keyword index

    def refresh(self) -> None:
        """Pick up changes made by this or another process (the store's generation stamp)."""
        gen = self.store.generation()
        if gen == self._generation:
            return
        with self._lock:
            if gen == self._generation:
                return
            self.docs = {d.doc_id: d for d in self.store.documents_info()}
            self._keyword = keyword.open_index(self.keyword_dir, gen, self._committed_ids, self._texts, self._fresh)
            self._generation = gen
            self._fresh = {}

    def remember(self, sentences: list[Sentence], doc: DocumentInfo) -> None:
        """The keyword words of a document's sentences as they are stored: the next index build takes
        them from here instead of reading the sentences back."""
        words = tokenize([_keyword_text(s.text, doc) for s in sentences])
        with self._lock:
            self._fresh.update(zip((s.id for s in sentences), words))

    def _committed_ids(self) -> list[str]:
        """Ids of the sentences of every document on record: a sentence stored by an ingestion that
        died before its document record was written is not searched."""
        return [f"{d}:{n}" for d in sorted(self.docs) for n in range(self.docs[d].sentences)]

    def _texts(self, ids: list[str]) -> list[str]:
        """What the keyword index knows of each sentence: its words, and its article's headline and
        publisher, which say what the sentence is about when the sentence itself does not ("It fell
        on Sunday."); questions name outlets and topics ("According to TechCrunch, ...")."""
        sents, _ = self.store.get_sentences(ids)
        text = {s.id: s.text for s in sents}
        return [_keyword_text(text.get(i, ""), self.docs.get(i.rsplit(":", 1)[0])) for i in ids]

    def context(self, hits: list[Hit]) -> dict[str, tuple[Sentence | None, Sentence | None]]:
        """Each hit's neighbours in its chunk (the window it was written in): (the sentence before, the one after),
        None at a chunk's edge. What a sentence means often depends on them ("It was ...", "He said ...")."""
        if not hits:
            return {}
        chunks = self.store.chunk_sentence_ids(sorted({h.sentence.doc_id for h in hits}))
        around = {}
        for h in hits:
            window = _window(chunks.get(h.sentence.doc_id, []), h.sentence.id)
            at = window.index(h.sentence.id)
            around[h.sentence.id] = (
                window[at - 1] if at > 0 else None,
                window[at + 1] if at + 1 < len(window) else None,
            )
        wanted = sorted({i for pair in around.values() for i in pair if i})
        found = {s.id: s for s in self.store.get_sentences(wanted)[0]} if wanted else {}
        return {sid: (found.get(b), found.get(a)) for sid, (b, a) in around.items()}

    def search(self, question: str, k: int = 10, doc_ids: list[str] | None = None, hybrid: bool = True) -> list[Hit]:
        """The k best sentences, best first; `similarity` is the exact cosine for every hit. hybrid=False:
        the vector search alone."""
        self.refresh()
        if not self.docs:
            raise EmptyLibraryError()
        if doc_ids:
            missing = [d for d in doc_ids if d not in self.docs]
            if missing:
                raise DocumentNotFoundError(missing[0])
        qvec = self.embedder.embed([question])[0]
        stored = sum(self.docs[d].sentences for d in doc_ids or self.docs)
        vector = self.store.nearest(qvec, min(POOL, stored), doc_ids)
        kw = self._keyword.search(question, POOL, doc_ids) if hybrid else []
        fused: dict[str, float] = {}
        for ranking in (vector, kw):
            for rank, (sid, _) in enumerate(ranking):
                fused[sid] = fused.get(sid, 0.0) + 1.0 / (RRF_K + rank + 1)
        best = [s for s in sorted(fused, key=fused.get, reverse=True) if s.rsplit(":", 1)[0] in self.docs][:k]
        if not best:
            return []
        sents, vecs = self.store.get_sentences(best, vectors=True)
        sims = vecs @ qvec  # (n,)
        bm25 = dict(kw)
        # the sentence before each hit: the reader resolves "it" and "he" with it
        prev_ids = [f"{s.doc_id}:{s.n - 1}" for s in sents if s.n > 0]
        prev = self.store.get_sentences(prev_ids)[0] if prev_ids else []
        before = {p.id: p.text for p in prev}
        hits = [
            Hit(
                s,
                fused[s.id],
                float(sim),
                bm25.get(s.id, 0.0),
                self.docs[s.doc_id].title,
                self.docs[s.doc_id].url,
                before.get(f"{s.doc_id}:{s.n - 1}", ""),
            )
            for s, sim in zip(sents, sims)
        ]
        return sorted(hits, key=lambda h: -h.score)


def _window(chunks: list[list[str]], sid: str) -> list[str]:
    """The chunk a sentence is read in: the one where it has the most neighbours around it."""
    holding = [c for c in chunks if sid in c]
    return max(holding, key=lambda c: min(c.index(sid), len(c) - 1 - c.index(sid)), default=[sid])


def _keyword_text(sentence: str, doc: DocumentInfo | None) -> str:
    """What the keyword index reads for a sentence: its words, then its article's headline and publisher."""
    return f"{sentence}\n{_about(doc)}"


def _about(doc: DocumentInfo | None) -> str:
    """Headline and publisher; a local file's path names no publisher and is left out. Both are cut to
    their bounds here too: a record written before titles were bounded must not be copied whole into
    each of its sentences' entries."""
    if doc is None:
        return ""
    title, source = (clean.clip(v, ingest.FIELD_CHARS[k]) for k, v in (("title", doc.title), ("source", doc.source)))
    path_like = any(c in source for c in "/\\.") and not source.startswith(("http://", "https://"))
    return title if path_like and not doc.url else f"{title} {source}"
