"""Template versions as tagged git repositories in a tmp dir, as copier's own tests build them: one
commit per release CHANGELOG.md records (compat.releases: its files as of the commit that added
its heading), then the working tree on top."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

from compat.releases import Release, releases
from tests.support.project import ROOT, copy_template

GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "torch-uv-template tests",
    "GIT_AUTHOR_EMAIL": "tests@torch-uv-template.invalid",
    "GIT_COMMITTER_NAME": "torch-uv-template tests",
    "GIT_COMMITTER_EMAIL": "tests@torch-uv-template.invalid",
}
# What copier read of this repository at each release (0.1.0 included the data from compat/).
PARTS = ("copier.yml", "compat/pytorch.yml", "includes", "template")


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


def _extract(root: Path, commit: str, dest: Path) -> None:
    present = [p for p in PARTS if git(root, "ls-tree", "--name-only", commit, p).strip()]
    archive = subprocess.run(["git", "archive", "--format=tar", commit, *present], cwd=root,
                             capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(dest, filter="data")


def _clear(dest: Path) -> None:
    """Take the template's parts out of `dest`, for the next version to replace them."""
    for part in PARTS:
        path = dest / part
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


def tagged_template(dest: Path, root: Path = ROOT) -> tuple[Path, list[Release]]:
    """A template repo: one tagged commit per committed release, the working tree at HEAD."""
    found = releases(root)
    assert not isinstance(found, str), found
    dest.mkdir(parents=True)
    git(dest, "init", "-q", "-b", "main")
    for release in found:
        _clear(dest)
        _extract(root, release.commit, dest)
        commit_all(dest, f"torch-uv-template {release.version}")
        git(dest, "tag", release.version)
    _clear(dest)
    copy_template(dest)
    commit_all(dest, "torch-uv-template, the working tree")
    return dest, found
