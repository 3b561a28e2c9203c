"""A rendered project driven as its user and its CI drive it: the commands of its CI workflow and
of its README's console blocks, run in the project, with a real torch CPU wheel where this machine
has one and the stand-in index for everything else.

Nothing here knows what the commands are: they are read from the rendered files. What cannot run
on this machine (a Docker daemon, gigabytes of CUDA wheels) is decided per command by
`README_COMMANDS`, each with the reason; a command it does not know fails the journey.
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.support.lock import REAL_INDEX_URL, lock_environment, real_index_reachable

# What pip's configuration names as local wheel folders; a real torch CPU wheel may lie there.
WHEEL_GLOB = "torch-*+cpu-cp311-cp311-*x86_64.whl"
REAL_PYTHON = "3.11"


def find_links_wheel() -> Path | None:
    """A torch CPU wheel for CPython 3.11 on Linux x86_64 in pip's find-links folders, if any."""
    try:
        configured = subprocess.run(
            [sys.executable, "-m", "pip", "config", "get", "global.find-links"],
            capture_output=True, text=True, check=False,
        ).stdout.split()
    except OSError:
        return None
    folders = [
        Path(p.removeprefix("file://"))
        for p in configured + os.environ.get("PIP_FIND_LINKS", "").split()
    ]
    for folder in folders:
        found = sorted(folder.glob(WHEEL_GLOB)) if folder.is_dir() else []
        if found:
            return found[-1]
    return None


def wheel_version(wheel: Path) -> str:
    """The public version of a wheel file (2.13.0 of torch-2.13.0+cpu-...)."""
    return wheel.name.split("-")[1].split("+")[0]


def real_index(stand_in: Path, wheel: Path | None, dest: Path) -> Path:
    """The stand-in, but for the Linux x86_64 torch files of its cpu index: the real wheel there
    (where this machine has one). Hard links, not symbolic ones: uv would record the stand-in's
    path, and the lock contract rightly checks that the index is the one answered."""
    shutil.copytree(stand_in, dest, copy_function=os.link)
    page = (dest / "cpu" / "torch" / "index.html").read_text(encoding="utf-8")
    links = []
    for attributes, name in re.findall(r'<a (href="[^"]+"[^>]*)>([^<]+)</a>', page):
        if re.search(r"linux_x86_64|manylinux_[0-9_]+_x86_64", name):
            continue  # the stubs this machine can replace by the real wheel
        links.append(f"<a {attributes}>{name}</a><br/>")
    if wheel is not None:
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        links.append(f'<a href="{wheel.as_uri()}#sha256={digest}">{wheel.name}</a><br/>')
    (dest / "cpu" / "torch" / "index.html").unlink()  # a hard link: never write through it
    (dest / "cpu" / "torch" / "index.html").write_text(
        "<!DOCTYPE html>\n<html><body>\n" + "\n".join(links) + "\n</body></html>\n",
        encoding="utf-8",
    )
    return dest


def docker_unavailable() -> str | None:
    """Why a container cannot be built here, or None."""
    try:
        info = subprocess.run(["docker", "info"], capture_output=True, text=True, check=False)
    except OSError:
        return "no docker client on this machine"
    if info.returncode != 0:
        return "no Docker daemon reachable (docker info failed)"
    if not real_index_reachable():
        return f"the image installs from the real PyTorch index, and {REAL_INDEX_URL} is unreachable"
    return None


# Running what the project says -----------------------------------------------------------------


@dataclass
class Step:
    where: str  # "ci lint", "readme", ...
    command: str
    outcome: str  # "ran", or why it did not run here
    output: str = ""


