"""The wheels the PyTorch index carries, as compat/pytorch.yml describes them: file names (local
labels, platform tags, Python and ABI tags) and the metadata that matters to a resolver (what each
wheel requires, and for which Pythons). The stand-in index writes exactly these wheels; the
evidence checks compare real observations with them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

from compat.model import Compat, Release, matches

# What a torch wheel requires besides its accelerator runtime (as the real wheels do).
TORCH_REQUIRES = (
    "filelock",
    "typing-extensions>=4.10.0",
    "sympy>=1.13.3",
    "networkx>=2.5.1",
    "jinja2",
    "fsspec>=0.8.5",
)
TORCHVISION_REQUIRES = ("numpy", "pillow!=8.3.*,>=5.3.0")


@dataclass(frozen=True)
class IndexWheel:
    """One wheel on one variant index."""

    index: str
    project: str
    version: str  # with its local label, if any
    tag: str  # python-abi-platform, or build-python-abi-platform
    platform: str | None  # None for pure (decoy) wheels
    requires: tuple[str, ...] = ()
    requires_python: str | None = None

    @property
    def filename(self) -> str:
        return f"{self.project.replace('-', '_')}-{self.version}-{self.tag}.whl"


def _rule_applies(rule: dict, package: str, release: Release, family: str, variant: str,
                  platform: str) -> bool:
    def listed(key: str, value: str) -> bool:
        given = rule.get(key)
        return given is None or value in (given if isinstance(given, list) else [given])

    return (
        rule["platform"] == platform
        and listed("package", package)
        and listed("family", family)
        and listed("variant", variant)
        and matches(rule.get("torch", ">=0"), release.version)
    )


def naming(compat: Compat, package: str, release: Release, variant: str, platform: str
           ) -> tuple[str, list[str]]:
    """(local label, platform tags) of a labelled platform's index wheels."""
    names = compat.raw["wheel_names"]
    family = compat.variants[variant].family
    tag = next(
        r["tag"]
        for r in names["platform_tags"]
        if _rule_applies(r, package, release, family, variant, platform)
    )
    label, tags = "+" + variant, [tag]
    for rule in names["irregular"]:
        if _rule_applies(rule, package, release, family, variant, platform):
            label = rule.get("label", label)
            given = rule.get("tag")
            tags = (given if isinstance(given, list) else [given]) if given else tags
    return label, tags


def _pythons_and_abis(compat: Compat, project: str, version: str, release: Release,
                      variant: str, platform: str) -> list[str]:
    """python-abi tags of one platform's wheels: PyPI's where PyPI has them (re-uploads with
    build numbers aside), else the build's own Python list."""
    build = release.builds[variant]
    if platform in build.python:
        return [f"cp{p.replace('.', '')}-cp{p.replace('.', '')}" for p in build.python[platform]]
    files = compat.pypi_files(project, version).get(platform, {})
    return list(dict.fromkeys(e for entries in files.values() for e in entries if e.count("-") == 1))


def _marker(compat: Compat, platforms: list[str], python: str | None = None) -> str:
    """A marker in the style of the real wheels' (platform_system, platform_machine) that holds
    on exactly `platforms` among the data's, optionally for some Pythons only."""
    parts = []
    for system in dict.fromkeys(compat.platforms[p].platform_system for p in platforms):
        machines = [compat.platforms[p].platform_machine for p in platforms
                    if compat.platforms[p].platform_system == system]
        every = [p.platform_machine for p in compat.platforms.values() if p.platform_system == system]
        clause = f'platform_system == "{system}"'
        if sorted(machines) != sorted(every):
            clause += " and " + " or ".join(f'platform_machine == "{m}"' for m in machines)
            if len(machines) > 1:
                clause = f'platform_system == "{system}" and ({clause.split(" and ", 1)[1]})'
        parts.append(clause)
    marker = " or ".join(f"({p})" for p in parts) if len(parts) > 1 else parts[0]
    if python:
        operator = python.rstrip("0123456789.")
        marker = (f"({marker})" if len(parts) > 1 else marker) + (
            f' and python_version {operator} "{python[len(operator):]}"')
    return marker


def triton_requirement(compat: Compat, release: Release, variant: str) -> str | None:
    """The Triton requirement of one build, with the marker of the platforms it is built for."""
    family = compat.variants[variant].family
    triton = release.triton.get(family)
    if triton is None:
        return None
    platforms = [p for p in release.builds[variant].platforms if p in triton.platforms]
    if not platforms:
        return None
    return f"{triton.package}{triton.specifier}; {_marker(compat, platforms, triton.python)}"


