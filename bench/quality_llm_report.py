"""The page of `python -m bench quality --model` (evals/RESULTS-llm.md): the model path on test splits, each
figure beside the issue's target, plus every question's answer in the JSON."""

from __future__ import annotations

from pathlib import Path

from bench import report as about

NAMES = {
    "rgb": "RGB en_fact (test)",
    "squad": "SQuAD 2.0 (test half, seeded sample)",
    "multihop": "MultiHop-RAG (test, seeded sample)",
}
# (key, label, target text or "")
COLUMNS = [
    ("accuracy", "answer accuracy (answerable)", ""),
    ("abstained_unanswerable", "abstained (unanswerable)", ""),
    ("false_abstention", "false abstention", ""),
    ("citation_recall", "right answers citing a gold sentence", ">= 0.90"),
    ("citation_precision", "cited sentences holding the gold (right answers)", ""),
    ("citations_per_claim", "citations per claim", "<= 2"),
    ("supported_wrong", "supported but wrong (share of answers)", "SQuAD <= 0.05"),
    ("seconds_p50", "seconds per question, p50 (uncached)", ""),
    ("seconds_max", "seconds per question, max (uncached)", ""),
]
TARGETS = {
    ("rgb", "accuracy"): ">= 0.85",
    ("squad", "accuracy"): ">= 0.80",
    ("squad", "abstained_unanswerable"): ">= 0.60",
}


def _fmt(v) -> str:
    if v is None:
        return "-"
    return f"{v:.3f}" if isinstance(v, float) else str(v)


