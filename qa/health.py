"""What `qa check` reports and `qa check --repair` fixes: records left by a killed ingestion, documents
that break today's bounds (written before there were any), and a keyword index out of step.

Called through the facade (Library.check / Library.repair); reads and writes only through the store."""

from __future__ import annotations

import shutil
from pathlib import Path

from qa import ingest, keyword
from qa.config import Settings
from qa.errors import InputError
from qa.store import Store
from qa.types import CheckReport, DocumentInfo, Problem

REMOVE = "removed (ingest the article again if it is one)"
UNREPAIRABLE = "cannot be repaired in place: ingest the articles again into a new --data-dir"


def check(store: Store, settings: Settings, keyword_dir: Path, full: bool = True) -> CheckReport:
    """Every problem found. `full=False` reads the document records only (fast, for a page's start);
    `full` also counts every sentence and chunk and reads every article's text."""
    infos = store.documents_info(as_stored=True)
    report = CheckReport(documents=len(infos), sentences=sum(i.sentences for i in infos))
    for info in infos:
        report.problems += _bounds(info, settings)
    damaged = store.damaged() if full else []
    broken = [Problem("vector index", "", f"{name}: {error}", UNREPAIRABLE, False) for name, error in damaged]
    report.problems += broken
    if full and not broken:
        report.problems += _records(store, infos)
        report.problems += _texts(store, infos)
    report.problems += [
        Problem("keyword index", "", f"{p.name}: {why}", "removed; rebuilt at the next question")
        for p, why in keyword.stale(keyword_dir, store.generation(), report.sentences)
    ]
    return report


def repair(store: Store, settings: Settings, keyword_dir: Path) -> CheckReport:
    """Fix what `check` finds: long fields cut in place, broken or out-of-bounds documents removed
    (record first), orphan records and stale index folders deleted. Good articles are not touched."""
    report = check(store, settings, keyword_dir)
    removed = sorted({p.doc_id for p in report.problems if p.fix == REMOVE})
    for p in report.problems:
        if p.kind == "long fields" and p.doc_id not in removed:
            (info,) = store.documents_info([p.doc_id], as_stored=True)
            store.update_fields(ingest.bounded_info(info))
    for doc_id in removed:
        store.remove(doc_id)  # the record first, then its sentences and chunks
    store.drop_records(sorted({p.doc_id for p in report.problems if p.kind == "orphan records"}))
    if any(p.kind == "keyword index" for p in report.problems):
        for folder, _ in keyword.stale(keyword_dir, store.generation(), report.sentences):
            shutil.rmtree(folder, ignore_errors=True)
    report.repaired = True
    return report


def _bounds(info: DocumentInfo, settings: Settings) -> list[Problem]:
    out = []
    long = [f"{k} of {len(v):,} characters" for k, n in ingest.FIELD_CHARS.items() if len(v := getattr(info, k)) > n]
    if long:
        out.append(Problem("long fields", info.doc_id, ", ".join(long), "cut to their bounds; the article stays"))
    if info.sentences > settings.max_sentences:
        # kept: it went in under a higher QA_MAX_SENTENCES, which the user may have set on purpose
        out.append(
            Problem(
                "too many sentences",
                info.doc_id,
                f"{info.sentences:,} sentences, over QA_MAX_SENTENCES ({settings.max_sentences:,})",
                "kept: `qa rm` it if it is no article",
                False,
            )
        )
    return out


def _records(store: Store, infos: list[DocumentInfo]) -> list[Problem]:
    """Sentences or chunks without a document record, and records whose sentences or chunks are missing."""
    sentences, chunks = store.records_per_document()
    known = {i.doc_id for i in infos}
    out = [
        Problem(
            "orphan records",
            d,
            f"{sentences[d]:,} sentences and {chunks[d]:,} chunks of no document "
            "(an ingestion stopped before it finished)",
            "deleted; nothing visible changes",
        )
        for d in sorted((set(sentences) | set(chunks)) - known)
    ]
    for i in infos:
        if sentences[i.doc_id] != i.sentences or not chunks[i.doc_id]:
            out.append(
                Problem(
                    "incomplete",
                    i.doc_id,
                    f"{sentences[i.doc_id]:,} of {i.sentences:,} sentences and {chunks[i.doc_id]:,} chunks stored",
                    REMOVE,
                )
            )
    return out


def _texts(store: Store, infos: list[DocumentInfo]) -> list[Problem]:
    out = []
    for doc_id, text in store.article_texts([i.doc_id for i in infos]):
        try:
            ingest.check_prose(text or "", doc_id)
        except InputError as e:
            out.append(Problem("not text", doc_id, str(e).split(": ", 1)[1].split("; ")[0], REMOVE))
    return out
