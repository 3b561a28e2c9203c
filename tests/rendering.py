"""Rendering the template in-process through copier's Python API."""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path
from typing import Any

import copier
import yaml

ROOT = Path(__file__).resolve().parent.parent
# What copier reads of this repository when it renders: the interview, the data, the macros and
# the project skeleton.
TEMPLATE_PARTS = ("copier.yml", "compat/pytorch.yml", "includes", "template")


def copy_template(dest: Path) -> Path:
    """A plain-folder copy of the template. Copier would clone a git checkout on every render;
    a plain folder renders the working tree as it is, and fast."""
    for part in TEMPLATE_PARTS:
        source = ROOT / part
        target = dest / part
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, target)
    return dest


def render(template: Path, dest: Path, data: dict[str, Any]) -> Path:
    copier.run_copy(
        str(template),
        str(dest),
        data=data,
        defaults=True,
        quiet=True,
        unsafe=False,
        overwrite=True,
    )
    return dest


def answers_of(project: Path) -> dict[str, Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load((project / ".copier-answers.yml").read_text(encoding="utf-8"), Loader=loader)


def pyproject_of(project: Path) -> dict[str, Any]:
    return tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
