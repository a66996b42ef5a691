"""What the page does: each method of `Page` is one event's handler, over one `Library` shared by every
visitor. User errors (QAError) become the page's one-line messages; anything else is a bug and propagates."""

from __future__ import annotations

import functools
import time
from dataclasses import asdict, replace
from pathlib import Path

import gradio as gr

from qa import ingest
from qa.errors import EmptyLibraryError, InputError, QAError
from qa.library import Library
from qa.types import IngestReport
from qa.web.access import Access
from qa.web.render import article_html, draft_html, esc, mode_label, report_html, summary_html, transcript_html

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "palmyra.txt"
STREAM_EVERY = 0.08  # s: the least time between two page updates while the model writes (citations come at once)


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
    def __init__(self, lib: Library, fetch_urls: bool = True, access: Access | None = None):
        self.lib = lib
        self.settings = lib.settings
        self.fetch_urls = fetch_urls  # off when the page is open to a network (QA_PAGE_URLS)
        self.access = access or Access()  # who may log in, who may add and delete (QA_PAGE_AUTH, QA_PAGE_READONLY)

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
        c = self.lib.citation(sentence_id, marker)
        return asdict(c) if c else None

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
        return self.lib.document(doc_id)

    # the library

    @_shown
    def add_files(self, paths: list[str] | None, request: gr.Request = None, progress=gr.Progress()):
        self.access.check_write(_user(request))
        return self._added(self._read_files(paths or [], progress))

    @_shown
    def add_text(self, text: str, title: str, request: gr.Request = None, progress=gr.Progress()):
        self.access.check_write(_user(request))
        article = ingest.from_text(text or "", source="pasted", title=(title or "").strip())
        return self._added(self.lib.ingest([article], progress=_tracker(progress)))

    @_shown
    def add_urls(self, urls: str, request: gr.Request = None, progress=gr.Progress()):
        self.access.check_write(_user(request))
        found = [u for u in (urls or "").split() if u]
        if not found or not all(ingest.is_url(u) for u in found):
            raise gr.Error("Give one or more http(s) URLs, separated by spaces or new lines.")
        self._may_fetch()
        return self._added(self.lib.ingest(found, progress=_tracker(progress)))

    @_shown
    def add_example(self, request: gr.Request = None, progress=gr.Progress()):
        self.access.check_write(_user(request))
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
    def remove(self, doc_id: str | None, request: gr.Request = None):
        self.access.check_write(_user(request))
        if not doc_id:
            raise gr.Error("Pick an article to delete.")
        info = self.lib.remove(doc_id)
        return (f"Deleted: {esc(info.title)}", *self.library_view())

    def write_controls(self, request: gr.Request = None):
        """The adding and deleting controls, shown only to a visitor who may use them."""
        may = self.access.may_write(_user(request))
        return gr.update(visible=may), gr.update(visible=may), gr.update(visible=may)

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
    def api_ingest(self, files: list[str] | None, urls: str, text: str, title: str, request: gr.Request = None):
        """Add uploaded files, http(s) URLs (space-separated) and a pasted text; returns what `qa ingest
        --json` prints. Anything else in `urls` is refused: a script must not make the server read its own files."""
        self.access.check_write(_user(request))
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


def _user(request: gr.Request | None) -> str | None:
    return getattr(request, "username", None) if request is not None else None


def _within(n: int, low: int, high: int, name: str) -> int:
    """The CLI's bounds for k and summary length, for callers that skip the page's controls."""
    if not low <= int(n) <= high:
        raise gr.Error(f"{name} must be between {low} and {high}.")
    return int(n)


def _merged(a: IngestReport, b: IngestReport) -> IngestReport:
    return IngestReport(a.added + b.added, a.skipped + b.skipped, a.failed + b.failed)
