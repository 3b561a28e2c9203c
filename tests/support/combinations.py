"""The combination space of the template's answers, defined once.

Question names and fixed choices come from copier.yml; platforms, variants, Python versions and
torch releases from compat/pytorch.yml. Only answers the template accepts are combinations: the
refused ones are the interview tests' business.

- every subset of the platforms with a PyPI build, and every other platform alone, with them all,
  and with each of them, x every mode, other answers at their defaults (torch alone where a
  platform's builds ship no companions);
- "platform" mode: every valid backend of each selected platform, their full cross product (for
  the PyPI platforms; beside another platform, that platform's backends);
- "extras" and "groups" modes: every single variant, every pair, and all of them together;
- every python_min, torch_min and torch_packages value, crossed with every variant.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import cache
from typing import Any

from compat.model import Compat, load
from compat.questions import choice_values, questions
from compat.render_data import backend_question

PYPI = "pypi"


def fixed_choices(question: str) -> list[str]:
    """The values of a question whose choices copier.yml lists literally."""
    return choice_values(questions()[question]["choices"])


def question_default(question: str) -> Any:
    return questions()[question]["default"]


# The companions the interview defaults to where every selected platform's builds have them
# (its default is a Jinja expression: []) where one platform's builds ship torch alone).
DEFAULT_COMPANIONS = ("torchvision",)


@dataclass(frozen=True)
class Combination:
    key: str
    answers: tuple[tuple[str, Any], ...]

    @property
    def data(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in self.answers}

    def __str__(self) -> str:
        return self.key


def combination(compat: Compat, **answers: Any) -> Combination:
    frozen = tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in answers.items()))
    parts = []
    for name, value in frozen:
        if name == "platforms":
            value = "+".join(compat.platforms[p].short for p in value)
        elif isinstance(value, tuple):
            value = "+".join(value) or "none"
        parts.append(f"{name.removeprefix('backend_')}={value}")
    return Combination(",".join(parts), frozen)


def platform_subsets(compat: Compat) -> list[list[str]]:
    """Every subset of the PyPI platforms; each other platform alone, with all of those, and
    with each of them."""
    common = compat.pypi_platforms()
    subsets = [
        list(s) for n in range(1, len(common) + 1) for s in itertools.combinations(common, n)
    ]
    for other in (p for p in compat.platforms if p not in common):
        subsets += [[other], [*common, other], *([p, other] for p in common)]
    order = list(compat.platforms)
    return [sorted(s, key=order.index) for s in subsets]


def _newest_minor_serving(
    compat: Compat, variant: str, python_min: str, companions: tuple[str, ...]
) -> str | None:
    """The newest torch_min at which `variant` serves some platform for python_min."""
    for minor in reversed(compat.minors()):
        if compat.torch_min_fits_python(minor, python_min) and variant in compat.usable_variants(
            list(compat.platforms), minor, python_min, companions
        ):
            return minor
    return None


def _sweep(compat: Compat, python_min: str, variant: str, **extra: Any) -> list[Combination]:
    """One variant as the main build, in "platform" mode on every platform it can go with."""
    companions = tuple(extra.get("torch_packages", DEFAULT_COMPANIONS))
    torch_min = compat.verified_torch_min()
    if variant not in compat.usable_variants(list(compat.platforms), torch_min, python_min,
                                             companions):
        torch_min = _newest_minor_serving(compat, variant, python_min, companions)
    if torch_min is None:
        return []
    # Every platform that can have a build here: PyPI's, or one from the index.
    platforms = [
        p for p in compat.platforms
        if compat.platforms[p].pypi or compat.backends(p, torch_min, python_min, companions)
    ]
    # With every such platform, and with the PyPI platforms alone (the sweep before others came).
    subsets = [platforms, [p for p in platforms if compat.platforms[p].pypi]]
    return [
        combination(
            compat,
            accelerator_mode="platform",
            accelerator=variant,
            platforms=subset,
            python_min=python_min,
            torch_min=torch_min,
            **{"torch_packages": list(companions), **extra},
        )
        for subset in dict.fromkeys(map(tuple, subsets))
    ]


@cache
def all_combinations(compat: Compat | None = None) -> list[Combination]:
    compat = compat or load()
    python_default = question_default("python_min")
    torch_default = compat.verified_torch_min()
    companions = DEFAULT_COMPANIONS
    modes = fixed_choices("accelerator_mode")
    subsets = platform_subsets(compat)
    found: dict[str, Combination] = {}

    def add(items: list[Combination]) -> None:
        for c in items:
            found.setdefault(c.key, c)

    def packages_for(subset: list[str]) -> tuple[str, ...] | None:
        """The default companions where every platform of the subset has a build with them; torch
        alone where some platform's builds ship torch alone (windows-arm64); None where neither."""
        for packages in (companions, ()):
            if all(compat.platforms[p].pypi or compat.backends(p, torch_default, python_default,
                                                               packages) for p in subset):
                return packages
        return None

    def valid(subset: list[str], mode: str) -> bool:
        """PyPI has no build for some platforms: their projects need another mode."""
        if mode == PYPI and not all(compat.platforms[p].pypi for p in subset):
            return False
        return packages_for(subset) is not None

    def answers_for(subset: list[str]) -> dict[str, Any]:
        packages = packages_for(subset)
        return {} if packages == companions else {"torch_packages": list(packages or ())}

    # Every platform subset x every mode, with defaults.
    for subset in subsets:
        for mode in modes:
            if valid(subset, mode):
                add([combination(compat, platforms=subset, accelerator_mode=mode,
                                 **answers_for(subset))])

    # "platform" mode: the full cross product of each selected platform's valid backends.
    for subset in subsets:
        if not valid(subset, "platform"):
            continue
        packages = packages_for(subset) or ()
        asked = [p for p in subset if compat.platforms[p].labelled]
        # The PyPI platforms' cross product is covered by their own subsets; beside another
        # platform, only that platform's builds vary (markers keep platforms apart).
        asked = [p for p in asked if not compat.platforms[p].pypi] or asked
        choices = [compat.backends(p, torch_default, python_default, packages) for p in asked]
        for backends in itertools.product(*choices):
            answers = {backend_question(p): b for p, b in zip(asked, backends, strict=True)}
            add([combination(compat, platforms=subset, accelerator_mode="platform",
                             **answers_for(subset), **answers)])

    # "extras" and "groups" modes: every single variant, every pair, and all together.
    common = compat.pypi_platforms()
    usable = compat.usable_variants(common, torch_default, python_default, companions)
    sets = [[v] for v in usable] + [list(p) for p in itertools.combinations(usable, 2)] + [usable]
    for names in sets:
        add([combination(compat, platforms=common, accelerator_mode="extras", extras=names)])
        add([combination(compat, platforms=common, accelerator_mode="groups", groups=names,
                         accelerator=names[-1])])

    # Every value of the remaining questions, crossed with every variant.
    for variant in compat.variants:
        for python_min in compat.python_choices():
            add(_sweep(compat, python_min, variant))
        for packages in [[], ["torchvision"], ["torchaudio"], ["torchvision", "torchaudio"]]:
            add(_sweep(compat, python_default, variant, torch_packages=packages))
        for minor in compat.minors():
            if not compat.torch_min_fits_python(minor, python_default):
                continue
            if variant in compat.usable_variants(common, minor, python_default, companions):
                add([combination(compat, accelerator_mode="platform", accelerator=variant,
                                 platforms=common, torch_min=minor)])
    return list(found.values())
