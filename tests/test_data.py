"""The compatibility data file: every fact sourced and rated, consistent, the one copy, and what
derives from it (the render data, the README table) in step with it. No expected value here names
a torch, CUDA or Python version: a new release in the data changes no test."""

from __future__ import annotations

import copy
import re
import subprocess
import tomllib
from pathlib import Path

import uv
from packaging.requirements import Requirement
from packaging.version import Version

from compat import render_data
from compat.model import CONFIDENCES, VERIFIED, Compat, matches, parse, read_raw
from compat.readme_table import README, render_readme
from compat.wheels import index_wheels
from tests.support.combinations import fixed_choices, questions
from tests.support.interpreters import find_python

ROOT = Path(__file__).resolve().parent.parent


def test_every_fact_has_a_known_source_and_a_confidence(compat: Compat) -> None:
    facts = compat.facts()
    assert len(facts) > 200
    for path, fact in facts:
        assert compat.source_is_known(str(fact.get("source"))), (path, fact.get("source"))
        assert fact.get("confidence") in CONFIDENCES, path
        if fact["source"] == "assumed":
            assert fact["confidence"] == "I", path


def test_an_inferred_fact_says_what_would_settle_it(compat: Compat) -> None:
    unsettled = [path for path, fact in compat.facts()
                 if fact["confidence"] == "I" and not fact.get("settle")]
    assert unsettled == []


def test_the_source_forms_are_recognised(compat: Compat) -> None:
    assert compat.source_is_known("pypi:torch-2.1.0-cp312-cp312-manylinux1_x86_64.whl")
    assert compat.source_is_known("pypi:torch==2.1.0")
    assert compat.source_is_known("invoke-ai/InvokeAI@43da95177a45:uv.lock")
    assert not compat.source_is_known("a lock somewhere")
    assert not compat.source_is_known("invoke-ai/InvokeAI:uv.lock")


def test_releases_are_ordered_and_named_consistently(compat: Compat) -> None:
    versions = [r.version for r in compat.releases]
    assert versions == sorted(versions) and len(set(versions)) == len(versions)
    for release in compat.releases:
        assert release.minor == f"{release.version.major}.{release.version.minor}"
        assert set(release.builds) <= set(compat.variants)
        for build in release.builds.values():
            assert set(build.platforms) <= set(compat.platforms)
            assert set(build.inferred_on) <= set(build.platforms)
            # A platform without PyPI files must say which Pythons its builds have.
            for platform in build.platforms:
                assert release.pythons(platform, build.variant), (release.version, platform)
        assert set(release.pypi_build) == set(compat.pypi_platforms())
        assert set(release.pypi_build.values()) <= set(compat.variants)
        assert compat.pypi_files("torch", str(release.version)), release.version


def test_every_labelled_platform_has_one_wheel_tag_rule_per_release(compat: Compat) -> None:
    """Per release that builds for a labelled platform, exactly one general tag rule."""
    rules = [r for r in compat.raw["wheel_names"]["platform_tags"] if "package" not in r
             and "family" not in r]
    for release in compat.releases:
        for platform in compat.platforms.values():
            if not platform.labelled or not any(
                release.has_build(v, platform.name) for v in release.builds
            ):
                continue
            found = [r for r in rules
                     if r["platform"] == platform.name and matches(r["torch"], release.version)]
            assert len(found) == 1, (release.version, platform.name)


def test_runtime_requirements_are_pep_508_and_cover_every_cuda_build(compat: Compat) -> None:
    for entry in compat.runtime:
        assert compat.variants[entry.variant].family == "cuda"
        for requirement in entry.requires:
            assert Requirement(requirement).marker is not None, requirement
    for release in compat.releases:
        for variant in release.builds:
            if compat.variants[variant].family == "cuda":
                assert compat.runtime_of(variant, release.version), (release.version, variant)


def test_triton_facts_cover_every_accelerated_family(compat: Compat) -> None:
    for release in compat.releases:
        families = {compat.variants[v].family for v in release.builds} - {"cpu"}
        assert families <= set(release.triton), release.version
        for triton in release.triton.values():
            assert triton.platforms, (release.version, triton.family)
            assert compat.pypi_files("triton", triton.version) or triton.family != "cuda", triton


def test_the_data_holds_the_facts_the_template_relies_on(compat: Compat) -> None:
    """Independent of any release: what makes markers and indexes right at all."""
    assert compat.platforms["windows-x86_64"].platform_machine == "AMD64"
    assert compat.platforms_of_family("rocm") == ["linux-x86_64"]
    assert "macos-arm64" not in compat.platforms_of_family("cuda")
    assert not compat.platforms["macos-arm64"].labelled


def test_the_default_torch_min_is_the_newest_fully_verified_minor(compat: Compat) -> None:
    default = compat.verified_torch_min()
    for release in compat.releases:
        if release.minor == default:
            assert all(fact["confidence"] in VERIFIED for _, fact in release.facts())
    later = [r for r in compat.releases if Version(r.minor) > Version(default)]
    for minor in {r.minor for r in later}:
        assert not all(r.verified for r in later if r.minor == minor), minor


