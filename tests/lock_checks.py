"""What every uv.lock of a rendered project must show, checked against compat/pytorch.yml."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from packaging.version import Version

from compat.model import Compat
from tests.expectations import PYPI, environment, expected_builds, holds, local_label, release_of
from tests.lockfile import PYPI_REGISTRY, Lockfile
from tests.locking import pytorch_packages

RUNTIME_PREFIXES = ("nvidia-", "cuda-")


def registry_url(registry: str | None, project: Path) -> str | None:
    """uv records a file:// index as a path; compare indexes as URLs."""
    if registry is None or "://" in registry:
        return registry
    return (project / registry).resolve().as_uri()


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

    for extra, by_platform in expected_builds(compat, answers).items():
        for platform, build in by_platform.items():
            where = f"{platform}" + (f" with --extra {extra}" if extra else "")
            env = environment(compat, platform, python_min, lock.conflict_extra(extra))
            torch = lock.chosen("torch", env, extra)
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
                assert torch.label == local_label(compat, release, build, platform), where
                assert release.has_build(build, platform), f"{where}: {release.version}"
                assert release.supports_python(python_min, platform), where
                effective = build

            for package in answers["torch_packages"]:
                companion = lock.chosen(package, env, extra)
                assert companion is not None, f"no {package} for {where}"
                assert companion.registry == torch.registry, f"{where}: {package} from elsewhere"
                admitted = compat.companions_for(package, release.version)
                assert companion.version.split("+")[0] in admitted, f"{where}: {companion.version}"
                assert companion.label == torch.label, f"{where}: {companion.version}"

            pulled = lock.closure(torch, env)
            runtime = sorted(p.name for p in pulled if p.name.startswith(RUNTIME_PREFIXES))
            family = compat.variants[effective].family
            if family != "cuda":
                assert not runtime, f"{where}: a {effective} build pulls in {runtime}"
            elif build != PYPI:
                wants = any(
                    holds(str(Requirement(r).marker), env)
                    for r in compat.variants[build].runtime_requires
                )
                assert bool(runtime) == wants, f"{where}: CUDA runtime {runtime}"
            elif platform.startswith("linux"):
                assert runtime, f"{where}: PyPI's CUDA build without its runtime"

            triton = release.triton.get(family)
            if build != PYPI and triton and platform in triton.platforms:
                found = [p for p in pulled if p.name == triton.package]
                assert found, f"{where}: {triton.package} missing"
                assert found[0].registry == torch.registry, (
                    f"{where}: {triton.package} from elsewhere"
                )
                assert found[0].version == triton.version, where
