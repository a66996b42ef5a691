"""Eval suites: YAML files of known facts (evals/*.yaml), run against a fresh Library, reported as a
table, JSON and JUnit XML. Deterministic on the extractive default; with a model, repeated runs give
each case a pass rate and spread, replies are cached on disk, and the cost is capped before spending.
The format is documented in evals/README.md."""

from __future__ import annotations

import contextlib
import re
import statistics
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from qa import verify
from qa.config import Settings
from qa.errors import QAError

SUITE_KEYS = {"name", "description", "articles", "cases"}
CASE_KEYS = {"id", "question", "summarize", "expect", "docs"}
EXPECT_KEYS = {"contains", "not_contains", "regex", "number", "cites", "abstain"}
SUMMARIZE_KEYS = {"docs", "sentences"}
NUMBER_KEYS = {"value", "tolerance"}
_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")
COMPLETION_TOKENS = 300  # assumed per model call in the cost estimate


class SuiteError(QAError):
    """A malformed suite: the message names the file and line."""


@dataclass
class Case:
    id: str
    question: str | None
    summarize: dict | None
    expect: dict
    docs: list[str] | None  # article paths (as in the suite) to restrict a question to
    line: int


@dataclass
class Suite:
    path: Path
    name: str
    articles: list[Path]
    cases: list[Case]


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


# -- loading -------------------------------------------------------------------------------------


def load(path: str | Path) -> Suite:
    import yaml

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except (OSError, UnicodeDecodeError) as e:
        raise SuiteError(f"{path}: cannot read the suite ({e}).") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise SuiteError(f"{where}: not valid YAML ({getattr(e, 'problem', e)}).") from None
    if not isinstance(data, dict):
        raise SuiteError(f"{path}:1: a suite is a mapping with 'articles' and 'cases'.")
    _keys(path, root, SUITE_KEYS, "the suite")
    cases_node = _get(root, "cases")
    if not isinstance(data.get("cases"), list) or not data["cases"]:
        raise SuiteError(f"{path}:{_line(cases_node or root)}: 'cases' must be a non-empty list.")
    articles = [(path.parent / a).resolve() for a in data.get("articles") or []]
    for a, node in zip(articles, getattr(_get(root, "articles"), "value", [])):
        if not a.exists():
            raise SuiteError(f"{path}:{_line(node)}: article {a} does not exist.")
    cases = [_case(path, i, c, node) for i, (c, node) in enumerate(zip(data["cases"], cases_node.value), 1)]
    ids = [c.id for c in cases]
    if len(set(ids)) != len(ids):
        raise SuiteError(f"{path}: case ids must be unique (repeated: {sorted({i for i in ids if ids.count(i) > 1})}).")
    return Suite(path, str(data.get("name") or path.stem), articles, cases)


def _case(path: Path, n: int, c, node) -> Case:
    where = f"case {n}"
    if not isinstance(c, dict):
        raise SuiteError(f"{path}:{_line(node)}: {where} must be a mapping with 'question' (or 'summarize') and 'expect'.")
    _keys(path, node, CASE_KEYS, where)
    if bool(c.get("question")) == bool(c.get("summarize")):
        raise SuiteError(f"{path}:{_line(node)}: {where} needs exactly one of 'question' or 'summarize'.")
    expect = c.get("expect") or {}
    expect_node = _get(node, "expect")
    if expect_node is not None:
        _keys(path, expect_node, EXPECT_KEYS, f"{where} expect")
        num = _get(expect_node, "number")
        if num is not None and isinstance(expect.get("number"), dict):
            _keys(path, num, NUMBER_KEYS, f"{where} expect.number")
    if c.get("summarize") is not None:
        s_node = _get(node, "summarize")
        if isinstance(c["summarize"], dict):
            _keys(path, s_node, SUMMARIZE_KEYS, f"{where} summarize")
        else:
            raise SuiteError(f"{path}:{_line(s_node)}: {where} summarize must be a mapping like {{sentences: 3}}.")
    return Case(str(c.get("id") or f"case-{n}"), c.get("question"), c.get("summarize"), expect, c.get("docs"), _line(node))


def _keys(path: Path, node, allowed: set[str], where: str) -> None:
    import yaml

    if not isinstance(node, yaml.MappingNode):
        raise SuiteError(f"{path}:{_line(node)}: {where} must be a mapping.")
    for key, _ in node.value:
        if key.value not in allowed:
            raise SuiteError(f"{path}:{_line(key)}: unknown key '{key.value}' in {where}; allowed: {', '.join(sorted(allowed))}.")


def _get(node, name: str):
    for key, value in getattr(node, "value", []) or []:
        if getattr(key, "value", None) == name:
            return value
    return None


def _line(node) -> int:
    return node.start_mark.line + 1 if node is not None else 1


# -- checking ------------------------------------------------------------------------------------


def check_answer(ans, expect: dict) -> list[str]:
    """The reasons a question case fails; empty when it passes."""
    text = ans.answer
    cited = [c.text for c in ans.citations]
    if expect.get("abstain"):
        return [] if ans.abstained else [f"expected an abstention, got {_short(text)!r}"]
    if ans.abstained:
        return ["abstained"]
    return _content(text, expect) + _cites(cited, expect)


def check_summary(summary, expect: dict) -> list[str]:
    text = " ".join(s.text for s in summary.sentences)
    why = _content(text, expect) + _cites([c.text for c in summary.citations], expect)
    bad = [s.text for s in summary.sentences if not s.citations or s.support != verify.SUPPORTED]
    return why + ([f"{len(bad)} summary sentence(s) not cited and supported: {_short(bad[0])!r}"] if bad else [])


