"""Every rendered project works as its user runs it. Each journey renders a project from a git
checkout of the template, commits it as the after-copy message says, then runs what comes next:
`uv lock`, `uv build`, every step of its CI's lint and test jobs, and every command of its README's
console blocks, in order, `copier update` included. Torch is the real CPU wheel where this machine
has one (pip's find-links), the stand-in elsewhere; what cannot run here is listed with its reason.

Names and free text come from the edge cases that broke projects before: a folder that starts
with a digit, a package name of one's own, a project named like a standard library module,
quotes and an empty description, a folder with a space.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path
from typing import Any

import copier
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compat.model import Compat
from tests.conftest import EVIDENCE
from tests.support.interpreters import find_python
from tests.support.journey import (
    NEEDS_TORCH,
    REAL_PYTHON,
    Walk,
    ci_steps,
    docker_unavailable,
    fences,
    find_links_wheel,
    readme_commands,
    readme_decision,
    real_index,
    walk_environment,
    wheel_version,
)
from tests.support.project import ROOT, TEMPLATE_PARTS, copy_template
from tests.support.versions import commit_all, git

WHEEL = find_links_wheel()
# The real wheel's release is the newest torch_min it can serve.
TORCH_MIN = ".".join(wheel_version(WHEEL).split(".")[:2]) if WHEEL else None


def _journeys(compat: Compat) -> dict[str, dict[str, Any]]:
    """One per mode, each with names or text that broke projects before. Torch alone, on the
    Python of the real wheel, so the CPU build installs for real; the other builds are chosen
    from the data as those of the newest release."""
    newest = compat.releases[-1]
    cuda = next(v for v in reversed(newest.builds) if compat.variants[v].family == "cuda")
    rocm = next(v for v in newest.builds if compat.variants[v].family == "rocm")
    common = {"python_min": REAL_PYTHON, "torch_packages": [],
              **({"torch_min": TORCH_MIN} if TORCH_MIN else {})}
    return {
        # pypi mode from a folder that starts with a digit, names by default.
        "3d-unet": {**common, "github_actions": True, "container": True},
        "platform": {
            **common, "project_name": "Vision_Lab", "package_name": "mypkg",
            "description": 'He said "hi" \\ <b>*not*</b> `code`',
            "accelerator_mode": "platform", "platforms": ["linux-x86_64", "windows-x86_64"],
            "backend_linux_x86_64": "cpu", "backend_windows_x86_64": cuda,
            "gpu_runner_label": "gpu-h100",
        },
        "extras": {
            **common, "project_name": "collections", "description": "",
            "accelerator_mode": "extras", "platforms": ["linux-x86_64"],
            "extras": ["cpu", cuda],
        },
        "groups": {
            **common, "accelerator_mode": "groups", "platforms": ["linux-x86_64"],
            "groups": ["cpu", rocm], "accelerator": "cpu", "container": True,
        },
    }


@pytest.fixture(scope="module")
def template_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The working tree as a tagged git repository: what `copier copy gh:...` and a later
    `copier update` read."""
    repo = copy_template(tmp_path_factory.mktemp("template") / "repo")
    git(repo, "init", "-q", "-b", "main")
    commit_all(repo, "torch-uv-template, the working tree")
    git(repo, "tag", "99.0.0")
    return repo


