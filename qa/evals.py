"""Running eval suites (qa/suite.py) against a fresh Library, reported as a table, JSON and JUnit XML.
Deterministic on the extractive default; with a model, repeated runs give each case a pass rate and spread,
replies are cached on disk, and the cost is capped before spending."""

from __future__ import annotations

import contextlib
import statistics
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from qa.config import Settings
from qa.errors import QAError
from qa.suite import Case, Suite, SuiteError, check_answer, check_summary

COMPLETION_TOKENS = 300  # assumed per model call in the cost estimate


@dataclass
class CaseResult:
    suite: str
    case: str
    passed: bool
    why: str
    latency_s: float
    pass_rate: float = 1.0
    spread: float = 0.0
    output: dict = field(default_factory=dict)


# -- running -------------------------------------------------------------------------------------


@dataclass
class Prepared:
    suite: Suite
    lib: object  # Library
    ids: dict[str, list[str]]  # article path -> its document ids


@contextlib.contextmanager
def prepared(suites: list[Suite], settings: Settings):
    """Each suite's articles ingested into a fresh library in a temp dir (gone afterwards)."""
    from qa.library import Library

    with tempfile.TemporaryDirectory(prefix="qa-eval-") as tmp:
        out = []
        for n, suite in enumerate(suites):
            lib = Library(settings=settings.model_copy(update={"data_dir": Path(tmp) / str(n)}))
            ids = {}
            for article in suite.articles:
                report = lib.ingest([str(article)])
                if report.failed:
                    raise SuiteError(f"{suite.path}: article {article} could not be ingested: {report.failed[0][1]}")
                ids[str(article)] = [d.doc_id for d in report.added + report.skipped]
            out.append(Prepared(suite, lib, ids))
        yield out


def estimate(runs: list[Prepared], repeat: int) -> tuple[float | None, int]:
    """(USD, prompt tokens) the model calls would cost, counted with tiktoken before any call;
    replies already in the cache count nothing. USD is None when the model's price is unknown."""
    from qa.llm import PRICES

    tokens = 0
    for p in runs:
        for case in p.suite.cases:
            n = int((case.summarize or {}).get("sentences", 5))
            doc_ids = _docs(p, case.summarize) if case.summarize else None
            tokens += p.lib.estimate_tokens(case.question, doc_ids, n, COMPLETION_TOKENS)
    tokens *= max(1, repeat)
    price = PRICES.get(runs[0].lib.settings.model) if runs else None
    return (round(tokens * price[0] / 1e6, 6) if price else None), tokens


def run_suites(suites: list[Suite], settings: Settings, repeat: int = 1, max_cost: float | None = None):
    """(results, outputs) of every suite, each in a fresh library. With a model and max_cost, refuses (QAError)
    before any call when the estimate is above it or the model's price is unknown."""
    with prepared(suites, settings) as runs:
        if settings.use_llm() and max_cost is not None:
            usd, tokens = estimate(runs, repeat)
            if usd is None or usd > max_cost:
                why = f"no price is known for {settings.model!r}" if usd is None else f"the estimate is ${usd:.4f}"
                raise QAError(f"{why} ({tokens:,} prompt tokens) against --max-cost ${max_cost:g}; nothing was spent.")
        results, outputs = [], []
        for p in runs:
            r, o = run(p, repeat)
            results += r
            outputs += o
    return results, outputs


def run(p: Prepared, repeat: int = 1) -> tuple[list[CaseResult], list]:
    """(results, outputs): every case of the suite `repeat` times."""
    results, outputs = [], []
    for case in p.suite.cases:
        runs = [_once(p, case) for _ in range(max(1, repeat))]
        passes = [not why for why, _, _ in runs]
        why, _, out = next(((w, t, o) for w, t, o in runs if w), runs[0])
        results.append(
            CaseResult(
                p.suite.name,
                case.id,
                all(passes),
                "; ".join(why),
                statistics.median(t for _, t, _ in runs),
                sum(passes) / len(passes),
                statistics.pstdev(map(float, passes)),
                out.to_dict(),
            )
        )
        outputs.extend((case, o) for _, _, o in runs)
    return results, outputs


