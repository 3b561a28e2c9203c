"""Compare compat/pytorch.yml with the live PyTorch index and PyPI; optionally write the update.

    uv run python -m compat.refresh            # report what the data lacks or gets wrong
    uv run python -m compat.refresh --check    # the same, exit 1 if anything is reported
    uv run python -m compat.refresh --write    # the same, write the corrections into the data
                                               # and regenerate every file made from it

The index: `<index>/torch/` (every torch file of every variant: new variants show up there by their
local label), then `<index>/<variant>/torch/` for each variant. PyPI: the listings of torch,
torchvision, torchaudio and triton, and the METADATA of one wheel of each platform of each torch
release (read from the PEP 658 file or a ranged read of the wheel, never the whole wheel): its
files and tags, Pythons, the build it is on each platform, that platform's NVIDIA runtime pins and
triton pin, and the companions' torch requirements.

--write changes only the facts that changed, in place, keeping the file's layout and comments. A
written fact records its source (the index listing, or the PyPI file it was read from). What
neither shows (a new release's companions, Triton packages) is carried over from the previous
release and marked I: such a release is not the default torch_min until a maintainer confirms it.
So is what a new variant or build lacks (a CUDA build's runtime, a new variant's GPU
architectures). Differences in runtime pins are reported for review, not written. Then the files
generated from the data (compat.render_data: the digest, the backend questions, README's tables)
are written again, so that a release is this one command.
"""

from __future__ import annotations

import argparse
import copy
import io
import json
import re
import sys
import urllib.error
import urllib.request
from collections import defaultdict
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from compat import pypi, render_data
from compat.model import (
    COMPANIONS,
    DATA_FILE,
    Compat,
    Release,
    canonical_files,
    parse,
    python_tags,
    read_raw,
)

INDEX_URL = "https://download.pytorch.org/whl"
WHEEL = re.compile(
    r"^(?P<dist>[^-]+)-(?P<version>[^-]+)(?:-(?P<build>[0-9][^-]*))?"
    r"-(?P<python>[^-]+)-(?P<abi>[^-]+)-(?P<platform>[^-]+)\.whl$"
)
FAMILY = re.compile(r"^(?P<family>cpu|cu|rocm|xpu)")
RUNTIME = re.compile(r"^(nvidia-|cuda-)")

# {version: {variant: {platform: {python, ...}}}}
Observed = dict[str, dict[str, dict[str, set[str]]]]


@dataclass(frozen=True)
class Wheel:
    version: str
    label: str
    python: str | None
    platform: str | None


def platform_of(compat: Compat, tag: str) -> str | None:
    """The data's platform of a wheel's platform tag (its last, for compressed tag sets)."""
    return compat.platform_of_tag(tag)


def parse_wheel(compat: Compat, filename: str) -> Wheel | None:
    """A wheel file name as the index writes it; None for what is not a wheel."""
    match = WHEEL.match(unquote(filename.split("#", 1)[0].rsplit("/", 1)[-1]))
    if not match:
        return None
    public, _, label = match["version"].partition("+")
    cpython = re.fullmatch(r"cp3([0-9]+)", match["python"])
    free_threaded = match["abi"].endswith("t")
    return Wheel(
        public,
        label,
        f"3.{cpython.group(1)}" if cpython and not free_threaded else None,
        platform_of(compat, match["platform"]),
    )


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.names.append(href)