@pytest.fixture(scope="module")
def index(stand_in: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return real_index(stand_in, WHEEL, tmp_path_factory.mktemp("real-index") / "whl")


def _check_build(project: Path, walk: Walk, package: str) -> None:
    walk.run("user", "uv build --out-dir dist")
    wheel = next((project / "dist").glob("*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for member in ("__init__.py", "doctor.py", "expected.json", "py.typed"):
        assert f"{package}/{member}" in names, (member, names)


@pytest.mark.parametrize("name", ["3d-unet", "platform", "extras", "groups"])
def test_a_rendered_project_runs_its_own_steps(
    name: str, template_repo: Path, index: Path, stand_in: Path, tmp_path: Path, compat: Compat,
    uv_bin: str,
) -> None:
    answers = _journeys(compat)[name]
    # A pypi project locks PyPI's newest torch, which no local CPU wheel matches: its CI installs
    # the stand-in's CPU stub of that release, and what needs torch itself is listed as skipped.
    mirror = stand_in if answers.get("accelerator_mode", "pypi") == "pypi" else index
    answers = {**answers, "pytorch_index_url": mirror.as_uri()}
    python = find_python(uv_bin, REAL_PYTHON)
    if python is None:
        pytest.skip(f"no CPython {REAL_PYTHON} interpreter on this machine")
    project = tmp_path / name
    copier.run_copy(str(template_repo), str(project), data=answers, defaults=True, quiet=True,
                    unsafe=False, vcs_ref="99.0.0")
    recorded = yaml_answers(project)
    package = recorded["package_name"]
    walk = Walk(project, walk_environment(uv_bin, python))

    # The after-copy message, as the user pastes it.
    walk.run("user", 'git init -q && git add -A && git commit -q -m "Render from torch-uv-template"')
    walk.run("user", "uv lock")
    commit_all(project, "Lock")

    readme = (project / "README.md").read_text(encoding="utf-8")
    assert fences(readme) == [], "a code fence carries more than its language"
    _check_build(project, walk, package)
    (project / "dist").joinpath(".gitignore").write_text("*\n")

    # CI's lint job, step by step, as written.
    for command, env in ci_steps(project, "lint"):
        walk.run("ci lint", command, env)

    # CI's test job on the Linux runner, with python_min: a CPU build, then its tests and doctor.
    real = WHEEL is not None
    tested_with = None
    for command, env in ci_steps(project, "test"):
        if NEEDS_TORCH.match(command) and not _real_torch(walk):
            walk.skip("ci test", command, _why_no_torch(walk))
            continue
        walk.run("ci test", command, env)
        if re.search(r"\bpytest$", command):
            tested_with = walk.installed_torch()
    if real and recorded["accelerator_mode"] != "pypi":
        assert _real_torch(walk), walk.report()

    # Every README command, in order.
    docker = docker_unavailable() or (
        "the journey's project locks against a stand-in index, which an image build cannot reach")
    for command in readme_commands(project):
        reason = readme_decision(command, recorded, docker)
        if reason is None and NEEDS_TORCH.match(command) and not _real_torch(walk):
            reason = _why_no_torch(walk)
        if (reason is None and re.fullmatch(r"uv run (--extra \S+ )?pytest", command)
                and tested_with and walk.installed_torch() == tested_with):
            reason = "the same tests ran as CI's test step above, with this torch installed"
        if reason is not None:
            walk.skip("readme", command, reason)
            continue
        if command.startswith("copier "):
            # copier refuses a dirty project: commit what the journey changed, as README says.
            commit_all(project, "Work before the update")
            command = f"{sys.executable} -m {command}"
        walk.run("readme", command)

    ran = [s for s in walk.steps if s.outcome.startswith("ran")]
    print(f"journey {name}: {len(ran)} of {len(walk.steps)} commands ran\n{walk.report()}")
    tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    assert not list(project.rglob("*.rej"))
    if real and recorded["accelerator_mode"] != "pypi":
        assert any("-doctor" in s.command and s.outcome.startswith("ran") for s in walk.steps)
        assert any("pytest" in s.command and s.outcome.startswith("ran") for s in walk.steps)


def _real_torch(walk: Walk) -> bool:
    installed = walk.installed_torch()
    return bool(WHEEL and installed and installed == WHEEL.name.split("-")[1])


def _why_no_torch(walk: Walk) -> str:
    installed = walk.installed_torch()
    if WHEEL is None:
        return ("no torch CPU wheel for CPython 3.11 in pip's find-links folders "
                "(pip config get global.find-links): the stand-in's torch is a stub")
    return (f"the torch installed here, {installed}, is the stand-in's stub: this machine has "
            f"a real wheel of {WHEEL.name.split('-')[1]} only")


def yaml_answers(project: Path) -> dict[str, Any]:
    import yaml

    return yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))


def test_the_after_copy_cd_line_works_in_a_folder_with_a_space(tmp_path: Path, template_repo: Path
                                                               ) -> None:
    """copier's closing message, pasted into a shell, enters the project."""
    target = tmp_path / "My Project"
    done = subprocess.run(
        [sys.executable, "-m", "copier", "copy", "--defaults", "--vcs-ref", "99.0.0",
         str(template_repo), str(target)],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0, done.stderr
    cd = next(line.strip() for line in (done.stdout + done.stderr).splitlines()
              if line.strip().startswith("cd "))
    entered = subprocess.run(["bash", "-c", f"{cd} && pwd"], cwd=tmp_path, capture_output=True,
                             text=True, check=False)
    assert entered.returncode == 0 and entered.stdout.strip() == str(target), (cd, entered)


def test_the_template_readme_recipe_renders_and_updates(tmp_path: Path) -> None:
    """The template's own README: render from a checkout, then `copier update` in the project."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    recipe = next(line.strip() for line in readme.splitlines()
                  if line.strip().startswith("uv run copier copy") and "--vcs-ref HEAD" in line)
    checkout = tmp_path / "checkout"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(checkout)], check=True)
    # This working tree's template, committed as the recipe asks.
    for part in TEMPLATE_PARTS:
        target = checkout / part
        if target.is_dir():
            shutil.rmtree(target)
        else:
            target.unlink(missing_ok=True)
    copy_template(checkout)
    commit_all(checkout, "The working tree")
    command = recipe.replace("uv run copier", f"{sys.executable} -m copier")
    done = subprocess.run(["bash", "-c", command], cwd=checkout, capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr
    project = next(p for p in tmp_path.iterdir() if p.name != "checkout")
    source = yaml_answers(project)["_src_path"]
    assert Path(source).is_absolute() and Path(source) == checkout, source
    git(project, "init", "-q", "-b", "main")
    commit_all(project, "Render")
    updated = subprocess.run(
        [sys.executable, "-m", "copier", "update", "--defaults", "--vcs-ref", "HEAD",
         "--data", "license=Apache-2.0"],
        cwd=project, capture_output=True, text=True, check=False,
    )
    assert updated.returncode == 0, updated.stderr
    assert "Apache License" in (project / "LICENSE").read_text()



# Names and free text as Hypothesis draws them ---------------------------------------------------

# Up to the lengths the interview takes (100 and 40), and a little beyond.
PROJECT_NAME = st.one_of(
    st.from_regex(r"\A[A-Za-z0-9](?:[A-Za-z0-9._-]{0,30}[A-Za-z0-9])?\Z"),
    st.from_regex(r"\A[a-z][a-z0-9-]{90,100}[a-z]\Z"),
)
PACKAGE_NAME = st.one_of(st.none(), st.from_regex(r"\A[a-z_][a-z0-9_]{0,20}\Z"),
                         st.from_regex(r"\A[a-z][a-z0-9_]{35,41}\Z"))
DESCRIPTION = st.one_of(
    st.just(""),
    st.text(max_size=60),
    st.lists(st.sampled_from(['"', "'", '"""', "\\", "`", "*", "_", "#", "<b>", "|", "$(x)",
                              "{{ x }}", "ü", "😀", " ", "a", "Z", "-", "1."]),
             max_size=12).map("".join),
)


