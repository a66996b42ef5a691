"""Claim + the sentences it cites -> supported / partial / unsupported, with a score in [0, 1].

Offline checks: numbers and names in the claim must appear in the cited text, and its content words
must be covered. A verbatim (extractive) claim is supported by construction and checked all the same.
"""

from __future__ import annotations

import re

from qa import structure
from qa.text import asks, tokenize, unaccented

SUPPORTED, PARTIAL, UNSUPPORTED = "supported", "partial", "unsupported"
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_NAME = re.compile(r"\b[A-Z](?:[\w-]|'(?!s\b))*[A-Za-z]")  # a possessive's 's is not part of the name
VERDICTS = {"yes", "no", "true", "fals"}  # the stems of a yes/no answer's own words
# Text that speaks to the model instead of reporting news (prompt injection). It stays in the evidence,
# fenced as data, but never counts as support: a claim resting only on it is unsupported.
_INSTRUCTION = re.compile(
    r"""
    (?P<override> \b(?:ignore|disregard|forget|override)\b .{0,40} \b(?:instructions?|prompts?|rules)\b )
    | (?P<prompt> \b(?:system|developer)\ prompt\b | \breveal\ (?:your|the)\ (?:prompt|instructions)\b )
    | (?P<cite_me> \bcite\ (?:this|these|the\ following)\ (?:sentence|text|line)s?\b )
    | (?P<role> \byou\ are\ (?:now\ )?(?:an?\ )?(?:ai|assistant|language\ model|chatbot)\b )
    # text that forges the prompt's structure: a fence tag, a chat-template token, a role label
    | (?P<fence> </?evidence\b | <\|im_(?:start|end)\|> | \[/?INST\] )
    | (?P<label> (?-i:\b(?:SYSTEM|ASSISTANT|DEVELOPER)\s*:) | ^\s*(?:system|assistant|developer)\s*: )
    """,
    re.I | re.S | re.X,
)


POOL = 8  # evidence sentences a claim's support is chosen among: all the model's keys, then the closest others
_RANK = {UNSUPPORTED: 0, PARTIAL: 1, SUPPORTED: 2}


def stricter(a: str, b: str) -> str:
    """The less supportive of two labels: a claim is shown as supported only when both checks agree."""
    order = [UNSUPPORTED, PARTIAL, SUPPORTED]
    return order[min(order.index(a), order.index(b))]


def is_instruction(sentence: str) -> bool:
    return bool(_INSTRUCTION.search(sentence))


def states(sentence: str) -> bool:
    """The sentence can support a claim: it is not an instruction to the model and not itself a question."""
    return not is_instruction(sentence) and not asks(sentence)


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^\w%$.]+", " ", text.casefold()).split())


def check(claim: str, evidence: list[str], similarity: float | None = None, asked: str = "") -> tuple[str, float]:
    """similarity: cosine between the claim and its closest cited sentence, when an embedder is at
    hand; it can lift a paraphrase from partial to supported, never excuse a missing number or name.

    asked: the question the claim answers. What a claim repeats of its question ("Sam Altman is the individual
    known for ... , described as ... by ...") is the asker's premise, not the model's answer, and a multi-hop
    question's premise is spread over more sentences than a claim may cite. When the whole claim is not
    supported, what it adds to the question (its own words, names and numbers) is checked alone: found, with
    a quarter of all its words (PREMISE) in the same sentences, the claim is `partial` (the evidence gives the answer,
    not every word of the premise), never `supported`. So is a verdict on a yes/no question ("Yes, there was
    consistency in ..."): it adds only its yes or no, which no sentence states; the sentences it rests on may.
    But the premise is not the question's subject: evidence naming none of the question's names that the claim
    repeats does not support it at all (see _about)."""
    label, score = _check(claim, evidence, similarity)
    if label == SUPPORTED or not asked:
        return label, score
    stated = " ".join(e for e in evidence if states(e))
    if not _about(claim, asked, stated):
        return UNSUPPORTED, score
    own, _ = _check(claim, evidence, similarity, given=asked)
    premise = _covered(set(tokenize([claim])[0]), stated) >= PREMISE
    if premise and (own == SUPPORTED or _verdict(claim, asked)):
        return PARTIAL, score
    return label, score


def _about(claim: str, asked: str, evidence: str) -> bool:
    """The evidence is about what the claim takes from its question: of the question's names that the claim
    repeats, the evidence holds one (or the claim repeats none). "Texas has a minimum wage of $8.25 per hour",
    asked "What is the minimum wage in Texas?", is not answered by New Jersey's $8.25."""
    folded, text = unaccented(claim).casefold(), unaccented(evidence).casefold()
    repeated = [n for n in _capitalised(asked[1:]) if n in folded]
    return not repeated or any(n in text for n in repeated)


def _verdict(claim: str, asked: str) -> bool:
    """The claim answers a yes/no question and adds to it no more than its yes or no."""
    if not structure.polar(asked):
        return False
    words, names, numbers = _added(claim, asked)
    return not (words - VERDICTS or names or numbers)


PREMISE = 0.25  # least share of an answer claim's words (premise included) found in the sentences that give its answer


