"""What a notebook shows: a Tensor's HTML summary, figures returned (and shown inline) when
tg.plots functions get no path, compute graphs that display themselves as SVG."""

import shutil

import numpy as np
import pytest
from matplotlib.figure import Figure

import tinygrad_hw as tg


def test_a_tensor_shows_shape_dtype_grad_status_and_value():
    w = tg.Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True, name="W <hidden>")
    html = w._repr_html_()
    assert "shape (2, 3)" in html and "float64" in html and "leaf, requires grad" in html
    assert "W &lt;hidden&gt;" in html and "[[0., 1., 2.]," in html
    (w * w).sum().backward()
    assert "has .grad" in w._repr_html_()
    assert "computed by <b>Mul</b>" in (w * 2)._repr_html_()
    assert "no grad" in tg.Tensor([1, 2])._repr_html_()


def test_a_big_tensor_is_elided():
    html = tg.Tensor(np.arange(10_000, dtype=np.float32))._repr_html_()
    assert "..." in html and len(html) < 600 and "float32" in html


def test_plots_without_a_path_return_the_figure(tmp_path):
    hist = tg.train.History(epoch=[1, 2], train_loss=[1.0, 0.5], train_accuracy=[0.5, 0.7],
                            val_loss=[1.1, 0.6], val_accuracy=[0.4, 0.6])
    assert isinstance(tg.plots.plot_curves(hist), Figure)
    assert isinstance(tg.plots.plot_weight_images(np.zeros((10, 784))), Figure)
    path = tg.plots.plot_curves(hist, tmp_path / "c.png")
    assert path == str(tmp_path / "c.png") and (tmp_path / "c.png").stat().st_size > 0


@pytest.mark.skipif(shutil.which("dot") is None, reason="needs Graphviz's dot")
def test_a_graph_displays_itself_as_svg():
    x = tg.Tensor([1.0, 2.0], requires_grad=True)
    graph = tg.viz.draw_graph((x * x).sum())
    bundle = graph._repr_mimebundle_()
    assert bundle["image/svg+xml"].lstrip().startswith(("<?xml", "<svg"))
