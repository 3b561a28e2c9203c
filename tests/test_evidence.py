"""Outside evidence, checked three ways: the data agrees with each observation of the real index,
the stand-in serves each observed file with the observed requirements, and a project rendered for
the observed release and build routes every requirement only the PyTorch index has to that index.

Observations come from compat/pytorch.yml's record of public lock files; more can be given in the
shared evidence format with TORCH_UV_TEMPLATE_EVIDENCE=file.json[:file.json...].
"""

from __future__ import annotations

import copy
import os
from pathlib import Path

import pytest

from compat import evidence
from compat.model import Compat, parse
from tests.conftest import EVIDENCE
from tests.support.project import environment, pyproject_of, render, source_index
from tests.support.stand_in import served

EXTRA_SWITCH = "TORCH_UV_TEMPLATE_EVIDENCE"


def _report(request: pytest.FixtureRequest, report: evidence.Report, label: str) -> None:
    request.node.user_properties.append((EVIDENCE, f"{label}: {evidence.summary(report)}"))
    problems = [f"{obs}: {problem}" for obs, problem in report.disagreements]
    assert problems == []


def test_the_recorded_observations_agree(compat: Compat, request: pytest.FixtureRequest) -> None:
    observations = evidence.recorded(compat)
    report = evidence.check(compat, observations)
    assert len(report.checked) == len(observations) > 0, report.out_of_scope
    _report(request, report, "recorded in compat/pytorch.yml")


def test_more_observations_agree(compat: Compat, request: pytest.FixtureRequest) -> None:
    given = [Path(p) for p in os.environ.get(EXTRA_SWITCH, "").split(os.pathsep) if p]
    if not given:
        pytest.skip(f"no further evidence given ({EXTRA_SWITCH}=file.json[:file.json...])")
    observations = [obs for path in given for obs in evidence.from_json(path)]
    report = evidence.check(compat, observations)
    assert report.checked, "none of the observations is in the data's scope"
    _report(request, report, ", ".join(p.name for p in given))


def test_the_written_stand_in_serves_every_observed_file(compat: Compat, stand_in: Path) -> None:
    listed = served(stand_in)
    missing = [
        f"{obs.index}: {name}"
        for obs in evidence.recorded(compat)
        for name in obs.files
        if evidence.out_of_scope(compat, obs) is None
        and evidence._platform_of(compat, name) is not None
        and name not in listed[obs.index]
    ]
    assert missing == []


def _flipped(compat: Compat, release_version: str, family: str, **changes: str) -> Compat:
    raw = copy.deepcopy(compat.raw)
    release = next(r for r in raw["releases"] if r["version"] == release_version)
    release["triton"][family].update(changes)
    return parse(raw)


def _renamed_release(compat: Compat, family: str) -> tuple[str, str]:
    """A release whose recorded build names its Triton package, and the family's other name."""
    for obs in evidence.recorded(compat):
        if obs.package != "torch" or compat.variants[obs.index].family != family:
            continue
        release = compat.release(obs.public)
        older = {r.triton[family].package for r in compat.releases if family in r.triton}
        older.discard(release.triton[family].package)
        if older and any(evidence._name(r) == release.triton[family].package for r in obs.requires):
            return str(release.version), older.pop()
    raise AssertionError(f"no recorded {family} build names its Triton package")


def test_a_wrong_triton_name_disagrees(compat: Compat) -> None:
    """The oracle can fail: give one release's ROCm builds the other Triton name, and both the
    data check and the stand-in check disagree with the lock that recorded the real one."""
    version, wrong = _renamed_release(compat, "rocm")
    flipped = _flipped(compat, version, "rocm", package=wrong)
    report = evidence.check(flipped, evidence.recorded(flipped))
    problems = " ".join(p for _, p in report.disagreements)
    assert f"the data says {version}'s rocm builds require {wrong}" in problems
    assert "the stand-in's does not" in problems


def test_a_wrong_triton_version_disagrees(compat: Compat) -> None:
    version, _ = _renamed_release(compat, "rocm")
    flipped = _flipped(compat, version, "rocm", version="0.0.1")
    report = evidence.check(flipped, evidence.recorded(flipped))
    assert any("0.0.1" in p for _, p in report.disagreements), report


def _routing_cases(compat: Compat) -> list[evidence.Observation]:
    """One observation per (release, build) whose requirements include an index-only package."""
    only_here = evidence.index_only_packages(compat)
    seen, cases = set(), []
    for obs in evidence.recorded(compat):
        if obs.package != "torch" or evidence.out_of_scope(compat, obs):
            continue
        names = {evidence._name(r) for r in obs.requires} & only_here
        if names and (obs.public, obs.index) not in seen:
            seen.add((obs.public, obs.index))
            cases.append(obs)
    return cases


def _unrouted(compat: Compat, obs: evidence.Observation, template_dir: Path, tmp_path: Path,
              name: str) -> list[str]:
    """The index-only requirements of `obs` that a project rendered for its release and build
    does not source from that build's index."""
    release = compat.release(obs.public)
    platform = "linux-x86_64"
    python = next(p for p in compat.python_choices()
                  if release.supports_python(p, platform, obs.index))
    data = {
        "accelerator_mode": "platform", "platforms": [platform], "torch_min": release.minor,
        "python_min": python, "torch_packages": [], "backend_linux_x86_64": obs.index,
    }
    project = render(template_dir, tmp_path / name / "project", data)
    pyproject = pyproject_of(project)
    env = environment(compat, platform, python)
    wanted = f"pytorch-{obs.index}"
    family = compat.variants[obs.index].family
    newest = [r for r in compat.releases_from(release.minor) if r.has_build(obs.index, platform)][-1]
    missing = []
    for requirement in obs.requires:
        package = evidence._name(requirement)
        if package not in evidence.index_only_packages(compat):
            continue
        if package != newest.triton[family].package:
            # A rename lies between this release and the newest build the project resolves:
            # the project routes the newest build's Triton, which the lock then checks.
            package = newest.triton[family].package
        if source_index(pyproject, package, env, None) != wanted:
            missing.append(f"{package} is not routed to {wanted}")
    return missing


def _loaded() -> Compat:
    from compat.model import load

    return load()


@pytest.mark.parametrize(
    "obs", _routing_cases(_loaded()), ids=lambda o: f"{o.public}+{o.index}"
)
def test_a_rendered_project_routes_the_index_only_requirements(
    obs: evidence.Observation, compat: Compat, template_dir: Path, tmp_path: Path
) -> None:
    assert _unrouted(compat, obs, template_dir, tmp_path, "project") == []
