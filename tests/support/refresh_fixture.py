"""Offline fixtures for the refresh command: a PyTorch index (the stand-in generator's pages, in
the real HTML format, without the files they link to: the command reads file names) and a PyPI
(PEP 691 JSON listings, METADATA files), made from a changed copy of compat/pytorch.yml. The
changes follow the data: the next CUDA variant appears, the oldest variant of the newest release
is retired, and the next minor comes out with the next Python.

    uv run python -m tests.support.refresh_fixture DIR

writes DIR/index and DIR/pypi; then compare the data file with them:

    uv run python -m compat.refresh --index-url file://DIR/index --pypi-url file://DIR/pypi
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement

from compat.model import COMPANIONS, Compat, parse, read_raw
from compat.wheels import _marker
from tests.support.stand_in import write_index

Change = Callable[[dict[str, Any]], None]


def _metadata(name: str, version: str, requires: list[str]) -> str:
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    return "\n".join(lines + [f"Requires-Dist: {r}" for r in requires]) + "\n"


def _torch_requires(compat: Compat, version: str) -> list[str]:
    """What PyPI's wheel of a release requires, as the data describes its build per platform."""
    release = compat.release(version)
    requires = []
    cuda = [p for p, build in release.pypi_build.items() if compat.variants[build].family == "cuda"]
    if cuda:
        entry = compat.runtime_of(release.pypi_build[cuda[0]], release.version)
        for requirement in entry.requires if entry else ():
            parsed = Requirement(requirement)
            name = parsed.name + (f"[{','.join(sorted(parsed.extras))}]" if parsed.extras else "")
            requires.append(f"{name}{parsed.specifier}; {_marker(compat, cuda)}")
    triton = release.triton.get("cuda")
    if triton:
        requires.append(f"triton{triton.specifier}; {_marker(compat, list(triton.platforms), triton.python)}")
    return requires


def pypi_simple(compat: Compat, dest: Path) -> Path:
    """PyPI's simple JSON API under `dest`, as the data records PyPI."""
    for project, versions in compat.raw["pypi_files"].items():
        files = []
        for version, entry in versions.items():
            requires: list[str] = []
            if project == "torch":
                requires = _torch_requires(compat, version)
            elif project in COMPANIONS:
                # A companion no release names yet is shaped like the newest release's.
                release = next((r for r in compat.releases if r.companion(project) == version),
                               compat.releases[-1])
                needed = release.companion_torch_requirement(project)
                requires = [f"torch{needed}"] if needed else []
            for tags in entry["files"].values():
                for tag, entries in tags.items():
                    for python_abi in entries:
                        filename = f"{project.replace('-', '_')}-{version}-{python_abi}-{tag}.whl"
                        metadata = _metadata(project, version, requires)
                        folder = dest / "files"
                        folder.mkdir(parents=True, exist_ok=True)
                        (folder / f"{filename}.metadata").write_text(metadata, encoding="utf-8")
                        files.append({
                            "filename": filename,
                            "url": (folder / filename).as_uri(),
                            "hashes": {"sha256": hashlib.sha256(metadata.encode()).hexdigest()},
                        })
        page = dest / project / "index.json"
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(json.dumps({"meta": {"api-version": "1.0"}, "name": project,
                                    "files": files}), encoding="utf-8")
    return dest


def observed_world(dest: Path, change: Change | None = None) -> tuple[str, str]:
    """An index and a PyPI as they would look if the data were changed by `change`."""
    raw = copy.deepcopy(read_raw())
    if change:
        change(raw)
    world = parse(raw)
    index = write_index(dest / "index", world, listings_only=True)
    pypi = pypi_simple(world, dest / "pypi")
    return index.as_uri(), pypi.as_uri()


def next_cuda(raw: dict[str, Any]) -> tuple[str, str]:
    """(variant, CUDA version) of a CUDA release after the data's newest."""
    newest = max((v["cuda"] for v in raw["variants"].values() if v.get("cuda")),
                 key=lambda c: tuple(map(int, c.split("."))))
    major, minor = newest.split(".")
    cuda = f"{major}.{int(minor) + 2}"
    return f"cu{major}{int(minor) + 2}", cuda


