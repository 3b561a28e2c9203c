"""Outside evidence against the data and the stand-in index.

    uv run python -m compat.evidence                # the observations compat/pytorch.yml records
    uv run python -m compat.evidence FILE.json ...  # observations in the shared evidence format

An observation is what a public lock file recorded of one package version on one index of the
real PyTorch index: its wheel files, the requirements of the build, the versions the lock
resolved, and the lock's repository, path and commit. Each one in scope is checked two ways:
- the data agrees: the release, variant, platforms, Pythons, companions and Triton package;
- the stand-in index (compat.wheels, which it writes) serves every observed file name, and its
  wheel requires what the real one does: the same Triton package at the locked version, the same
  NVIDIA runtime names, the same pins where the source recorded pins, and on the same platforms.
The third check, that a project rendered for that release and build routes every index-only
requirement to that index, needs copier and lives in tests/test_evidence.py.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from packaging.markers import InvalidMarker, Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from compat.model import COMPANIONS, Compat, Release, load
from compat.wheels import IndexWheel, index_wheels

RUNTIME = re.compile(r"^(nvidia-|cuda-)")


@dataclass(frozen=True)
class Observation:
    package: str
    version: str
    index: str
    files: tuple[str, ...]
    source: str
    requires: tuple[str, ...] = ()
    locked: dict[str, str] = field(default_factory=dict)

    @property
    def public(self) -> str:
        return self.version.partition("+")[0]

    @property
    def pins_recorded(self) -> bool:
        """poetry.lock records the wheel's own requirement specifiers; uv.lock only names."""
        return "poetry.lock" in self.source

    def __str__(self) -> str:
        return f"{self.package} {self.version} on {self.index} ({self.source})"


def recorded(compat: Compat) -> list[Observation]:
    """The observations compat/pytorch.yml carries, file names rebuilt from their tags."""
    found = []
    for raw in compat.raw.get("observations", []):
        stem = f"{raw['package'].replace('-', '_')}-{raw['version']}"
        found.append(
            Observation(
                raw["package"],
                str(raw["version"]),
                raw["index"],
                tuple(f"{stem}-{tag}.whl" for tag in raw["files"]),
                raw["source"],
                tuple(raw.get("requires", ())),
                {k: str(v) for k, v in raw.get("locked", {}).items()},
            )
        )
    return found


def from_json(path: Path) -> list[Observation]:
    """Observations in the shared evidence format: {"observations": [{package, version, index,
    wheels, requires, locked_dependency_versions, source: {repo, path, commit}}]}."""
    data = json.loads(path.read_text(encoding="utf-8"))
    found = []
    for raw in data["observations"]:
        source = raw["source"]
        found.append(
            Observation(
                raw["package"],
                raw["version"],
                raw["index"],
                tuple(raw.get("wheels") or ()),
                f"{source['repo']}@{source['commit'][:12]}:{source['path']}",
                tuple(raw.get("requires") or ()),
                dict(raw.get("locked_dependency_versions") or {}),
            )
        )
    return found


def triton_packages(compat: Compat) -> set[str]:
    return {t.package for r in compat.releases for t in r.triton.values()}


def index_only_packages(compat: Compat) -> set[str]:
    """Triton builds that PyPI does not serve: only the PyTorch index has them."""
    return {t.package for r in compat.releases for f, t in r.triton.items() if f != "cuda"}


def _release(compat: Compat, version: str) -> Release | None:
    try:
        return compat.release(version)
    except (StopIteration, InvalidVersion):
        return None


def _releases_with_companion(compat: Compat, package: str, version: str) -> list[Release]:
    return [r for r in compat.releases if r.companion(package) == version]


def _triton_releases(compat: Compat, obs: Observation) -> list[Release]:
    return [
        r
        for r in compat.releases
        if obs.index in r.builds
        and any(t.package == obs.package and t.version == obs.public for t in r.triton.values())
    ]


def out_of_scope(compat: Compat, obs: Observation) -> str | None:
    """Why the template's data says nothing about this observation, or None."""
    if obs.index not in compat.variants:
        return f"index {obs.index} is not one the template uses"
    if obs.package == "torch":
        if _release(compat, obs.public) is None:
            first, last = compat.releases[0].version, compat.releases[-1].version
            return f"torch {obs.public} is outside the data ({first} to {last})"
        return None
    if obs.package in COMPANIONS:
        if not _releases_with_companion(compat, obs.package, obs.public):
            return f"{obs.package} {obs.public} belongs to no torch release in the data"
        return None
    if obs.package in triton_packages(compat):
        if not _triton_releases(compat, obs):
            return f"{obs.package} {obs.public} is required by no release the {obs.index} index carries"
        return None
    return f"{obs.package} is not a package the template configures"


