"""Template versions as tagged git repositories in a tmp dir, as copier's own tests build them."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from tests.rendering import copy_template

GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "torch-uv-template tests",
    "GIT_AUTHOR_EMAIL": "tests@torch-uv-template.invalid",
    "GIT_COMMITTER_NAME": "torch-uv-template tests",
    "GIT_COMMITTER_EMAIL": "tests@torch-uv-template.invalid",
}


def git(cwd: Path, *args: str) -> str:
    env = {**os.environ, **GIT_IDENTITY}
    done = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, env=env, check=False
    )
    assert done.returncode == 0, f"git {' '.join(args)}: {done.stderr}"
    return done.stdout


def commit_all(repo: Path, message: str) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", message)


def make_older(template: Path) -> None:
    """What 0.1.0 lacked that the working tree has: the update must bring both."""
    pyproject = template / "template" / "pyproject.toml.jinja"
    text = pyproject.read_text()
    pyproject.write_text(text.replace('required-version = ">=0.13"', 'required-version = ">=0.12"'))
    readme = template / "template" / "README.md.jinja"
    text = readme.read_text()
    readme.write_text(re.sub(r"## Troubleshooting\n.*?\n---\n", "---\n", text, flags=re.S))


def tagged_template(root: Path, older: Callable[[Path], None] = make_older) -> Path:
    """A template repo: 0.1.0 an older version of the working tree, 0.2.0 (HEAD) the working tree."""
    repo = copy_template(root)
    git(repo, "init", "-q", "-b", "main")
    older(repo)
    commit_all(repo, "torch-uv-template 0.1.0")
    git(repo, "tag", "0.1.0")
    for part in ("template", "includes", "compat"):
        shutil.rmtree(repo / part)
    copy_template(repo)
    commit_all(repo, "torch-uv-template 0.2.0")
    git(repo, "tag", "0.2.0")
    return repo
