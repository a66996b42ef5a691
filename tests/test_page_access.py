"""A page that can be shared: a login in front of the page and its API (QA_PAGE_AUTH), read-only mode
(QA_PAGE_READONLY) that hides and refuses adding and deleting, Gradio's server variables, and the warning
a page open to a network without either prints. Real `python app.py` servers, gradio_client and chromium."""

import shutil

import httpx
import pytest
from conftest import FIGHTERS_Q, REFERENCE, app_server, free_port, run_qa

pytestmark = pytest.mark.e2e  # the real model, Chroma, page or browser


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    """A data dir holding the reference article (copied per server, so no test changes another's)."""
    d = tmp_path_factory.mktemp("shared") / "data"
    out = run_qa("ingest", REFERENCE, QA_DATA_DIR=d)
    assert out.returncode == 0, out.stderr
    return d


def _copy(library, tmp_path):
    shutil.copytree(library, tmp_path / "data")
    return tmp_path / "data"


def test_page_user_writes_a_hash_never_the_password(tmp_path):
    users = tmp_path / "users"
    out = run_qa("page-user", "ana", "--file", users, "--password", "s3cret-pass", "--editor")
    assert out.returncode == 0, out.stderr
    line = users.read_text()
    assert line.startswith("ana:pbkdf2_sha256$") and line.strip().endswith(":editor") and "s3cret-pass" not in line
    assert oct(users.stat().st_mode & 0o777) == "0o600"


def test_without_credentials_the_page_and_ask_are_refused(library, tmp_path):
    from gradio_client import Client

    users = tmp_path / "users"
    assert run_qa("page-user", "ana", "--file", users, "--password", "s3cret-pass").returncode == 0
    with app_server(_copy(library, tmp_path), tmp_path / "log", QA_PAGE_AUTH=users) as url:
        assert "auth_required" in httpx.get(url, timeout=10).text  # the login form, not the app
        for refused in (
            httpx.get(url + "config", timeout=10),
            httpx.post(url + "gradio_api/call/ask", json={"data": [FIGHTERS_Q]}, timeout=10),
        ):
            assert refused.status_code == 401 and "Not authenticated" in refused.text
        with pytest.raises(Exception):
            Client(url, verbose=False).predict(FIGHTERS_Q, api_name="/ask")
        with pytest.raises(Exception):
            Client(url, auth=("ana", "wrong-pass"), verbose=False)
        answer = Client(url, auth=("ana", "s3cret-pass"), verbose=False).predict(FIGHTERS_Q, api_name="/ask")
        assert "400" in answer["answer"]


def test_read_only_refuses_ingest_and_delete_and_changes_nothing(library, tmp_path):
    from gradio_client import Client

    data = _copy(library, tmp_path)
    before = run_qa("docs", "--json", QA_DATA_DIR=data).stdout
    with app_server(data, tmp_path / "log", QA_PAGE_READONLY="true") as url:
        client = Client(url, verbose=False)
        with pytest.raises(Exception, match="read-only"):
            client.predict(
                None, "", "A new article about ferries and harbours on the island.", "Ferries", api_name="/ingest"
            )
        assert "400" in client.predict(FIGHTERS_Q, api_name="/ask")["answer"]  # asking still works
    assert run_qa("docs", "--json", QA_DATA_DIR=data).stdout == before


def test_read_only_handlers_refuse_in_process(tmp_path):
    from qa.config import Settings
    from qa.library import Library
    from qa.web.access import Access
    from qa.web.handlers import Page, gr

    lib = Library(tmp_path / "data", Settings(mode="extractive"))
    lib.ingest([REFERENCE])
    page = Page(lib, access=Access(readonly=True))
    doc = lib.documents()[0].doc_id
    for call in (
        lambda: page.remove(doc),
        lambda: page.add_text("Some text about a ferry and a pier.", ""),
        page.add_example,
        lambda: page.add_files([str(REFERENCE)]),
    ):
        status, *rest = call()  # the refusal in the status line, nothing else changed
        assert "read-only" in status and 'class="qa-error"' in status and rest == [gr.update()] * 5
    assert [d.doc_id for d in lib.documents()] == [doc]
    assert [u["visible"] for u in page.write_controls()] == [False, False, False]


def test_gradio_server_variables_and_flags_first(library, tmp_path):
    port, other = free_port(), free_port()
    with app_server(_copy(library, tmp_path), tmp_path / "log", args=[], port=port, GRADIO_SERVER_PORT=port) as url:
        assert httpx.get(url, timeout=10).status_code == 200
    with app_server(
        tmp_path / "data", tmp_path / "log2", args=["--port", str(other)], port=other, GRADIO_SERVER_PORT=port
    ) as url:
        assert url.endswith(f":{other}/") and httpx.get(url, timeout=10).status_code == 200
    with app_server(tmp_path / "data", tmp_path / "log3", GRADIO_ROOT_PATH="/qa") as url:
        assert '"root":' in httpx.get(url + "config", timeout=10).text.replace(" ", "")
        assert "/qa" in httpx.get(url + "config", timeout=10).json()["root"]


def test_a_page_open_to_the_network_without_login_warns(library, tmp_path):
    port = free_port()
    with app_server(
        _copy(library, tmp_path), tmp_path / "log", args=["--host", "0.0.0.0", "--port", str(port)], port=port
    ):
        pass
    assert "Warning: the page listens on 0.0.0.0 with no login and no read-only mode" in (tmp_path / "log").read_text()