def markdown(rep: dict) -> str:
    res = rep["results"]
    sets = [s for s in NAMES if s in res]
    counts = ", ".join(f"{s} {res[s]['n']}" for s in sets)
    lines = [
        "# The model path, measured"
        + (
            " (quick sample: a smoke test, not results)"
            if rep["quick"]
            else " (a sample, smaller than the full run: read the sizes)"
            if rep.get("sample")
            else ""
        ),
        "",
        "Written by the command below; do not edit by hand. Every question goes through `QA_MODE=llm`",
        "(retrieve, evidence, prompt, model, parse, verify) on a fresh library of the set's articles.",
        "",
        f"- command: `{rep['command']}`",
        f"- model: `{rep['model']}`; commit {rep['commit']}; {rep['date']}; {rep['machine']}",
        f"- questions: {counts} (seed {rep['seed']}); replies of at most {rep.get('max_tokens', 1024)} tokens"
        f" (QA_LLM_MAX_TOKENS); total {rep['seconds']:.0f} s",
        "",
        "| metric | " + " | ".join(NAMES[s] for s in sets) + " | target |",
        "|---|" + "---|" * len(sets) + "---|",
    ]
    for key, label, target in COLUMNS:
        cells = [
            _fmt(res[s].get(key)) + (f" (target {TARGETS[(s, key)]})" if (s, key) in TARGETS else "") for s in sets
        ]
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {target} |")
    if any("with_judge" in res[s] for s in sets):  # the local model's settings leave its judge off: what it would do
        judged = {k for s in sets for k in res[s].get("with_judge", {})}
        for key, label, _ in (c for c in COLUMNS if c[0] in judged):
            cells = [_fmt(res[s].get("with_judge", {}).get(key)) for s in sets]
            lines.append(f"| {label}, with the model as judge (QA_LLM_JUDGE=true) | " + " | ".join(cells) + " | |")
    for key in ("n", "answerable", "unanswerable", "errors", "uncached", "prompt_tokens", "completion_tokens"):
        lines.append(f"| {key.replace('_', ' ')} | " + " | ".join(_fmt(res[s].get(key)) for s in sets) + " | |")
    if res.get("latency"):
        lines += [
            "",
            (
                "## Latency: streamed, no reply cache (targets: first token <= 8 s, answer <= 25 s, follow-up "
                "first token <= 5 s)"
            ),
            "",
            (
                "The first question right after the model server starts (its prompts' instructions read at start),"
                " on a library opened as the page opens it (models and chat client loaded before the page is up);"
                " then a follow-up on the same evidence."
            ),
            "",
            "| case | evidence sentences | prompt tokens | first token (s) | answer (s) | right | answer |",
            "|---|---|---|---|---|---|---|",
        ]
        lines += [
            f"| {r['case']} | {r['evidence']} | {r['prompt_tokens']} | {r['first_token_s']} | {r['total_s']} | "
            f"{ {True: 'yes', False: 'no'}.get(r.get('right'), '-') } | {r['answer'][:80]} |"
            for r in res["latency"]
        ]
    se = res.get("summedits")
    if se:
        lines += [
            "",
            "## SummEdits (news, test, seeded sample): the model as a judge (target: balanced accuracy >= 0.70)",
            "",
            (
                f"{se['n']} summaries ({se['consistent']} consistent). Each summary sentence is checked as an answer's"
                " claim is: the support the verifier chooses among the document's sentences, then the model's"
                " probability of yes on that support (its first token's logprobs); a summary is as sure as its least"
                f" sure sentence and passes the judge at P(yes) >= {_fmt(se.get('bar'))}, the bar QA_MODE=llm holds"
                " claims to (QA_LLM_JUDGE_THRESHOLD)."
            ),
            "",
            "| check | balanced accuracy |",
            "|---|---|",
            f"| verifier alone (every sentence `supported`) | {_fmt(se['verifier_balanced_accuracy'])} |",
            f"| model judge alone | {_fmt(se['judge_balanced_accuracy'])} (target >= 0.70) |",
            f"| both, as QA_MODE=llm labels a claim with the judge on | {_fmt(se['both_balanced_accuracy'])} |",
            "",
        ]
        if se.get("dev_n"):
            lines += [
                (
                    f"The bar fitted on all {se['dev_n']} dev summaries: P(yes) >= {_fmt(se['dev_bar'])}, dev balanced"
                    f" accuracy {_fmt(se['dev_judge_balanced_accuracy'])} (at the product's bar"
                    f" {_fmt(se['dev_judge_balanced_accuracy_at_bar'])}); the test sample at the fitted bar:"
                    f" {_fmt(se['judge_balanced_accuracy_at_dev_bar'])}."
                ),
                "",
            ]
        lines += [
            f"{se['judge_calls']} judge calls; seconds per summary p50 {_fmt(se['seconds_p50'])}; {se['seconds']:.0f} s.",
        ]
    p = res.get("palmyra")
    if p:
        lines += [
            "",
            "## evals/palmyra.yaml (the reference article)",
            "",
            (
                f"{p['passed']} of {p['cases']} cases pass; fact accuracy {_fmt(p['fact_accuracy'])}, citation "
                f"precision {_fmt(p['citation_precision'])}, recall {_fmt(p['citation_recall'])}, correct abstention "
                f"{_fmt(p['correct_abstention'])}; latency p50 {_fmt(p['latency_p50_s'])} s, max {_fmt(p['latency_max_s'])} s;"
                f" tokens {p['prompt_tokens']} in, {p['completion_tokens']} out."
            ),
        ]
        lines += [f"- failed: {f}" for f in p.get("failed", [])]
    lines += [
        "",
        "Definitions: an answer is right when it holds the gold answer (yes/no golds as whole words); a cited",
        "sentence holds the gold when it contains the gold answer (RGB, SQuAD) or is part of a gold fact (MultiHop).",
        "Supported-but-wrong: some claim labelled `supported` in an answer that is wrong or that answers an",
        "unanswerable question. Seconds exclude questions whose replies came from the reply cache.",
        "",
    ]
    return "\n".join(lines)


def write(rep: dict, out: Path, json_out: Path | None) -> None:
    about.write(markdown(rep), out, rep, json_out or out.with_suffix(".json"))
