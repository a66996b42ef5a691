"""Answers, summaries and eval results as the CLI prints them: plain text, each claim with its citation
markers and each citation with its sentence, title, id, page and character offsets; and as Markdown to
take away (`--format markdown`, the page's Copy button), each citation numbered with its source."""

from __future__ import annotations

import json
import re
import textwrap

from qa.text import runs_on
from qa.types import Answer, Citation, DocumentInfo, Summary

MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|])")  # what Markdown would read as markup inside a line


def citations_text(citations: list[Citation], support: dict[int, str] | None = None) -> str:
    lines = []
    for c in citations:
        label = f"  ({support[c.marker]})" if support and c.marker in support else ""
        page = f"p. {c.page} · " if c.page else ""
        lines.append(textwrap.fill(f"[{c.marker}] {c.text}", width=100, subsequent_indent="    "))
        lines.append(f"    — {c.title} · {c.sentence_id} · {page}chars {c.start}-{c.end}{label}")
    return "\n".join(lines)


def answer_text(ans: Answer) -> str:
    asked = f"(asked as: {ans.asked_as})\n" if ans.asked_as else ""
    note = f"\n\nNote: {ans.note}" if ans.note else ""  # a fallback's or the reader's gate's: why this answer
    return asked + _answer_body(ans) + note


def _answer_body(ans: Answer) -> str:
    if ans.abstained:
        said = ans.answer + (f" (best candidate: p {ans.probability:.2f})" if ans.probability is not None else "")
        if not ans.candidates:
            return said
        return f"{said}\n\nNearest sentences (none answers the question):\n{citations_text(ans.candidates)}"
    claims = "".join(
        c.text
        + " "
        + ("".join(f"[{m}]" for m in c.citations) or f"({c.support}: no citation)")
        + (" " if runs_on(c.text) else "\n")  # the pieces of one sentence stay on its line
        for c in ans.claims
    )
    labels = {m: _label(c.support, c.probability) for c in ans.claims for m in c.citations}
    out = claims.rstrip() + "\n\n" + citations_text(ans.citations, labels)
    if ans.usage:
        cost = f", ~${ans.usage['cost_usd']:.5f}" if ans.usage.get("cost_usd") is not None else ""
        out += f"\n    {ans.model}: {ans.usage['prompt_tokens']} prompt + {ans.usage['completion_tokens']} completion tokens{cost}"
    return out


def summary_text(summary: Summary) -> str:
    sentences = "\n".join(s.text + " " + "".join(f"[{m}]" for m in s.citations) for s in summary.sentences)
    return sentences + "\n\n" + citations_text(summary.citations)


def md(text: str) -> str:
    """Text as one Markdown line that shows as written: whitespace runs as one space, markup escaped."""
    return MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def sources_markdown(citations: list[Citation], docs: dict[str, DocumentInfo]) -> list[str]:
    """A numbered list, one line per citation: quote, title, source, date, page, url, sentence id."""
    lines = []
    for c in citations:
        info = docs.get(c.doc_id)
        where = [f"*{md(c.title or '(untitled)')}*"]
        where += [md(x) for x in (info.source, info.published_at[:10]) if x] if info else []
        where += [f"p. {c.page}"] if c.page else []
        url = c.url or (info.url if info else "")
        where += [f"<{url}>"] if re.fullmatch(r"https?://[^\s<>]+", url) else []
        lines.append(f"{c.marker}. “{md(c.text)}” — {', '.join(where)} (sentence `{c.sentence_id}`)")
    return lines


def answer_markdown(ans: Answer, docs: dict[str, DocumentInfo]) -> str:
    """The question, the answer with its citation markers, then the sources numbered as the markers are;
    an abstention with the nearest sentences instead. docs: the cited documents' records, by id."""
    out = [f"**Q: {md(ans.question)}**"] + ([f"*Asked as: {md(ans.asked_as)}*"] if ans.asked_as else [])
    if ans.abstained:
        out += ["", md(ans.answer)]
        if ans.candidates:
            out += ["", "Nearest sentences (none answers the question):", "", *sources_markdown(ans.candidates, docs)]
    else:
        out += [
            "",
            " ".join(
                md(c.text) + ("".join(f" [{m}]" for m in c.citations) or f" ({c.support}: no citation)")
                for c in ans.claims
            ),
        ]
        out += ["", "Sources:", "", *sources_markdown(ans.citations, docs)]
    if ans.note:
        out += ["", f"*{md(ans.note)}*"]
    return "\n".join(out) + "\n"


def summary_markdown(summary: Summary, docs: dict[str, DocumentInfo]) -> str:
    """The summary's sentences with their markers, then the sources numbered as the markers are."""
    titles = [docs[d].title or "(untitled)" for d in summary.doc_ids if d in docs]
    head = f"**Summary of {md('; '.join(titles))}**" if titles else "**Summary**"
    text = " ".join(md(s.text) + "".join(f" [{m}]" for m in s.citations) for s in summary.sentences)
    return "\n".join([head, "", text, "", "Sources:", "", *sources_markdown(summary.citations, docs)]) + "\n"


def formatted(result: Answer | Summary, form: str, docs: dict[str, DocumentInfo]) -> str:
    """An answer or summary as `--format` names it: "text", "markdown" (docs: the cited documents' records)
    or "json" (its `to_dict()`)."""
    if form == "json":
        return json.dumps(result.to_dict(), indent=2, ensure_ascii=False)
    if isinstance(result, Answer):
        return answer_markdown(result, docs).rstrip("\n") if form == "markdown" else answer_text(result)
    return summary_markdown(result, docs).rstrip("\n") if form == "markdown" else summary_text(result)


def eval_text(results, summary: dict, repeat: int) -> str:
    """The eval table, a line per case, then the suite's metrics."""
    width = max(len(f"{r.suite}/{r.case}") for r in results)
    lines = []
    for r in results:
        rate = f"  {r.pass_rate:.0%}±{r.spread:.2f}" if repeat > 1 else ""
        lines.append(
            f"{'PASS' if r.passed else 'FAIL'}  {r.suite + '/' + r.case:<{width}}  {r.latency_s * 1000:7.0f} ms{rate}  {r.why}"
        )
    fmt = lambda v: "n/a" if v is None else f"{v:.2f}"  # noqa: E731
    lines.append(
        f"\n{summary['passed']}/{summary['cases']} passed · fact accuracy {fmt(summary['fact_accuracy'])} · "
        f"citation precision {fmt(summary['citation_precision'])} · citation recall {fmt(summary['citation_recall'])} · "
        f"correct abstention {fmt(summary['correct_abstention'])} · false abstention {fmt(summary['false_abstention'])} · "
        f"latency p50 {summary['latency_p50_s'] * 1000:.0f} ms"
    )
    if summary["prompt_tokens"]:
        lines.append(
            f"tokens: {summary['prompt_tokens']} prompt + {summary['completion_tokens']} completion; "
            f"cost ${summary['cost_usd'] or 0:.4f}"
        )
    return "\n".join(lines)


def _label(support: str, probability: float | None) -> str:
    shown = {"partial": "may answer"}.get(support, support)
    return shown + (f", p {probability:.2f}" if probability is not None else "")
