"""The web page (Gradio): render.py (pure HTML), handlers.py, layout.py, server.py, static/ (CSS, JS).

qa.config is imported first: it tells Gradio and huggingface_hub to stay offline before either loads."""

import qa.config  # noqa: F401
