"""The page of `python -m bench quality` (evals/RESULTS.md): every benchmark, dev and test, beside its baseline
and the targets."""

from __future__ import annotations

from pathlib import Path

from bench import report as about
from bench.scoring import MAX_FALSE_ABSTENTION
from qa import answer

# (benchmark, metric key, label, baseline label, target index or None)
ROWS = [
    ("rgb", "accuracy", "answer accuracy", "top-1 sentence by embedding", 0),
    ("multihop", "recall@5", "evidence recall@5", "embedding-only top-k", None),
    ("multihop", "recall@10", "evidence recall@10", "embedding-only top-k", 1),
    ("multihop", "mrr@10", "evidence MRR@10", "embedding-only top-k", None),
    ("multihop", "accuracy", "answer accuracy (non-null)", "top-1 sentence by embedding", None),
    (
        "multihop",
        "accuracy_non_yes_no",
        "answer accuracy (non-null, gold not yes/no)",
        "top-1 sentence by embedding",
        None,
    ),
    ("multihop", "null_abstention", "correct abstention (null_query)", "abstain below a dev-tuned top-1 cosine", 2),
    (
        "multihop",
        "false_abstention",
        "false abstention (others; lower is better)",
        "abstain below a dev-tuned top-1 cosine",
        2,
    ),
    ("wice", "precision", "support precision", "top-2 by embedding", None),
    ("wice", "recall", "support recall", "top-2 by embedding", None),
    ("wice", "f1", "support F1", "top-2 by embedding", 3),
    ("wice", "label_accuracy", "claim-label accuracy", "dev's majority label", None),
    ("summedits", "balanced_accuracy", "balanced accuracy", "summary-vs-best-sentence cosine, dev threshold", 4),
    ("summaries", "rouge1_recall", "ROUGE-1 recall of the written summary", "first five sentences (lead-5)", None),
    ("summaries", "rouge2_recall", "ROUGE-2 recall of the written summary", "first five sentences (lead-5)", None),
    (
        "squad",
        "answerable_right",
        "answerable right (answer and citation hold a gold text)",
        "top-1 sentence by embedding",
        5,
    ),
    ("squad", "unanswerable_abstained", "unanswerable abstained", "top-1 sentence by embedding (never abstains)", 6),
    ("squad", "false_abstention", "false abstention (lower is better)", "top-1 sentence by embedding", 6),
    (
        "squad",
        "withheld_abstained",
        "abstained when the answering paragraph is withheld",
        "top-1 sentence by embedding (never abstains)",
        None,
    ),
    ("squad", "supported_precision", "precision of 'supported' (n/a: none shown)", "top-1 sentence by embedding", 7),
    ("squad", "supported_share", "share of answers shown as 'supported'", "top-1 sentence by embedding", None),
]
NAMES = {
    "rgb": "RGB en_fact",
    "multihop": "MultiHop-RAG",
    "wice": "WiCE",
    "summedits": "SummEdits news",
    "summaries": "SummEdits news summaries",
    "squad": "SQuAD 2.0",
}


def _f(v) -> str:
    return "n/a" if v is None else f"{v:.3f}"