def fetch(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            return response.read().decode("utf-8")
    except (urllib.error.URLError, FileNotFoundError, OSError):
        return None


def _listing_url(base: str, *parts: str) -> str:
    url = "/".join([base.rstrip("/"), *parts]) + "/"
    return url + "index.html" if url.startswith("file:") else url


def listing(compat: Compat, base: str, *parts: str) -> list[Wheel] | None:
    page = fetch(_listing_url(base, *parts))
    if page is None:
        return None
    links = _Links()
    links.feed(page)
    return [w for w in (parse_wheel(compat, name) for name in links.names) if w is not None]


def _is_release(version: str) -> bool:
    try:
        parsed = Version(version)
    except InvalidVersion:
        return False
    return not (parsed.is_prerelease or parsed.is_devrelease) and parsed >= Version("2.4")


def observe_index(compat: Compat, base: str) -> Observed:
    """What the index carries, per release, variant and platform."""
    everything = listing(compat, base, "torch") or []
    named = {w.label for w in everything if w.label}
    observed: Observed = defaultdict(lambda: defaultdict(lambda: defaultdict(set)))
    for variant in [*compat.variants, *sorted(named - set(compat.variants))]:
        for wheel in listing(compat, base, variant, "torch") or []:
            if wheel.platform and _is_release(wheel.version):
                pythons = observed[wheel.version][variant][wheel.platform]
                if wheel.python:
                    pythons.add(wheel.python)
    return observed


# PyPI ---------------------------------------------------------------------------------------


@dataclass
class PyPIRelease:
    """One release of one project on PyPI: its files, and the METADATA of one of them."""

    files: dict[str, dict[str, list[str]]]  # {platform: {platform tag: [python-abi]}}
    requires_dist: tuple[str, ...] = ()
    metadata_file: str = ""
    requires_python: str | None = None
    # torch: the METADATA of one wheel of each platform, {platform: (file, Requires-Dist)}
    by_platform: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)


PyPIRecord = dict[str, dict[str, PyPIRelease]]  # {project: {version: release}}


def _files(compat: Compat, files: list[pypi.File]) -> dict[str, dict[str, list[str]]]:
    found: dict[str, dict[str, list[str]]] = {}
    for file in files:
        parts = file.filename.removesuffix(".whl").split("-")
        build = parts[2] if len(parts) == 6 else None
        python, abi, tag = parts[-3:]
        platform = platform_of(compat, tag)
        if platform is None:
            continue
        entry = f"{build}-{python}-{abi}" if build else f"{python}-{abi}"
        entries = found.setdefault(platform, {}).setdefault(tag, [])
        if entry not in entries:
            entries.append(entry)
    order = list(compat.platforms)
    return canonical_files({p: found[p] for p in sorted(found, key=order.index)})


def observe_pypi(compat: Compat, base: str = pypi.SIMPLE_URL) -> PyPIRecord | None:
    """PyPI's releases of torch (from the data's first on), of the companions (those the data
    names, and any newer one: a companion can be published between torch releases, as torchaudio
    2.11.1 was) and of the Tritons the data names, each with its files and, for the companions,
    one wheel's METADATA; for torch, one wheel's of each platform (a platform's wheels can
    require other things than Linux x86_64's)."""
    first = compat.releases[0].version
    named = {package: {r.companion(package) for r in compat.releases} for package in COMPANIONS}
    newest = {package: max(map(Version, versions)) for package, versions in named.items()}
    wanted = {
        "torchvision": named["torchvision"],
        "torchaudio": named["torchaudio"],
        "triton": {t.version for r in compat.releases for t in r.triton.values()
                   if t.family == "cuda"},
    }
    record: PyPIRecord = {}
    to_read: list[tuple[str, str, str | None, pypi.File]] = []
    try:
        for project in ("torch", *COMPANIONS, "triton"):
            by_version: dict[str, list[pypi.File]] = defaultdict(list)
            for file in pypi.listing(project, base):
                version = file.version
                if project == "torch" and (not _is_release(version) or Version(version) < first):
                    continue
                newer = (project in COMPANIONS and _is_release(version)
                         and Version(version) > newest[project])
                if project != "torch" and version not in wanted[project] and not newer:
                    continue
                by_version[version].append(file)
            record[project] = {
                v: PyPIRelease(_files(compat, fs), requires_python=fs[0].requires_python)
                for v, fs in by_version.items()
            }
            if project != "triton":
                for version, files in by_version.items():
                    linux = [f for f in files if platform_of(compat, f.tag.split("-")[2])
                             == "linux-x86_64"] or files
                    to_read.append((project, version, None,
                                    sorted(linux, key=lambda f: f.filename)[0]))
                    if project != "torch":
                        continue
                    for platform in compat.platforms:
                        own = sorted((f for f in files
                                      if platform_of(compat, f.tag.split("-")[2]) == platform),
                                     key=lambda f: f.filename)
                        if own:
                            to_read.append((project, version, platform, own[0]))
        metadata = pypi.metadata_of(dict.fromkeys(f for *_, f in to_read))
    except (OSError, urllib.error.URLError, KeyError, json.JSONDecodeError):
        return None
    for project, version, platform, file in to_read:
        release = record[project][version]
        requires = metadata[file.filename].requires_dist
        if platform is None:
            release.requires_dist = requires
            release.metadata_file = file.filename
        else:
            release.by_platform[platform] = (file.filename, requires)
    return record


