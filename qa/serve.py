"""The web page: Gradio over `Library` (ask with cited answers, summarize, add and remove articles).

`qa serve` and `python app.py` call `serve()`; `build(lib)` gives the Blocks to tests and scripts.
Every piece of article, question or model text is escaped here, in Python, before it reaches the page.
"""

from __future__ import annotations

import functools
import html
import os
import re
import sys
import time
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

from qa import ingest
from qa.config import Settings  # first: it sets the offline environment for the libraries below
from qa.citations import KEY, strip_keys
from qa.errors import EmptyLibraryError, InputError, QAError
from qa.library import Library
from qa.types import IngestReport

# Read by Gradio and huggingface_hub: no analytics, no version check, no hub look-ups.
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"

import gradio as gr  # noqa: E402

EXAMPLE = Path(__file__).parent / "examples" / "palmyra.txt"
FILE_TYPES = sorted(ingest.SUFFIXES)
SUPPORT = ("supported", "partial", "unsupported")
TABLE_HEADERS = ["Title", "Source", "Date", "Sentences", "Id"]
EMPTY_VIEW = '<div class="placeholder">Click a citation like <span class="chip">[1]</span> to read it in its article.</div>'
UNFINISHED_KEY = re.compile(r"\[[\sS\d,;]*$", re.I)  # "[S1, S" at the end of a reply still being written
STREAM_EVERY = 0.08  # s: the least time between two page updates while the model writes (citations come at once)

# -- HTML, built from the Answer / Summary dicts (`to_dict()`), every text escaped ------------------


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def mode_label(settings: Settings, result: dict | None = None) -> str:
    """The one place the page names a mode: an answer's or summary's ('extractive' or 'llm: <model>'),
    or with no result the page's own, as configured."""
    if result is None:
        return settings.mode_label()
    return f"llm: {result.get('model') or settings.model}" if result["mode"] == "llm" else "extractive"


def chip_html(c: dict) -> str:
    """A citation marker; the page's script sends its document and offsets when it is clicked."""
    return (f'<button type="button" class="chip" data-doc="{_esc(c["doc_id"])}" data-start="{int(c["start"])}" '
            f'data-end="{int(c["end"])}" title="{_esc(c["title"])}">[{int(c["marker"])}]</button>')


def sources_html(heading: str, citations: list[dict]) -> str:
    items = "".join(f'<li>{chip_html(c)} <span class="quote">{_esc(c["text"])}</span>'
                    f' <span class="meta">— {_esc(c["title"])}</span></li>' for c in citations)
    return f'<div class="sources"><div class="heading">{_esc(heading)}</div><ul>{items}</ul></div>' if items else ""


def badge_html(support: str) -> str:
    support = support if support in SUPPORT else "unsupported"
    return f'<span class="badge {support}">{support}</span>'


def claim_html(claim: dict, by_marker: dict[int, dict]) -> str:
    """A claim or summary sentence: its text, a chip per citation, its support badge."""
    chips = "".join(chip_html(by_marker[m]) for m in claim["citations"] if m in by_marker)
    return f'<p class="claim">{_esc(claim["text"])} {chips} {badge_html(claim.get("support", "supported"))}</p>'


def answer_html(a: dict, label: str) -> str:
    """One turn of the chat: the question, then the claims with chips and badges and their sources; an
    abstention says so and lists the nearest sentences."""
    if a["abstained"]:
        body = (f'<p class="abstain">{_esc(a["answer"])}</p>'
                + sources_html("Nearest sentences (none answers the question):", a["candidates"]))
    else:
        by_marker = {c["marker"]: c for c in a["citations"]}
        body = "".join(claim_html(c, by_marker) for c in a["claims"]) + sources_html("Sources", a["citations"])
    note = f'<p class="note">{_esc(a["note"])}</p>' if a.get("note") else ""
    return (f'<div class="turn"><div class="question">{_esc(a["question"])}</div>'
            f'<div class="answer"><span class="mode-tag">{_esc(label)}</span>{note}{body}</div></div>')


