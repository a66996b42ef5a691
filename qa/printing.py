"""Answers, summaries and eval results as the CLI prints them: plain text, each claim with its citation
markers and each citation with its sentence, title, id, page and character offsets."""

from __future__ import annotations

import textwrap

from qa.types import Answer, Citation, Summary


def citations_text(citations: list[Citation], support: dict[int, str] | None = None) -> str:
    lines = []
    for c in citations:
        label = f"  ({support[c.marker]})" if support and c.marker in support else ""
        page = f"p. {c.page} · " if c.page else ""
        lines.append(textwrap.fill(f"[{c.marker}] {c.text}", width=100, subsequent_indent="    "))
        lines.append(f"    — {c.title} · {c.sentence_id} · {page}chars {c.start}-{c.end}{label}")
    return "\n".join(lines)


def answer_text(ans: Answer) -> str:
    if ans.abstained:
        said = ans.answer + (f" (best candidate: p {ans.probability:.2f})" if ans.probability is not None else "")
        if not ans.candidates:
            return said
        return f"{said}\n\nNearest sentences (none answers the question):\n{citations_text(ans.candidates)}"
    claims = [c.text + " " + ("".join(f"[{m}]" for m in c.citations) or f"({c.support}: no citation)") for c in ans.claims]
    labels = {m: _label(c.support, c.probability) for c in ans.claims for m in c.citations}
    out = "\n".join(claims) + "\n\n" + citations_text(ans.citations, labels)
    if ans.usage:
        cost = f", ~${ans.usage['cost_usd']:.5f}" if ans.usage.get("cost_usd") is not None else ""
        out += f"\n    {ans.model}: {ans.usage['prompt_tokens']} prompt + {ans.usage['completion_tokens']} completion tokens{cost}"
    return out


def summary_text(summary: Summary) -> str:
    sentences = "\n".join(s.text + " " + "".join(f"[{m}]" for m in s.citations) for s in summary.sentences)
    return sentences + "\n\n" + citations_text(summary.citations)


def eval_text(results, summary: dict, repeat: int) -> str:
    """The eval table, a line per case, then the suite's metrics."""
    width = max(len(f"{r.suite}/{r.case}") for r in results)
    lines = []
    for r in results:
        rate = f"  {r.pass_rate:.0%}±{r.spread:.2f}" if repeat > 1 else ""
        lines.append(f"{'PASS' if r.passed else 'FAIL'}  {r.suite + '/' + r.case:<{width}}  {r.latency_s * 1000:7.0f} ms{rate}  {r.why}")
    fmt = lambda v: "n/a" if v is None else f"{v:.2f}"  # noqa: E731
    lines.append(f"\n{summary['passed']}/{summary['cases']} passed · fact accuracy {fmt(summary['fact_accuracy'])} · "
                 f"citation precision {fmt(summary['citation_precision'])} · citation recall {fmt(summary['citation_recall'])} · "
                 f"correct abstention {fmt(summary['correct_abstention'])} · false abstention {fmt(summary['false_abstention'])} · "
                 f"latency p50 {summary['latency_p50_s'] * 1000:.0f} ms")
    if summary["prompt_tokens"]:
        lines.append(f"tokens: {summary['prompt_tokens']} prompt + {summary['completion_tokens']} completion; "
                     f"cost ${summary['cost_usd'] or 0:.4f}")
    return "\n".join(lines)


def _label(support: str, probability: float | None) -> str:
    shown = {"partial": "may answer"}.get(support, support)
    return shown + (f", p {probability:.2f}" if probability is not None else "")