def _covered(words: set[str], text: str) -> float:
    """The share of these (stemmed) words that the text holds."""
    return len(words & set(tokenize([text])[0])) / len(words) if words else 0.0


def _numbers(text: str) -> set[str]:
    return {n.replace(",", "") for n in _NUMBER.findall(text)}


def _check(claim: str, evidence: list[str], similarity: float | None = None, given: str = "") -> tuple[str, float]:
    """The claim's label against the evidence; with `given`, only what the claim adds to that text counts."""
    evidence = [e for e in evidence if states(e)]
    if not evidence:
        return UNSUPPORTED, 0.0
    text = " ".join(evidence)
    if _units(claim) and f" {_norm(claim)} " in f" {_norm(text)} ":  # verbatim, whole words, and saying something
        return SUPPORTED, 1.0
    words, names, numbers = _added(claim, given)
    missing_numbers = numbers - _numbers(text)
    if len(evidence) > 1:  # an amount stitched from a sentence about someone else is not the claim's
        found = _amounts(claim) & (numbers - missing_numbers)
        missing_numbers |= {n for n in found if not _owned(n, claim, evidence)}
    folded = unaccented(text).casefold()
    missing_names = {n for n in names if n not in folded}
    if given and not (words or names or numbers):
        return UNSUPPORTED, 0.0  # the claim only repeats its question
    # what it adds may be names and numbers only (checked above)
    covered = _covered(words, text) if words else float(bool(given))
    if similarity is not None:
        covered = max(covered, (covered + similarity) / 2)
    score = covered * (0.5 if missing_numbers else 1.0) * (0.8 if missing_names else 1.0)
    if missing_numbers or covered < 0.5:
        return UNSUPPORTED, round(score, 3)
    if missing_names or covered < 0.8:
        return PARTIAL, round(score, 3)
    return SUPPORTED, round(score, 3)


_CALENDAR = frozenset(
    "january february march april may june july august september october november december jan feb mar apr jun "
    "jul aug sep sept oct nov dec monday tuesday wednesday thursday friday saturday sunday the a an".split()
)


def _capitalised(text: str) -> set[str]:
    """Capitalised words (and names of several words' parts), casefolded and unaccented."""
    return {n.casefold() for n in _NAME.findall(unaccented(text))}


def _names(text: str) -> set[str]:
    """Capitalised words, the first one too (a claim may open with its subject: "Texas has ..."); not the
    calendar's ("in March") nor an article opening a sentence."""
    return _capitalised(text) - _CALENDAR


_AMOUNT = re.compile(r"[$£€¥]\s?\d[\d,]*(?:\.\d+)?|\d[\d,]*\.\d+|\d[\d,]*\s?%|\d{1,3}(?:,\d{3})+")


def _amounts(text: str) -> set[str]:
    """The numbers that measure something (money, shares, figures with decimals or thousands), as _numbers gives
    them; not years, dates, ordinals or small counts, which a sentence's context often holds for it."""
    return {n for m in _AMOUNT.findall(text) for n in _numbers(m)}


def _owned(number: str, claim: str, evidence: list[str]) -> bool:
    """Some sentence holding the claim's number is about what the claim names: it names one of the claim's
    names, or no one (its subject is a pronoun, "He scored 157 yards"). Not "$8.25" from "New Jersey residents
    voted to raise the state's minimum wage ... to $8.25" for "Texas has a minimum wage of $8.25", with "Texas"
    from a sentence about a storm."""
    own = _names(claim)
    holding = [e for e in evidence if number in _numbers(e)]
    return any(not _names(e[1:]) or _names(e) & own for e in holding)


def _added(claim: str, given: str) -> tuple[set[str], set[str], set[str]]:
    """What the claim says beyond the text `given`: its content words (stemmed), names and numbers."""
    excused = unaccented(given).casefold()
    names = _capitalised(claim[1:])  # the first word is capitalised anyway
    words = set(tokenize([claim])[0]) - set(tokenize([given])[0])
    return words, {n for n in names if n not in excused}, _numbers(claim) - _numbers(given)


def choose(
    claim: str,
    texts: list[str],
    sims: list[float],
    hinted: list[int],
    most: int = 3,
    asked: str = "",
    grounds: list[float] | None = None,
) -> tuple[list[int], str, float]:
    """The smallest set of evidence sentences that supports a claim, with its label and score (an unsupported
    claim gets the sentences that came closest, which must not be shown as its citations). The model's keys
    (`hinted`: indices into texts) are a hint, tried first, then the other sentences by similarity (`sims`: cosine
    of each to the claim). One sentence that supports the claim alone is enough; otherwise sentences are added while
    each covers claim words the chosen ones lack, up to `most`, and then those the label does not need are dropped.
    An answer's claim that no single sentence even may support is covered from each sentence in turn, the best cover
    kept: a multi-hop answer restates a premise spread over sentences, and the sentence holding most of its words may
    lack the answer ("He was the richest person in the world under 30" for "Sam Bankman-Fried is the individual
    under 30, ...").
    Never the whole evidence. `asked`: the question
    the claim answers (see check); `grounds`: each sentence's cosine to it, for a verdict's grounds (see _grounds)."""
    chosen = _support(claim, texts, sims, hinted, most, asked)
    if chosen[1] == UNSUPPORTED and grounds is not None and asked and _verdict(claim, asked):
        return _grounds(texts, asked, grounds)
    return chosen


