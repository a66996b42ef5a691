"""The page's HTML, built from the Answer / Summary dicts (`to_dict()`): pure functions, no gradio. Every
piece of article, question or model text is escaped here, before it reaches the page."""

from __future__ import annotations

import html
import re

from qa.citations import KEY, strip_keys
from qa.config import Settings
from qa.text import runs_on
from qa.types import IngestReport

SUPPORT = ("supported", "partial", "unsupported")
EMPTY_VIEW = (
    '<div class="placeholder">Click a citation like <span class="chip">[1]</span> to read it in its article.</div>'
)
UNFINISHED_KEY = re.compile(r"\[[\sS\d,;]*$", re.I)  # "[S1, S" at the end of a reply still being written


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def mode_label(settings: Settings, result: dict | None = None) -> str:
    """The one place the page names a mode: an answer's or summary's ('extractive' or 'llm: <model>'),
    or with no result the page's own, as configured."""
    if result is None:
        return settings.mode_label()
    return f"llm: {result.get('model') or settings.model}" if result["mode"] == "llm" else "extractive"


def chip_html(c: dict) -> str:
    """A citation marker; the page's script sends its document and offsets when it is clicked."""
    return (
        f'<button type="button" class="chip" data-doc="{esc(c["doc_id"])}" data-start="{int(c["start"])}" '
        f'data-end="{int(c["end"])}" title="{esc(c["title"])}">[{int(c["marker"])}]</button>'
    )


def sources_html(heading: str, citations: list[dict]) -> str:
    items = "".join(
        f'<li>{chip_html(c)} <span class="quote">{esc(c["text"])}</span>'
        f' <span class="meta">— {esc(c["title"])}</span></li>'
        for c in citations
    )
    return f'<div class="sources"><div class="heading">{esc(heading)}</div><ul>{items}</ul></div>' if items else ""


BADGE = {"supported": "supported", "partial": "may answer", "unsupported": "unsupported"}


def badge_html(support: str, probability: float | None = None) -> str:
    """A claim's label; with the reader's probability that its sentence answers the question, when it has one."""
    support = support if support in SUPPORT else "unsupported"
    shown = BADGE[support] + (f" · p {probability:.2f}" if probability is not None else "")
    return f'<span class="badge {support}" title="{esc(_badge_help(support))}">{esc(shown)}</span>'


def _badge_help(support: str) -> str:
    return {
        "supported": "the cited sentence answers the question",
        "partial": "the cited sentence may answer the question: read it",
        "unsupported": "the cited sentences do not support this",
    }[support]


def claim_html(claim: dict, by_marker: dict[int, dict], tag: str = "p") -> str:
    """A claim or summary sentence: its text, a chip per citation, its support badge."""
    chips = "".join(chip_html(by_marker[m]) for m in claim["citations"] if m in by_marker)
    badge = badge_html(claim.get("support", "supported"), claim.get("probability"))
    return f'<{tag} class="claim">{esc(claim["text"])} {chips} {badge}</{tag}>'


def claims_html(claims: list[dict], by_marker: dict[int, dict]) -> str:
    """An answer's claims, a paragraph per sentence: the pieces of a sentence cited piece by piece run on in it."""
    out, line = [], []
    for i, c in enumerate(claims, 1):
        line.append(claim_html(c, by_marker, "span"))
        if not runs_on(c["text"]) or i == len(claims):
            out.append(f'<p class="sentence">{" ".join(line)}</p>')
            line = []
    return "".join(out)


def answer_html(a: dict, label: str) -> str:
    """One turn of the chat: the question, then the claims with chips and badges and their sources; an
    abstention says so and lists the nearest sentences."""
    if a["abstained"]:
        best = a.get("probability")
        odds = f' <span class="odds">(best candidate: p {best:.2f})</span>' if best is not None else ""
        body = f'<p class="abstain">{esc(a["answer"])}{odds}</p>' + sources_html(
            "Nearest sentences (none answers the question):", a["candidates"]
        )
    else:
        by_marker = {c["marker"]: c for c in a["citations"]}
        body = claims_html(a["claims"], by_marker) + sources_html("Sources", a["citations"])
    note = f'<p class="note">{esc(a["note"])}</p>' if a.get("note") else ""
    asked = f'<div class="asked-as">asked as: {esc(a["asked_as"])}</div>' if a.get("asked_as") else ""
    return (
        f'<div class="turn"><div class="question">{esc(a["question"])}</div>{asked}'
        f'<div class="answer"><span class="mode-tag">{esc(label)}</span>{copy_html(a.get("markdown", ""))}'
        f"{note}{body}</div></div>"
    )


