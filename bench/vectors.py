"""Sentence vectors cached on disk by content (~/.cache/qa-bench), so a second benchmark run embeds
nothing; and an Embedder that reads through the cache."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

import numpy as np

MAX_SHARDS = 64  # vector-cache files before they are merged
SHARD_TEXTS = 4096  # texts embedded (and saved) at a time


def cache_dir() -> Path:
    return Path.home() / ".cache" / "qa-bench"


class VectorCache:
    """Sentence vectors on disk, one key per text (a hash of it) under a folder per embedding model;
    written in shards, so runs over overlapping texts (quick and full, dev and test) share them."""

    def __init__(self, embedder, root: Path | None = None):
        self.embedder = embedder
        self.name = embedder.name
        self.root = root or cache_dir()
        self.dir = self.root / hashlib.sha256(embedder.name.encode()).hexdigest()[:12]
        self.rows: dict[str, np.ndarray] = {}
        self.embedded = 0  # texts this process had to embed (0 on a warm cache)
        self.used: set[str] = set()  # keys of the texts asked for
        shards = sorted(self.dir.glob("[!.]*.npz")) if self.dir.is_dir() else []
        for shard in shards:
            try:
                with np.load(shard) as z:
                    self.rows.update(zip(z["keys"].tolist(), z["vecs"]))
            except (OSError, ValueError, KeyError):
                continue  # a shard being written by another run, or damaged: those texts are embedded again
        if len(shards) > MAX_SHARDS:  # many small ones (single questions): merged into one
            merged = self._save(list(self.rows), np.stack(list(self.rows.values())))
            for shard in shards:
                if shard != merged:
                    shard.unlink(missing_ok=True)

    @staticmethod
    def key(text: str) -> str:
        return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()

    def embed(self, texts: list[str]) -> np.ndarray:
        """(len(texts), dim) float32 unit rows; only texts never seen before reach the model."""
        keys = [self.key(t) for t in texts]
        self.used.update(keys)
        missing = {k: t for k, t in zip(keys, texts) if k not in self.rows}
        todo = list(missing.items())
        for b in range(0, len(todo), SHARD_TEXTS):  # saved as they come: an interrupted run keeps its work
            part = todo[b : b + SHARD_TEXTS]
            self._save([k for k, _ in part], self.embedder.embed([t for _, t in part]))
            self.embedded += len(part)
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        return np.stack([self.rows[k] for k in keys]).astype(np.float32)

    def _save(self, keys: list[str], vecs: np.ndarray) -> Path:
        self.rows.update(zip(keys, vecs))
        self.dir.mkdir(parents=True, exist_ok=True)
        name = hashlib.sha256("".join(keys).encode()).hexdigest()[:16]
        tmp = self.dir / f".{name}.{uuid.uuid4().hex[:8]}.tmp.npz"
        np.savez(tmp, keys=np.array(keys), vecs=vecs.astype(np.float32))
        tmp.replace(self.dir / f"{name}.npz")
        return self.dir / f"{name}.npz"


class CachedEmbedder:
    """An Embedder (qa.embeddings) whose vectors come from a VectorCache: what the benchmark's
    libraries embed with, so re-runs skip the model."""

    def __init__(self, cache: VectorCache):
        self.cache = cache
        self.name = cache.name

    def embed(self, texts: list[str]) -> np.ndarray:
        return self.cache.embed(texts)
