"""Settings: explicit argument, then environment (prefix QA_), then default. The only module that reads
the environment; build `Settings` once at the edge (CLI, app, test fixture) and pass it down."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DATA = Path(__file__).parent / "data"


def _offline_environment() -> None:
    """Keep libraries from reaching the network: tiktoken reads its encodings from the files we ship,
    Chroma sends no telemetry, Hugging Face libraries stay offline."""
    os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(DATA / "tiktoken"))
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # no analytics, no version check (Gradio reads it at import)


_offline_environment()


def debug() -> bool:
    """QA_DEBUG: let tracebacks through instead of one-line errors."""
    return bool(os.environ.get("QA_DEBUG"))


def quiet_openmp() -> None:
    """llama.cpp's CPU threads are OpenMP's: spinning threads on a busy 2-core machine make each token seconds
    instead of milliseconds. Read when the library loads, so called before it is imported."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def models_dir() -> Path:
    """Where model files assembled from installed packages live: the user cache dir (XDG_CACHE_HOME on Linux)."""
    return Path(platformdirs.user_cache_dir("qa")) / "models"


def child_environment(**extra: str) -> dict[str, str]:
    """The environment of a child process of ours (`python -m qa...`): this one, with this qa importable
    first, OpenMP threads that sleep unless told otherwise, and `extra` set."""
    root = str(Path(__file__).resolve().parent.parent)
    path = os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))
    return {"OMP_WAIT_POLICY": "PASSIVE", **os.environ, "PYTHONPATH": path, **extra}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="QA_", extra="ignore", populate_by_name=True)

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
    embed_worker_chars: int = Field(
        500_000,
        description="An ingestion of at least this much new text (~4,000 sentences) embeds in a worker "
        "process while Chroma writes (0: always; a huge number: never).",
    )
    chunk_tokens: int = Field(200, description="Most tiktoken (cl100k_base) tokens in one chunk.")
    chunk_overlap: int = Field(1, description="Sentences shared by neighbouring chunks.")
    top_k: int = Field(5, description="Candidate sentences shown with an answer.")
    max_file_bytes: int = Field(20_000_000, description="Largest file or page accepted for ingestion.")
    max_sentence_chars: int = Field(600, description="Longer 'sentences' (no punctuation) are cut at spaces.")
    max_sentences: int = Field(
        100_000,
        description="Most sentences one file (or one pasted text) may add; a file with more is refused "
        "before anything is embedded, so that ingestion memory stays bounded.",
    )
    fetch_timeout: float = Field(15.0, description="Seconds to wait for a URL.")
    feed_items: int = Field(
        20, ge=1, description="Most stories read from one news feed (RSS or Atom) given to ingest, newest first."
    )
    page_auth: Path | None = Field(
        None,
        description="A users file (`qa page-user NAME --file FILE`): the page and "
        "its API ask for a login. QA_PAGE_AUTH.",
    )
    page_readonly: bool = Field(
        False,
        description="Nobody may add or delete articles on the page, except the users "
        "the QA_PAGE_AUTH file marks `editor`. QA_PAGE_READONLY.",
    )
    server_name: str | None = Field(
        None,
        validation_alias=AliasChoices("GRADIO_SERVER_NAME", "QA_SERVER_NAME"),
        description="Address the page listens on; --host wins. GRADIO_SERVER_NAME.",
    )
    server_port: int | None = Field(
        None,
        validation_alias=AliasChoices("GRADIO_SERVER_PORT", "QA_SERVER_PORT"),
        description="Port of the page; --port wins. GRADIO_SERVER_PORT.",
    )
    root_path: str | None = Field(
        None,
        validation_alias=AliasChoices("GRADIO_ROOT_PATH", "QA_ROOT_PATH"),
        description="The page's path behind a proxy, e.g. /qa. GRADIO_ROOT_PATH.",
    )
    page_urls: Literal["auto", "on", "off"] = Field(
        "auto",
        description="Whether the web page fetches URLs users give it; auto: only when it listens on loopback "
        "(a page open to a network would fetch internal addresses for whoever asks).",
    )

    # -- the chat model (any OpenAI-compatible server) --------------------------------------------
    mode: Literal["auto", "extractive", "llm"] = Field(
        "auto", description="auto: use the chat model when OPENAI_API_KEY or OPENAI_BASE_URL is set."
    )
    model: str = Field("gpt-4o-mini", description="Chat model name as the server knows it. QA_MODEL.")
    openai_api_key: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("OPENAI_API_KEY", "QA_OPENAI_API_KEY"),
        description="Key for the chat server; read from the environment only, never printed.",
    )
    openai_base_url: str | None = Field(
        None,
        validation_alias=AliasChoices("OPENAI_BASE_URL", "QA_OPENAI_BASE_URL"),
        description="OpenAI-compatible endpoint, e.g. http://127.0.0.1:11434/v1 (Ollama).",
    )
    llm_timeout: float = Field(60.0, description="Seconds to wait for one model reply.")
    llm_judge: bool = Field(
        True,
        description="Also ask the model whether each claim's cited sentences state it (one "
        "short call per claim); it can only lower a claim's label. QA_LLM_JUDGE.",
    )
    llm_judge_threshold: float = Field(
        0.5,
        ge=0.0,
        le=1.0,
        description="The judge's bar: a claim stands when the model's probability of 'yes' (from the server's "
        "logprobs) reaches it; 0.5 is its plain yes or no. A bar fitted for the local model on SummEdits dev did "
        "not carry over to test (evals/RESULTS-llm.md). QA_LLM_JUDGE_THRESHOLD.",
    )
    llm_gate: bool = Field(
        True,
        description="Let the extractive reader answer 'the articles do not say' before the model is asked, "
        "when no retrieved sentence is likely to answer (a small model rarely abstains). QA_LLM_GATE.",
    )
    llm_max_tokens: int = Field(1024, description="Most tokens the model may write in one reply.")
    llm_retries: int = Field(2, description="Retries (with backoff) on 429, 5xx and dropped connections.")
    llm_fallback: bool = Field(
        False, description="On a model failure, answer extractively (marked so) instead of failing."
    )
    llm_cache_dir: Path | None = Field(None, description="Reuse model replies to identical requests from here (evals).")
    context_tokens: int = Field(8000, description="Token budget for the evidence in one prompt.")
    evidence_sentences: int = Field(12, description="Sentences retrieved as evidence for a model answer.")

    def use_llm(self) -> bool:
        if self.mode == "auto":
            return bool(self.openai_api_key or self.openai_base_url)
        return self.mode == "llm"

    def mode_label(self) -> str:
        """What the user sees: 'extractive' or the model's name."""
        return f"llm: {self.model}" if self.use_llm() else "extractive"