def markdown(report: dict) -> str:
    res = report["results"]
    lines = [
        "# Quality benchmarks" + (" (quick sample: a smoke test, not results)" if report["quick"] else ""),
        "",
        "Written by the command below; do not edit by hand. Data: `../shared/data` (see its README for the",
        "dev/test splits). Every constant and threshold is tuned on dev only; test is reported, never tuned on.",
        "The reader's model (qa/data/reader.json) is fitted on the dev questions of RGB, MultiHop-RAG and SQuAD",
        "2.0, so its dev columns are in-sample; its out-of-fold dev figures are in that file (`dev_out_of_fold`).",
        "",
        f"- command: `{report['command']}`",
        f"- mode: {report['mode']}, the reader of qa/reader.py (embedding {report['embedding']}, no language model)",
        f"- commit: {report['commit']}",
        f"- date: {report['date']}",
        f"- machine: {report['machine']}",
        f"- runtime: {report['seconds']:.0f} s ("
        + ", ".join(f"{NAMES[k]} {v:.0f} s" for k, v in report["seconds_by_benchmark"].items())
        + f"; {report['texts_embedded']} of {report['texts']} distinct texts embedded in this run, the rest read from the"
        " vector cache: a first run embeds them all, mostly WiCE's evidence pages)",
        "",
        "| benchmark | metric | dev: ours | dev: baseline | test: ours | test: baseline | baseline | target (test) |",
        "|---|---|---:|---:|---:|---:|---|---|",
    ]
    for bench, key, label, base_label, target in ROWS:
        d, t = res[bench]["dev"], res[bench]["test"]
        mark = ""
        if target is not None:
            tg = report["targets"][target]
            mark = f"{tg['target']}: **{'met' if tg['met'] else 'missed'}**"
        lines.append(
            f"| {NAMES[bench]} | {label} | {_f(d['ours'][key])} | {_f(d['baseline'][key])} | "
            f"{_f(t['ours'][key])} | {_f(t['baseline'][key])} | {base_label} | {mark} |"
        )
    met = sum(t["met"] for t in report["targets"])
    mh, se, wi, rgb, sq, su = (res[k] for k in ("multihop", "summedits", "wice", "rgb", "squad", "summaries"))
    lines += [
        "",
        f"Targets met on test: {met} of {len(report['targets'])}.",
        "",
        "## What was measured",
        "",
        f"- **RGB** (en_fact; dev ids 0-49, test 50-99; {rgb['dev']['n']} / {rgb['test']['n']} questions): a library of the split's"
        f" positive and negative snippets, one document each ({rgb['dev']['sentences']} / {rgb['test']['sentences']} sentences);"
        " the library's extractive path (hybrid search, `answer.extractive`). Right when the answer contains a gold answer"
        f" (case-insensitive; every item of a list-of-lists gold). Ours abstained on {rgb['dev']['ours']['abstained']:.2f} / "
        f"{rgb['test']['ours']['abstained']:.2f} of the questions. A sentence holding a gold answer was among the"
        f" answerer's {answer.POOL} candidates for {rgb['dev']['ours']['gold_in_pool']:.2f} / {rgb['test']['ours']['gold_in_pool']:.2f}"
        " of them: the ceiling of a one-sentence answer from this retrieval.",
        f"- **MultiHop-RAG** ({mh['dev']['n']} / {mh['test']['n']} questions, ids 0-249 / 250-499): one library of the evidence"
        f" of all ground-truth entries grouped by url ({mh['dev']['sentences']} sentences, both splits). Recall@k: share of a"
        " question's gold facts that a top-k sentence is part of; MRR@10: 1/rank of the first such sentence"
        f" ({mh['dev']['with_evidence']} / {mh['test']['with_evidence']} questions with evidence). Answer accuracy: the gold"
        f" string in the answer, over non-null questions; the non-yes/no subset ({mh['dev']['non_yes_no']} / {mh['test']['non_yes_no']})"
        ' leaves out golds such as "Yes" that a sentence contains by accident. Abstention over'
        f" {mh['dev']['null_queries']} / {mh['test']['null_queries']} null queries. The abstention baseline abstains when the"
        f" best cosine is below {mh['dev']['baseline_abstain_below']:.3f}, the threshold with the most null queries caught"
        f" net of false abstentions on dev within false abstention <= {MAX_FALSE_ABSTENTION} (never abstaining scores 0 / 0).",
        f"- **WiCE** ({wi['dev']['n']} / {wi['test']['n']} claims; {wi['dev']['with_gold']} / {wi['test']['with_gold']} with a gold"
        " set): the sentences `verify.choose` picks (as the model path does), scored against the best-matching gold set; the label is"
        f' the one `verify.choose` gives. Label baseline: always "{wi["dev"]["baseline_label"]}" (dev\'s majority).',
        f'- **SummEdits** (news; dev = split "evaluation", {se["dev"]["n"]} pairs; test = split "test", {se["test"]["n"]} pairs):'
        " each summary sentence gets support chosen among its document's sentences (`verify.choose`: words, numbers, names, roles) and checked"
        " (`verify.check`); the summary's score is its weakest sentence's, consistent when >="
        f" {se['dev']['threshold']:.3f} (fitted on dev). Baseline: the cosine of the whole summary and its closest document"
        f" sentence, consistent when >= {se['dev']['baseline_threshold']:.3f} (fitted on dev).",
        f"- **SummEdits news summaries** ({su['dev']['n']} / {su['test']['n']} articles, SummEdits' dev / test): each"
        " article ingested as `qa ingest` does and summarized in five sentences by `qa summarize` offline"
        " (`summarize.extractive`); the share of the written summary's words (ROUGE-1) and word pairs (ROUGE-2,"
        " stemmed) that the five sentences hold. Baseline: the article's first five summary-material sentences.",
        f"- **SQuAD 2.0** ({sq['dev']['n']} / {sq['test']['n']} questions): one library of all 16 articles, every question"
        " asked of it. Answering paragraph withheld: every second answerable question asked again with the sentences of"
        " its own paragraph left out of the evidence (a question on the subject whose fact the articles do not state;"
        f" {sq['dev']['withheld']} / {sq['test']['withheld']} of them, leaving out those another paragraph answers too);"
        " right when it abstains.",
        "",
    ]
    return "\n".join(lines)


def write(report: dict, out: Path, json_out: Path | None = None) -> None:
    about.write(markdown(report), out, report, json_out)