def draft_html(question: str, written: str, cited: dict[str, dict], label: str) -> str:
    """The turn while the model writes: its words so far (escaped), each evidence key that has arrived as a
    citation shown as its chip, other keys and an unfinished one at the end left out; then the sentences cited
    so far. Nothing here is checked yet: the final answer replaces it."""
    written = UNFINISHED_KEY.sub("", written)
    parts, at = [], 0
    for m in KEY.finditer(written):
        parts.append(_esc(written[at : m.start()]))
        parts += [chip_html(cited[k]) for k in strip_keys(m.group(0))[1] if k in cited]
        at = m.end()
    parts.append(_esc(written[at:]))
    body = f'<p class="claim streaming">{"".join(parts)}<span class="cursor">▍</span></p>'
    body += sources_html("Cited so far (checking when the answer is complete)", list(cited.values()))
    return (f'<div class="turn draft"><div class="question">{_esc(question)}</div>'
            f'<div class="answer"><span class="mode-tag">{_esc(label)} · writing…</span>{body}</div></div>')


def transcript_html(history: list[dict], settings: Settings, draft: str = "") -> str:
    """The chat: every answer so far, then the one being written (`draft`, already HTML), if any."""
    if not history and not draft:
        return '<div class="placeholder">Ask a question about your articles.</div>'
    return "".join(answer_html(a, mode_label(settings, a)) for a in history) + draft


def summary_html(s: dict, settings: Settings) -> str:
    by_marker = {c["marker"]: c for c in s["citations"]}
    body = "".join(claim_html(x, by_marker) for x in s["sentences"])
    if s["mode"] == "llm":  # extractive sentences are their own sources: listing them again adds nothing
        body += sources_html("Sources", s["citations"])
    return (f'<div class="turn summary"><div class="answer"><span class="mode-tag">{_esc(mode_label(settings, s))}</span>'
            f'{body}</div></div>')


def highlight(text: str, spans: list[tuple[int, int]], focus: tuple[int, int] | None = None) -> str:
    """The article with each span wrapped in <mark> (the focused one gets id qa-focus); the text is sliced
    first and each slice escaped, so offsets stay those of the stored clean text."""
    out, at = [], 0
    for start, end in sorted(set(spans) | ({focus} if focus else set())):
        if start < at or start >= end or end > len(text):
            continue  # overlapping or out of range: offsets from a client are not trusted
        attrs = ' class="hl focus" id="qa-focus"' if (start, end) == focus else ' class="hl"'
        out += [_esc(text[at:start]), f"<mark{attrs}>", _esc(text[start:end]), "</mark>"]
        at = end
    out.append(_esc(text[at:]))
    return "".join(out)


def article_html(info, text: str, spans: list[tuple[int, int]] = (), focus: tuple[int, int] | None = None) -> str:
    title = _esc(info.title or "(untitled)")
    if info.url.startswith(("http://", "https://")):  # never a javascript: link from a record
        title = f'<a href="{_esc(info.url)}" target="_blank" rel="noopener noreferrer">{title}</a>'
    meta = " · ".join(_esc(x) for x in (info.source, info.published_at[:10], info.doc_id) if x)
    return (f'<div class="article"><div class="article-head"><h3>{title}</h3><div class="meta">{meta}</div></div>'
            f'<div class="article-text">{highlight(text, list(spans), focus)}</div></div>')


def report_html(report: IngestReport) -> str:
    lines = [f"Added: {_esc(d.title)} ({d.sentences} sentences)" for d in report.added]
    lines += [f"Already in the library: {_esc(d.title)}" for d in report.skipped]
    lines += [f'<span class="failed">Failed: {_esc(err)}</span>' for _, err in report.failed]
    return "<br>".join(lines)


# -- what the page does: each method is one event's handler -------------------------------------------


def _page_error(e: QAError) -> gr.Error:
    """What the page says for an error the user can act on: its one-line message (never a key: the model
    path words its errors without one), the empty library's in the page's own words."""
    if isinstance(e, EmptyLibraryError):  # its message names the CLI command
        return gr.Error("No articles yet: add the example article, or upload one under Library.")
    return gr.Error(str(e))