def add_cuda(raw: dict[str, Any]) -> None:
    variant, cuda = next_cuda(raw)
    raw["variants"][variant] = {"family": "cuda", "cuda": cuda}
    raw["releases"][-1]["variants"] = {
        **raw["releases"][-1]["variants"],
        variant: {"platforms": ["linux-x86_64", "windows-x86_64"], "source": "x",
                  "confidence": "V"},
    }
    previous = next(e for e in reversed(raw["runtime"][next(
        k for k in reversed(raw["runtime"]) if k.startswith("cu"))]))
    raw["runtime"][variant] = [{**previous, "torch": [raw["releases"][-1]["version"]]}]


def retired_variant(raw: dict[str, Any]) -> str:
    """The oldest CUDA variant of the newest release: the next to be retired."""
    newest = raw["releases"][-1]["variants"]
    return next(v for v in raw["variants"] if v in newest and raw["variants"][v].get("cuda"))


def retire(raw: dict[str, Any]) -> None:
    gone = retired_variant(raw)
    raw["releases"][-1]["variants"] = {
        k: v for k, v in raw["releases"][-1]["variants"].items() if k != gone
    }


def next_release(raw: dict[str, Any]) -> tuple[str, list[str]]:
    """The version and Pythons of the next minor after the data's newest."""
    newest = raw["releases"][-1]
    major, minor = newest["minor"].split(".")
    pythons = newest["python"]["value"]
    last = pythons[-1].split(".")
    return f"{major}.{int(minor) + 1}.0", [*pythons[1:], f"{last[0]}.{int(last[1]) + 1}"]


def add_release(raw: dict[str, Any]) -> None:
    version, pythons = next_release(raw)
    new = copy.deepcopy(raw["releases"][-1])
    new.update(version=version, minor=".".join(version.split(".")[:2]))
    new["python"] = {"value": pythons, "source": "x", "confidence": "V"}
    for build in new["variants"].values():
        # A platform's narrower set of Pythons keeps those the new release still has.
        for platform, narrower in build.get("python", {}).items():
            build["python"][platform] = [p for p in narrower if p in pythons]
    raw["releases"].append(new)
    previous = raw["pypi_files"]["torch"][raw["releases"][-2]["version"]]
    files = {}
    for platform, tags in previous["files"].items():
        files[platform] = {
            tag: [f"cp{p.replace('.', '')}-cp{p.replace('.', '')}" for p in pythons] for tag in tags
        }
    raw["pypi_files"]["torch"][version] = {"files": files, "source": "x", "confidence": "V"}
    for entries in raw["runtime"].values():
        for entry in entries:
            if raw["releases"][-2]["version"] in entry["torch"]:
                entry["torch"] = [*entry["torch"], version]


def next_companion(raw: dict[str, Any], package: str = "torchaudio") -> str:
    """A release of `package` after the newest the data names."""
    newest = max((r[package]["value"] for r in raw["releases"]),
                 key=lambda v: tuple(map(int, v.split("."))))
    major, minor, patch = newest.split(".")
    return f"{major}.{minor}.{int(patch) + 1}"


def add_companion(raw: dict[str, Any], package: str = "torchaudio") -> None:
    """PyPI publishes a companion between torch releases, as torchaudio 2.11.1 came."""
    version = next_companion(raw, package)
    platforms = [p for p, info in raw["platforms"].items() if info["pypi"]]
    tags = {"linux-x86_64": "manylinux_2_28_x86_64", "linux-aarch64": "manylinux_2_28_aarch64",
            "windows-x86_64": "win_amd64", "macos-arm64": "macosx_14_0_arm64"}
    raw["pypi_files"][package][version] = {
        "files": {p: {tags[p]: ["py3-none"]} for p in platforms if p in tags},
        "source": f"pypi:{package}=={version}", "confidence": "V",
    }


def everything(raw: dict[str, Any]) -> None:
    add_cuda(raw)
    retire(raw)
    add_release(raw)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.support.refresh_fixture",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dest", type=Path)
    dest = parser.parse_args().dest.resolve()
    index, pypi = observed_world(dest, everything)
    print(f"index: {index}\npypi:  {pypi}")


if __name__ == "__main__":
    main()
