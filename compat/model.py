"""A typed view of compat/pytorch.yml, for the tests, the stand-in index, the README table and
the refresh command.

The template itself reads the same file through includes/pytorch.jinja. This module derives the
same answers independently, in Python, so the tests can hold the template to them.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from packaging.specifiers import SpecifierSet
from packaging.version import Version

DATA_FILE = Path(__file__).with_name("pytorch.yml")
CONFIDENCES = ("V", "V2", "I")
VERIFIED = ("V", "V2")
MACOS = "macos-arm64"

Reason = Literal["never", "ended", "python"]


@dataclass(frozen=True)
class Platform:
    name: str
    title: str
    sys_platform: str
    platform_machine: str
    runner: str

    @property
    def marker(self) -> str:
        return f"sys_platform == '{self.sys_platform}' and platform_machine == '{self.platform_machine}'"

    @property
    def environment(self) -> dict[str, str]:
        """What packaging.markers needs to evaluate a marker for this platform."""
        system = {"linux": "Linux", "win32": "Windows", "darwin": "Darwin"}[self.sys_platform]
        os_name = "nt" if self.sys_platform == "win32" else "posix"
        return {
            "sys_platform": self.sys_platform,
            "platform_machine": self.platform_machine,
            "platform_system": system,
            "os_name": os_name,
        }


@dataclass(frozen=True)
class Variant:
    name: str
    family: str
    cuda: str | None = None
    runtime_requires: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return "+" + self.name


@dataclass(frozen=True)
class Build:
    """One variant of one release on the PyTorch index."""

    variant: str
    platforms: tuple[str, ...]
    source: str
    confidence: str
    inferred_on: tuple[str, ...] = ()
    without_companions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Triton:
    package: str
    version: str
    platforms: tuple[str, ...]


@dataclass(frozen=True)
class Release:
    version: Version
    minor: str
    python: tuple[str, ...]
    python_only_on: dict[str, tuple[str, ...]]
    builds: dict[str, Build]
    torchvision: str
    torchaudio: str
    pypi_build: dict[str, str]
    companion_requires: dict[str, str | None] = field(default_factory=dict)
    triton: dict[str, Triton] = field(default_factory=dict)

    def supports_python(self, python: str, platform: str) -> bool:
        return python in self.python and platform in self.python_only_on.get(python, (platform,))

    def has_build(self, variant: str, platform: str) -> bool:
        return variant in self.builds and platform in self.builds[variant].platforms

    def companion(self, package: str) -> str:
        return {"torchvision": self.torchvision, "torchaudio": self.torchaudio}[package]

    def companion_torch_requirement(self, package: str) -> str:
        """What this release's companion wheel requires of torch ("" for nothing)."""
        given = self.companion_requires.get(package)
        return f"=={self.version}" if given is None else given