def _platform_of(compat: Compat, filename: str) -> str | None:
    """The data's platform of a wheel file, or None for one the data does not model."""
    tags = parse_wheel_filename(filename)[3]
    return next(
        (found for tag in tags if (found := compat.platform_of_tag(tag.platform))), None
    )


def _python_of(filename: str) -> str | None:
    tags = parse_wheel_filename(filename)[3]
    for tag in tags:
        match = re.fullmatch(r"cp3(\d+)", tag.interpreter)
        if match and not tag.abi.endswith("t"):
            return f"3.{match.group(1)}"
    return None


def _name(requirement: str) -> str:
    return canonicalize_name(re.split(r"[\s;=<>~!\[(]", requirement.strip(), maxsplit=1)[0])


def _marker(requirement: str) -> Marker | None:
    """The observed requirement's marker where it can be evaluated: not one a lock shortened,
    and not one that names the lock's own extras or groups."""
    _, _, text = requirement.partition(";")
    text = text.strip()
    if not text or "omitted" in text or "extra ==" in text or "extra !=" in text:
        return None
    try:
        return Marker(text)
    except InvalidMarker:
        return None


def _environment(compat: Compat, platform: str, python: str) -> dict[str, str]:
    return compat.platforms[platform].marker_environment(python)


def _check_data(compat: Compat, obs: Observation, files: list[tuple[str, str]]) -> list[str]:
    problems = []
    if obs.package == "torch":
        release = _release(compat, obs.public)
        assert release is not None
        build = release.builds.get(obs.index)
        if build is None:
            return [f"the data has no {obs.index} build of torch {obs.public}"]
        for filename, platform in files:
            if platform not in build.platforms:
                problems.append(f"{filename}: the data's {obs.index} {obs.public} has no {platform}")
                continue
            python = _python_of(filename)
            if python and not release.supports_python(python, platform, obs.index):
                problems.append(f"{filename}: the data's {obs.public} has no Python {python} "
                                f"wheel for {platform}")
        family = compat.variants[obs.index].family
        wanted = release.triton.get(family)
        for requirement in obs.requires:
            name = _name(requirement)
            if name in triton_packages(compat) and (wanted is None or name != wanted.package):
                problems.append(f"requires {name}; the data says {obs.public}'s {family} builds "
                                f"require {wanted.package if wanted else 'no Triton package'}")
        for name, version in obs.locked.items():
            if wanted and canonicalize_name(name) == wanted.package and Version(version) not in (
                SpecifierSet(wanted.specifier)
            ):
                problems.append(f"locked {name} {version}; the data says {wanted.specifier}")
    elif obs.package in COMPANIONS:
        releases = _releases_with_companion(compat, obs.package, obs.public)
        if not any(obs.index in r.builds for r in releases):
            problems.append(f"the data has no {obs.index} build of torch for {obs.package} "
                            f"{obs.public}")
        for requirement in obs.requires:
            if _name(requirement) != "torch":
                continue
            try:
                pinned = [s.version for s in Requirement(requirement.split(";")[0]).specifier
                          if s.operator == "=="]
            except InvalidRequirement:
                continue
            for version in pinned:
                admitted = compat.companions_for(obs.package, Version(Version(version).public))
                if obs.public not in admitted:
                    problems.append(f"requires torch {version}, which the data does not pair with "
                                    f"{obs.package} {obs.public}")
    else:
        # A Triton build: the data must have a release on this index that requires it.
        assert _triton_releases(compat, obs)
    return problems


def _by_filename(compat: Compat) -> dict[tuple[str, str], IndexWheel]:
    return {(w.index, w.filename): w for w in index_wheels(compat)}


