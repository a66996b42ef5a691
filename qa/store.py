"""The only module that imports chromadb: an embedded PersistentClient under the data dir, or a Chroma
server (`QA_CHROMA_URL`). Three collections, all with vectors we compute ourselves:

  qa_sentences  one record a sentence: id "<doc>:<n>", text, {doc_id, n, start, end}; sentence retrieval
  qa_chunks     windows of whole sentences: {doc_id, sentence_ids, start, end, tokens}; vector = mean
                of its sentences' vectors; no text of its own (it is the article's text[start:end])
  qa_documents  one record an article: clean text, {title, source, url, published_at, sentences, chars},
                and for a PDF {pages}: its page map as a JSON list

A document exists when its qa_documents record does: that record is written last and deleted first, so
an ingestion killed half-way leaves no visible half-article, and re-running it completes it. Records are
written with `add`, not `upsert` (cheaper): ids are content hashes,
so a record already there is the same record; leftovers of a killed ingestion that differ are removed first.
"""

from __future__ import annotations

import functools
import json
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from urllib.parse import urlparse

import numpy as np

from qa.config import Settings
from qa.errors import ConfigError, QAError, StoreError
from qa.ingest import bounded_info
from qa.types import Article, Chunk, DocumentInfo, Sentence

SCHEMA = 1
PAGE = 5000  # records read per call when reading a whole collection
SENTENCES, CHUNKS, DOCUMENTS = "qa_sentences", "qa_chunks", "qa_documents"
# HNSW candidates kept while searching (Chroma's default is 100). The retriever asks for 50 neighbours; at 100 the
# graph search misses some, and which ones changes with each build of the index. Measured on the perf bench's 100k
# corpus (200 MultiHop questions): vector top-50 agreeing with exact search 0.941 -> 0.990, evidence recall@10
# 0.785 -> 0.797, search p50 8 -> 11 ms; on the RGB corpus, two builds disagree on the vector top-20 of fewer
# questions (about 5 of 200 instead of 9). Set when a collection is made: older indexes keep theirs.
EF_SEARCH = 400


