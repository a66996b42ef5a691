"""Eval suites: YAML files of known facts (evals/*.yaml) loaded and checked line by line, and the rules that
say whether an answer or a summary meets a case's expectations. The format is documented in evals/README.md."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from qa import verify
from qa.errors import QAError

SUITE_KEYS = {"name", "description", "articles", "cases"}
CASE_KEYS = {"id", "question", "summarize", "expect", "docs"}
EXPECT_KEYS = {"contains", "not_contains", "regex", "number", "cites", "abstain"}
SUMMARIZE_KEYS = {"docs", "sentences"}
NUMBER_KEYS = {"value", "tolerance"}
_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")


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
        raise SuiteError(
            f"{path}:{_line(node)}: {where} must be a mapping with 'question' (or 'summarize') and 'expect'."
        )
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
    return Case(
        str(c.get("id") or f"case-{n}"), c.get("question"), c.get("summarize"), expect, c.get("docs"), _line(node)
    )


def _keys(path: Path, node, allowed: set[str], where: str) -> None:
    import yaml

    if not isinstance(node, yaml.MappingNode):
        raise SuiteError(f"{path}:{_line(node)}: {where} must be a mapping.")
    for key, _ in node.value:
        if key.value not in allowed:
            raise SuiteError(
                f"{path}:{_line(key)}: unknown key '{key.value}' in {where}; allowed: {', '.join(sorted(allowed))}."
            )


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