def _applies(requirement: Requirement, compat: Compat, platform: str) -> bool:
    if requirement.marker is None:
        return True
    env = {**compat.platforms[platform].environment, "python_version": "3.12",
           "python_full_version": "3.12.0", "platform_python_implementation": "CPython",
           "implementation_name": "cpython", "extra": ""}
    return requirement.marker.evaluate(env)


def pypi_build(requires: tuple[str, ...], compat: Compat, platform: str) -> str:
    """The build PyPI's wheel is on `platform`: its CUDA variant, from the runtime it requires
    there (cuda-toolkit==13.0.*, nvidia-cuda-runtime-cu12==12.8.*), else cpu."""
    for text in requires:
        requirement = Requirement(text)
        if not _applies(requirement, compat, platform) or "extra" in str(requirement.marker):
            continue
        if requirement.name in ("cuda-toolkit", "nvidia-cuda-runtime-cu12", "nvidia-cuda-runtime",
                                "nvidia-cuda-runtime-cu11"):
            version = next(iter(requirement.specifier)).version.split(".")
            return f"cu{version[0]}{version[1]}"
    return "cpu"


def _runtime(requires: tuple[str, ...]) -> dict[str, str]:
    found = {}
    for text in requires:
        requirement = Requirement(text)
        if RUNTIME.match(requirement.name) and "extra" not in str(requirement.marker):
            found[canonicalize_name(requirement.name)] = str(requirement.specifier)
    return found


def _triton_pin(requires: tuple[str, ...]) -> str | None:
    for text in requires:
        requirement = Requirement(text)
        if requirement.name == "triton" and "extra" not in str(requirement.marker):
            return str(requirement.specifier)
    return None


# What differs ---------------------------------------------------------------------------------


@dataclass
class Finding:
    kind: str
    text: str
    release: str | None = None
    variant: str | None = None
    platforms: list[str] = field(default_factory=list)
    pythons: list[str] = field(default_factory=list)
    value: Any = None
    source: str = ""


def _platforms(compat: Compat, found: dict[str, Any]) -> list[str]:
    return [p for p in compat.platforms if p in found]


def _span(pythons: list[str]) -> str:
    return f"{pythons[0]}-{pythons[-1]}" if pythons else "none"


def _pythons(files: dict[str, dict[str, list[str]]]) -> list[str]:
    return sorted({p for tags in files.values() for e in tags.values() for p in python_tags(e)},
                  key=Version)


def compare_index(compat: Compat, observed: Observed) -> list[Finding]:
    findings: list[Finding] = []
    known = {str(r.version): r for r in compat.releases}
    observed_variants = {v for by_variant in observed.values() for v in by_variant}
    for variant in sorted(observed_variants - set(compat.variants)):
        releases = sorted((v for v in observed if variant in observed[v]), key=Version)
        where = ", ".join(_platforms(compat, observed[releases[-1]][variant]))
        findings.append(Finding("new variant",
                                f"{variant}: torch {', '.join(releases)} ({where})",
                                variant=variant))
    for version in sorted(set(observed) - set(known), key=Version):
        builds = "; ".join(f"{v} on {', '.join(_platforms(compat, observed[version][v]))}"
                           for v in sorted(observed[version]))
        findings.append(Finding("new release", f"torch {version}: index: {builds}",
                                release=version))
    for version, release in known.items():
        seen = observed.get(version)
        if not seen:
            continue
        for variant in sorted(set(release.builds) | set(seen)):
            data_platforms = list(release.builds[variant].platforms) if variant in release.builds else []
            index_platforms = _platforms(compat, seen.get(variant, {}))
            if data_platforms == index_platforms:
                continue
            confidence = release.builds[variant].confidence if variant in release.builds else "-"
            findings.append(Finding(
                "changed",
                f"torch {version} {variant}: the index has {', '.join(index_platforms) or 'nothing'}; "
                f"the data says {', '.join(data_platforms) or 'nothing'} ({confidence})",
                release=version, variant=variant, platforms=index_platforms,
            ))
    # A variant the data's newest release lists, but the index's newest release lacks, is retired.
    if observed:
        newest = max(observed, key=Version)
        for variant in compat.releases[-1].builds:
            if variant not in observed[newest]:
                carried = [v for v in observed if variant in observed[v]]
                last = max(carried, key=Version) if carried else "none on the index"
                findings.append(Finding("retired",
                                        f"{variant}: no build for torch {newest} (its last is {last})",
                                        variant=variant))
    return findings