VERDICT_GROUNDS = 2  # sentences a yes/no verdict cites: a comparison is between two reports


def _grounds(texts: list[str], asked: str, grounds: list[float]) -> tuple[list[int], str, float]:
    """What a verdict on a yes/no question ("Yes, there was a change in the company's strategic focus") rests on,
    when no sentence holds its words. It adds only its yes or no, which no sentence states, to the question's own
    abstract words, which no sentence need hold either; and a small model's keys for it name every sentence. Its
    grounds are the sentences nearest the question: cited so that the reader can weigh the verdict, labelled partial
    (they give what is compared, never the verdict), and unsupported when they hold under two of the question's
    words (not about what it asks)."""
    usable = sorted((i for i in range(len(texts)) if states(texts[i])), key=lambda i: -grounds[i])
    picked = usable[:VERDICT_GROUNDS]
    asked_words = set(tokenize([asked])[0])
    held = asked_words & set(tokenize([" ".join(texts[i] for i in picked)])[0])
    if len(held) < 2:
        return picked[:1], UNSUPPORTED, 0.0
    return picked, PARTIAL, round(len(held) / len(asked_words), 3)


def _support(claim: str, texts: list[str], sims: list[float], hinted: list[int], most: int, asked: str):
    usable = [i for i in range(len(texts)) if states(texts[i])]
    order = [i for i in dict.fromkeys(hinted) if i in usable]  # every key the model gave is tried
    order += sorted((i for i in usable if i not in order), key=lambda i: -sims[i])[: max(0, POOL - len(order))]
    best: tuple[str, float, list[int]] = (UNSUPPORTED, 0.0, [])
    singles = []
    for i in order:
        label, score = check(claim, [texts[i]], sims[i], asked)
        if label == SUPPORTED:
            return _structured(claim, texts, ([i], label, score))
        singles.append((label, score, [i]))
        if (_RANK[label], score) > (_RANK[best[0]], best[1]):
            best = singles[-1]
    if not best[2]:  # nothing shares a word with the claim: the closest sentence, unsupported
        return order[:1], UNSUPPORTED, 0.0
    # an answer's claim that no single sentence even may support: a cover grown from each of them
    starts = [best, *singles] if asked and best[0] == UNSUPPORTED else [best]
    covers = (_cover(claim, texts, sims, order, start, most, asked) for start in starts)
    chosen = max(covers, key=lambda c: (_RANK[c[1]], c[2]))  # the first of equals: the best single's cover
    return _structured(claim, texts, _pruned(claim, texts, sims, chosen, asked))


def _structured(claim: str, texts: list[str], chosen: tuple[list[int], str, float]) -> tuple[list[int], str, float]:
    """The chosen support, unless the parse shows the claim saying something else (qa/structure.py)."""
    picked, label, score = chosen
    if label != UNSUPPORTED and structure.mismatch(claim, [texts[i] for i in picked]):
        return picked, UNSUPPORTED, 0.0
    return chosen


def _cover(claim: str, texts: list[str], sims: list[float], order: list[int], best, most: int, asked: str):
    """Greedy set cover of the claim's words, numbers and names, from the best single sentence on."""
    wanted = _units(claim)
    chosen, covered = list(best[2]), _units(texts[best[2][0]]) & wanted
    label, score = best[0], best[1]
    while len(chosen) < most:
        gain, pick = max(
            ((len((_units(texts[i]) & wanted) - covered), i) for i in order if i not in chosen), default=(0, -1)
        )
        if gain == 0:
            break
        trial = [*chosen, pick]
        new_label, new_score = check(claim, [texts[j] for j in trial], max(sims[j] for j in trial), asked)
        if (_RANK[new_label], new_score) <= (_RANK[label], score):
            break  # the sentence adds words but no support
        chosen, label, score = trial, new_label, new_score
        covered |= _units(texts[pick]) & wanted
        if label == SUPPORTED:
            break
    return chosen, label, score


def _pruned(claim: str, texts: list[str], sims: list[float], chosen, asked: str):
    """The chosen sentences without those the label does not need: the fewest of them that give it. The score
    stays the one the search found (how much of the claim the evidence at hand covers). Tried for dropping: the
    last added first, so the best single sentence by words stays; for an answer's claim (`asked`), the least like it
    in meaning first, as its words are mostly its question's premise, which tells no sentence from another."""
    picked, label, score = chosen
    for i in sorted(picked, key=lambda j: sims[j]) if asked else picked[::-1]:
        rest = [j for j in picked if j != i]
        if rest and check(claim, [texts[j] for j in rest], max(sims[j] for j in rest), asked)[0] == label:
            picked = rest
    return picked, label, score


def _units(text: str) -> set[str]:
    """What a claim asserts, as comparable pieces: its content words (stemmed) and its numbers."""
    return set(tokenize([text])[0]) | _numbers(text)
