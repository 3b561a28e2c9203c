"""Running `uv lock` the way the tests need it, reading the uv.lock it writes, and what every lock
of a rendered project must show, checked against compat/pytorch.yml.

Resolution is pinned to the date the compatibility data was checked (`--exclude-newer`), so a new
release on PyPI cannot change a test's outcome. Neither the PyTorch index nor the stand-in
publishes upload times, so the packages they serve are exempt from that pin.

Against the stand-in, a lock first runs `--offline`, from uv's cache: revalidating PyPI's pages
costs a lock most of its time. Only a lock that needs what the cache lacks goes online, which fills
the cache for the rest. The cache is this test run's own, started empty (tests/conftest.py), so
every page an offline lock reads was fetched during this run: what a cache held before cannot
decide a lock. Network mode always goes online: checking the live index is its point.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tomllib
import urllib.request
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from compat.model import Compat, Release, Triton
from compat.wheels import naming
from tests.support.project import PYPI, environment, expected_builds, holds, scope_of

# Network mode: lock against the real PyTorch index instead of the stand-in.
REAL_INDEX_SWITCH = "TORCH_UV_TEMPLATE_REAL_INDEX"
REAL_INDEX_URL = "https://download.pytorch.org/whl"
PYPI_REGISTRY = "https://pypi.org/simple"
GPU_RUNTIMES = re.compile(r"^(nvidia-|cuda-|triton|pytorch-triton)")


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


def resolution_pin(compat: Compat) -> list[str]:
    """Options that pin a resolution to the date the data was checked, the index's packages
    (which carry no upload date) exempt: for `uv lock` and `uv add` alike."""
    pin = ["--exclude-newer", f"{compat.checked}T00:00:00Z"]
    for package in pytorch_packages(compat):
        pin += ["--exclude-newer-package", f"{package}=false"]
    return pin


def lock_command(uv: str, python: Path, compat: Compat, *extra: str) -> list[str]:
    return [uv, "lock", "--python", str(python), *resolution_pin(compat), *extra]


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
            cwd=project, capture_output=True, text=True, env=lock_environment(), check=False,
        )

    if real_index_requested():
        return run()
    offline = run("--offline")
    return offline if offline.returncode == 0 else run()


# Where this run keeps one lock per distinct project (tests/conftest.py sets it for the run).
SHARED_LOCKS = "TORCH_UV_TEMPLATE_SHARED_LOCKS"
# The property a combination test records its lock's key under, for the run's summary.
DISTINCT_LOCK = "distinct lock"


def lock_once(
    uv: str, project: Path, python: Path, compat: Compat
) -> tuple[subprocess.CompletedProcess[str] | None, str]:
    """Lock `project`, or copy in the lock this run already made of a byte-identical project.

    uv lock reads only pyproject.toml (which names the index) and the interpreter it is given, so
    two projects alike in both get the same lock; the key is their digest. Returns the lock run,
    None where the lock was shared, and the key. A failed lock is never shared."""
    key = hashlib.sha256(
        (project / "pyproject.toml").read_bytes() + b"\0" + str(python).encode()
    ).hexdigest()[:16]
    store = os.environ.get(SHARED_LOCKS)
    stored = Path(store, f"{key}.lock") if store else None
    if stored and stored.is_file():
        shutil.copyfile(stored, project / "uv.lock")
        return None, key
    result = run_lock(uv, project, python, compat)
    if stored and result.returncode == 0:
        # Two workers may lock the same project at once: each writes whole, the last one wins.
        partial = stored.with_suffix(f".{os.getpid()}")
        shutil.copyfile(project / "uv.lock", partial)
        os.replace(partial, stored)
    return result, key


# Reading a uv.lock ----------------------------------------------------------------------------

# The file lists (sdist, wheels: URLs and hashes) are most of a lock and nothing the checks read;
# leaving them out before parsing halves the time a check takes.
_FILE_LISTS = re.compile(r"^sdist = .*\n|^wheels = \[\n(?:    .*\n)*\]\n", re.M)


@dataclass(frozen=True)
class Locked:
    name: str
    version: str
    registry: str | None
    raw: dict[str, Any]

    @property
    def label(self) -> str:
        return self.version.partition("+")[2]


class Lockfile:
    def __init__(self, path: Path) -> None:
        self.data = tomllib.loads(_FILE_LISTS.sub("", path.read_text(encoding="utf-8")))
        self.packages = [self._locked(p) for p in self.data.get("package", [])]
        self.by_name: dict[str, list[Locked]] = defaultdict(list)
        for package in self.packages:
            self.by_name[package.name].append(package)
        self.root = next(p for p in self.packages if "editable" in p.raw.get("source", {}))

    @staticmethod
    def _locked(raw: dict[str, Any]) -> Locked:
        return Locked(raw["name"], raw["version"], raw.get("source", {}).get("registry"), raw)

    def _resolve(self, dependency: dict[str, Any]) -> Locked:
        """The package a dependency entry points at (it names version and source when ambiguous)."""
        candidates = self.by_name[dependency["name"]]
        if "version" in dependency:
            candidates = [p for p in candidates if p.version == dependency["version"]]
        if "source" in dependency:
            candidates = [p for p in candidates if p.raw.get("source") == dependency["source"]]
        if len(candidates) != 1:
            raise AssertionError(f"{dependency} matches {len(candidates)} locked packages")
        return candidates[0]

    def _dependencies(self, package: Locked, scope: tuple[str, str] | None = None
                      ) -> list[dict[str, Any]]:
        if scope is None:
            return package.raw.get("dependencies", [])
        table = "optional-dependencies" if scope[0] == "extra" else "dev-dependencies"
        return package.raw.get(table, {}).get(canonicalize_name(scope[1]), [])

    def conflict_marker(self, scope: tuple[str, str] | None) -> str:
        """How uv names a set of a conflict in markers: extra-<len>-<project>-<name> (or group-)."""
        if scope is None:
            return ""
        project = canonicalize_name(self.root.name)
        return f"{scope[0]}-{len(project)}-{project}-{canonicalize_name(scope[1])}"

    def chosen(self, name: str, env: dict[str, str], scope: tuple[str, str] | None = None
               ) -> Locked | None:
        """The `name` the project gets in `env` (with a set enabled), or None."""
        entries = [
            d for d in self._dependencies(self.root, scope)
            if d["name"] == name and holds(d.get("marker"), env)
        ]
        if len(entries) > 1:
            raise AssertionError(f"{len(entries)} {name} entries hold for {env}: {entries}")
        return self._resolve(entries[0]) if entries else None

    def closure(self, package: Locked, env: dict[str, str]) -> list[Locked]:
        """`package` and everything it pulls in, in `env`."""
        seen: dict[tuple[str, str], Locked] = {}
        todo = [package]
        while todo:
            current = todo.pop()
            if (current.name, current.version) in seen:
                continue
            seen[(current.name, current.version)] = current
            for dependency in self._dependencies(current):
                if holds(dependency.get("marker"), env):
                    todo.append(self._resolve(dependency))
        return list(seen.values())


# What every lock must show --------------------------------------------------------------------


def registry_url(registry: str | None, project: Path) -> str | None:
    """uv records a file:// index as a path; compare indexes as URLs."""
    if registry is None or "://" in registry:
        return registry
    return (project / registry).resolve().as_uri()


