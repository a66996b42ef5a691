"""Model output -> claims with evidence keys, and keys -> sentences. The one parser for citations: a
key that was not in the evidence is dropped, and a claim left with no valid key is unsupported.

Two forms of output, one result:
  JSON (structured output): {"abstain": bool, "claims": [{"text": "...", "keys": ["S1", "S4"]}]}
  text (fallback, streaming): sentences each ending in keys, "400 fighters died [S3][S5]."
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass

from qa.sentences import spans
from qa.types import ABSTAIN, Hit

KEY = re.compile(r"\[\s*(S\d+(?:\s*[,;]\s*S?\d+)*)\s*\]", re.IGNORECASE)
KEY_ID = re.compile(r"\[?\s*S?(\d+)\s*\]?", re.IGNORECASE)  # S3, 3 or [S3] in a JSON list

# the structured-output schema; strict servers need every property listed as required
SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["abstain", "claims"],
    "properties": {
        "abstain": {"type": "boolean"},
        "claims": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["text", "keys"],
                "properties": {"text": {"type": "string"}, "keys": {"type": "array", "items": {"type": "string"}}},
            },
        },
    },
}
JSON_FORMAT = (
    'Reply with JSON only, in this shape: {"abstain": false, "claims": [{"text": <a sentence of your '
    'answer>, "keys": [<the keys of the evidence sentences that support it>]}]}; when the evidence '
    'does not answer, {"abstain": true, "claims": []}.'
)
TEXT_FORMAT = "Reply with plain sentences, each ending in its keys."


@dataclass
class Evidence:
    """Sentences shown to the model under short keys, inside a fence named by a random nonce, so no
    article text can close the fence and speak as the prompt."""

    fence: str
    hits: dict[str, Hit]  # "S1" -> the sentence behind it

    @classmethod
    def of(cls, hits: list[Hit]) -> Evidence:
        return cls(f"evidence-{secrets.token_hex(4)}", {f"S{i}": h for i, h in enumerate(hits, 1)})

    def render(self) -> str:
        return "\n".join(f"[{k}] {_flat(h.sentence.text)}" for k, h in self.hits.items())


@dataclass
class RawClaim:
    text: str
    keys: list[str]  # as the model wrote them, normalised to "S<n>"; not yet checked
    reads: str = ""  # what the checks read, when not the text shown: a piece of a claim with its subject

    @property
    def said(self) -> str:
        return self.reads or self.text


def parse(output: str) -> tuple[bool, list[RawClaim]]:
    """(abstained, claims) from either form; never raises, whatever the output."""
    output = (output or "").strip()
    data = _json(output)
    if isinstance(data, dict) and isinstance(data.get("claims"), list):
        claims = []
        for c in data["claims"]:
            if isinstance(c, dict) and isinstance(c.get("text"), str):
                keys = c.get("keys")
                keys = [keys] if isinstance(keys, str) else keys if isinstance(keys, list) else []  # "S1", true, {...}
                keys = [k for k in keys if isinstance(k, str)]
                text, inline = strip_keys(c["text"])
                claims.append(RawClaim(text, _norm(keys) + inline))
        claims = [c for c in claims if c.text]
        return (bool(data.get("abstain")) and not claims) or _is_abstain(" ".join(c.text for c in claims)), claims
    if _is_abstain(output):
        return True, []
    return False, parse_text(output)


def in_part(facts: list[RawClaim], keys: list[str]) -> list[RawClaim]:
    """A map step's facts with the keys of the part it read. A fact citing only keys it was never shown has an
    invented source and is dropped; a fact without keys stays, for the checker to find its support."""
    out = []
    for fact in facts:
        shown = [k for k in fact.keys if k in keys]
        if shown or not fact.keys:
            out.append(RawClaim(fact.text, shown))
    return out


REPLY_SENTENCE = 2000  # a model's sentence is read whole up to this many characters (articles' are cut at 600)


def parse_text(output: str) -> list[RawClaim]:
    claims: list[RawClaim] = []
    for s, e in spans(output, max_chars=REPLY_SENTENCE):
        text, keys = strip_keys(output[s:e])
        if not text.strip(" .") and claims:  # a sentence of keys only belongs to the one before
            claims[-1].keys += keys
        elif text:
            claims.append(RawClaim(text, keys))
    return claims


def strip_keys(text: str) -> tuple[str, list[str]]:
    keys = [k for m in KEY.finditer(text) for k in _norm(re.split(r"[,;]", m.group(1)))]
    clean = " ".join(KEY.sub(" ", text).split())
    clean = re.sub(r"\s+([.,;:!?])", r"\1", clean)
    return clean, keys


def _norm(keys: list[str]) -> list[str]:
    out = []
    for k in keys:
        m = KEY_ID.fullmatch(k.strip())
        if m and f"S{int(m.group(1))}" not in out:
            out.append(f"S{int(m.group(1))}")
    return out


def _json(text: str):
    text = re.sub(r"^```(?:json)?\s*|\s*```$", "", text)
    try:
        return json.loads(text)
    except (json.JSONDecodeError, ValueError):
        pass
    if not text.startswith("{"):
        return None
    # JSON cut off (the token limit): its claims up to the last closed object; the one being written is dropped,
    # and a reply with none left has no claims: never the raw JSON shown as an answer
    from langchain_core.utils.json import parse_partial_json

    cut = text[: text.rfind("}") + 1]
    try:
        data = parse_partial_json(cut) if cut else None
    except (json.JSONDecodeError, ValueError):
        data = None
    return data if isinstance(data, dict) else {"claims": []}


def _is_abstain(text: str) -> bool:
    """The reply is our abstention, or only says in its own words that the evidence does not tell ("The evidence
    does not say the answer."): a small model hedges so instead of abstaining, and shown as a claim it read as an
    answer. A reply that also says something else is kept."""
    flat = _flat(text).strip()
    if flat.casefold().rstrip(".") == ABSTAIN.casefold().rstrip("."):
        return True
    said = [flat[a:b] for a, b in spans(flat, max_chars=REPLY_SENTENCE)]
    return bool(said) and all(HEDGE.match(s) for s in said)


# "The evidence does not say ...", "The articles don't mention ...", "The provided text does not specify ...";
# not when the sentence goes on to say something ("..., but it reports that ...")
HEDGE = re.compile(
    r"(?!.*\b(?:but|however|although|though|yet)\b)\W*(?:the )?(?:provided |given )?(?:evidence|articles?|texts?|passages?|sources?|context|sentences?)"
    r"(?: provided| given)? (?:does|do|did)(?: not|n['\u2019]t) (?:say|state|mention|specify|provide|indicate|tell)\b",
    re.IGNORECASE,
)


def _flat(text: str) -> str:
    return " ".join(text.split())


def says_yes(output: str) -> bool:
    """The judge's one-word verdict: only a clear yes counts (anything else, or nothing, is a no)."""
    words = (output or "").strip().split()
    return bool(words) and words[0].strip(".,:;!\"'*").casefold() in ("yes", "entailed", "supported")
