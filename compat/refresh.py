"""Compare compat/pytorch.yml with the live PyTorch index and PyPI; optionally write the update.

    uv run python -m compat.refresh            # report what the data lacks or gets wrong
    uv run python -m compat.refresh --check    # the same, exit 1 if anything is reported
    uv run python -m compat.refresh --write    # the same, and write the corrections

It reads `<index>/torch/` (every torch file of every variant: new variants show up there by their
local label), then `<index>/<variant>/torch/` for each variant, and PyPI's JSON API for torch's
releases and their Python tags. Written facts record their source (index-listing, pypi) and
confidence V2; what a listing cannot show (companions, Triton packages, PyPI's build per platform)
is carried over from the previous release and marked I, for a maintainer to confirm.
"""

from __future__ import annotations

import argparse
import copy
import html.parser
import json
import re
import sys
import urllib.error
import urllib.request
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from packaging.version import InvalidVersion, Version

from compat.model import DATA_FILE, Compat, parse, read_raw

INDEX_URL = "https://download.pytorch.org/whl"
PYPI_URL = "https://pypi.org/pypi"
WHEEL = re.compile(
    r"^(?P<dist>[^-]+)-(?P<version>[^-]+)(?:-(?P<build>[0-9][^-]*))?"
    r"-(?P<python>[^-]+)-(?P<abi>[^-]+)-(?P<platform>[^-]+)\.whl$"
)
FAMILY = re.compile(r"^(?P<family>cpu|cu|rocm|xpu)")

# {version: {variant: {platform: {python, ...}}}}
Observed = dict[str, dict[str, dict[str, set[str]]]]


@dataclass(frozen=True)
class Wheel:
    version: str
    label: str
    python: str | None
    platform: str | None


def platform_of(tag: str) -> str | None:
    if tag.startswith("macosx") and tag.endswith("arm64"):
        return "macos-arm64"
    if tag == "win_amd64":
        return "windows-x86_64"
    if "linux" in tag and tag.endswith("x86_64"):
        return "linux-x86_64"
    if "linux" in tag and tag.endswith("aarch64"):
        return "linux-aarch64"
    return None


def parse_wheel(filename: str) -> Wheel | None:
    """A wheel file name as the index writes it; None for what is not a wheel."""
    match = WHEEL.match(unquote(filename.split("#", 1)[0].rsplit("/", 1)[-1]))
    if not match:
        return None
    public, _, label = match["version"].partition("+")
    python = match["python"]
    cpython = re.fullmatch(r"cp3([0-9]+)", python)  # free-threaded (cp313t) builds are not counted
    return Wheel(
        public,
        label,
        f"3.{cpython.group(1)}" if cpython else None,
        platform_of(match["platform"].split(".")[-1]),
    )


class _Links(html.parser.HTMLParser):
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


def listing(base: str, *parts: str) -> list[Wheel] | None:
    page = fetch(_listing_url(base, *parts))
    if page is None:
        return None
    links = _Links()
    links.feed(page)
    return [w for w in map(parse_wheel, links.names) if w is not None]


def _is_release(version: str) -> bool:
    try:
        parsed = Version(version)
    except InvalidVersion:
        return False
    return not (parsed.is_prerelease or parsed.is_devrelease) and parsed >= Version("2.4")


def observe_index(base: str, known: list[str]) -> tuple[Observed, set[str]]:
    """What the index carries, per release, variant and platform; and the variants it names."""
    everything = listing(base, "torch") or []
    named = {w.label for w in everything if w.label}
    observed: Observed = defaultdict(lambda: defaultdict(lambda: defaultdict(set)))
    for variant in [*known, *sorted(named - set(known))]:
        for wheel in listing(base, variant, "torch") or []:
            if wheel.platform and _is_release(wheel.version):
                pythons = observed[wheel.version][variant][wheel.platform]
                if wheel.python:
                    pythons.add(wheel.python)
    return observed, named


@dataclass
class PyPI:
    pythons: dict[str, set[str]] = field(default_factory=dict)


