"""Who did what to whom, offline: a claim's verbs with their subjects and objects, its negations and what its
numbers count, compared with the evidence sentences chosen for it (spaCy's parse, qa/reader_parse.py). Words
alone cannot tell "Syrian forces recaptured Palmyra from ISIS" from "ISIS recaptured Palmyra from Syrian forces";
the roles can. A mismatch found here means the claim says something the evidence does not."""

from __future__ import annotations

from dataclasses import dataclass, field

from qa.reader_parse import parse_many
from qa.text import asks, tokenize

SUBJECTS = {"nsubj", "csubj", "expl"}
NAMED = SUBJECTS | {"nsubjpass"}  # what a clause is about, done by or done to
OBJECTS = {"dobj", "nsubjpass", "attr", "oprd", "dative"}  # a passive subject is what the verb was done to
NOUNS = {"NOUN", "PROPN", "NUM", "PRON"}
ASIDE = {"relcl", "acl", "appos"}
RELATIVE = {"WDT", "WP"}  # "which", "who": a relative clause's subject stands for the noun it hangs on
WH = {"WDT", "WP", "WP$", "WRB"}  # the tags of wh-words: which, who, whose, how, when ...


TIME_UNITS = {
    f"{u}{s}" for u in ("second", "minute", "hour", "day", "week", "month", "year", "decade") for s in ("", "s")
}
TIME_UNITS |= {"century", "centuries"}
BE = {"be", "is", "are", "was", "were", "been", "being", "am", "'s", "'re", "'m"}  # the parse has no lemmas
COUNTS = {"", "CARDINAL", "QUANTITY", "MONEY", "PERCENT"}  # a number in a name ("the 2014 World Cup") counts nothing


@dataclass
class Event:
    verb: str  # the verb's stem
    copula: bool = False  # "X is Y" says "Y is X" too: its two sides have no order to swap
    doers: set[str] = field(default_factory=set)  # stems of its (logical) subject
    done_to: set[str] = field(default_factory=set)  # stems of its (logical) object
    others: set[str] = field(default_factory=set)  # stems of its prepositional phrases ("from ISIS")
    negated: bool = False


def _stems(tokens) -> set[str]:
    words = [t.text for t in tokens if t.pos_ in NOUNS or t.dep_ in ("compound", "amod")]
    return {s for ws in tokenize(words) for s in ws}


def _phrase(tok) -> set[str]:
    """The stems of a role's phrase, without the clauses that say more of it ("ISIS, which had controlled the
    city": the city is no part of ISIS)."""
    aside = {t.i for c in tok.subtree if c is not tok and c.dep_ in ASIDE for t in c.subtree}
    return _stems([t for t in tok.subtree if t.i not in aside and t.dep_ != "punct"])


def events(doc) -> list[Event]:
    """The verbs of a parsed text with their roles; a passive verb's agent is its doer."""
    out = []
    for tok in doc:
        if tok.pos_ not in ("VERB", "AUX"):
            continue
        ev = Event(tokenize([tok.text])[0][0] if tokenize([tok.text])[0] else tok.lower_, tok.lower_ in BE)
        for child in tok.children:
            if child.dep_ in SUBJECTS and child.tag_ not in RELATIVE:
                ev.doers |= _phrase(child)
            elif child.dep_ in OBJECTS:
                ev.done_to |= _phrase(child)
            elif child.dep_ == "agent":
                ev.doers |= set().union(*(_phrase(g) for g in child.children)) if list(child.children) else set()
            elif child.dep_ == "prep":
                ev.others |= set().union(*(_phrase(g) for g in child.children)) if list(child.children) else set()
            elif child.dep_ == "neg":
                ev.negated = True
        ev.negated = ev.negated or _intent_denied(tok)
        if (
            tok.dep_ == "relcl"
            and not ev.doers
            and any(c.dep_ in SUBJECTS and c.tag_ in RELATIVE for c in tok.children)
        ):
            ev.doers = _stems([tok.head])  # "ISIS, which had controlled the city": ISIS controlled it
        if ev.doers or ev.done_to:
            out.append(ev)
    return out


def _intent_denied(verb) -> bool:
    """The verb is what a denied attempt or plan was for: "no attempt to remove him", "did not try to remove him"
    say that he was not removed."""
    if verb.dep_ == "acl":
        return any(c.dep_ == "det" and c.lower_ == "no" for c in verb.head.children)
    return verb.dep_ == "xcomp" and any(c.dep_ == "neg" for c in verb.head.children)


def _counted(doc) -> dict[str, set[str]]:
    """Each number of a text with the stems of what it counts ("400 ISIS fighters" -> {"400": {"fighter"}})."""
    out: dict[str, set[str]] = {}
    for tok in doc:
        if tok.like_num and tok.dep_ == "nummod" and tok.head.pos_ in ("NOUN", "PROPN") and _counts(tok):
            out.setdefault(tok.text.replace(",", ""), set()).update(tokenize([tok.head.text])[0])
    return out


