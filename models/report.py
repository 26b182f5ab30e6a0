"""report.md, a homework-style report rendered from a run's report.json (settings, results,
the derivation check, every picture, notes); `python -m models.report DIR...` rebuilds it.

With --html it also writes DIR/report.html, one self-contained file (pictures inlined) that
prints from a browser; with --pdf, DIR/report.pdf. Both need pip install -e '.[report]'
(markdown, WeasyPrint); the PDF also needs Debian's pango (apt-get install
libpango-1.0-0 libpangoft2-1.0-0)."""

from __future__ import annotations

import argparse
import base64
import contextlib
import html
import io
import json
import math
import mimetypes
import numbers
from pathlib import Path
from typing import Any

METRICS = ("loss", "accuracy")
SPLITS = ("train", "val", "test")


def _fmt(value: Any) -> str:
    """One cell or list item: floats to 4 decimals in [1e-3, 1e4), else 4 significant digits;
    None and NaN as a dash; lists and tuples element by element, by the same rule."""
    if value is None:
        return "–"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    if isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral):
        value = float(value)
        if math.isnan(value):
            return "–"
        return f"{value:.4f}" if 1e-3 <= abs(value) < 1e4 else f"{value:.4g}"
    return str(value)


def _labels(columns: list[str]) -> list[str]:
    """The column headers, none of them blank: a blank first column (row names, as in a
    matrix) is "row", any other blank one "column i"."""
    return [str(c) if str(c).strip() else ("row" if i == 0 else f"column {i + 1}")
            for i, c in enumerate(columns)]


def _table(columns: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(_labels(columns)) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_fmt(v) for v in row) + " |" for row in rows]
    return lines + [""]


