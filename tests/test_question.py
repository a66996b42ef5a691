"""Question analysis from spaCy's parse: the expected answer type, the focus, the relation, the names."""

import pytest

from qa import question as qn
from qa import reader_parse


def analyze(text: str) -> qn.Question:
    return qn.analyze(reader_parse.parse(text))


@pytest.mark.parametrize(
    "text, answer_type, focus",
    [
        ("How many soldiers died in the attack?", qn.CARDINAL, "soldier"),
        ("Which news agency did the minister speak to?", qn.ORG, "agenc"),
        ("Who is the mayor?", qn.PERSON, "mayor"),
        ("When did the dock workers end their strike?", qn.DATE, ""),
        ("Where did the storm make landfall?", qn.GPE, ""),
        ("How much did the new bridge cost?", qn.MONEY, "cost"),
        ("What percentage of voters turned out in the referendum?", qn.PERCENT, "percentag"),
        ("In which year did the company go public?", qn.DATE, "year"),
        ("Which city will host the summit?", qn.GPE, "citi"),
        ("What is the bakery famous for?", qn.OTHER, ""),
        # the noun asked about, past its modifiers; not a verb the parser took for a noun
        ("The colony was founded near what modern day Florida city?", qn.GPE, "citi"),
        ("What year did the war end?", qn.DATE, "year"),
        # nouns that ask for a number or an amount
        ("What is the population of the island?", qn.CARDINAL, "popul"),
        ("What was the company's revenue last year?", qn.MONEY, "revenu"),
        ("What is the penalty for adults without health insurance?", qn.MONEY, "penalti"),
        # a title: a show, a film, a book (spaCy's WORK_OF_ART)
        ("Which TV show did the minister appear on?", qn.WORK, "show"),
        ("What film won the award?", qn.WORK, "film"),
        # nouns that ask for a measure
        ("What size is the new touchscreen?", qn.QUANTITY, "size"),
        ("What was the top speed of the train?", qn.QUANTITY, "speed"),
        # what a name is: its description, whatever kind of thing the name is
        ("Who is Ana Silva?", qn.DESCRIPTION, ""),
        ("Who was Rami Abdulrahman?", qn.DESCRIPTION, ""),
        ("What is UNESCO?", qn.DESCRIPTION, ""),
        ("What does Ana Silva do for a living?", qn.DESCRIPTION, ""),
        ("What does Ana Silva do?", qn.DESCRIPTION, ""),
        ("What did Ana Silva do after the vote?", qn.OTHER, ""),
        ("What does the treaty not do?", qn.OTHER, ""),
        ("Who is Ana Silva's lawyer?", qn.PERSON, "lawyer"),
        ("Who is the director of the museum?", qn.PERSON, "director"),
    ],
)
def test_expected_type_and_focus(text, answer_type, focus):
    q = analyze(text)
    assert (q.answer_type, q.focus) == (answer_type, focus)


def test_relation_words_are_the_verb_and_its_modifiers():
    q = analyze("What is Palmyra known as?")
    assert q.answer_type == qn.OTHER
    assert qn.stem("known") in q.relation
    q = analyze("Who leads the national orchestra?")
    assert {qn.stem("leads"), qn.stem("orchestra")} <= q.relation
    assert q.answer_type == qn.PERSON


def test_named_entities_of_the_question():
    q = analyze("When did Angela Merkel first visit Lisbon?")
    assert "Angela Merkel" in q.entities and "Lisbon" in q.entities
    assert q.answer_type == qn.DATE


def test_a_question_without_a_question_word_expects_nothing_in_particular():
    q = analyze("Tell me about the harbour expansion.")
    assert q.wh == "" and q.answer_type == qn.OTHER
