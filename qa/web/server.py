"""Starting the page: `qa serve` (and `python app.py`, which runs the same command) call `serve()`."""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from qa.config import Settings
from qa.library import Library
from qa.web.layout import build, static


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
                footer_links=["api"], css=static("page.css"), prevent_thread_lock=not block)
    return demo
