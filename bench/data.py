"""The public benchmark sets of ../shared/data (see its README) as rows and as qa Articles, and the folder
they are found in. Splits: dev to tune on, test to report."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

SPLITS = ("dev", "test")
RGB_IDS = {"dev": range(0, 50), "test": range(50, 100)}
MH_IDS = {"dev": range(0, 250), "test": range(250, 500)}
SUMMEDITS_SPLIT = {"dev": "evaluation", "test": "test"}
SQUAD_FILE = "squad2_dev_cs224n.json"
SQUAD_ARTICLES = {"dev": slice(0, 8), "test": slice(8, 16)}


def find_data(path: str | Path | None = None) -> Path:
    """The folder of public data: the argument, or ../shared/data beside the repository or the working
    directory."""
    here = Path(__file__).resolve().parents[1]
    candidates = [Path(path)] if path else [here.parent / "shared" / "data", Path.cwd().parent / "shared" / "data"]
    for c in candidates:
        if (c / "rgb_en_fact.jsonl").is_file():
            return c
    tried = ", ".join(str(c) for c in candidates)
    raise SystemExit(f"no benchmark data in {tried}; pass --data DIR (the folder of ../shared/data/README.md).")


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def rgb_rows(data: Path, ids: Iterable[int]) -> list[dict]:
    ids = set(ids)
    return [r for r in _jsonl(data / "rgb_en_fact.jsonl") if r["id"] in ids]


def multihop(data: Path) -> tuple[list[dict], dict]:
    """(all 500 queries, ground truth by id)."""
    queries = json.loads((data / "multihop_rag_500_queries.json").read_text())["queries"]
    truth = json.loads((data / "multihop_rag_500_ground_truth.json").read_text())
    return queries, truth


def multihop_split(queries: list[dict], split: str) -> list[dict]:
    return [q for q in queries if int(q["id"]) in MH_IDS[split]]


def wice_rows(data: Path, split: str) -> list[dict]:
    return _jsonl(data / f"wice_claim_{split}.jsonl")


def summedits_rows(data: Path, split: str) -> list[dict]:
    return [r for r in json.loads((data / "summedits_news.json").read_text()) if r["split"] == SUMMEDITS_SPLIT[split]]


def rgb_articles(rows: list[dict]) -> list:
    """One article per positive or negative snippet of the questions (identical snippets collapse); a snippet
    that is page chrome only ("Click here to view the leaderboard ...") is no article, as `qa ingest` says."""
    from qa.errors import InputError
    from qa.ingest import from_text

    out = []
    for r in rows:
        for n, s in enumerate(r["positive"] + r["negative"]):
            try:
                out.append(from_text(s, source="rgb", title=f"rgb {r['id']}.{n}"))
            except InputError:
                continue
    return out


def multihop_articles(entries: Iterable[dict]) -> list:
    """One article per url of the entries' evidence: its distinct `fact`s as paragraphs. (Over all 500
    entries, the 1,153 evidence items hold 438 distinct facts: 443 sentences once split.)"""
    from qa.ingest import from_text

    facts: dict[str, list[str]] = {}
    meta: dict[str, dict] = {}
    for entry in entries:
        for ev in entry["evidence_list"]:
            have = facts.setdefault(ev["url"], [])
            if ev["fact"] not in have:
                have.append(ev["fact"])
            meta[ev["url"]] = ev
    return [
        from_text(
            "\n\n".join(fs),
            source=meta[u]["source"],
            title=meta[u]["title"],
            url=u,
            published_at=meta[u].get("published_at", ""),
        )
        for u, fs in facts.items()
    ]
