"""The page in a real browser (Debian's chromium driven by Playwright) against `python app.py`: a new
user's first answer with its sentence highlighted, chips, and a hostile article that must run nothing.

Prints the time to first answer (process start -> page loaded -> article uploaded -> answer shown). The README's
picture of the page answering is written by this test when asked:
`python -m pytest tests/test_browser.py --screenshot docs/screenshot.png`."""

import io
import os
import re
import time
from pathlib import Path

import pytest
from conftest import CHROMIUM, CHROMIUM_ARGS, FIGHTERS_Q, FIGHTERS_SENTENCE, REFERENCE, UNESCO_Q, app_server

pytestmark = pytest.mark.e2e  # the real model, Chroma, page or browser

WAIT = 60_000  # ms: generous, two cores run the server, the browser and another test worker

HOSTILE_HTML = """<html><head><title>&lt;img src=x onerror=alert(3)&gt; Harbour council letters</title>
<script>window.pwned = "head"; alert("head")</script></head>
<body><article>
<h1>&lt;img src=x onerror=alert(3)&gt; Harbour council letters</h1>
<p>The harbour council met on Tuesday to discuss the budget and the new ferry timetable for the summer season.</p>
<p>A reader sent the text &lt;script&gt;alert(1)&lt;/script&gt; to the newsroom as a prank during the council meeting.</p>
<script>window.pwned = "body"; alert(5)</script>
<p>Another reader sent &lt;img src=x onerror=window.pwned=2&gt; which the editors printed in the letters page.</p>
<p>The mayor said the ferry timetable would be published next week after the budget vote.</p>
</article></body></html>
"""

