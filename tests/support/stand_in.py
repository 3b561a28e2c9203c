"""A stand-in of the PyTorch wheel index, generated from compat/pytorch.yml.

    uv run python -m tests.stand_in_index DIR [--omit PLATFORM:VARIANT ...]

writes DIR/<variant>/<project>/index.html, as under https://download.pytorch.org/whl/<variant>/<project>/,
with links (and sha256 hashes) to stub wheels in DIR/<variant>/, and DIR/<project>/index.html,
which lists the project's files of every variant, as the real index's <base>/<project>/ does. A project rendered with
pytorch_index_url=file://DIR, or run with UV_INDEX="pytorch-cu130=file://DIR/cu130", locks against it.

It is faithful where the template can go wrong: file names as on the real index (local labels,
unlabelled macOS wheels, the irregular 2.5 aarch64 wheels, platform tags that changed at 2.7,
Python tags per release), stub metadata shaped like the real wheels' (CUDA builds need the NVIDIA
runtime from PyPI, ROCm and XPU builds need their Triton package from the same index, the
companions pin their torch), and decoys: higher-versioned copies of common packages, which an
index that is not `explicit` would let into a lock.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import io
import zipfile
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from packaging.version import Version

from compat.model import Compat, Release, load, matches

# Packages the real index also serves; a decoy of each sits on every variant index.
DECOYS = ("numpy", "jinja2", "pillow", "filelock")
DECOY_VERSION = "99.0.0"
# What a torch wheel requires besides its accelerator runtime (as the real wheels do).
TORCH_REQUIRES = (
    "filelock",
    "typing-extensions>=4.10.0",
    "sympy>=1.13.3",
    "networkx>=2.5.1",
    "jinja2",
    "fsspec>=0.8.5",
)
_ZIP_DATE = (2020, 1, 1, 0, 0, 0)
_PLATFORM_SYSTEM = {
    "linux-x86_64": 'platform_system == "Linux" and platform_machine == "x86_64"',
    "linux-aarch64": 'platform_system == "Linux" and platform_machine == "aarch64"',
    "windows-x86_64": 'platform_system == "Windows"',
    "macos-arm64": 'platform_system == "Darwin"',
}


@dataclass(frozen=True)
class Wheel:
    """One stub wheel on one variant index."""

    variant: str
    project: str
    version: str  # with its local label, if any
    python: str  # cp312, or py3
    abi: str
    platform_tag: str
    platform: str | None  # None for pure (decoy) wheels
    requires: tuple[str, ...]
    requires_python: str | None = None

    @property
    def filename(self) -> str:
        dist = self.project.replace("-", "_")
        return f"{dist}-{self.version}-{self.python}-{self.abi}-{self.platform_tag}.whl"


def _platform_tag(compat: Compat, release: Release, platform: str) -> str:
    rules = compat.raw["wheel_names"]["platform_tags"]
    return next(
        r["tag"]
        for r in rules
        if r["platform"] == platform and matches(r["torch"], release.version)
    )


def _naming(compat: Compat, release: Release, variant: str, platform: str) -> tuple[str, str]:
    """(local label, platform tag) of the wheels of one release, variant and platform."""
    names = compat.raw["wheel_names"]
    label = "" if platform in names["unlabelled_platforms"]["value"] else "+" + variant
    tag = _platform_tag(compat, release, platform)
    for rule in names["irregular"]:
        if (rule["variant"], rule["platform"]) == (variant, platform) and matches(
            rule["torch"], release.version
        ):
            label = rule.get("label", label)
            tag = rule.get("tag", tag)
    return label, tag


def _abi(compat: Compat, release: Release, platform: str, python_tag: str) -> str:
    abi_none = compat.raw["wheel_names"]["abi_none"]["value"]
    if platform in abi_none and matches(abi_none[platform], release.version):
        return "none"
    return python_tag


def _python_tags(release: Release, platform: str) -> list[str]:
    return [
        "cp" + p.replace(".", "") for p in release.python if release.supports_python(p, platform)
    ]


def _torch_requires(compat: Compat, release: Release, variant: str) -> tuple[str, ...]:
    requires = list(TORCH_REQUIRES) + list(compat.variants[variant].runtime_requires)
    triton = release.triton.get(compat.variants[variant].family)
    if triton:
        systems = " or ".join(f"({_PLATFORM_SYSTEM[p]})" for p in triton.platforms)
        requires.append(f"{triton.package}=={triton.version}; {systems}")
    return tuple(requires)


def _companion_requires(release: Release, package: str, *others: str) -> tuple[str, ...]:
    requirement = release.companion_torch_requirement(package)
    return ((f"torch{requirement}",) if requirement else ()) + others


def wheels(compat: Compat) -> Iterable[Wheel]:
    """Every wheel of the stand-in, derived from the compatibility data."""
    tritons: set[tuple[str, str, str, str, str, str]] = set()
    shared_torchaudio: dict[tuple[str, str, str, str], tuple[str, str, str, str]] = {}
    for release in compat.releases:
        for variant, build in release.builds.items():
            family = compat.variants[variant].family
            for platform in build.platforms:
                label, tag = _naming(compat, release, variant, platform)
                for py in _python_tags(release, platform):
                    abi = _abi(compat, release, platform, py)
                    yield Wheel(
                        variant,
                        "torch",
                        f"{release.version}{label}",
                        py,
                        abi,
                        tag,
                        platform,
                        _torch_requires(compat, release, variant),
                        f">={release.python[0]}",
                    )
                    if platform in build.without_companions:
                        continue
                    yield Wheel(
                        variant,
                        "torchvision",
                        f"{release.torchvision}{label}",
                        py,
                        abi,
                        tag,
                        platform,
                        _companion_requires(
                            release, "torchvision", "numpy", "pillow!=8.3.*,>=5.3.0"
                        ),
                        f">={release.python[0]}",
                    )
                    if release.companion_torch_requirement("torchaudio"):
                        yield Wheel(
                            variant,
                            "torchaudio",
                            f"{release.torchaudio}{label}",
                            py,
                            abi,
                            tag,
                            platform,
                            _companion_requires(release, "torchaudio"),
                            f">={release.python[0]}",
                        )
                    else:
                        # One torchaudio serves every later torch and requires no torch (from 2.11).
                        shared_torchaudio.setdefault(
                            (variant, release.torchaudio, platform, py),
                            (f"{release.torchaudio}{label}", abi, tag, f">={release.python[0]}"),
                        )
                    triton = release.triton.get(family)
                    if triton and platform in triton.platforms:
                        tritons.add((variant, triton.package, triton.version, py, tag, platform))
    for (variant, _, platform, py), (version, abi, tag, python) in sorted(
        shared_torchaudio.items()
    ):
        yield Wheel(variant, "torchaudio", version, py, abi, tag, platform, (), python)
    for variant, package, version, py, tag, platform in sorted(tritons):
        yield Wheel(variant, package, version, py, py, tag, platform, ())
    for variant in compat.variants:
        for decoy in DECOYS:
            yield Wheel(variant, decoy, DECOY_VERSION, "py3", "none", "any", None, ())


def _metadata(wheel: Wheel) -> str:
    lines = [
        "Metadata-Version: 2.1",
        f"Name: {wheel.project}",
        f"Version: {wheel.version}",
        "Summary: Stand-in stub generated by tests/stand_in_index.py; not the real package.",
    ]
    if wheel.requires_python:
        lines.append(f"Requires-Python: {wheel.requires_python}")
    lines += [f"Requires-Dist: {r}" for r in wheel.requires]
    return "\n".join(lines) + "\n"


def _wheel_bytes(wheel: Wheel, metadata: str) -> bytes:
    dist = wheel.project.replace("-", "_")
    info = f"{dist}-{wheel.version}.dist-info"
    module = (
        f"raise ImportError('{wheel.project} {wheel.version} is a stand-in stub "
        "from tests/stand_in_index.py, not the real package')\n"
    )
    files = {
        f"{dist}/__init__.py": module,
        f"{info}/METADATA": metadata,
        f"{info}/WHEEL": (
            "Wheel-Version: 1.0\nGenerator: stand-in-index\n"
            f"Root-Is-Purelib: {'true' if wheel.platform is None else 'false'}\n"
            f"Tag: {wheel.python}-{wheel.abi}-{wheel.platform_tag}\n"
        ),
    }
    record = "".join(f"{name},,\n" for name in files) + f"{info}/RECORD,,\n"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, text in [*files.items(), (f"{info}/RECORD", record)]:
            archive.writestr(zipfile.ZipInfo(name, _ZIP_DATE), text)
    return buffer.getvalue()


def _page(title: str, links: list[str]) -> str:
    body = "\n".join(links)
    return (
        f"<!DOCTYPE html>\n<html>\n  <body>\n    <h1>Links for {html.escape(title)}</h1>\n"
        f"{body}\n  </body>\n</html>\n"
    )


def write_index(
    dest: Path, compat: Compat | None = None, omit: Iterable[tuple[str, str]] = ()
) -> Path:
    """Write the stand-in under `dest`; `omit` drops the wheels of (platform, variant) pairs."""
    compat = compat or load()
    omitted = set(omit)
    by_project: dict[tuple[str, str], list[str]] = defaultdict(list)
    for wheel in wheels(compat):
        if (wheel.platform, wheel.variant) in omitted:
            continue
        variant_dir = dest / wheel.variant
        variant_dir.mkdir(parents=True, exist_ok=True)
        metadata = _metadata(wheel)
        data = _wheel_bytes(wheel, metadata)
        (variant_dir / wheel.filename).write_bytes(data)
        (variant_dir / (wheel.filename + ".metadata")).write_text(metadata, encoding="utf-8")
        digest = hashlib.sha256(data).hexdigest()
        metadata_digest = hashlib.sha256(metadata.encode()).hexdigest()
        by_project[(wheel.variant, wheel.project)].append(
            f'    <a href="../{quote(wheel.filename)}#sha256={digest}" '
            f'data-dist-info-metadata="sha256={metadata_digest}" '
            f'data-core-metadata="sha256={metadata_digest}">{html.escape(wheel.filename)}</a><br/>'
        )
    projects_by_variant: dict[str, list[str]] = defaultdict(list)
    # As on the real index, <base>/<project>/ lists the project's files of every variant.
    everything: dict[str, list[str]] = defaultdict(list)
    for (variant, project), links in sorted(by_project.items()):
        everything[project] += [
            link.replace('href="../', f'href="../{variant}/', 1) for link in links
        ]
    for project, links in everything.items():
        (dest / project).mkdir(parents=True, exist_ok=True)
        (dest / project / "index.html").write_text(_page(project, links), encoding="utf-8")
    for (variant, project), links in sorted(by_project.items()):
        project_dir = dest / variant / project
        project_dir.mkdir(parents=True, exist_ok=True)
        links.sort(key=lambda link: Version(link.split(">")[1].split("-")[1]))
        (project_dir / "index.html").write_text(_page(project, links), encoding="utf-8")
        projects_by_variant[variant].append(project)
    for variant, projects in projects_by_variant.items():
        links = [f'    <a href="{p}/">{p}</a><br/>' for p in projects]
        (dest / variant / "index.html").write_text(_page(variant, links), encoding="utf-8")
    return dest


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m tests.stand_in_index",
        description="Write a stand-in of the PyTorch wheel index, generated from compat/pytorch.yml.",
    )
    parser.add_argument(
        "dest", type=Path, help="folder to write; its file:// URL is the index base"
    )
    parser.add_argument(
        "--omit",
        action="append",
        default=[],
        metavar="PLATFORM:VARIANT",
        help="leave out one platform's wheels of one variant (e.g. linux-aarch64:cu130)",
    )
    args = parser.parse_args(argv)
    omit = [tuple(item.split(":", 1)) for item in args.omit]
    dest = write_index(args.dest.resolve(), omit=omit)
    count = sum(1 for _ in dest.rglob("*.whl"))
    print(f"wrote {count} stub wheels under {dest}; index base: {dest.as_uri()}")


if __name__ == "__main__":
    main()
