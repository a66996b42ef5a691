"""bench/reader_ablation.py: the out-of-fold scores a reader change is judged by (pure parts; the run itself needs
the dev retrieval of ../shared/data)."""

import pytest

from bench import reader_ablation as ab
from bench.train_reader import Item, Outcome
from qa.reader import SENTENCE_FEATURES, Candidate, Reading
from qa.reader_spans import SPAN_FEATURES, Span


def outcome(dataset: str, answerable: bool, p: float, ok: bool) -> Outcome:
    return Outcome(dataset, answerable, p, ok, 0.0, None, 1.0, 1.0)


def test_auc_counts_pairs_in_order_and_ties_as_half():
    assert ab.auc([0.9, 0.8], [0.1, 0.2]) == 1.0
    assert ab.auc([0.1], [0.9]) == 0.0
    assert ab.auc([0.5, 0.9], [0.5]) == 0.75


def test_ranking_reads_choice_over_answerable_questions_and_auc_only_where_some_are_not():
    outs = [
        outcome("squad", True, 0.9, True),
        outcome("squad", True, 0.4, False),
        outcome("squad", False, 0.6, False),
        outcome("rgb", True, 0.7, True),
    ]
    ranks = ab.ranking(outs)
    assert ranks["squad"] == (0.5, 0.5)  # one of two answered right; 0.9 above 0.6, 0.4 below it
    assert ranks["rgb"] == (1.0, None)


def test_blank_holds_sentence_and_span_features_at_a_constant_and_refuses_unknown_names():
    span = Span("Reuters", [1.0] * len(SPAN_FEATURES), True)
    cand = Candidate(None, [1.0] * len(SENTENCE_FEATURES), [span])
    items = [Item("squad", True, Reading(None, [cand]), [True], None)]
    ab.blank(items, ["typed_span", "exact"])
    assert cand.features[SENTENCE_FEATURES.index("typed_span")] == ab.BLANK
    assert cand.features[SENTENCE_FEATURES.index("cover")] == 1.0
    assert ab.BLANK in span.features and span.features.count(ab.BLANK) == 1
    with pytest.raises(SystemExit, match="no such feature: nonsense"):
        ab.blank(items, ["nonsense"])