def copy_html(markdown: str) -> str:
    """The Copy button of an answer or summary: the Markdown it copies (sources numbered) rides, escaped, in
    its data-copy attribute; static/copy.js puts it on the clipboard."""
    if not markdown:
        return ""
    return (
        f'<button type="button" class="copy" data-copy="{esc(markdown)}" '
        'title="Copy as Markdown, with its numbered sources">Copy</button>'
    )


def error_turn_html(turn: dict) -> str:
    """A question the page could not answer: the question, then the one-line message that says what to do."""
    return (
        f'<div class="turn error"><div class="question">{esc(turn["question"])}</div>'
        f'<div class="answer">{message_html(turn["error"])}</div></div>'
    )


def message_html(text: str) -> str:
    """A user error shown where its result would have been (a panel, a chat turn), styled as an error."""
    return f'<p class="qa-error" role="alert">{esc(text)}</p>'


def draft_html(question: str, written: str, cited: dict[str, dict], label: str) -> str:
    """The turn while the model writes: its words so far (escaped), each evidence key that has arrived as a
    citation shown as its chip, other keys and an unfinished one at the end left out; then the sentences cited
    so far. Nothing here is checked yet: the final answer replaces it."""
    written = UNFINISHED_KEY.sub("", written)
    parts, at = [], 0
    for m in KEY.finditer(written):
        parts.append(esc(written[at : m.start()]))
        parts += [chip_html(cited[k]) for k in strip_keys(m.group(0))[1] if k in cited]
        at = m.end()
    parts.append(esc(written[at:]))
    body = f'<p class="claim streaming">{"".join(parts)}<span class="cursor">▍</span></p>'
    body += sources_html("Cited so far (checking when the answer is complete)", list(cited.values()))
    return (
        f'<div class="turn draft"><div class="question">{esc(question)}</div>'
        f'<div class="answer"><span class="mode-tag">{esc(label)} · writing…</span>{body}</div></div>'
    )


def transcript_html(history: list[dict], settings: Settings, draft: str = "") -> str:
    """The chat: every answer (or error turn: {"question", "error"}) so far, then the one being written
    (`draft`, already HTML), if any."""
    if not history and not draft:
        return '<div class="placeholder">Ask a question about your articles.</div>'
    turns = (error_turn_html(a) if "error" in a else answer_html(a, mode_label(settings, a)) for a in history)
    return "".join(turns) + draft


def summary_html(s: dict, settings: Settings, markdown: str = "") -> str:
    by_marker = {c["marker"]: c for c in s["citations"]}
    body = "".join(claim_html(x, by_marker) for x in s["sentences"])
    if s["mode"] == "llm":  # extractive sentences are their own sources: listing them again adds nothing
        body += sources_html("Sources", s["citations"])
    return (
        f'<div class="turn summary"><div class="answer"><span class="mode-tag">{esc(mode_label(settings, s))}</span>'
        f"{copy_html(markdown)}{body}</div></div>"
    )


def highlight(text: str, spans: list[tuple[int, int]], focus: tuple[int, int] | None = None) -> str:
    """The article with each span wrapped in <mark> (the focused one gets id qa-focus); the text is sliced
    first and each slice escaped, so offsets stay those of the stored clean text."""
    out, at = [], 0
    for start, end in sorted(set(spans) | ({focus} if focus else set())):
        if start < at or start >= end or end > len(text):
            continue  # overlapping or out of range: offsets from a client are not trusted
        attrs = ' class="hl focus" id="qa-focus"' if (start, end) == focus else ' class="hl"'
        out += [esc(text[at:start]), f"<mark{attrs}>", esc(text[start:end]), "</mark>"]
        at = end
    out.append(esc(text[at:]))
    return "".join(out)


def article_html(info, text: str, spans: list[tuple[int, int]] = (), focus: tuple[int, int] | None = None) -> str:
    title = esc(info.title or "(untitled)")
    if info.url.startswith(("http://", "https://")):  # never a javascript: link from a record
        title = f'<a href="{esc(info.url)}" target="_blank" rel="noopener noreferrer">{title}</a>'
    meta = " · ".join(esc(x) for x in (info.source, info.published_at[:10], info.doc_id) if x)
    return (
        f'<div class="article"><div class="article-head"><h3>{title}</h3><div class="meta">{meta}</div></div>'
        f'<div class="article-text">{highlight(text, list(spans), focus)}</div></div>'
    )


def report_html(report: IngestReport) -> str:
    lines = [f"Added: {esc(d.title)} ({d.sentences} sentences)" for d in report.added]
    lines += [f"Already in the library: {esc(d.title)}" for d in report.skipped]
    lines += [f'<span class="failed">Failed: {esc(err)}</span>' for _, err in report.failed]
    return "<br>".join(lines)
