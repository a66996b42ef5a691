"""Follow-up questions: the previous turns (`history`, oldest first) read into (question, answer) pairs, and
the offline rewrite that carries the last question's names and focus into a question that has none of its own.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping

from qa.errors import InputError
from qa.text import tokenize

# Capitalised words in a row ("Rami Abdulrahman", "ISIS") and numbers: what a question names.
NAME = re.compile(
    r"""
    (?P<name> [A-Z][\w'’-]* (?: \s+ (?:al-|bin\s+|de\s+)? [A-Z][\w'’-]* )* )
  | (?P<number> \b\d[\d,.]*\b )
""",
    re.VERBOSE,
)
WORD = re.compile(r"[A-Za-z][\w'’-]+")
# words a question opens with that are capitalised for that reason alone
OPENERS = frozenset(
    "who whom whose what which when where why how many much is are was were did does do has have had "
    "can could will would should and but so then also tell give name list".split()
)
# words that ask about what came before rather than name a focus of their own ("Who said that?")
GENERIC = frozenset(
    "say said says tell told happen happened mean meant about else more also other thing things "
    "one ones do did does done".split()
)


def turns(history) -> list[tuple[str, str]]:
    """History as (question, answer) pairs, oldest first. A turn is a mapping with "question" and, optionally,
    "answer" and "asked_as" (an Answer's `to_dict()` is one), an Answer, or a (question, answer) pair; a turn's
    question is what it was asked as, so a chain of follow-ups keeps its subject."""
    out = []
    for t in history or []:
        if isinstance(t, Mapping) and isinstance(t.get("question"), str):
            q, a = t.get("asked_as") or t["question"], t.get("answer") or ""
        elif hasattr(t, "question") and hasattr(t, "answer"):
            q, a = getattr(t, "asked_as", "") or t.question, t.answer
        elif isinstance(t, (tuple, list)) and len(t) == 2 and all(isinstance(x, str) for x in t):
            q, a = t
        else:
            raise InputError(
                f'a history turn must be {{"question": ..., "answer": ...}} (oldest first); got {type(t).__name__}.'
            )
        if " ".join(str(q).split()):
            out.append((" ".join(str(q).split()), " ".join(str(a).split())))
    return out


def names(question: str) -> list[str]:
    """The names and numbers a question mentions, in order, without the capitalised word it opens with."""
    found = []
    for m in NAME.finditer(question):
        words = m.group(0).split()
        if m.start() == _first_word_at(question) and words[0].casefold() in OPENERS:
            words = words[1:]
        if words and words != ["I"]:
            found.append(" ".join(words))
    return found


def focus(question: str) -> list[str]:
    """The words, as written, that say what the question is about: its content words that are not names,
    question words or words that only point back ("said", "that")."""
    named = {w for n in names(question) for w in n.split()}
    out = []
    for w in WORD.findall(question):
        stems = tokenize([w])[0]
        if w not in named and w.casefold() not in OPENERS | GENERIC and stems and stems[0] not in _generic_stems():
            out.append(w)
    return out


def standalone(question: str, history: list[tuple[str, str]]) -> str:
    """The question with the last turn's names (when it names nothing) and focus (when it has none) after
    it, in the order they came: "Who said that?" after "How many ISIS fighters died?" is asked as
    "Who said that? (ISIS fighters died)". The question as it is when there is nothing to carry."""
    if not history:
        return question
    last = history[-1][0]
    carried = (set() if names(question) else set(names(last))) | (set() if focus(question) else set(focus(last)))
    if not carried:
        return question
    return f"{question} ({' '.join(sorted(carried, key=last.find))})"


def _first_word_at(text: str) -> int:
    m = re.search(r"\w", text)
    return m.start() if m else 0


@functools.cache
def _generic_stems() -> frozenset[str]:
    return frozenset(s for w in GENERIC for s in tokenize([w])[0])
