"""The combination space of the template's answers, defined once for the render and lock tests.

Question names and fixed choices come from copier.yml; platforms, variants, Python versions and
torch releases from compat/pytorch.yml. Only answers the template accepts are combinations: the
refused ones are the validation tests' business.

- every platform subset x every mode, other answers at their defaults;
- "platform" mode: every valid backend of each selected platform, their full cross product;
- "extras" mode: every single variant, every pair, and all of them together;
- every python_min, torch_min and torch_packages value, crossed with every variant.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from compat.model import Compat, load

ROOT = Path(__file__).resolve().parent.parent
COPIER_YML = ROOT / "copier.yml"
BACKEND_QUESTION = {
    "linux-x86_64": "backend_linux_x86_64",
    "linux-aarch64": "backend_linux_aarch64",
    "windows-x86_64": "backend_windows_x86_64",
}
SHORT = {
    "linux-x86_64": "lx64",
    "linux-aarch64": "la64",
    "windows-x86_64": "win",
    "macos-arm64": "mac",
}


class _CopierLoader(yaml.SafeLoader):
    """Reads copier.yml as data; its `!include` documents stay unread."""


_CopierLoader.add_constructor("!include", lambda loader, node: None)


@cache
def questions() -> dict[str, Any]:
    documents = yaml.load_all(COPIER_YML.read_text(encoding="utf-8"), Loader=_CopierLoader)
    merged: dict[str, Any] = {}
    for document in documents:
        if isinstance(document, dict):
            merged.update(document)
    return {k: v for k, v in merged.items() if not k.startswith("_")}


def fixed_choices(question: str) -> list[str]:
    """The values of a question whose choices copier.yml lists literally."""
    choices = questions()[question]["choices"]
    return list(choices.values()) if isinstance(choices, dict) else list(choices)


@dataclass(frozen=True)
class Combination:
    key: str
    answers: tuple[tuple[str, Any], ...]

    @property
    def data(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in self.answers}

    def __str__(self) -> str:
        return self.key


def _combination(**answers: Any) -> Combination:
    frozen = tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in answers.items()))
    parts = []
    for name, value in frozen:
        if name == "platforms":
            value = "+".join(SHORT[p] for p in value)
        elif isinstance(value, tuple):
            value = "+".join(value) or "none"
        parts.append(f"{name.removeprefix('backend_')}={value}")
    return Combination(",".join(parts), frozen)


def _defaults() -> dict[str, str]:
    return {"python_min": questions()["python_min"]["default"]}


def _newest_minor_serving(compat: Compat, variant: str, python_min: str) -> str | None:
    """The newest torch_min at which `variant` serves some platform for python_min."""
    for minor in reversed(compat.minors()):
        if compat.torch_min_fits_python(minor, python_min) and compat.usable_variants(
            list(compat.platforms), minor, python_min
        ).count(variant):
            return minor
    return None


def _variant_sweep(
    compat: Compat, python_min: str, variant: str, **extra: Any
) -> list[Combination]:
    """One variant as the main build, in "platform" mode on every platform."""
    torch_min = compat.verified_torch_min()
    if variant not in compat.usable_variants(list(compat.platforms), torch_min, python_min):
        torch_min = _newest_minor_serving(compat, variant, python_min)
    if torch_min is None:
        return []
    return [
        _combination(
            accelerator_mode="platform",
            accelerator=variant,
            platforms=list(compat.platforms),
            python_min=python_min,
            torch_min=torch_min,
            **extra,
        )
    ]


def all_combinations(compat: Compat | None = None) -> list[Combination]:
    compat = compat or load()
    python_default = _defaults()["python_min"]
    torch_default = compat.verified_torch_min()
    modes = fixed_choices("accelerator_mode")
    platforms = list(compat.platforms)
    subsets = [
        list(s) for n in range(1, len(platforms) + 1) for s in itertools.combinations(platforms, n)
    ]
    found: dict[str, Combination] = {}

    def add(items: list[Combination]) -> None:
        for c in items:
            found.setdefault(c.key, c)

    # Every platform subset x every mode, with defaults.
    for subset in subsets:
        for mode in modes:
            add([_combination(platforms=subset, accelerator_mode=mode)])

    # "platform" mode: the full cross product of each selected platform's valid backends.
    for subset in subsets:
        asked = [p for p in subset if p in BACKEND_QUESTION]
        choices = [compat.backends(p, torch_default, python_default) for p in asked]
        for backends in itertools.product(*choices):
            answers = {BACKEND_QUESTION[p]: b for p, b in zip(asked, backends, strict=True)}
            add([_combination(platforms=subset, accelerator_mode="platform", **answers)])

    # "extras" mode: every single variant, every pair, and all together.
    usable = compat.usable_variants(platforms, torch_default, python_default)
    extra_sets = [[v] for v in usable] + [list(p) for p in itertools.combinations(usable, 2)]
    extra_sets.append(usable)
    for extras in extra_sets:
        add([_combination(platforms=platforms, accelerator_mode="extras", extras=extras)])

    # Every value of the remaining questions, crossed with every variant.
    for variant in compat.variants:
        for python_min in compat.python_choices():
            add(_variant_sweep(compat, python_min, variant))
        for packages in [[], ["torchvision"], ["torchaudio"], ["torchvision", "torchaudio"]]:
            add(_variant_sweep(compat, python_default, variant, torch_packages=packages))
        for minor in compat.minors():
            if not compat.torch_min_fits_python(minor, python_default):
                continue
            if variant in compat.usable_variants(platforms, minor, python_default):
                add(
                    [
                        _combination(
                            accelerator_mode="platform",
                            accelerator=variant,
                            platforms=platforms,
                            torch_min=minor,
                        )
                    ]
                )
    return list(found.values())


def as_params(combinations: list[Combination]) -> list[object]:
    """pytest params; a combination's tests share an xdist group, so they run on one worker."""
    import pytest

    return [pytest.param(c, id=c.key, marks=pytest.mark.xdist_group(c.key)) for c in combinations]


COMBINATIONS = as_params(all_combinations())