def test_any_name_and_text_the_interview_accepts_builds_lints_and_imports(
    template_repo: Path, tmp_path_factory: pytest.TempPathFactory, uv_bin: str,
    request: pytest.FixtureRequest,
) -> None:
    """Whatever names and description the interview accepts, the project builds (uv build),
    passes its own lint (ruff check, ruff format --check), keeps its README's fences whole, and
    its package imports from the built wheel as itself, not as a module it shadows; whatever it
    refuses, it refuses with a message."""
    python = find_python(uv_bin, REAL_PYTHON)
    if python is None:
        pytest.skip(f"no CPython {REAL_PYTHON} interpreter on this machine")
    env = walk_environment(uv_bin, python)
    outcomes = {"refused": 0, "checked": 0}

    @settings(max_examples=12, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(project_name=PROJECT_NAME, package_name=PACKAGE_NAME, description=DESCRIPTION)
    def check(project_name: str, package_name: str | None, description: str) -> None:
        project = tmp_path_factory.mktemp("named") / "project"
        data = {"project_name": project_name, "description": description,
                "python_min": REAL_PYTHON,
                **({"package_name": package_name} if package_name else {})}
        try:
            copier.run_copy(str(template_repo), str(project), data=data, defaults=True,
                            quiet=True, unsafe=False, vcs_ref="99.0.0")
        except ValueError as error:
            assert re.match(r"(Validation error for question|Invalid choice for) '\w+': .{10}",
                            str(error)), error
            outcomes["refused"] += 1
            return
        package = yaml_answers(project)["package_name"]
        walk = Walk(project, env)
        walk.run("user", "uv build --wheel --out-dir dist")
        walk.run("ci lint", f"{Path(sys.executable).parent / 'ruff'} check --no-cache .")
        walk.run("ci lint", f"{Path(sys.executable).parent / 'ruff'} format --check --no-cache .")
        assert fences((project / "README.md").read_text(encoding="utf-8")) == []
        wheel = next((project / "dist").glob("*.whl"))
        walk.run("user", "uv venv -q venv && uv pip install -q --python venv --no-deps "
                 f"{shlex.quote(str(wheel))}")
        imported = walk.run("user", f"venv/bin/python -c 'import {package}.doctor as d; "
                            "print(d.__file__)'").stdout.strip()
        assert f"/site-packages/{package}/doctor.py" in imported, imported
        outcomes["checked"] += 1

    check()
    request.node.user_properties.append((
        EVIDENCE, f"journey names (hypothesis): {sum(outcomes.values())} examples, "
        f"{outcomes['refused']} refused with a message, {outcomes['checked']} built, linted "
        "and imported",
    ))
    assert outcomes["checked"] > 0, "no example was accepted: the test checks nothing"