def _compare_metadata(compat: Compat, release: Release, on_pypi: PyPIRelease) -> list[Finding]:
    """Each platform's own wheel METADATA against the data: the build it is, its triton pin and
    its NVIDIA runtime pins (each read where the markers apply to that platform)."""
    findings = []
    version = str(release.version)
    own = on_pypi.by_platform or {"linux-x86_64": (on_pypi.metadata_file, on_pypi.requires_dist)}
    for platform, (filename, requires) in own.items():
        source = f"pypi:{filename}"
        if platform in release.pypi_build:
            build = pypi_build(requires, compat, platform)
            if build != release.pypi_build[platform]:
                findings.append(Finding(
                    "pypi build", f"torch {version} on {platform}: PyPI's wheel is a {build} build; "
                    f"the data says {release.pypi_build[platform]}", release=version,
                    platforms=[platform], value=build, source=source,
                ))
        applying = tuple(r for r in requires if _applies(Requirement(r), compat, platform))
        pin = _triton_pin(applying)
        cuda = release.triton.get("cuda")
        if cuda and pin and pin != cuda.specifier:
            findings.append(Finding(
                "triton", f"torch {version} on {platform}: PyPI's wheel requires triton{pin}; "
                f"the data says {cuda.specifier}", release=version, value=pin, source=source,
            ))
        variant = release.pypi_build.get(platform)
        entry = compat.runtime_of(variant, release.version) if variant else None
        # Where the build itself differs, that finding says it; its runtime would differ too.
        if entry is not None and pypi_build(requires, compat, platform) == variant:
            ours = _runtime(tuple(r for r in entry.requires
                                  if _applies(Requirement(r), compat, platform)))
            theirs = _runtime(applying)
            if ours != theirs:
                differs = sorted(n for n in set(ours) | set(theirs) if ours.get(n) != theirs.get(n))
                findings.append(Finding(
                    "runtime", f"torch {version} ({variant}) on {platform}: PyPI's runtime pins "
                    f"differ on {', '.join(differs)} (review compat/pytorch.yml's runtime by hand)",
                    release=version, variant=variant,
                ))
    return findings