def _reachable(method):
    """A Chroma server that is down or was never up: one line that names the address and the fix, from
    whichever call first notices, instead of the HTTP client's exception."""

    @functools.wraps(method)
    def call(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except QAError:
            raise
        except Exception as e:
            import httpx

            down = isinstance(e, httpx.TransportError) or "Could not connect to a Chroma server" in str(e)
            if self.url and down:
                raise StoreError(
                    f"cannot reach the Chroma server at {self.url} (QA_CHROMA_URL): is it running? Start one "
                    "with `chroma run --path DIR --host 127.0.0.1 --port 8000`, or unset QA_CHROMA_URL to use "
                    "the embedded store."
                ) from None
            raise

    return call


class Store:
    @_reachable
    def __init__(self, settings: Settings, embedding: str):
        import chromadb

        self.url = settings.chroma_url

        chroma_settings = chromadb.Settings(anonymized_telemetry=False, allow_reset=False)
        if settings.chroma_url:
            url = urlparse(settings.chroma_url)
            if not url.hostname:
                raise ConfigError(f"QA_CHROMA_URL={settings.chroma_url!r} is not a URL like http://127.0.0.1:8000.")
            self.client = chromadb.HttpClient(
                host=url.hostname, port=url.port or 8000, ssl=url.scheme == "https", settings=chroma_settings
            )
        else:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
            self.client = chromadb.PersistentClient(path=str(settings.data_dir / "chroma"), settings=chroma_settings)
        meta = {"embedding": embedding, "schema": SCHEMA}
        self.sentences = self._collection(SENTENCES, meta)
        self.chunks = self._collection(CHUNKS, meta)
        self.documents = self._collection(DOCUMENTS, meta)
        self.batch = self.client.get_max_batch_size()

    def _collection(self, name: str, meta: dict):
        col = self.client.get_or_create_collection(
            name,
            embedding_function=None,
            metadata=meta,
            configuration={"hnsw": {"space": "cosine", "ef_search": EF_SEARCH}},
        )
        built_with = (col.metadata or {}).get("embedding")
        if built_with != meta["embedding"]:
            raise ConfigError(
                f"this index was built with the embedding {built_with!r}, not {meta['embedding']!r}; "
                f"set QA_EMBEDDING to match or use another --data-dir."
            )
        return col

    # -- writing ---------------------------------------------------------------------------------

    @_reachable
    def add(self, batch: list[tuple[Article, list[Sentence], list[Chunk], np.ndarray]]) -> list[DocumentInfo]:
        """Articles with their sentences, chunks and sentence vectors ((n_sentences, dim) each), in three
        bulk writes: all sentences, all chunks, then all document records, which make them visible."""
        self._drop_leftovers(batch)
        sentences = [s for _, sents, _, _ in batch for s in sents]
        chunks = [c for _, _, chs, _ in batch for c in chs]
        vectors = np.concatenate([v for *_, v in batch])
        chunk_vecs = np.concatenate([_chunk_vectors(sents, chs, v) for _, sents, chs, v in batch])
        self._add(
            self.sentences,
            [s.id for s in sentences],
            vectors,
            [s.text for s in sentences],
            [{"doc_id": s.doc_id, "n": s.n, "start": s.start, "end": s.end} for s in sentences],
        )
        self._add(
            self.chunks,
            [c.id for c in chunks],
            chunk_vecs,
            None,
            [
                {
                    "doc_id": c.doc_id,
                    "sentence_ids": json.dumps(c.sentence_ids),
                    "start": c.start,
                    "end": c.end,
                    "tokens": c.tokens,
                }
                for c in chunks
            ],
        )
        infos = [
            DocumentInfo(a.doc_id, a.title, a.source, a.url, a.published_at, len(sents), len(a.text), a.pages)
            for a, sents, _, _ in batch
        ]
        # written last: from here on the documents exist
        self._add(
            self.documents,
            [a.doc_id for a, *_ in batch],
            np.stack([v.mean(0) for *_, v in batch]),
            [a.text for a, *_ in batch],
            [_document_meta(i) for i in infos],
        )
        self.touch()
        return infos

    def _drop_leftovers(self, batch: list[tuple[Article, list[Sentence], list[Chunk], np.ndarray]]) -> None:
        """Records of these (not yet present) documents left by an ingestion killed before their document
        records: kept when they are exactly what is about to be written (then `add` leaves them be, and a
        second process adding the same article at once is never undone), removed when they differ (say,
        split under another QA_MAX_SENTENCE_CHARS), so that `add` cannot keep a stale one."""
        ids = [a.doc_id for a, *_ in batch]
        old_sents = self.sentences.get(where={"doc_id": {"$in": ids}}, include=["documents", "metadatas"])
        old_chunks = self.chunks.get(where={"doc_id": {"$in": ids}}, include=["metadatas"])
        if not old_sents["ids"] and not old_chunks["ids"]:
            return
        want = {s.id: (s.text, s.start, s.end) for _, sents, _, _ in batch for s in sents}
        want.update({c.id: json.dumps(c.sentence_ids) for _, _, chunks, _ in batch for c in chunks})
        have = {
            i: (t, m["start"], m["end"])
            for i, t, m in zip(old_sents["ids"], old_sents["documents"], old_sents["metadatas"])
        }
        have.update({i: m["sentence_ids"] for i, m in zip(old_chunks["ids"], old_chunks["metadatas"])})
        stale = sorted({i.split(":")[0].split("#")[0] for i, v in have.items() if want.get(i) != v})
        if stale:
            self.sentences.delete(where={"doc_id": {"$in": stale}})
            self.chunks.delete(where={"doc_id": {"$in": stale}})

    @_reachable
    def remove(self, doc_id: str) -> None:
        self.documents.delete(ids=[doc_id])  # first: from here on the document is gone
        self.sentences.delete(where={"doc_id": doc_id})
        self.chunks.delete(where={"doc_id": doc_id})
        self.touch()

    def _add(self, col, ids, vecs, docs, metas) -> None:
        for b in range(0, len(ids), self.batch):
            s = slice(b, b + self.batch)
            col.add(ids=ids[s], embeddings=vecs[s], documents=docs[s] if docs else None, metadatas=metas[s])

    @_reachable
    def touch(self) -> None:
        """A new generation stamp: other processes (and our keyword index) see the library changed."""
        meta = dict(self.documents.metadata or {})
        meta["generation"] = uuid.uuid4().hex
        self.documents.modify(metadata=meta)

    # -- reading ---------------------------------------------------------------------------------

    @_reachable
    def generation(self) -> str:
        col = self.client.get_collection(DOCUMENTS, embedding_function=None)
        return (col.metadata or {}).get("generation", "")

    @_reachable
    def document_ids(self) -> set[str]:
        return {i for page in _pages(self.documents, include=[]) for i in page["ids"]}

    @_reachable
    def documents_info(self, ids: Iterable[str] | None = None, as_stored: bool = False) -> list[DocumentInfo]:
        """Document records; their fields cut to the bounds of `ingest.FIELD_CHARS` (a record written
        before fields were bounded may hold a whole text as its title) unless `as_stored`."""
        pages = _pages(self.documents, list(ids) if ids is not None else None, include=["metadatas"])
        infos = [_document_info(i, m) for got in pages for i, m in zip(got["ids"], got["metadatas"])]
        return infos if as_stored else [bounded_info(i) for i in infos]

    @_reachable
    def records_per_document(self) -> tuple[Counter, Counter]:
        """(sentences, chunks) stored per doc_id, whether or not a document record exists: read in pages."""

        def count(col) -> Counter:
            return Counter(m["doc_id"] for got in _pages(col, include=["metadatas"]) for m in got["metadatas"])

        return count(self.sentences), count(self.chunks)

    @_reachable
    def damaged(self) -> list[tuple[str, str]]:
        """(collection, error) of each collection that cannot be counted or searched: Chroma writes its
        vector index's metadata file in place, and a process killed while writing it leaves a file that
        every later read fails on ("Error deserializing pickle file")."""
        out = []
        for col in (self.sentences, self.chunks, self.documents):
            try:
                if col.count():
                    probe = col.get(limit=1, include=["embeddings"])["embeddings"][0]
                    col.query(query_embeddings=[probe], n_results=1, include=[])
            except Exception as e:  # noqa: BLE001  whatever the store raises is the damage to report
                out.append((col.name, " ".join(str(e).split())[:300]))
        return out

    @_reachable
    def article_texts(self, ids: list[str]) -> Iterator[tuple[str, str]]:
        """(doc_id, clean text) of these documents, a page at a time."""
        for got in _pages(self.documents, ids, include=["documents"], size=PAGE // 50):
            yield from zip(got["ids"], got["documents"])

    @_reachable
    def drop_records(self, doc_ids: list[str]) -> None:
        """Sentences and chunks of documents that have no record (an ingestion killed before writing it)."""
        if doc_ids:
            self.sentences.delete(where={"doc_id": {"$in": doc_ids}})
            self.chunks.delete(where={"doc_id": {"$in": doc_ids}})
            self.touch()

    @_reachable
    def update_fields(self, info: DocumentInfo) -> None:
        """Rewrite a document record's fields (title, source, ...) in place; its text and vector stay."""
        self.documents.update(ids=[info.doc_id], metadatas=[_document_meta(info)])
        self.touch()

    @_reachable
    def article_text(self, doc_id: str) -> str | None:
        got = self.documents.get(ids=[doc_id], include=["documents"])
        return got["documents"][0] if got["ids"] else None

    @_reachable
    def get_sentences(self, ids: list[str], vectors: bool = False) -> tuple[list[Sentence], np.ndarray | None]:
        include = ["documents", "metadatas"] + (["embeddings"] if vectors else [])
        got = self.sentences.get(ids=ids, include=include)
        sents = [_sentence(i, d, m) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"])]
        return sents, (np.asarray(got["embeddings"], dtype=np.float32) if vectors else None)

    @_reachable
    def doc_sentences(self, doc_ids: list[str], vectors: bool = False) -> tuple[list[Sentence], np.ndarray | None]:
        """All sentences of these documents in reading order, with their vectors if asked."""
        include = ["documents", "metadatas"] + (["embeddings"] if vectors else [])
        got = self.sentences.get(where={"doc_id": {"$in": doc_ids}}, include=include)
        sents = [_sentence(i, d, m) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"])]
        order = sorted(range(len(sents)), key=lambda i: (doc_ids.index(sents[i].doc_id), sents[i].n))
        vecs = np.asarray(got["embeddings"], dtype=np.float32)[order] if vectors and sents else None
        return [sents[i] for i in order], vecs

    @_reachable
    def chunk_sentence_ids(self, doc_ids: list[str]) -> dict[str, list[list[str]]]:
        """The sentence ids of each chunk of these documents, chunks in reading order."""
        got = self.chunks.get(where={"doc_id": {"$in": doc_ids}}, include=["metadatas"])
        out: dict[str, list[tuple[int, list[str]]]] = {}
        for cid, meta in zip(got["ids"], got["metadatas"]):
            out.setdefault(meta["doc_id"], []).append((int(cid.rsplit("#", 1)[1]), _chunk_sentences(meta)))
        return {d: [ids for _, ids in sorted(chunks)] for d, chunks in out.items()}

    @_reachable
    def nearest(self, vector: np.ndarray, k: int, doc_ids: list[str] | None = None) -> list[tuple[str, float]]:
        """(sentence id, cosine similarity) of the k nearest sentences; k must not exceed the number
        stored (the caller knows it from the document records, so no count() round trip here)."""
        if k <= 0:
            return []
        where = {"doc_id": {"$in": doc_ids}} if doc_ids else None
        got = self.sentences.query(query_embeddings=[vector], n_results=k, where=where, include=["distances"])
        return [(i, 1.0 - d) for i, d in zip(got["ids"][0], got["distances"][0])]


def _chunk_sentences(meta: dict) -> list[str]:
    return json.loads(meta["sentence_ids"])


def _pages(
    col, ids: list[str] | None = None, include: list[str] | None = None, size: int | None = None
) -> Iterator[dict]:
    """`col.get` a page at a time: one call for more than about 32,000 records exceeds SQLite's limit on
    a statement's variables ("too many SQL variables"), and a library of 40,000 articles could not list them."""
    size = size or PAGE
    if ids is not None:
        for b in range(0, len(ids), size):
            yield col.get(ids=ids[b : b + size], include=include)
        return
    offset = 0
    while True:
        got = col.get(include=include, limit=size, offset=offset)
        yield got
        if len(got["ids"]) < size:
            return
        offset += size


def _chunk_vectors(sents: list[Sentence], chunks: list[Chunk], vectors: np.ndarray) -> np.ndarray:
    """A chunk's vector is the mean of its sentences' vectors: no second pass through the model."""
    index = {s.id: i for i, s in enumerate(sents)}
    return np.stack([vectors[[index[i] for i in c.sentence_ids]].mean(0) for c in chunks])


def _document_meta(info: DocumentInfo) -> dict:
    """A document record's metadata: Chroma takes no empty lists, so a page map is a JSON string, and only
    a PDF has one."""
    meta = {k: v for k, v in info.to_dict().items() if k not in ("doc_id", "pages")}
    return meta | ({"pages": json.dumps(info.pages)} if info.pages else {})


def _document_info(doc_id: str, meta: dict) -> DocumentInfo:
    meta = dict(meta)
    pages = tuple(json.loads(meta.pop("pages", "[]")))
    return DocumentInfo(doc_id=doc_id, **meta, pages=pages)


def _sentence(id: str, text: str, meta: dict) -> Sentence:
    return Sentence(id=id, doc_id=meta["doc_id"], n=meta["n"], text=text, start=meta["start"], end=meta["end"])
