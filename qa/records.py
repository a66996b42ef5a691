"""JSON and JSONL article records: the records of a file, and each record's fields under the names news APIs
and datasets give them (NewsAPI's content/publishedAt/source.name, MultiHop-RAG's body, CNN/DailyMail's
article, news-please's maintext/date_publish)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

from qa import webpage
from qa.errors import InputError

# a field's names, tried in this order
FIELDS = {
    "text": ("text", "body", "content", "article", "maintext"),
    "title": ("title", "headline"),
    "url": ("url", "link"),
    "source": ("source", "sitename", "publisher"),
    "published_at": ("published_at", "publishedAt", "date_publish", "published", "date"),
}
NO_TEXT = "needs a non-empty 'text' string (or 'body', 'content', 'article'; and a 'title')"
_CUT_MARK = re.compile(r"\s*(?:…|\.\.\.)?\s*\[\+\d+ chars\]\s*$")  # NewsAPI's "… [+4521 chars]": the rest is not given


def parse(text: str, source: str, lines: bool) -> Iterator[tuple[int, object]]:
    """(line or position, record) for each record of a JSON or JSONL file; a file whose one object wraps
    the list of records ({"status": "ok", "articles": [...]}, as NewsAPI answers) gives that list."""
    if lines:
        # split on "\n" only: U+2028 and friends may stand raw inside JSON strings
        for n, line in enumerate(text.split("\n"), 1):
            if line.strip():
                yield n, _parse(line, f"{source}:{n}")
        return
    data = _parse(text, source)
    if isinstance(data, dict) and not any(k in data for k in FIELDS["text"]):
        lists = [v for v in data.values() if isinstance(v, list) and v and all(isinstance(r, dict) for r in v)]
        data = lists[0] if len(lists) == 1 else data
    for i, rec in enumerate(data if isinstance(data, list) else [data]):
        yield i + 1, rec


def fields(rec: object) -> dict[str, str]:
    """A record's text, title, url, source, published_at and lead ("" where it has none). NewsAPI's text is
    cut at 200 characters with a "[+N chars]" mark, which is dropped; the lead is a record's "description"
    that the text does not say already (NewsAPI's standfirst; not markup), to open the text as a web page's
    standfirst does."""
    if not isinstance(rec, dict):
        return {"text": ""}
    out = {k: _field(rec, k) for k in FIELDS}
    out["text"] = _CUT_MARK.sub("…", out["text"])
    dek = rec.get("description")
    fit = isinstance(dek, str) and "<" not in dek and out["text"].strip()
    out["lead"] = webpage.standfirst(dek, f"{out['title']}\n{out['text']}") if fit else ""
    return out


def _field(rec: dict, name: str) -> str:
    """A record's field by the first of its names that holds a value: a string, an object's "name" (NewsAPI's
    "source": {"id": ..., "name": "BBC News"}), or for the date a number (a timestamp)."""
    for key in FIELDS[name]:
        value = rec.get(key)
        if isinstance(value, dict):
            value = value.get("name")
        if isinstance(value, str) and value.strip():
            return value
        if name == "published_at" and isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
    return ""


def _parse(text: str, where: str) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(
            f"{where}: malformed JSON ({e.msg} at line {e.lineno}, column {e.colno}); fix it and re-run."
        ) from None
    except RecursionError:
        raise InputError(
            f"{where}: JSON nested too deeply to be article records; give objects with 'title' and 'text'."
        ) from None
