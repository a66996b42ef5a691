"""Chrome and joined sentences on real news pages, before and after the cleaning rules: `python -m tests.pages.measure`.

before.json holds the sentences stored for each page before the rules (written by `--snapshot` at that commit);
labels.json says, by hand, which of them are chrome (not the article) and which are two sentences joined, and
lists article sentences that were not stored then ("added": a standfirst the extraction left out). The pages are
read again with the code as it is now, and each stored sentence is matched to the labelled ones.
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

from qa import ingest, sentences

HERE = Path(__file__).resolve().parent
BEFORE, LABELS = HERE / "before.json", HERE / "labels.json"


def stored(page: Path) -> list[str]:
    """The sentences qa stores for one saved page."""
    article = ingest.from_html(gzip.decompress(page.read_bytes()), source=page.name)
    return [article.text[s:e] for s, e in sentences.spans(article.text)]


def classify(now: list[str], before: list[str], labels: dict) -> dict:
    """Counts for one page: stored sentences that are chrome, joined, article; article sentences dropped;
    sentences split where no boundary is (a piece of a labelled article sentence); article sentences mended (the
    labelled pieces of one sentence that a page's source broke across lines, now one); text never labelled."""
    kind = ["chrome" if i in labels["chrome"] else "joined" if i in labels["joined"] else "article"
            for i in range(len(before))]
    counts = {"stored": len(now), "chrome": 0, "joined": 0, "split_wrongly": 0, "unlabelled": 0, "dropped": 0,
              "mended": 0}
    added = labels.get("added", [])
    for s in now:
        if s in added:
            continue
        if s in before:
            label = kind[before.index(s)]
            if label != "article":
                counts[label] += 1
            continue
        pieces = _pieces(s, before)
        if pieces and all(kind[i] == "article" for i in pieces):
            counts["mended"] += 1
            continue
        whole = [kind[i] for i, b in enumerate(before) if s in b]
        if not whole:
            counts["unlabelled"] += 1
        elif whole[0] == "chrome":
            counts["chrome"] += 1
        elif whole[0] == "article":
            counts["split_wrongly"] += 1
    text = "\n".join(now)
    counts["dropped"] = sum(1 for b, k in zip(before, kind) if k == "article" and b not in text)
    counts["dropped"] += sum(1 for a in added if a not in now)
    return counts


def _pieces(s: str, before: list[str]) -> list[int]:
    """The consecutive stored sentences of before that make s when joined by spaces ([] if none do)."""
    for i in range(len(before)):
        for j in range(i + 2, len(before) + 1):
            joined = " ".join(before[i:j])
            if joined == s:
                return list(range(i, j))
            if len(joined) >= len(s):
                break
    return []


def before_counts(before: list[str], labels: dict) -> dict:
    return {"stored": len(before), "chrome": len(labels["chrome"]), "joined": len(labels["joined"]),
            "split_wrongly": 0, "unlabelled": 0, "dropped": 0, "mended": 0}


def measure() -> dict[str, dict]:
    """{"before": totals, "after": totals, "pages": {name: after counts}}."""
    before, labels = json.loads(BEFORE.read_text()), json.loads(LABELS.read_text())
    pages = {name: classify(stored(HERE / name), before[name], labels[name]) for name in sorted(before)}
    return {
        "before": _total([before_counts(before[n], labels[n]) for n in before]),
        "after": _total(list(pages.values())),
        "pages": pages,
    }


def _total(rows: list[dict]) -> dict:
    return {k: sum(r[k] for r in rows) for k in rows[0]}


def report(result: dict) -> str:
    head = (f"{'stored':>7} {'chrome':>14} {'joined':>12} {'split wrongly':>14} {'dropped':>8} {'unlabelled':>10} "
            f"{'mended':>7}")
    lines = [f"{'':8} {head}"]
    for when in ("before", "after"):
        t = result[when]
        lines.append(f"{when:8} {t['stored']:>7} {t['chrome']:>5} ({t['chrome'] / t['stored']:6.2%}) "
                     f"{t['joined']:>3} ({t['joined'] / t['stored']:6.2%}) {t['split_wrongly']:>14} {t['dropped']:>8} "
                     f"{t['unlabelled']:>10} {t['mended']:>7}")
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    if argv[1:] == ["--snapshot"]:  # run once, before the rules, to record what was stored then
        pages = sorted(p.name for p in HERE.glob("*.html.gz"))
        BEFORE.write_text(json.dumps({p: stored(HERE / p) for p in pages}, indent=1, ensure_ascii=False) + "\n")
        return
    result = measure()
    print(report(result))
    for name, counts in result["pages"].items():
        print(f"  {name:28} " + "  ".join(f"{k} {v}" for k, v in counts.items()))


if __name__ == "__main__":
    main(sys.argv)