def expected_label(compat: Compat, package: str, release: Release, build: str, platform: str) -> str:
    if not compat.platforms[platform].labelled:
        return ""
    return naming(compat, package, release, build, platform)[0].removeprefix("+")


def release_of(compat: Compat, torch_version: str) -> Release:
    return compat.release(str(Version(torch_version).public))


def check_lock(
    compat: Compat, answers: dict[str, Any], lock: Lockfile, base: str, project: Path
) -> None:
    python_min, torch_min = answers["python_min"], answers["torch_min"]
    base = base.rstrip("/")
    served_by_pytorch = set(pytorch_packages(compat))

    # Nothing but PyTorch's own packages comes from a PyTorch index: explicit = true holds.
    for package in lock.packages:
        url = registry_url(package.registry, project)
        if url and url.startswith(base + "/"):
            assert package.name in served_by_pytorch, f"{package.name} came from {url}"

    for name, by_platform in expected_builds(compat, answers).items():
        scope = scope_of(answers, name)
        for platform, build in by_platform.items():
            where = f"{platform}" + (f" with {scope[0]} {scope[1]}" if scope else "")
            env = environment(compat, platform, python_min, lock.conflict_marker(scope))
            torch = lock.chosen("torch", env, scope)
            assert torch is not None, f"no torch for {where}"
            release = release_of(compat, torch.version)
            assert release.version >= Version(torch_min), f"{where}: {torch.version}"
            torch_url = registry_url(torch.registry, project)
            if build == PYPI:
                assert torch_url == PYPI_REGISTRY, f"{where}: torch from {torch_url}"
                assert torch.label == "", f"{where}: {torch.version}"
                effective = release.pypi_build[platform]
            else:
                assert torch_url == f"{base}/{build}", f"{where}: torch from {torch_url}"
                assert torch.label == expected_label(compat, "torch", release, build, platform), where
                assert release.has_build(build, platform), f"{where}: {release.version}"
                assert release.supports_python(python_min, platform, build), where
                effective = build

            for package in answers["torch_packages"]:
                companion = lock.chosen(package, env, scope)
                assert companion is not None, f"no {package} for {where}"
                assert companion.registry == torch.registry, f"{where}: {package} from elsewhere"
                admitted = compat.companions_for(package, release.version)
                assert companion.version.split("+")[0] in admitted, f"{where}: {companion.version}"
                if build != PYPI:
                    wanted = expected_label(compat, package, release, build, platform)
                    assert companion.label == wanted, f"{where}: {companion.version}"

            pulled = lock.closure(torch, env)
            runtime = sorted(p.name for p in pulled if GPU_RUNTIMES.match(p.name))
            family = compat.variants[effective].family
            if family in ("cpu",):
                assert not runtime, f"{where}: a {effective} build pulls in {runtime}"
            elif build != PYPI:
                entry = compat.runtime_of(build, release.version)
                wants = {
                    canonicalize_name(Requirement(r).name)
                    for r in (entry.requires if entry else ())
                    if holds(str(Requirement(r).marker) if Requirement(r).marker else None, env)
                }
                got = {p for p in runtime if not p.startswith(("triton", "pytorch-triton"))}
                assert got >= wants, f"{where}: CUDA runtime {sorted(got)} lacks {sorted(wants - got)}"
            elif platform.startswith("linux") and family == "cuda":
                assert runtime, f"{where}: PyPI's CUDA build without its runtime"

            triton = release.triton.get(family)
            if build != PYPI and triton and triton_applies(compat, triton, platform, env):
                found = [p for p in pulled if p.name == triton.package]
                assert found, f"{where}: {triton.package} missing"
                assert found[0].registry == torch.registry, f"{where}: {triton.package} from elsewhere"
                assert Version(found[0].version) in SpecifierSet(triton.specifier), (
                    f"{where}: {triton.package} {found[0].version}"
                )


def triton_applies(compat: Compat, triton: Triton, platform: str, env: dict[str, str]) -> bool:
    """Whether a build for `platform` requires its Triton (for the Pythons its requirement names)."""
    if platform not in triton.platforms:
        return False
    if triton.python is None:
        return True
    operator = triton.python.rstrip("0123456789.")
    return holds(f"python_version {operator} '{triton.python[len(operator):]}'", env)
