"""`python -m bench quality --model`'s SummEdits check on a scripted server: each summary sentence is judged
against the support the verifier chose for it (never the whole document), the judge is asked until a sentence
fails, and the three checks (verifier, judge, both) are scored apart."""

from conftest import FakeEmbedder
from fake_openai import FakeOpenAI

from bench import quality_llm
from bench.vectors import VectorCache
from qa.config import Settings

RECAPTURE = "Syrian forces recaptured Palmyra from ISIS on Sunday after three weeks of fighting."
DEATHS = "The Observatory said 400 ISIS fighters died in the battle."
DOC = f"{RECAPTURE} The city is home to Roman ruins. {DEATHS}"
ROWS = [
    {
        "id": "a",
        "label": 1,
        "doc": DOC,
        "summary": "Syrian forces recaptured Palmyra from ISIS. 400 ISIS fighters died.",
    },
    {"id": "b", "label": 0, "doc": DOC, "summary": "The Observatory said 500 ISIS fighters died in the battle."},
    {"id": "c", "label": 0, "doc": DOC, "summary": "Palmyra was taken back by ISIS from the Syrian forces."},
]


def _claim(body: dict) -> str:
    user = body["messages"][-1]["content"]
    return user.split("Claim: ", 1)[1].split("\n", 1)[0]


def test_summaries_judged_on_the_chosen_support(tmp_path):
    # the scripted judge rejects the swapped roles the word checks cannot see, and misses the changed number
    verdict = lambda body: "no" if "taken back by ISIS" in _claim(body) else "yes"  # noqa: E731
    with FakeOpenAI() as server:
        server.default = {"content": verdict}
        settings = Settings(mode="llm", openai_base_url=server.url, model="test-model", llm_cache_dir=None)
        rows = quality_llm.judge_summaries(ROWS, settings, VectorCache(FakeEmbedder(), root=tmp_path), print)
        asked = [(_claim(r["body"]), r["body"]["messages"][-1]["content"]) for r in server.requests]

    by_id = {r["id"]: r for r in rows}
    assert [by_id[i]["judge"] for i in "abc"] == [True, True, False]
    assert by_id["a"]["verifier"] and not by_id["b"]["verifier"]  # 500 is not 400
    assert [by_id[i]["both"] for i in "abc"] == [True, False, False]
    assert [by_id[i]["calls"] for i in "abc"] == [2, 1, 1]
    # each judge call shows the sentence that says it, not the document
    for claim, user in asked:
        assert "Roman ruins" not in user, user
    assert any(c.startswith("400 ISIS") and DEATHS in u and RECAPTURE not in u for c, u in asked)

    # the scripted server gives no logprobs: P(yes) is its word, 1 or 0
    assert [by_id[i]["judge_p"] for i in "abc"] == [1.0, 1.0, 0.0]
    s = quality_llm.summedits_summary(rows, 0.5)
    assert (s["n"], s["consistent"], s["judge_calls"]) == (3, 1, 4)
    assert s["both_balanced_accuracy"] == 1.0
    assert s["judge_balanced_accuracy"] == 0.75  # consistent one right; of the two edits, one caught
    assert "dev_bar" not in s


def test_the_judges_bar_is_fitted_on_dev_and_applied_to_test():
    def row(label, p):
        return {
            "label": label,
            "judge_p": p,
            "verifier": True,
            "judge": p >= 0.6,
            "both": p >= 0.6,
            "calls": 1,
            "seconds": 0.1,
        }

    dev = [row(1, 0.9), row(1, 0.8), row(0, 0.7), row(0, 0.3)]  # best cut between 0.7 and 0.8
    test = [row(1, 0.75), row(0, 0.65), row(1, 0.95), row(0, 0.72)]
    s = quality_llm.summedits_summary(test, 0.6, dev)
    assert s["dev_bar"] == 0.75 and s["dev_judge_balanced_accuracy"] == 1.0
    assert s["dev_judge_balanced_accuracy_at_bar"] == 0.75  # at 0.6 the dev edit at 0.7 passes
    assert s["judge_balanced_accuracy_at_dev_bar"] == 1.0 and s["judge_balanced_accuracy"] == 0.5