def _counts(tok) -> bool:
    """The number counts its noun: "400 fighters", "eleven days"; not a date ("the 2018 Nobel Prize", "13 July
    2014") nor part of a name ("the 2014 World Cup"), nor a label after its noun ("Diablo 4", "season 2")."""
    if tok.i > tok.head.i:
        return False
    if tok.ent_type_ in ("DATE", "TIME"):
        return tok.head.lower_ in TIME_UNITS
    return tok.ent_type_ in COUNTS


def mismatch(claim: str, evidence: list[str]) -> str | None:
    """Why the claim's structure disagrees with the evidence (roles swapped, a negation, a number counting
    something else), or None when nothing disagrees. Silent when the evidence uses other verbs."""
    docs = parse_many([claim, *evidence])
    said = [e for d in docs[1:] for e in events(d)]
    for ev in events(docs[0]):
        same = [e for e in said if e.verb == ev.verb]
        if not same:
            continue
        if not ev.copula and _swapped(ev, same):
            return f"who did what is the other way round in the evidence ({ev.verb})"
        if all(e.negated != ev.negated for e in same):
            return f"the evidence says the opposite ({'not ' if not ev.negated else ''}{ev.verb})"
    counted = {}
    for d in docs[1:]:
        for number, what in _counted(d).items():
            counted.setdefault(number, set()).update(what)
    for number, what in _counted(docs[0]).items():
        if number in counted and what and not (what & counted[number]):
            return f"{number} counts {'/'.join(sorted(counted[number]))} in the evidence"
    return None


def _swapped(ev: Event, same: list[Event]) -> bool:
    """The claim's doer is what the evidence's verb was done to (or came from), or the other way round, and
    never in the role the claim gives it."""
    doers = set().union(*(e.doers for e in same))
    objects = set().union(*(e.done_to | e.others for e in same))
    # a verb without a subject in the evidence ("a film starring Liu Yifei") names no doer to move
    doer_moved = bool(doers) and bool(ev.doers & objects) and not (ev.doers & doers)
    object_moved = bool(ev.done_to & doers) and not (ev.done_to & set().union(*(e.done_to for e in same)))
    # the evidence's doer stands elsewhere in the claim ("... from Syrian forces") and another does the deed
    doer_demoted = bool(doers & (ev.done_to | ev.others)) and bool(ev.doers) and not (ev.doers & doers)
    return doer_moved or object_moved or doer_demoted


def parts(claim: str) -> list[tuple[str, str]]:
    """A claim that says several things of one subject ("X is A, was not B, and has C"), or joins two clauses
    ("X suggests A, while Y indicates B"), in its pieces: each as shown (the claim's own text, in order) and as
    checked (a predicate with the subject it shares). One piece, the claim itself, when the parse finds no such
    joints or no subject opening the claim to share."""
    doc = parse_many([claim])[0]
    subject = next((t for t in doc if t.dep_ in NAMED and t.left_edge.i == 0), None)
    if subject is None or subject.head.pos_ not in ("VERB", "AUX"):
        return [(claim, claim)]
    joints, verb = [], subject.head
    while verb is not None:  # the verb's chain of coordinated predicates, and the clauses on it with a subject
        joints += [c for c in verb.children if c.dep_ == "advcl" and _has_subject(c)]
        verb = next((c for c in verb.children if c.dep_ == "conj" and c.pos_ in ("VERB", "AUX")), None)
        joints += [verb] if verb is not None else []
    edges, own = [0], [True]
    for joint in sorted(joints, key=lambda t: t.i):
        i = joint.left_edge.i
        while i > 0 and doc[i - 1].dep_ == "cc":  # "..., and | is accused": the conjunction opens the next piece
            i -= 1
        edges.append(doc[i].idx)
        own.append(_has_subject(joint))
    shared = claim[: subject.right_edge.idx + len(subject.right_edge)]
    out = []
    for a, b, whole in zip(edges, [*edges[1:], len(claim)], own):
        shown = claim[a:b].strip()
        said = shown.split(" ", 1)[-1] if shown.split(" ", 1)[0].casefold() in ("and", "or", "but") else shown
        out.append((shown, shown if whole else f"{shared} {said}"))
    return out


def _has_subject(verb) -> bool:
    return any(c.dep_ in NAMED for c in verb.children)


def polar(question: str) -> bool:
    """A yes/no question ("Was there consistency in ...?"): it asks, and it opens with an auxiliary ("Was there
    inconsistency in what she said ...?": the wh-word's clause is embedded), or no wh-word asks in it (one that opens
    a relative clause, "the article that discusses ...", asks nothing; "After the report ..., was there ...?")."""
    if not asks(question):
        return False
    doc = parse_many([question])[0]
    return doc[0].lower_ in AUXILIARIES or not any(t.tag_ in WH and t.head.dep_ != "relcl" for t in doc)


AUXILIARIES = frozenset(
    "is are was were am do does did has have had can could will would shall should may might".split()
)
