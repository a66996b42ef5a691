"""Settings: explicit argument, then environment (prefix QA_), then default. The only module that reads
the environment; build `Settings` once at the edge (CLI, app, test fixture) and pass it down."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DATA = Path(__file__).parent / "data"


def _offline_environment() -> None:
    """Keep libraries from reaching the network: tiktoken reads its encodings from the files we ship,
    Chroma sends no telemetry, Hugging Face libraries stay offline."""
    os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(DATA / "tiktoken"))
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")


_offline_environment()


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="QA_", extra="ignore")

    data_dir: Path = Field(
        default_factory=lambda: Path(platformdirs.user_data_dir("qa")),
        description="Where the index lives (Chroma files, keyword index). QA_DATA_DIR.",
    )
    chroma_url: str | None = Field(
        None, description="http://host:port of a Chroma server; unset means the embedded store under data_dir."
    )
    embedding: str = Field(
        "minilm",
        description="Embedding model: 'minilm' (offline default, ONNX int8), "
        "'sentence-transformers:NAME_OR_PATH', or 'openai:MODEL'.",
    )
    embedding_batch: int = Field(64, description="Sentences per embedding batch.")
    chunk_tokens: int = Field(200, description="Most tiktoken (cl100k_base) tokens in one chunk.")
    chunk_overlap: int = Field(1, description="Sentences shared by neighbouring chunks.")
    top_k: int = Field(5, description="Candidate sentences shown with an answer.")
    max_file_bytes: int = Field(20_000_000, description="Largest file or page accepted for ingestion.")
    max_sentence_chars: int = Field(600, description="Longer 'sentences' (no punctuation) are cut at spaces.")
    fetch_timeout: float = Field(15.0, description="Seconds to wait for a URL.")