if not os.path.exists(CHROMIUM):
    if os.environ.get("CI"):
        raise RuntimeError(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium with apt")
    pytest.skip("no chromium (apt-get install -y chromium)", allow_module_level=True)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def upload(page, path):
    page.get_by_role("tab", name="Library").click()
    page.locator("#upload input[type=file]").set_input_files(str(path))


def ask(page, question):
    page.get_by_role("tab", name="Ask").click()
    page.locator("#question textarea").fill(question)
    page.locator("#ask").click()


def save_picture(png: bytes, path) -> None:
    """Write the screenshot, unless the one there shows the same page: anti-aliasing differs by a few
    pixels between runs, and a test run should leave the work tree clean."""
    from PIL import Image, ImageChops

    if path.exists():
        old, new = (Image.open(io.BytesIO(p)).convert("RGB") for p in (path.read_bytes(), png))
        if old.size == new.size:
            changed = old.width * old.height - ImageChops.difference(old, new).convert("L").histogram()[0]
            if changed < old.width * old.height / 500:
                return
    path.write_bytes(png)


def test_first_answer_highlighted_and_hostile_article_inert(browser, tmp_path, request):
    from playwright.sync_api import expect

    started = time.monotonic()
    with app_server(tmp_path / "data", tmp_path / "server.log") as url:
        up = time.monotonic()
        page = browser.new_page(viewport={"width": 1280, "height": 860})
        dialogs = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(url)
        expect(page.locator("#add-example")).to_be_visible(timeout=WAIT)  # the empty library's offer
        expect(page.get_by_role("tab")).to_have_text(["Ask", "Summarize", "Library"])
        loaded = time.monotonic()

        upload(page, REFERENCE)
        expect(page.locator("#ingest-status")).to_contain_text("Added: Syrian forces retake", timeout=WAIT)
        expect(page.locator("#add-example")).to_be_hidden()
        uploaded = time.monotonic()

        ask(page, FIGHTERS_Q)
        expect(page.locator("#transcript .claim").first).to_contain_text("400", timeout=WAIT)
        focus = page.locator("#article-view mark.focus")
        expect(focus).to_contain_text(FIGHTERS_SENTENCE, timeout=WAIT)
        expect(focus).to_be_in_viewport()
        answered = time.monotonic()
        print(
            f"\ntime to first answer: {answered - started:.1f} s (server up {up - started:.1f} s, page loaded "
            f"{loaded - up:.1f} s, upload {uploaded - loaded:.1f} s, answer {answered - uploaded:.1f} s)"
        )
        expect(page.locator("#transcript .badge").first).to_have_text(
            re.compile(r"(supported|may answer) · p \d\.\d\d")
        )
        page.mouse.move(0, 0)  # no hover, no focus ring, settled scroll: the same picture every run
        page.evaluate("document.activeElement && document.activeElement.blur()")
        page.wait_for_timeout(500)
        picture = page.screenshot()
        assert picture[:8] == b"\x89PNG\r\n\x1a\n"
        if request.config.getoption("--screenshot"):  # an explicit command writes the README's picture
            save_picture(picture, Path(request.config.getoption("--screenshot")))

        # a chip of an older answer brings its sentence back
        ask(page, UNESCO_Q)
        expect(focus).to_contain_text("outstanding universal value", timeout=WAIT)
        page.locator("#transcript .turn").first.locator("button.chip").first.click()
        expect(focus).to_contain_text(FIGHTERS_SENTENCE, timeout=WAIT)
        expect(focus).to_be_in_viewport()

        # a summary: each sentence with its chip, all of them marked in the article
        page.get_by_role("tab", name="Summarize").click()
        page.locator("#summarize").click()
        expect(page.locator("#summary .claim")).to_have_count(5, timeout=WAIT)
        expect(page.locator("#summary .claim button.chip")).to_have_count(5)
        expect(page.locator("#article-view mark.hl")).to_have_count(5)

        # a hostile article, and a hostile question: shown as text, nothing runs
        hostile = tmp_path / "hostile.html"
        hostile.write_text(HOSTILE_HTML)
        upload(page, hostile)
        expect(page.locator("#ingest-status")).to_contain_text(
            "Added: <img src=x onerror=alert(3)> Harbour", timeout=WAIT
        )
        expect(page.locator("#documents")).to_contain_text("<img src=x onerror=alert(3)>")
        ask(page, "What did a reader send to the newsroom? <img src=x onerror=alert(4)>")
        view = page.locator("#article-view")
        expect(view).to_contain_text("sent the text <script>alert(1)</script> to the newsroom", timeout=WAIT)
        expect(view).to_contain_text("<img src=x onerror=window.pwned=2>")
        expect(page.locator("#transcript")).to_contain_text("<img src=x onerror=alert(4)>")
        page.wait_for_timeout(500)  # time for an injected handler to fire, if there were one
        assert view.locator("img, script").count() == 0
        assert page.locator("#transcript img, #transcript script, img[onerror]").count() == 0
        assert page.evaluate("window.pwned") is None
        assert dialogs == []
        page.close()


def test_a_read_only_page_shows_no_way_to_add_or_delete(browser, tmp_path):
    from playwright.sync_api import expect

    with app_server(tmp_path / "data", tmp_path / "server.log", QA_PAGE_READONLY="true") as url:
        page = browser.new_page()
        page.goto(url)
        expect(page.locator("#question textarea")).to_be_visible(timeout=WAIT)
        page.get_by_role("tab", name="Library").click()
        expect(page.locator("#documents")).to_be_visible(timeout=WAIT)
        expect(page.locator("#upload")).to_be_hidden(timeout=WAIT)
        expect(page.locator("#delete")).to_be_hidden()
        expect(page.locator("#add-example")).to_be_hidden()
        page.close()


def test_asking_an_empty_library_is_one_message_in_the_chat(browser, tmp_path):
    """A user error is a turn of the chat (the question and what to do), and no panel shows a bare "Error"."""
    from playwright.sync_api import expect

    with app_server(tmp_path / "data", tmp_path / "server.log") as url:
        page = browser.new_page()
        page.goto(url)
        expect(page.locator("#add-example")).to_be_visible(timeout=WAIT)
        ask(page, "Who won the <b>match</b>?")
        turn = page.locator("#transcript .turn.error")
        expect(turn).to_have_count(1, timeout=WAIT)
        expect(turn.locator(".question")).to_have_text("Who won the <b>match</b>?")  # escaped, as typed
        expect(turn.locator(".qa-error")).to_have_text(
            "No articles yet: add the example article, or upload one under Library."
        )
        page.get_by_role("tab", name="Summarize").click()
        page.locator("#summarize").click()
        expect(page.locator("#summary .qa-error")).to_contain_text("No articles yet", timeout=WAIT)
        page.wait_for_timeout(1000)  # time for a toast or an error badge, if there were one
        page.get_by_role("tab", name="Ask").click()
        expect(page.locator("#transcript .turn")).to_have_count(1)
        assert "Error" not in page.locator("body").inner_text()
        assert page.locator("#transcript b, .toast-body").count() == 0
        page.close()


def test_follow_up_and_copy_with_sources(browser, tmp_path):
    """The chat passes its history (the follow-up is shown as asked), and Copy puts the answer with its
    numbered sources on the clipboard as Markdown: what `qa ask --format markdown` prints."""
    from playwright.sync_api import expect

    with app_server(tmp_path / "data", tmp_path / "server.log") as url:
        context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
        page = context.new_page()
        page.goto(url)
        page.locator("#add-example").click(timeout=WAIT)
        expect(page.locator("#add-example")).to_be_hidden(timeout=WAIT)
        ask(page, FIGHTERS_Q)
        expect(page.locator("#transcript .claim").first).to_contain_text("400", timeout=WAIT)
        ask(page, "Who said so?")
        second = page.locator("#transcript .turn").nth(1)
        expect(second.locator(".claim")).to_contain_text("Abdulrahman", timeout=WAIT)
        expect(second.locator(".asked-as")).to_have_text("asked as: Who said so? (ISIS fighters died battle Palmyra)")

        button = page.locator("#transcript .turn").first.locator("button.copy")
        button.click()
        expect(button).to_have_text("Copied")
        copied = page.evaluate("navigator.clipboard.readText()")
        assert copied == button.get_attribute("data-copy")
        assert copied.startswith(f"**Q: {FIGHTERS_Q}**\n\n") and "\nSources:\n\n1. “" + FIGHTERS_SENTENCE in copied
        assert "*Syrian forces retake ancient city of Palmyra from ISIS*, palmyra.txt (sentence `" in copied

        page.get_by_role("tab", name="Summarize").click()
        page.locator("#summarize").click()
        summary_copy = page.locator("#summary button.copy")
        summary_copy.click(timeout=WAIT)
        expect(summary_copy).to_have_text("Copied")
        copied = page.evaluate("navigator.clipboard.readText()")
        assert copied.startswith("**Summary of Syrian forces retake ancient city of Palmyra from ISIS**\n\n")
        assert [ln[:3] for ln in copied.split("Sources:\n\n")[1].splitlines()] == ["1. ", "2. ", "3. ", "4. ", "5. "]
        context.close()


NFL_Q = (  # a MultiHop-RAG question (test split) that the reader is sure of
    "Which NFL team, featured in both CBSSports.com and Sporting News articles, has recently adjusted their "
    "offensive strategy by decreasing their passing play percentage and has seen similar offensive results with a "
    "new quarterback as they did with their previous one, thanks to contributions from their running game and defense?"
)
THREE_OUTCOMES = {  # question -> what the reader makes of it in a library of MultiHop-RAG's evidence and Palmyra
    NFL_Q: "supported",
    FIGHTERS_Q: "may answer",  # it answers, but the reader's probability is under its "supported" threshold
    "How many Syrian soldiers died in the battle?": "abstain",  # the 400 who died were ISIS fighters
}


def test_the_three_outcomes_each_with_its_probability(browser, tmp_path):
    """The reader's three outcomes as the page shows them, each with the probability that `/ask` gives for
    the same question: supported, may answer (read the sentence), and "The articles do not say." with the
    nearest sentences. The library: MultiHop-RAG's evidence articles (../shared/data) and the reference."""
    from gradio_client import Client
    from playwright.sync_api import expect

    from bench import data as sets
    from qa import reader_model
    from qa.library import Library

    try:
        _, truth = sets.multihop(sets.find_data())
    except SystemExit:
        pytest.skip("the public benchmark data (../shared/data) is not here")
    lib = Library(tmp_path / "data")
    assert lib.ingest([*sets.multihop_articles(truth.values()), REFERENCE]).added
    del lib
    thresholds = reader_model.load()
    with app_server(tmp_path / "data", tmp_path / "server.log") as url:
        page = browser.new_page()
        page.goto(url)
        client = Client(url, verbose=False)
        for n, (question, outcome) in enumerate(THREE_OUTCOMES.items()):
            got = client.predict(question, api_name="/ask")
            ask(page, question)
            turn = page.locator("#transcript .turn").nth(n)
            if outcome == "abstain":
                assert got["abstained"] and got["candidates"], got
                expect(turn.locator(".abstain")).to_have_text(
                    f"The articles do not say. (best candidate: p {got['probability']:.2f})", timeout=WAIT
                )
                expect(turn.locator(".sources li")).to_have_count(len(got["candidates"]))
            else:
                assert not got["abstained"], got
                [claim] = got["claims"]
                expect(turn.locator(".badge")).to_have_text(f"{outcome} · p {claim['probability']:.2f}", timeout=WAIT)
                assert (claim["probability"] >= thresholds.supported) == (outcome == "supported")
        page.close()