def compare_pypi(compat: Compat, record: PyPIRecord) -> list[Finding]:
    findings: list[Finding] = []
    torch = record.get("torch", {})
    known = {str(r.version): r for r in compat.releases}
    for version in sorted(set(torch) - set(known), key=Version):
        files = torch[version].files
        pythons = _pythons(files)
        findings.append(Finding(
            "new release", f"torch {version}: Python {_span(pythons)} on PyPI", release=version,
            pythons=pythons, value=files, source=f"pypi:torch=={version}",
        ))
    for version, release in known.items():
        on_pypi = torch.get(version)
        if on_pypi is None:
            findings.append(Finding("missing", f"torch {version}: not on PyPI", release=version))
            continue
        ours = canonical_files(compat.pypi_files("torch", version))
        if on_pypi.files != ours:
            changed = [p for p in compat.platforms if on_pypi.files.get(p) != ours.get(p)]
            findings.append(Finding(
                "pypi files", f"torch {version}: PyPI's files differ on {', '.join(changed)}",
                release=version, value=on_pypi.files, source=f"pypi:torch=={version}",
            ))
        pythons = _pythons(on_pypi.files)
        if pythons != list(release.python):
            findings.append(Finding(
                "python", f"torch {version}: PyPI has Python {', '.join(pythons)}; the data says "
                f"{', '.join(release.python)}", release=version, pythons=pythons,
                source=f"pypi:torch=={version}",
            ))
        findings += _compare_metadata(compat, release, on_pypi)
        for package in COMPANIONS:
            companion = release.companion(package)
            found = record.get(package, {}).get(companion)
            if found is None:
                findings.append(Finding("missing", f"{package} {companion}: not on PyPI",
                                        release=version))
                continue
            if found.files != canonical_files(compat.pypi_files(package, companion)):
                findings.append(Finding(
                    "pypi files", f"{package} {companion}: PyPI's files differ", release=version,
                    variant=package, value=found.files, source=f"pypi:{package}=={companion}",
                ))
            requirement = next((str(Requirement(r).specifier) for r in found.requires_dist
                                if Requirement(r).name == "torch"
                                and "extra" not in str(Requirement(r).marker)), "")
            if requirement != release.companion_torch_requirement(package):
                findings.append(Finding(
                    "companion", f"{package} {companion} requires torch{requirement or ' (none)'}; "
                    f"the data says {release.companion_torch_requirement(package) or 'none'}",
                    release=version, variant=package,
                ))
    for package in COMPANIONS:
        named = {r.companion(package) for r in compat.releases}
        for version in sorted(set(record.get(package, {})) - named, key=Version):
            found = record[package][version]
            requirement = next((str(Requirement(r).specifier) for r in found.requires_dist
                                if Requirement(r).name == "torch"), "")
            findings.append(Finding(
                "new companion",
                f"{package} {version} on PyPI (torch{requirement or ' any'}; Python "
                f"{_span(_pythons(found.files)) if _pythons(found.files) else 'any (py3)'}): no "
                "release of the data names it; give it to the torch release it came with",
                variant=package, release=version, value=found.files,
                source=f"pypi:{package}=={version}",
            ))
    for version, release in record.get("triton", {}).items():
        if release.files != canonical_files(compat.pypi_files("triton", version)):
            findings.append(Finding("pypi files", f"triton {version}: PyPI's files differ",
                                    variant="triton", value=release.files,
                                    source=f"pypi:triton=={version}", release=version))
    return findings


# Writing ------------------------------------------------------------------------------------


def _family(variant: str) -> str:
    match = FAMILY.match(variant)
    return {"cu": "cuda"}.get(match["family"], match["family"]) if match else "cpu"


def _flow(node: Any) -> Any:
    """New data in the file's own style: mappings of scalars and lists inline."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    if isinstance(node, dict):
        mapped = CommentedMap((k, _flow(v)) for k, v in node.items())
        if all(not isinstance(v, dict) or len(v) <= 6 for v in node.values()):
            mapped.fa.set_flow_style()
        return mapped
    if isinstance(node, list):
        seq = CommentedSeq(_flow(v) for v in node)
        seq.fa.set_flow_style()
        return seq
    return node


def _quoted(value: str) -> Any:
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString

    return DoubleQuotedScalarString(value)


def _files_entry(files: dict[str, Any], source: str) -> Any:
    """A pypi_files entry in the file's layout: one line per platform."""
    from ruamel.yaml.comments import CommentedMap

    entry = CommentedMap()
    entry["files"] = CommentedMap((p, _flow(tags)) for p, tags in files.items())
    entry["source"] = _quoted(source)
    entry["confidence"] = "V"
    return entry


