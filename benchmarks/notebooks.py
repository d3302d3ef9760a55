"""Wall time of each solution notebook, top to bottom in a fresh kernel (kernel start included).

    python benchmarks/notebooks.py [--repeats 3]

Two runs per notebook: as a student runs it (every cell, the `compare-torch` cells that import
real torch included) and as the grader runs it (those cells skipped). Medians of the repeats.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from nbclient import NotebookClient

from grader.execute import execute, read
from grader.release import SOLUTIONS, assignments


def student_run(path: Path) -> float:
    start = time.perf_counter()
    NotebookClient(
        read(path), timeout=60, resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    return time.perf_counter() - start


def grader_run(path: Path) -> float:
    start = time.perf_counter()
    execute(read(path), path.parent)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print("| notebook | every cell (s) | as graded (s) |")
    print("| --- | ---: | ---: |")
    for assignment in assignments():
        (path,) = (SOLUTIONS / assignment).glob("*.ipynb")
        full = [student_run(path) for _ in range(args.repeats)]
        graded = [grader_run(path) for _ in range(args.repeats)]
        print(f"| {assignment} | {statistics.median(full):.1f} | {statistics.median(graded):.1f} |")


if __name__ == "__main__":
    main()
