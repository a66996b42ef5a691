"""The keyword index: same words as bm25s's own tokenizer, and a new generation reads only new sentences."""

import bm25s
import pytest
import Stemmer

from qa import keyword, text

TEXTS = {
    "a:0": "About 400 ISIS fighters died in the battle for Palmyra, the Observatory said.",
    "a:1": "UNESCO calls Palmyra a site of outstanding universal value.",
    "b:0": "Russian air strikes supported the Syrian army's advance.",
    "b:1": "The fighters had held the city since May last year.",
}


def test_tokens_are_bm25s_tokens():
    texts = [*TEXTS.values(), "", "A an THE of", "Don't stop-words: it's 2016's café — naïve résumé!"]
    # no irregular past form ("said", "had", "held"): see the next test
    texts = [t.replace("said", "reported").replace("had held", "controlled") for t in texts]
    texts = [text.unaccented(t) for t in texts]  # see test_accents_do_not_matter
    expected = bm25s.tokenize(
        texts, stopwords="en", stemmer=Stemmer.Stemmer("english"), return_ids=False, show_progress=False
    )
    assert text.tokenize(texts) == expected


@pytest.mark.parametrize(
    ("past", "present"),
    [("Who won the vote?", "She wins votes."), ("They held the city.", "They hold cities."), ("He said so.", "says")],
)
def test_an_irregular_past_is_read_as_its_verb(past, present):
    verb = {"won": "win", "held": "hold", "said": "say"}
    [asked], [stated] = text.tokenize([past]), text.tokenize([present])
    [[joined]] = text.tokenize([next(v for w, v in verb.items() if w in past)])
    assert joined in set(asked) & set(stated)


def test_accents_do_not_matter():
    assert text.tokenize(["Chloé Zhao's naïve café résumé"]) == text.tokenize(["Chloe Zhao's naive cafe resume"])
    assert text.tokenize(["Erdoğan"]) == [["erdogan"]]


def test_kana_and_hangul_keep_their_letters():
    """Only Latin, Greek and Cyrillic accents go: "ピ" is not "ヒ" with an accent, and a Korean syllable is a
    letter, not letters with marks."""
    assert text.unaccented("オリンピック 서울 Łódź") == "オリンピック 서울 Łodz"


CJK = {
    "z:0": "巴尔米拉古城是联合国教科文组织认定的世界遗产。",
    "z:1": "叙利亚政府军在俄罗斯空袭的支持下收复了该城。",
    "z:2": "東京オリンピックは2021年に開催された。",
    "z:3": "서울은 한국의 수도입니다.",
}


@pytest.mark.parametrize(
    ("query", "found"),
    [("巴尔米拉在哪里？", "z:0"), ("谁收复了这座城？", "z:1"), ("オリンピックはいつ？", "z:2"), ("서울", "z:3")],
)
def test_chinese_japanese_and_korean_words_are_found_inside_longer_runs(tmp_path, query, found):
    """Chinese and Japanese write no spaces between words (and Korean adds endings to a word): a whole run
    was one keyword, so the question's "巴尔米拉" found nothing in "巴尔米拉古城是...". Pairs of characters
    match inside a run."""
    r = Reader(CJK)
    r.texts = lambda ids: [CJK[i] for i in ids]
    hits = keyword.open_index(tmp_path, "g1", r.list, r.texts).search(query, 4)
    assert hits and hits[0][0] == found


def test_a_past_form_that_is_a_verb_itself_stays():
    assert text.tokenize(["OpenAI was founded in 2015.", "They found it."]) == [["openai", "found", "2015"], ["found"]]


class Reader:
    """The store's side of open_index: which sentences exist, and their texts (recording each read)."""

    def __init__(self, ids):
        self.ids, self.reads = list(ids), []

    def list(self):
        return self.ids

    def texts(self, ids):
        self.reads.append(list(ids))
        return [TEXTS[i] for i in ids]


