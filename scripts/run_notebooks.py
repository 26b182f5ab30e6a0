"""Execute the tutorial notebooks (docs/tutorials/*.ipynb) in a fresh kernel each and store
them with their outputs, in place (`make notebooks`); with --check, execute copies and only
report errors. A notebook runs with its own folder as the working directory, as Jupyter
would open it.

    .venv/bin/python scripts/run_notebooks.py [--check] [NOTEBOOK ...]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

TUTORIALS = Path(__file__).resolve().parent.parent / "docs" / "tutorials"
TIMEOUT = 600  # seconds per cell


def execute(path: Path) -> nbformat.NotebookNode:
    """The notebook at `path`, executed top to bottom in a new python3 kernel; raises
    CellExecutionError (naming the cell and the error) when a cell fails."""
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=TIMEOUT, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    return nb


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("notebooks", nargs="*", type=Path, help="default: every tutorial")
    p.add_argument("--check", action="store_true", help="do not write the outputs back")
    args = p.parse_args(argv)
    failed = 0
    for path in args.notebooks or sorted(TUTORIALS.glob("*.ipynb")):
        began = time.perf_counter()
        try:
            nb = execute(path)
        except CellExecutionError as err:
            failed += 1
            print(f"{path}: FAILED\n{err}", file=sys.stderr)
            continue
        if not args.check:
            nbformat.write(nb, path)
        print(f"{path}: ok in {time.perf_counter() - began:.1f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