def write(findings: list[Finding], observed: Observed, path: Path = DATA_FILE) -> None:
    """Write the corrections into the data file: only the facts that changed, in place."""
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap

    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    document = yaml.load(path.read_text(encoding="utf-8"))
    releases = document["releases"]
    by_version = {str(r["version"]): r for r in releases}
    compat = parse(json.loads(json.dumps(document)))

    for finding in findings:
        release = by_version.get(finding.release or "")
        if finding.kind == "new variant" and finding.variant:
            variants = document["variants"]
            family = _family(finding.variant)
            # After the newest variant of its family, where the data keeps them in release order.
            kin = [i for i, v in enumerate(variants.values()) if v.get("family") == family]
            variants.insert(kin[-1] + 1 if kin else len(variants), finding.variant,
                            _new_variant(document, finding.variant))
        elif finding.kind == "new release" and finding.release and release is None:
            previous = json.loads(json.dumps(releases[-1]))
            version = finding.release
            variants = observed.get(version, {})
            new = CommentedMap()
            new["version"] = _quoted(version)
            new["minor"] = _quoted(".".join(version.split(".")[:2]))
            new["python"] = _flow({
                "value": [_quoted(p) for p in finding.pythons or previous["python"]["value"]],
                "source": _quoted(finding.source) if finding.source else "assumed",
                "confidence": "V" if finding.pythons else "I",
                **({} if finding.pythons else {"settle": f"PyPI's listing of torch {version}"}),
            })
            index_names = [*document["variants"], *sorted(variants)]
            new["variants"] = CommentedMap(
                (v, _listed_build(compat, variants[v], previous["variants"].get(v, {}),
                                  new["python"]["value"]))
                for v in dict.fromkeys(index_names) if v in variants
            ) or CommentedMap(
                (v, _flow({**b, "source": "assumed", "confidence": "I",
                           "settle": f"the file names of {INDEX_URL}/{v}/torch/ for {version}"}))
                for v, b in previous["variants"].items()
            )
            for key in ("torchvision", "torchaudio", "pypi_build", "triton"):
                if key in previous:
                    new[key] = _assumed(previous[key], version)
            releases.append(new)
            by_version[version] = new
            if finding.value:
                document["pypi_files"]["torch"][_quoted(version)] = _files_entry(
                    finding.value, finding.source)
        elif finding.kind == "python" and release is not None:
            release["python"]["value"] = _flow(finding.pythons)
            release["python"]["source"] = finding.source
            release["python"]["confidence"] = "V"
        elif finding.kind == "pypi files" and finding.value is not None:
            project = finding.variant or "torch"
            version = finding.release if project == "torch" else _companion_version(
                document, finding)
            entry = document["pypi_files"].setdefault(project, CommentedMap()).get(version)
            if entry is None:
                document["pypi_files"][project][_quoted(version)] = _files_entry(
                    finding.value, finding.source)
            else:
                for platform in list(entry["files"]):
                    if platform not in finding.value:
                        del entry["files"][platform]
                for platform, tags in finding.value.items():
                    if json.loads(json.dumps(entry["files"].get(platform))) != tags:
                        entry["files"][platform] = _flow(tags)
        elif finding.kind == "pypi build" and release is not None:
            fact = release["pypi_build"][finding.platforms[0]]
            fact["value"] = finding.value
            fact["source"] = finding.source
            fact["confidence"] = "V"
        elif finding.kind == "triton" and release is not None:
            fact = release["triton"]["cuda"]
            fact["version"] = finding.value.lstrip("=~<>")
            if finding.value.startswith("=="):
                fact.pop("pin", None)
            else:
                fact["pin"] = finding.value[:2]
            fact["source"] = finding.source
            fact["confidence"] = "V"
        elif finding.kind == "changed" and release is not None and finding.variant:
            variants = release["variants"]
            if finding.platforms:
                fact = variants.get(finding.variant)
                if fact is None:
                    variants[finding.variant] = _flow({"platforms": finding.platforms,
                                                       "source": "index-listing",
                                                       "confidence": "V2"})
                else:
                    fact["platforms"] = _flow(finding.platforms)
                    fact["source"] = "index-listing"
                    fact["confidence"] = "V2"
                    fact.pop("settle", None)
            else:
                variants.pop(finding.variant, None)
    _carry_runtime(document)
    out = io.StringIO()
    yaml.dump(document, out)
    # A blank line between releases, as the file keeps them.
    text = re.sub(r"\n(\n?)(  - version: )", lambda m: "\n\n" + m.group(2), out.getvalue())
    path.write_text(text.replace("releases:\n\n  - version:", "releases:\n  - version:"),
                    encoding="utf-8")


