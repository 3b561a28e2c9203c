"""Benchmark of the lock matrix: prints figures, asserts nothing.

    uv run python -m benchmarks.lock_matrix [--jobs 2] [--limit N]

For the same rendered pyprojects, in one run, it measures:
- rendering each combination through copier's API;
- the test harness on each (what tests/test_combinations.py does after rendering: `uv lock`,
  read the lock and check it), and the bare `uv lock` inside it, so the ratio is the harness's overhead;
- the bare lock online too (uv revalidating PyPI's pages), for comparison;
- lock time and uv.lock size with `environments` restricted to the selected platforms, against
  a universal lock of the same configuration (environments and required-environments removed).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import uv

from compat.model import load
from tests.support import render_cache
from tests.support.combinations import Combination, all_combinations
from tests.support.interpreters import find_python
from tests.support.lock import Lockfile, check_lock, lock_command, lock_environment, run_lock
from tests.support.project import answers_of, copy_template, render
from tests.support.stand_in import write_index

_state: dict[str, Any] = {}


def _init(template: str, index: str) -> None:
    render_cache.enable()  # render as the tests do
    _state.update(template=Path(template), index=Path(index), uv=uv.find_uv_bin(), compat=load())


def _timed_lock(project: Path, python: Path, *mode: str) -> tuple[float, int]:
    started = time.perf_counter()
    done = subprocess.run(
        lock_command(_state["uv"], python, _state["compat"], *mode),
        cwd=project,
        capture_output=True,
        text=True,
        env=lock_environment(),
        check=False,
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(done.stderr)
    return elapsed, (project / "uv.lock").stat().st_size


def _universal(project: Path) -> None:
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text()
    for key in ("environments", "required-environments"):
        text = re.sub(rf"\n{key} = \[.*?\]\n", "\n", text, flags=re.S)
    pyproject.write_text(text)


def measure(combination: Combination) -> dict[str, Any]:
    compat, index = _state["compat"], _state["index"]
    work = Path(tempfile.mkdtemp(prefix="bench-"))
    try:
        data = {**combination.data, "pytorch_index_url": index.as_uri()}
        started = time.perf_counter()
        project = render(_state["template"], work / "render" / "project", data)
        rendered = time.perf_counter() - started
        python = find_python(_state["uv"], answers_of(project)["python_min"])
        if python is None:
            return {"skipped": f"no CPython {answers_of(project)['python_min']}"}

        # The harness, as tests/test_combinations.py runs it.
        harness = Path(shutil.copytree(project, work / "harness"))
        started = time.perf_counter()
        answers = answers_of(harness)
        result = run_lock(_state["uv"], harness, python, compat)
        if result.returncode != 0:
            raise RuntimeError(result.stderr)
        check_lock(compat, answers, Lockfile(harness / "uv.lock"), index.as_uri(), harness)
        harnessed = time.perf_counter() - started

        bare, size = _timed_lock(Path(shutil.copytree(project, work / "bare")), python, "--offline")
        online, _ = _timed_lock(Path(shutil.copytree(project, work / "online")), python)
        universal_dir = Path(shutil.copytree(project, work / "universal"))
        _universal(universal_dir)
        universal, universal_size = _timed_lock(universal_dir, python)
        return {
            "render": rendered,
            "harness": harnessed,
            "bare": bare,
            "online": online,
            "size": size,
            "universal": universal,
            "universal_size": universal_size,
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.lock_matrix", description=__doc__)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--limit", type=int, default=0, help="only the first N combinations")
    args = parser.parse_args(argv)
    combinations = all_combinations()
    if args.limit:
        combinations = combinations[: args.limit]
    root = Path(tempfile.mkdtemp(prefix="bench-root-"))
    template = copy_template(root / "template")
    index = write_index(root / "index", load())
    started = time.perf_counter()
    with ProcessPoolExecutor(
        args.jobs, initializer=_init, initargs=(str(template), str(index))
    ) as pool:
        results = list(pool.map(measure, combinations, chunksize=4))
    wall = time.perf_counter() - started
    shutil.rmtree(root, ignore_errors=True)

    done = [r for r in results if "skipped" not in r]
    skipped = [r["skipped"] for r in results if "skipped" in r]

    def median(key: str) -> float:
        return statistics.median(r[key] for r in done)

    per_combination = statistics.median(r["render"] + r["harness"] for r in done)
    print(f"combinations rendered:               {len(results)}")
    print(
        f"combinations locked:                 {len(done)} ({len(skipped)} skipped: {sorted(set(skipped))})"
    )
    print(f"total wall time:                     {wall:.0f} s with {args.jobs} processes")
    print(f"median time per combination:         {per_combination:.3f} s (render + harness lock)")
    print(f"  median render (copier API):        {median('render'):.3f} s")
    print(
        f"  median harness lock:               {median('harness'):.3f} s (uv lock, then read and check the lock)"
    )
    print(
        f"median bare uv lock:                 {median('bare'):.3f} s (the same command, offline, nothing around it)"
    )
    print(
        f"harness overhead:                    {median('harness') / median('bare'):.2f}x bare uv lock"
    )
    print(
        f"median bare uv lock, online:         {median('online'):.3f} s (uv revalidates PyPI's pages)"
    )
    print(
        f"median uv.lock size, restricted:     {median('size') / 1024:.1f} KiB (environments = selected platforms)"
    )
    print(f"median uv.lock size, universal:      {median('universal_size') / 1024:.1f} KiB")
    print(f"median lock time, restricted:        {median('online'):.3f} s (online)")
    print(f"median lock time, universal:         {median('universal'):.3f} s (online)")


if __name__ == "__main__":
    main()
