"""qa: ask questions of news articles; every answer cites the sentences it came from.

The public face is `Library` (see qa/library.py); the rest of the package is what it is made of.
"""

from qa.errors import QAError
from qa.types import ABSTAIN, Answer, Citation, Claim, DocumentInfo, IngestReport, Summary

__all__ = ["ABSTAIN", "Answer", "Citation", "Claim", "DocumentInfo", "IngestReport", "Library", "QAError", "Summary"]
__version__ = "0.1.0"


def __getattr__(name: str):
    # Library pulls in chromadb and onnxruntime; import it only when asked for.
    if name == "Library":
        from qa.library import Library

        return Library
    raise AttributeError(name)
