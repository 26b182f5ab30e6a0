"""How each box looks: colours by kind, and the HTML label with name, op, shape, value,
gradient, delta and local derivative. Every piece of text goes through labels.escape."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .labels import (
    derivative_text,
    escape,
    nonfinite,
    op_text,
    shape_text,
    shorten,
    summary,
    wrap,
)
from .trace import Node

# (fill colour, legend text); pale fills keep black text readable, ColorBrewer-like hues
KINDS = {
    "output": ("#fdd49e", "output"),
    "param": ("#c7e9c0", "parameter"),
    "leaf": ("#c6dbef", "leaf, requires grad"),
    "data": ("#f0f0f0", "data / constant (no grad)"),
    "op": ("#ffffff", "op"),
    "folded": ("#e5e5e5", "folded nodes"),
}
TAGS = {"param": "parameter", "leaf": "requires grad", "data": "no grad", "output": "output"}
BAD_FILL, BAD_LINE = "#fcbba1", "#cb181d"
GRAD_COLOUR, DELTA_COLOUR, SOFT = "#a63603", "#54278f", "#525252"
FONT = "Helvetica"


@dataclass
class Extras:
    """Facts found before drawing. Gradients are keyed by tensor, so a folded box finds
    the gradient of the tensor it shows."""

    grads: dict[int, np.ndarray] = field(default_factory=dict)  # by id(tensor)
    deltas: dict[int, np.ndarray] = field(default_factory=dict)  # by id(tensor)
    births: set[str] = field(default_factory=set)  # by node id
    derivatives: bool = False


def _row(text: str, colour: str | None = None, size: int | None = None, style: str = "") -> str:
    """One table row of already escaped text (lines joined with <BR/>)."""
    body = text
    if style:
        body = f"<{style}>{body}</{style}>"
    attrs = (f' COLOR="{colour}"' if colour else "") + (f' POINT-SIZE="{size}"' if size else "")
    if attrs:
        body = f"<FONT{attrs}>{body}</FONT>"
    return f'<TR><TD ALIGN="LEFT" BALIGN="LEFT">{body}</TD></TR>'


def _lines(prefix: str, lines: list[str]) -> str:
    """Escaped lines, the first after `prefix`, later ones indented under it."""
    pad = "\u00a0" * (len(prefix) + 2)
    text = [prefix + "  " + shorten(lines[0], 60)] + [pad + shorten(x, 60) for x in lines[1:]]
    return '<BR ALIGN="LEFT"/>'.join(escape(t) for t in text)


def _title(n: Node) -> str:
    name = f"<B>{escape(n.name)}</B>"
    if n.kind == "folded":
        return name
    if n.op is not None:
        return f"{name} = {escape(op_text(n.op, n.consts))}"
    tag = TAGS.get(n.kind)
    return f'{name}  <FONT COLOR="{SOFT}">{tag}</FONT>' if tag else name


def _bad_text(n: Node, ex: Extras, value: np.ndarray | None) -> str | None:
    kind = None if value is None else nonfinite(value)
    born = n.id in ex.births or any(m.id in ex.births for m in n.members)
    if kind and born:
        return f"⚠ {kind} born here" if not n.members else f"⚠ {kind} born in here"
    if kind:
        return f"⚠ holds {kind} (from an input)"
    key = id(n.tensor)
    grad = ex.deltas.get(key, ex.grads.get(key)) if n.tensor is not None else None
    kind = None if grad is None else nonfinite(grad)
    return f"⚠ gradient holds {kind}" if kind else None


def node_label(n: Node, ex: Extras) -> tuple[str, bool]:
    """The HTML label of a box, and whether it is marked bad (NaN/inf)."""
    value = None if n.tensor is None else np.asarray(n.tensor._data)
    rows = [_row(_title(n))]
    if n.note:
        rows.append(_row(escape(shorten(n.note, 60)), SOFT, 9))
    if value is not None:
        prefix = "output " if n.kind == "folded" else ""
        rows.append(_row(escape(prefix + shape_text(value)), SOFT, 9))
        rows.append(_row(_lines("value", summary(value))))
    key = id(n.tensor) if n.tensor is not None else None
    if key in ex.deltas and n.kind != "folded":
        text = _lines(f"δ = dC/d{shorten(n.name, 16)}", summary(ex.deltas[key]))
        rows.append(_row(text, DELTA_COLOUR, style="B"))
    elif key in ex.grads:
        rows.append(_row(_lines("grad", summary(ex.grads[key])), GRAD_COLOUR))
    if ex.derivatives and n.op is not None and (text := derivative_text(n.op)):
        rows.append(_row('<BR ALIGN="LEFT"/>'.join(escape(t) for t in wrap(text)), SOFT, 9, "I"))
    bad = _bad_text(n, ex, value)
    if bad:
        rows.append(_row(escape(bad), BAD_LINE, style="B"))
    table = '<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">'
    return f"<{table}{''.join(rows)}</TABLE>>", bad is not None


def node_attrs(n: Node, bad: bool, born: bool) -> dict[str, str]:
    fill = KINDS[n.kind][0]
    attrs = {"fillcolor": fill}
    if n.kind == "output":
        attrs["penwidth"] = "2"
    if n.kind in ("data", "folded"):
        attrs["style"] = "rounded,filled,dashed"
    if bad:
        attrs.update(fillcolor=BAD_FILL, color=BAD_LINE, penwidth="3" if born else "1.5")
    return attrs


def legend(kinds: list[str], bad: bool, deltas: bool, notes: list[str], title: str | None):
    """The graph's own label: a colour key for the kinds present, then any fold notes."""
    cells = [
        f'<TD BGCOLOR="{KINDS[k][0]}" BORDER="1">{escape(KINDS[k][1])}</TD>' for k in kinds
    ]
    if bad:
        cells.append(f'<TD BGCOLOR="{BAD_FILL}" BORDER="1" COLOR="{BAD_LINE}">NaN / inf</TD>')
    if deltas:
        cells.append(f'<TD><FONT COLOR="{DELTA_COLOUR}">δ = dC/dz, flowing back ⇠</FONT></TD>')
    span = f' COLSPAN="{max(len(cells), 1)}"'
    rows = [f'<TR><TD{span}><B>{escape(title)}</B></TD></TR>'] if title else []
    if cells:
        rows.append("<TR>" + "".join(cells) + "</TR>")
    rows += [f'<TR><TD{span} ALIGN="LEFT">{escape(note)}</TD></TR>' for note in notes]
    table = '<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="3" CELLPADDING="2">'
    return f"<{table}{''.join(rows)}</TABLE>>"
