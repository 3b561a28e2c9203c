"""Benchmark of one render: prints figures, asserts nothing.

    uv run python -m benchmarks.render [--repeat 15] [--processes 7]

First as users run copier: `copier copy` and `copier update` (to the same version) as whole
processes from a git checkout, CPU time (user + system) of each, bytecode already compiled, for
- copier's floor: a template of one question and one file;
- this template, with defaults (pypi mode) and in platform mode;
medians of `--processes` runs after one warm-up, the floor measured in the same run; the ratio
is this template's median over the floor's.

Then in one process, for the same answers, copier's `run_copy` of each, from a plain folder (what
the tests render) and from a git checkout, without and with the tests' render caches
(tests/support/render_cache.py): medians of `--repeat` renders after one warm-up.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
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


GIT_ENV = {
    "GIT_AUTHOR_NAME": "b",
    "GIT_AUTHOR_EMAIL": "b@example.invalid",
    "GIT_COMMITTER_NAME": "b",
    "GIT_COMMITTER_EMAIL": "b@example.invalid",
}


def floor_template(root: Path) -> Path:
    (root / "template").mkdir(parents=True)
    (root / "copier.yml").write_text("_subdirectory: template\nname:\n  type: str\n  default: x\n")
    (root / "template" / "README.md.jinja").write_text("# {{ name }}\n")
    # The answers file, without which no template can be updated.
    (root / "template" / "{{ _copier_conf.answers_file }}.jinja").write_text(
        "{{ _copier_answers | to_nice_yaml }}")
    return root


def as_git(template: Path) -> Path:
    env = {**GIT_ENV, "PATH": "/usr/bin:/bin"}
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


def _cpu_of(command: list[str], cwd: Path | None = None) -> float:
    """CPU seconds (user + system) of one process and its children."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(command, cwd=cwd, check=True, capture_output=True,
                   env={**os.environ, **GIT_ENV})
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _data_args(data: dict[str, Any]) -> list[str]:
    return [arg for key, value in data.items() for arg in ("--data", f"{key}={value}")]


def process_copy(template: Path, out: Path, data: dict[str, Any], runs: int) -> float:
    copier_bin = str(Path(sys.executable).with_name("copier"))
    times = []
    for n in range(runs + 1):
        dest = out / f"copy-{time.time_ns()}"
        cpu = _cpu_of([copier_bin, "copy", "--defaults", "--quiet", "--vcs-ref", "HEAD",
                       *_data_args(data), str(template), str(dest)])
        if n:  # the first run compiles bytecode
            times.append(cpu)
    return statistics.median(times)


def process_update(template: Path, out: Path, data: dict[str, Any], runs: int) -> float:
    copier_bin = str(Path(sys.executable).with_name("copier"))
    project = out / f"update-{time.time_ns()}"
    subprocess.run([copier_bin, "copy", "--defaults", "--quiet", "--vcs-ref", "HEAD",
                    *_data_args(data), str(template), str(project)], check=True,
                   capture_output=True)
    as_git(project)
    times = []
    for n in range(runs + 1):
        cpu = _cpu_of([copier_bin, "update", "--defaults", "--quiet", "--vcs-ref", "HEAD"],
                      cwd=project)
        subprocess.run(["git", "commit", "-qam", "u", "--allow-empty"], cwd=project, check=True,
                       env={**os.environ, **GIT_ENV})
        if n:
            times.append(cpu)
    return statistics.median(times)


def whole_process(git: dict[str, Path], out: Path, runs: int) -> None:
    print(f"as users run copier (whole process, CPU time, git checkout, median of {runs}):")
    for command, measure in (("copier copy", process_copy), ("copier update", process_update)):
        floor = measure(git["floor"], out, {}, runs)
        print(f"  {command}: copier's floor {floor * 1000:6.0f} ms")
        for name, data in ANSWERS.items():
            ours = measure(git["this"], out, data, runs)
            print(f"    {name:<16} {ours * 1000:6.0f} ms  = {ours / floor:5.2f}x the floor")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.render", description=__doc__)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--processes", type=int, default=7)
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")  # copier warns of dirty templates and missing tags
    root = Path(tempfile.mkdtemp(prefix="bench-render-"))
    plain = {"floor": floor_template(root / "floor"), "this": copy_template(root / "this")}
    git = {
        "floor": as_git(floor_template(root / "floor-git")),
        "this": as_git(copy_template(root / "this-git")),
    }
    out = root / "out"
    whole_process(git, out, args.processes)
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
