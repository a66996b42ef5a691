"""Short answers inside one parsed sentence: its entities and the phrases that are arguments of a verb or a
preposition, each with features saying whether it is of the type the question expects and what it attaches
to (the question's focus, its relation). Part of the reader (qa/reader.py).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass

from qa import question as qn
from qa import reader_parse, structure
from qa.keyword import tokenize

MAX_SPAN = 12  # tokens; a longer phrase is read as the whole sentence
_ARGS = {"nsubj", "nsubjpass", "dobj", "pobj", "attr", "appos", "oprd", "dative", "npadvmod", "conj"}
_EDGE = {"PUNCT", "CCONJ", "ADP", "PART", "SCONJ"}

SPAN_FEATURES = (
    "exact loose contains_exact is_entity other_q focus_attached relation_attached near counts_other "
    "question_overlap same_type length verb_attached"
).split()


@dataclass
class Span:
    text: str
    features: list[float]
    exact: bool  # of the expected type (or holds an entity of it)
    p: float = 0.0


_stem_cache: OrderedDict[str, list[str]] = OrderedDict()


def _stems(doc) -> list[str]:
    """Each token's stem ("" for a stopword); kept per sentence, as the parses are."""
    got = _stem_cache.get(doc.text)
    if got is None or len(got) != len(doc):
        got = _stem_cache[doc.text] = [(t[0] if t else "") for t in tokenize([tok.text for tok in doc])]
        if len(_stem_cache) > reader_parse.CACHE:
            _stem_cache.popitem(last=False)
    return got


def spans(q: qn.Question, doc) -> list[Span]:
    """Entities, and the phrases that are arguments of a verb or a preposition, minus those the question
    already says; each with its features."""
    stems = _stems(doc)
    near = _Near(
        [t for t in doc if q.focus and stems[t.i] == q.focus],
        [t for t in doc if stems[t.i] in q.relation],
        [i for i, s in enumerate(stems) if s and s in q.words],
    )
    found: dict[tuple[int, int], str] = {}
    labels = [_label(q, e) for e in doc.ents]
    for e, label in zip(doc.ents, labels):
        start = e.start
        while start > 0 and doc[start - 1].dep_ == "compound" and doc[start - 1].pos_ == "PROPN":
            start -= 1  # a title before a name: "Mayor Jane Ortiz"
        found[(start, e.end)] = label
    if q.answer_type == qn.DESCRIPTION:
        for lo, hi in _descriptions(q.entities[0], doc, stems):
            found[(lo, hi)] = qn.DESCRIPTION
    for t in doc:
        if t.dep_ in _ARGS and t.pos_ in {"NOUN", "PROPN", "NUM"}:
            found.setdefault(_trim(doc, *_phrase(doc, t)), "")
    ents = [(e.start, e.end, label) for e, label in zip(doc.ents, labels)]
    spans = []
    for (lo, hi), label in found.items():
        content = {s for s in stems[lo:hi] if s}
        if hi <= lo or not content or content <= q.words:
            continue
        inner = {lab for a, b, lab in ents if lo <= a and b <= hi}
        spans.append(_span(q, doc, stems, near, lo, hi, label, inner, content))
    same = sum(s.exact for s in spans)
    for s in spans:
        s.features[10] = 1.0 / same if s.exact else 0.0
    return spans


def _label(q: qn.Question, ent) -> str:
    """spaCy's label, but a length of time ("a three-week campaign", "in recent days") is a DURATION when the
    question asks when: it says how long, not when (spaCy calls both DATE, or TIME)."""
    if ent.label_ in ("DATE", "TIME") and q.answer_type == qn.DATE and not q.wh.startswith("how") and lasting(ent):
        return "DURATION"
    return ent.label_


UNITS = frozenset("second minute hour day week month year decade century".split())
# words that fix a span of time in the calendar: "last year", "two weeks ago", "May 2014", "the 19th century"
POINTS = frozenset(
    "ago today yesterday tomorrow tonight now last next this early late mid earlier later since first third "
    "january february march april may june july august september october november december "
    "monday tuesday wednesday thursday friday saturday sunday".split()
)


