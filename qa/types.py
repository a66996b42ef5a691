"""Plain data that flows through the pipeline: articles, sentences, chunks, hits, answers, summaries.

No logic beyond building the JSON shapes the CLI and API promise (`to_dict`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

# The one abstention sentence, shared by the extractive and the model paths; tests assert on it.
ABSTAIN = "The articles do not say."


@dataclass(frozen=True)
class Article:
    doc_id: str  # content hash of `text`
    title: str
    text: str  # clean text: paragraphs joined by "\n\n"; sentence offsets index into it
    source: str = ""  # where it came from: a path, a URL, a site name
    url: str = ""
    published_at: str = ""
    pages: tuple[int, ...] = ()  # a PDF's page map: pages[i] is where page i+1 starts in `text`; () otherwise


@dataclass(frozen=True)
class Sentence:
    id: str  # "<doc_id>:<n>", fixed at ingestion
    doc_id: str
    n: int
    text: str
    start: int  # article.text[start:end] == text
    end: int


@dataclass(frozen=True)
class Chunk:
    id: str  # "<doc_id>#<k>"
    doc_id: str
    sentence_ids: tuple[str, ...]
    text: str
    start: int
    end: int
    tokens: int


@dataclass(frozen=True)
class Hit:
    """A sentence found for a question, with the evidence of how it was found."""

    sentence: Sentence
    score: float  # fused (reciprocal rank fusion)
    similarity: float  # cosine between question and sentence (computed for every hit)
    keyword: float  # BM25 score, 0 when not among the keyword hits
    title: str = ""
    url: str = ""
    before: str = ""  # the previous sentence of the same article ("" for the first): what "it" or "he" refers to


@dataclass
class Citation:
    marker: int
    sentence_id: str
    doc_id: str
    title: str
    text: str
    start: int
    end: int
    url: str = ""
    page: int | None = None  # the PDF page the sentence starts on; None for other documents

    @classmethod
    def of(cls, marker: int, s: Sentence, title: str = "", url: str = "") -> "Citation":
        return cls(marker, s.id, s.doc_id, title, s.text, s.start, s.end, url)


def citations(hits: list[Hit], start: int = 1) -> list[Citation]:
    """Hits as citations numbered from `start`."""
    return [Citation.of(m, h.sentence, h.title, h.url) for m, h in enumerate(hits, start)]


@dataclass
class Claim:
    text: str
    citations: list[int]
    support: str  # "supported" | "partial" | "unsupported"
    score: float = 1.0
    probability: float | None = None  # the extractive reader's P(the cited sentence answers the question)


@dataclass
class Answer:
    question: str
    answer: str
    abstained: bool
    mode: str  # "extractive" | "llm"
    citations: list[Citation] = field(default_factory=list)
    claims: list[Claim] = field(default_factory=list)
    candidates: list[Citation] = field(default_factory=list)
    model: str = ""  # the chat model's name in llm mode
    usage: dict | None = None  # {"prompt_tokens", "completion_tokens", "cost_usd"} when a model ran
    note: str = ""  # e.g. why an extractive answer stands in for a failed model call
    probability: float | None = None  # extractive: P(the best candidate answers), also when it abstains
    asked_as: str = ""  # a follow-up as it was asked, standalone (from the history); "" when asked as it is

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class SummarySentence:
    text: str
    citations: list[int]
    support: str = "supported"


@dataclass
class Summary:
    doc_ids: list[str]
    mode: str
    sentences: list[SummarySentence] = field(default_factory=list)
    citations: list[Citation] = field(default_factory=list)
    model: str = ""
    usage: dict | None = None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class DocumentInfo:
    doc_id: str
    title: str
    source: str
    url: str
    published_at: str
    sentences: int
    chars: int
    pages: tuple[int, ...] = ()  # the article's page map (Article.pages)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class IngestReport:
    added: list[DocumentInfo] = field(default_factory=list)
    skipped: list[DocumentInfo] = field(default_factory=list)  # already in the library: a no-op
    failed: list[tuple[str, str]] = field(default_factory=list)  # (source, error message)
    # seconds spent per stage: read (files, URLs, cleaning), split (sentences, chunks), embed, store
    # (Chroma writes), index (the keyword index for the new generation)
    timings: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "added": [d.to_dict() for d in self.added],
            "skipped": [d.to_dict() for d in self.skipped],
            "failed": [{"source": s, "error": e} for s, e in self.failed],
        }


@dataclass(frozen=True)
class Problem:
    """One thing `qa check` found: what is wrong and what `qa check --repair` does about it."""

    kind: str  # "orphan records" | "incomplete" | "long fields" | "not text" | "too many sentences" | "keyword index"
    doc_id: str  # "" when it is not about one document
    detail: str
    fix: str
    repairable: bool = True


@dataclass
class CheckReport:
    documents: int = 0
    sentences: int = 0
    problems: list[Problem] = field(default_factory=list)
    repaired: bool = False  # the problems listed were fixed

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict:
        return {**asdict(self), "ok": self.ok}
