"""BM25 keyword index over sentences (bm25s, English stopwords, Snowball stemming).

Built from the sentences in the store and saved under `<data_dir>/keyword/<generation>`, so it is a
cache of the store, never a second source of truth: a process that finds the store's generation stamp
changed (another process ingested) loads or rebuilds the index for the new stamp.
"""

from __future__ import annotations

import json
import shutil
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import numpy as np

from qa.text import tokenize

TOKENS = "tokens-3.json"  # the words saved per sentence; a new name when what is indexed changes
READ_BATCH = 5000  # sentences read from the store per call when the index grows
STALE_SECONDS = 600  # a half-built index folder older than this was left by a stopped build


class KeywordIndex:
    def __init__(self, ids: list[str], model, tokens: dict[str, list[str]] | None = None) -> None:
        self.ids = ids
        self.model = model  # bm25s.BM25, or None for an empty library
        self.doc_of = np.array([i.rsplit(":", 1)[0] for i in ids])
        self.tokens = tokens  # id -> its words; kept on disk so the next generation tokenizes only what is new

    @classmethod
    def build(cls, ids: list[str], tokens: dict[str, list[str]]) -> KeywordIndex:
        import bm25s

        if not ids:
            return cls([], None, {})
        model = bm25s.BM25()
        model.index([tokens[i] for i in ids], show_progress=False)
        return cls(ids, model, {i: tokens[i] for i in ids})

    def save(self, folder: Path) -> None:
        tmp = folder.with_name(f"{folder.name}.{uuid.uuid4().hex}.tmp")
        tmp.mkdir(parents=True)
        if self.model is not None:
            self.model.save(str(tmp))
        (tmp / "ids.json").write_text(json.dumps(self.ids))
        (tmp / TOKENS).write_text(json.dumps(self.tokens or {}))
        try:
            tmp.rename(folder)  # a reader sees the whole index or none
        except OSError:  # another process saved the same generation first: theirs is as good
            shutil.rmtree(tmp, ignore_errors=True)

    @classmethod
    def load(cls, folder: Path) -> KeywordIndex:
        import bm25s

        ids = json.loads((folder / "ids.json").read_text())
        model = bm25s.BM25.load(str(folder), mmap=True) if ids else None
        return cls(ids, model)

    def search(self, query: str, k: int, doc_ids: list[str] | None = None) -> list[tuple[str, float]]:
        """(sentence id, BM25 score) of the k best sentences with a score above zero."""
        if self.model is None:
            return []
        tokens = [t for t in tokenize([query])[0] if t in self.model.vocab_dict]
        if not tokens:
            return []
        scores = self.model.get_scores(tokens)  # (n_sentences,)
        if doc_ids:
            scores = np.where(np.isin(self.doc_of, doc_ids), scores, 0.0)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top])]
        return [(self.ids[i], float(scores[i])) for i in top if scores[i] > 0]


def open_index(
    folder: Path,
    generation: str,
    ids: Callable[[], list[str]],
    texts: Callable[[list[str]], list[str]],
    fresh: dict[str, list[str]] | None = None,
) -> KeywordIndex:
    """The index for this generation: loaded from disk when there, else built and saved, and older
    generations removed. `ids()` lists the sentences the library holds now; `texts(ids)` reads those
    sentences. Only sentences the previous generation did not have are read and tokenized: adding one
    article to a large library costs that article, not the library. `fresh`: words of sentences this
    process has just written (tokenized while the model embedded), which need no reading back."""
    path = folder / (generation or "empty")
    if (path / "ids.json").exists():
        if (path / TOKENS).exists():
            return KeywordIndex.load(path)
        shutil.rmtree(path, ignore_errors=True)  # built by an older qa, whose words were split otherwise
    wanted = ids()
    known = _previous_tokens(folder, path)
    known.update(fresh or {})
    new = [i for i in wanted if i not in known]
    for b in range(0, len(new), READ_BATCH):
        part = new[b : b + READ_BATCH]
        known.update(zip(part, tokenize(texts(part))))
    index = KeywordIndex.build(wanted, known)
    index.save(path)
    index.tokens = None  # on disk now; not needed to search
    for old in folder.iterdir():
        if old != path and old.is_dir() and not old.name.endswith(".tmp"):
            shutil.rmtree(old, ignore_errors=True)
    return index


def stale(folder: Path, generation: str, sentences: int) -> list[tuple[Path, str]]:
    """Folders here that should not be: builds stopped half-way (older than STALE_SECONDS, so a build
    running now is left alone), and this generation's index when it cannot be read or does not hold the
    library's `sentences`. (folder, why) each."""
    if not folder.is_dir():
        return []
    out, now = [], time.time()
    for d in sorted(p for p in folder.iterdir() if p.is_dir()):
        if d.name.endswith(".tmp"):
            if now - d.stat().st_mtime > STALE_SECONDS:
                out.append((d, "left by an index build that was stopped"))
        elif d.name == (generation or "empty"):  # older generations are what the next build starts from
            try:
                held = len(json.loads((d / "ids.json").read_text()))
            except (OSError, ValueError):
                out.append((d, "this generation's index cannot be read"))
                continue
            if held != sentences:
                out.append((d, f"this generation's index holds {held:,} sentences, the library {sentences:,}"))
    return out


def _previous_tokens(folder: Path, current: Path) -> dict[str, list[str]]:
    """The words of every sentence in the newest earlier generation saved here ({} if none)."""
    if not folder.is_dir():
        return {}
    saved = [d for d in folder.iterdir() if d != current and (d / TOKENS).is_file() and not d.name.endswith(".tmp")]
    if not saved:
        return {}
    newest = max(saved, key=lambda d: (d / TOKENS).stat().st_mtime)
    try:
        return json.loads((newest / TOKENS).read_text())
    except (OSError, ValueError):  # removed by another process meanwhile, or cut short: start afresh
        return {}
