"""Benchmark of one render: prints figures, asserts nothing.

    uv run python -m benchmarks.render [--repeat 15]

In one process, for the same answers, it measures copier's `run_copy` of
- copier's floor: a template of one question and one file;
- this template, with defaults (pypi mode) and in platform mode;
each from a plain folder (what the tests render) and from a git checkout (what users render),
and each without and with the tests' render caches (tests/support/render_cache.py). Medians of
`--repeat` renders after one warm-up; the ratio is this template's median over the floor's.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import copier

from tests.support import render_cache
from tests.support.project import copy_template

ANSWERS: dict[str, dict[str, Any]] = {
    "defaults (pypi)": {},
    "platform": {"accelerator_mode": "platform"},
}


def floor_template(root: Path) -> Path:
    (root / "template").mkdir(parents=True)
    (root / "copier.yml").write_text("_subdirectory: template\nname:\n  type: str\n  default: x\n")
    (root / "template" / "README.md.jinja").write_text("# {{ name }}\n")
    return root


def as_git(template: Path) -> Path:
    env = {
        "GIT_AUTHOR_NAME": "b",
        "GIT_AUTHOR_EMAIL": "b@example.invalid",
        "GIT_COMMITTER_NAME": "b",
        "GIT_COMMITTER_EMAIL": "b@example.invalid",
        "PATH": "/usr/bin:/bin",
    }
    for command in (["git", "init", "-q"], ["git", "add", "-A"], ["git", "commit", "-qm", "b"]):
        subprocess.run(command, cwd=template, check=True, env=env)
    return template


def median_render(
    template: Path, out: Path, data: dict[str, Any], repeat: int, vcs_ref: str | None
) -> float:
    times = []
    for n in range(repeat + 1):
        started = time.perf_counter()
        copier.run_copy(
            str(template),
            str(out / f"{time.time_ns()}"),
            data=data,
            defaults=True,
            quiet=True,
            overwrite=True,
            vcs_ref=vcs_ref,
        )
        if n:  # the first render warms imports and caches
            times.append(time.perf_counter() - started)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.render", description=__doc__)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")  # copier warns of dirty templates and missing tags
    root = Path(tempfile.mkdtemp(prefix="bench-render-"))
    plain = {"floor": floor_template(root / "floor"), "this": copy_template(root / "this")}
    git = {
        "floor": as_git(floor_template(root / "floor-git")),
        "this": as_git(copy_template(root / "this-git")),
    }
    out = root / "out"
    for cached in (False, True):
        (render_cache.enable if cached else render_cache.disable)()
        label = "with the tests' render caches" if cached else "as users render (no cache)"
        print(f"{label}:")
        for source, templates, ref in (
            ("plain folder", plain, None),
            ("git checkout", git, "HEAD"),
        ):
            floor = median_render(templates["floor"], out, {}, args.repeat, ref)
            print(f"  {source}: copier's floor {floor * 1000:6.1f} ms")
            for name, data in ANSWERS.items():
                ours = median_render(templates["this"], out, data, args.repeat, ref)
                print(f"    {name:<16} {ours * 1000:6.1f} ms  = {ours / floor:5.1f}x the floor")
    render_cache.disable()


if __name__ == "__main__":
    main()
