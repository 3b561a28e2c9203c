"""Rendering the template in-process through copier's API, and what every rendered project must
satisfy, derived in Python from the answers and compat/pytorch.yml, independently of the Jinja.

The checks read the TOML for what it means (which index each platform and build set gets), not for
how it is spelled, so they hold for any layout of the same configuration.
"""

from __future__ import annotations

import importlib.util
import shutil
import tomllib
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import copier
import yaml
from packaging.markers import Marker
from packaging.requirements import Requirement

from compat.model import Compat
from compat.render_data import backend_question

ROOT = Path(__file__).resolve().parents[2]
# What copier reads of this repository when it renders: the interview, its includes (the data's
# digest among them) and the project skeleton.
TEMPLATE_PARTS = ("copier.yml", "includes", "template")
PYPI = "pypi"
SET_KIND = {"extras": "extra", "groups": "group"}


def copy_template(dest: Path, root: Path = ROOT, parts: tuple[str, ...] = TEMPLATE_PARTS) -> Path:
    """A plain-folder copy of the template (or of other `parts` of the checkout). Copier would
    clone a git checkout on every render; a plain folder renders the working tree as it is, and
    fast."""
    for part in parts:
        source, target = root / part, dest / part
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target,
                            ignore=shutil.ignore_patterns("__pycache__", ".hypothesis"))
        else:
            shutil.copy2(source, target)
    return dest


def render(template: Path, dest: Path, data: dict[str, Any]) -> Path:
    copier.run_copy(
        str(template), str(dest), data=data, defaults=True, quiet=True, unsafe=False,
        overwrite=True,
    )
    return dest


def lock_contract(project: Path) -> ModuleType:
    """The rendered project's tests/test_lock_contract.py, loaded as a module."""
    path = project / "tests" / "test_lock_contract.py"
    spec = importlib.util.spec_from_file_location(f"lock_contract_{id(project)}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def answers_of(project: Path) -> dict[str, Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    answers = yaml.load((project / ".copier-answers.yml").read_text(encoding="utf-8"),
                        Loader=loader)
    # Not asked where no platform's builds have companions, so not recorded: torch alone.
    answers.setdefault("torch_packages", [])
    return answers


def pyproject_of(project: Path) -> dict[str, Any]:
    return tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))


# What each platform must get ------------------------------------------------------------------


def fallback(compat: Compat, platform: str, answers: dict[str, Any]) -> str:
    """What a platform gets where a set's build does not serve it: PyPI's build, or without one
    its first workable build."""
    if compat.platforms[platform].pypi:
        return PYPI
    companions = tuple(answers["torch_packages"])
    return compat.backends(platform, answers["torch_min"], answers["python_min"], companions)[0]


def expected_builds(compat: Compat, answers: dict[str, Any]) -> dict[str | None, dict[str, str]]:
    """{extra or group or None: {platform: variant or "pypi"}} for the selected platforms."""
    mode = answers["accelerator_mode"]
    platforms = [p for p in compat.platforms if p in answers["platforms"]]
    if mode == "pypi":
        return {None: dict.fromkeys(platforms, PYPI)}
    if mode == "platform":
        return {
            None: {p: answers.get(backend_question(p), PYPI) if compat.platforms[p].labelled
                   else PYPI for p in platforms}
        }
    torch_min, python_min = answers["torch_min"], answers["python_min"]
    companions = tuple(answers["torch_packages"])
    names = answers[mode]
    return {
        name: {
            p: name
            if compat.platforms[p].labelled
            and compat.serves(name, p, torch_min, python_min, companions)
            else fallback(compat, p, answers)
            for p in platforms
        }
        for name in compat.variants
        if name in names
    }


def python_bound(compat: Compat, answers: dict[str, Any], platform: str,
                 builds: dict[str | None, dict[str, str]]) -> str:
    """The first Python that one of the platform's builds has no wheel for, from torch_min on,
    with the companions: where the project's lock stops."""
    companions = tuple(answers["torch_packages"])
    tops = []
    for by_platform in builds.values():
        build = by_platform[platform]
        served = [
            python
            for release in compat.releases_from(answers["torch_min"])
            for python in (release.python_on.get(platform, ()) if build == PYPI
                           else release.pythons(platform, build))
            if (release.pypi_supports(python, platform, companions) if build == PYPI
                else release.has_build(build, platform)
                and release.supports(python, platform, build, companions))
        ]
        tops.append(max(int(p.split(".")[1]) for p in served) + 1)
    return f"3.{min(tops)}"


def environment(compat: Compat, platform: str, python: str, extra: str = "") -> dict[str, str]:
    """A full marker environment for one platform and Python version."""
    return compat.platforms[platform].marker_environment(python, extra)


