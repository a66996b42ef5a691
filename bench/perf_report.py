"""The page, targets and plot of `python -m bench perf` (bench/RESULTS.md, perf.png)."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from pathlib import Path

from bench import report as about
from bench.corpora import MIN_WORDS

PIPELINES = ("floor", "ours", "langchain")
COLD_RUNS = 3


# -- targets (issue 6) -------------------------------------------------------------------------------


def _ratio(p: dict, a: str, b: str) -> float:
    return p[a]["ingest_s"] / p[b]["ingest_s"]


def _ratios(p: dict, a: str, b: str) -> str:
    """Wall-time ratio, then the CPU-time one (steadier when other jobs share the machine)."""
    return f"{_ratio(p, a, b):.2f}x (CPU {p[a]['ingest_cpu_s'] / p[b]['ingest_cpu_s']:.2f}x)"


def _cold(p: dict) -> float:
    return statistics.median(p["ours"]["cold_ask_s"])


# (target, corpus sizes it is judged on or None for every size run, pipelines it needs, (value, met))
TARGETS: list[tuple[str, tuple[str, ...] | None, tuple[str, ...], Callable[[dict], tuple[str, bool]]]] = [
    (
        "ingestion time <= 1.15x the floor's",
        ("10000", "100000"),
        ("ours", "floor"),
        lambda p: (_ratios(p, "ours", "floor"), _ratio(p, "ours", "floor") <= 1.15),
    ),
    (
        "ingestion time <= the LangChain pipeline's",
        ("10000", "100000"),
        ("ours", "langchain"),
        lambda p: (_ratios(p, "ours", "langchain"), _ratio(p, "ours", "langchain") <= 1.0),
    ),
    (
        "extractive answer p50 <= 30 ms",
        ("10000",),
        ("ours",),
        lambda p: (f"{p['ours']['answer']['p50_ms']:.0f} ms", p["ours"]["answer"]["p50_ms"] <= 30),
    ),
    (
        "extractive answer p50 <= 60 ms",
        ("100000",),
        ("ours",),
        lambda p: (f"{p['ours']['answer']['p50_ms']:.0f} ms", p["ours"]["answer"]["p50_ms"] <= 60),
    ),
    (
        "retrieval p95 <= 2x its p50",
        None,
        ("ours",),
        lambda p: (
            f"{p['ours']['search']['p95_ms'] / p['ours']['search']['p50_ms']:.2f}x",
            p["ours"]["search"]["p95_ms"] <= 2 * p["ours"]["search"]["p50_ms"],
        ),
    ),
    ("cold `qa ask` <= 2.5 s (median)", None, ("ours",), lambda p: (f"{_cold(p):.2f} s", _cold(p) <= 2.5)),
    (
        "peak memory <= 1 GB",
        ("100000",),
        ("ours",),
        lambda p: (f"{p['ours']['peak_rss_bytes'] / 1e6:.0f} MB", p["ours"]["peak_rss_bytes"] <= 1e9),
    ),
    (
        "evidence recall@10 above the LangChain pipeline's",
        None,
        ("ours", "langchain"),
        lambda p: (
            f"{p['ours']['recall@10']:.3f} vs {p['langchain']['recall@10']:.3f}",
            p["ours"]["recall@10"] > p["langchain"]["recall@10"],
        ),
    ),
]


def targets(report: dict) -> list[dict]:
    """Each target on each corpus it applies to: met True/False, or None when not (yet) measured."""
    done = {e["size"]: e["pipelines"] for e in report["sizes"]}
    rows = []
    for text, sizes, needs, check in TARGETS:
        for size in sizes or list(done):
            p = done.get(size, {})
            value, met = check(p) if all(n in p for n in needs) else ("not measured", None)
            rows.append({"target": text, "size": size, "value": value, "met": met})
    return rows


# -- the page and the plot -------------------------------------------------------------------------

NAMES = {
    "ours": "ours (qa Library)",
    "floor": "floor (model + bare Chroma)",
    "langchain": "LangChain (1000/200 chunks)",
}
STAGES = ("read", "split", "embed", "store", "index")
QUERIES = {
    "ours": [("search", "`Library.search(q, k=10)`"), ("answer", "`Library.ask(q)` (extractive)")],
    "floor": [("search", "embed q + Chroma query, 10 sentences")],
    "langchain": [("search", "`similarity_search(q, k=5)`")],
}


def _label(size: str) -> str:
    return "base (MultiHop + RGB)" if size == "base" else f"{int(size):,}"


def _s(x: float | None, digits: int = 1) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def _ratio_rows(report: dict) -> list[str]:
    head = (
        "| corpus | sentences | ours / floor ingestion time | ours / LangChain ingestion time | recall@10 ours"
        " | recall@10 LangChain | answer p50 | retrieval p50 / p95 | cold `qa ask` |"
    )
    rows = [head, "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for e in report["sizes"]:
        p = e["pipelines"]
        if not all(n in p for n in PIPELINES):
            rows.append(f"| {_label(e['size'])} | {e['sentences']:,} | (running) | | | | | | |")
            continue
        o = p["ours"]
        rows.append(
            f"| {_label(e['size'])} | {e['sentences']:,} | {_ratios(p, 'ours', 'floor')} | {_ratios(p, 'ours', 'langchain')}"
            f" | {o['recall@10']:.3f} | {p['langchain']['recall@10']:.3f} | {o['answer']['p50_ms']:.0f} ms"
            f" | {o['search']['p50_ms']:.0f} / {o['search']['p95_ms']:.0f} ms | {_cold(p):.2f} s |"
        )
    return rows


def _target_rows(report: dict) -> list[str]:
    rows = ["| target | corpus | value | status |", "|---|---|---:|---|"]
    for t in report["targets"]:
        status = {True: "**met**", False: "**missed**", None: "not measured"}[t["met"]]
        rows.append(f"| {t['target']} | {_label(t['size'])} | {t['value']} | {status} |")
    return rows


def _ingest_rows(report: dict) -> list[str]:
    rows = [
        "| corpus | pipeline | texts embedded | seconds | CPU seconds | sentences/s | "
        + " | ".join(STAGES)
        + " | other | peak memory | on disk |",
        "|---|---|---:|---:|---:|---:|" + "---:|" * len(STAGES) + "---:|---:|---:|",
    ]
    for e in report["sizes"]:
        for name, p in e["pipelines"].items():
            st = p["stages"]
            other = p["ingest_s"] - sum(st.values()) if st else None
            cells = " | ".join(_s(st.get(k)) for k in STAGES)
            rows.append(
                f"| {_label(e['size'])} | {NAMES[name]} | {p['texts_embedded']:,} | {p['ingest_s']:.1f} | {p['ingest_cpu_s']:.1f} | "
                f"{e['sentences'] / p['ingest_s']:.0f} | {cells} | {_s(other)} | {p['peak_rss_bytes'] / 1e6:.0f} MB"
                f" | {p['disk_bytes'] / 1e6:.1f} MB |"
            )
    return rows


def _query_rows(report: dict) -> list[str]:
    rows = [
        "| corpus | pipeline | query | p50 | p95 | questions | evidence recall@10 |",
        "|---|---|---|---:|---:|---:|---:|",
    ]
    for e in report["sizes"]:
        for name, p in e["pipelines"].items():
            for key, what in QUERIES[name]:
                q = p[key]
                rows.append(
                    f"| {_label(e['size'])} | {NAMES[name]} | {what} | {q['p50_ms']:.1f} ms | {q['p95_ms']:.1f} ms | {q['n']}"
                    f" | {p['recall@10']:.3f} |"
                )
    return rows


def _cold_lines(report: dict) -> list[str]:
    out = []
    for e in report["sizes"]:
        o = e["pipelines"].get("ours")
        if o:
            runs = ", ".join(f"{s:.2f}" for s in o["cold_ask_s"])
            out.append(
                f"- {_label(e['size'])}: cold `qa ask` {runs} s (median {statistics.median(o['cold_ask_s']):.2f} s); "
                f"`Library()` open {o['open_s']:.2f} s; the first search after ingestion "
                f"{o['first_search_s'] * 1000:.0f} ms (the model loads then, as the keyword index does)"
            )
    return out


def _code_changes(report: dict) -> list[str]:
    """A line when some pipeline ran other code than the run started with (work landed meanwhile)."""
    other = [
        f"{name} on {_label(e['size'])} ran {p.get('code', 'n/a')}"
        for e in report["sizes"]
        for name, p in e["pipelines"].items()
        if p.get("code") != report.get("code")
    ]
    return [f"- **the code under qa/ changed during this run**: {'; '.join(other)}"] if other else []


def markdown(report: dict) -> str:
    m = report["machine"]
    versions = ", ".join(f"{k} {v}" for k, v in m["versions"].items())
    copies = [f"{_label(e['size'])}: {e['copied_sentences']:,}" for e in report["sizes"] if e["copied_sentences"]]
    lines = [
        "# Performance benchmarks" + (" (quick: a smoke test, not results)" if report["quick"] else ""),
        "",
        "Written by `python -m bench perf`; do not edit by hand. Each pipeline ran in its own fresh process per corpus,",
        "one after another, in the same run on the same machine.",
        *(
            ["", "**Partial run**: the numbers are those finished when this page was written."]
            if not report["complete"]
            else []
        ),
        "",
        "## Ratios",
        "",
        *_ratio_rows(report),
        "",
        "## Targets (issue 6)",
        "",
        *_target_rows(report),
        "",
        "## Absolute numbers",
        "",
        f"- command: `{report['command']}`",
        f"- commit: {report['commit']} (source hash of qa/: {report.get('code', 'n/a')})",
        *_code_changes(report),
        f"- date: {report['date']}; runtime {report['seconds']:.0f} s",
        f"- machine: {m['cpu']}, {m['cores']} cores, {m['ram_gb']} GB RAM, {m['os']}, Python {m['python']}; {versions}",
        f"- load average (1 min): {report['load_start']:.2f} at the start, {report['load_end']:.2f} at the end",
        "",
        "### Ingestion",
        "",
        *_ingest_rows(report),
        "",
        "### Queries (warm: after one warm-up question, MultiHop-RAG questions in order)",
        "",
        *_query_rows(report),
        "",
        *_cold_lines(report),
        "",
        "![Ingestion rate and query latency against corpus size](perf.png)",
        "",
        "## How it was measured",
        "",
        "- **Corpora**: one ordered sequence of real articles from `../shared/data`; every corpus is its first N sentences",
        "  (as the library splits them; the last article is cut at a sentence end). First the base corpus, as",
        "  `python -m bench quality` builds it: the MultiHop-RAG evidence facts grouped by url into articles, and the RGB",
        "  snippets (one article each); then SummEdits documents and WiCE evidence pages (dev, then test), keeping only",
        f"  sentences not seen before (case and space blind) with at least {MIN_WORDS} words (shorter lines are menus and",
        "  buttons). When those run out the filler is used again with every sentence prefixed `Copy r: ` (pass r = 2, 3, ...)",
        "  so no two sentences are equal"
        + (f"; copied sentences: {'; '.join(copies)}." if copies else "; no corpus here needed copies."),
        "- **Ours**: `Library(dir).ingest(articles)` on `qa.ingest.from_text` Articles (seconds = the call; stages from",
        "  `IngestReport.timings`, `n/a` when the library does not report them; other = the rest). The library writes",
        "  three Chroma collections (sentences, chunks, articles) and a keyword index; from 500,000 characters of new",
        "  text it embeds in a worker process while it stores the previous batch (its stages are then the time the",
        "  ingestion waited for each; CPU seconds include the worker's).",
        "- **Floor**: the same sentences embedded once by the same model (`qa.embeddings.load()`, the library's batch",
        "  size, sorted by length over 5,000 sentences at a time), then added with their vectors to a fresh Chroma",
        "  collection (cosine, batches of `get_max_batch_size()`): the model's time plus the bare writes, one after the",
        "  other. No pipeline that does both in turn can be faster; one that overlaps them (ours, with its worker) can.",
        "- **LangChain**: `RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)` over each article's text,",
        "  `langchain_chroma.Chroma.from_documents` (persistent, defaults) with the same model wrapped as a LangChain",
        "  `Embeddings`; it embeds chunks, not sentences (texts embedded above).",
        "- **Recall@10**: MultiHop-RAG evidence recall over the questions with evidence (null queries skipped), gold facts",
        "  cleaned as article text is. Ours and the floor: a gold fact is found when a top-10 sentence is part of it or",
        "  it of the sentence (the rule of `python -m bench quality`); LangChain: when the fact is inside one of the top-10",
        "  chunks (`similarity_search(q, k=10)`; case and whitespace ignored).",
        "- **Ingestion time**: wall seconds; CPU seconds are the process's CPU time over all its threads in the same",
        "  span, steadier than wall time when other jobs share the machine (see the load average). Targets use wall time.",
        "- **Latency**: wall time per call in the pipeline's process, after one warm-up question. **Cold `qa ask`**:",
        f"  `python -m qa.cli ask QUESTION` in a new process on the library just built, {COLD_RUNS} runs. **Peak memory**:",
        "  the child's resident memory plus its children's (ours: the embedding worker), sampled every 20 ms, and never",
        "  below the child's own peak (getrusage). **On disk**: allocated bytes under the pipeline's folder.",
        "",
    ]
    return "\n".join(lines)


def plot(report: dict, path: Path) -> None:
    """Ingestion rate, retrieval and answer latency against corpus size, one line per pipeline."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ing, ret, ans) = plt.subplots(1, 3, figsize=(14, 4.2))
    for name, color in zip(PIPELINES, ("tab:gray", "tab:blue", "tab:orange")):
        pts = [(e["sentences"], e["pipelines"][name]) for e in report["sizes"] if name in e["pipelines"]]
        if not pts:
            continue
        xs = [x for x, _ in pts]
        ing.plot(xs, [x / p["ingest_s"] for x, p in pts], "o-", color=color, label=NAMES[name])
        ret.plot(xs, [p["search"]["p50_ms"] for _, p in pts], "o-", color=color, label=f"{name} p50")
        ret.plot(xs, [p["search"]["p95_ms"] for _, p in pts], "s--", color=color, alpha=0.6, label=f"{name} p95")
        if name == "ours":
            ans.plot(xs, [p["answer"]["p50_ms"] for _, p in pts], "o-", color=color, label="ours p50")
            ans.plot(xs, [p["answer"]["p95_ms"] for _, p in pts], "s--", color=color, alpha=0.6, label="ours p95")
    ans.plot([10_000, 100_000], [30, 60], "rx", markersize=10, label="target p50")
    for ax, title, unit in (
        (ing, "Ingestion rate", "sentences / s"),
        (ret, "Retrieval latency (warm)", "ms"),
        (ans, "Extractive answer latency (warm)", "ms"),
    ):
        ax.set_xscale("log")
        ax.set_ylim(bottom=0)
        ax.set_title(title)
        ax.set_xlabel("corpus size (sentences)")
        ax.set_ylabel(unit)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(
        f"python -m bench perf{' --quick' if report['quick'] else ''} · {report['date']} · {report['machine']['cpu']}",
        fontsize=9,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def write(report: dict, out: Path, json_out: Path) -> None:
    """The page, the JSON and the plot (perf.png beside the page)."""
    about.write(markdown(report), out, report, json_out)
    plot(report, out.parent / "perf.png")
