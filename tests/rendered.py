"""Each combination is rendered once per run: its render test renders it, and its lock test (on
the same worker, by xdist group) copies that project rather than paying copier's cost again."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.combinations import Combination
from tests.rendering import render


class RenderedProjects:
    def __init__(self, template: Path, scratch: Path, index_base: str) -> None:
        self.template = template
        self.scratch = scratch
        self.index_base = index_base
        self.projects: dict[str, Path] = {}

    def data(self, combination: Combination) -> dict[str, object]:
        return {**combination.data, "pytorch_index_url": self.index_base}

    def render(self, combination: Combination, dest: Path) -> Path:
        project = render(self.template, dest, self.data(combination))
        self.projects[combination.key] = project
        return project

    def copy(self, combination: Combination, dest: Path) -> Path:
        """A fresh copy of the combination's project, rendered now if no test rendered it yet."""
        source = self.projects.get(combination.key)
        if source is None:
            source = self.render(combination, self.scratch / str(len(self.projects)) / "project")
        return Path(shutil.copytree(source, dest))