def holds(marker: str | None, env: dict[str, str]) -> bool:
    return marker is None or _holds(marker, tuple(sorted(env.items())))


@cache
def _holds(marker: str, env: tuple[tuple[str, str], ...]) -> bool:
    # Locks repeat the same markers across platforms and sets: parse and evaluate each once.
    return Marker(marker).evaluate(dict(env))


# What the rendered pyproject.toml says --------------------------------------------------------


def source_index(
    pyproject: dict[str, Any], package: str, env: dict[str, str], scope: tuple[str, str] | None
) -> str | None:
    """The index `[tool.uv.sources]` picks for `package` in `env` with a set ("extra", name) on,
    or None (PyPI)."""
    entries = pyproject.get("tool", {}).get("uv", {}).get("sources", {}).get(package, [])
    if isinstance(entries, dict):
        entries = [entries]
    chosen = []
    for entry in entries:
        named = [(k, entry[k]) for k in ("extra", "group") if k in entry]
        if named and (not scope or named[0] != scope):
            continue
        if holds(entry.get("marker"), env):
            chosen.append(entry["index"])
    assert len(chosen) <= 1, f"{package}: several sources hold for {env} ({chosen})"
    return chosen[0] if chosen else None


def requirements(pyproject: dict[str, Any], scope: tuple[str, str] | None) -> list[Requirement]:
    project = pyproject["project"]
    if scope is None:
        raw = project["dependencies"]
    elif scope[0] == "extra":
        raw = project["optional-dependencies"][scope[1]]
    else:
        raw = pyproject["dependency-groups"][scope[1]]
    return [Requirement(r) for r in raw]


def indexes(pyproject: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {i["name"]: i for i in pyproject.get("tool", {}).get("uv", {}).get("index", [])}


def scope_of(answers: dict[str, Any], name: str | None) -> tuple[str, str] | None:
    kind = SET_KIND.get(answers["accelerator_mode"])
    return (kind, name) if kind and name else None


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

    # Each platform and set gets the expected build, with torch_min's bounds.
    used: set[str] = set()
    for name, by_platform in builds.items():
        scope = scope_of(answers, name)
        declared = requirements(pyproject, scope)
        deps = {r.name: r for r in declared}
        assert str(deps["torch"].specifier) == f">={first.version}"
        for package in answers["torch_packages"]:
            assert str(deps[package].specifier) == f">={first.companion(package)}"
        for platform, build in by_platform.items():
            env = environment(compat, platform, python_min, scope[1] if scope else "")
            for package in packages:
                index = source_index(pyproject, package, env, scope)
                wanted = None if build == PYPI else f"pytorch-{build}"
                assert index == wanted, f"{package} on {platform} ({name}): {index} != {wanted}"
            if build == PYPI:
                continue
            used.add(build)
            # The build's Triton is declared and comes from its index wherever it applies.
            release = [r for r in compat.releases if r.has_build(build, platform)][-1]
            triton = release.triton.get(compat.variants[build].family)
            if triton and platform in triton.platforms:
                assert any(
                    r.name == triton.package and holds(str(r.marker) if r.marker else None, env)
                    for r in declared
                ), f"{triton.package} is not declared for {platform}"
                assert source_index(pyproject, triton.package, env, scope) == f"pytorch-{build}"

    # Exactly the indexes in use, explicit, at <base>/<variant>.
    declared = indexes(pyproject)
    assert set(declared) == {f"pytorch-{v}" for v in used}
    for variant in used:
        index = declared[f"pytorch-{variant}"]
        assert index["explicit"] is True
        assert index["url"] == f"{base}/{variant}"

    # The lock covers, and requires wheels for, exactly the selected platforms, and on each the
    # Pythons below the first that one of its builds has no torch wheel for.
    uv = pyproject["tool"]["uv"]
    for key in ("environments", "required-environments"):
        for platform in compat.platforms:
            env = environment(compat, platform, python_min)
            matching = [m for m in uv[key] if holds(m, env)]
            assert len(matching) == (1 if platform in selected else 0), (key, platform, matching)
            if platform in selected:
                bound = python_bound(compat, answers, platform, builds)
                below = f"3.{int(bound.split('.')[1]) - 1}"
                assert holds(matching[0], environment(compat, platform, below)), (key, below)
                assert not holds(matching[0], environment(compat, platform, bound)), (key, bound)
    assert uv["required-version"].startswith(">=")

    # Sets exclude one another; a group project installs its main build by default.
    names = [n for n in builds if n is not None]
    kind = SET_KIND.get(answers["accelerator_mode"])
    if len(names) > 1:
        assert uv["conflicts"] == [[{kind: n} for n in names]]
    else:
        assert "conflicts" not in uv
    if kind == "group":
        assert uv["default-groups"] == ["dev", answers["accelerator"]]
