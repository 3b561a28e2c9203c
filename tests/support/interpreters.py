"""Finding a real CPython interpreter for a version, at run time.

uv cannot download Pythons on every machine, and a pyenv shim of an inactive version is an error,
so ask `uv python find` first and fall back to pyenv's versions folder.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from functools import cache
from pathlib import Path


def _pyenv_candidates(version: str) -> list[Path]:
    pyenv = shutil.which("pyenv")
    if not pyenv:
        return []
    root = subprocess.run([pyenv, "root"], capture_output=True, text=True, check=False).stdout
    versions = Path(root.strip()) / "versions"
    return sorted(versions.glob(f"{version}.*/bin/python{version}"), reverse=True)


def _works(python: Path) -> bool:
    run = subprocess.run([str(python), "-c", "pass"], capture_output=True, check=False)
    return run.returncode == 0


@cache
def find_python(uv: str, version: str) -> Path | None:
    """A real interpreter of CPython `version` ("3.12"), or None if this machine has none."""
    # Outside any virtual environment: the tests' own (the dev venv) is not what a project gets.
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    env["UV_PYTHON_DOWNLOADS"] = "never"
    found = subprocess.run(
        [uv, "python", "find", "--system", version],
        capture_output=True,
        text=True,
        env=env,
        cwd="/",
        check=False,
    )
    if found.returncode == 0:
        path = Path(found.stdout.strip())
        if "shims" not in path.parts and _works(path):
            return path
    return next((p for p in _pyenv_candidates(version) if _works(p)), None)


def python_for(uv: str, version: str) -> Path:
    """The interpreter, or a skip that names the missing version."""
    import pytest

    python = find_python(uv, version)
    if python is None:
        pytest.skip(
            f"no CPython {version} interpreter on this machine (uv python find and pyenv found none)"
        )
    return python
