"""A platform is data: added to a copy of compat/pytorch.yml, with nothing else changed but the
render data generated from it, a platform nobody has heard of is asked about, rendered, validated,
locked against a stand-in written from the same data, and checked like every other."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from validate_pyproject import api

from compat import render_data
from compat.model import Compat, parse, read_raw
from tests.support.interpreters import python_for
from tests.support.lock import Lockfile, check_lock, run_lock
from tests.support.project import (
    answers_of,
    check_project,
    copy_template,
    lock_contract,
    pyproject_of,
    render,
)
from tests.support.stand_in import write_index

NAME = "linux-riscv64"
TAG = "manylinux_2_39_riscv64"


def with_fictitious_platform(raw: dict[str, Any]) -> Compat:
    """The data, plus a Linux riscv64 that PyPI does not build for and whose cpu builds, from
    the default torch_min on, ship torch alone for the two oldest Pythons of each release."""
    raw = copy.deepcopy(raw)
    assumed = {"source": "assumed", "confidence": "I", "settle": "a fictitious platform"}
    raw["platforms"][NAME] = {
        "title": "Linux riscv64",
        "short": "rv64",
        "sys_platform": "linux",
        "platform_machine": "riscv64",
        "platform_system": "Linux",
        "runner": "ubuntu-24.04-riscv",
        "pypi": False,
        "index_wheels": "labelled",
        "wheel_tag": TAG,
        **assumed,
    }
    raw["wheel_names"]["platform_tags"].insert(
        0, {"platform": NAME, "torch": ">=2.4", "tag": TAG, **assumed}
    )
    default = parse(raw).verified_torch_min()
    for release in raw["releases"]:
        if (
            parse(raw).release(release["version"]).version
            < parse(raw).first_release(default).version
        ):
            continue
        cpu = release["variants"]["cpu"]
        cpu["platforms"] = [*cpu["platforms"], NAME]
        cpu.setdefault("python", {})[NAME] = release["python"]["value"][:2]
        cpu["without_companions"] = [*cpu.get("without_companions", []), NAME]
    return parse(raw)


@pytest.fixture(scope="module")
def fictitious(tmp_path_factory: pytest.TempPathFactory) -> tuple[Compat, Path, Path]:
    """The extended data, a template copy whose render data comes from it, and its stand-in."""
    compat = with_fictitious_platform(read_raw())
    root = tmp_path_factory.mktemp("new-platform")
    template = copy_template(root / "template")
    # Twice: the second pass sees the backend question the first one wrote.
    render_data.write(template, compat)
    render_data.write(template, compat)
    return compat, template, write_index(root / "index", compat)


def test_the_new_platform_is_asked_about(fictitious: tuple[Compat, Path, Path]) -> None:
    compat, template, _ = fictitious
    backends = yaml.safe_load((template / render_data.BACKENDS).read_text())
    question = render_data.backend_question(NAME)
    assert backends[question]["help"] == "Build for Linux riscv64"
    assert NAME in render_data.digest(compat)["platforms"]


@pytest.mark.parametrize("platforms", [[NAME], None], ids=["alone", "with every platform"])
def test_the_new_platform_renders_validates_and_locks(
    fictitious: tuple[Compat, Path, Path],
    tmp_path: Path,
    uv_bin: str,
    platforms: list[str] | None,
) -> None:
    compat, template, index = fictitious
    data = {
        "accelerator_mode": "platform",
        "platforms": platforms or list(compat.platforms),
        "torch_packages": [],
        "pytorch_index_url": index.as_uri(),
    }
    project = render(template, tmp_path / "project", data)
    pyproject = pyproject_of(project)
    api.Validator()(pyproject)
    answers = answers_of(project)
    assert answers[render_data.backend_question(NAME)] == "cpu"
    marker = "sys_platform == 'linux' and platform_machine == 'riscv64'"
    assert any(m.startswith(marker) for m in pyproject["tool"]["uv"]["required-environments"])
    check_project(compat, answers, pyproject, project)
    assert "Linux riscv64" in (project / "README.md").read_text()
    workflow = yaml.safe_load((project / ".github/workflows/ci.yml").read_text())
    runners = [row["os"] for row in workflow["jobs"]["test"]["strategy"]["matrix"]["include"]]
    assert "ubuntu-24.04-riscv" in runners

    result = run_lock(uv_bin, project, python_for(uv_bin, answers["python_min"]), compat)
    assert result.returncode == 0, result.stderr
    lock = Lockfile(project / "uv.lock")
    check_lock(compat, answers, lock, index.as_uri(), project)
    assert f"+cpu-cp{answers['python_min'].replace('.', '')}" in (project / "uv.lock").read_text()
    assert f"-{TAG}.whl" in (project / "uv.lock").read_text(), "no riscv64 wheel in the lock"
    assert lock_contract(project).violations() == []
