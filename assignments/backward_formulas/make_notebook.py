"""Builds submissions/notebook_forgot_grad_out.ipynb (run from anywhere with the project's
venv: .venv/bin/python assignments/backward_formulas/make_notebook.py). A student's notebook:
markdown, the four formulas in code cells, and an exploratory plotting cell that fails with a
NameError (matplotlib never imported). Its sigmoid_backward returns the local derivative
out (1 - out) without multiplying by grad_out."""

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

CELLS = [
    new_markdown_cell("# HW1: backward formulas\n\nEach function gets `grad_out = dC/d out`, "
                      "the op's output `out` and its input `x`, and returns `dC/dx`."),
    new_code_cell("import numpy as np"),
    new_markdown_cell("## Sigmoid\n\nsigma'(x) = sigma(x) (1 - sigma(x)) = out (1 - out)"),
    new_code_cell("def sigmoid_backward(grad_out, out, x):\n"
                  "    return out * (1 - out)"),
    new_code_cell("xs = np.linspace(-6, 6, 200)\n"
                  "s = 1 / (1 + np.exp(-xs))\n"
                  "plt.plot(xs, sigmoid_backward(np.ones_like(xs), s, xs))\n"
                  "plt.title(\"sigma'(x)\")"),
    new_markdown_cell("## Tanh\n\ntanh'(x) = 1 - tanh(x)^2"),
    new_code_cell("def tanh_backward(grad_out, out, x):\n"
                  "    return grad_out * (1 - out**2)"),
    new_markdown_cell("## Softmax\n\nd out_i / d x_j = out_i (delta_ij - out_j), so "
                      "dC/dx_j = out_j (g_j - sum_i g_i out_i)"),
    new_code_cell("def softmax_backward(grad_out, out, x):\n"
                  "    s = (grad_out * out).sum(axis=-1, keepdims=True)\n"
                  "    return out * (grad_out - s)"),
    new_markdown_cell("## Log\n\nd ln x / dx = 1 / x"),
    new_code_cell("def log_backward(grad_out, out, x):\n"
                  "    return grad_out / x"),
]

if __name__ == "__main__":
    nb = new_notebook(cells=CELLS, metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"}})
    nbformat.validate(nb)
    path = Path(__file__).parent / "submissions" / "notebook_forgot_grad_out.ipynb"
    nbformat.write(nb, path)
    print(f"wrote {path}")
