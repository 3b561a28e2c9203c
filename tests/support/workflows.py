"""Checks of GitHub Actions files, shared by the generated project's tests and this repository's."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent


def tool(name: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """A command-line tool of the dev environment."""
    return subprocess.run(
        [str(BIN / name), *args], cwd=cwd, capture_output=True, text=True, check=False
    )


def schema_check(schema: str, path: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return tool("check-jsonschema", "--builtin-schema", schema, str(path), cwd=cwd)


def zizmor(path: str, cwd: Path, persona: str = "regular") -> subprocess.CompletedProcess[str]:
    return tool("zizmor", "--offline", "--no-progress", "--persona", persona, path, cwd=cwd)


def unpinned_actions(workflow: dict[str, Any]) -> list[str]:
    """The `uses:` of every step not pinned to a full commit SHA."""
    found = []
    for job in workflow["jobs"].values():
        for step in job["steps"]:
            if "uses" in step:
                ref = step["uses"].split("@", 1)[1]
                if len(ref) != 40 or any(c not in "0123456789abcdef" for c in ref):
                    found.append(step["uses"])
    return found
