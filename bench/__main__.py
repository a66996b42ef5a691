"""`python -m bench quality|perf|news`: the benchmarks, run from the repository root beside ../shared/data.

  quality  RGB, MultiHop-RAG, WiCE, SummEdits (dev and test) beside baselines -> evals/RESULTS.md
  perf     ingestion, latency, cold start, memory of the library beside the floor and LangChain
           -> bench/RESULTS.md, perf.json, perf.png
  news     hand-written questions on the real news pages of tests/pages (bench/news_pages.yaml), in the
           mode the environment configures -> evals/RESULTS-news.md
--quick runs a few questions on a small corpus and writes to a temp folder: it proves the benchmark
works; its numbers are not results.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from bench.report import ROOT

QUALITY_OUT = ROOT / "evals" / "RESULTS.md"
QUALITY_LLM_OUT = ROOT / "evals" / "RESULTS-llm.md"
NEWS_OUT = ROOT / "evals" / "RESULTS-news.md"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("quality", "perf"):
        p = sub.add_parser(name)
        p.add_argument("--data", type=Path, help="the data folder (default: ../shared/data)")
        p.add_argument("--quick", action="store_true", help="a smoke test on a small sample, written to a temp folder")
        p.add_argument("--out", type=Path, help="where the page goes (default: the results file; quick: a temp folder)")
    sub.choices["quality"].add_argument("--json", type=Path, help="also write the full report as JSON here")
    sub.choices["quality"].add_argument(
        "--model",
        action="store_true",
        help="the model path (QA_MODE=llm) instead: "
        "the local model, or the one OPENAI_BASE_URL / QA_MODEL name -> evals/RESULTS-llm.md",
    )
    sub.choices["quality"].add_argument(
        "--sizes", help="with --model: questions per set, e.g. rgb=50,squad=100,multihop=100,palmyra=10,summedits=100"
    )
    sub.choices["perf"].add_argument(
        "--sizes",
        help="corpus sizes in sentences, comma-separated; 'base' is "
        "MultiHop + RGB (default: base,10000,100000; quick: 80)",
    )
    p = sub.add_parser("news")
    p.add_argument("--quick", action="store_true", help="the first 3 questions, written to a temp folder")
    p.add_argument(
        "--out", type=Path, help="where the page goes (default: evals/RESULTS-news.md; quick: a temp folder)"
    )
    args = parser.parse_args(argv)
    command = " ".join(["python -m bench", *(argv if argv is not None else sys.argv[1:])])
    {"quality": quality, "perf": perf, "news": news}[args.command](args, command, parser)


def news(args, command: str, parser) -> None:
    from bench import news as n

    out = _out(args, NEWS_OUT, "news", parser)
    rep = n.run(cases=3 if args.quick else None, command=command)
    n.write(rep, out)
    m = rep["metrics"]
    print(f"{m['passed']} of {m['cases']} passed; wrote {out} in {rep['seconds']:.0f} s")


def _out(args, default: Path, name: str, parser) -> Path:
    out = args.out or (Path(tempfile.gettempdir()) / f"qa-bench-{name}" / default.name if args.quick else default)
    if args.quick and out.resolve() == default.resolve():
        parser.error(f"quick numbers are not results: write them elsewhere than {default}.")
    return out


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def quality(args, command: str, parser) -> None:
    if args.model:
        return quality_model(args, command, parser)
    from bench import quality as q
    from bench import quality_report

    out = _out(args, QUALITY_OUT, "quality", parser)
    report = q.run(args.data, quick=args.quick, log=_log, command=command)
    quality_report.write(report, out, args.json)
    page = quality_report.markdown(report)
    print(page[page.index("| benchmark") : page.index("\n\n", page.index("| benchmark"))])
    print(f"\nwrote {out} in {report['seconds']:.0f} s")


def quality_model(args, command: str, parser) -> None:
    from bench import quality_llm, quality_llm_report

    try:
        sizes = {k: int(v) for k, v in (p.split("=") for p in args.sizes.split(","))} if args.sizes else None
    except ValueError:
        parser.error(f"--sizes {args.sizes!r}: give questions per set, e.g. rgb=10,squad=10,multihop=10")
    if sizes and not set(sizes) <= {*quality_llm.SETS, "palmyra", "summedits"}:
        parser.error(
            f"--sizes: the sets are {', '.join(quality_llm.SETS)}, palmyra (cases of evals/palmyra.yaml) and "
            "summedits (summaries judged)"
        )
    out = _out(args, QUALITY_LLM_OUT, "quality-llm", parser)
    if sizes and out.resolve() == QUALITY_LLM_OUT.resolve() and sizes != quality_llm.FULL:
        _log(f"note: a sample ({args.sizes}) is written to {out}; the page says so")
    report = quality_llm.run(args.data, quick=args.quick, log=_log, command=command, sizes=sizes)
    quality_llm_report.write(report, out, args.json)
    print(quality_llm_report.markdown(report))
    print(f"\nwrote {out} in {report['seconds']:.0f} s")


def perf(args, command: str, parser) -> None:
    from bench import perf as p
    from bench import perf_report

    sizes = [s.strip() for s in (args.sizes or ",".join(p.QUICK_SIZES if args.quick else p.FULL_SIZES)).split(",")]
    if not all(s == "base" or (s.isdigit() and int(s) > 0) for s in sizes if s) or not any(sizes):
        parser.error(f"--sizes {args.sizes!r}: give sentence counts and/or 'base', e.g. --sizes base,10000")
    out = _out(args, p.RESULTS, "perf", parser)
    json_out = out.with_name("perf.json")
    report = p.run(
        args.data, [s for s in sizes if s], args.quick, lambda r: perf_report.write(r, out, json_out), _log, command
    )
    page = perf_report.markdown(report)
    print(page[page.index("## Ratios") : page.index("## Absolute numbers")].strip())
    print(f"\nwrote {out}, {json_out} and {out.with_name('perf.png')} in {report['seconds']:.0f} s")


if __name__ == "__main__":
    main()