@dataclass(frozen=True)
class Compat:
    raw: dict[str, Any]
    platforms: dict[str, Platform]
    variants: dict[str, Variant]
    releases: tuple[Release, ...]

    @property
    def checked(self) -> str:
        return str(self.raw["checked"])

    def minors(self) -> list[str]:
        return list(dict.fromkeys(r.minor for r in self.releases))

    def release(self, version: str) -> Release:
        return next(r for r in self.releases if r.version == Version(version))

    def releases_from(self, torch_min: str) -> list[Release]:
        return [r for r in self.releases if r.version >= Version(torch_min)]

    def first_release(self, minor: str) -> Release:
        return next(r for r in self.releases if r.minor == minor)

    def verified_torch_min(self) -> str:
        """The newest minor whose index variants are all verified: the default torch_min."""
        verified = [
            r.minor
            for r in self.releases
            if all(b.confidence in VERIFIED for b in r.builds.values())
        ]
        return verified[-1]

    def python_choices(self) -> list[str]:
        newest_verified = [r for r in self.releases if r.minor == self.verified_torch_min()][-1]
        return list(newest_verified.python)

    def torch_min_fits_python(self, torch_min: str, python_min: str) -> bool:
        return any(python_min in r.python for r in self.releases_from(torch_min))

    def builds_for(
        self, variant: str, platform: str, torch_min: str, python_min: str
    ) -> list[Release]:
        """Releases at or after torch_min with `variant` for `platform` that support python_min."""
        return [
            r
            for r in self.releases_from(torch_min)
            if r.has_build(variant, platform) and r.supports_python(python_min, platform)
        ]

    def why_not(
        self, variant: str, platform: str, torch_min: str, python_min: str
    ) -> Reason | None:
        """Why `variant` cannot serve `platform`, or None when it can."""
        if not any(r.has_build(variant, platform) for r in self.releases):
            return "never"
        if not any(r.has_build(variant, platform) for r in self.releases_from(torch_min)):
            return "ended"
        if not self.builds_for(variant, platform, torch_min, python_min):
            return "python"
        return None

    def serves(self, variant: str, platform: str, torch_min: str, python_min: str) -> bool:
        return self.why_not(variant, platform, torch_min, python_min) is None

    def backends(self, platform: str, torch_min: str, python_min: str) -> list[str]:
        """The valid answers of backend_<platform>: pypi and every variant that serves it."""
        return ["pypi"] + [
            v for v in self.variants if self.serves(v, platform, torch_min, python_min)
        ]

    def usable_variants(self, platforms: list[str], torch_min: str, python_min: str) -> list[str]:
        """Valid answers of accelerator and extras: variants that serve a selected platform."""
        return [
            v
            for v in self.variants
            if any(self.serves(v, p, torch_min, python_min) for p in platforms)
        ]

    def platforms_of_family(self, family: str) -> list[str]:
        found = {
            p
            for r in self.releases
            for b in r.builds.values()
            if self.variants[b.variant].family == family
            for p in b.platforms
        }
        return [p for p in self.platforms if p in found]

    def triton_for(self, variant: str, torch_min: str) -> Triton | None:
        """The Triton package of the newest release at or after torch_min that has `variant`."""
        family = self.variants[variant].family
        found = [
            r.triton[family]
            for r in self.releases_from(torch_min)
            if variant in r.builds and family in r.triton
        ]
        return found[-1] if found else None

    def companions_for(self, package: str, torch: Version) -> set[str]:
        """The companion versions that go with torch `torch`: those whose torch requirement
        admits it or, where a companion requires no torch, those built for it or before it."""
        admitted = set()
        for release in self.releases:
            requirement = release.companion_torch_requirement(package)
            if requirement:
                ok = torch in SpecifierSet(requirement)
            else:
                first = min(
                    r.version
                    for r in self.releases
                    if r.companion(package) == release.companion(package)
                )
                ok = torch >= first
            if ok:
                admitted.add(release.companion(package))
        return admitted

    def newest_verified(self) -> Release:
        return [r for r in self.releases if r.minor == self.verified_torch_min()][-1]

    def default_accelerator(self, platforms: list[str], torch_min: str, python_min: str) -> str:
        candidate = self.newest_verified().pypi_build["linux-x86_64"]
        usable = self.usable_variants(platforms, torch_min, python_min)
        return candidate if candidate in usable else "cpu"

    def facts(self) -> list[tuple[str, dict[str, Any]]]:
        """Every fact that records a source and a confidence, with a path naming it."""
        found: list[tuple[str, dict[str, Any]]] = []

        def walk(node: Any, path: str) -> None:
            if isinstance(node, dict):
                if "confidence" in node or "source" in node:
                    found.append((path, node))
                for key, value in node.items():
                    walk(value, f"{path}.{key}" if path else str(key))
            elif isinstance(node, list):
                for i, value in enumerate(node):
                    label = value.get("version", i) if isinstance(value, dict) else i
                    walk(value, f"{path}[{label}]")

        walk(self.raw, "")
        return found


def _build(variant: str, raw: dict[str, Any]) -> Build:
    return Build(
        variant=variant,
        platforms=tuple(raw["platforms"]),
        source=raw["source"],
        confidence=raw["confidence"],
        inferred_on=tuple(raw.get("inferred_on", ())),
        without_companions=tuple(raw.get("without_companions", ())),
    )


def _release(raw: dict[str, Any]) -> Release:
    return Release(
        version=Version(raw["version"]),
        minor=raw["minor"],
        python=tuple(raw["python"]["value"]),
        python_only_on={k: tuple(v) for k, v in raw["python"].get("only_on", {}).items()},
        builds={name: _build(name, b) for name, b in raw["variants"].items()},
        torchvision=raw["torchvision"]["value"],
        torchaudio=raw["torchaudio"]["value"],
        pypi_build={p: fact["value"] for p, fact in raw["pypi_build"].items()},
        companion_requires={
            package: raw[package].get("requires_torch") for package in ("torchvision", "torchaudio")
        },
        triton={
            family: Triton(t["package"], t["version"], tuple(t["platforms"]))
            for family, t in raw.get("triton", {}).items()
        },
    )


def parse(raw: dict[str, Any]) -> Compat:
    return Compat(
        raw=raw,
        platforms={
            name: Platform(name, p["title"], p["sys_platform"], p["platform_machine"], p["runner"])
            for name, p in raw["platforms"].items()
        },
        variants={
            name: Variant(
                name,
                v["family"],
                v.get("cuda"),
                tuple(v.get("runtime", {}).get("requires", ())),
            )
            for name, v in raw["variants"].items()
        },
        releases=tuple(_release(r) for r in raw["releases"]),
    )


def read_raw(path: Path = DATA_FILE) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))["pytorch"]["default"]


@functools.cache
def load(path: Path = DATA_FILE) -> Compat:
    return parse(read_raw(path))


def matches(spec: str, version: Version) -> bool:
    """Whether a release matches a wheel-naming rule's `torch:` field (a specifier or a version)."""
    if spec[0].isdigit():
        return version == Version(spec)
    return version in SpecifierSet(spec)