def _new_variant(document: Any, variant: str) -> Any:
    """A variant the index names and the data does not: its family and version from its name;
    a CUDA variant's GPU architectures carried over from the newest CUDA variant, marked I."""
    family = _family(variant)
    entry: dict[str, Any] = {"family": family}
    digits = re.fullmatch(r"(?:cu|rocm)([0-9.]+)", variant)
    if family == "cuda" and digits:
        entry["cuda"] = _quoted(f"{digits[1][:-1]}.{digits[1][-1]}")
    elif family == "rocm" and digits:
        entry["rocm"] = _quoted(digits[1])
    newest = next((v for name, v in reversed(list(document["variants"].items()))
                   if v.get("family") == family and "arch" in v and name != variant), None)
    if newest is None:
        return _flow(entry)
    from ruamel.yaml.comments import CommentedMap

    mapped = CommentedMap(entry)
    mapped["arch"] = CommentedMap(
        (platform, _flow({"value": list(fact["value"]), "source": "assumed", "confidence": "I",
                          "settle": f"torch.cuda.get_arch_list() of a {variant} build on {platform}"}))
        for platform, fact in newest["arch"].items()
    )
    return mapped


def _listed_build(compat: Compat, found: dict[str, set[str]], previous: dict[str, Any],
                  pythons: list[str]) -> Any:
    """A new release's build as its index listing shows it: its platforms and, where a platform
    has fewer Pythons than the release, that platform's. Which platforms ship torch without
    companions the torch listing cannot show: carried over from the previous release."""
    platforms = _platforms(compat, found)
    entry: dict[str, Any] = {"platforms": platforms}
    narrower = {p: [_quoted(v) for v in sorted(found[p], key=Version)] for p in platforms
                if found[p] and sorted(found[p], key=Version) != sorted(pythons, key=Version)}
    if narrower:
        entry["python"] = narrower
    alone = [p for p in previous.get("without_companions", []) if p in platforms]
    if alone:
        entry["without_companions"] = alone
    return _flow({**entry, "source": "index-listing", "confidence": "V2"})


def _carry_runtime(document: Any) -> None:
    """Every CUDA build needs its runtime (what its wheels require from PyPI). Where the data has
    none, the nearest known one is carried over, marked I: the same variant's for the previous
    release, else the newest CUDA variant's for the same release."""
    from ruamel.yaml.comments import CommentedMap

    runtime = document["runtime"]

    def entry_for(variant: str, version: str) -> Any:
        return next((e for e in runtime.get(variant, []) if version in map(str, e["torch"])), None)

    releases = [str(r["version"]) for r in document["releases"]]
    for position, release in enumerate(document["releases"]):
        version = str(release["version"])
        cuda = [v for v in release["variants"]
                if document["variants"].get(v, {}).get("family") == "cuda"]
        for variant in cuda:
            if entry_for(variant, version) is not None:
                continue
            earlier = [entry_for(variant, v) for v in reversed(releases[:position])]
            beside = [entry_for(v, version) for v in reversed(cuda) if v != variant]
            carried = next((e for e in [*earlier, *beside] if e is not None), None)
            if carried is None:
                continue
            runtime.setdefault(variant, []).append(CommentedMap([
                ("torch", _flow([_quoted(version)])),
                ("requires", copy.deepcopy(carried["requires"])),
                ("source", "assumed"),
                ("confidence", "I"),
                ("settle", f"the Requires-Dist of torch {version} on {INDEX_URL}/{variant}/torch/"),
            ]))


def _companion_version(document: Any, finding: Finding) -> str:
    release = next(r for r in document["releases"] if str(r["version"]) == finding.release)
    return str(release[finding.variant]["value"]) if finding.variant in COMPANIONS else str(
        finding.release)


