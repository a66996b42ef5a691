"""Make the `qa` package in /work/main importable when the tests run from a checkout."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import pytest  # noqa: E402

REFERENCE = ROOT / "examples" / "palmyra.txt"
FIGHTERS_Q = "How many ISIS fighters died in the battle for Palmyra?"
FIGHTERS_SENTENCE = "Observatory director Rami Abdulrahman said 400 ISIS fighters died in the battle for Palmyra,"
UNESCO_Q = "What status does UNESCO give Palmyra?"


@pytest.fixture(scope="session")
def palmyra(tmp_path_factory):
    """A library (real Chroma on disk, real embedding model) holding the reference article."""
    from qa.library import Library

    lib = Library(tmp_path_factory.mktemp("palmyra"))
    report = lib.ingest([REFERENCE])
    assert len(report.added) == 1, report
    return lib