def _docs(p: Prepared, spec: dict | None) -> list[str] | None:
    paths = (spec or {}).get("docs") or []
    return [d for path in paths for d in p.ids[str((p.suite.path.parent / path).resolve())]] or None


def _once(p: Prepared, case: Case):
    t = time.perf_counter()
    if case.summarize is not None:
        out = p.lib.summarize(_docs(p, case.summarize), sentences=int(case.summarize.get("sentences", 5)))
        return check_summary(out, case.expect), time.perf_counter() - t, out
    out = p.lib.ask(case.question, doc_ids=_docs(p, {"docs": case.docs}))
    return check_answer(out, case.expect), time.perf_counter() - t, out


def metrics(suites: list[Suite], results: list[CaseResult], outputs: list[tuple[Case, object]]) -> dict:
    """Fact accuracy, citation precision/recall against the suites' gold sentences, abstention rates, latency,
    tokens. `outputs`: (case, Answer or Summary) of every run."""
    cases = {(s.name, c.id): c for s in suites for c in s.cases}
    answerable = [
        r for r in results if cases[(r.suite, r.case)].question and not cases[(r.suite, r.case)].expect.get("abstain")
    ]
    unanswerable = [r for r in results if cases[(r.suite, r.case)].expect.get("abstain")]
    precision, recall = _citation_scores(outputs)
    tokens = [o.usage for _, o in outputs if getattr(o, "usage", None)]
    latencies = sorted(r.latency_s for r in results)
    return {
        "cases": len(results),
        "passed": sum(r.passed for r in results),
        "fact_accuracy": _rate(sum(r.passed for r in answerable), len(answerable)),
        "citation_precision": precision,
        "citation_recall": recall,
        "correct_abstention": _rate(sum(r.output.get("abstained", False) for r in unanswerable), len(unanswerable)),
        "false_abstention": _rate(sum(r.output.get("abstained", False) for r in answerable), len(answerable)),
        "latency_p50_s": round(statistics.median(latencies), 4) if latencies else None,
        "latency_max_s": round(latencies[-1], 4) if latencies else None,
        "prompt_tokens": sum(u["prompt_tokens"] for u in tokens),
        "completion_tokens": sum(u["completion_tokens"] for u in tokens),
        "cost_usd": round(sum(u.get("cost_usd") or 0 for u in tokens), 6) if tokens else None,
    }


def _citation_scores(outputs: list[tuple[Case, object]]) -> tuple[float | None, float | None]:
    """Over the answers to questions whose case names a gold sentence (`expect.cites`): precision is the share
    of cited sentences that hold the gold text, recall the share of those answers citing at least one. An
    abstention on such a question cites nothing and counts against recall only."""
    cited = gold_cited = asked = found = 0
    for case, out in outputs:
        gold = case.expect.get("cites")
        if not case.question or not gold:
            continue
        hits = [gold.casefold() in c.text.casefold() for c in out.citations]
        cited, gold_cited = cited + len(hits), gold_cited + sum(hits)
        asked, found = asked + 1, found + any(hits)
    return _rate(gold_cited, cited), _rate(found, asked)


def _rate(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


def junit(results: list[CaseResult], path: Path) -> None:
    import xml.etree.ElementTree as ET

    root = ET.Element(
        "testsuites", name="qa eval", tests=str(len(results)), failures=str(sum(not r.passed for r in results))
    )
    for suite in dict.fromkeys(r.suite for r in results):
        rs = [r for r in results if r.suite == suite]
        el = ET.SubElement(
            root,
            "testsuite",
            name=suite,
            tests=str(len(rs)),
            failures=str(sum(not r.passed for r in rs)),
            time=f"{sum(r.latency_s for r in rs):.3f}",
        )
        for r in rs:
            case = ET.SubElement(el, "testcase", classname=suite, name=r.case, time=f"{r.latency_s:.3f}")
            if not r.passed:
                ET.SubElement(case, "failure", message=r.why).text = r.why
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


def as_json(results: list[CaseResult], summary: dict) -> dict:
    return {"metrics": summary, "cases": [asdict(r) for r in results]}