def test_a_new_generation_reads_only_new_sentences(tmp_path):
    first = Reader(["a:0", "a:1"])
    keyword.open_index(tmp_path, "g1", first.list, first.texts)
    assert first.reads == [["a:0", "a:1"]]

    grown = Reader(["a:0", "a:1", "b:0", "b:1"])
    index = keyword.open_index(tmp_path, "g2", grown.list, grown.texts)
    assert grown.reads == [["b:0", "b:1"]]  # a's sentences came from g1's saved words
    assert [p.name for p in tmp_path.iterdir()] == ["g2"]  # the old generation is gone

    fresh = Reader(grown.ids)
    rebuilt = keyword.open_index(tmp_path / "fresh", "g2", fresh.list, fresh.texts)
    for q in ("How many fighters died?", "What value does UNESCO see in Palmyra?", "air strikes"):
        assert index.search(q, 4) == rebuilt.search(q, 4), q  # same scores as a build from scratch


def test_removal_reads_nothing_and_forgets_the_document(tmp_path):
    both = Reader(TEXTS)
    keyword.open_index(tmp_path, "g1", both.list, both.texts)
    only_b = Reader(["b:0", "b:1"])
    index = keyword.open_index(tmp_path, "g2", only_b.list, only_b.texts)
    assert only_b.reads == []
    assert all(not i.startswith("a:") for i, _ in index.search("Palmyra fighters UNESCO", 4))
    assert index.search("fighters", 4)[0][0] == "b:1"


def test_reopening_a_generation_loads_it(tmp_path):
    r = Reader(TEXTS)
    built = keyword.open_index(tmp_path, "g1", r.list, r.texts)
    again = Reader(TEXTS)
    loaded = keyword.open_index(tmp_path, "g1", again.list, again.texts)
    assert again.reads == []
    assert loaded.search("Palmyra", 4) == built.search("Palmyra", 4)


@pytest.mark.parametrize("query", ["", "the of and", "zzzz-unknown"])
def test_queries_without_known_words_find_nothing(tmp_path, query):
    r = Reader(TEXTS)
    assert keyword.open_index(tmp_path, "g1", r.list, r.texts).search(query, 4) == []


@pytest.mark.e2e
def test_words_kept_at_ingestion_are_the_words_a_rebuild_reads_back(tmp_path):
    """Library.ingest hands the keyword index the words of what it stored (no read back); a library
    that rebuilds the index from the store alone gets the same words for every sentence."""
    import json
    import shutil

    from conftest import REFERENCE

    from qa.ingest import from_text
    from qa.library import Library

    lib = Library(tmp_path / "lib")
    other = from_text(
        "Zebras Escape Zoo\n\nThree zebras escaped from the city zoo on Tuesday. Keepers caught them.",
        source="https://example.org/zebras",
    )
    lib.ingest([REFERENCE, other])
    (kept,) = [d for d in (tmp_path / "lib" / "keyword").iterdir()]
    words = json.loads((kept / keyword.TOKENS).read_text())
    assert len(words) == sum(d.sentences for d in lib.documents())

    shutil.rmtree(tmp_path / "lib" / "keyword")
    again = Library(tmp_path / "lib")
    again.retriever.refresh()
    (rebuilt,) = [d for d in (tmp_path / "lib" / "keyword").iterdir()]
    assert json.loads((rebuilt / keyword.TOKENS).read_text()) == words
    (keepers,) = [s for s in lib.store.doc_sentences([other.doc_id])[0] if s.text == "Keepers caught them."]
    assert {"keeper", "zebra", "zoo"} <= set(words[keepers.id])  # the headline's words come with it


def test_the_irregular_verbs_file_is_what_its_command_writes():
    import json

    from bench import irregular_verbs

    assert json.loads(text.IRREGULAR.read_text()) == irregular_verbs.table()


def test_an_index_an_older_qa_built_is_built_again(tmp_path):
    """The words saved per sentence have a versioned name: an index saved under another name was split into
    words otherwise, so the same generation is rebuilt, not loaded ("won" must find "won" as "win" now)."""
    r = Reader(TEXTS)
    keyword.open_index(tmp_path, "g1", r.list, r.texts)
    (tmp_path / "g1" / keyword.TOKENS).rename(tmp_path / "g1" / "tokens-0.json")
    again = Reader(TEXTS)
    index = keyword.open_index(tmp_path, "g1", again.list, again.texts)
    assert again.reads == [list(TEXTS)]
    assert (tmp_path / "g1" / keyword.TOKENS).is_file()
    assert index.search("Who holds the city?", 4)[0][0] == "b:1"  # "had held" in b:1