def observe_pypi(base: str) -> PyPI | None:
    page = fetch(f"{base.rstrip('/')}/torch/json")
    if page is None:
        return None
    found = PyPI()
    for version, files in json.loads(page)["releases"].items():
        if not _is_release(version):
            continue
        wheels = [w for w in (parse_wheel(f["filename"]) for f in files) if w and w.python]
        if wheels:
            found.pythons[version] = {w.python for w in wheels if w.python}
    return found


def _ordered(pythons: set[str]) -> list[str]:
    return sorted(pythons, key=Version)


def _platforms(compat: Compat, found: dict[str, set[str]]) -> list[str]:
    return [p for p in compat.platforms if p in found]


def _span(pythons: list[str]) -> str:
    return f"{pythons[0]}-{pythons[-1]}" if pythons else "none"


@dataclass
class Finding:
    kind: str
    text: str
    release: str | None = None
    variant: str | None = None
    platforms: list[str] = field(default_factory=list)
    pythons: list[str] = field(default_factory=list)


def compare(compat: Compat, observed: Observed, pypi: PyPI | None) -> list[Finding]:
    """What the data lacks or gets wrong, as the index and PyPI show it."""
    findings: list[Finding] = []
    known_releases = {str(r.version): r for r in compat.releases}
    observed_variants = {v for by_variant in observed.values() for v in by_variant}
    for variant in sorted(observed_variants - set(compat.variants)):
        releases = sorted((v for v in observed if variant in observed[v]), key=Version)
        where = ", ".join(_platforms(compat, observed[releases[-1]][variant]))
        findings.append(
            Finding(
                "new variant", f"{variant}: torch {', '.join(releases)} ({where})", variant=variant
            )
        )

    pypi_versions = set(pypi.pythons) if pypi else set()
    for version in sorted((set(observed) | pypi_versions) - set(known_releases), key=Version):
        pythons = _ordered(pypi.pythons.get(version, set())) if pypi else []
        variants = observed.get(version, {})
        builds = "; ".join(
            f"{v} on {', '.join(_platforms(compat, variants[v]))}" for v in sorted(variants)
        )
        findings.append(
            Finding(
                "new release",
                f"torch {version}: Python {_span(pythons)} on PyPI; index: {builds or 'nothing yet'}",
                release=version,
                pythons=pythons,
            )
        )

    for version, release in known_releases.items():
        seen = observed.get(version)
        if pypi and version in pypi.pythons:
            on_pypi = _ordered(pypi.pythons[version])
            if on_pypi != list(release.python):
                findings.append(
                    Finding(
                        "python",
                        f"torch {version}: PyPI has Python {', '.join(on_pypi)}; the data says {', '.join(release.python)}",
                        release=version,
                        pythons=on_pypi,
                    )
                )
        if not seen:
            continue
        for variant in sorted(set(release.builds) | set(seen)):
            data_platforms = (
                list(release.builds[variant].platforms) if variant in release.builds else []
            )
            index_platforms = _platforms(compat, seen.get(variant, {}))
            if data_platforms == index_platforms:
                continue
            confidence = release.builds[variant].confidence if variant in release.builds else "-"
            findings.append(
                Finding(
                    "changed",
                    f"torch {version} {variant}: the index has {', '.join(index_platforms) or 'nothing'}; "
                    f"the data says {', '.join(data_platforms) or 'nothing'} ({confidence})",
                    release=version,
                    variant=variant,
                    platforms=index_platforms,
                )
            )

    # A variant the data's newest release lists, but the index's newest release lacks, is retired.
    if observed:
        newest = max(observed, key=Version)
        for variant in compat.releases[-1].builds:
            if variant in observed[newest]:
                continue
            carried = [v for v in observed if variant in observed[v]]
            last = max(carried, key=Version) if carried else "none on the index"
            findings.append(
                Finding(
                    "retired",
                    f"{variant}: no build for torch {newest} (its last is {last})",
                    variant=variant,
                )
            )
    return findings


def _family(variant: str) -> str:
    match = FAMILY.match(variant)
    return {"cu": "cuda"}.get(match["family"], match["family"]) if match else "cpu"


