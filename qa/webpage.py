"""What a news page shows beyond what trafilatura extracts: the page as a browser renders it, whether it is
a site's front page, and the standfirst (the summary under the headline) that the extracted body left out."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from qa.text import word_count

_WHITESPACE = re.compile(r"[ \t\r\n\f]+")  # HTML's whitespace (not a no-break space)
# void elements that libxml2's HTML parser leaves open: everything after a bare <embed> would be its child
# and dropped with it, so they are closed at once
_VOID = re.compile(r"""<(embed|source|track)\b((?:[^>"']|"[^"]*"|'[^']*')*?)/?>""", re.IGNORECASE)
_SHOWN = "//body//text()[not(ancestor::script) and not(ancestor::style) and not(ancestor::noscript)]"
STANDFIRST_WORDS = (8, 80)  # shorter is a tagline or a label; longer is not a standfirst (nor read in full)


def visible(html: str):
    """The page as a browser shows it: void elements closed, <template> and [hidden] elements (never
    rendered, so never read by a person) left out, and a run of whitespace in text a space, as a browser shows
    it outside <pre> (a blog's HTML wrapped at a width split its sentences into lines). An lxml tree, or the
    string if it does not parse."""
    from trafilatura.utils import load_html

    tree = load_html(_VOID.sub(r"<\1\2></\1>", html))
    if tree is None:
        return html
    for el in tree.xpath("//template | //*[@hidden]"):
        if el.getparent() is not None:
            el.drop_tree()
    kept = set(tree.xpath("//pre | //pre//* | //textarea"))
    for el in tree.iter():
        if el.text and el not in kept and isinstance(el.tag, str):
            el.text = _WHITESPACE.sub(" ", el.text)
        if el.tail and el.getparent() not in kept:
            el.tail = _WHITESPACE.sub(" ", el.tail)
    return tree


def front_page(url: str) -> bool:
    """The address is a site's root ("https://www.wired.com/"): the page lists its stories' teasers. The
    page's own address or, for a saved page, the one it gives itself (canonical link, og:url); an article
    at the root is told apart by its query ("/?p=123") or its og:type."""
    parts = urlsplit(url)
    return bool(parts.netloc) and parts.path in ("", "/") and not parts.query


def shown_standfirst(page, description: str, title: str, text: str) -> str:
    """The page's standfirst when the extracted text left it out, else "". WIRED shows "The West Bank was
    Israel's surveillance laboratory. Since the Israel-Hamas war began, ..." under its headline, outside the
    article body that trafilatura keeps. The standfirst is the page's own description (meta description,
    og:description), shown in the page's body (not a search engine's hidden blurb). `page`: the tree
    `visible` gave (trafilatura reads it without changing it)."""
    dek = standfirst(description, f"{title}\n{text}")
    if not dek or isinstance(page, str) or dek not in " ".join(" ".join(page.xpath(_SHOWN)).split()):
        return ""
    return dek


def standfirst(description: str, text: str) -> str:
    """An article's description, spaces made single, if it can stand as the article's standfirst: whole (not
    cut off with "..."), of STANDFIRST_WORDS, and not already said by the text (half or more of its three-word
    runs are in it: a lead that the description copies). Else ""."""
    dek = " ".join(description.split())
    shortest, longest = STANDFIRST_WORDS
    if not shortest <= word_count(dek) <= longest or dek.endswith(("...", "…")):
        return ""
    words, have = dek.casefold().split(), " ".join(text.casefold().split())
    runs = [" ".join(words[i : i + 3]) for i in range(len(words) - 2)]
    return "" if sum(r in have for r in runs) * 2 >= len(runs) else dek
