"""What every rendered project must satisfy, checked against compat/pytorch.yml.

The checks read the TOML for what it means (which index each platform and extra gets), not for
how it is spelled, so they hold for any layout of the same configuration.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from packaging.requirements import Requirement

from compat.model import Compat
from tests.expectations import PYPI, environment, expected_builds, holds


def source_index(
    pyproject: dict[str, Any], package: str, env: dict[str, str], extra: str | None
) -> str | None:
    """The index `[tool.uv.sources]` picks for `package` in `env` with `extra` on, or None (PyPI)."""
    entries = pyproject.get("tool", {}).get("uv", {}).get("sources", {}).get(package, [])
    if isinstance(entries, dict):
        entries = [entries]
    chosen = [
        e["index"]
        for e in entries
        if e.get("extra") in (None, extra) and holds(e.get("marker"), env)
    ]
    assert len(chosen) <= 1, f"{package}: several sources hold for {env} ({chosen})"
    return chosen[0] if chosen else None


def requirements(pyproject: dict[str, Any], extra: str | None) -> list[Requirement]:
    project = pyproject["project"]
    raw = project["dependencies"] if extra is None else project["optional-dependencies"][extra]
    return [Requirement(r) for r in raw]


def indexes(pyproject: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {i["name"]: i for i in pyproject.get("tool", {}).get("uv", {}).get("index", [])}


def check_project(
    compat: Compat, answers: dict[str, Any], pyproject: dict[str, Any], project: Path
) -> None:
    python_min, torch_min = answers["python_min"], answers["torch_min"]
    selected = [p for p in compat.platforms if p in answers["platforms"]]
    packages = ["torch", *answers["torch_packages"]]
    first = compat.first_release(torch_min)
    builds = expected_builds(compat, answers)
    base = answers.get("pytorch_index_url", "").rstrip("/")

    assert pyproject["project"]["requires-python"] == f">={python_min}"
    assert (project / ".python-version").read_text().strip() == python_min
    assert (project / "src" / answers["package_name"] / "__init__.py").is_file()

    # Each platform and extra gets the expected build, with torch_min's bounds.
    used: set[str] = set()
    for extra, by_platform in builds.items():
        deps = {r.name: r for r in requirements(pyproject, extra)}
        assert str(deps["torch"].specifier) == f">={first.version}"
        for package in answers["torch_packages"]:
            assert str(deps[package].specifier) == f">={first.companion(package)}"
        for platform, build in by_platform.items():
            env = environment(compat, platform, python_min, extra or "")
            for package in packages:
                index = source_index(pyproject, package, env, extra)
                wanted = None if build == PYPI else f"pytorch-{build}"
                assert index == wanted, f"{package} on {platform} ({extra}): {index} != {wanted}"
            triton = compat.triton_for(build, torch_min) if build != PYPI else None
            if triton and platform in triton.platforms:
                assert any(
                    r.name == triton.package and holds(str(r.marker) if r.marker else None, env)
                    for r in deps.values()
                ), f"{triton.package} is not declared for {platform}"
                assert source_index(pyproject, triton.package, env, extra) == f"pytorch-{build}"
            if build != PYPI:
                used.add(build)

    # Exactly the indexes in use, explicit, at <base>/<variant>.
    declared = indexes(pyproject)
    assert set(declared) == {f"pytorch-{v}" for v in used}
    for variant in used:
        index = declared[f"pytorch-{variant}"]
        assert index["explicit"] is True
        assert index["url"] == f"{base}/{variant}"

    # The lock covers, and requires wheels for, exactly the selected platforms.
    uv = pyproject["tool"]["uv"]
    for key in ("environments", "required-environments"):
        for platform in compat.platforms:
            env = environment(compat, platform, python_min)
            matching = [m for m in uv[key] if holds(m, env)]
            assert len(matching) == (1 if platform in selected else 0), (key, platform, matching)
    assert uv["required-version"].startswith(">=")

    # Extras exclude one another.
    extras = [e for e in builds if e is not None]
    if len(extras) > 1:
        assert uv["conflicts"] == [[{"extra": e} for e in extras]]
    else:
        assert "conflicts" not in uv
