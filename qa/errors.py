"""Errors a user can act on. Each message says what to do next; the CLI and the page show it as is."""


class QAError(Exception):
    """Base class: anything the user can fix. The message is one line and names the fix."""


class InputError(QAError):
    """An article could not be read: empty, binary, too large, malformed, unreachable."""


class NotFoundError(QAError):
    """A document id or file that does not exist."""


class DocumentNotFoundError(NotFoundError):
    def __init__(self, doc_id: str) -> None:
        super().__init__(f"no document {doc_id!r} in the library; `qa docs` lists the ids.")
        self.doc_id = doc_id


class EmptyLibraryError(QAError):
    def __init__(self) -> None:
        super().__init__("No articles indexed yet: run `qa ingest PATH` first.")


class ConfigError(QAError):
    """Settings that cannot work together (wrong embedding model for an index, bad URL, ...)."""


class ModelFileError(QAError):
    """A model file is missing or does not match its checksum."""


class StoreError(QAError):
    """The Chroma server (QA_CHROMA_URL) cannot be reached."""


class ModelError(QAError):
    """The chat model failed. A caller that cares why catches one of the subclasses."""


class ModelAuthError(ModelError):
    """The server rejected the key or refused access (HTTP 401/403)."""


class ModelNotServedError(ModelError):
    """The server does not have the model QA_MODEL names (HTTP 404)."""


class ModelUnavailableError(ModelError):
    """The server could not be reached, timed out, or failed (5xx) after the retries."""


class ModelRateLimitError(ModelError):
    """The server is rate limiting (HTTP 429) after the retries."""


class ModelReplyError(ModelError):
    """The server answered with something that is not a usable chat completion, or cut it off."""
