"""Retrieval logic on the fake embedder (real Chroma in a temp dir, no model): hybrid ranking, restricting
to documents, the errors, and the vector-only search."""

import pytest
from conftest import FakeEmbedder

from qa.config import Settings
from qa.errors import DocumentNotFoundError, EmptyLibraryError
from qa.ingest import from_text
from qa.library import Library

FERRY = from_text(
    "Ferry returns\n\nThe island ferry runs again from Monday. Tickets cost four pounds. "
    "The harbour master said the pier was repaired over the winter.",
    source="Island Gazette",
)
ZOO = from_text(
    "Zebras escape\n\nThree zebras escaped from the city zoo on Tuesday. Keepers found them in a park "
    "near the river. The zoo said no visitor was hurt.",
    source="City Times",
)


@pytest.fixture(scope="module")
def lib(tmp_path_factory):
    lib = Library(tmp_path_factory.mktemp("retrieve"), Settings(mode="extractive"), embedder=FakeEmbedder())
    lib.ingest([FERRY, ZOO])
    return lib


def test_the_sentence_with_the_question_words_comes_first(lib):
    hits = lib.search("How much do ferry tickets cost?", k=3)
    assert hits[0].sentence.text == "Tickets cost four pounds."
    assert hits[0].title == "Ferry returns" and hits[0].keyword > 0
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_restricted_to_a_document_finds_nothing_elsewhere(lib):
    hits = lib.search("Where were the zebras found?", k=10, doc_ids=[FERRY.doc_id])
    assert hits and {h.sentence.doc_id for h in hits} == {FERRY.doc_id}


def test_vector_only_search_has_no_keyword_scores(lib):
    hits = lib.search("zebras escaped from the zoo", k=4, hybrid=False)
    assert hits and all(h.keyword == 0.0 for h in hits)
    assert [h.similarity for h in hits] == sorted((h.similarity for h in hits), reverse=True)


def test_unknown_document_and_empty_library(lib, tmp_path):
    with pytest.raises(DocumentNotFoundError, match="no document 'nope'.*qa docs"):
        lib.search("ferry", doc_ids=["nope"])
    with pytest.raises(EmptyLibraryError, match="qa ingest"):
        Library(tmp_path, Settings(mode="extractive"), embedder=FakeEmbedder()).search("ferry")


def test_citation_and_document_by_id(lib):
    hit = lib.search("harbour master pier", k=1)[0]
    c = lib.citation(hit.sentence.id, marker=3)
    assert (c.marker, c.text, c.title) == (3, hit.sentence.text, "Ferry returns")
    assert lib.article(c.doc_id)[c.start : c.end] == c.text
    assert lib.document(c.doc_id).source == "Island Gazette"
    assert lib.citation(f"{c.doc_id}:999") is None


def test_context_is_the_sentence_before_and_after_in_the_chunk(lib):
    hits = lib.search("harbour master pier repaired winter", k=5)
    pier = next(h for h in hits if "harbour master" in h.sentence.text)
    first = next(h for h in lib.search("island ferry runs again from Monday", k=5) if "island ferry" in h.sentence.text)
    around = lib.retriever.context([pier, first])
    before, after = around[pier.sentence.id]
    assert before.text == "Tickets cost four pounds." and after is None  # the article's last sentence
    assert around[first.sentence.id][0] is None and around[first.sentence.id][1].text == "Tickets cost four pounds."


def test_the_vector_search_finds_nearly_all_of_the_exact_nearest(tmp_path):
    """The retriever takes 50 neighbours from Chroma's HNSW graph. With Chroma's default search breadth (100), on
    20,000 clustered vectors it finds 0.80 of the exact 50 nearest; at store.EF_SEARCH, 0.97."""
    import numpy as np

    from qa.store import Store

    rng = np.random.default_rng(7)
    centres = rng.normal(size=(200, 384))
    x = centres[rng.integers(0, 200, 20_000)] + 0.6 * rng.normal(size=(20_000, 384))
    x = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
    store = Store(Settings(data_dir=tmp_path), "fake")
    for i in range(0, len(x), store.batch):
        store.sentences.add(
            ids=[f"d:{j}" for j in range(i, min(len(x), i + store.batch))], embeddings=x[i : i + store.batch]
        )
    queries = x[rng.integers(0, len(x), 40)] + 0.3 * rng.normal(size=(40, 384)).astype(np.float32)
    found = []
    for q in queries / np.linalg.norm(queries, axis=1, keepdims=True):
        exact = {f"d:{j}" for j in np.argsort(-(x @ q))[:50]}
        found.append(len(exact & {s for s, _ in store.nearest(q, 50)}) / 50)
    assert np.mean(found) >= 0.9
