"""The facade: `Library(data_dir)` with ingest, ask, summarize, documents, remove, retriever.

What the CLI, the web page and the evals call; everything below it is reachable from here.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from qa import answer, embeddings, followup, gist, health, ingest, pipeline, reader_parse, sentences, summarize
from qa.config import Settings
from qa.errors import DocumentNotFoundError, EmptyLibraryError, InputError, ModelError, ModelFileError
from qa.pdf import page_of
from qa.retrieve import Retriever
from qa.store import Store
from qa.types import Answer, Article, CheckReport, Citation, Claim, DocumentInfo, Hit, IngestReport, Summary

Progress = pipeline.Progress
# the summary that answers "What is this article about?": 3 sentences, or for several articles one each, up to 8
# (each article's lead counts most, so each gets its own)
GIST_SENTENCES, GIST_ARTICLES = 3, 8


class Library:
    def __init__(
        self,
        data_dir: str | Path | None = None,
        settings: Settings | None = None,
        preload: bool = False,
        embedder: embeddings.Embedder | None = None,
    ):
        """preload: start loading the model now, in a thread, while Chroma opens (onnxruntime lets go of
        the GIL while it loads): `qa ask` in a new process saves the model's load time. Otherwise the
        model loads at its first use. embedder: another Embedder than the one the settings name (tests,
        benchmarks); the index remembers its name."""
        settings = settings or Settings()
        if data_dir is not None:
            settings = settings.model_copy(update={"data_dir": Path(data_dir)})
        self.settings = settings
        self.embedder = embedder or embeddings.Lazy(settings.embedding, settings.embedding_batch)
        self._loading = None
        if preload and isinstance(self.embedder, embeddings.Lazy):
            # not a daemon: a process that exits meanwhile (say, on a store error) waits for the load to end,
            # instead of onnxruntime aborting it from the half-built session
            self._loading = threading.Thread(target=self._preload, name="qa-model-load")
            self._loading.start()
        self.store = Store(settings, self.embedder.name)
        self.retriever = Retriever(self.store, self.embedder, settings.data_dir / "keyword")
        self._write = threading.Lock()
        self._model_path = None  # the chat-model path, built on first use when one is configured

    def _preload(self) -> None:
        self.embedder.load()
        with contextlib.suppress(ModelFileError):  # a missing parser is reported by the question that needs it
            reader_parse.load()  # the reader's parser: a second of a cold question, loaded while Chroma opens
        if self.settings.use_llm():
            import langchain_openai  # noqa: F401  the chat client's imports: 2.5 s of a first question's wait

            import qa.chain  # noqa: F401

    def ready(self, timeout: float | None = None) -> bool:
        """Wait for what `preload` started (as the page does before it is up); True once it is done or there
        was none."""
        if self._loading is not None:
            self._loading.join(timeout)
        return self._loading is None or not self._loading.is_alive()

    # -- adding and removing ---------------------------------------------------------------------

    def ingest(self, sources: str | Path | list, progress: Progress | None = None) -> IngestReport:
        """Files, directories, URLs, or Articles. Already-present articles are skipped (a no-op); a
        source that cannot be read is reported in `failed` and the others still go in."""
        items = sources if isinstance(sources, list) else [sources]
        report = IngestReport()
        given: dict[str, list[Article]] = {}  # articles handed over, by source: each source is bounded as a file is
        for a in items:
            if isinstance(a, Article):
                given.setdefault(a.source, []).append(ingest.bounded(a))
        paths = ingest.expand([str(s) for s in items if not isinstance(s, Article)])
        articles: list[tuple[Article, list]] = []  # each admitted article with its sentence spans
        with pipeline.timed(report, "read"):
            for src, group in given.items():
                self._admit(src, lambda group=group: group, articles, report)
            fed: set[str] = set()  # stories read from a feed given here (a feed among them is not followed)
            for done, src in enumerate(paths, 1):  # grows by the stories of each feed
                stories = self._admit(src, lambda src=src: list(ingest.read(src, self.settings)), articles, report)
                if stories and src in fed:
                    report.failed.append((src, f"{src}: a feed listed in a feed; give it to ingest itself."))
                paths.extend(s for s in stories if s not in paths and src not in fed)
                fed.update(stories)
                if progress:
                    progress(done, len(paths), f"read {src}")
        self._add(articles, report, progress)
        if report.added:  # the keyword index for the new generation, now, not on the next question
            with pipeline.timed(report, "index"):
                self.retriever.refresh()
        return report

    def ingest_text(self, text: str, title: str = "", source: str = "pasted", url: str = "") -> IngestReport:
        return self.ingest([ingest.from_text(text, source=source, title=title, url=url)])

    def _admit(
        self, source: str, read: Callable[[], list[Article]], articles: list[tuple[Article, list]], report: IngestReport
    ) -> list[str]:
        """The articles of one file (or one source's given articles) into `articles` when they can be read
        and hold at most QA_MAX_SENTENCES together (what bounds an ingestion's memory, checked before any
        embedding); into `report.failed` otherwise. Each goes in with its sentence spans, split once. A news
        feed's story addresses are returned, to be read in its place ([] otherwise)."""
        try:
            found, total, limit, split = read(), 0, self.settings.max_sentences, []
            for a in found:
                least = a.text.count("\n\n") + 1  # a sentence a paragraph at least: refused without splitting
                if total + least > limit:
                    total += least
                else:
                    split.append(sentences.spans(a.text, self.settings.max_sentence_chars))
                    total += len(split[-1])
                if total > limit:
                    raise InputError(
                        f"{source or 'text'}: more than {limit:,} sentences (QA_MAX_SENTENCES); split it "
                        "into smaller files or raise QA_MAX_SENTENCES."
                    )
            articles.extend(zip(found, split))
        except ingest.Feed as feed:
            return feed.links
        except InputError as e:
            report.failed.append((source, str(e)))
        return []

    def _add(self, articles: list[tuple[Article, list]], report: IngestReport, progress: Progress | None) -> None:
        with self._write:
            present = self.store.document_ids()
            pending: dict[str, tuple[Article, list]] = {}
            for a, spans in articles:
                if a.doc_id in present or a.doc_id in pending:
                    report.skipped.append(self._info(a.doc_id) or _info(a, len(spans)))
                else:
                    pending[a.doc_id] = (a, spans)
            # A large ingestion runs the model in a worker process, which embeds the next batch while this
            # process stores the last (chromadb's writes hold the GIL, so a thread cannot overlap them). It
            # costs ~1 s to start; only for the local model as the settings name it.
            big = sum(len(a.text) for a, _ in pending.values()) >= self.settings.embed_worker_chars
            worker = big and isinstance(self.embedder, embeddings.Lazy) and self.embedder.name == embeddings.MiniLM.name
            stages = pipeline.Stages(self.settings, self.embedder, self.store, self.retriever, report, progress)
            stages.run(list(pending.values()), worker)

    def remove(self, doc_id: str) -> DocumentInfo:
        """Every trace of a document: its record, sentences, chunks, and (by the new generation) its
        keyword entries."""
        with self._write:
            info = self._info(doc_id)
            if info is None:
                raise DocumentNotFoundError(doc_id)
            self.store.remove(doc_id)
            return info

    def check(self, full: bool = True) -> CheckReport:
        """What is wrong with the library: records of unfinished ingestions, documents that break the
        bounds, a keyword index out of step. full=False reads only the document records (fast)."""
        return health.check(self.store, self.settings, self.retriever.keyword_dir, full)

    def repair(self) -> CheckReport:
        """Fix what `check` finds (the report says what was done); good articles stay as they are.
        Run it when no other process is writing to this library."""
        with self._write:
            return health.repair(self.store, self.settings, self.retriever.keyword_dir)

    # -- reading -----------------------------------------------------------------------------------

    def documents(self) -> list[DocumentInfo]:
        return sorted(self.store.documents_info(), key=lambda d: (d.title.casefold(), d.doc_id))

    def article(self, doc_id: str) -> str:
        text = self.store.article_text(doc_id)
        if text is None:
            raise DocumentNotFoundError(doc_id)
        return text

    def search(self, question: str, k: int = 10, doc_ids: list[str] | None = None, hybrid: bool = True) -> list[Hit]:
        """The k best sentences for the question, best first; hybrid=False: by embedding alone."""
        return self.retriever.search(question, k, doc_ids, hybrid=hybrid)

    def document(self, doc_id: str) -> DocumentInfo:
        info = self._info(doc_id)
        if info is None:
            raise DocumentNotFoundError(doc_id)
        return info

    def citation(self, sentence_id: str, marker: int = 1) -> Citation | None:
        """A stored sentence as a citation (its document's title and url with it); None when it is gone."""
        found, _ = self.store.get_sentences([sentence_id])
        info = self._info(found[0].doc_id) if found else None
        return Citation.of(marker, found[0], info.title, info.url) if info else None

    def estimate_tokens(
        self,
        question: str | None = None,
        doc_ids: list[str] | None = None,
        sentences: int = 5,
        completion_tokens: int = 300,
    ) -> int:
        """Tokens a question (or, without one, a summary) would cost the chat model: prompt tokens counted
        with tiktoken plus `completion_tokens` per call; calls whose reply is cached count nothing."""
        return self._model().estimate(question, doc_ids, sentences, completion_tokens)

    @property
    def mode(self) -> str:
        """'extractive', or 'llm: <model>' when a chat model is configured."""
        return self.settings.mode_label()

    def ask(self, question: str, k: int | None = None, doc_ids: list[str] | None = None, history=None) -> Answer:
        """history: the previous turns, oldest first, each {"question": ..., "answer": ...} (an earlier
        Answer's `to_dict()` will do); a follow-up is then asked standalone, as `Answer.asked_as` says."""
        question, k, past = _question(question), k or self.settings.top_k, followup.turns(history)
        if (about := gist.request(question)) is not None:  # "it" in a conversation: what the last question asked about
            return self._gist(question, about or (past[-1][0] if past else ""), doc_ids)
        if not self.settings.use_llm():
            return self._as_asked(question, self._extractive(followup.standalone(question, past), k, doc_ids))
        try:
            asked = self._model().standalone(question, past) if past else question
            return self._as_asked(question, self._model().ask(asked, k, doc_ids))
        except ModelError as e:
            return self._as_asked(question, self._fallback(e, followup.standalone(question, past), k, doc_ids))

    def ask_stream(
        self, question: str, k: int | None = None, doc_ids: list[str] | None = None, history=None
    ) -> Iterator[dict]:
        """Events: {"type": "token", "text"}, {"type": "citation", ...} as they arrive, then
        {"type": "answer", "answer": Answer}, the same Answer `ask` gives. Extractive: the answer only."""
        question, k, past = _question(question), k or self.settings.top_k, followup.turns(history)
        if not self.settings.use_llm() or gist.request(question) is not None:
            yield {"type": "answer", "answer": self.ask(question, k, doc_ids, past)}
            return
        try:
            asked = self._model().standalone(question, past) if past else question
            for event in self._model().stream(asked, k, doc_ids):
                if event["type"] == "answer":
                    event = {**event, "answer": self._as_asked(question, event["answer"])}
                yield event
        except ModelError as e:
            ans = self._fallback(e, followup.standalone(question, past), k, doc_ids)
            yield {"type": "answer", "answer": self._as_asked(question, ans)}

    def _as_asked(self, question: str, ans: Answer) -> Answer:
        """The answer under the user's own question; the standalone form it was asked as beside it."""
        if ans.question != question:
            ans.asked_as, ans.question = ans.question, question
        return self._paged(ans)

    def as_runnable(self, k: int | None = None):
        """The answer chain as a LangChain Runnable: question (or {"question", "doc_ids"}) -> Answer."""
        if self.settings.use_llm():
            return self._model().runnable(k or self.settings.top_k)
        from langchain_core.runnables import RunnableLambda

        def extractive(x):
            q, doc_ids = (x, None) if isinstance(x, str) else (x["question"], x.get("doc_ids"))
            return self.ask(q, k, doc_ids)

        return RunnableLambda(extractive, name="qa_extractive")

    def _extractive(self, question: str, k: int, doc_ids: list[str] | None) -> Answer:
        hits = self.retriever.search(question, max(k, answer.POOL), doc_ids)
        return answer.extractive(question, hits, k)

    def _gist(self, question: str, about: str, doc_ids: list[str] | None) -> Answer:
        """A question that asks what articles say as a whole (qa/gist.py) gets the summary of the articles chosen,
        else of the one it names (the article of the sentence closest to its words), else of all, citing each
        sentence as a summary does."""
        if not doc_ids and about and (hits := self.retriever.search(about, 1)):
            doc_ids = [hits[0].sentence.doc_id]
        ids = self._summarized(doc_ids)
        failed, n = "", max(GIST_SENTENCES, min(len(ids), GIST_ARTICLES))
        try:
            s = self._summary(ids, n, model=self.settings.use_llm())
        except ModelError as e:  # as an answer falls back: the extractive summary, saying why
            if not self.settings.llm_fallback:
                raise
            s, failed = self._summary(ids, n, model=False), f" The model failed ({e})."
        titles = [self.retriever.docs[d].title for d in s.doc_ids]
        of = f"“{titles[0]}”" if len(titles) == 1 else f"the {len(titles)} articles (name or choose one for its own)"
        return Answer(
            question,
            " ".join(x.text for x in s.sentences),
            False,
            s.mode,
            citations=s.citations,
            claims=[Claim(x.text, x.citations, x.support) for x in s.sentences],
            model=s.model,
            usage=s.usage,
            note=f"This asks what the articles say as a whole, so the answer is the summary of {of}.{failed}",
        )

    def _fallback(self, error: ModelError, question: str, k: int, doc_ids: list[str] | None) -> Answer:
        if not self.settings.llm_fallback:
            raise error
        ans = self._extractive(question, k, doc_ids)
        ans.note = f"The model failed ({error}); this is the extractive answer."
        return ans

    def _model(self):
        if self._model_path is None:
            from qa.chain import ModelPath

            self._model_path = ModelPath(self.settings, self.retriever, self.store, self.embedder)
        return self._model_path

    def summarize(self, doc_ids: list[str] | None = None, sentences: int = 5) -> Summary:
        return self._summary(self._summarized(doc_ids), sentences, model=self.settings.use_llm())

    def _summarized(self, doc_ids: list[str] | None) -> list[str]:
        """The articles a summary is of: those asked for (each must exist), else every one in the library."""
        self.retriever.refresh()
        ids = doc_ids or sorted(self.retriever.docs)
        if not ids:
            raise EmptyLibraryError()
        for d in ids:
            if d not in self.retriever.docs:
                raise DocumentNotFoundError(d)
        return ids

    def _summary(self, ids: list[str], sentences: int, model: bool) -> Summary:
        """model: by the chat model; else extractive, whatever is configured."""
        if model:
            sents, _ = self.store.doc_sentences(ids)
            return self._paged(self._model().summarize(ids, sents, self.retriever.docs, sentences))
        sents, vecs = self.store.doc_sentences(ids, vectors=True)
        return self._paged(summarize.extractive(ids, sents, vecs, self.retriever.docs, sentences))

    def as_retriever(self, k: int = 5, doc_ids: list[str] | None = None):
        """A LangChain `BaseRetriever` over the sentences (Documents with ids and offsets)."""
        from qa.langchain_retriever import SentenceRetriever

        return SentenceRetriever(retriever=self.retriever, k=k, doc_ids=doc_ids)

    def _paged(self, result: Answer | Summary) -> Answer | Summary:
        """Each citation's PDF page ("p. 3"), from its document's page map."""
        for c in [*result.citations, *getattr(result, "candidates", [])]:
            doc = self.retriever.docs.get(c.doc_id)
            c.page = page_of(doc.pages, c.start) if doc and doc.pages else None
        return result

    def _info(self, doc_id: str) -> DocumentInfo | None:
        got = self.store.documents_info([doc_id])
        return got[0] if got else None


def _info(a: Article, n: int) -> DocumentInfo:
    return DocumentInfo(a.doc_id, a.title, a.source, a.url, a.published_at, n, len(a.text), a.pages)


def _question(q: str) -> str:
    q = " ".join((q or "").split())
    if not q:
        raise InputError('the question is empty; ask something like `qa ask "Who won?"`.')
    return q
