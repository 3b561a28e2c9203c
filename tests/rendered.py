"""Each combination is rendered once per run: its render test renders it, and its lock test (on
the same worker, by xdist group) locks that project rather than paying copier's cost again."""

from __future__ import annotations

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

    def project(self, combination: Combination, dest: Path) -> Path:
        """The combination's rendered project (its render test is done with it), or a new
        rendering in `dest` if no test rendered it yet."""
        return self.projects.get(combination.key) or self.render(combination, dest)
