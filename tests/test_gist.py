"""Which questions ask what the articles say as a whole (qa/gist.py), and what they name the articles by."""

import pytest

from qa import gist


@pytest.mark.parametrize(
    ("question", "about"),
    [
        ("What is this article about?", ""),
        ("what's the story about", ""),
        ("What are these articles about?", ""),
        ("What is the Hansen article about?", "hansen"),
        ("Summarize the article about Trump.", "trump"),
        ("Please summarise the news on the Valencia floods", "valencia floods"),
        ("Give me a summary of the Palmyra story", "palmyra"),
        ("Sum up", ""),
        ("TL;DR", ""),
        ("What are the key points?", ""),
        ("What are the main takeaways from this report?", ""),
        ("What is the gist of the story on the Worlds final?", "worlds final"),
        ("What happened?", ""),
        ("What’s this piece about?", ""),
        ("Summarize it", ""),
    ],
)
def test_a_request_for_the_gist_and_the_articles_it_names(question, about):
    assert gist.request(question) == about


@pytest.mark.parametrize(
    "question",
    [
        "What happened to the ISIS fighters?",
        "What happened in Palmyra on Sunday?",
        "What is Palmyra known as?",
        "What is the main point of contention between the two parties?",
        "What are the key facts about the new law?",
        "Who summarized the report?",
        "What did the report say about the budget?",
        "Which article is about the floods?",
        "What is the summary judgment in the case?",
        "How many ISIS fighters died?",
    ],
)
def test_a_question_for_a_fact_is_not_a_request_for_the_gist(question):
    assert gist.request(question) is None
