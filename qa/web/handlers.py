"""What the page does: each method of `Page` is one event's handler, over one `Library` shared by every
visitor. User errors (QAError) become one-line messages where the result would have been (a chat turn, a
panel) and, for the API, gr.Error; anything else is a bug and propagates."""

from __future__ import annotations

import functools
import time
from dataclasses import asdict, replace
from pathlib import Path

import gradio as gr

from qa import ingest, printing
from qa.errors import EmptyLibraryError, InputError, QAError
from qa.library import Library
from qa.types import Answer, IngestReport
from qa.web.access import Access
from qa.web.render import (
    article_html,
    draft_html,
    esc,
    message_html,
    mode_label,
    report_html,
    summary_html,
    transcript_html,
)

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "palmyra.txt"
STREAM_EVERY = 0.08  # s: the least time between two page updates while the model writes (citations come at once)


def _message(e: QAError) -> str:
    """What the page says for an error the user can act on: its one-line message (never a key: the model
    path words its errors without one), the empty library's in the page's own words."""
    if isinstance(e, EmptyLibraryError):  # its message names the CLI command
        return "No articles yet: add the example article, or upload one under Library."
    return str(e)


def _shown(fn):
    """For the API: QAError -> gr.Error, so a script gets its one-line message; anything else is a bug."""

    @functools.wraps(fn)
    def run(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except QAError as e:
            raise gr.Error(_message(e)) from e

    return run


def _in_panel(outputs: int):
    """For the page's events: QAError -> its message, styled as an error, in the handler's first output, the
    others left as they are (a gr.Error would put a bare "Error" badge on every output)."""

    def wrap(fn):
        @functools.wraps(fn)
        def run(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except QAError as e:
                shown = message_html(_message(e))
                return shown if outputs == 1 else (shown, *[gr.update()] * (outputs - 1))

        return run

    return wrap


CHANGED = 6  # what a library event updates: its status line, the table, three pickers, the empty-library offer


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
            raise InputError(
                "this page does not fetch URLs: it listens beyond 127.0.0.1, and a fetch would reach the "
                "server's own network. Upload the page's HTML instead, or set QA_PAGE_URLS=on (docs/deploy.md)."
            )

    # ask and summarize

    def ask(self, question: str, history: list[dict], doc_ids: list[str] | None):
        """A question in the chat, asked with the turns before it (a follow-up is asked standalone); a user
        error becomes a turn of its own: the question and what to do."""
        if not (question or "").strip():
            return self._nothing_asked()
        try:
            ans = self.lib.ask(question, doc_ids=doc_ids or None, history=_answered(history))
            return self._asked(ans, history)
        except QAError as e:
            return self._failed(question, e, history)

    def ask_stream(self, question: str, history: list[dict], doc_ids: list[str] | None):
        """The ask handler with a chat model: the reply as it is written, chips as its citations arrive,
        then the checked answer in its place, rendered as `ask` renders it. On an error the draft goes and
        the error turn takes its place."""
        if not (question or "").strip():
            yield self._nothing_asked()
            return
        keep = gr.update()
        label, asked = mode_label(self.settings), " ".join(question.split())
        written, cited, shown = "", {}, 0.0
        yield transcript_html(history, self.settings, draft_html(asked, "", {}, label)), keep, keep, keep
        try:
            for event in self.lib.ask_stream(question, doc_ids=doc_ids or None, history=_answered(history)):
                if event["type"] == "answer":
                    yield self._asked(event["answer"], history)
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
                    yield (
                        transcript_html(history, self.settings, draft_html(asked, written, cited, label)),
                        keep,
                        keep,
                        keep,
                    )
        except QAError as e:
            yield self._failed(question, e, history)

    def _asked(self, ans: Answer, history: list[dict]):
        """The outputs of a finished ask: the chat with the answer (and the Markdown its Copy button gives),
        the history, its first citation's article in the view, an empty question box."""
        a = {**ans.to_dict(), "markdown": printing.answer_markdown(ans, self._docs([*ans.citations, *ans.candidates]))}
        history = [*history, a]
        view = self.article_view(a["citations"][0], a["citations"]) if a["citations"] else gr.update()
        return transcript_html(history, self.settings), history, view, ""

    def _failed(self, question: str, e: QAError, history: list[dict]):
        """The chat with the question and its error as the last turn; the question stays in its box."""
        history = [*history, {"question": " ".join(question.split()), "error": _message(e)}]
        return transcript_html(history, self.settings), history, gr.update(), gr.update()

    def _nothing_asked(self):
        gr.Warning("Type a question first.")
        return gr.update(), gr.update(), gr.update(), gr.update()

    def _docs(self, citations) -> dict:
        """The cited documents' records (source, date), for the Markdown."""
        return {d: self.lib.document(d) for d in dict.fromkeys(c.doc_id for c in citations)}

    def _citation(self, sentence_id: str, marker: int) -> dict | None:
        """A streamed citation as a chip needs it: the sentence's document, offsets and title."""
        c = self.lib.citation(sentence_id, marker)
        return asdict(c) if c else None

    @_in_panel(2)
    def summarize(self, doc_ids: list[str] | None, sentences: float):
        summary = self.lib.summarize(doc_ids or None, _within(sentences, 1, 50, "sentences"))
        s, markdown = summary.to_dict(), printing.summary_markdown(summary, self._docs(summary.citations))
        view = self.article_view(s["citations"][0], s["citations"]) if s["citations"] else gr.update()
        return summary_html(s, self.settings, markdown), view

    def article_view(self, focus: dict, others: list[dict] = ()) -> str:
        """The article of `focus` (a citation), its sentence marked and focused; the other citations in
        the same article marked too."""
        doc = focus["doc_id"]
        spans = [(int(c["start"]), int(c["end"])) for c in others if c["doc_id"] == doc]
        return article_html(self._doc(doc), self.lib.article(doc), spans, (int(focus["start"]), int(focus["end"])))

    @_in_panel(1)
    def show_citation(self, evt: gr.EventData):
        """A chip was clicked: its data is {doc_id, start, end, spans: [[start, end], ...]} from the page."""
        d = evt._data or {}
        others = [{"doc_id": d["doc_id"], "start": s, "end": e} for s, e in d.get("spans", [])]
        return self.article_view({"doc_id": str(d["doc_id"]), "start": d["start"], "end": d["end"]}, others)

    @_in_panel(1)
    def open_document(self, doc_id: str | None):
        if not doc_id:
            raise InputError("Pick an article first.")
        return article_html(self._doc(doc_id), self.lib.article(doc_id))

    def _doc(self, doc_id: str):
        return self.lib.document(doc_id)

    # the library

    @_in_panel(CHANGED)
    def add_files(self, paths: list[str] | None, request: gr.Request = None, progress=gr.Progress()):
        self.access.check_write(_user(request))
        return self._added(self._read_files(paths or [], progress))

    @_in_panel(CHANGED)
    def add_text(self, text: str, title: str, request: gr.Request = None, progress=gr.Progress()):
        self.access.check_write(_user(request))
        article = ingest.from_text(text or "", source="pasted", title=(title or "").strip())
        return self._added(self.lib.ingest([article], progress=_tracker(progress)))

    @_in_panel(CHANGED)
    def add_urls(self, urls: str, request: gr.Request = None, progress=gr.Progress()):
        self.access.check_write(_user(request))
        found = [u for u in (urls or "").split() if u]
        if not found or not all(ingest.is_url(u) for u in found):
            raise InputError("Give one or more http(s) URLs, separated by spaces or new lines.")
        self._may_fetch()
        return self._added(self.lib.ingest(found, progress=_tracker(progress)))

    @_in_panel(CHANGED)
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
                articles += [
                    replace(a, source=name) if a.source == path else a for a in ingest.read(path, self.settings)
                ]
            except InputError as e:
                failed.append((name, str(e).replace(path, name)))
        report = self.lib.ingest(articles, progress=_tracker(progress))
        report.failed[:0] = failed
        return report

    def _added(self, report: IngestReport):
        if report.failed and not (report.added or report.skipped):
            raise InputError(report.failed[0][1])
        return (report_html(report), *self.library_view())

    @_in_panel(CHANGED)
    def remove(self, doc_id: str | None, request: gr.Request = None):
        self.access.check_write(_user(request))
        if not doc_id:
            raise InputError("Pick an article to delete.")
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
        return (
            rows,
            gr.update(choices=choices, value=None),
            gr.update(choices=choices, value=[]),
            gr.update(choices=choices, value=[]),
            gr.update(visible=not docs),
        )

    # named endpoints for scripts (gradio_client): the same JSON as the CLI's --json

    @_shown
    def api_ask(
        self, question: str, k: int = 5, doc_ids: list[str] | None = None, history: list[dict] | None = None
    ) -> dict:
        """Answer a question; returns what `qa ask --json` prints. history: the earlier turns, oldest first,
        each {"question": ..., "answer": ...} (an earlier /ask result will do): a follow-up is asked standalone."""
        return self.lib.ask(question, k=_within(k, 1, 50, "k"), doc_ids=doc_ids or None, history=history).to_dict()

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


def _answered(history: list[dict]) -> list[dict]:
    """The turns a follow-up is asked after: the answered ones, not the error turns."""
    return [t for t in history or [] if "error" not in t]


def _user(request: gr.Request | None) -> str | None:
    return getattr(request, "username", None) if request is not None else None


def _within(n: int, low: int, high: int, name: str) -> int:
    """The CLI's bounds for k and summary length, for callers that skip the page's controls."""
    if not low <= int(n) <= high:
        raise InputError(f"{name} must be between {low} and {high}.")
    return int(n)


def _merged(a: IngestReport, b: IngestReport) -> IngestReport:
    return IngestReport(a.added + b.added, a.skipped + b.skipped, a.failed + b.failed)
