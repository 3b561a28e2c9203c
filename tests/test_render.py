"""Render every combination of answers and check each project's configuration."""

from __future__ import annotations

from pathlib import Path

import pytest
from validate_pyproject import api

from compat.model import Compat
from tests.combinations import COMBINATIONS, Combination
from tests.project_checks import check_project
from tests.rendered import RenderedProjects
from tests.rendering import answers_of, pyproject_of


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
