"""Newton's method for linear regression (docs/course.md §7): the loss through tinygrad_hw ops,
its hand gradient and Hessian, one Newton step by autodiff and by hand; against gradient descent
in the script: python -m models.newton [--n 200] [--d 5] [--seed 0] [--out DIR]"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike

import tinygrad_hw as tg
from tinygrad_hw import Tensor

from . import cli, runner
from .report import text_table


def loss(w: Tensor | ArrayLike, X: Tensor | ArrayLike, y: Tensor | ArrayLike) -> Tensor:
    """f(w) = 1/(2n) sum_i (x_i.w - y_i)^2 for the rows x_i of X (n x d)."""
    residual = tg.as_tensor(X) @ w - y
    return (residual * residual).mean() * 0.5


def hand_gradient(w: ArrayLike, X: ArrayLike, y: ArrayLike) -> np.ndarray:
    """grad f = (1/n) X^T (X w - y)."""
    X = np.asarray(X, dtype=np.float64)
    return X.T @ (X @ np.asarray(w, dtype=np.float64) - np.asarray(y, dtype=np.float64)) / len(X)


def hand_hessian(X: ArrayLike) -> np.ndarray:
    """H = (1/n) X^T X (it does not depend on w: f is quadratic)."""
    X = np.asarray(X, dtype=np.float64)
    return X.T @ X / len(X)


def newton_step(w: ArrayLike, X: ArrayLike, y: ArrayLike) -> np.ndarray:
    """w <- w - H^{-1} grad f, with grad f from tg.grad and H from tg.hessian (autodiff)."""
    w, X, y = (np.asarray(v, dtype=np.float64) for v in (w, X, y))
    g = tg.grad(loss)(w, X, y).numpy()
    H = tg.hessian(loss)(w, X, y).numpy()
    return w - np.linalg.solve(H, g)


def newton_step_hand(w: ArrayLike, X: ArrayLike, y: ArrayLike) -> np.ndarray:
    """w <- w - H^{-1} grad f with H = (1/n) X^T X and grad f = (1/n) X^T (X w - y)."""
    w = np.asarray(w, dtype=np.float64)
    return w - np.linalg.solve(hand_hessian(X), hand_gradient(w, X, y))


# ---- the script: one Newton step against gradient descent on generated data ----

def make_data(n: int, d: int, seed: int, noise: float = 0.1) -> tuple[np.ndarray, ...]:
    """X = [1, x_1 .. x_{d-1}] (n x d) with features of different scales around 1 (so the
    Hessian is ill-conditioned), y = X w_true + noise. Returns (X, y, w_true)."""
    rng = np.random.default_rng(seed)
    features = 1.0 + rng.normal(size=(n, d - 1)) * np.linspace(0.5, 2.0, d - 1)
    X = np.hstack([np.ones((n, 1)), features])
    w_true = rng.normal(size=d)
    return X, X @ w_true + noise * rng.normal(size=n), w_true


def gradient_descent(X: np.ndarray, y: np.ndarray, w_star: np.ndarray, lr: float,
                     max_iter: int, tol: float) -> tuple[list[np.ndarray], int | None]:
    """w <- w - lr grad f (autodiff) from w = 0; stops once ||w - w_star|| < tol. Returns the
    iterates w_0, w_1, ... and the iteration that got within tol (None: never)."""
    grad = tg.grad(loss)
    iterates = [np.zeros(X.shape[1])]
    for k in range(1, max_iter + 1):
        iterates.append(iterates[-1] - lr * grad(iterates[-1], X, y).numpy())
        if np.linalg.norm(iterates[-1] - w_star) < tol:
            return iterates, k
    return iterates, None


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m models.newton", description=__doc__,
                                formatter_class=cli.HelpFormatter)
    p.add_argument("--out", default="runs/newton", help="folder for the report")
    p.add_argument("--n", type=cli.POSITIVE_INT, default=200,
                   help="examples (at least --d, or X^T X is singular)")
    p.add_argument("--d", type=cli.ranged(int, 2), default=5,
                   help="weights, the bias w_0 included")
    p.add_argument("--seed", type=cli.NONNEGATIVE_INT, default=0, help="seed of the data")
    p.add_argument("--noise", type=cli.NONNEGATIVE, default=0.1,
                   help="standard deviation of the noise on y")
    p.add_argument("--max-iter", type=cli.POSITIVE_INT, default=5000,
                   help="gradient-descent iterations")
    p.add_argument("--tol", type=cli.POSITIVE, default=1e-6,
                   help="gradient descent stops within this distance of the least-squares w")
    args = p.parse_args(argv)
    if args.n < args.d:
        p.error(f"argument --n: must be at least --d = {args.d} (the number of weights), got "
                f"{args.n}: with fewer examples than weights X^T X is singular and there is no "
                f"Newton step")
    return args


def _solve(X: np.ndarray, y: np.ndarray, args: argparse.Namespace) -> dict:
    w_star = np.linalg.lstsq(X, y, rcond=None)[0]
    w0 = np.zeros(X.shape[1])
    H = tg.hessian(loss)(w0, X, y).numpy()
    eigenvalues = np.linalg.eigvalsh(hand_hessian(X))
    lr = 1 / eigenvalues[-1]  # 1/L: the largest step that is safe in every direction
    iterates, reached = gradient_descent(X, y, w_star, lr, args.max_iter, args.tol)
    newton = newton_step(w0, X, y)
    return {"w_star": w_star, "H": H, "lr": lr, "iterates": iterates, "reached": reached,
            "newton": newton, "condition": eigenvalues[-1] / eigenvalues[0],
            "hessian_gap": float(np.abs(H - hand_hessian(X)).max()),
            "newton_distance": float(np.linalg.norm(newton - w_star)),
            "hand_distance": float(np.linalg.norm(newton_step_hand(w0, X, y) - w_star))}


def _loss_at(w: np.ndarray, X: np.ndarray, y: np.ndarray) -> float:
    return loss(w, X, y).item()


def _curves(X: np.ndarray, y: np.ndarray, ws: list[np.ndarray], w_star: np.ndarray):
    """f(w_k) - f(w*) and ||w_k - w*|| per iterate, floored at 1e-16 for the log scale."""
    W = np.asarray(ws)
    residual = W @ X.T - y
    excess = 0.5 * (residual**2).mean(axis=1) - _loss_at(w_star, X, y)
    distance = np.linalg.norm(W - w_star, axis=1)
    return np.maximum(excess, 1e-16), np.maximum(distance, 1e-16)


def _picture(out: Path, X: np.ndarray, y: np.ndarray, run: dict, tol: float) -> dict:
    gd_loss, gd_dist = _curves(X, y, run["iterates"], run["w_star"])
    steps = np.arange(len(gd_loss))
    # Newton from w_0 = 0: one step, then further steps stay where the first one landed
    nt_loss, nt_dist = _curves(X, y, [run["iterates"][0]] + [run["newton"]] * (len(steps) - 1),
                               run["w_star"])
    gd = f"gradient descent (step 1/L = {run['lr']:.3g})"
    newton = {"label": "Newton: at the minimum after 1 step", "lw": 2.2,
              "color": "tab:red"}
    panels = {
        "loss above its minimum, f(w_k) - f(w*)": [
            {"x": steps, "y": gd_loss, "label": gd}, {"x": steps, "y": nt_loss, **newton}],
        "distance to np.linalg.lstsq's solution, ||w_k - w*||": [
            {"x": steps, "y": gd_dist, "label": gd}, {"x": steps, "y": nt_dist, **newton},
            {"x": steps[[0, -1]], "y": [tol, tol], "label": f"tolerance {tol:g}",
             "color": "gray", "lw": 0.8}]}
    tg.plots.plot_line_panels(panels, out / "loss_per_iteration.png", xlabel="iteration",
                              ylabel=["f(w_k) - f(w*)", "||w_k - w*||"], log_y=True)
    return {"file": "loss_per_iteration.png", "caption": "Newton's method vs gradient descent: "
            "loss above the least-squares minimum and distance to the solution per iteration "
            "(log scale, floored at 1e-16)"}


def _graph(out: Path, X: np.ndarray, y: np.ndarray) -> list[str]:
    w = Tensor(np.zeros(X.shape[1]), requires_grad=True, name="w")
    f = loss(w, Tensor(X, name="X (bias column x_0 = 1)"), Tensor(y, name="y"))
    f.backward()
    return runner.write_graph(f, out, title="f(w) = 1/(2n) sum_i (x_i.w - y_i)^2 at w = 0")


def _tables(run: dict, w_true: np.ndarray) -> dict:
    names = [f"w_{j}" for j in range(len(w_true))]
    weights = [[n, t, s, nt, gd] for n, t, s, nt, gd in
               zip(names, w_true, run["w_star"], run["newton"], run["iterates"][-1])]
    return {"Weights": {"columns": ["weight", "true", "np.linalg.lstsq", "Newton, 1 step",
                                    f"GD, {len(run['iterates']) - 1} steps"], "rows": weights},
            "Hessian by autodiff (tg.hessian), equal to X^T X / n": {
                "columns": [""] + names, "rows": [[n, *row] for n, row in zip(names, run["H"])]}}


def _print(run: dict, tables: dict, args: argparse.Namespace) -> None:
    for title, table in tables.items():
        print(f"{title}:\n{text_table(table['columns'], table['rows'])}")
    print(f"Hessian: max |autodiff - X^T X / n| = {run['hessian_gap']:.3g}; condition number "
          f"{run['condition']:.1f}")
    print(f"Newton, one step from w = 0: ||w - w_lstsq|| = {run['newton_distance']:.3g}")
    reached = (f"needed {run['reached']} iterations" if run["reached"] else
               f"did not get there in {args.max_iter} iterations")
    print(f"gradient descent (step 1/L = {run['lr']:.3g}) {reached} to get within "
          f"{args.tol:g} of w_lstsq")


def main(argv: list[str] | None = None) -> dict:
    args = _arguments(argv)
    began, out = time.perf_counter(), Path(args.out)
    cli.prepare_out(out, "python -m models.newton")
    X, y, w_true = make_data(args.n, args.d, args.seed, args.noise)
    run = _solve(X, y, args)
    tables = _tables(run, w_true)
    _print(run, tables, args)
    report = runner.base_report("newton", args, None)
    gradient_gap = np.abs(tg.grad(loss)(run["iterates"][0], X, y).numpy()
                          - hand_gradient(run["iterates"][0], X, y)).max()
    report.update(
        dataset=f"generated: n = {args.n}, d = {args.d} (bias included), seed {args.seed}",
        summary=_SUMMARY, tables=tables, condition_number=run["condition"],
        newton_distance_to_lstsq=run["newton_distance"],
        newton_hand_distance_to_lstsq=run["hand_distance"],
        hessian_max_abs_diff=run["hessian_gap"], gd_lr=run["lr"], gd_tol=args.tol,
        gd_iterations=run["reached"], loss_initial=_loss_at(run["iterates"][0], X, y),
        loss_newton=_loss_at(run["newton"], X, y), loss_lstsq=_loss_at(run["w_star"], X, y),
        derivation_check={"gradient": "(1/n) X^T (X w - y)", "Hessian": "(1/n) X^T X",
                          "max |autodiff - hand| gradient at w = 0": float(gradient_gap),
                          "max |autodiff - hand| Hessian": run["hessian_gap"]})
    report.update(pictures=[_picture(out, X, y, run, args.tol),
                            {"file": "graph.png", "caption": "Compute graph of f at w = 0"}],
                  notes=_graph(out, X, y), seconds=time.perf_counter() - began)
    return runner.finish(out, report)


_SUMMARY = ("Linear regression f(w) = 1/(2n) sum_i (x_i.w - y_i)^2 on generated data. f is "
            "quadratic, so one Newton step w - H^{-1} grad f, with H from autodiff, lands on the "
            "least-squares solution; gradient descent with step 1/L needs many iterations, the "
            "more the larger the Hessian's condition number.")


if __name__ == "__main__":
    cli.command(main)
