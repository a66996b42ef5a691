"""The README's commands are the ones CI runs, and the example it quotes is what the code prints."""

import re

import pytest
from conftest import FIGHTERS_Q, ROOT

pytestmark = pytest.mark.e2e  # the real model, Chroma, page or browser


def _blocks(text: str) -> list[str]:
    return re.findall(r"```(?:bash)?\n(.*?)```", text, re.S)


def test_readme_test_command_is_what_ci_runs():
    readme = (ROOT / "README.md").read_text()
    test_cmd = _blocks(readme.split("**Test**", 1)[1])[0].strip()
    assert test_cmd in (ROOT / ".ci" / "run").read_text()


def test_readme_example_answer_is_what_ask_prints(palmyra):
    from qa import printing

    readme = (ROOT / "README.md").read_text()
    shown = _blocks(readme.split("What it prints:", 1)[1])[0]
    ans = palmyra.ask(FIGHTERS_Q)
    assert printing.answer_text(ans) in shown  # the claim, its sources, the badge with the reader's probability
