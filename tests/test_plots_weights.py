"""tg.plots.plot_weight_images: one robust, symmetric colour scale for every image (a few
extreme weights do not wash the others out), a colour bar, and pixels it is told to hide."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_hw as tg

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def figure(monkeypatch):
    """The figure plot_weight_images drew, kept open instead of closed after saving."""
    drawn = {}
    save = tg.plots._save

    def keep(fig, path):
        drawn["fig"] = fig
        fig.savefig(path, dpi=40)
        return str(path)

    monkeypatch.setattr(tg.plots, "_save", keep)
    yield drawn
    monkeypatch.setattr(tg.plots, "_save", save)
    if "fig" in drawn:
        tg.plots._pyplot().close(drawn["fig"])


def _weights() -> np.ndarray:
    """Ten templates of size about 0.1, and five rare corner pixels 30 times larger."""
    rng = np.random.default_rng(0)
    w = rng.normal(scale=0.1, size=(10, 28, 28))
    w[:, 0, :5] = 3.0 * np.sign(rng.normal(size=(10, 5)))
    return w.reshape(10, 784)


def _images(fig) -> list:
    return [im for ax in fig.axes for im in ax.get_images()]


def test_one_robust_symmetric_scale_and_a_colour_bar(tmp_path, figure):
    w = _weights()
    path = tg.plots.plot_weight_images(w, tmp_path / "w.png", titles=list("abcdefghij"))
    assert (tmp_path / "w.png").read_bytes()[:8] == PNG and path == str(tmp_path / "w.png")
    fig = figure["fig"]
    images = _images(fig)
    limit = np.percentile(np.abs(w), 99)
    assert limit < 1.0  # the corner (0.6% of the pixels) does not set the scale
    assert len(images) == 10 and len(fig.axes) == 11  # ten templates and the colour bar
    for im in images:
        assert im.get_clim() == pytest.approx((-limit, limit))  # one scale, centred at 0
    bar = fig.axes[-1]
    assert not bar.get_images() and bar.get_ylabel().startswith("weight")
    assert "99th percentile" in bar.get_ylabel()  # says that larger weights are clipped


def test_percentile_100_is_the_largest_weight(tmp_path, figure):
    w = _weights()
    tg.plots.plot_weight_images(w, tmp_path / "w.png", percentile=100, colorbar=False)
    images = _images(figure["fig"])
    assert len(images) == len(figure["fig"].axes) == 10  # no colour bar
    assert images[0].get_clim() == pytest.approx((-3.0, 3.0))


def test_hidden_pixels_are_grey_and_left_out_of_the_scale(tmp_path, figure):
    w = _weights()
    border = np.zeros((28, 28), dtype=bool)
    border[0, :] = True
    tg.plots.plot_weight_images(w, tmp_path / "w.png", percentile=100, hide=border,
                                hide_label="the top row")
    images = _images(figure["fig"])
    shown = images[0].get_array()
    assert shown.mask[0].all() and not shown.mask[1:].any()
    assert images[0].get_clim()[1] == pytest.approx(np.abs(w[:, 28:]).max())
    assert images[0].get_cmap().get_bad()[:3] == pytest.approx((0.8, 0.8, 0.8))


def test_old_positional_call_and_all_zero_weights(tmp_path, figure):
    path = tg.plots.plot_weight_images(np.zeros((3, 785)), tmp_path / "z.png", ["a", "b", "c"],
                                       (28, 28), 3, "zeros")
    assert (tmp_path / "z.png").read_bytes()[:8] == PNG and path.endswith("z.png")
    assert _images(figure["fig"])[0].get_clim() == (-1.0, 1.0)
    assert tg.plots.weight_limit(np.zeros(4)) == 1.0
    assert tg.plots.weight_limit([[-4.0, 1.0], [2.0, 3.0]], 100) == 4.0
