"""`python -m models.report DIR --html --pdf`: a self-contained report.html and a report.pdf
(WeasyPrint) of a real run folder, each caption once, and one line when a dependency is
missing."""

from __future__ import annotations

import builtins
import json
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from models import report as report_cli
from models import softmax_regression

ROOT = Path(__file__).resolve().parents[1]


def _need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.skip(f"{tool} is missing (apt-get install poppler-utils)")
    return path


def _need_weasyprint() -> None:
    try:
        report_cli._weasyprint()
    except SystemExit as e:  # installed with '.[dev]'; only Debian's pango may be absent
        if "pango" in str(e) and "not installed" not in str(e):
            pytest.skip(str(e))
        raise


class _Page(HTMLParser):
    """The parts of an HTML page the tests look at."""

    def __init__(self):
        super().__init__()
        self.text: list[str] = []
        self.links: list[tuple[str, str, str]] = []  # (tag, attribute, value)
        self.figcaptions = 0
        self.tables = 0
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        self.links += [(tag, k, v or "") for k, v in attrs if k in ("src", "href", "srcset")]
        self.figcaptions += tag == "figcaption"
        self.tables += tag == "table"
        self._skip += tag in ("style", "script")

    def handle_endtag(self, tag):
        self._skip -= tag in ("style", "script")

    def handle_data(self, data):
        if not self._skip:
            self.text.append(data)

    def visible(self) -> str:
        return " ".join(" ".join(self.text).split())


def _parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("softmax_run")
    softmax_regression.main(["--dataset", "sample", "--epochs", "1", "--out", str(out),
                             "--no-progress"])
    return out


@pytest.fixture(scope="module")
def report(run):
    return json.loads((run / "report.json").read_text())


@pytest.fixture(scope="module")
def html(run):
    report_cli.main([str(run), "--html"])
    return (run / "report.html").read_text(encoding="utf-8")


def test_without_flags_only_the_markdown_is_rebuilt(tmp_path, run):
    shutil.copy(run / "report.json", tmp_path / "report.json")
    report_cli.main([str(tmp_path)])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json", "report.md"]


def test_html_is_self_contained(html):
    page = _parse(html)
    srcs = [v for tag, attr, v in page.links if tag == "img"]
    assert srcs and all(src.startswith("data:image/") for src in srcs)
    assert [link for link in page.links if not link[2].startswith("data:")] == []
    assert "url(" not in html and "@import" not in html  # no external CSS either


def test_html_shows_each_caption_once_as_a_figcaption(html, report):
    page = _parse(html)
    text = page.visible()
    assert report["pictures"]
    assert page.figcaptions == len(report["pictures"])
    for pic in report["pictures"]:
        assert text.count(pic["caption"]) == 1, pic["caption"]
    assert "<h3" not in html  # report.md's "### caption" headings are gone


def test_html_has_the_results_and_settings_tables(html, report):
    page = _parse(html)
    assert page.tables >= 2
    results = html[html.index(">Results</h2>"):]
    results = results[:results.index("</table>")]
    assert "<th>cross-entropy</th>" in results and "<th>accuracy</th>" in results
    for split in ("train", "val", "test"):
        row = (f"<td>{split}</td>\n<td>{report_cli._fmt(report[f'{split}_loss'])}</td>\n"
               f"<td>{report_cli._fmt(report[f'{split}_accuracy'])}</td>")
        assert row in results
    assert "print" in html and "A4" in html  # the print CSS


def test_png_wins_over_svg_of_the_same_stem(tmp_path):
    svg = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'
    (tmp_path / "graph.svg").write_text(svg)
    (tmp_path / "only.svg").write_text(svg)
    _tiny_png(tmp_path / "graph.png")
    report = {"model": "m", "pictures": [
        {"file": "graph.svg", "caption": "The graph"},
        {"file": "only.svg", "caption": "Only an SVG"},
        {"file": "gone.png", "caption": "A lost picture"}]}
    html = report_cli.render_html(report, tmp_path)
    srcs = [v for tag, _, v in _parse(html).links if tag == "img"]
    assert len(srcs) == 2
    assert srcs[0].startswith("data:image/png;base64,")
    assert srcs[1].startswith("data:image/svg+xml;base64,")
    assert "gone.png is missing" in html
    text = _parse(html).visible()
    assert all(text.count(c) == 1 for c in ("The graph", "Only an SVG", "A lost picture"))


