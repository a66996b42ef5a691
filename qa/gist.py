"""Questions that ask what articles say as a whole, not for one fact: "What is this article about?",
"Summarize the Hansen article", "What are the key points?", "What happened?". No sentence answers them (the
reader rightly finds none that does), so `Library.ask` answers them with the summary `qa summarize` gives, of
the article the question names when it names one (in a conversation, "Summarize it" names the article of the
question before). Only whole-question shapes count: "What happened to the fighters?" asks for a fact, and is
read as any question is.
"""

from __future__ import annotations

import re

_DOCUMENT = r"(?:article|story|piece|page|report|post|text|document|news|paper|item)s?"
_THIS = r"(?:this|the|that|these|those)"
_WHAT_IS = r"what(?:'s| is| are| was| were)"
_REQUESTS = [
    # "summarize the article about Trump", "give me a summary of the Hansen story", "tl;dr"
    re.compile(r"^(?:please |can you |could you )?(?:summari[sz]e|sum up|recap)\b(?P<about>.*)$"),
    re.compile(r"^(?:please )?give (?:me )?(?:a |the )?(?:summary|gist|recap|rundown|tl;?dr)\b(?P<about>.*)$"),
    re.compile(r"^(?:tl;?dr|summary|gist)(?P<about>)$"),
    # "what is this article about", "what is the Hansen article about", "what are these stories about"
    re.compile(rf"^{_WHAT_IS} {_THIS} (?P<about>(?:[\w'-]+ ){{0,4}}){_DOCUMENT} about$"),
    # "what are the key points (of the article on ...)", "what is the gist (of this story)"
    re.compile(
        rf"^{_WHAT_IS} (?:the )?(?:main|key) (?:points?|takeaways?|facts?|ideas?)"
        rf"(?P<about>(?: (?:of|in|from) {_THIS} .*{_DOCUMENT}\b.*)?)$"
    ),
    re.compile(rf"^{_WHAT_IS} the (?:gist|summary|tl;?dr|main idea|main point|upshot)(?P<about>(?: of {_THIS} .*)?)$"),
    re.compile(r"^what happened(?P<about>)$"),
]
_FILLER = re.compile(rf"\b(?:{_THIS}|a|an|of|about|on|in|from|for|me|us|please|it|its|them|{_DOCUMENT})\b")


def request(question: str) -> str | None:
    """None when the question asks for a fact; else what it names the articles by ("Hansen" for "Summarize
    the Hansen article"), "" when it names none ("What is this article about?", "Summarize it")."""
    q = " ".join(question.casefold().replace("\u2019", "'").strip(" \t\n?.!").split())
    for pattern in _REQUESTS:
        if m := pattern.match(q):
            return " ".join(_FILLER.sub(" ", m.group("about")).split())
    return None
