"""Training-step speed of tinygrad_hw at course sizes, as ratios against hand-written numpy
and PyTorch eager, plus memory over a long run and the time to a target test accuracy.

    python benchmarks/suite.py [--quick] [--sections steps,op,epoch,memory,accuracy]
                               [--threads 1] [--repeat 25] [--json runs/bench/results.json]

Sections (all by default; --sections picks some):
  steps     one training step (forward, cross-entropy, backward, SGD) on a random float32
            batch of 128 Fashion-MNIST-shaped images: softmax regression 784-10, MLP
            784-64-10 sigmoid, MLP 784-128-64-10 relu
  op        one elementwise op forward + backward: a chain of 100 ops alternating x * y and
            + y on (16,) float64, backward through it; time per op
  epoch     one epoch of softmax regression over 60,000 images, batch 128, SGD (the real
            Fashion-MNIST training set when installed, else random data of its shape)
  memory    tracemalloc peak over 10,000 tinygrad_hw softmax-regression steps: the peak
            after 1,000 and after 10,000 steps, which should be the same (flat)
  accuracy  seconds of tinygrad_hw training until softmax regression reaches 84% on the
            full Fashion-MNIST test set (the recipe of models/softmax_regression.py: zero
            init, Adam lr 0.002 decaying linearly, batch 64), evaluated after each epoch;
            skipped when the full data is not installed

Frameworks run interleaved in one process (A B C, B C A, ...), all pinned to the same number
of threads (--threads, default 1: the BLAS variables are set before numpy is imported, and
torch.set_num_threads); warm-up calls are discarded; each framework's time is the median of
--repeat timed blocks, with the interquartile range and min..max as spread. Columns:
numpy (hand-written, hand-derived backward), tinygrad_hw (eager), tinygrad_hw compiled
(tg.compile(train_step), "n/a" when tinygrad_hw has no compile), torch ("not installed"
without PyTorch). "x numpy" and "x torch" divide a framework's median by theirs. Before timing,
one step of every framework from the same weights is checked to give the same updated
weights as numpy (to 1e-5). The results are printed as markdown tables and written as JSON.
"""

from __future__ import annotations

import os
import sys

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                    "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")


def _threads_flag(argv: list[str]) -> int:
    """--threads N (or --threads=N) from the command line, 1 if absent or unreadable."""
    for i, arg in enumerate(argv):
        value = arg.split("=", 1)[1] if arg.startswith("--threads=") else None
        if arg == "--threads" and i + 1 < len(argv):
            value = argv[i + 1]
        if value is not None:
            return int(value) if value.isdigit() and int(value) > 0 else 1
    return 1


# The BLAS thread pools read these when numpy (and torch) load, so they are set first.
NUMPY_IMPORTED_FIRST = "numpy" in sys.modules
if __name__ == "__main__":
    for _var in THREAD_VARIABLES:
        os.environ[_var] = str(_threads_flag(sys.argv[1:]))

import argparse  # noqa: E402
import datetime  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import tinygrad_hw as tg  # noqa: E402
from benchmarks import timing  # noqa: E402
from benchmarks import workloads as wl  # noqa: E402
from models.runner import plain  # noqa: E402

SECTIONS = ("steps", "op", "epoch", "memory", "accuracy")
DEFAULT_JSON = "runs/bench/results.json"
TOLERANCE = 1e-5  # one step of each framework must match numpy's updated weights to this
FLAT_SLACK = 64 * 1024  # bytes the peak may grow between the two readings and count as flat


# ----------------------------------------------------------------- settings
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sections", default=",".join(SECTIONS),
                   help=f"comma-separated, from {', '.join(SECTIONS)} (default: all)")
    p.add_argument("--quick", action="store_true",
                   help="a fast run: fewer and shorter blocks, 2 epochs, 2,000 memory steps")
    p.add_argument("--threads", type=int, default=1, help="threads for every library")
    p.add_argument("--repeat", type=int, default=None, help="timed blocks per framework "
                   "(default 25, quick 5)")
    p.add_argument("--warmup", type=int, default=None, help="untimed calls per framework "
                   "before timing (default 20, quick 5)")
    p.add_argument("--block-seconds", type=float, default=None,
                   help="length of a timed block (default 0.05, quick 0.01)")
    p.add_argument("--number", type=int, default=None,
                   help="calls per timed block (default: as many as fill --block-seconds)")
    p.add_argument("--ops", type=int, default=100, help="length of the elementwise chain")
    p.add_argument("--epoch-repeat", type=int, default=None,
                   help="timed epochs per framework (default 5, quick 2)")
    p.add_argument("--epoch-images", type=int, default=60_000,
                   help="images in the timed epoch (the first N of the training set)")
    p.add_argument("--memory-steps", type=int, default=None,
                   help="training steps under tracemalloc (default 10,000, quick 2,000); "
                        "the peak is read after a tenth of them and at the end")
    p.add_argument("--target", type=float, default=0.84, help="test accuracy to reach")
    p.add_argument("--max-epochs", type=int, default=20)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", default=DEFAULT_JSON, help=f"where to write the results "
                   f"(default {DEFAULT_JSON})")
    args = p.parse_args(argv)
    chosen = [s.strip() for s in args.sections.split(",") if s.strip()]
    unknown = [s for s in chosen if s not in SECTIONS]
    if unknown:
        p.error(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    args.sections = [s for s in SECTIONS if s in chosen]
    quick = args.quick
    defaults = {"repeat": (25, 5), "warmup": (20, 5), "block_seconds": (0.05, 0.01),
                "epoch_repeat": (5, 2), "memory_steps": (10_000, 2_000)}
    for name, (full, fast) in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, fast if quick else full)
    return args


