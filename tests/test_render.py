"""Render every combination of answers and check each project's configuration."""

from __future__ import annotations

from pathlib import Path

import pytest
from validate_pyproject import api

from compat.model import Compat
from tests.combinations import COMBINATIONS, Combination
from tests.expectations import environment
from tests.project_checks import check_project, source_index
from tests.rendered import RenderedProjects
from tests.rendering import answers_of, pyproject_of, render


@pytest.fixture(scope="session")
def validate() -> api.Validator:
    # Plugins load from entry points: validate-pyproject-schema-store adds [tool.uv] and others.
    return api.Validator()


@pytest.mark.parametrize("combination", COMBINATIONS)
def test_render_combination(
    combination: Combination,
    rendered: RenderedProjects,
    tmp_path: Path,
    compat: Compat,
    validate: api.Validator,
) -> None:
    project = rendered.render(combination, tmp_path / "project")
    pyproject = pyproject_of(project)
    validate(pyproject)
    answers = answers_of(project)
    for key, value in combination.data.items():
        assert answers[key] == value, key
    check_project(compat, answers, pyproject, project)


def test_defaults_give_a_pypi_project_for_every_platform(
    template_dir: Path, tmp_path: Path, compat: Compat
) -> None:
    """`copier copy --defaults`: PyPI's builds, as `uv add torch torchvision` gives, everywhere."""
    project = render(template_dir, tmp_path / "myproj", {})
    answers = answers_of(project)
    assert answers["accelerator_mode"] == "pypi"
    assert answers["platforms"] == list(compat.platforms)
    assert answers["torch_min"] == compat.verified_torch_min()
    assert answers["torch_packages"] == ["torchvision"]
    pyproject = pyproject_of(project)
    assert "sources" not in pyproject["tool"]["uv"] and "index" not in pyproject["tool"]["uv"]
    assert pyproject["project"]["name"] == "myproj"


def test_cpu_everywhere_takes_torch_and_companions_from_pytorch_cpu(
    template_dir: Path, tmp_path: Path, compat: Compat
) -> None:
    data = {
        "accelerator_mode": "platform",
        "accelerator": "cpu",
        "torch_packages": ["torchvision", "torchaudio"],
    }
    project = render(template_dir, tmp_path / "project", data)
    pyproject = pyproject_of(project)
    for platform in ["linux-x86_64", "linux-aarch64", "windows-x86_64"]:
        env = environment(compat, platform, "3.12")
        for package in ["torch", "torchvision", "torchaudio"]:
            assert source_index(pyproject, package, env, None) == "pytorch-cpu", (platform, package)
    assert (
        source_index(pyproject, "torch", environment(compat, "macos-arm64", "3.12"), None) is None
    )


@pytest.mark.parametrize(
    "platforms", [["linux-x86_64", "windows-x86_64"], ["linux-aarch64", "macos-arm64"]]
)
def test_main_build_gives_the_defaults(
    template_dir: Path, tmp_path: Path, compat: Compat, platforms: list[str]
) -> None:
    """The main build defaults to PyPI's Linux build of the newest verified release; each
    platform's backend defaults to it where it serves that platform, else to PyPI's build."""
    project = render(
        template_dir, tmp_path / "project", {"accelerator_mode": "platform", "platforms": platforms}
    )
    answers = answers_of(project)
    accelerator = compat.default_accelerator(platforms, answers["torch_min"], answers["python_min"])
    assert (
        answers["accelerator"] == accelerator == compat.newest_verified().pypi_build["linux-x86_64"]
    )
    rocm = (
        render(
            template_dir,
            tmp_path / "rocm",
            {"accelerator_mode": "platform", "platforms": platforms, "accelerator": "rocm7.2"},
        )
        if "linux-x86_64" in platforms
        else None
    )
    if rocm:
        rocm_answers = answers_of(rocm)
        assert rocm_answers["backend_linux_x86_64"] == "rocm7.2"
        assert rocm_answers["backend_windows_x86_64"] == "pypi"
    extras = render(
        template_dir, tmp_path / "extras", {"accelerator_mode": "extras", "platforms": platforms}
    )
    assert answers_of(extras)["extras"] == ["cpu", accelerator]
