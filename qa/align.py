"""The question's words aligned to an evidence sentence's words by MiniLM's contextual word vectors, as
BERTScore aligns a candidate to a reference: each content word of the question finds its closest word in
the sentence (and in its context window). Word overlap sees "soldiers" and "fighters" as different and
"leads" and "took" as equally absent; these vectors put "soldiers" at 0.56 of "fighters" and "leads" at
0.2 of "took", and a short question whose pooled cosine with its answer is near 0 ("Who is the director
of the Observatory?") still finds both its words (0.63, 0.72). The reader's model reads the mean and the
weakest word. Always all-MiniLM-L6-v2 (it ships in the default install), whatever embeds the index.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict

import numpy as np

from qa import embeddings

CACHE = 2_000  # texts whose word vectors are kept (~50 KB each): evidence sentences come back question after question
_lock = threading.Lock()
_cache: OrderedDict[str, tuple[np.ndarray, list[tuple[int, int]]]] = OrderedDict()


@functools.cache
def _stop_words() -> frozenset[str]:
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(STOP_WORDS)


def word_vectors(texts: list[str]) -> list[tuple[np.ndarray, list[tuple[int, int]]]]:
    """Per text, its words' unit vectors and character spans, from the cache when seen before."""
    with _lock:
        known = {t: _cache[t] for t in texts if t in _cache}
    missing = list(dict.fromkeys(t for t in texts if t not in known))
    if missing:
        known.update(zip(missing, embeddings.load("minilm").word_vectors(missing)))
    with _lock:
        for t in texts:
            _cache[t] = known[t]
            _cache.move_to_end(t)
        while len(_cache) > CACHE:
            _cache.popitem(last=False)
    return [known[t] for t in texts]


def content(text: str, vectors: np.ndarray, spans: list[tuple[int, int]], stop: frozenset[str]) -> np.ndarray:
    """The vectors of the words that carry meaning: not stop words, not punctuation."""
    keep = [
        i
        for i, (a, b) in enumerate(spans)
        if any(ch.isalnum() for ch in text[a:b]) and text[a:b].casefold() not in stop
    ]
    return vectors[keep]


def alignments(question: str, sentences: list[str], contexts: list[str]) -> list[tuple[float, float, float, float]]:
    """Per sentence: (mean, weakest) over the question's content words of the best cosine with a word of
    the sentence, then the same with the words of its context (the sentence before it, its title) added.
    (0, 0, 0, 0) when the question has no content word."""
    vecs = word_vectors([question, *sentences, *contexts])
    q = content(question, *vecs[0], _stop_words())
    n = len(sentences)
    out = []
    for i in range(n):
        own = vecs[1 + i][0]
        both = np.vstack([own, vecs[1 + n + i][0]])
        out.append((*_scores(q, own), *_scores(q, both)))
    return out


def _scores(q: np.ndarray, words: np.ndarray) -> tuple[float, float]:
    if len(q) == 0 or len(words) == 0:
        return 0.0, 0.0
    best = (q @ words.T).max(axis=1)
    return float(best.mean()), float(best.min())
