"""Errors a user can act on. Each message says what to do next; the CLI and the page show it as is."""


class QAError(Exception):
    """Base class: anything the user can fix. The message is one line and names the fix."""


class InputError(QAError):
    """An article could not be read: empty, binary, too large, malformed, unreachable."""


class NotFoundError(QAError):
    """A document id or file that does not exist."""


class EmptyLibraryError(QAError):
    def __init__(self) -> None:
        super().__init__("No articles indexed yet: run `qa ingest PATH` first.")


class ConfigError(QAError):
    """Settings that cannot work together (wrong embedding model for an index, bad URL, ...)."""


class ModelFileError(QAError):
    """A model file is missing or does not match its checksum."""


class ModelError(QAError):
    """The chat model failed: rejected key, unreachable server, unknown model, timeout, garbage."""


class StoreError(QAError):
    """The Chroma server (QA_CHROMA_URL) cannot be reached."""
