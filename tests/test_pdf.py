"""PDF ingestion on real PDFs written in the test by reportlab: reading order on a two-column page, line-end
hyphens, running headers and footers, page numbers in citations, scans, encrypted and broken files."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys

import pytest
from conftest import REFERENCE, ROOT, UNESCO_Q
from fake_openai import FakeOpenAI
from reportlab.lib import pdfencrypt
from reportlab.lib.enums import TA_JUSTIFY
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas
from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate, Paragraph

from qa import ingest, pdf, sentences
from qa.config import Settings
from qa.errors import InputError
from qa.library import Library

WIDTH, HEIGHT = A4
TITLE = "Flood waters recede across the Valencia region"
HEADER = "The Coastal Courier · World news"
# Two columns, drawn row by row across the page (as many layout programs write them), so only the words'
# positions tell the reading order. The first column's last sentence runs on into the second column.
LEFT = [
    "Flood waters began to recede across the",
    "Valencia region on Monday, three days after",
    "record rainfall swept away cars and cut off",
    "whole neighbourhoods from the city centre.",
    "",
    "Engineers said the recon-",
    "struction of the old harbour bridge would",
    "take at least two years, and the mayor met",
    "the regional president, Ximo al-",
    "Assad Puig, to ask for emergency funds that",
]
RIGHT = [
    "would pay for temporary crossings while the",
    "bridge is rebuilt.",
    "",
    "Farmers in the surrounding orchards counted",
    "the cost of ruined citrus harvests, which the",
    "growers' union put at forty million euros.",
    "",
    "Meteorologists warned that more storms could",
    "arrive later in the month as warm sea water",
    "keeps feeding heavy rain along the coast.",
]
PAGE2 = [
    "Emergency services said more than two hundred people had been rescued from rooftops",
    "and stranded vehicles since Friday night, and that the search would continue all week.",
    "",
    "The regional government announced an aid package for families whose homes were damaged.",
]
PAGE3 = [
    "The museum director said the flooded archive had lost about nine hundred maps, most of",
    "them drawn by hand in the eighteenth century.",
    "",
    "Volunteers dried the surviving papers in a sports hall near the port.",
]
MAPS_Q = "How many maps did the flooded archive lose?"


def _running(c: canvas.Canvas, page: int, pages: int) -> None:
    c.setFont("Helvetica", 8)
    c.drawString(72, HEIGHT - 36, HEADER)
    c.drawCentredString(WIDTH / 2, 30, f"Page {page} of {pages}")


def _column_lines(c: canvas.Canvas, rows: list[tuple[str, str]], y: float) -> None:
    c.setFont("Times-Roman", 11)
    for left, right in rows:
        c.drawString(72, y, left)
        c.drawString(WIDTH / 2 + 12, y, right)
        y -= 14


def _lines(c: canvas.Canvas, lines: list[str], y: float) -> None:
    c.setFont("Times-Roman", 11)
    for line in lines:
        c.drawString(72, y, line)
        y -= 14


def article_pdf() -> bytes:
    """Three pages: a title over two columns, then two single-column pages; a header and "Page N of 3" on each."""
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    _running(c, 1, 3)
    c.setFont("Helvetica-Bold", 20)
    c.drawString(72, HEIGHT - 90, TITLE)
    _column_lines(c, list(zip(LEFT, RIGHT)), HEIGHT - 130)
    c.showPage()
    for n, lines in ((2, PAGE2), (3, PAGE3)):
        _running(c, n, 3)
        _lines(c, lines, HEIGHT - 90)
        c.showPage()
    c.save()
    return buf.getvalue()


def flowing_pdf(paragraphs: list[str]) -> bytes:
    """Justified paragraphs laid out by reportlab's own engine in two columns, flowing from column to column
    and page to page, with a header and a page number on every page."""

    def running(c, doc):
        c.setFont("Helvetica", 8)
        c.drawString(72, HEIGHT - 40, HEADER)
        c.drawRightString(WIDTH - 72, 30, str(doc.page))

    style = getSampleStyleSheet()["BodyText"]
    style.alignment = TA_JUSTIFY
    width = (WIDTH - 144 - 18) / 2
    frames = [Frame(72, 72, width, HEIGHT - 144), Frame(72 + width + 18, 72, width, HEIGHT - 144)]
    buf = io.BytesIO()
    doc = BaseDocTemplate(buf, pagesize=A4, pageTemplates=[PageTemplate(frames=frames, onPage=running)])
    doc.build([Paragraph(p, style) for p in paragraphs])
    return buf.getvalue()


def scan_pdf(text_page: bool = False) -> bytes:
    """A page that is only a picture of text, as a scanner makes it: no text layer; after a page of text
    when text_page is set."""
    from PIL import Image, ImageDraw

    img = Image.new("L", (600, 200), 255)
    ImageDraw.Draw(img).text((20, 80), "Flood waters recede across the region", fill=0)
    png = io.BytesIO()
    img.save(png, format="PNG")
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    if text_page:
        _lines(c, PAGE2, HEIGHT - 90)
        c.showPage()
    c.drawImage(ImageReader(io.BytesIO(png.getvalue())), 72, HEIGHT - 300, 450, 150)
    c.showPage()
    c.save()
    return buf.getvalue()


def encrypted_pdf() -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, encrypt=pdfencrypt.StandardEncryption("secret", canPrint=0))
    _lines(c, PAGE2, HEIGHT - 90)
    c.save()
    return buf.getvalue()


@pytest.fixture(scope="module")
def article():
    return pdf.from_pdf(article_pdf(), "courier.pdf")


def test_title_is_the_headline_not_the_running_header(article):
    assert article.title == TITLE


def test_two_columns_read_column_by_column(article):
    text = article.text
    first, second = "three days after record rainfall", "Farmers in the surrounding orchards counted the cost"
    assert first in text and second in text
    assert text.index(first) < text.index("would pay for temporary crossings") < text.index(second)
    # the sentence that runs from the bottom of the first column into the second stays one sentence
    assert "to ask for emergency funds that would pay for temporary crossings while the bridge is rebuilt." in text


def test_line_end_hyphens_joined_but_real_hyphens_kept(article):
    assert "the reconstruction of the old harbour bridge" in article.text
    assert "recon-" not in article.text and "recon struction" not in article.text
    assert "Ximo al-Assad Puig" in article.text


def test_running_header_and_footer_left_out(article):
    assert "Coastal Courier" not in article.text
    assert "Page" not in article.text and "of 3" not in article.text


def test_page_map_gives_each_sentence_its_page(article):
    assert len(article.pages) == 3 and article.pages[0] == 0
    pages = {article.text[s:e]: pdf.page_of(article.pages, s) for s, e in sentences.spans(article.text)}
    assert pages["Volunteers dried the surviving papers in a sports hall near the port."] == 3
    assert pages["The regional government announced an aid package for families whose homes were damaged."] == 2
    assert [p for t, p in pages.items() if t.startswith("Flood waters began")] == [1]


def test_columns_laid_out_by_a_layout_engine_keep_every_paragraph_whole():
    paragraphs = [
        f"Day {i}: " + " ".join(f"On day {i} the council heard report {j} on the flooded bridges." for j in range(6))
        for i in range(24)
    ]
    article = pdf.from_pdf(flowing_pdf(paragraphs), "flowing.pdf")
    assert article.text.split("\n\n") == paragraphs
    assert len(article.pages) == 2 and HEADER not in article.text
    second = article.pages[1]
    assert 0 < second < len(article.text) and pdf.page_of(article.pages, len(article.text) - 1) == 2


def test_page_of_on_edges():
    assert [pdf.page_of((0, 10, 10, 30), o) for o in (0, 9, 10, 29, 30, 99)] == [1, 1, 3, 3, 4, 4]


def test_scanned_pdf_is_refused_in_one_line(tmp_path):
    msg = _error(tmp_path, "scan.pdf", scan_pdf())
    assert "no text layer (a scan?)" in msg and "OCR" in msg and "scan.pdf" in msg


def test_scanned_page_after_a_page_of_text_is_left_out():
    article = pdf.from_pdf(scan_pdf(text_page=True), "mixed.pdf")
    assert article.text.startswith("Emergency services said") and "aid package" in article.text
    assert article.pages == (0, len(article.text))  # the scanned page adds no text


def test_encrypted_pdf_is_refused_in_one_line(tmp_path):
    msg = _error(tmp_path, "locked.pdf", encrypted_pdf())
    assert "encrypted" in msg and "unprotected copy" in msg


@pytest.mark.parametrize("raw", [article_pdf()[:900], b"%PDF-1.7\n" + b"\x00garbage" * 50, b"not a pdf at all"])
def test_broken_pdf_is_refused_in_one_line(tmp_path, raw):
    msg = _error(tmp_path, "broken.pdf", raw)
    assert "not a readable PDF" in msg and "broken.pdf" in msg


def test_pdf_over_the_size_limit_is_refused(tmp_path):
    path = tmp_path / "big.pdf"
    path.write_bytes(article_pdf())
    with pytest.raises(InputError, match="byte limit"):
        list(ingest.read(str(path), Settings(data_dir=tmp_path, max_file_bytes=1_000)))


def _error(tmp_path, name: str, raw: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(raw)
    with pytest.raises(InputError) as e:
        list(ingest.read(str(path), Settings(data_dir=tmp_path)))
    msg = str(e.value)
    assert "\n" not in msg
    return msg


def _qa(*args, data_dir):
    env = {**os.environ, "QA_DATA_DIR": str(data_dir), "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "qa.cli", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


@pytest.mark.e2e
def test_ingest_and_ask_cite_the_page(tmp_path):
    path = tmp_path / "courier.pdf"
    path.write_bytes(article_pdf())
    out = _qa("ingest", path, data_dir=tmp_path / "data")
    assert out.returncode == 0 and out.stdout.startswith("added"), out.stderr
    out = _qa("ask", MAPS_Q, data_dir=tmp_path / "data")
    assert out.returncode == 0, out.stderr
    first, _, rest = out.stdout.partition("\n")
    assert "nine" in first and first.endswith("[1]")
    assert "[1] The museum director said the flooded archive had lost about nine hundred maps" in rest
    assert "· p. 3 · chars" in rest.partition("\n\n")[0].split("[2]")[0]
    data = json.loads(_qa("ask", MAPS_Q, "--json", data_dir=tmp_path / "data").stdout)
    assert data["citations"][0]["page"] == 3
    assert {c["page"] for c in data["candidates"]} <= {1, 2, 3}
    docs = json.loads(_qa("docs", "--json", data_dir=tmp_path / "data").stdout)
    assert docs[0]["title"] == TITLE and len(docs[0]["pages"]) == 3


@pytest.mark.e2e
def test_pages_in_citations_of_both_modes_and_none_for_other_articles(tmp_path):
    path = tmp_path / "courier.pdf"
    path.write_bytes(article_pdf())
    lib = Library(tmp_path / "data")
    assert len(lib.ingest([path, REFERENCE]).added) == 2
    assert lib.ask(UNESCO_Q).citations[0].page is None  # a text file has no pages
    [pdf] = [d for d in lib.documents() if d.pages]
    summary = lib.summarize(
        [pdf.doc_id], sentences=pdf.sentences
    )  # every page's sentences (a summary leads with page 1)
    source = {1: " ".join(LEFT + RIGHT), 2: " ".join(PAGE2), 3: " ".join(PAGE3)}  # what was drawn on each page
    assert all(" ".join(c.text.split()[:3]) in source[c.page] for c in summary.citations)
    assert len({c.page for c in summary.citations}) > 1
    with FakeOpenAI() as server:
        key = os.environ["OPENAI_API_KEY"]
        settings = Settings(
            data_dir=tmp_path / "data",
            mode="llm",
            model="test-model",
            openai_base_url=server.url,
            openai_api_key=key,
            llm_retries=1,
        )
        llm = Library(settings=settings)
        for stream in (False, True):
            server.reply(lambda b: _claim_on(b, "nine hundred maps", stream), stream_chunks=3 if stream else 0)
            ans = list(llm.ask_stream(MAPS_Q))[-1]["answer"] if stream else llm.ask(MAPS_Q)
            assert ans.mode == "llm" and [c.page for c in ans.citations] == [3]


def _claim_on(body: dict, fragment: str, text_form: bool) -> str:
    """The scripted model's reply: one claim citing the evidence key of the sentence holding `fragment`."""
    user = body["messages"][-1]["content"]
    key = next(k for k, line in re.findall(r"^\[(S\d+)\] (.*)$", user, re.M) if fragment in line)
    claim = "The archive lost about nine hundred maps."
    return (
        f"{claim} [{key}]" if text_form else json.dumps({"abstain": False, "claims": [{"text": claim, "keys": [key]}]})
    )
