"""The prompts in prompts/ (prompts/ is qa/prompt_templates/, so they install with the package), one file each, loaded and checked at start-up.

A file is the system message, a line `=== user ===`, then the user message; `{name}` marks a variable.
"""

from __future__ import annotations

import functools
import string
from dataclasses import dataclass
from importlib import resources

from qa.errors import ConfigError

SPLIT = "=== user ==="
REQUIRED = {
    "answer": {"fence", "evidence", "question", "abstain", "format"},
    "summary_map": {"fence", "evidence", "sentences", "format"},
    "summary_reduce": {"fence", "evidence", "sentences", "format"},
    "judge": {"fence", "claim", "evidence"},
    "condense": {"fence", "history", "question"},
}


@dataclass(frozen=True)
class Prompt:
    name: str
    system: str
    user: str

    def messages(self, **values) -> list[tuple[str, str]]:
        return [("system", self.system.format(**values)), ("user", self.user.format(**values))]


@functools.lru_cache(maxsize=4)
def load_all(folder=None) -> dict[str, Prompt]:
    """Every prompt, with its variables checked: a missing or unknown `{name}` is an error now, not a
    KeyError in the middle of a question."""
    out = {}
    folder = folder or resources.files("qa") / "prompt_templates"
    for name, needed in REQUIRED.items():
        text = (folder / f"{name}.txt").read_text(encoding="utf-8")
        if SPLIT not in text:
            raise ConfigError(f"prompts/{name}.txt has no '{SPLIT}' line between the system and user parts.")
        system, user = (part.strip() for part in text.split(SPLIT, 1))
        found = {f for _, f, _, _ in string.Formatter().parse(system + user) if f}
        if found != needed:
            raise ConfigError(f"prompts/{name}.txt uses {sorted(found)}; it must use exactly {sorted(needed)}.")
        out[name] = Prompt(name, system, user)
    return out