def lasting(span) -> bool:
    """The phrase is a length of time ("days", "a three-week campaign", "24 hours", "a decade"), not a time."""
    toks = [t for t in span if t.text != "-"]  # "three-week": three, week
    if any(_dated(t.lower_) for t in toks):
        return False
    for i, t in enumerate(toks):
        w = t.lower_
        counted = i > 0 and (toks[i - 1].like_num or toks[i - 1].lower_ in ("a", "an"))
        if (w in UNITS and counted) or w == "centuries" or (w.endswith("s") and w[:-1] in UNITS):
            return True
    return False


def _dated(w: str) -> bool:
    return w in POINTS or (w.isdigit() and len(w) == 4) or (w[:1].isdigit() and w.endswith(("st", "nd", "rd", "th")))


def _descriptions(name: str, doc, stems: list[str]) -> list[tuple[int, int]]:
    """What the sentence says the name is: its title ("Observatory director Rami Abdulrahman"), its apposition
    ("David Kershaw, division vice president, ..."), what it is said to be ("The elder Mateen is a life insurance
    salesman"). Only where the sentence means the same one: "Omar Mateen" is not "Seddique Mateen"."""
    words = set(tokenize([name])[0])
    found = []
    for head in {_name_head(t) for t in doc if stems[t.i] in words and (t.pos_ == "PROPN" or t.ent_type_)}:
        mention = next((e for e in doc.ents if e.start <= head.i < e.end), doc[head.i : head.i + 1])
        if stems[mention.start] not in words:
            continue
        titles = [c for c in head.lefts if c.i < mention.start and c.dep_ in {"compound", "amod", "nmod"}]
        if any(c.dep_ != "amod" for c in titles):  # a title has a noun: "Observatory director", not "elder"
            found.append((min(c.left_edge.i for c in titles), mention.start))
        said = [c for c in head.children if c.dep_ == "appos"]
        if head.dep_ in {"nsubj", "nsubjpass"} and head.head.lower_ in structure.BE:
            said += [c for c in head.head.children if c.dep_ == "attr"]
        for c in said:  # without what a relative clause adds: "a retired judge (who lives in Porto)"
            lo, hi = _phrase(doc, c)
            found.append((lo, min([hi] + [r.left_edge.i for r in c.rights if r.dep_ == "relcl"])))
        if head.dep_ == "appos" and head.head.i < mention.start:  # "his son, Omar Mateen"
            found.append((head.head.left_edge.i, mention.start))
    return [_trim(doc, lo, hi) for lo, hi in found]


def _name_head(tok):
    while tok.dep_ in {"compound", "flat"} and tok.head.pos_ == "PROPN" and tok.head is not tok:
        tok = tok.head
    return tok


def _phrase(doc, tok) -> tuple[int, int]:
    lo, hi = tok.left_edge.i, tok.right_edge.i + 1
    if hi - lo > MAX_SPAN:
        lo, hi = next(((c.start, c.end) for c in doc.noun_chunks if c.start <= tok.i < c.end), (tok.i, tok.i + 1))
    return lo, hi


def _trim(doc, lo: int, hi: int) -> tuple[int, int]:
    while lo < hi and (doc[lo].pos_ in _EDGE or doc[lo].is_quote):
        lo += 1
    while hi > lo and (doc[hi - 1].pos_ in _EDGE or doc[hi - 1].is_quote):
        hi -= 1
    return lo, hi


@dataclass
class _Near:
    focus: list  # tokens of the sentence that are the question's focus
    relation: list  # ... its relation words
    words: list[int]  # positions of any of its words


def _on_asked_verb(root, stems: list[str], words: frozenset[str]) -> float:
    """Whether the phrase belongs to a verb the question asks about ("since last year" in "ISIS had controlled
    the city since last year", for "When had ISIS taken control?"), not to another verb of its sentence."""
    verb = next((t for t in root.ancestors if t.pos_ in ("VERB", "AUX")), None)
    return float(verb is not None and stems[verb.i] in words)


