"""Reading a uv.lock: which package a platform gets, and what it pulls in."""

from __future__ import annotations

import re
import tomllib
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

from tests.expectations import holds

PYPI_REGISTRY = "https://pypi.org/simple"
# The file lists (sdist, wheels: URLs and hashes) are most of a lock and nothing the checks read;
# leaving them out before parsing halves the time a check takes.
_FILE_LISTS = re.compile(r"^sdist = .*\n|^wheels = \[\n(?:    .*\n)*\]\n", re.M)


@dataclass(frozen=True)
class Locked:
    name: str
    version: str
    registry: str | None
    raw: dict[str, Any]

    @property
    def label(self) -> str:
        return self.version.partition("+")[2]


class Lockfile:
    def __init__(self, path: Path) -> None:
        self.data = tomllib.loads(_FILE_LISTS.sub("", path.read_text(encoding="utf-8")))
        self.packages = [self._locked(p) for p in self.data.get("package", [])]
        self.by_name: dict[str, list[Locked]] = defaultdict(list)
        for package in self.packages:
            self.by_name[package.name].append(package)
        self.root = next(p for p in self.packages if "editable" in p.raw.get("source", {}))

    @staticmethod
    def _locked(raw: dict[str, Any]) -> Locked:
        return Locked(raw["name"], raw["version"], raw.get("source", {}).get("registry"), raw)

    def _resolve(self, dependency: dict[str, Any]) -> Locked:
        """The package a dependency entry points at (it names version and source when ambiguous)."""
        candidates = self.by_name[dependency["name"]]
        if "version" in dependency:
            candidates = [p for p in candidates if p.version == dependency["version"]]
        if "source" in dependency:
            candidates = [p for p in candidates if p.raw.get("source") == dependency["source"]]
        if len(candidates) != 1:
            raise AssertionError(f"{dependency} matches {len(candidates)} locked packages")
        return candidates[0]

    def _dependencies(self, package: Locked, extra: str | None = None) -> list[dict[str, Any]]:
        if extra is None:
            return package.raw.get("dependencies", [])
        return package.raw.get("optional-dependencies", {}).get(canonicalize_name(extra), [])

    def conflict_extra(self, extra: str | None) -> str:
        """How uv writes an extra of a conflict set into markers: extra-<len>-<project>-<extra>."""
        if extra is None:
            return ""
        project = canonicalize_name(self.root.name)
        return f"extra-{len(project)}-{project}-{canonicalize_name(extra)}"

    def chosen(self, name: str, env: dict[str, str], extra: str | None = None) -> Locked | None:
        """The `name` the project gets in `env` (with `extra` enabled), or None."""
        entries = [
            d
            for d in self._dependencies(self.root, extra)
            if d["name"] == name and holds(d.get("marker"), env)
        ]
        if len(entries) > 1:
            raise AssertionError(f"{len(entries)} {name} entries hold for {env}: {entries}")
        return self._resolve(entries[0]) if entries else None

    def closure(self, package: Locked, env: dict[str, str]) -> list[Locked]:
        """`package` and everything it pulls in, in `env`."""
        seen: dict[tuple[str, str], Locked] = {}
        todo = [package]
        while todo:
            current = todo.pop()
            if (current.name, current.version) in seen:
                continue
            seen[(current.name, current.version)] = current
            for dependency in self._dependencies(current):
                if holds(dependency.get("marker"), env):
                    todo.append(self._resolve(dependency))
        return list(seen.values())
