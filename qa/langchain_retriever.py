"""The hybrid sentence search as a LangChain `BaseRetriever`: one Document per sentence, with its id,
document id and character offsets in the metadata. Kept apart so the CLI does not import LangChain."""

from __future__ import annotations

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever

from qa.retrieve import Retriever


class SentenceRetriever(BaseRetriever):
    """LangChain face of `Retriever`: one Document per sentence, ids and offsets in metadata."""

    retriever: Retriever
    k: int = 5
    doc_ids: list[str] | None = None

    model_config = {"arbitrary_types_allowed": True}

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        return [
            Document(
                page_content=h.sentence.text,
                id=h.sentence.id,
                metadata={
                    "sentence_id": h.sentence.id,
                    "doc_id": h.sentence.doc_id,
                    "n": h.sentence.n,
                    "start": h.sentence.start,
                    "end": h.sentence.end,
                    "title": h.title,
                    "url": h.url,
                    "score": h.score,
                    "similarity": h.similarity,
                },
            )
            for h in self.retriever.search(query, self.k, self.doc_ids)
        ]