def _content(text: str, expect: dict) -> list[str]:
    why, low = [], text.casefold()
    for item in expect.get("contains") or []:
        options = item if isinstance(item, list) else [item]
        if not any(str(o).casefold() in low for o in options):
            why.append(f"missing {' | '.join(map(str, options))!r}")
    for item in expect.get("not_contains") or []:
        if str(item).casefold() in low:
            why.append(f"contains {item!r}")
    if expect.get("regex") and not re.search(expect["regex"], text, re.I):
        why.append(f"no match for /{expect['regex']}/")
    if expect.get("number") is not None:
        spec = expect["number"] if isinstance(expect["number"], dict) else {"value": expect["number"]}
        value, tol = float(spec["value"]), float(spec.get("tolerance", 0))
        found = [float(n.replace(",", "")) for n in _NUMBER.findall(text)]
        if not any(abs(f - value) <= tol for f in found):
            why.append(f"no number within {tol:g} of {value:g} (found {found or 'none'})")
    return why


def _cites(cited: list[str], expect: dict) -> list[str]:
    want = expect.get("cites")
    if want and not any(str(want).casefold() in c.casefold() for c in cited):
        return [f"does not cite a sentence containing {_short(str(want))!r}"]
    return []


def _short(text: str, n: int = 60) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


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


def run(p: Prepared, repeat: int = 1) -> tuple[list[CaseResult], list]:
    """(results, outputs): every case of the suite `repeat` times."""
    results, outputs = [], []
    for case in p.suite.cases:
        runs = [_once(p, case) for _ in range(max(1, repeat))]
        passes = [not why for why, _, _ in runs]
        why, _, out = next(((w, t, o) for w, t, o in runs if w), runs[0])
        results.append(CaseResult(p.suite.name, case.id, all(passes), "; ".join(why),
                                  statistics.median(t for _, t, _ in runs), sum(passes) / len(passes),
                                  statistics.pstdev(map(float, passes)), out.to_dict()))
        outputs.extend(o for _, _, o in runs)
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


def metrics(suites: list[Suite], results: list[CaseResult], outputs: list) -> dict:
    """Fact accuracy, citation precision/recall (by the verifier), abstention rates, latency, tokens."""
    cases = {(s.name, c.id): c for s in suites for c in s.cases}
    answerable = [r for r in results if cases[(r.suite, r.case)].question and not cases[(r.suite, r.case)].expect.get("abstain")]
    unanswerable = [r for r in results if cases[(r.suite, r.case)].expect.get("abstain")]
    cited = supporting = claims = supported_claims = 0
    for out in outputs:
        by_marker = {c.marker: c.text for c in out.citations}
        for claim in getattr(out, "claims", None) or getattr(out, "sentences", []):
            claims += 1
            ok = [m for m in claim.citations if verify.check(claim.text, [by_marker[m]])[0] != verify.UNSUPPORTED]
            cited += len(claim.citations)
            supporting += len(ok)
            supported_claims += bool(ok)
    tokens = [o.usage for o in outputs if getattr(o, "usage", None)]
    latencies = sorted(r.latency_s for r in results)
    return {
        "cases": len(results), "passed": sum(r.passed for r in results),
        "fact_accuracy": _rate(sum(r.passed for r in answerable), len(answerable)),
        "citation_precision": _rate(supporting, cited), "citation_recall": _rate(supported_claims, claims),
        "correct_abstention": _rate(sum(r.output.get("abstained", False) for r in unanswerable), len(unanswerable)),
        "false_abstention": _rate(sum(r.output.get("abstained", False) for r in answerable), len(answerable)),
        "latency_p50_s": round(statistics.median(latencies), 4) if latencies else None,
        "latency_max_s": round(latencies[-1], 4) if latencies else None,
        "prompt_tokens": sum(u["prompt_tokens"] for u in tokens), "completion_tokens": sum(u["completion_tokens"] for u in tokens),
        "cost_usd": round(sum(u.get("cost_usd") or 0 for u in tokens), 6) if tokens else None,
    }


def _rate(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


def junit(results: list[CaseResult], path: Path) -> None:
    import xml.etree.ElementTree as ET

    root = ET.Element("testsuites", name="qa eval", tests=str(len(results)), failures=str(sum(not r.passed for r in results)))
    for suite in dict.fromkeys(r.suite for r in results):
        rs = [r for r in results if r.suite == suite]
        el = ET.SubElement(root, "testsuite", name=suite, tests=str(len(rs)), failures=str(sum(not r.passed for r in rs)),
                           time=f"{sum(r.latency_s for r in rs):.3f}")
        for r in rs:
            case = ET.SubElement(el, "testcase", classname=suite, name=r.case, time=f"{r.latency_s:.3f}")
            if not r.passed:
                ET.SubElement(case, "failure", message=r.why).text = r.why
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


def as_json(results: list[CaseResult], summary: dict) -> dict:
    return {"metrics": summary, "cases": [asdict(r) for r in results]}


def suite_paths(paths: list[str]) -> list[Path]:
    out: list[Path] = []
    for p in map(Path, paths or ["evals"]):
        if p.is_dir():
            out.extend(sorted(p.glob("*.yaml")) + sorted(p.glob("*.yml")))
        elif p.exists():
            out.append(p)
        else:
            raise SuiteError(f"{p}: no such suite file or folder.")
    if not out:
        raise SuiteError(f"no suites (*.yaml) in {', '.join(paths or ['evals'])}.")
    return out
