"""The compatibility data file: every fact sourced and rated, consistent, and the one copy.

Expected values here come from the issue's interview and from the evidence in the reference
notes, not from the data file itself.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from compat.model import CONFIDENCES, Compat, matches
from compat.readme_table import README, render_readme
from tests.combinations import fixed_choices, questions

ROOT = Path(__file__).resolve().parent.parent


def test_every_fact_has_a_known_source_and_a_confidence(compat: Compat) -> None:
    facts = compat.facts()
    assert len(facts) > 200
    for path, fact in facts:
        assert fact.get("source") in compat.raw["sources"], path
        assert fact.get("confidence") in CONFIDENCES, path
        if fact["source"] == "assumed":
            assert fact["confidence"] == "I", path


def test_gaps_stay_marked(compat: Compat) -> None:
    """2.15's index variants are not known yet: they are assumed, and say so."""
    newest = compat.releases[-1]
    assert newest.version == Version("2.15.0")
    assert {b.confidence for b in newest.builds.values()} == {"I"}
    assert {b.source for b in newest.builds.values()} == {"assumed"}


def test_releases_are_ordered_and_named_consistently(compat: Compat) -> None:
    versions = [r.version for r in compat.releases]
    assert versions == sorted(versions) and len(set(versions)) == len(versions)
    assert versions[0] == Version("2.4.0")
    for release in compat.releases:
        assert release.minor == f"{release.version.major}.{release.version.minor}"
        assert set(release.builds) <= set(compat.variants)
        for build in release.builds.values():
            assert set(build.platforms) <= set(compat.platforms)
            assert set(build.inferred_on) <= set(build.platforms)
        assert set(release.pypi_build) == set(compat.platforms)
        assert set(release.pypi_build.values()) <= set(compat.variants)


def test_every_release_and_platform_has_one_wheel_tag_rule(compat: Compat) -> None:
    rules = compat.raw["wheel_names"]["platform_tags"]
    for release in compat.releases:
        for platform in compat.platforms:
            found = [
                r
                for r in rules
                if r["platform"] == platform and matches(r["torch"], release.version)
            ]
            assert len(found) == 1, (release.version, platform)


def test_cuda_runtime_requirements_are_pep_508(compat: Compat) -> None:
    for variant in compat.variants.values():
        assert bool(variant.runtime_requires) == (variant.family == "cuda"), variant.name
        for requirement in variant.runtime_requires:
            assert Requirement(requirement).marker is not None


@pytest.mark.parametrize(
    ("variant", "last"),
    [("cu121", "2.5.1"), ("cu118", "2.7.1"), ("cu124", "2.6.0"), ("rocm6.2", "2.5.1")],
)
def test_retired_variants_end_where_the_evidence_says(
    compat: Compat, variant: str, last: str
) -> None:
    assert max(r.version for r in compat.releases if variant in r.builds) == Version(last)


def test_facts_the_template_relies_on(compat: Compat) -> None:
    assert compat.platforms["windows-x86_64"].platform_machine == "AMD64"
    assert compat.platforms_of_family("rocm") == ["linux-x86_64"]
    assert "macos-arm64" not in compat.platforms_of_family("cuda")
    assert compat.release("2.15.0").pypi_build["linux-x86_64"] == "cu132"
    assert compat.release("2.10.0").pypi_build["linux-aarch64"] == "cpu"
    assert compat.release("2.11.0").pypi_build["linux-aarch64"] == "cu130"


def test_interview_choices_derive_from_the_data(compat: Compat) -> None:
    """The interview's public values: python_min 3.10-3.14; torch_min 2.4 to the newest minor,
    defaulting to the newest release whose index variants are verified."""
    assert compat.python_choices() == ["3.10", "3.11", "3.12", "3.13", "3.14"]
    assert compat.minors()[0] == "2.4" and compat.minors()[-1] == "2.15"
    assert compat.verified_torch_min() == "2.14"
    assert fixed_choices("accelerator_mode") == ["pypi", "platform", "extras"]
    assert fixed_choices("torch_packages") == ["torchvision", "torchaudio"]
    for name in [
        "project_name",
        "package_name",
        "description",
        "author_name",
        "author_email",
        "python_min",
        "torch_min",
        "torch_packages",
        "platforms",
        "accelerator_mode",
        "accelerator",
        "backend_linux_x86_64",
        "backend_linux_aarch64",
        "backend_windows_x86_64",
        "extras",
        "pytorch_index_url",
    ]:
        assert name in questions(), name


def test_no_second_copy_of_the_version_table() -> None:
    """Release numbers of torch and torchvision, and driver minimums, live in
    compat/pytorch.yml only: the template's logic and prose derive them."""
    facts = re.compile(
        r"\b(2\.(?:[4-9]|1[0-9])\.[0-9]+|0\.(?:19|2[0-9])\.[0-9]+|[0-9]{3}\.[0-9]+\.[0-9]+)\b"
    )
    # The generated project's own unit tests feed the doctor made-up machines.
    sources = [ROOT / "copier.yml", *ROOT.glob("includes/**/*"), *ROOT.glob("template/**/*")]
    offenders = {
        str(path.relative_to(ROOT)): facts.findall(path.read_text(encoding="utf-8"))
        for path in sources
        if path.is_file() and "template/tests" not in str(path.relative_to(ROOT))
    }
    assert {path: found for path, found in offenders.items() if found} == {}


def test_readme_table_is_generated_from_the_data(compat: Compat) -> None:
    current = README.read_text(encoding="utf-8")
    assert render_readme(current, compat) == current, "run: uv run python -m compat.readme_table"
    assert "| 2.14.1 |" in current and "rocm6.2.4" in current
