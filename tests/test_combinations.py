"""Every combination of answers: rendered, its configuration checked, locked against the PyTorch
index (the stand-in here, the real one in network mode), and its lock checked platform by
platform and build set by build set. One test per combination; none depends on another."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from validate_pyproject import api

from compat.model import Compat
from tests.support import render_cache
from tests.support.combinations import Combination, all_combinations
from tests.support.interpreters import python_for
from tests.support.lock import DISTINCT_LOCK, Lockfile, check_lock, lock_once, run_lock
from tests.support.project import answers_of, check_project, lock_contract, pyproject_of, render
from tests.support.stand_in import DECOY_VERSION, DECOYS, write_index


@pytest.fixture(scope="session")
def validate() -> api.Validator:
    # Plugins load from entry points: validate-pyproject-schema-store adds [tool.uv] and others.
    return api.Validator()


@pytest.mark.parametrize("combination", all_combinations(), ids=str)
def test_combination(
    combination: Combination,
    template_dir: Path,
    tmp_path: Path,
    compat: Compat,
    validate: api.Validator,
    uv_bin: str,
    index_base: str,
    record_property: Callable[[str, object], None],
) -> None:
    project = render(template_dir, tmp_path / "project",
                     {**combination.data, "pytorch_index_url": index_base})
    pyproject = pyproject_of(project)
    validate(pyproject)
    answers = answers_of(project)
    for key, value in combination.data.items():
        assert answers[key] == value, key
    check_project(compat, answers, pyproject, project)

    python = python_for(uv_bin, answers["python_min"])
    # A project byte-identical to one locked before in this run gets that lock: every
    # combination's lock is still checked against its own answers below.
    result, key = lock_once(uv_bin, project, python, compat)
    assert result is None or result.returncode == 0, result.stderr
    record_property(DISTINCT_LOCK, key)
    check_lock(compat, answers, Lockfile(project / "uv.lock"), index_base, project)
    # The project's own lock contract agrees with the checks above on every combination.
    assert lock_contract(project).violations() == []


def _without(pyproject: Path, key: str) -> None:
    text = pyproject.read_text()
    pyproject.write_text(re.sub(rf"\n{key} = \[.*?\]\n", "\n", text, flags=re.S))


def test_required_environments_fail_a_platform_without_wheels(
    template_dir: Path, tmp_path: Path, compat: Compat, uv_bin: str
) -> None:
    """With one platform's wheels gone from the index, the lock fails instead of leaving it out."""
    variant = compat.newest_verified().pypi_build["linux-aarch64"]
    index = write_index(tmp_path / "index", compat, omit=[("linux-aarch64", variant)])
    data = {
        "platforms": ["linux-x86_64", "linux-aarch64"],
        "accelerator_mode": "platform",
        "backend_linux_x86_64": variant,
        "backend_linux_aarch64": variant,
        "pytorch_index_url": index.as_uri(),
    }
    project = render(template_dir, tmp_path / "project", data)
    pyproject = project / "pyproject.toml"
    rendered = pyproject.read_text()
    python = python_for(uv_bin, answers_of(project)["python_min"])
    no_wheels = re.compile(
        r"has no `(python_full_version < '[0-9.]+' and )?platform_machine == 'aarch64' and "
        r"sys_platform == 'linux'`-compatible wheels"
    )

    result = run_lock(uv_bin, project, python, compat)
    assert result.returncode != 0
    assert no_wheels.search(" ".join(result.stderr.split())), result.stderr

    # The failure mode the guard exists for: with neither setting, the lock "succeeds" and
    # linux-aarch64 is silently left without torch.
    _without(pyproject, "environments")
    _without(pyproject, "required-environments")
    assert run_lock(uv_bin, project, python, compat).returncode == 0

    # required-environments alone restores the failure.
    pyproject.write_text(rendered)
    _without(pyproject, "environments")
    result = run_lock(uv_bin, project, python, compat)
    assert result.returncode != 0
    assert no_wheels.search(" ".join(result.stderr.split())), result.stderr


def test_decoys_enter_a_lock_when_the_index_is_not_explicit(
    template_dir: Path, tmp_path: Path, compat: Compat, uv_bin: str, stand_in: Path
) -> None:
    """The stand-in's decoys are live: only `explicit = true` keeps them out of the matrix's locks."""
    data = {
        "platforms": ["linux-x86_64"],
        "accelerator_mode": "platform",
        "backend_linux_x86_64": "cpu",
        "pytorch_index_url": stand_in.as_uri(),
    }
    project = render(template_dir, tmp_path / "project", data)
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace("explicit = true", "explicit = false"))
    python = python_for(uv_bin, answers_of(project)["python_min"])
    # Like the stand-in's torch, its decoys carry no upload date: exempt them from the date pin.
    exempt = [arg for decoy in DECOYS for arg in ("--exclude-newer-package", f"{decoy}=false")]
    result = run_lock(uv_bin, project, python, compat, *exempt)
    assert result.returncode == 0, result.stderr
    decoys = [p for p in Lockfile(project / "uv.lock").packages if p.name in DECOYS]
    assert decoys and all(p.version == DECOY_VERSION for p in decoys), decoys


# One combination in this many is rendered without the tests' render caches too.
UNCACHED_EVERY = 40


@pytest.mark.parametrize("combination", all_combinations()[::UNCACHED_EVERY], ids=str)
def test_the_render_caches_change_no_byte(combination: Combination, template_dir: Path,
                                          tmp_path: Path) -> None:
    """The tests render with copier's compiled templates and parsed configuration reused
    (tests/support/render_cache.py); copier as users run it renders the same files, byte for
    byte."""
    data = {**combination.data, "project_name": "same"}
    cached = render(template_dir, tmp_path / "cached" / "same", data)
    render_cache.disable()
    try:
        uncached = render(template_dir, tmp_path / "uncached" / "same", data)
    finally:
        render_cache.enable()
    files = sorted(p.relative_to(cached) for p in cached.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(uncached) for p in uncached.rglob("*") if p.is_file())
    differing = [str(f) for f in files if (cached / f).read_bytes() != (uncached / f).read_bytes()]
    assert differing == []
