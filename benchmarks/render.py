"""Benchmark of one render: prints figures, asserts nothing.

    uv run python -m benchmarks.render [--repeat 15] [--processes 9]

First as users run copier: `copier copy` and `copier update` (to the same version) as whole
processes from a git checkout, CPU time (user + system) of each, bytecode already compiled, for
- copier's floor: a template of one question and one file;
- this template, with defaults (pypi mode) and in platform mode;
medians of `--processes` rounds after one warm-up, each round running the floor and every case
once in turn (a slow spell of the machine falls on all of them); the ratio is this template's
median over the floor's.

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


def _copier(*args: str) -> list[str]:
    return [str(Path(sys.executable).with_name("copier")), *args, "--defaults", "--quiet",
            "--vcs-ref", "HEAD"]


def copy_once(template: Path, out: Path, data: dict[str, Any]) -> float:
    return _cpu_of([*_copier("copy"), *_data_args(data), str(template),
                    str(out / f"copy-{time.time_ns()}")])


def update_once(project: Path) -> float:
    cpu = _cpu_of(_copier("update"), cwd=project)
    subprocess.run(["git", "commit", "-qam", "u", "--allow-empty"], cwd=project, check=True,
                   env={**os.environ, **GIT_ENV})
    return cpu


def whole_process(git: dict[str, Path], out: Path, runs: int) -> None:
    """Each round runs the floor and every case once, in turn, so that a slower spell of the
    machine falls on all of them: medians of `runs` rounds after one warm-up round (bytecode)."""
    cases = [("copier's floor", git["floor"], {})] + [
        (name, git["this"], data) for name, data in ANSWERS.items()]
    projects = {}
    for name, template, data in cases:
        project = out / f"update-{len(projects)}"
        subprocess.run([*_copier("copy"), *_data_args(data), str(template), str(project)],
                       check=True, capture_output=True)
        projects[name] = as_git(project)
    print(f"as users run copier (whole process, CPU time, git checkout, median of {runs}, "
          "the floor in each round):")
    for command in ("copier copy", "copier update"):
        samples: dict[str, list[float]] = {name: [] for name, _, _ in cases}
        for round_ in range(runs + 1):
            for name, template, data in cases:
                cpu = (copy_once(template, out, data) if command == "copier copy"
                       else update_once(projects[name]))
                if round_:
                    samples[name].append(cpu)
        floor = statistics.median(samples["copier's floor"])
        print(f"  {command}: copier's floor {floor * 1000:6.0f} ms")
        for name, _, _ in cases[1:]:
            ours = statistics.median(samples[name])
            print(f"    {name:<16} {ours * 1000:6.0f} ms  = {ours / floor:5.2f}x the floor "
                  f"(range {min(samples[name]) * 1000:.0f}-{max(samples[name]) * 1000:.0f} ms)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.render", description=__doc__)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--processes", type=int, default=9)
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
