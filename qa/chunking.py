"""Sentences -> Chunks: windows of whole sentences up to a token budget (tiktoken cl100k_base, read
from the file shipped in qa/data so nothing is fetched). Chunks know their sentence ids; sentence ids
never depend on chunking."""

from __future__ import annotations

from qa.text import count_tokens
from qa.types import Chunk, Sentence


def chunk(text: str, sentences: list[Sentence], max_tokens: int = 200, overlap: int = 1) -> list[Chunk]:
    """Greedy windows: add sentences while the budget allows; the next window starts `overlap`
    sentences back. A sentence over budget is a chunk of its own."""
    if not sentences:
        return []
    tokens = count_tokens([s.text for s in sentences])
    chunks: list[Chunk] = []
    i = 0
    while i < len(sentences):
        j, used = i + 1, tokens[i]
        while j < len(sentences) and used + tokens[j] <= max_tokens:
            used += tokens[j]
            j += 1
        window = sentences[i:j]
        start, end = window[0].start, window[-1].end
        chunks.append(
            Chunk(
                id=f"{window[0].doc_id}#{len(chunks)}",
                doc_id=window[0].doc_id,
                sentence_ids=tuple(s.id for s in window),
                text=text[start:end],
                start=start,
                end=end,
                tokens=used,
            )
        )
        if j >= len(sentences):
            break
        nxt = max(j - overlap, i + 1)
        # overlap only when the next window still has room for a new sentence
        i = nxt if sum(tokens[nxt:j]) + tokens[j] <= max_tokens else j
    return chunks