def torch_requires(compat: Compat, release: Release, variant: str) -> tuple[str, ...]:
    requires = list(TORCH_REQUIRES)
    runtime = compat.runtime_of(variant, release.version)
    if runtime:
        requires += runtime.requires
    triton = triton_requirement(compat, release, variant)
    if triton:
        requires.append(triton)
    return tuple(requires)


def _requires_python(release: Release) -> str:
    return f">={release.python[0]}"


def _index_wheels(compat: Compat, project: str, version: str, release: Release, variant: str,
                  platform: str, requires: tuple[str, ...]) -> Iterator[IndexWheel]:
    if not compat.platforms[platform].labelled:
        # The index serves PyPI's own files for this platform, unlabelled.
        for tag, entries in compat.pypi_files(project, version).get(platform, {}).items():
            for entry in entries:
                yield IndexWheel(variant, project, version, f"{entry}-{tag}", platform, requires,
                                 _requires_python(release))
        return
    label, tags = naming(compat, project, release, variant, platform)
    for entry in _pythons_and_abis(compat, project, version, release, variant, platform):
        for tag in tags:
            yield IndexWheel(variant, project, f"{version}{label}", f"{entry}-{tag}", platform,
                             requires, _requires_python(release))
    # Files of this build that only the index has (Pythons PyPI's release lacks).
    extra = compat.raw.get("index_files", {}).get(project, {}).get(version, {})
    if variant in extra.get("variants", ()):
        for tag, entries in extra["files"].get(platform, {}).items():
            for entry in entries:
                yield IndexWheel(variant, project, f"{version}{label}", f"{entry}-{tag}",
                                 platform, requires, _requires_python(release))


def _merged(*files: dict[str, dict[str, list[str]]]) -> dict[str, dict[str, list[str]]]:
    merged: dict[str, dict[str, list[str]]] = {}
    for by_platform in files:
        for platform, by_tag in by_platform.items():
            for tag, entries in by_tag.items():
                known = merged.setdefault(platform, {}).setdefault(tag, [])
                known += [e for e in entries if e not in known]
    return merged


def _triton_wheels(compat: Compat, release: Release, variant: str) -> Iterator[IndexWheel]:
    """The Triton builds a release pins, as every index carrying the release serves them."""
    tags = compat.raw["wheel_names"]["triton_tags"]
    for family, triton in release.triton.items():
        if family == "cuda":
            files = _merged(compat.pypi_files("triton", triton.version),
                            compat.raw.get("index_files", {}).get("triton", {})
                            .get(triton.version, {}).get("files", {}))
            for platform, by_tag in files.items():
                for tag, entries in by_tag.items():
                    for entry in entries:
                        yield IndexWheel(variant, "triton", triton.version, f"{entry}-{tag}",
                                         platform)
            continue
        for platform in triton.platforms:
            pythons = _pythons_and_abis(compat, "torch", str(release.version), release, variant,
                                        platform) or _pythons_and_abis(
                compat, "torch", str(release.version), release, "cpu", platform)
            for entry in pythons:
                yield IndexWheel(variant, triton.package, triton.version,
                                 f"{entry}-{tags[family][platform]}", platform)


@cache
def index_wheels(compat: Compat) -> tuple[IndexWheel, ...]:
    """Every wheel of every variant index, in a stable order, each file name once."""
    found: dict[tuple[str, str], IndexWheel] = {}

    def add(wheel: IndexWheel) -> None:
        found.setdefault((wheel.index, wheel.filename), wheel)

    for release in compat.releases:
        for variant, build in release.builds.items():
            for platform in build.platforms:
                for wheel in _index_wheels(compat, "torch", str(release.version), release, variant,
                                           platform, torch_requires(compat, release, variant)):
                    add(wheel)
                if platform in build.without_companions:
                    continue
                for package in ("torchvision", "torchaudio"):
                    requirement = release.companion_torch_requirement(package)
                    requires = (f"torch{requirement}",) if requirement else ()
                    if package == "torchvision":
                        requires += TORCHVISION_REQUIRES
                    for wheel in _index_wheels(compat, package, release.companion(package),
                                               release, variant, platform, requires):
                        add(wheel)
            for wheel in _triton_wheels(compat, release, variant):
                add(wheel)
    return tuple(found.values())