def test_an_inferred_companion_or_triton_keeps_a_release_from_the_default(compat: Compat) -> None:
    """Not only the variants count: flip the newest verified release's torchvision, Triton or
    PyPI build to inferred, and the default moves to an older minor."""
    default = compat.verified_torch_min()
    for key in ("torchvision", "pypi_build", "triton"):
        raw = copy.deepcopy(compat.raw)
        release = next(r for r in raw["releases"] if r["minor"] == default)
        fact = release[key] if key == "torchvision" else next(iter(release[key].values()))
        fact["confidence"] = "I"
        assert Version(parse(raw).verified_torch_min()) < Version(default), key


def test_interview_choices_derive_from_the_data(compat: Compat) -> None:
    """python_min's choices are the newest verified release's Pythons; torch_min's default is the
    verified minor; the modes and companions are the interview's own."""
    digest = render_data.digest(compat)
    assert digest["python"] == list(compat.newest_verified().python)
    assert digest["torch_min"] == compat.verified_torch_min()
    assert fixed_choices("accelerator_mode") == ["pypi", "platform", "extras", "groups"]
    assert fixed_choices("torch_packages") == ["torchvision", "torchaudio"]
    for platform, info in compat.platforms.items():
        assert (render_data.backend_question(platform) in questions()) == info.labelled


def test_the_render_data_is_generated_from_the_data() -> None:
    """includes/pytorch-data.yml, includes/backends.yml and README.md's tables: regenerate,
    compare."""
    for path, text in render_data.documents(parse(read_raw())).items():
        assert (ROOT / path).read_text(encoding="utf-8") == text, (
            f"{path} is stale: run uv run python -m compat.render_data"
        )


def test_no_second_copy_of_the_version_table() -> None:
    """Release numbers of torch and its companions, and driver minimums, live in
    compat/pytorch.yml (and its generated digest) only: the template's logic and prose derive them."""
    facts = re.compile(
        r"\b(2\.(?:[4-9]|1[0-9])\.[0-9]+|0\.(?:19|2[0-9])\.[0-9]+|[0-9]{3}\.[0-9]+\.[0-9]+)\b"
    )
    generated = {ROOT / render_data.DATA}
    sources = [ROOT / "copier.yml", *ROOT.glob("includes/**/*"), *ROOT.glob("template/**/*")]
    offenders = {
        str(path.relative_to(ROOT)): facts.findall(path.read_text(encoding="utf-8"))
        for path in sources
        if path.is_file() and path not in generated
        and "template/tests" not in str(path.relative_to(ROOT))
    }
    assert {path: found for path, found in offenders.items() if found} == {}


def test_readme_tables_are_generated_from_the_data_and_the_questions(compat: Compat) -> None:
    current = README.read_text(encoding="utf-8")
    assert render_readme(current, compat) == current, "run: uv run python -m compat.render_data"
    newest = compat.releases[-1]
    assert f"| {newest.version} |" in current
    # Every question the interview can ask has its row, the ones a hand-kept table forgot too.
    for name, question in questions().items():
        asked = not (isinstance(question, dict) and question.get("when") is False)
        key = "backend_<platform>" if name.startswith("backend_") else name
        assert (f"| `{key}` |" in current) == asked, name


def test_the_interview_reads_in_100_columns() -> None:
    """copier.yml and its generated backend questions; the data digest is one machine line."""
    long = [
        f"{path}:{n}" for path in (ROOT / "copier.yml", ROOT / render_data.BACKENDS)
        for n, line in enumerate(path.read_text().splitlines(), 1) if len(line) > 100
    ]
    assert long == []


def test_the_generated_project_uses_the_uv_this_repository_locks() -> None:
    """The uv that a rendered Dockerfile copies and pre-commit runs is the one tested here."""
    locked = next(
        p["version"] for p in tomllib.loads((ROOT / "uv.lock").read_text())["package"]
        if p["name"] == "uv"
    )
    assert questions()["uv_version"]["default"] == locked


def test_no_package_name_shadows_a_standard_library_module_of_any_python() -> None:
    """The reserved modules hold the public sys.stdlib_module_names of every CPython on this
    machine; the private ones (a leading underscore before a letter) are refused as a class."""
    reserved = set(render_data.digest(parse(read_raw()))["reserved"]["modules"])
    checked = []
    for version in ("3.10", "3.11", "3.12", "3.13", "3.14"):
        python = find_python(uv.find_uv_bin(), version)
        if python is None:
            continue
        names = subprocess.run(
            [str(python), "-c", "import sys; print(*sys.stdlib_module_names)"],
            capture_output=True, text=True, check=True,
        ).stdout.split()
        public = {n.lower() for n in names if not re.match(r"_[A-Za-z_]", n)}
        assert public <= reserved, sorted(public - reserved)
        checked.append(version)
    assert checked, "no CPython found to compare with"


def test_the_stand_in_serves_every_file_only_the_index_has(compat: Compat) -> None:
    """What `index_files` records (Triton builds PyPI lacks, torch wheels for Pythons PyPI's
    release lacks) is on the stand-in, named as the index names it."""
    served = {w.filename for w in index_wheels(compat)}
    expected = [
        f"{project}-{version}{f'+{variant}' if variant else ''}-{entry}-{tag}.whl"
        for project, versions in compat.raw["index_files"].items()
        for version, recorded in versions.items()
        for variant in recorded.get("variants", [None])
        for tags in recorded["files"].values()
        for tag, entries in tags.items()
        for entry in entries
    ]
    assert expected and [name for name in expected if name not in served] == []