def write(findings: list[Finding], observed: Observed, path: Path = DATA_FILE) -> None:
    """Write the corrections into the data file, keeping its comments and layout."""
    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096
    document = yaml.load(path.read_text(encoding="utf-8"))
    data = document["pytorch"]["default"]
    releases = data["releases"]
    by_version = {str(r["version"]): r for r in releases}
    compat = parse(json.loads(json.dumps(data)))

    for finding in findings:
        if finding.kind == "new variant" and finding.variant:
            entry: dict[str, Any] = {"family": _family(finding.variant)}
            if entry["family"] == "cuda":
                digits = finding.variant[2:]
                entry["cuda"] = f"{digits[:-1]}.{digits[-1]}"
            data["variants"][finding.variant] = entry
        elif finding.kind == "new release" and finding.release:
            previous = copy.deepcopy(json.loads(json.dumps(releases[-1])))
            version = finding.release
            variants = observed.get(version, {})
            new = {
                "version": version,
                "minor": ".".join(version.split(".")[:2]),
                "python": {
                    "value": finding.pythons or previous["python"]["value"],
                    "source": "pypi",
                    "confidence": "V" if finding.pythons else "I",
                },
                "variants": {
                    v: {
                        "platforms": _platforms(compat, variants[v]),
                        "source": "index-listing",
                        "confidence": "V2",
                    }
                    for v in [*data["variants"], *sorted(variants)]
                    if v in variants
                }
                or {
                    v: {**b, "source": "assumed", "confidence": "I"}
                    for v, b in previous["variants"].items()
                },
            }
            for key in ("torchvision", "torchaudio", "pypi_build", "triton"):
                if key in previous:
                    new[key] = _assumed(previous[key])
            releases.append(new)
            by_version[version] = new
        elif finding.kind == "python" and finding.release:
            facts = dict(by_version[finding.release]["python"])
            facts.update(value=finding.pythons, source="pypi", confidence="V")
            by_version[finding.release]["python"] = facts
        elif finding.kind == "changed" and finding.release and finding.variant:
            variants = by_version[finding.release]["variants"]
            fresh = dict(
                variants
            )  # a release may share its variants with another through an anchor
            if finding.platforms:
                fresh[finding.variant] = {
                    "platforms": finding.platforms,
                    "source": "index-listing",
                    "confidence": "V2",
                }
            else:
                fresh.pop(finding.variant, None)
            by_version[finding.release]["variants"] = fresh
    with path.open("w", encoding="utf-8") as out:
        yaml.dump(document, out)


def _assumed(fact: Any) -> Any:
    """A fact carried over from the previous release, marked as such."""
    if isinstance(fact, dict):
        if "confidence" in fact:
            return {**fact, "source": "assumed", "confidence": "I"}
        return {k: _assumed(v) for k, v in fact.items()}
    return fact


def report(findings: list[Finding]) -> str:
    if not findings:
        return "compat/pytorch.yml matches the index and PyPI."
    lines = [f"{len(findings)} difference(s) between compat/pytorch.yml and the index / PyPI:"]
    lines += [f"  {f.kind:<12} {f.text}" for f in findings]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m compat.refresh",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--index-url", default=INDEX_URL, help=f"PyTorch index base (default {INDEX_URL})"
    )
    parser.add_argument(
        "--pypi-url", default=PYPI_URL, help=f"PyPI JSON API base (default {PYPI_URL})"
    )
    parser.add_argument(
        "--data", type=Path, default=DATA_FILE, help="the data file to compare (and write)"
    )
    parser.add_argument("--check", action="store_true", help="exit 1 if anything is reported")
    parser.add_argument(
        "--write", action="store_true", help="write the corrections into the data file"
    )
    args = parser.parse_args(argv)

    compat = parse(read_raw(args.data))
    observed, _ = observe_index(args.index_url, list(compat.variants))
    if not observed:
        print(f"{args.index_url} gave no torch listing: nothing to compare", file=sys.stderr)
        return 2
    pypi = observe_pypi(args.pypi_url)
    if pypi is None:
        print(
            f"{args.pypi_url} gave no torch release list; comparing the index only", file=sys.stderr
        )
    findings = compare(compat, observed, pypi)
    print(report(findings))
    if args.write and findings:
        write(findings, observed, args.data)
        print(f"wrote {args.data}: review the diff, then run the tests")
    return 1 if args.check and findings else 0


if __name__ == "__main__":
    sys.exit(main())