def _shown(fn):
    """QAError -> gr.Error, so the page shows its one-line message; anything else is a bug and propagates."""
    @functools.wraps(fn)
    def run(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except QAError as e:
            raise _page_error(e) from e
    return run


def _tracker(progress):
    return lambda done, total, what: progress((done, total), desc=what[-60:])


class Page:
    def __init__(self, lib: Library, fetch_urls: bool = True):
        self.lib = lib
        self.settings = lib.settings
        self.fetch_urls = fetch_urls  # off when the page is open to a network (QA_PAGE_URLS)

    def _may_fetch(self) -> None:
        if not self.fetch_urls:
            raise InputError("this page does not fetch URLs: it listens beyond 127.0.0.1, and a fetch would reach the "
                             "server's own network. Upload the page's HTML instead, or set QA_PAGE_URLS=on (docs/deploy.md).")

    # ask and summarize

    @_shown
    def ask(self, question: str, history: list[dict], doc_ids: list[str] | None):
        if not (question or "").strip():
            raise gr.Error("Type a question first.")
        return self._asked(self.lib.ask(question, doc_ids=doc_ids or None).to_dict(), history)

    def ask_stream(self, question: str, history: list[dict], doc_ids: list[str] | None):
        """The ask handler with a chat model: the reply as it is written, chips as its citations arrive,
        then the checked answer in its place, rendered as `ask` renders it. On an error the draft goes and
        the page shows the message."""
        if not (question or "").strip():
            raise gr.Error("Type a question first.")
        keep = gr.update()
        label, asked = mode_label(self.settings), " ".join(question.split())
        written, cited, shown = "", {}, 0.0
        yield transcript_html(history, self.settings, draft_html(asked, "", {}, label)), keep, keep, keep
        try:
            for event in self.lib.ask_stream(question, doc_ids=doc_ids or None):
                if event["type"] == "answer":
                    yield self._asked(event["answer"].to_dict(), history)
                    return
                if event["type"] == "token":
                    written += event["text"]
                elif event["type"] == "citation" and event["key"] not in cited:
                    c = self._citation(event["sentence_id"], len(cited) + 1)
                    if c is None:
                        continue
                    cited[event["key"]] = c
                    shown = 0.0  # a citation shows at once
                if time.monotonic() - shown >= STREAM_EVERY:
                    shown = time.monotonic()
                    yield transcript_html(history, self.settings, draft_html(asked, written, cited, label)), keep, keep, keep
        except QAError as e:
            yield transcript_html(history, self.settings), keep, keep, keep
            raise _page_error(e) from e

    def _asked(self, a: dict, history: list[dict]):
        """The outputs of a finished ask: the chat with the answer, the history, its first citation's article
        in the view, an empty question box."""
        history = [*history, a]
        view = self.article_view(a["citations"][0], a["citations"]) if a["citations"] else gr.update()
        return transcript_html(history, self.settings), history, view, ""

    def _citation(self, sentence_id: str, marker: int) -> dict | None:
        """A streamed citation as a chip needs it: the sentence's document, offsets and title."""
        found, _ = self.lib.store.get_sentences([sentence_id])
        if not found:
            return None
        s = found[0]
        info = self.lib.store.documents_info([s.doc_id])
        return {"marker": marker, "sentence_id": s.id, "doc_id": s.doc_id, "title": info[0].title if info else "",
                "text": s.text, "start": s.start, "end": s.end}

    @_shown
    def summarize(self, doc_ids: list[str] | None, sentences: float):
        s = self.lib.summarize(doc_ids or None, _within(sentences, 1, 50, "sentences")).to_dict()
        view = self.article_view(s["citations"][0], s["citations"]) if s["citations"] else gr.update()
        return summary_html(s, self.settings), view

    def article_view(self, focus: dict, others: list[dict] = ()) -> str:
        """The article of `focus` (a citation), its sentence marked and focused; the other citations in
        the same article marked too."""
        doc = focus["doc_id"]
        spans = [(int(c["start"]), int(c["end"])) for c in others if c["doc_id"] == doc]
        return article_html(self._doc(doc), self.lib.article(doc), spans, (int(focus["start"]), int(focus["end"])))

    @_shown
    def show_citation(self, evt: gr.EventData):
        """A chip was clicked: its data is {doc_id, start, end, spans: [[start, end], ...]} from the page."""
        d = evt._data or {}
        others = [{"doc_id": d["doc_id"], "start": s, "end": e} for s, e in d.get("spans", [])]
        return self.article_view({"doc_id": str(d["doc_id"]), "start": d["start"], "end": d["end"]}, others)

    @_shown
    def open_document(self, doc_id: str | None):
        if not doc_id:
            raise gr.Error("Pick an article first.")
        return article_html(self._doc(doc_id), self.lib.article(doc_id))

    def _doc(self, doc_id: str):
        found = [d for d in self.lib.documents() if d.doc_id == doc_id]
        if not found:
            raise gr.Error(f"No document {doc_id!r} in the library.")
        return found[0]

    # the library

    @_shown
    def add_files(self, paths: list[str] | None, progress=gr.Progress()):
        return self._added(self._read_files(paths or [], progress))

    @_shown
    def add_text(self, text: str, title: str, progress=gr.Progress()):
        article = ingest.from_text(text or "", source="pasted", title=(title or "").strip())
        return self._added(self.lib.ingest([article], progress=_tracker(progress)))

    @_shown
    def add_urls(self, urls: str, progress=gr.Progress()):
        found = [u for u in (urls or "").split() if u]
        if not found or not all(ingest.is_url(u) for u in found):
            raise gr.Error("Give one or more http(s) URLs, separated by spaces or new lines.")
        self._may_fetch()
        return self._added(self.lib.ingest(found, progress=_tracker(progress)))

    @_shown
    def add_example(self, progress=gr.Progress()):
        return self._added(self._read_files([str(EXAMPLE)], progress))

    def _read_files(self, paths: list[str], progress) -> IngestReport:
        """Uploads arrive as temporary paths; articles keep the file's own name as their source."""
        articles, failed = [], []
        for n, path in enumerate(paths, 1):
            name = Path(path).name
            progress((n, len(paths)), desc=f"reading {name}")
            try:
                articles += [replace(a, source=name) if a.source == path else a for a in ingest.read(path, self.settings)]
            except InputError as e:
                failed.append((name, str(e).replace(path, name)))
        report = self.lib.ingest(articles, progress=_tracker(progress))
        report.failed[:0] = failed
        return report

    def _added(self, report: IngestReport):
        if report.failed and not (report.added or report.skipped):
            raise gr.Error(report.failed[0][1])
        return (report_html(report), *self.library_view())

    @_shown
    def remove(self, doc_id: str | None):
        if not doc_id:
            raise gr.Error("Pick an article to delete.")
        info = self.lib.remove(doc_id)
        return (f"Deleted: {_esc(info.title)}", *self.library_view())

    def library_view(self):
        """Outputs after any change: the table, the three article pickers, the empty-library offer."""
        docs = self.lib.documents()
        rows = [[d.title, d.source, d.published_at[:10], d.sentences, d.doc_id] for d in docs]
        choices = [(f"{d.title or '(untitled)'} · {d.doc_id[:8]}", d.doc_id) for d in docs]
        return (rows, gr.update(choices=choices, value=None), gr.update(choices=choices, value=[]),
                gr.update(choices=choices, value=[]), gr.update(visible=not docs))

    # named endpoints for scripts (gradio_client): the same JSON as the CLI's --json

    @_shown
    def api_ask(self, question: str, k: int = 5, doc_ids: list[str] | None = None) -> dict:
        """Answer a question; returns what `qa ask --json` prints."""
        return self.lib.ask(question, k=_within(k, 1, 50, "k"), doc_ids=doc_ids or None).to_dict()

    @_shown
    def api_summarize(self, doc_ids: list[str] | None = None, sentences: int = 5) -> dict:
        """Summarize articles (default: all); returns what `qa summarize --json` prints."""
        return self.lib.summarize(doc_ids or None, _within(sentences, 1, 50, "sentences")).to_dict()

    @_shown
    def api_ingest(self, files: list[str] | None, urls: str, text: str, title: str):
        """Add uploaded files, http(s) URLs (space-separated) and a pasted text; returns what `qa ingest
        --json` prints. Anything else in `urls` is refused: a script must not make the server read its own files."""
        report = self._read_files(files or [], lambda *a, **k: None)
        links = (urls or "").split()
        report.failed += [(u, f"{u}: not an http(s) URL") for u in links if not ingest.is_url(u)]
        if any(ingest.is_url(u) for u in links):
            self._may_fetch()
            report = _merged(report, self.lib.ingest([u for u in links if ingest.is_url(u)]))
        if (text or "").strip():
            article = ingest.from_text(text, source="pasted", title=(title or "").strip())
            report = _merged(report, self.lib.ingest([article]))
        return report.to_dict()


def _within(n: int, low: int, high: int, name: str) -> int:
    """The CLI's bounds for k and summary length, for callers that skip the page's controls."""
    if not low <= int(n) <= high:
        raise gr.Error(f"{name} must be between {low} and {high}.")
    return int(n)


def _merged(a: IngestReport, b: IngestReport) -> IngestReport:
    return IngestReport(a.added + b.added, a.skipped + b.skipped, a.failed + b.failed)


# -- the layout and the server ---------------------------------------------------------------------

# A click on a chip sends its document, its offsets and those of the chips beside it in the same turn.
CHIPS_JS = """
if (!element.dataset.qaChips) {
  element.dataset.qaChips = "1";
  element.addEventListener("click", (event) => {
    const chip = event.target.closest("button.chip");
    if (!chip || !chip.dataset.doc) return;
    const turn = chip.closest(".turn") || element;
    const spans = [...turn.querySelectorAll("button.chip")]
      .filter((c) => c.dataset.doc === chip.dataset.doc)
      .map((c) => [Number(c.dataset.start), Number(c.dataset.end)]);
    trigger("cite", {doc_id: chip.dataset.doc, start: Number(chip.dataset.start), end: Number(chip.dataset.end), spans});
  });
}
"""
SCROLL_JS = """
const focus = () => { const m = element.querySelector("#qa-focus"); if (m) m.scrollIntoView({block: "center"}); };
watch("value", focus);
focus();
"""
CSS = """
#header h1 { margin: 0; font-size: 1.6em; } #header .tagline { color: var(--body-text-color-subdued); }
#mode .mode { float: right; padding: 2px 10px; border-radius: 999px; background: var(--color-accent-soft); }
.placeholder { color: var(--body-text-color-subdued); padding: 12px; }
.turn { border-bottom: 1px solid var(--border-color-primary); padding: 10px 4px; }
.turn .question { font-weight: 600; margin-bottom: 6px; }
.turn .question::before { content: "Q: "; color: var(--body-text-color-subdued); }
.mode-tag { float: right; font-size: 0.75em; color: var(--body-text-color-subdued); }
.claim { margin: 4px 0; } .abstain, .note { font-style: italic; }
.draft .cursor { color: var(--body-text-color-subdued); animation: qa-blink 1s steps(1) infinite; }
@keyframes qa-blink { 50% { opacity: 0; } }
.chip { font-size: 0.8em; padding: 0 5px; margin: 0 1px; border-radius: 6px; cursor: pointer;
        border: 1px solid var(--color-accent); color: var(--color-accent); background: transparent; }
.chip:hover { background: var(--color-accent-soft); }
.badge { font-size: 0.75em; padding: 1px 7px; border-radius: 999px; margin-left: 4px; }
.badge.supported { background: #d1fae5; color: #065f46; } .badge.partial { background: #fef3c7; color: #92400e; }
.badge.unsupported { background: #fee2e2; color: #991b1b; }
.sources { font-size: 0.9em; margin-top: 6px; } .sources ul { list-style: none; padding-left: 0; margin: 2px 0; }
.sources .heading { color: var(--body-text-color-subdued); } .meta { color: var(--body-text-color-subdued); font-size: 0.9em; }
.article { padding: 0 8px 8px 8px; } #article-view .html-container { padding-top: 0; }  /* sticky title flush */
.article-head { position: sticky; top: 0; background: var(--background-fill-primary); padding: 8px 0 6px 0;
                border-bottom: 1px solid var(--border-color-primary); }
.article h3 { margin: 0 0 2px 0; } .article-text { white-space: pre-wrap; line-height: 1.5; margin-top: 8px; }
mark.hl { background: #fef08a; color: inherit; } mark.focus { background: #fde047; outline: 2px solid #eab308; }
.failed { color: #b91c1c; }
"""


UI = {"api_visibility": "private"}  # the page's own events: not part of the API
WRITE = {"concurrency_id": "write", "concurrency_limit": 1}  # one ingestion or deletion at a time


def build(lib: Library, fetch_urls: bool = True) -> gr.Blocks:
    """The page over one Library (shared by every visitor; it has its own locks)."""
    page = Page(lib, fetch_urls)
    with gr.Blocks(title="qa: cited answers from news articles", analytics_enabled=False,
                   delete_cache=(3600, 86400)) as demo:
        _api(page)  # first, so the endpoints get their plain names
        with gr.Row(elem_id="header"):
            gr.HTML('<h1>qa</h1><span class="tagline">Answers from your news articles; every claim cites its sentences.</span>')
            gr.HTML(f'<span class="mode">mode: {_esc(mode_label(page.settings))}</span>', elem_id="mode")
        with gr.Column(visible=False, elem_id="welcome") as welcome:
            gr.HTML("<p>The library is empty. Try it with the example article, or add your own under <b>Library</b>.</p>")
            example = gr.Button("Add the example article (Palmyra, 12 sentences)", variant="primary", elem_id="add-example")
        with gr.Row(equal_height=False):
            with gr.Column(scale=3), gr.Tabs():
                ask, summary, library = _ask_tab(page), _summarize_tab(), _library_tab()
            with gr.Column(scale=2):
                article = gr.HTML(EMPTY_VIEW, elem_id="article-view", js_on_load=SCROLL_JS, max_height=640)
        _ask_events(page, ask, article)
        _summarize_events(page, summary, article)
        pickers = [library.table, library.pick, summary.docs, ask.docs, welcome]
        _library_events(page, library, [library.status, *pickers], article)
        example.click(page.add_example, outputs=[library.status, *pickers], **UI, **WRITE)
        demo.load(page.library_view, outputs=pickers, **UI)
    return demo


def _ask_tab(page: Page) -> SimpleNamespace:
    with gr.Tab("Ask", id="ask-tab"):
        transcript = gr.HTML(transcript_html([], page.settings), elem_id="transcript", js_on_load=CHIPS_JS,
                             max_height=560, autoscroll=True)
        with gr.Row():
            question = gr.Textbox(show_label=False, placeholder="Ask a question, e.g. How many ISIS fighters died?",
                                  max_length=1000, scale=5, elem_id="question")
            ask = gr.Button("Ask", variant="primary", scale=1, elem_id="ask")
        with gr.Row():
            docs = gr.Dropdown(label="Only these articles (optional)", multiselect=True, scale=5)
            clear = gr.Button("Clear chat", size="sm", scale=1)
        history = gr.State([])  # this visitor's answers (dicts), oldest first
    return SimpleNamespace(transcript=transcript, question=question, ask=ask, docs=docs, clear=clear, history=history)


def _ask_events(page: Page, c: SimpleNamespace, article) -> None:
    """With a chat model the answer streams (a generator handler); extractive answers come whole."""
    handler = page.ask_stream if page.settings.use_llm() else page.ask
    gr.on([c.ask.click, c.question.submit], handler, [c.question, c.history, c.docs],
          [c.transcript, c.history, article, c.question], **UI)
    c.clear.click(lambda: (transcript_html([], page.settings), []), outputs=[c.transcript, c.history], **UI)
    c.transcript.cite(page.show_citation, outputs=article, show_progress="hidden", **UI)


def _summarize_tab() -> SimpleNamespace:
    with gr.Tab("Summarize", id="summarize-tab"):
        with gr.Row():
            docs = gr.Dropdown(label="Articles (none picked: all)", multiselect=True, scale=4)
            length = gr.Slider(1, 15, value=5, step=1, label="Sentences", scale=2)
        go = gr.Button("Summarize", variant="primary", elem_id="summarize")
        summary = gr.HTML(elem_id="summary", js_on_load=CHIPS_JS)
    return SimpleNamespace(docs=docs, length=length, go=go, summary=summary)


def _summarize_events(page: Page, c: SimpleNamespace, article) -> None:
    c.go.click(page.summarize, [c.docs, c.length], [c.summary, article], **UI)
    c.summary.cite(page.show_citation, outputs=article, show_progress="hidden", **UI)


def _library_tab() -> SimpleNamespace:
    with gr.Tab("Library", id="library-tab"):
        upload = gr.File(label=f"Upload articles ({' '.join(FILE_TYPES)})", file_count="multiple",
                         file_types=FILE_TYPES, type="filepath", elem_id="upload")
        with gr.Accordion("Paste text", open=False):
            title = gr.Textbox(label="Title (optional)", max_length=300)
            text = gr.Textbox(label="Article text", lines=8, max_length=2_000_000)
            add_text = gr.Button("Add text")
        with gr.Accordion("From URLs", open=False):
            urls = gr.Textbox(label="http(s) URLs, one per line", lines=2)
            add_urls = gr.Button("Fetch and add")
        status = gr.HTML(elem_id="ingest-status")
        table = gr.Dataframe(headers=TABLE_HEADERS, datatype=["str", "str", "str", "number", "str"],
                             interactive=False, wrap=True, elem_id="documents")
        with gr.Row():
            pick = gr.Dropdown(label="Article", scale=4, elem_id="pick")
            show = gr.Button("Show", scale=1)
            delete = gr.Button("Delete", variant="stop", scale=1)
    return SimpleNamespace(upload=upload, title=title, text=text, add_text=add_text, urls=urls, add_urls=add_urls,
                           status=status, table=table, pick=pick, show=show, delete=delete)


def _library_events(page: Page, c: SimpleNamespace, changed: list, article) -> None:
    """`changed`: what an ingestion or deletion updates (its status line, the table, the pickers)."""
    c.upload.upload(page.add_files, c.upload, changed, **UI, **WRITE)
    c.add_text.click(page.add_text, [c.text, c.title], changed, **UI, **WRITE)
    c.add_urls.click(page.add_urls, c.urls, changed, **UI, **WRITE)
    c.delete.click(page.remove, c.pick, changed, **UI, **WRITE)
    c.show.click(page.open_document, c.pick, article, **UI)


def _api(page: Page) -> None:
    """/ask, /summarize, /ingest for gradio_client. /ingest goes through hidden components so uploaded
    paths are checked by Gradio (only files it received can be read)."""
    gr.api(page.api_ask, api_name="ask")
    gr.api(page.api_summarize, api_name="summarize")
    files = gr.File(file_count="multiple", type="filepath", visible=False)
    urls, text, title = gr.Textbox(visible=False), gr.Textbox(visible=False), gr.Textbox(visible=False)
    report = gr.JSON(visible=False)
    gr.Button(visible=False).click(page.api_ingest, [files, urls, text, title], report, api_name="ingest", **WRITE)


def fetches_urls(host: str, setting: str) -> bool:
    """QA_PAGE_URLS: on, off, or auto (only a page bound to loopback fetches what its users type)."""
    return setting == "on" or (setting == "auto" and (host in ("localhost", "::1") or host.startswith("127.")))


def serve(host: str = "127.0.0.1", port: int = 7860, data_dir: str | Path | None = None, block: bool = True) -> gr.Blocks:
    """Start the page on host:port (loopback unless told otherwise); requests are queued, two run at once."""
    settings = Settings()
    lib = Library(data_dir, settings, preload=True)  # the model loads as the page starts
    demo = build(lib, fetch_urls=fetches_urls(host, settings.page_urls))
    demo.queue(default_concurrency_limit=2, max_size=100)
    demo.launch(server_name=host, server_port=port, share=False, ssr_mode=False, mcp_server=False, pwa=False,
                enable_monitoring=False, run_history=False, max_file_size=settings.max_file_bytes,
                footer_links=["api"], css=CSS, prevent_thread_lock=not block)
    return demo


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(description="Start the qa web page.")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1; 0.0.0.0 opens it to the network)")
    parser.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    parser.add_argument("--data-dir", default=None, help="index folder (default: $QA_DATA_DIR or the per-user data dir)")
    args = parser.parse_args(argv)
    try:
        serve(args.host, args.port, args.data_dir)
    except QAError as e:
        sys.exit(f"Error: {e}")
    except Exception as e:  # start-up failed (the index, the port): one line, as `qa serve` says it
        if os.environ.get("QA_DEBUG"):
            raise
        sys.exit(f"Error: {type(e).__name__}: {' '.join(str(e).split())} (set QA_DEBUG=1 to see the traceback)")
