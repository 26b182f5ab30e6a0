"""Interleaved timing: every framework's case runs in turn (A B C, B C A, C A B, ...) in one
process, so changes in machine load hit all of them alike; warm-up calls are discarded and
each timed block runs a case `number` times (timeit-style), giving one time per call."""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable


def calls_per_block(fn: Callable[[], object], block_seconds: float) -> int:
    """How many calls of fn fill about `block_seconds` (at least 1), from the fastest of 3."""
    best = math.inf
    for _ in range(3):
        began = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - began)
    return max(1, math.ceil(block_seconds / max(best, 1e-9)))


def interleaved(
    cases: dict[str, Callable[[], object]], repeat: int, warmup: int = 1,
    block_seconds: float = 0.05, number: int | None = None,
) -> tuple[dict[str, list[float]], dict[str, int]]:
    """({name: seconds per call, one per timed block}, {name: calls per block}).

    `warmup` untimed calls of each case first (interleaved too), then `repeat` rounds; round
    r runs the cases in the order rotated by r. The garbage collector stays on, as in
    training."""
    names = list(cases)
    for _ in range(warmup):
        for name in names:
            cases[name]()
    numbers = {n: number or calls_per_block(cases[n], block_seconds) for n in names}
    times: dict[str, list[float]] = {n: [] for n in names}
    for r in range(repeat):
        k = r % len(names) if names else 0
        for name in names[k:] + names[:k]:
            fn, n = cases[name], numbers[name]
            began = time.perf_counter()
            for _ in range(n):
                fn()
            times[name].append((time.perf_counter() - began) / n)
    return times, numbers


def summary(samples: list[float]) -> dict[str, float]:
    """Median, quartiles (interquartile range q1..q3), min and max of the per-block times."""
    q1, _, q3 = (statistics.quantiles(samples, n=4, method="inclusive") if len(samples) > 1
                 else samples * 3)
    return {"median": statistics.median(samples), "q1": q1, "q3": q3,
            "min": min(samples), "max": max(samples)}