def _assumed(fact: Any, version: str) -> Any:
    """A fact carried over from the previous release, marked as such."""
    if isinstance(fact, dict):
        if "confidence" in fact:
            return _flow({**{k: v for k, v in fact.items() if k not in ("source", "confidence",
                                                                         "settle")},
                          "source": "assumed", "confidence": "I",
                          "settle": f"the METADATA of torch {version}'s wheels"})
        from ruamel.yaml.comments import CommentedMap

        return CommentedMap((k, _assumed(v, version)) for k, v in fact.items())
    return copy.deepcopy(fact)


def coverage(compat: Compat, record: PyPIRecord | None = None) -> list[str]:
    """Where a release's companions do not cover every Python torch has on a platform, from the
    data's files, and what PyPI's Requires-Python of each companion excludes: for review when a
    release is added (these are facts, not disagreements)."""
    lines = []
    for release in compat.releases:
        for package in COMPANIONS:
            for platform, pythons in release.python_on.items():
                files = release.companion_files.get(package, {}).get(platform, {})
                entries = [e for tags in files.values() for e in tags]
                if any(e.split("-")[-2] == "py3" for e in entries):
                    continue
                missing = [p for p in pythons if p not in python_tags(entries)]
                if missing:
                    lines.append(f"torch {release.version} on {platform}: {package} "
                                 f"{release.companion(package)} has no wheel for Python "
                                 f"{', '.join(missing)}")
    for package in COMPANIONS:
        for version, found in sorted((record or {}).get(package, {}).items()):
            if found.requires_python and "!=" in found.requires_python:
                lines.append(f"{package} {version} requires Python {found.requires_python}")
    return lines


def report(findings: list[Finding]) -> str:
    if not findings:
        return "compat/pytorch.yml matches the index and PyPI."
    lines = [f"{len(findings)} difference(s) between compat/pytorch.yml and the index / PyPI:"]
    lines += [f"  {f.kind:<12} {f.text}" for f in findings]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m compat.refresh", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index-url", default=INDEX_URL,
                        help=f"PyTorch index base (default {INDEX_URL})")
    parser.add_argument("--pypi-url", default=pypi.SIMPLE_URL,
                        help=f"PyPI simple API base (default {pypi.SIMPLE_URL})")
    parser.add_argument("--data", type=Path, default=DATA_FILE,
                        help="the data file to compare (and write)")
    parser.add_argument("--check", action="store_true", help="exit 1 if anything is reported")
    parser.add_argument("--write", action="store_true",
                        help="write the corrections into the data file")
    args = parser.parse_args(argv)

    compat = parse(read_raw(args.data))
    observed = observe_index(compat, args.index_url)
    if not observed:
        print(f"{args.index_url} gave no torch listing: comparing PyPI only", file=sys.stderr)
    record = observe_pypi(compat, args.pypi_url)
    if record is None:
        print(f"{args.pypi_url} could not be read: comparing the index only", file=sys.stderr)
    if not observed and record is None:
        return 2
    findings = compare_index(compat, observed) + (compare_pypi(compat, record) if record else [])
    # One "new release" per release, the index's and PyPI's facts together.
    merged: dict[str, Finding] = {}
    for finding in findings:
        if finding.kind == "new release" and finding.release in merged:
            earlier = merged[finding.release]
            earlier.text += f"; {finding.text.split(': ', 1)[1]}"
            earlier.pythons = earlier.pythons or finding.pythons
            earlier.value = earlier.value or finding.value
            earlier.source = earlier.source or finding.source
            continue
        if finding.kind == "new release":
            merged[finding.release or ""] = finding
    findings = [f for f in findings if f.kind != "new release" or merged.get(f.release or "") is f]
    print(report(findings))
    notes = coverage(compat, record)
    if notes:
        print(f"{len(notes)} note(s) on companion coverage, for review:")
        print("\n".join(f"  {note}" for note in notes))
    if args.write and findings:
        write(findings, observed, args.data)
        print(f"wrote {args.data}")
        # The files generated from the data, in the checkout the data file belongs to.
        root = args.data.resolve().parent.parent
        if (root / "copier.yml").is_file():
            for path in render_data.write(root, parse(read_raw(args.data))):
                print(f"wrote {path}")
        print("review the diff, then run the tests")
    return 1 if args.check and findings else 0


if __name__ == "__main__":
    sys.exit(main())


