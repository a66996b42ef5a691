"""A question, read from its parse: the type of answer it expects, its focus ("how many *soldiers*",
"which *agency*"), its relation words (the verb and its modifiers) and the names it mentions. Pure
functions over a spaCy Doc (qa/reader_parse.py parses); words are compared by their Snowball stems.
"""

from __future__ import annotations

from dataclasses import dataclass

from qa import structure
from qa.text import tokenize

PERSON, ORG, GPE, DATE, CARDINAL, MONEY, PERCENT, QUANTITY, WORK, OTHER = (
    "PERSON",
    "ORG",
    "GPE",
    "DATE",
    "CARDINAL",
    "MONEY",
    "PERCENT",
    "QUANTITY",
    "WORK_OF_ART",
    "OTHER",
)
# "Who is David Kershaw?", "What is UNESCO?": asks what a name is, which an article says beside it
# ("David Kershaw, division vice president, ...", "Observatory director Rami Abdulrahman", "Mateen is a salesman")
DESCRIPTION = "DESCRIPTION"

# spaCy's entity labels that answer each expected type: fully, or plausibly (a "who" question may be
# answered by a team or a country; "how long" by a length as well as a duration)
EXACT = {
    PERSON: {"PERSON"},
    ORG: {"ORG"},
    GPE: {"GPE", "LOC", "FAC"},
    DATE: {"DATE", "TIME"},
    CARDINAL: {"CARDINAL"},
    MONEY: {"MONEY"},
    PERCENT: {"PERCENT"},
    QUANTITY: {"QUANTITY"},
    WORK: {"WORK_OF_ART"},
    DESCRIPTION: {DESCRIPTION},
    OTHER: set(),
}
LOOSE = {
    PERSON: {"ORG", "NORP", "GPE"},
    ORG: {"PERSON", "NORP", "GPE", "PRODUCT", "FAC"},
    GPE: {"ORG", "NORP"},
    DATE: {"CARDINAL"},
    CARDINAL: {"QUANTITY", "MONEY", "PERCENT", "ORDINAL", "DATE"},
    MONEY: {"CARDINAL"},
    PERCENT: {"CARDINAL"},
    QUANTITY: {"CARDINAL", "MONEY", "PERCENT", "DATE", "TIME"},
    WORK: {"PRODUCT", "EVENT", "ORG", "FAC"},
    DESCRIPTION: set(),
    OTHER: set(),
}
COUNTS = {CARDINAL, MONEY, PERCENT, QUANTITY}  # types whose answer counts or measures a noun

# what a question's noun asks for: "which *agency*" -> ORG (Snowball stems)
_NOUN_TYPES = {
    PERSON: "person peopl man woman men women leader presid king queen director minist player author writer founder "
    "chief offici ceo mayor governor senat actor actress singer artist scientist emperor general command "
    "spokesman spokeswoman spokesperson coach manag chairman owner inventor compos philosoph son daughter "
    "father mother wife husband brother sister poet pope bishop politician candid judg lawyer head",
    ORG: "compani organ organis agenc group team parti firm band univers colleg school newspap network outlet club "
    "corpor institut ministri depart union armi militia airlin bank channel station magazin public brand "
    "manufactur court council committe bodi govern",
    GPE: "citi countri state place region town provinc nation contin area locat villag capit counti district island "
    "territori",
    DATE: "year date day month time centuri decad period era season week",
    CARDINAL: "number count total popul enrol attend membership",
    MONEY: "price cost salari fee revenu budget endow profit incom wage penalti fine tax fare toll bail ransom reward "
    "bonus",
    PERCENT: "percentag percent proport",
    QUANTITY: "size length width height weight distanc speed temperatur depth volum capac altitud",
    WORK: "show film movi book song album seri program programm novel play poem paint episod documentari opera",
}
NOUN_TYPE = {w: t for t, words in _NOUN_TYPES.items() for w in words.split()}
_HOW = {
    "mani": CARDINAL,
    "long": DATE,
    "old": DATE,
    "far": QUANTITY,
    "tall": QUANTITY,
    "high": QUANTITY,
    "big": QUANTITY,
    "larg": QUANTITY,
    "deep": QUANTITY,
    "wide": QUANTITY,
    "heavi": QUANTITY,
    "fast": QUANTITY,
}
# "how much" asks for money when the question says one of these. Not every noun of money above: "How much of
# Poland's national income does Warsaw produce?" asks for a share (12%), which QUANTITY's looser types admit
_MONEY_WORDS = set(
    "cost pay price spend spent worth money dollar fund rais earn sell sold fee budget salari revenu penalti fine tax "
    "fare".split()
)
_WH = structure.WH
ASKING = frozenset("how mani much what when where who whom whose which why".split())  # stems that only ask
_RELATION_DEPS = {
    "ROOT",
    "dobj",
    "acomp",
    "prt",
    "xcomp",
    "oprd",
    "advmod",
    "agent",
    "dative",
    "pobj",
    "attr",
    "nsubj",
    "nsubjpass",
    "ccomp",
    "advcl",
    "npadvmod",
    "amod",
    "compound",
}


@dataclass(frozen=True)
class Question:
    text: str
    wh: str  # "how many", "who", "which", ... ("" when there is no question word)
    answer_type: str  # one of PERSON ... OTHER
    focus: str  # stem of the noun asked about ("soldier"), "" when none
    relation: frozenset[str]  # stems of the verb and its modifiers ("die", "battl")
    entities: tuple[str, ...]  # names in the question, as written
    words: frozenset[str]  # stems of all its content words


