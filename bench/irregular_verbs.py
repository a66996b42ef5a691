"""Write qa/data/irregular-verbs.json: the past forms of irregular English verbs and their verb ("won" -> "win",
"said" -> "say"), from the lemma exceptions of spaCy's en_core_web_sm (the pipeline qa ships). Stemming joins
"wins" and "win" but not "won"; a question asks "Who won?" of an article that says "wins".

    .venv/bin/python -m bench.irregular_verbs

Kept: forms with one lemma whose stem differs from the lemma's (what stemming misses); left out: forms that are
verbs themselves ("found", "saw", "fell", "lay": "founded" is not "find").
"""

from __future__ import annotations

import json

from qa import text

OUT = text.IRREGULAR


def table() -> dict[str, str]:
    import Stemmer
    from spacy.lookups import Lookups

    from qa import reader_parse

    lookups = Lookups().from_disk(reader_parse.model_dir() / "lemmatizer" / "lookups")
    exceptions = lookups.get_table("lemma_exc")["verb"]
    verbs = set(lookups.get_table("lemma_index")["verb"])
    stem = Stemmer.Stemmer("english").stemWord
    return {
        form: lemmas[0]
        for form, lemmas in sorted(exceptions.items())
        if len(lemmas) == 1 and form.isalpha() and form not in verbs and stem(form) != stem(lemmas[0])
    }


def main() -> None:
    found = table()
    OUT.write_text(json.dumps(found, indent=0, sort_keys=True) + "\n")
    print(f"wrote {OUT}: {len(found)} forms")


if __name__ == "__main__":
    main()
