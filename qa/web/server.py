"""Starting the page: `qa serve` (and `python app.py`, which runs the same command) call `serve()`."""

from __future__ import annotations

import sys
from pathlib import Path

import gradio as gr

from qa.config import Settings
from qa.library import Library
from qa.web.access import Access, read_users
from qa.web.layout import build, static


def is_loopback(host: str) -> bool:
    return host in ("localhost", "::1") or host.startswith("127.")


def fetches_urls(host: str, setting: str) -> bool:
    """QA_PAGE_URLS: on, off, or auto (only a page bound to loopback fetches what its users type)."""
    return setting == "on" or (setting == "auto" and is_loopback(host))


def serve(
    host: str | None = None,
    port: int | None = None,
    data_dir: str | Path | None = None,
    block: bool = True,
    settings: Settings | None = None,
) -> gr.Blocks:
    """Start the page; requests are queued, two run at once. host and port: the arguments, else
    GRADIO_SERVER_NAME / GRADIO_SERVER_PORT, else 127.0.0.1:7860 (loopback unless told otherwise)."""
    settings = settings or Settings()
    host, port = host or settings.server_name or "127.0.0.1", port or settings.server_port or 7860
    access = Access(read_users(settings.page_auth) if settings.page_auth else None, settings.page_readonly)
    lib = Library(data_dir, settings, preload=True)  # the model loads as the page starts
    _warn(host, access, lib)
    demo = build(lib, fetch_urls=fetches_urls(host, settings.page_urls), access=access)
    demo.queue(default_concurrency_limit=2, max_size=100)
    demo.launch(
        server_name=host,
        server_port=port,
        share=False,
        ssr_mode=False,
        mcp_server=False,
        pwa=False,
        enable_monitoring=False,
        run_history=False,
        max_file_size=settings.max_file_bytes,
        footer_links=["api"],
        css=static("page.css"),
        prevent_thread_lock=not block,
        auth=access.login if access.users else None,
        auth_message="Log in to ask the articles.",
        root_path=settings.root_path or None,
    )
    return demo


def _warn(host: str, access: Access, lib: Library) -> None:
    """What a person starting the page should know: it is open to a network with no login and no read-only
    mode, or its library has problems (`qa check`)."""
    if not is_loopback(host) and access.users is None and not access.readonly:
        print(
            f"Warning: the page listens on {host} with no login and no read-only mode: anyone who can reach it can "
            "add and delete articles. Set QA_PAGE_AUTH (qa page-user) and/or QA_PAGE_READONLY=true "
            "(docs/deploy.md).",
            file=sys.stderr,
            flush=True,
        )
    report = lib.check(full=False)
    if not report.ok:
        print(
            f"Warning: the library has {len(report.problems)} problem(s); run `qa check` to see them and "
            "`qa check --repair` to fix them.",
            file=sys.stderr,
            flush=True,
        )