def stem(word: str) -> str:
    found = tokenize([word])[0]
    return found[-1] if found else ""


def analyze(doc) -> Question:
    """Everything the reader needs from a parsed question."""
    wh_tok = next((t for t in doc if t.tag_ in _WH), None)
    focus_tok = _focus(doc, wh_tok)
    wh, answer_type = _type(doc, wh_tok, focus_tok)
    entities = _entities(doc)
    words = frozenset(tokenize([doc.text])[0]) - ASKING
    if _asks_what_a_name_is(doc, wh_tok, entities, words):
        answer_type = DESCRIPTION
    focus = stem(focus_tok.text) if focus_tok is not None else ""
    skip = {t.i for t in doc if t.tag_ in _WH} | ({focus_tok.i} if focus_tok is not None else set())
    relation = {
        stem(t.text)
        for t in doc
        if t.dep_ in _RELATION_DEPS
        and t.i not in skip
        and not t.is_stop
        and t.pos_ in {"VERB", "NOUN", "ADJ", "ADV", "PROPN", "NUM"}
        and not _in_entity(t)
    }
    return Question(doc.text, wh, answer_type, focus, frozenset(relation - {"", focus}), entities, words)


def _asks_what_a_name_is(doc, wh_tok, entities: tuple[str, ...], words: frozenset[str]) -> bool:
    """ "Who is David Kershaw?", "What was UNESCO?": who or what, a form of "be" and one name, nothing else;
    or what someone does ("What does Seddique Mateen do for a living?"): what they are said to be answers."""
    if wh_tok is None or wh_tok.lower_ not in {"who", "what"} or len(entities) != 1 or not words:
        return False
    root = wh_tok.head if wh_tok.dep_ != "ROOT" else wh_tok
    name = frozenset(tokenize([entities[0]])[0])
    if root.lower_ == "do" and wh_tok.lower_ == "what":  # what one does, not what one did or did not do
        habit = any(t.lower_ in {"do", "does"} and t.dep_ == "aux" for t in doc) and not any(
            t.dep_ == "neg" for t in doc
        )
        return habit and words - _DOING <= name
    return root.lower_ in structure.BE and words <= name


_DOING = frozenset(tokenize(["do does did living work job"])[0])


def _in_entity(tok) -> bool:
    return tok.ent_type_ != "" and tok.ent_type_ not in {"CARDINAL", "ORDINAL", "DATE", "TIME", "QUANTITY"}


def _focus(doc, wh_tok):
    """The noun the question asks about: "how many X", "which X", "what X", or the noun a copula
    question names ("Who is the *mayor*?")."""
    if wh_tok is None:
        return None
    nxt = doc[wh_tok.i + 1] if wh_tok.i + 1 < len(doc) else None
    if wh_tok.lower_ == "how" and nxt is not None and nxt.lower_ in {"many", "much"}:
        head = nxt.head
        return head if head.pos_ in {"NOUN", "PROPN"} and head.i != nxt.i else None
    if wh_tok.tag_ in {"WDT", "WP"} and wh_tok.dep_ == "det" and wh_tok.head.pos_ in {"NOUN", "PROPN"}:
        # the last noun of its compound ("which TV *network*", "what modern day Florida *city*"), whatever
        # the parser hung the nouns on
        noun = wh_tok.head
        while noun.i + 1 < len(doc) and doc[noun.i + 1].pos_ in {"NOUN", "PROPN"}:
            noun = doc[noun.i + 1]
        return noun
    if wh_tok.lower_ in {"what", "which"} and nxt is not None and nxt.pos_ in {"NOUN"} and nxt.head.i != wh_tok.i:
        return nxt  # "what year did ...": parsed as a noun of its own
    root = wh_tok.head if wh_tok.dep_ != "ROOT" else wh_tok
    if root.lower_ in {"is", "was", "are", "were", "'s", "be", "been"}:
        nouns = [c for c in root.children if c.dep_ in {"nsubj", "attr"} and c.i != wh_tok.i and c.pos_ == "NOUN"]
        return nouns[0] if nouns else None
    return None


def _type(doc, wh_tok, focus_tok) -> tuple[str, str]:
    if wh_tok is None:
        return "", OTHER
    w = wh_tok.lower_
    nxt = doc[wh_tok.i + 1].lower_ if wh_tok.i + 1 < len(doc) else ""
    if w == "how":
        if nxt == "much":
            money = _MONEY_WORDS & set(tokenize([doc.text])[0]) or (
                focus_tok is not None and stem(focus_tok.text) in _MONEY_WORDS
            )
            return "how much", MONEY if money else QUANTITY
        return (f"how {nxt}", _HOW[stem(nxt)]) if stem(nxt) in _HOW else ("how", OTHER)
    if w == "when":
        return w, DATE
    if w == "where":
        return w, GPE
    if w in {"who", "whom", "whose"}:
        noun = NOUN_TYPE.get(stem(focus_tok.text)) if focus_tok is not None else None
        return w, ORG if noun == ORG else PERSON
    if focus_tok is not None and stem(focus_tok.text) in NOUN_TYPE:
        return w, NOUN_TYPE[stem(focus_tok.text)]
    return w, OTHER


def _entities(doc) -> tuple[str, ...]:
    """Named entities (numbers and dates too: "in 2014" narrows the question) and proper nouns the NER missed."""
    names = [e.text for e in doc.ents]
    covered = {t.i for e in doc.ents for t in e}
    names += [t.text for t in doc if t.pos_ == "PROPN" and t.i not in covered and t.i > 0]
    return tuple(dict.fromkeys(names))
