"""The page's layout and wiring: tabs, components, events, and the named API endpoints for scripts."""

from __future__ import annotations

from importlib import resources
from types import SimpleNamespace

import gradio as gr

from qa import ingest
from qa.library import Library
from qa.web.access import Access
from qa.web.handlers import Page
from qa.web.render import EMPTY_VIEW, esc, mode_label, transcript_html

FILE_TYPES = sorted(ingest.SUFFIXES)
TABLE_HEADERS = ["Title", "Source", "Date", "Sentences", "Id"]
UI = {"api_visibility": "private"}  # the page's own events: not part of the API
WRITE = {"concurrency_id": "write", "concurrency_limit": 1}  # one ingestion or deletion at a time


def static(name: str) -> str:
    """A file of qa/web/static (shipped as package data)."""
    return (resources.files("qa.web") / "static" / name).read_text(encoding="utf-8")


CHIPS_AND_COPY = static("chips.js") + "\n" + static("copy.js")  # an answer's chips open its sources; Copy copies it


def build(lib: Library, fetch_urls: bool = True, access: Access | None = None) -> gr.Blocks:
    """The page over one Library (shared by every visitor; it has its own locks)."""
    page = Page(lib, fetch_urls, access)
    with gr.Blocks(
        title="qa: cited answers from news articles", analytics_enabled=False, delete_cache=(3600, 86400)
    ) as demo:
        _api(page)  # first, so the endpoints get their plain names
        with gr.Row(elem_id="header"):
            gr.HTML(
                '<h1>qa</h1><span class="tagline">Answers from your news articles; every claim cites its sentences.</span>'
            )
            gr.HTML(f'<span class="mode">mode: {esc(mode_label(page.settings))}</span>', elem_id="mode")
        with gr.Column(visible=False, elem_id="welcome") as welcome:
            gr.HTML(
                "<p>The library is empty. Try it with the example article, or add your own under <b>Library</b>.</p>"
            )
            example = gr.Button(
                "Add the example article (Palmyra, 12 sentences)", variant="primary", elem_id="add-example"
            )
        with gr.Row(equal_height=False):
            with gr.Column(scale=3), gr.Tabs():
                ask, summary, library = _ask_tab(page), _summarize_tab(), _library_tab()
            with gr.Column(scale=2):
                article = gr.HTML(EMPTY_VIEW, elem_id="article-view", js_on_load=static("scroll.js"), max_height=640)
        _ask_events(page, ask, article)
        _summarize_events(page, summary, article)
        pickers = [library.table, library.pick, summary.docs, ask.docs, welcome]
        _library_events(page, library, [library.status, *pickers], article)
        example.click(page.add_example, outputs=[library.status, *pickers], **UI, **WRITE)
        demo.load(page.library_view, outputs=pickers, **UI)
        demo.load(page.write_controls, outputs=[library.writes, library.delete, example], **UI)
    return demo


def _ask_tab(page: Page) -> SimpleNamespace:
    with gr.Tab("Ask", id="ask-tab"):
        transcript = gr.HTML(
            transcript_html([], page.settings),
            elem_id="transcript",
            js_on_load=CHIPS_AND_COPY,
            max_height=560,
            autoscroll=True,
        )
        with gr.Row():
            question = gr.Textbox(
                show_label=False,
                placeholder="Ask a question, e.g. How many ISIS fighters died?",
                max_length=1000,
                scale=5,
                elem_id="question",
            )
            ask = gr.Button("Ask", variant="primary", scale=1, elem_id="ask")
        with gr.Row():
            docs = gr.Dropdown(label="Only these articles (optional)", multiselect=True, scale=5)
            clear = gr.Button("Clear chat", size="sm", scale=1)
        history = gr.State([])  # this visitor's turns, oldest first: Answer dicts, {"question", "error"} for errors
    return SimpleNamespace(transcript=transcript, question=question, ask=ask, docs=docs, clear=clear, history=history)


def _ask_events(page: Page, c: SimpleNamespace, article) -> None:
    """With a chat model the answer streams (a generator handler); extractive answers come whole."""
    handler = page.ask_stream if page.settings.use_llm() else page.ask
    gr.on(
        [c.ask.click, c.question.submit],
        handler,
        [c.question, c.history, c.docs],
        [c.transcript, c.history, article, c.question],
        **UI,
    )
    c.clear.click(lambda: (transcript_html([], page.settings), []), outputs=[c.transcript, c.history], **UI)
    c.transcript.cite(page.show_citation, outputs=article, show_progress="hidden", **UI)


def _summarize_tab() -> SimpleNamespace:
    with gr.Tab("Summarize", id="summarize-tab"):
        with gr.Row():
            docs = gr.Dropdown(label="Articles (none picked: all)", multiselect=True, scale=4)
            length = gr.Slider(1, 15, value=5, step=1, label="Sentences", scale=2)
        go = gr.Button("Summarize", variant="primary", elem_id="summarize")
        summary = gr.HTML(elem_id="summary", js_on_load=CHIPS_AND_COPY)
    return SimpleNamespace(docs=docs, length=length, go=go, summary=summary)


def _summarize_events(page: Page, c: SimpleNamespace, article) -> None:
    c.go.click(page.summarize, [c.docs, c.length], [c.summary, article], **UI)
    c.summary.cite(page.show_citation, outputs=article, show_progress="hidden", **UI)


def _library_tab() -> SimpleNamespace:
    with gr.Tab("Library", id="library-tab"):
        with gr.Column(elem_id="writes") as writes:  # hidden from visitors who may not add (read-only pages)
            upload = gr.File(
                label=f"Upload articles ({' '.join(FILE_TYPES)})",
                file_count="multiple",
                file_types=FILE_TYPES,
                type="filepath",
                elem_id="upload",
            )
            with gr.Accordion("Paste text", open=False):
                title = gr.Textbox(label="Title (optional)", max_length=300)
                text = gr.Textbox(label="Article text", lines=8, max_length=2_000_000)
                add_text = gr.Button("Add text")
            with gr.Accordion("From URLs", open=False):
                urls = gr.Textbox(label="http(s) URLs, one per line", lines=2)
                add_urls = gr.Button("Fetch and add")
        status = gr.HTML(elem_id="ingest-status")
        table = gr.Dataframe(
            headers=TABLE_HEADERS,
            datatype=["str", "str", "str", "number", "str"],
            interactive=False,
            wrap=True,
            elem_id="documents",
        )
        with gr.Row():
            pick = gr.Dropdown(label="Article", scale=4, elem_id="pick")
            show = gr.Button("Show", scale=1)
            delete = gr.Button("Delete", variant="stop", scale=1, elem_id="delete")
    return SimpleNamespace(
        writes=writes,
        upload=upload,
        title=title,
        text=text,
        add_text=add_text,
        urls=urls,
        add_urls=add_urls,
        status=status,
        table=table,
        pick=pick,
        show=show,
        delete=delete,
    )


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