def pin_threads(n: int) -> dict[str, Any]:
    """Pin torch to n threads (numpy's BLAS was pinned through the environment); what was
    set, for the report."""
    info: dict[str, Any] = {"threads": n, **{v: os.environ.get(v) for v in THREAD_VARIABLES}}
    if NUMPY_IMPORTED_FIRST:
        info["note"] = "numpy was imported before the suite: its BLAS threads were not pinned"
    try:
        from threadpoolctl import threadpool_limits
        threadpool_limits(n)
        info["threadpoolctl"] = True
    except ImportError:
        info["threadpoolctl"] = False
    if wl.torch is not None:
        wl.torch.set_num_threads(n)
        try:
            wl.torch.set_num_interop_threads(n)
        except RuntimeError:  # only settable before torch's first parallel work
            pass
        info["torch_threads"] = wl.torch.get_num_threads()
    return info


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(["git", *args], cwd=Path(__file__).resolve().parent.parent,
                              capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def machine() -> dict[str, Any]:
    changed = _git("status", "--porcelain", "--", "tinygrad_hw")
    return {
        "commit": _git("rev-parse", "--short", "HEAD"),
        "tinygrad_hw_uncommitted_changes": None if changed is None else bool(changed),
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "platform": platform.platform(), "processor": platform.processor() or None,
        "cpus": os.cpu_count(), "python": platform.python_version(),
        "numpy": np.__version__, "tinygrad_hw": tg.__version__,
        "torch": wl.torch.__version__ if wl.torch is not None else "not installed",
        "tg.compile": "available" if hasattr(tg, "compile") else "n/a",
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }


# ----------------------------------------------------------------- timing sections
def _time_frameworks(impls: dict[str, Any], call: Any, args: argparse.Namespace,
                     repeat: int, warmup: int, number: int | None) -> dict[str, Any]:
    """Time the runnable impls interleaved; every framework gets a result entry."""
    runnable = {fw: impl for fw, impl in impls.items() if not isinstance(impl, str)}
    cases = {fw: (lambda impl=impl: call(impl)) for fw, impl in runnable.items()}
    times, numbers = timing.interleaved(cases, repeat, warmup, args.block_seconds, number)
    out: dict[str, Any] = {}
    for fw in wl.FRAMEWORKS:
        impl = impls.get(fw, "not run")
        if isinstance(impl, str):
            out[fw] = {"status": impl}
        else:
            out[fw] = {"status": "ok", **timing.summary(times[fw]),
                       "calls_per_block": numbers[fw], "seconds_per_call": times[fw]}
    add_ratios(out)
    return out


def add_ratios(results: dict[str, Any]) -> None:
    """x_numpy and x_torch: a framework's median over numpy's and torch's medians."""
    for r in results.values():
        for key, base in (("x_numpy", wl.NUMPY), ("x_torch", wl.TORCH)):
            if r["status"] != "ok":
                r[key] = None
            elif results[base]["status"] != "ok":
                r[key] = results[base]["status"]
            else:
                r[key] = r["median"] / results[base]["median"]


def _build_all(build: Any) -> dict[str, Any]:
    """{framework: impl, or why it cannot run} (a failing build says "error: ...")."""
    impls: dict[str, Any] = {}
    for fw in wl.FRAMEWORKS:
        try:
            impls[fw] = build(fw)
        except wl.Unavailable as why:
            impls[fw] = str(why)
        except Exception as err:  # e.g. a compile that refuses this step
            impls[fw] = f"error: {type(err).__name__}: {err}"
    return impls


def _checked_impls(build: Any, run_once: Any, reference: list[np.ndarray]):
    """(impls to time, check): each framework is built twice from the same values; the first
    takes one step, whose result is compared with numpy's (`reference`): the largest
    |w - w_numpy| goes in `check`. A framework whose step fails or differs beyond TOLERANCE
    is not timed: its entry in impls becomes the reason."""
    checked, impls = _build_all(build), _build_all(build)
    check: dict[str, Any] = {}
    for fw, impl in checked.items():
        if fw == wl.NUMPY or isinstance(impl, str):
            continue
        try:
            got = run_once(impl)
        except Exception as err:
            impls[fw] = check[fw] = f"error: {type(err).__name__}: {err}"
            continue
        check[fw] = max(float(np.abs(g - w).max()) for g, w in zip(got, reference))
        if not check[fw] <= TOLERANCE:
            impls[fw] = f"error: differs from numpy by {check[fw]:.3g} after one step"
    return impls, check


def bench_steps(args: argparse.Namespace) -> dict[str, Any]:
    X, y = wl.batch(wl.BATCH, args.seed)
    results = {}
    for key, workload in wl.WORKLOADS.items():
        init = wl.init_params(workload.sizes, args.seed)

        def once(impl: Any, init: list = init) -> list[np.ndarray]:
            impl.step(X, y)
            return impl.weights()

        reference = once(wl.build(workload, wl.NUMPY, init))
        impls, checks = _checked_impls(lambda fw, w=workload, i=init: wl.build(w, fw, i),
                                       once, reference)
        print(f"  timing {workload.name} ...", file=sys.stderr)
        results[key] = {"name": workload.name, "unit": "seconds per training step",
                        "max_abs_weight_difference_after_one_step": checks,
                        "frameworks": _time_frameworks(impls, lambda i: i.step(X, y), args,
                                                       args.repeat, args.warmup, args.number)}
    return results


def bench_op(args: argparse.Namespace) -> dict[str, Any]:
    ref = wl.chain_impl(wl.NUMPY, args.ops)
    ref.step()

    def once(impl: Any) -> list[np.ndarray]:
        impl.step()
        return impl.weights()

    impls, checks = _checked_impls(lambda fw: wl.chain_impl(fw, args.ops), once,
                                   ref.weights())
    print(f"  timing the {args.ops}-op elementwise chain ...", file=sys.stderr)
    frameworks = _time_frameworks(impls, lambda i: i.step(), args, args.repeat, args.warmup,
                                  args.number)
    for r in frameworks.values():  # per op: the chain's time over its length
        if r["status"] == "ok":
            for k in ("median", "q1", "q3", "min", "max"):
                r[k] /= args.ops
            r["seconds_per_call"] = [t / args.ops for t in r["seconds_per_call"]]
    return {"name": f"elementwise op fwd+bwd, (16,) float64, chain of {args.ops}",
            "unit": "seconds per op (forward + backward)",
            "max_abs_grad_difference": checks, "frameworks": frameworks}


_DATA: dict[str, tuple[np.ndarray, np.ndarray] | None] = {}


def full_data(split: str) -> tuple[np.ndarray, np.ndarray] | None:
    """The full Fashion-MNIST split as (X float32 (N, 784) in [0, 1], labels), or None."""
    if split not in _DATA:
        try:
            images, labels = tg.data.fashion_mnist(split, source="full")
            _DATA[split] = tg.data.prepare_images(images), labels
        except FileNotFoundError:
            _DATA[split] = None
    return _DATA[split]


def bench_epoch(args: argparse.Namespace) -> dict[str, Any]:
    data = full_data("train")
    source = "Fashion-MNIST training set" if data is not None else "random data of its shape"
    if data is None:
        data = wl.batch(60_000, args.seed)
    X, y = data[0][: args.epoch_images], data[1][: args.epoch_images]
    workload = wl.WORKLOADS["softmax"]
    init = wl.init_params(workload.sizes, args.seed)
    impls = _build_all(lambda fw: wl.build(workload, fw, init))
    rng = np.random.default_rng(args.seed)

    def epoch(impl: Any, n_batches: int | None = None) -> None:
        order = rng.permutation(len(X))
        end = len(X) if n_batches is None else min(n_batches * wl.BATCH, len(X))
        for start in range(0, end, wl.BATCH):
            idx = order[start:start + wl.BATCH]
            impl.step(X[idx], y[idx])

    for fw, impl in impls.items():  # warm-up: a few batches, and the short last one
        if isinstance(impl, str):
            continue
        try:
            epoch(impl, 5)
            rest = len(X) % wl.BATCH
            if rest:
                impl.step(X[:rest], y[:rest])
        except Exception as err:  # e.g. a compiled step refusing a new batch size
            impls[fw] = f"error: {type(err).__name__}: {err}"
    print(f"  timing epochs of {len(X):,} images ...", file=sys.stderr)
    frameworks = _time_frameworks(impls, epoch, args, args.epoch_repeat, 0, 1)
    return {"name": f"softmax regression epoch, {len(X):,} images, batch {wl.BATCH}, SGD",
            "data": source, "unit": "seconds per epoch", "frameworks": frameworks}


# ----------------------------------------------------------------- memory
def bench_memory(args: argparse.Namespace) -> dict[str, Any]:
    """tracemalloc's peak during tinygrad_hw softmax-regression steps, read after a tenth of
    them and after all: with nothing kept from step to step the two are the same."""
    workload = wl.WORKLOADS["softmax"]
    impl = wl.build(workload, wl.TG, wl.init_params(workload.sizes, args.seed))
    batches = [wl.batch(wl.BATCH, args.seed + i) for i in range(8)]
    for X, y in batches:  # warm-up outside the trace
        impl.step(X, y)
    steps, first = args.memory_steps, max(args.memory_steps // 10, 1)
    readings = {}
    print(f"  {steps:,} steps under tracemalloc ...", file=sys.stderr)
    began = time.perf_counter()
    tracemalloc.start()
    try:
        for i in range(1, steps + 1):
            X, y = batches[i % len(batches)]
            impl.step(X, y)
            if i in (first, steps):
                current, peak = tracemalloc.get_traced_memory()
                readings[i] = {"step": i, "peak_bytes": peak, "current_bytes": current}
    finally:
        tracemalloc.stop()
    a, b = readings[first], readings[steps]
    growth = b["peak_bytes"] - a["peak_bytes"]
    return {"name": f"tinygrad_hw softmax regression, {steps:,} SGD steps, batch {wl.BATCH}",
            "readings": [a, b], "peak_growth_bytes": growth, "flat": growth <= FLAT_SLACK,
            "flat_means": f"the peak grew by at most {FLAT_SLACK // 1024} KiB",
            "seconds": time.perf_counter() - began}


# ----------------------------------------------------------------- time to accuracy
def bench_accuracy(args: argparse.Namespace) -> dict[str, Any]:
    train, test = full_data("train"), full_data("test")
    name = f"tinygrad_hw softmax regression to {args.target:.0%} test accuracy"
    if train is None or test is None:
        return {"name": name, "status": "skipped: the full Fashion-MNIST is not installed "
                "(apt-get install dataset-fashion-mnist, or set $TINYGRAD_HW_DATA)"}
    lr, batch_size = 0.002, 64
    model = tg.nn.Linear(784, 10, init="zeros", dtype=np.float32)
    opt = tg.optim.Adam(model.parameters(), lr=lr)
    schedule = tg.train.linear_decay(lr, args.max_epochs)
    loader = tg.data.DataLoader(*train, batch_size, seed=args.seed)
    test_loader = tg.data.DataLoader(*test, 2000, shuffle=False)
    print(f"  training until {args.target:.0%} test accuracy ...", file=sys.stderr)
    trained, history, reached = 0.0, [], None
    began = time.perf_counter()
    for epoch in range(1, args.max_epochs + 1):
        opt.lr = schedule(epoch)
        start = time.perf_counter()
        for xb, yb in loader:
            opt.zero_grad()
            loss = tg.cross_entropy(model(tg.Tensor(xb)), yb)
            loss.backward()
            opt.step()
        trained += time.perf_counter() - start
        accuracy = tg.train.evaluate(model, test_loader)[1]
        history.append({"epoch": epoch, "test_accuracy": accuracy, "training_seconds": trained})
        if accuracy >= args.target:
            reached = epoch
            break
    return {"name": name, "status": "reached" if reached else "not reached",
            "recipe": f"zero init, Adam lr {lr} falling linearly over {args.max_epochs} epochs, "
                      f"batch {batch_size}, all 60,000 training images; test set after each "
                      f"epoch", "epochs": reached, "training_seconds": trained if reached
            else None, "seconds_with_evaluation": time.perf_counter() - began,
            "history": history}


# ----------------------------------------------------------------- report
def _fmt_time(seconds: float, unit: str) -> str:
    scale = {"us": 1e6, "ms": 1e3, "s": 1.0}[unit]
    value = seconds * scale
    return f"{value:.3g}" if value < 100 else f"{value:.0f}"


def _fmt_ratio(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else f"{value:.2f}"


def timing_table(rows: list[tuple[str, dict[str, Any]]], unit: str) -> list[str]:
    lines = [f"| workload | framework | median ({unit}) | IQR ({unit}) | min..max ({unit}) "
             f"| x numpy | x torch |", "|---|---|---:|---:|---:|---:|---:|"]
    for name, frameworks in rows:
        for fw, r in frameworks.items():
            if r["status"] != "ok":
                lines.append(f"| {name} | {fw} | {r['status']} | | | {r['status']} | "
                             f"{r['status']} |")
                continue
            t = {k: _fmt_time(r[k], unit) for k in ("median", "q1", "q3", "min", "max")}
            lines.append(f"| {name} | {fw} | {t['median']} | {t['q1']}..{t['q3']} | "
                         f"{t['min']}..{t['max']} | {_fmt_ratio(r['x_numpy'])} | "
                         f"{_fmt_ratio(r['x_torch'])} |")
    return lines


def report(results: dict[str, Any]) -> str:
    out = []
    if "steps" in results:
        out += ["### Training step (batch 128, float32, SGD)", ""]
        out += timing_table([(r["name"], r["frameworks"]) for r in results["steps"].values()],
                            "us")
        checks = {r["name"]: r["max_abs_weight_difference_after_one_step"]
                  for r in results["steps"].values()}
        out += ["", "Same update as numpy after one step (max |w - w_numpy|): " + "; ".join(
            f"{name}: " + ", ".join(f"{fw} {_fmt_check(v)}" for fw, v in c.items())
            for name, c in checks.items()), ""]
    if "op" in results:
        r = results["op"]
        out += ["### One elementwise op, forward + backward", ""]
        out += timing_table([(r["name"], r["frameworks"])], "us") + [""]
    if "epoch" in results:
        r = results["epoch"]
        out += [f"### One epoch ({r['data']})", ""]
        out += timing_table([(r["name"], r["frameworks"])], "s") + [""]
    if "memory" in results:
        r = results["memory"]
        a, b = r["readings"]
        verdict = "flat" if r["flat"] else "NOT flat: memory grows with the number of steps"
        out += ["### Memory (tracemalloc)", "", f"{r['name']}: peak {a['peak_bytes'] / 2**20:.2f}"
                f" MiB after {a['step']:,} steps, {b['peak_bytes'] / 2**20:.2f} MiB after "
                f"{b['step']:,} (growth {r['peak_growth_bytes'] / 1024:.1f} KiB): {verdict}", ""]
    if "accuracy" in results:
        r = results["accuracy"]
        out += ["### Time to accuracy", ""]
        if r["status"] == "reached":
            out += [f"{r['name']}: {r['training_seconds']:.2f} s of training, {r['epochs']} "
                    f"epoch(s) ({r['recipe']})", ""]
        elif r["status"] == "not reached":
            best = max(h["test_accuracy"] for h in r["history"])
            out += [f"{r['name']}: not reached in {len(r['history'])} epochs (best "
                    f"{best:.4f})", ""]
        else:
            out += [f"{r['name']}: {r['status']}", ""]
    return "\n".join(out)


def _fmt_check(value: Any) -> str:
    return value if isinstance(value, str) else f"{value:.1e}"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    threads = pin_threads(args.threads)
    results: dict[str, Any] = {"machine": machine(), "threads": threads,
                               "settings": {k: v for k, v in vars(args).items() if k != "json"}}
    runners = {"steps": bench_steps, "op": bench_op, "epoch": bench_epoch,
               "memory": bench_memory, "accuracy": bench_accuracy}
    began = time.perf_counter()
    for section in args.sections:
        print(f"[{section}]", file=sys.stderr)
        results[section] = runners[section](args)
    results["machine"]["load_average_after"] = (list(os.getloadavg())
                                                if hasattr(os, "getloadavg") else None)
    results["seconds"] = time.perf_counter() - began
    m = results["machine"]
    dirty = " + uncommitted changes" if m["tinygrad_hw_uncommitted_changes"] else ""
    print(f"## tinygrad_hw benchmarks ({m['date']}, commit {m['commit']}{dirty}, {m['cpus']} "
          f"CPUs, {args.threads} "
          f"thread(s), numpy {m['numpy']}, torch {m['torch']}, tg.compile {m['tg.compile']}; "
          f"load average {_load(m['load_average'])} before, {_load(m['load_average_after'])} "
          f"after)\n")
    print(report(results))
    path = Path(args.json)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(plain(results), indent=1) + "\n")
    print(f"results: {path}")
    return results


def _load(load: list[float] | None) -> str:
    return "n/a" if load is None else " ".join(f"{v:.2f}" for v in load)


if __name__ == "__main__":
    main()
