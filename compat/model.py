"""A typed view of compat/pytorch.yml, for the tests, the stand-in index, the render data, the
README table, the evidence checks and the refresh command.

The template reads the same facts through the render data (includes/pytorch-data.yml) and the
macros of includes/pytorch.jinja. This module derives the same answers independently, in Python,
so the tests can hold the template to them.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from packaging.specifiers import SpecifierSet
from packaging.version import Version

DATA_FILE = Path(__file__).with_name("pytorch.yml")
CONFIDENCES = ("V", "V2", "I")
VERIFIED = ("V", "V2")
COMPANIONS = ("torchvision", "torchaudio")

Reason = Literal["never", "ended", "python", "companions"]
_SOURCE = re.compile(
    r"^(pypi:[A-Za-z0-9_.+-]+(==[0-9][A-Za-z0-9.+]*)?"  # pypi:<file> or pypi:<project>==<version>
    r"|[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+@[0-9a-f]{7,40}:\S+)$"  # <owner>/<repo>@<commit>:<path>
)


@dataclass(frozen=True)
class Platform:
    name: str
    title: str
    short: str
    sys_platform: str
    platform_machine: str
    platform_system: str
    runner: str
    pypi: bool
    index_wheels: str
    wheel_tag: str  # a regular expression matching the platform tags of its wheels

    def has_tag(self, tag: str) -> bool:
        """Whether a wheel's platform tag (the last of a compressed set) is this platform's."""
        return re.fullmatch(self.wheel_tag, tag.split(".")[-1]) is not None

    @property
    def marker(self) -> str:
        return f"sys_platform == '{self.sys_platform}' and platform_machine == '{self.platform_machine}'"

    @property
    def labelled(self) -> bool:
        """Whether the PyPI index builds for this platform carry the variant's label."""
        return self.index_wheels == "labelled"

    @property
    def environment(self) -> dict[str, str]:
        """What packaging.markers needs to evaluate a marker for this platform."""
        return {
            "sys_platform": self.sys_platform,
            "platform_machine": self.platform_machine,
            "platform_system": self.platform_system,
            "os_name": "nt" if self.sys_platform == "win32" else "posix",
        }

    def marker_environment(self, python: str, extra: str = "") -> dict[str, str]:
        """A full marker environment of CPython `python` on this platform."""
        return {
            **self.environment,
            "python_version": python,
            "python_full_version": f"{python}.0",
            "implementation_name": "cpython",
            "platform_python_implementation": "CPython",
            "implementation_version": f"{python}.0",
            "platform_release": "",
            "platform_version": "",
            "extra": extra,
        }


@dataclass(frozen=True, eq=False)
class Variant:
    name: str
    family: str
    cuda: str | None = None
    arch: dict[str, tuple[str, ...]] = field(default_factory=dict)  # per platform

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
    python: dict[str, tuple[str, ...]] = field(default_factory=dict)
    without_companions: tuple[str, ...] = ()
    inferred_on: tuple[str, ...] = ()


@dataclass(frozen=True)
class Triton:
    """The Triton package a release's builds of one family require."""

    family: str
    package: str
    version: str
    pin: str = "=="
    python: str | None = None  # e.g. "<3.15": the Pythons the requirement applies to
    platforms: tuple[str, ...] = ()

    @property
    def specifier(self) -> str:
        return f"{self.pin}{self.version}"