@dataclass
class Walk:
    """One project's journey: its commands run in order, each recorded."""

    project: Path
    env: dict[str, str]
    steps: list[Step] = field(default_factory=list)

    def run(self, where: str, command: str, extra_env: dict[str, str] | None = None
            ) -> subprocess.CompletedProcess[str]:
        # GitHub's Linux runners run `run:` steps with `bash -e`.
        started = time.perf_counter()
        done = subprocess.run(
            ["bash", "-e", "-c", command], cwd=self.project, capture_output=True, text=True,
            env={**self.env, **(extra_env or {})}, check=False,
        )
        elapsed = time.perf_counter() - started
        self.steps.append(Step(where, command, f"ran ({elapsed:.1f} s)", done.stdout + done.stderr))
        assert done.returncode == 0, f"{where}: `{command}` failed:\n{done.stdout}{done.stderr}"
        return done

    def skip(self, where: str, command: str, reason: str) -> None:
        self.steps.append(Step(where, command, reason))

    def installed_torch(self) -> str | None:
        """The torch version in the project's .venv, or None."""
        done = subprocess.run(
            ["uv", "run", "--no-sync", "python", "-c",
             "import importlib.metadata as m; print(m.version('torch'))"],
            cwd=self.project, capture_output=True, text=True, env=self.env, check=False,
        )
        return done.stdout.strip() if done.returncode == 0 else None

    def report(self) -> str:
        return "\n".join(f"  [{s.where}] {s.command}  ->  {s.outcome}" for s in self.steps)


def walk_environment(uv_bin: str, python: Path) -> dict[str, str]:
    """What a user's shell has: uv on PATH, a Python for the project, no suite's venv."""
    env = lock_environment()
    env["PATH"] = f"{Path(uv_bin).parent}{os.pathsep}{env.get('PATH', '')}"
    env["UV_PYTHON"] = str(python)
    return env


def ci_steps(project: Path, job: str) -> list[tuple[str, dict[str, str]]]:
    """The `run:` commands of one job of the project's CI, with their `env:`."""
    workflow = yaml.safe_load((project / ".github/workflows/ci.yml").read_text(encoding="utf-8"))
    found = []
    for step in workflow["jobs"][job]["steps"]:
        if "run" in step:
            found.append((step["run"], {k: str(v) for k, v in step.get("env", {}).items()}))
    return found


def readme_commands(project: Path) -> list[str]:
    """Every command of the README's console blocks, in order, without comments."""
    text = (project / "README.md").read_text(encoding="utf-8")
    commands = []
    for block in re.findall(r"^```console\n(.*?)^```$", text, re.S | re.M):
        for line in block.splitlines():
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            words = shlex.split(line, comments=True)
            commands.append(shlex.join(words))
    return commands


def fences(text: str) -> list[str]:
    """The opening lines of a Markdown text's code fences that carry more than a language."""
    return [line for line in re.findall(r"^```.*$", text, re.M)
            if not re.fullmatch(r"```[A-Za-z0-9_+-]*", line)]


# Which README commands run here, and why the others cannot --------------------------------------

NEEDS_TORCH = re.compile(r"^uv run .*(python -c .*import torch|-doctor|\.doctor|pytest)")
CUDA_FROM_PYPI = "downloads PyPI's CUDA build of torch on Linux (gigabytes)"


def readme_decision(command: str, answers: dict[str, Any], docker: str | None) -> str | None:
    """None where the command runs here; else why it cannot. A command this does not know is an
    error: each new README command needs a decision here."""
    if "<new_name>" in command:
        return ("renames the package, with a name to choose; tests/test_update.py runs the recipe "
                "(test_the_readme_way_to_rename_the_package_keeps_the_users_edits)")
    if command.startswith("docker "):
        return docker
    if command.startswith("sbatch "):
        return "needs a Slurm cluster (sbatch); shellcheck checks the script it runs"
    if command.startswith("pip install"):
        return ("installs into an environment uv does not manage, from PyPI or the index "
                "(gigabytes of wheels); the same requirements and indexes are locked and synced "
                "above")
    if answers["accelerator_mode"] == "pypi" and re.fullmatch(r"uv sync", command):
        return CUDA_FROM_PYPI
    known = (r"uv (lock|sync)\b.*", r"uv run .*", r"copier update .*",
             r"PYTORCH_CPU_INDEX=\S+ scripts/sync-cpu\.sh")
    if any(re.fullmatch(pattern, command) for pattern in known):
        return None
    raise AssertionError(f"README command with no decision in tests/support/journey.py: {command}")