def _tiny_png(path: Path) -> None:
    import matplotlib.image
    import numpy as np

    matplotlib.image.imsave(path, np.zeros((4, 4)))


def test_pdf_pages_captions_and_a_picture_that_is_not_blank(run, report, tmp_path):
    _need_weasyprint()
    pdfinfo, pdftotext, pdftoppm = _need("pdfinfo"), _need("pdftotext"), _need("pdftoppm")
    report_cli.main([str(run), "--pdf", "--html"])
    pdf = run / "report.pdf"
    assert pdf.is_file() and pdf.read_bytes().startswith(b"%PDF")
    assert (run / "report.html").is_file()

    info = subprocess.run([pdfinfo, str(pdf)], capture_output=True, text=True, check=True)
    pages = int(re.search(r"^Pages:\s+(\d+)", info.stdout, re.M).group(1))
    assert "A4" in info.stdout
    assert 2 <= pages <= 4  # 3 with DejaVu Sans: tables, then the pictures over two pages

    text = subprocess.run([pdftotext, "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    text = " ".join(text.replace("\u2019", "'").split())
    for pic in report["pictures"]:
        assert text.count(pic["caption"]) == 1, pic["caption"]
    assert "cross-entropy" in text and "Results" in text

    subprocess.run([pdftoppm, "-png", "-r", "50", "-f", "1", "-l", "1", str(pdf),
                    str(tmp_path / "page")], check=True)
    (png,) = tmp_path.glob("page*.png")
    import matplotlib.image

    pixels = matplotlib.image.imread(png)[..., :3]
    inked = (pixels.min(axis=-1) < 0.9).mean()
    assert 0.01 < inked < 0.6, inked  # text and table lines, on a white page


def test_missing_weasyprint_is_one_line(monkeypatch, run):
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # import weasyprint -> ImportError
    with pytest.raises(SystemExit) as e:
        report_cli.main([str(run), "--pdf"])
    message = str(e.value.code)
    assert "\n" not in message
    assert "pip install -e '.[report]'" in message and "apt-get install libpango" in message


def test_missing_pango_is_one_line(monkeypatch, run, capsys):
    real_import = builtins.__import__

    def failing_import(name, *args, **kwargs):
        if name == "weasyprint":
            print("\n-----\n\nWeasyPrint could not import some external libraries.\n-----\n")
            raise OSError("cannot load library 'libgobject-2.0-0': error 0x7e.\nmore")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", failing_import)
    with pytest.raises(SystemExit) as e:
        report_cli.main([str(run), "--pdf"])
    message = str(e.value.code)
    assert "\n" not in message
    assert "apt-get install libpango-1.0-0 libpangoft2-1.0-0" in message
    assert "libgobject" in message
    assert capsys.readouterr().out == ""  # WeasyPrint's banner is swallowed


def test_missing_markdown_is_one_line(monkeypatch, run):
    monkeypatch.setitem(sys.modules, "markdown", None)
    with pytest.raises(SystemExit, match=r"pip install -e '\.\[report\]'"):
        report_cli.main([str(run), "--html"])


def test_cli_says_one_line_and_exits_1_without_a_traceback(tmp_path):
    code = ("import sys; sys.modules['weasyprint'] = None; "
            "from models.report import main; main(sys.argv[1:])")
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path), "--pdf"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert "pip install -e '.[report]'" in done.stderr
    # and a missing report.json stays one line too
    done = subprocess.run([sys.executable, "-m", "models.report", str(tmp_path / "nope")],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.strip() == (f"models.report: {tmp_path / 'nope' / 'report.json'} "
                                   "does not exist (run the model first)")
