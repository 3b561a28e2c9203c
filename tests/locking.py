"""Running `uv lock` the way the tests need it: deterministic, and against a chosen index.

Resolution is pinned to the date the compatibility data was checked (`--exclude-newer`), so a
new release on PyPI cannot change a test's outcome. Neither the PyTorch index nor the stand-in
publishes upload times, so the packages they serve are exempt from that pin.

Against the stand-in, a lock first runs `--offline`, from uv's cache: PyPI answers here come back
stale, and revalidating some fifteen pages costs a lock about 0.8 s of its 0.9 s. Only a lock that
needs what the cache lacks goes online, which fills the cache for the rest. The pinned date makes
both give the same resolution. Network mode always goes online: checking the live index is its point.
"""

from __future__ import annotations

import os
import subprocess
import urllib.request
from functools import cache
from pathlib import Path

from compat.model import Compat

# Network mode: lock against the real PyTorch index instead of the stand-in.
REAL_INDEX_SWITCH = "TORCH_UV_TEMPLATE_REAL_INDEX"
REAL_INDEX_URL = "https://download.pytorch.org/whl"


def real_index_requested() -> bool:
    return os.environ.get(REAL_INDEX_SWITCH, "") not in ("", "0", "false", "no")


@cache
def real_index_reachable() -> bool:
    try:
        with urllib.request.urlopen(f"{REAL_INDEX_URL}/cpu/torch/", timeout=10) as response:
            return response.status == 200
    except OSError:
        return False


def pytorch_packages(compat: Compat) -> list[str]:
    """Every package a PyTorch index serves to these projects."""
    tritons = {t.package for r in compat.releases for t in r.triton.values()}
    return ["torch", "torchvision", "torchaudio", *sorted(tritons)]


def lock_command(uv: str, python: Path, compat: Compat, *extra: str) -> list[str]:
    command = [
        uv,
        "lock",
        "--python",
        str(python),
        "--exclude-newer",
        f"{compat.checked}T00:00:00Z",
    ]
    for package in pytorch_packages(compat):
        command += ["--exclude-newer-package", f"{package}=false"]
    return [*command, *extra]


def lock_environment() -> dict[str, str]:
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never", "UV_NO_PROGRESS": "1"}
    env.pop("VIRTUAL_ENV", None)
    return env


def run_lock(
    uv: str, project: Path, python: Path, compat: Compat, *extra: str
) -> subprocess.CompletedProcess[str]:
    def run(*mode: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            lock_command(uv, python, compat, *mode, *extra),
            cwd=project,
            capture_output=True,
            text=True,
            env=lock_environment(),
            check=False,
        )

    if real_index_requested():
        return run()
    offline = run("--offline")
    return offline if offline.returncode == 0 else run()
