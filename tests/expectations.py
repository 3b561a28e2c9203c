"""What a rendered project must give each platform, derived in Python from the answers and
compat/pytorch.yml, independently of the template's Jinja."""

from __future__ import annotations

from functools import cache
from typing import Any

from packaging.markers import Marker
from packaging.version import Version

from compat.model import MACOS, Compat, Release, matches
from tests.combinations import BACKEND_QUESTION

PYPI = "pypi"


def expected_builds(compat: Compat, answers: dict[str, Any]) -> dict[str | None, dict[str, str]]:
    """{extra or None: {platform: variant or "pypi"}} for the selected platforms."""
    mode = answers["accelerator_mode"]
    platforms = [p for p in compat.platforms if p in answers["platforms"]]
    if mode == "pypi":
        return {None: dict.fromkeys(platforms, PYPI)}
    if mode == "platform":
        return {
            None: {
                p: PYPI if p == MACOS else answers.get(BACKEND_QUESTION[p], PYPI) for p in platforms
            }
        }
    torch_min, python_min = answers["torch_min"], answers["python_min"]
    return {
        extra: {
            p: extra if p != MACOS and compat.serves(extra, p, torch_min, python_min) else PYPI
            for p in platforms
        }
        for extra in compat.variants
        if extra in answers["extras"]
    }


def environment(compat: Compat, platform: str, python: str, extra: str = "") -> dict[str, str]:
    """A full marker environment for one platform and Python version."""
    return {
        **compat.platforms[platform].environment,
        "python_version": python,
        "python_full_version": f"{python}.0",
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "implementation_version": f"{python}.0",
        "platform_release": "",
        "platform_version": "",
        "extra": extra,
    }


def holds(marker: str | None, env: dict[str, str]) -> bool:
    return marker is None or _holds(marker, tuple(sorted(env.items())))


@cache
def _holds(marker: str, env: tuple[tuple[str, str], ...]) -> bool:
    # Locks repeat the same markers across platforms and extras: parse and evaluate each once.
    return Marker(marker).evaluate(dict(env))


def local_label(compat: Compat, release: Release, variant: str, platform: str) -> str:
    """The local version label of `variant`'s wheel, per the data's naming facts."""
    names = compat.raw["wheel_names"]
    label = "" if platform in names["unlabelled_platforms"]["value"] else variant
    for rule in names["irregular"]:
        if (rule["variant"], rule["platform"]) == (variant, platform) and matches(
            rule["torch"], release.version
        ):
            label = rule.get("label", label)
    return label


def release_of(compat: Compat, torch_version: str) -> Release:
    return compat.release(str(Version(torch_version).public))