def _counted(tok):
    """The word a number counts: "about" and "nine" modify "hundred", which counts "maps"."""
    head = tok.head
    while head.head is not head and head.dep_ in {"nummod", "quantmod", "compound"} and head.like_num:
        head = head.head
    return head


def _span(
    q: qn.Question, doc, stems: list[str], at: _Near, lo: int, hi: int, label: str, inner: set[str], content
) -> Span:
    exact, loose = qn.EXACT[q.answer_type], qn.LOOSE[q.answer_type]
    root = doc[lo:hi].root
    is_exact = label in exact or (q.wh == "where" and label == "ORG" and _placed(root))
    rel_toks = [t for t in at.relation if not lo <= t.i < hi]
    near = min((lo - i if i < lo else i - hi + 1 for i in at.words if not lo <= i < hi), default=None)
    # what the span's numbers count: "400" counts "fighters", so it does not answer "how many soldiers", and
    # neither does "eleven days" answer "how many workers" (any number, for a count; for "how big" or "how
    # much", a number of the asked type only); "eleven days" does answer "how many days"
    counted = (
        [
            _counts_asked(_counted(t), stems, q.words)
            for t in doc[lo:hi]
            if (t.ent_type_ in exact or is_exact or (q.answer_type == qn.CARDINAL and t.like_num))
            and t.dep_ in {"nummod", "quantmod"}
            and not _unit(_counted(t), exact, lo, hi)
        ]
        if q.answer_type in qn.COUNTS
        else []
    )
    counts_other = bool(counted) and not any(counted)
    if counts_other:  # of the type, but an answer about something else
        is_exact, inner = False, set()
    elif any(counted) and label in loose:
        is_exact = True  # a count of what is asked, whatever its entity label ("eleven days": DATE)
    f = [
        float(is_exact),
        float(label in loose),
        float(not is_exact and bool(inner & exact)),
        float(bool(label)),
        float(q.answer_type == qn.OTHER),
        1.0 if label == qn.DESCRIPTION else _attached(root, at.focus, lo, hi),
        _attached(root, rel_toks, lo, hi),
        1.0 / (1 + near / 3) if near is not None else 0.0,
        float(counts_other),
        len(content & q.words) / len(content),
        0.0,
        math.log1p(hi - lo),
        _on_asked_verb(root, stems, q.words),
    ]
    return Span(doc[lo:hi].text, f, is_exact or bool(inner & exact))


LOCATIVE = frozenset("at in inside near outside from".split())


def _placed(root) -> bool:
    """The phrase is where something is ("a scientist *at Pennsylvania State University*", "studied *in* ..."):
    an organisation named as the object of a place's preposition answers "where"."""
    return root.dep_ == "pobj" and root.head.lower_ in LOCATIVE


def _unit(counted, exact: set[str], lo: int, hi: int) -> bool:
    """What the number counts is the unit of an amount of the asked type: "40 million *dollars*" for "how
    much did it spend" measures money, it does not count something else."""
    return counted.ent_type_ in exact and lo <= counted.i < hi


def _counts_asked(head, stems: list[str], words: frozenset[str]) -> bool:
    """The counted word is one the question names, or a share of one ("87% *of its members*")."""
    if stems[head.i] in words:
        return True
    return any(
        c.dep_ == "prep" and c.lower_ == "of" and any(g.dep_ == "pobj" and stems[g.i] in words for g in c.children)
        for c in head.children
    )


def _attached(root, toks, lo: int, hi: int) -> float:
    """1 / (1 + tree distance) from the span's head to the nearest of toks; 1 when one is inside the span."""
    if not toks:
        return 0.0
    if any(lo <= t.i < hi for t in toks):
        return 1.0
    return max(1.0 / (1 + _distance(root, t)) for t in toks)


def _distance(a, b) -> int:
    """Edges between two tokens of one parse."""
    up = {a.i: 0}
    for d, t in enumerate(a.ancestors, 1):
        up[t.i] = d
    if b.i in up:
        return up[b.i]
    for d, t in enumerate(b.ancestors, 1):
        if t.i in up:
            return d + up[t.i]
    return 20  # different sentences of one text: far apart
