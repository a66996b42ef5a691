"""The model path, in LangChain (LCEL): retrieve -> evidence -> prompt -> chat model -> parse -> verify
-> Answer; streaming with citations as typed events; map-reduce summaries whose citations survive.

Same contract as the extractive path: every claim cites sentence ids from the evidence, each citation is
verified, invented keys are dropped (a claim citing only invented ones is unsupported), abstention is `ABSTAIN`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterator

from langchain_core.runnables import Runnable, RunnableLambda

from qa import answer, prompts, reader_model, structure, verify
from qa import citations as cite
from qa.config import Settings
from qa.embeddings import Embedder
from qa.llm import ChatModel, Reply, StructuredUnsupported, Usage
from qa.retrieve import Retriever
from qa.store import Store
from qa.text import count_tokens, tokenize
from qa.types import ABSTAIN, Answer, Citation, Claim, Hit, Sentence, Summary, SummarySentence, citations

WINDOWED = 3  # best hits shown with their neighbours in the prompt
SPREAD = 2  # most sentences one claim of an answer cites before it is cited piece by piece
GATED = "No retrieved sentence is likely to answer (the reader's best: p {p}); the model was not asked (QA_LLM_GATE)."
OVERRULED = "The model quoted sentences that the reader finds do not answer (p {p}); this is the reader's answer."
UNBACKED = "Nothing the model said is stated in the articles; this is the reader's answer."
CUT = "The model's reply stopped at its token limit (QA_LLM_MAX_TOKENS) before it gave an answer; this is the reader's."
CONDENSED, ANSWER_CHARS, MAX_REWRITE = 4, 600, 1000  # a follow-up's rewrite: turns shown, each answer cut, reply kept
Checked = tuple[cite.RawClaim, str, float, list[str]]  # a claim, its label and score, the evidence keys chosen for it
Verified = tuple[list[Claim], dict[int, Hit]]  # the claims, and (marker -> sentence) of those they cite


class ModelPath:
    def __init__(self, settings: Settings, retriever: Retriever, store: Store, embedder: Embedder):
        self.settings = settings
        self.retriever, self.store, self.embedder = retriever, store, embedder
        self.model = ChatModel(settings)
        self.prompts = prompts.load_all()
        self._fence_key = secrets.token_bytes(16)  # names fences: unguessable from outside, stable in this process

    # -- answers ---------------------------------------------------------------------------------

    def runnable(self, k: int = 5) -> Runnable:
        """question (str, or {"question", "doc_ids"}) -> Answer; invoke, batch and stream work."""
        return (
            RunnableLambda(self._retrieve, name="retrieve")
            | RunnableLambda(self._gate, name="reader_gate")
            | RunnableLambda(self._evidence, name="evidence")
            | RunnableLambda(self._generate, name="chat_model")
            | RunnableLambda(lambda s: self._finish(s, k), name="parse_and_verify")
        )

    def ask(self, question: str, k: int = 5, doc_ids: list[str] | None = None) -> Answer:
        return self.runnable(k).invoke({"question": question, "doc_ids": doc_ids})

    def stream(self, question: str, k: int = 5, doc_ids: list[str] | None = None) -> Iterator[dict]:
        """{"type": "token", "text"} as the model writes; {"type": "citation", "key", "sentence_id",
        "text"} when a valid key first appears; finally {"type": "answer", "answer": Answer}."""
        state = self._evidence(self._gate(self._retrieve({"question": question, "doc_ids": doc_ids})))
        if not state["evidence"].hits or state["unanswered"] is not None:
            yield {"type": "answer", "answer": self._finish({**state, "reply": Reply(ABSTAIN)}, k)}
            return
        written, seen = "", set()
        for piece in self.model.stream(self._messages(state, cite.TEXT_FORMAT)):
            if isinstance(piece, Reply):
                state["reply"] = piece
                break
            written += piece
            yield {"type": "token", "text": piece}
            for key in cite.strip_keys(written)[1]:
                hit = state["evidence"].hits.get(key)
                if hit and key not in seen:
                    seen.add(key)
                    yield {"type": "citation", "key": key, "sentence_id": hit.sentence.id, "text": hit.sentence.text}
        yield {"type": "answer", "answer": self._finish(state, k)}

    def standalone(self, question: str, history: list[tuple[str, str]]) -> str:
        """A follow-up rewritten by the model to stand alone (prompts/condense.txt), from the last CONDENSED
        turns; the question as it is when the reply is not one usable line."""
        lines = "\n".join(f"Q: {q}\nA: {a[:ANSWER_CHARS]}" for q, a in history[-CONDENSED:])
        reply = self.model.complete(
            self.prompts["condense"].messages(fence=cite.Evidence.of([]).fence, history=lines, question=question)
        )
        text = " ".join(reply.text.split()).strip("\"'` ")
        return text if 0 < len(text) <= MAX_REWRITE and text.casefold() != ABSTAIN.casefold() else question

    def _retrieve(self, x) -> dict:
        """The evidence's hits; with QA_LLM_GATE, the pool the reader reads (answer.POOL) too."""
        q = x if isinstance(x, str) else x["question"]
        doc_ids = None if isinstance(x, str) else x.get("doc_ids")
        n = self.settings.evidence_sentences
        pool = self.retriever.search(q, max(n, answer.POOL) if self.settings.llm_gate else n, doc_ids)
        return {"question": q, "hits": pool[:n], "pool": pool}

    def _gate(self, state: dict) -> dict:
        """With QA_LLM_GATE, the reader's view of the pool: "unanswered", its best probability when that is under
        the abstention threshold (then the model is not asked), else None; "reading", each sentence's probability
        that it answers (see _finish: a claim is `supported` only where the reader is sure, and the reader's answer
        replaces a model's that quotes only sentences it finds do not answer)."""
        if not (self.settings.llm_gate and state["pool"]):
            return {**state, "unanswered": None, "reading": None}
        weights = reader_model.load()
        reading = answer.reading(state["question"], state["pool"], weights)
        best = max(answer.answers(c) for c in reading.candidates)
        return {
            **state,
            "hits": answer.likeliest(reading, state["pool"], len(state["hits"])),
            "unanswered": round(best, 3) if best < weights.abstain else None,
            "reading": reading,
        }

    def _evidence(self, state: dict) -> dict:
        """The best sentences as many as fit the token budget, the first WINDOWED of them read in their chunk:
        with the sentence before and after (a passage, not a lone line). Every sentence is keyed, so each stays
        citable on its own."""
        hits = state["hits"]
        around = self.retriever.context(hits[:WINDOWED])
        shown, seen = [], set()
        for h in hits:
            before, after = around.get(h.sentence.id, (None, None))
            for s, hit in ((before, None), (h.sentence, h), (after, None)):
                if s is not None and s.id not in seen:
                    seen.add(s.id)
                    shown.append(hit or Hit(s, 0.0, 0.0, 0.0, h.title, h.url))
        kept, used = [], 0
        for h, cost in zip(shown, count_tokens([h.sentence.text for h in shown])):
            if used + cost + 4 > self.settings.context_tokens:
                break
            kept.append(h)
            used += cost + 4
        return {**state, "evidence": self._keyed(kept)}

    def _keyed(self, hits: list[Hit]) -> cite.Evidence:
        """The evidence in reading order under a fence named by its content: the same sentences make the same
        prompt whatever their scores, so a server's prompt cache (llama.cpp's) reuses it for a follow-up."""
        hits = sorted(hits, key=lambda h: (h.sentence.doc_id, h.sentence.n))
        ids = "\n".join(h.sentence.id for h in hits).encode()
        fence = "evidence-" + hmac.new(self._fence_key, ids, hashlib.sha256).hexdigest()[:8]
        return cite.Evidence(fence, {f"S{i}": h for i, h in enumerate(hits, 1)})

    def _messages(self, state: dict, form: str) -> list[tuple[str, str]]:
        ev = state["evidence"]
        return self.prompts["answer"].messages(
            fence=ev.fence, evidence=ev.render(), question=state["question"], abstain=ABSTAIN, format=form
        )

    def _generate(self, state: dict) -> dict:
        if not state["evidence"].hits or state.get("unanswered") is not None:
            return {**state, "reply": Reply(ABSTAIN)}
        return {**state, "reply": self._complete(lambda form: self._messages(state, form))}

    def _complete(self, messages) -> Reply:
        """Structured output (JSON schema) first; the plain-text form where the server refuses it."""
        try:
            return self.model.complete(messages(cite.JSON_FORMAT), schema=cite.SCHEMA)
        except StructuredUnsupported:
            return self.model.complete(messages(cite.TEXT_FORMAT))

    def _finish(self, state: dict, k: int) -> Answer:
        reply, ev, question = state["reply"], state["evidence"], state["question"]
        abstained, raw = cite.parse(reply.text)
        usage = _usage(reply.usage)
        if reply.cut and not raw and state["pool"]:  # a failure to answer, not an abstention: the reader answers
            return self._readers(state, k, usage, CUT)
        if abstained or not raw:
            gated = state.get("unanswered")
            return Answer(
                question,
                ABSTAIN,
                True,
                "llm",
                candidates=citations(state["hits"][:k]),
                model=self.model.name,
                usage=usage,
                note=GATED.format(p=gated) if gated is not None else "",
                probability=gated,
            )
        claims, used = self._verified(raw, ev, question)
        polar = structure.polar(question)  # a yes/no question's answer is a verdict, the reader's a sentence
        if not used and not polar:  # nothing it says is stated in the evidence: a guess, however fluent
            return self._readers(state, k, usage, UNBACKED)
        cited = {m: h.sentence.id for m, h in used.items()}
        if (reading := state.get("reading")) is not None:
            weights, answers = reader_model.load(), {c.hit.sentence.id: c.p for c in reading.candidates}
            claims = answer.answering(claims, cited, answers, answer.sure(question, weights))
            if not polar and (p := answer.beside_the_point(claims, cited, answers, weights.abstain)):
                return self._readers(state, k, usage, OVERRULED.format(p=p))
        rest = [h for h in state["hits"] if h.sentence.id not in cited.values()][:k]
        return Answer(
            question,
            " ".join(c.text for c in claims),
            False,
            "llm",
            citations=[Citation.of(m, h.sentence, h.title, h.url) for m, h in used.items()],
            claims=claims,
            candidates=citations(rest, start=len(used) + 1),
            model=self.model.name,
            usage=usage,
        )

    def _readers(self, state: dict, k: int, usage: dict | None, note: str) -> Answer:
        """The reader's answer from the pool in place of the model's, marked as such; the model's usage is kept."""
        reading = state.get("reading") or answer.reading(state["question"], state["pool"])
        ans = answer.from_reading(state["question"], reading, k, reader_model.load())
        ans.model, ans.usage, ans.note = self.model.name, usage, note
        return ans

    def _verified(self, raw: list[cite.RawClaim], ev: cite.Evidence, asked: str = "") -> Verified:
        """Claims with markers for their chosen sentences. The model's keys are a hint: each claim cites the smallest
        set of evidence sentences that supports it (verify.choose; what it repeats of the question `asked` is its
        premise), checked offline, then by the model as a judge (QA_LLM_JUDGE), which can only lower a label.
        A claim whose keys were all never in the evidence has an invented source: it is unsupported. A key past the
        end of an otherwise real list (a small model enumerating S1, S2, ... one too far) is dropped from the hint.
        An answer's claim whose support takes more than SPREAD sentences is checked and cited piece by piece when it
        says several things (qa/structure.py parts): each piece cites its own."""
        checked = [piece for rc in raw for piece in self._pieces(rc, ev, asked)]
        if self.settings.llm_judge:
            checked = self._judged(checked, ev)
        markers: dict[str, int] = {}
        claims = []
        for rc, label, score, used in checked:
            cited = [markers.setdefault(key, len(markers) + 1) for key in used] if label != verify.UNSUPPORTED else []
            claims.append(Claim(rc.text, cited, label, score))  # an unsupported claim is never shown as cited
        return claims, {m: ev.hits[key] for key, m in markers.items()}

    def _pieces(self, rc: cite.RawClaim, ev: cite.Evidence, asked: str) -> list[Checked]:
        whole = self._choose(rc, ev, asked)
        pieces = structure.parts(rc.text) if asked and len(whole[3]) > SPREAD else []
        if len(pieces) < 2:
            return [whole]
        return [self._choose(cite.RawClaim(shown, rc.keys, said), ev, asked) for shown, said in pieces]

    def _choose(self, rc: cite.RawClaim, ev: cite.Evidence, asked: str = "") -> Checked:
        real = [key for key in rc.keys if key in ev.hits]
        if (rc.keys and not real) or not ev.hits:
            return rc, verify.UNSUPPORTED, 0.0, []
        rc = cite.RawClaim(rc.text, real, rc.reads)
        keys = _candidates(rc, ev)
        texts = [ev.hits[k].sentence.text for k in keys]
        vecs = self.embedder.embed([rc.said, asked, *texts])  # claim, question, sentences
        sims, grounds = ([float(s) for s in vecs[2:] @ vecs[j]] for j in (0, 1))
        picked, label, score = verify.choose(rc.said, texts, sims, [keys.index(k) for k in rc.keys], 3, asked, grounds)
        return rc, label, score, [keys[i] for i in picked]

    def _judged(self, checked: list, ev: cite.Evidence) -> list:
        """The model's verdict on each claim that stands, with its chosen sentences, one short call per claim (a
        small model judges one claim reliably, a list of them not); a claim whose P(yes) is under
        QA_LLM_JUDGE_THRESHOLD becomes unsupported."""
        out, bar = list(checked), self.settings.llm_judge_threshold
        for n, (rc, label, score, used) in enumerate(checked):
            if label == verify.UNSUPPORTED or not used:
                continue
            if judge(self.model, self.prompts["judge"], rc.said, [ev.hits[k].sentence.text for k in used]) < bar:
                out[n] = (rc, verify.UNSUPPORTED, score, [])
        return out

    def planned_calls(self, question: str | None, doc_ids: list[str] | None, n: int) -> list[list[tuple[str, str]]]:
        """The prompts a question or a summary would send (the reduce step's roughly), for estimates."""
        if question:
            state = self._evidence(self._gate(self._retrieve({"question": question, "doc_ids": doc_ids})))
            asked = state["evidence"].hits and state["unanswered"] is None  # as _generate decides
            return [self._messages(state, cite.JSON_FORMAT)] if asked else []
        self.retriever.refresh()
        ids = doc_ids or sorted(self.retriever.docs)
        sents, _ = self.store.doc_sentences(ids)
        docs = self.retriever.docs
        ev = cite.Evidence.of([Hit(s, 0.0, 0.0, 0.0, docs[s.doc_id].title, docs[s.doc_id].url) for s in sents])
        groups = self._groups(ev)
        calls = [self._map(cite.Evidence(ev.fence, {k: ev.hits[k] for k in g}), n, cite.JSON_FORMAT) for g in groups]
        if len(groups) > 1:
            facts = "\n".join("- a fact of about twenty words [S1]" for _ in range(n * len(groups)))
            calls.append(self._reduce(ev.fence, facts, n, cite.JSON_FORMAT))
        return calls

    def estimate(self, question: str | None, doc_ids: list[str] | None, n: int, completion_tokens: int) -> int:
        """Prompt tokens (tiktoken) plus completion_tokens per call, over the calls not already cached."""
        calls = self.planned_calls(question, doc_ids, n)
        return sum(self.model.tokens(m) + completion_tokens for m in calls if not self.model.cached(m, cite.SCHEMA))

    # -- summaries -------------------------------------------------------------------------------

    def summarize(self, doc_ids: list[str], sents: list[Sentence], docs: dict, n: int) -> Summary:
        """Map: each budget-sized group of sentences -> cited facts. Reduce: the facts -> n sentences.
        Keys are global (S1..SN over all sentences), so citations survive the reduce step."""
        hits = [Hit(s, 0.0, 0.0, 0.0, docs[s.doc_id].title, docs[s.doc_id].url) for s in sents]
        ev = cite.Evidence.of(hits)
        groups = self._groups(ev)
        usage = Usage()
        facts: list[cite.RawClaim] = []
        for keys in groups:
            part = cite.Evidence(ev.fence, {k: ev.hits[k] for k in keys})
            reply = self._complete(lambda form, part=part: self._map(part, n, form))
            usage = usage.add(reply.usage)
            facts += cite.in_part(cite.parse(reply.text)[1], keys)
        if len(groups) > 1:
            lines = "\n".join(f"- {f.text} " + "".join(f"[{k}]" for k in f.keys) for f in facts)
            reply = self._complete(lambda form: self._reduce(ev.fence, lines, n, form))
            usage = usage.add(reply.usage)
            facts = cite.parse(reply.text)[1]
        claims, used = self._verified(facts[:n], ev)
        summary = Summary(doc_ids=doc_ids, mode="llm", model=self.model.name, usage=_usage(usage))
        summary.sentences = [SummarySentence(c.text, c.citations, c.support) for c in claims]
        summary.citations = [Citation.of(m, h.sentence, h.title, h.url) for m, h in used.items()]
        return summary

    def _map(self, part: cite.Evidence, n: int, form: str) -> list[tuple[str, str]]:
        """The map step's prompt: n cited facts from one group of sentences."""
        return self.prompts["summary_map"].messages(fence=part.fence, evidence=part.render(), sentences=n, format=form)

    def _reduce(self, fence: str, facts: str, n: int, form: str) -> list[tuple[str, str]]:
        """The reduce step's prompt: n sentences from the map step's facts."""
        return self.prompts["summary_reduce"].messages(fence=fence, evidence=facts, sentences=n, format=form)

    def _groups(self, ev: cite.Evidence) -> list[list[str]]:
        """Keys in reading order, cut into groups whose evidence lines fit the token budget."""
        keys = list(ev.hits)
        costs = count_tokens([f"[{k}] {ev.hits[k].sentence.text}" for k in keys])
        groups, current, used = [], [], 0
        for key, cost in zip(keys, costs):
            if current and used + cost > self.settings.context_tokens:
                groups.append(current)
                current, used = [], 0
            current.append(key)
            used += cost
        return groups + ([current] if current else [])