def text_table(columns: list[str], rows: list[list[Any]], indent: str = "  ") -> str:
    """The same table as plain aligned text, for the console."""
    cells = [_labels(columns)] + [[_fmt(v) for v in row] for row in rows]
    widths = [max(len(str(row[i])) for row in cells) for i in range(len(columns))]
    lines = [indent + "  ".join(str(v).ljust(w) for v, w in zip(row, widths)).rstrip()
             for row in cells]
    lines.insert(1, indent + "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _settings(report: dict) -> list[str]:
    rows = [["dataset", report.get("dataset")]]
    rows += [[k, report.get(k)] for k in ("n_train", "n_val", "n_test") if k in report]
    rows += [[k, v] for k, v in sorted(report.get("hyperparameters", {}).items())]
    return ["## Settings", ""] + _table(["setting", "value"], rows)


def _results(report: dict) -> list[str]:
    rows = [[split] + [report.get(f"{split}_{m}") for m in METRICS] for split in SPLITS
            if any(f"{split}_{m}" in report for m in METRICS)]
    lines = ["## Results", ""]
    if rows:
        lines += _table(["split", report.get("loss_name", "cross-entropy"), "accuracy"], rows)
    facts = [("epochs run", "epochs_run"), ("stopped early at epoch", "stopped_early_at"),
             ("best epoch", "best_epoch"), ("training time (s)", "training_seconds"),
             ("total time (s)", "seconds")]
    lines += [f"- {label}: {_fmt(report[key])}" for label, key in facts if key in report]
    return lines + [""]


def _extra_tables(report: dict) -> list[str]:
    lines: list[str] = []
    for title, table in report.get("tables", {}).items():
        lines += [f"## {title}", ""] + _table(table["columns"], table["rows"])
    return lines


def _derivation(report: dict) -> list[str]:
    check = report.get("derivation_check")
    if not check:
        return []
    lines = ["## Derivation check: autodiff against the hand formula", ""]
    if isinstance(check, dict):
        lines += [f"- {k}: {_fmt(v)}" for k, v in check.items()]
    else:
        lines.append(str(check))
    return lines + [""]


def _pictures(report: dict) -> list[str]:
    lines: list[str] = []
    for pic in report.get("pictures", []):
        lines += [f"### {pic['caption']}", "", f"![{pic['caption']}]({pic['file']})", ""]
    return (["## Pictures", ""] + lines) if lines else []


def _title(report: dict) -> str:
    return report.get("title") or f"{report.get('model', 'model')}: homework report"


def _head(report: dict) -> list[str]:
    """Everything before the pictures."""
    lines = [f"# {_title(report)}", ""]
    if report.get("summary"):
        lines += [report["summary"], ""]
    lines += _settings(report) + _results(report) + _extra_tables(report)
    return lines + _derivation(report)


def _notes(report: dict) -> list[str]:
    notes = report.get("notes", [])
    return (["## Notes", ""] + [f"- {n}" for n in notes] + [""]) if notes else []


def render(report: dict) -> str:
    """The markdown of a run's report (renders on GitHub, converts with pandoc)."""
    lines = _head(report) + _pictures(report) + _notes(report)
    return "\n".join(lines).rstrip() + "\n"


# --- HTML and PDF -------------------------------------------------------------------------

PIP_HINT = "pip install -e '.[report]'"
APT_HINT = "apt-get install libpango-1.0-0 libpangoft2-1.0-0"

CSS = """
@page { size: A4; margin: 18mm 16mm 20mm 16mm;
        @bottom-center { content: counter(page) " / " counter(pages); font-size: 9pt;
                         color: #555; } }
html { font-family: "DejaVu Sans", "Liberation Sans", Arial, Helvetica, sans-serif;
       font-size: 10.5pt; line-height: 1.4; color: #111; }
body { max-width: 48em; margin: 0 auto; padding: 0 1em; }
h1 { font-size: 18pt; margin: 0 0 0.6em; }
h2 { font-size: 13.5pt; margin: 1.4em 0 0.5em; border-bottom: 1px solid #aaa;
     break-after: avoid; page-break-after: avoid; }
p, li { overflow-wrap: break-word; }
ul { break-inside: avoid; page-break-inside: avoid; }
table { border-collapse: collapse; margin: 0.4em 0 0.8em; }
th, td { border: 1px solid #888; padding: 0.15em 0.6em; text-align: left; }
th { background: #eee; }
tr { break-inside: avoid; page-break-inside: avoid; }
figure { margin: 0.8em 0 1.2em; text-align: center;
         break-inside: avoid; page-break-inside: avoid; }
figure img { max-width: 100%; max-height: 215mm; height: auto; }
figcaption { font-style: italic; margin-top: 0.3em; }
.missing { color: #a00; }
@media print { body { max-width: none; padding: 0; } }
"""


def _picture_file(folder: Path, name: str) -> Path:
    """The file to show for a picture: a PNG beside an SVG of the same stem wins."""
    path = folder / name
    png = path.with_suffix(".png")
    return png if path.suffix.lower() == ".svg" and png.is_file() else path


def _data_uri(path: Path) -> str:
    mime = {".svg": "image/svg+xml", ".png": "image/png"}.get(path.suffix.lower())
    mime = mime or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _figures(report: dict, folder: Path) -> str:
    """Each picture as a <figure>: the image inlined, its caption once, as the figcaption."""
    parts: list[str] = []
    for pic in report.get("pictures", []):
        caption = html.escape(str(pic["caption"]), quote=False)
        path = _picture_file(folder, pic["file"])
        if path.is_file():
            body = f'<img src="{_data_uri(path)}" alt="">'
        else:
            body = f'<p class="missing">(picture {html.escape(pic["file"])} is missing)</p>'
        parts.append(f"<figure>\n{body}\n<figcaption>{caption}</figcaption>\n</figure>")
    return ("<h2>Pictures</h2>\n" + "\n".join(parts)) if parts else ""


def _markdown():
    try:
        import markdown
    except ImportError as e:
        raise SystemExit(f"models.report: --html and --pdf need the markdown package ({e}): "
                         f"{PIP_HINT}") from None
    return markdown


def _weasyprint():
    """WeasyPrint, or one line saying what to install (it prints a banner when pango is
    missing: swallowed)."""
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            import weasyprint
    except ImportError as e:
        raise SystemExit(f"models.report: --pdf needs WeasyPrint, which is not installed ({e}): "
                         f"{PIP_HINT} (and Debian's pango: {APT_HINT})") from None
    except OSError as e:
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise SystemExit(f"models.report: --pdf needs Debian's pango, which WeasyPrint cannot "
                         f"load ({reason}): {APT_HINT}") from None
    return weasyprint


def render_html(report: dict, folder: Path | str) -> str:
    """The report as one self-contained HTML page: pictures from `folder` inlined as data:
    URIs, print CSS for A4. Needs the markdown package."""
    md = _markdown()

    def to_html(lines: list[str]) -> str:
        return md.markdown("\n".join(lines), extensions=["tables"], output_format="html")

    body = "\n".join(part for part in (to_html(_head(report)), _figures(report, Path(folder)),
                                        to_html(_notes(report))) if part)
    title = html.escape(_title(report), quote=False)
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{title}</title>\n<style>{CSS}</style>\n</head>\n<body>\n{body}\n"
            f"</body>\n</html>\n")


def write_pdf(page: str, target: Path | str, folder: Path | str = ".") -> None:
    """Print an HTML page from render_html to a PDF with WeasyPrint."""
    _weasyprint().HTML(string=page, base_url=str(folder)).write_pdf(str(target))


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m models.report", description=__doc__)
    p.add_argument("runs", nargs="+", help="run folders holding report.json")
    p.add_argument("--html", action="store_true",
                   help="also write DIR/report.html, self-contained, to print from a browser")
    p.add_argument("--pdf", action="store_true", help="also write DIR/report.pdf (WeasyPrint)")
    args = p.parse_args(argv)
    if args.html or args.pdf:  # say what is missing before writing anything
        _markdown()
    if args.pdf:
        _weasyprint()
    for folder in map(Path, args.runs):
        source = folder / "report.json"
        if not source.is_file():
            raise SystemExit(f"models.report: {source} does not exist (run the model first)")
        report = json.loads(source.read_text())
        (folder / "report.md").write_text(render(report))
        print(f"rebuilt {folder / 'report.md'}")
        if args.html or args.pdf:
            page = render_html(report, folder)
            if args.html:
                (folder / "report.html").write_text(page, encoding="utf-8")
                print(f"wrote {folder / 'report.html'}")
            if args.pdf:
                write_pdf(page, folder / "report.pdf", folder)
                print(f"wrote {folder / 'report.pdf'}")


if __name__ == "__main__":
    main()
