"""Offline fixtures for the refresh command: a PyTorch index (real HTML format, from the
stand-in generator) and PyPI JSON, made from a changed copy of compat/pytorch.yml.

    uv run python -m tests.refresh_fixture DIR

writes DIR/index and DIR/pypi as they would look once cu134 appears, cu126 is retired and torch
2.16.0 (with Python 3.16) is out; then compare the data file with them:

    uv run python -m compat.refresh --index-url file://DIR/index --pypi-url file://DIR/pypi
"""

from __future__ import annotations

import argparse
import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from compat.model import Compat, parse, read_raw
from tests.stand_in_index import write_index

Change = Callable[[dict[str, Any]], None]


def pypi_json(compat: Compat, dest: Path) -> Path:
    """torch's PyPI JSON, as https://pypi.org/pypi/torch/json shapes it, for these releases."""
    tags = {
        "linux-x86_64": "manylinux_2_28_x86_64",
        "linux-aarch64": "manylinux_2_28_aarch64",
        "windows-x86_64": "win_amd64",
        "macos-arm64": "macosx_14_0_arm64",
    }
    releases = {
        str(r.version): [
            {
                "filename": f"torch-{r.version}-cp{p.replace('.', '')}-cp{p.replace('.', '')}-{tag}.whl"
            }
            for p in r.python
            for tag in tags.values()
        ]
        for r in compat.releases
    }
    page = dest / "torch" / "json"
    page.parent.mkdir(parents=True)
    page.write_text(
        json.dumps({"info": {"version": str(compat.releases[-1].version)}, "releases": releases})
    )
    return dest


def observed_world(dest: Path, change: Change | None = None) -> tuple[str, str]:
    """An index and a PyPI as they would look if the data were changed by `change`."""
    raw = copy.deepcopy(read_raw())
    if change:
        change(raw)
    world = parse(raw)
    index = write_index(dest / "index", world)
    pypi = pypi_json(world, dest / "pypi")
    return index.as_uri(), pypi.as_uri()


def add_cu134(raw: dict[str, Any]) -> None:
    raw["variants"]["cu134"] = {"family": "cuda", "cuda": "13.4"}
    raw["releases"][-1]["variants"] = {
        **raw["releases"][-1]["variants"],
        "cu134": {
            "platforms": ["linux-x86_64", "windows-x86_64"],
            "source": "x",
            "confidence": "V",
        },
    }


def retire_cu126(raw: dict[str, Any]) -> None:
    raw["releases"][-1]["variants"] = {
        k: v for k, v in raw["releases"][-1]["variants"].items() if k != "cu126"
    }


def release_2_16(raw: dict[str, Any]) -> None:
    new = copy.deepcopy(raw["releases"][-1])
    new.update(version="2.16.0", minor="2.16")
    new["python"] = {
        "value": ["3.12", "3.13", "3.14", "3.15", "3.16"],
        "source": "x",
        "confidence": "V",
    }
    raw["releases"].append(new)


def add_rocm_7_2_1(raw: dict[str, Any]) -> None:
    raw["variants"]["rocm7.2.1"] = {"family": "rocm", "rocm": "7.2.1"}
    raw["releases"][-1]["variants"] = {
        **raw["releases"][-1]["variants"],
        "rocm7.2.1": {"platforms": ["linux-x86_64"], "source": "x", "confidence": "V"},
    }


def everything(raw: dict[str, Any]) -> None:
    add_cu134(raw)
    retire_cu126(raw)
    release_2_16(raw)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.refresh_fixture", description=__doc__)
    parser.add_argument("dest", type=Path)
    dest = parser.parse_args().dest.resolve()
    index, pypi = observed_world(dest, everything)
    print(f"index: {index}\npypi:  {pypi}")


if __name__ == "__main__":
    main()