def judge(model: ChatModel, template: prompts.Prompt, claim: str, sentences: list[str]) -> float:
    """The model as a judge: its probability that these sentences state the claim (P(yes) of a one-word reply);
    a claim stands when it reaches QA_LLM_JUDGE_THRESHOLD."""
    evidence = "\n".join(f"- {' '.join(s.split())}" for s in sentences)
    messages = template.messages(fence=cite.Evidence.of([]).fence, claim=" ".join(claim.split()), evidence=evidence)
    return model.yes_probability(messages)


def _candidates(rc: cite.RawClaim, ev: cite.Evidence) -> list[str]:
    """The evidence keys a claim's support is chosen among: the model's own, then those sharing the most words
    with the claim (a summary's evidence can be a whole library; only these few are embedded)."""
    words = set(tokenize([rc.said])[0])
    shared = {k: len(words & set(tokenize([h.sentence.text])[0])) for k, h in ev.hits.items()}
    ranked = sorted((k for k in ev.hits if k not in rc.keys), key=lambda k: -shared[k])
    return [*rc.keys, *ranked[: verify.POOL]]


def _usage(u: Usage) -> dict:
    return {"prompt_tokens": u.prompt_tokens, "completion_tokens": u.completion_tokens, "cost_usd": u.cost_usd}