@dataclass(frozen=True)
class Release:
    version: Version
    minor: str
    python: tuple[str, ...]
    builds: dict[str, Build]
    torchvision: str
    torchaudio: str
    pypi_build: dict[str, str]
    companion_requires: dict[str, str | None] = field(default_factory=dict)
    triton: dict[str, Triton] = field(default_factory=dict)
    python_on: dict[str, tuple[str, ...]] = field(default_factory=dict)
    companion_files: dict[str, dict[str, dict[str, list[str]]]] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)

    def pythons(self, platform: str, variant: str | None = None) -> tuple[str, ...]:
        """The CPython versions with wheels for `platform`: PyPI's, or the build's own list."""
        build = self.builds.get(variant or "")
        if build and platform in build.python:
            return build.python[platform]
        return self.python_on.get(platform, ())

    def supports_python(self, python: str, platform: str, variant: str | None = None) -> bool:
        return python in self.pythons(platform, variant)

    def companion_pythons(self, package: str, platform: str, variant: str) -> tuple[str, ...]:
        """The Pythons `package`'s wheels for this release's build of `variant` exist for: PyPI's
        files of the companion (a py3 wheel serves every Python), or none without companions."""
        build = self.builds.get(variant)
        if build is None or platform in build.without_companions:
            return ()
        files = self.companion_files.get(package, {}).get(platform)
        if files is None:
            return self.pythons(platform, variant)
        if any(e.split("-")[-2] == "py3" for entries in files.values() for e in entries):
            return self.pythons(platform, variant)
        own = {p for entries in files.values() for p in python_tags(entries)}
        return tuple(p for p in self.pythons(platform, variant) if p in own)

    def supports(self, python: str, platform: str, variant: str,
                 companions: tuple[str, ...] = ()) -> bool:
        """Whether torch, and each companion, has wheels of this build for `python`."""
        return self.supports_python(python, platform, variant) and all(
            python in self.companion_pythons(c, platform, variant) for c in companions
        )

    def pypi_supports(self, python: str, platform: str, companions: tuple[str, ...] = ()) -> bool:
        """Whether PyPI has this release's torch, and each companion, for `python` on `platform`
        (a py3 wheel serves every Python)."""
        if python not in self.python_on.get(platform, ()):
            return False
        for package in companions:
            files = self.companion_files.get(package, {}).get(platform, {})
            entries = [e for tags in files.values() for e in tags]
            if not any(e.split("-")[-2] == "py3" for e in entries) and \
                    python not in python_tags(entries):
                return False
        return True

    def inferred(self, variant: str) -> bool:
        """Whether this release's build of `variant` is inferred (I), not seen."""
        return variant in self.builds and self.builds[variant].confidence == "I"

    def has_build(self, variant: str, platform: str) -> bool:
        return variant in self.builds and platform in self.builds[variant].platforms

    def companion(self, package: str) -> str:
        return {"torchvision": self.torchvision, "torchaudio": self.torchaudio}[package]

    def companion_torch_requirement(self, package: str) -> str:
        """What this release's companion wheel requires of torch ("" for nothing)."""
        given = self.companion_requires.get(package)
        return f"=={self.version}" if given is None else given

    def facts(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """The facts that decide whether this release can be the default torch_min: its
        Pythons, companions, PyPI's builds, Tritons, and the index variants a default answer
        uses (cpu, and PyPI's build, the main build). Another inferred variant is marked where
        it is offered, and keeps only itself from being a default."""
        raw = self.raw
        yield "python", raw["python"]
        defaults = {"cpu", *(fact["value"] for fact in raw["pypi_build"].values())}
        for name, fact in raw["variants"].items():
            if name in defaults:
                yield f"variants.{name}", fact
        for package in COMPANIONS:
            yield package, raw[package]
        for platform, fact in raw["pypi_build"].items():
            yield f"pypi_build.{platform}", fact
        for family, fact in raw.get("triton", {}).items():
            yield f"triton.{family}", fact

    @property
    def verified(self) -> bool:
        return all(fact["confidence"] in VERIFIED for _, fact in self.facts())


@dataclass(frozen=True)
class RuntimeEntry:
    variant: str
    torch: tuple[str, ...]
    requires: tuple[str, ...]
    source: str
    confidence: str


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: one per data file
class Compat:
    raw: dict[str, Any]
    platforms: dict[str, Platform]
    variants: dict[str, Variant]
    releases: tuple[Release, ...]
    runtime: tuple[RuntimeEntry, ...]

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

    def verified_minors(self) -> list[str]:
        """The minors whose releases have no inferred fact."""
        return [m for m in self.minors() if all(r.verified for r in self.releases if r.minor == m)]

    def verified_torch_min(self) -> str:
        """The newest minor whose releases have no inferred fact: the default torch_min."""
        return self.verified_minors()[-1]

    def newest_verified(self) -> Release:
        return [r for r in self.releases if r.minor == self.verified_torch_min()][-1]

    def python_choices(self) -> list[str]:
        return list(self.newest_verified().python)

    def pypi_platforms(self) -> list[str]:
        """Platforms with a PyPI build: the default selection."""
        return [p for p, platform in self.platforms.items() if platform.pypi]

    def torch_min_fits_python(self, torch_min: str, python_min: str) -> bool:
        return any(python_min in r.python for r in self.releases_from(torch_min))

    def builds_for(
        self, variant: str, platform: str, torch_min: str, python_min: str
    ) -> list[Release]:
        """Releases at or after torch_min with `variant` for `platform` that support python_min."""
        return [
            r
            for r in self.releases_from(torch_min)
            if r.has_build(variant, platform) and r.supports_python(python_min, platform, variant)
        ]

    # Every question of the interview, the digest and the tests' matrix asks this thousands of
    # times with a few hundred distinct arguments; the data is frozen, so the answer is too.
    @functools.cache  # noqa: B019 (one Compat per data file, kept for the process anyway)
    def why_not(
        self,
        variant: str,
        platform: str,
        torch_min: str,
        python_min: str,
        companions: tuple[str, ...] = (),
    ) -> Reason | None:
        """Why `variant` cannot serve `platform`, or None when it can."""
        if not any(r.has_build(variant, platform) for r in self.releases):
            return "never"
        if not any(r.has_build(variant, platform) for r in self.releases_from(torch_min)):
            return "ended"
        fitting = self.builds_for(variant, platform, torch_min, python_min)
        if not fitting:
            return "python"
        if not any(r.supports(python_min, platform, variant, companions) for r in fitting):
            return "companions"
        return None

    def serves(
        self,
        variant: str,
        platform: str,
        torch_min: str,
        python_min: str,
        companions: tuple[str, ...] = (),
    ) -> bool:
        return self.why_not(variant, platform, torch_min, python_min, companions) is None

    def backends(
        self, platform: str, torch_min: str, python_min: str, companions: tuple[str, ...] = ()
    ) -> list[str]:
        """The valid answers of backend_<platform>: PyPI's build where there is one, and every
        variant that serves the platform."""
        pypi = ["pypi"] if self.platforms[platform].pypi else []
        return pypi + [
            v for v in self.variants if self.serves(v, platform, torch_min, python_min, companions)
        ]

    def usable_variants(
        self,
        platforms: list[str],
        torch_min: str,
        python_min: str,
        companions: tuple[str, ...] = (),
    ) -> list[str]:
        """Valid answers of accelerator and extras: variants that serve a selected platform."""
        return [
            v
            for v in self.variants
            if any(self.serves(v, p, torch_min, python_min, companions) for p in platforms)
        ]

    def platform_of_tag(self, tag: str) -> str | None:
        """The data's platform of a wheel's platform tag, or None for one it does not model."""
        return next((p.name for p in self.platforms.values() if p.has_tag(tag)), None)

    def platforms_of_family(self, family: str) -> list[str]:
        found = {
            p
            for r in self.releases
            for b in r.builds.values()
            if self.variants[b.variant].family == family
            for p in b.platforms
        }
        return [p for p in self.platforms if p in found]

    def runtime_of(self, variant: str, version: Version) -> RuntimeEntry | None:
        """What a CUDA build of `variant` for torch `version` requires from PyPI, besides triton."""
        return next(
            (e for e in self.runtime if e.variant == variant and str(version) in e.torch), None
        )

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

    def pypi_files(self, project: str, version: str) -> dict[str, dict[str, list[str]]]:
        """PyPI's wheels of one release: {platform: {platform tag: [python-abi tags]}}."""
        entry = self.raw["pypi_files"].get(project, {}).get(version)
        return entry["files"] if entry else {}

    def facts(self) -> list[tuple[str, dict[str, Any]]]:
        """Every fact that records a source and a confidence, with a path naming it."""
        found: list[tuple[str, dict[str, Any]]] = []

        def walk(node: Any, path: str) -> None:
            if isinstance(node, dict):
                if "confidence" in node:
                    found.append((path, node))
                for key, value in node.items():
                    walk(value, f"{path}.{key}" if path else str(key))
            elif isinstance(node, list):
                for i, value in enumerate(node):
                    label = value.get("version", i) if isinstance(value, dict) else i
                    walk(value, f"{path}[{label}]")

        walk({k: v for k, v in self.raw.items() if k != "observations"}, "")
        return found

    def source_is_known(self, source: str) -> bool:
        return source in self.raw["sources"] or bool(_SOURCE.match(source))


def _entry_key(entry: str) -> tuple[int, bool, str]:
    *build, python, abi = entry.split("-")
    digits = re.sub(r"\D", "", python)
    return (int(digits) if digits else 0, abi.endswith("t"), "-".join(build))


def canonical_files(files: dict[str, dict[str, list[str]]]) -> dict[str, dict[str, list[str]]]:
    """A file record in the data's order: platforms as given, tags sorted, entries by Python."""
    return {
        platform: {tag: sorted(set(entries), key=_entry_key) for tag, entries in sorted(tags.items())}
        for platform, tags in files.items()
    }


def python_tags(entries: list[str]) -> list[str]:
    """CPython versions ("3.12") among python-abi entries (cp312-cp312, 2-cp312-none, ...)."""
    found = []
    for entry in entries:
        python, abi = entry.split("-")[-2:]
        match = re.fullmatch(r"cp3(\d+)", python)
        if match and not abi.endswith("t"):
            found.append(f"3.{match.group(1)}")
    return found


def _python_on(raw: dict[str, Any], version: str) -> dict[str, tuple[str, ...]]:
    files = raw["pypi_files"]["torch"].get(version, {}).get("files", {})
    return {
        platform: tuple(
            sorted(
                {p for entries in tags.values() for p in python_tags(entries)}, key=Version
            )
        )
        for platform, tags in files.items()
    }


def _build(variant: str, raw: dict[str, Any]) -> Build:
    return Build(
        variant=variant,
        platforms=tuple(raw["platforms"]),
        source=raw["source"],
        confidence=raw["confidence"],
        python={p: tuple(v) for p, v in raw.get("python", {}).items()},
        without_companions=tuple(raw.get("without_companions", ())),
        inferred_on=tuple(raw.get("inferred_on", ())),
    )


def _triton(family: str, raw: dict[str, Any]) -> Triton:
    return Triton(
        family,
        raw["package"],
        str(raw["version"]),
        raw.get("pin", "=="),
        raw.get("python"),
        tuple(raw.get("platforms", ())),
    )


def _release(raw: dict[str, Any], data: dict[str, Any]) -> Release:
    return Release(
        version=Version(raw["version"]),
        minor=raw["minor"],
        python=tuple(raw["python"]["value"]),
        builds={name: _build(name, b) for name, b in raw["variants"].items()},
        torchvision=raw["torchvision"]["value"],
        torchaudio=raw["torchaudio"]["value"],
        pypi_build={p: fact["value"] for p, fact in raw["pypi_build"].items()},
        companion_requires={package: raw[package].get("requires_torch") for package in COMPANIONS},
        triton={family: _triton(family, t) for family, t in raw.get("triton", {}).items()},
        python_on=_python_on(data, raw["version"]),
        companion_files={
            package: data["pypi_files"].get(package, {}).get(raw[package]["value"], {})
            .get("files", {})
            for package in COMPANIONS
        },
        raw=raw,
    )


def parse(raw: dict[str, Any]) -> Compat:
    return Compat(
        raw=raw,
        platforms={
            name: Platform(
                name,
                p["title"],
                p["short"],
                p["sys_platform"],
                p["platform_machine"],
                p["platform_system"],
                p["runner"],
                bool(p["pypi"]),
                p["index_wheels"],
                p["wheel_tag"],
            )
            for name, p in raw["platforms"].items()
        },
        variants={
            name: Variant(
                name, v["family"], v.get("cuda"),
                {p: tuple(fact["value"]) for p, fact in v.get("arch", {}).items()},
            )
            for name, v in raw["variants"].items()
        },
        releases=tuple(_release(r, raw) for r in raw["releases"]),
        runtime=tuple(
            RuntimeEntry(
                variant,
                tuple(entry["torch"]),
                tuple(entry["requires"]),
                entry["source"],
                entry["confidence"],
            )
            for variant, entries in raw.get("runtime", {}).items()
            for entry in entries
        ),
    )


def read_raw(path: Path = DATA_FILE) -> dict[str, Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(path.read_text(encoding="utf-8"), Loader=loader)


@functools.cache
def load(path: Path = DATA_FILE) -> Compat:
    return parse(read_raw(path))


def matches(spec: str, version: Version) -> bool:
    """Whether a release matches a rule's `torch:` field (a specifier or a version)."""
    if spec[0].isdigit():
        return version == Version(spec)
    return version in SpecifierSet(spec)