def _check_stand_in(compat: Compat, obs: Observation, files: list[tuple[str, str]]) -> list[str]:
    served = _by_filename(compat)
    problems = [
        f"the stand-in's {obs.index} index has no {filename}"
        for filename, _ in files
        if (obs.index, filename) not in served
    ]
    wheels = [served[(obs.index, f)] for f, _ in files if (obs.index, f) in served]
    if obs.package != "torch" or not wheels:
        return problems
    predicted = {_name(r): r for r in wheels[0].requires}
    in_scope = triton_packages(compat)
    observed = [r for r in obs.requires if RUNTIME.match(_name(r)) or _name(r) in in_scope]
    names = {_name(r) for r in observed}
    for name in sorted(names - set(predicted)):
        problems.append(f"the real build requires {name}; the stand-in's does not")
    runtime_seen = {n for n in names if RUNTIME.match(n)}
    if runtime_seen:
        for name in sorted({n for n in predicted if RUNTIME.match(n)} - runtime_seen):
            problems.append(f"the stand-in's build requires {name}; the real one does not")
    release = compat.release(obs.public)
    platforms = sorted({p for _, p in files})
    for requirement in observed:
        name = _name(requirement)
        if name not in predicted:
            continue
        ours = Requirement(predicted[name])
        if obs.pins_recorded:
            theirs = Requirement(requirement.split(";")[0].replace("(", "").replace(")", ""))
            if theirs.specifier != ours.specifier:
                problems.append(f"{name}: the real build pins {theirs.specifier}, the stand-in "
                                f"{ours.specifier}")
        locked = obs.locked.get(name)
        if locked and name in in_scope and Version(locked) not in ours.specifier:
            problems.append(f"{name}: locked {locked}, the stand-in requires {ours.specifier}")
        marker = _marker(requirement)
        if marker is None:
            continue
        for platform in platforms:
            # A lock's markers leave out what its requires-python makes always true: compare
            # them on platforms only, at the oldest Python the lock holds a wheel for.
            pythons = release.pythons(platform, obs.index) if obs.pins_recorded else sorted(
                {p for f, q in files if q == platform and (p := _python_of(f))}, key=Version
            )[:1]
            for python in pythons:
                env = _environment(compat, platform, python)
                theirs_holds = marker.evaluate(env)
                ours_holds = ours.marker is None or ours.marker.evaluate(env)
                # A lock narrows markers to its own environments, so only where the real
                # requirement holds must ours hold; a wheel's own marker must match exactly.
                if (theirs_holds and not ours_holds) or (
                    obs.pins_recorded and ours_holds and not theirs_holds
                ):
                    problems.append(f"{name}: on {platform}, Python {python}, the real build "
                                    f"{'needs' if theirs_holds else 'does not need'} it, the "
                                    f"stand-in's {'does not' if theirs_holds else 'does'}")
                    break
    return problems


@dataclass
class Report:
    checked: list[Observation] = field(default_factory=list)
    out_of_scope: list[tuple[Observation, str]] = field(default_factory=list)
    disagreements: list[tuple[Observation, str]] = field(default_factory=list)
    files_checked: int = 0
    files_elsewhere: int = 0  # on platforms the data does not model (s390x, macOS x86_64, ...)


def check(compat: Compat, observations: Iterable[Observation]) -> Report:
    report = Report()
    for obs in observations:
        reason = out_of_scope(compat, obs)
        if reason:
            report.out_of_scope.append((obs, reason))
            continue
        files = [(f, _platform_of(compat, f)) for f in obs.files]
        modelled = [(f, p) for f, p in files if p is not None]
        report.files_checked += len(modelled)
        report.files_elsewhere += len(files) - len(modelled)
        report.checked.append(obs)
        for problem in _check_data(compat, obs, modelled) + _check_stand_in(compat, obs, modelled):
            report.disagreements.append((obs, problem))
    return report


def summary(report: Report) -> str:
    return (
        f"outside observations: {len(report.checked)} checked ({report.files_checked} wheel "
        f"files), {len(report.disagreements)} disagreements; {len(report.out_of_scope)} out of "
        f"scope, {report.files_elsewhere} files on platforms the data does not model"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m compat.evidence", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="*", type=Path, help="evidence JSON files")
    parser.add_argument("--verbose", action="store_true", help="list what is out of scope")
    args = parser.parse_args(argv)
    compat = load()
    observations: list[Observation] = []
    for path in args.files:
        observations += from_json(path)
    report = check(compat, observations if args.files else recorded(compat))
    for obs, problem in report.disagreements:
        print(f"DISAGREES  {obs}: {problem}")
    if args.verbose:
        for obs, reason in report.out_of_scope:
            print(f"out of scope  {obs}: {reason}")
    print(summary(report))
    return 1 if report.disagreements else 0


if __name__ == "__main__":
    sys.exit(main())


