"""`copier update` keeps the user's work: from every release CHANGELOG.md records, in every mode
that release had, and when answers change (into the groups mode too).

Template versions are tagged git repos in a tmp dir: one commit per release, as of the commit that
added its CHANGELOG heading, then the working tree. Every project gets typical user edits, in the
places the README calls safe, and a committed uv.lock before it is updated, never with --trust.
"""

from __future__ import annotations

import itertools
import os
import re
import shlex
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import copier
import pytest
import yaml
from packaging.requirements import Requirement

from compat.model import Compat, load
from compat.releases import releases
from tests.conftest import EVIDENCE
from tests.support.interpreters import find_python
from tests.support.lock import lock_environment, resolution_pin, run_lock
from tests.support.project import answers_of
from tests.support.versions import GIT_IDENTITY, commit_all, git, tagged_template

MARKER = "  # Your dependencies below this line; the lines above it are torch-uv-template's.\n"
DEPENDENCY = '  "rich>=13",\n'
RUFF = "\n[tool.ruff]\nline-length = 100\n"
NOTES = "\n## Our notes\n\nTrain with `uv run python -m project.model`.\n"
MODEL = '"""Our model."""\n\nimport torch\n\n\ndef make() -> torch.nn.Module:\n    return torch.nn.Linear(4, 2)\n'
MODEL_TEST = "from project.model import make\n\n\ndef test_make() -> None:\n    assert make().out_features == 2\n"
CONFLICT_MARKERS = ("<<<<<<< ", ">>>>>>> ")

# Each mode as a release's own interview fills it in: its defaults name the builds, so the
# answers hold for every release (cpu exists in every one).
MODES: dict[str, dict[str, Any]] = {
    "pypi": {},
    "platform": {"accelerator_mode": "platform", "backend_windows_x86_64": "cpu"},
    "extras": {"accelerator_mode": "extras"},
    "groups": {"accelerator_mode": "groups"},
}

# New answers, from the data: the main build, an older CUDA build beside it, the default
# torch_min and the minor before it.
_COMPAT = load()
_DEFAULT = _COMPAT.verified_torch_min()
_LOWER = _COMPAT.minors()[_COMPAT.minors().index(_DEFAULT) - 1]
MAIN = _COMPAT.newest_verified().pypi_build["linux-x86_64"]
OLDER = next(
    v for v in _COMPAT.backends("linux-x86_64", _LOWER, "3.12", ("torchvision",))
    if v in _COMPAT.variants and _COMPAT.variants[v].family == "cuda" and v != MAIN
    and _COMPAT.serves(v, "linux-x86_64", _DEFAULT, "3.12", ("torchvision",))
)
ON_OLDER = {"accelerator_mode": "platform", "backend_linux_x86_64": OLDER,
            "backend_windows_x86_64": "cpu"}
TO_GROUPS = {"accelerator_mode": "groups", "groups": ["cpu", MAIN], "accelerator": MAIN}
CHANGES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "backend-older-to-main": (ON_OLDER, {"backend_linux_x86_64": MAIN}),
    "add-a-platform": (
        {
            "accelerator_mode": "platform",
            "backend_linux_x86_64": OLDER,
            "platforms": ["linux-x86_64", "macos-arm64"],
        },
        {
            "platforms": ["linux-x86_64", "windows-x86_64", "macos-arm64"],
            "backend_windows_x86_64": "cpu",
        },
    ),
    "platform-to-extras": (ON_OLDER, {"accelerator_mode": "extras", "extras": ["cpu", MAIN]}),
    "extras-to-platform": (
        {"accelerator_mode": "extras", "extras": ["cpu", MAIN]},
        {"accelerator_mode": "platform", "backend_linux_x86_64": MAIN},
    ),
    "raise-torch-min": ({**ON_OLDER, "torch_min": _LOWER}, {"torch_min": _DEFAULT}),
    "platform-to-groups": (ON_OLDER, TO_GROUPS),
    "extras-to-groups": ({"accelerator_mode": "extras", "extras": ["cpu", MAIN]}, TO_GROUPS),
    "pypi-to-groups": (MODES["pypi"], TO_GROUPS),
}


FOUND = releases()


@pytest.fixture(scope="module")
def template_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if isinstance(FOUND, str):
        pytest.skip(FOUND)
    return tagged_template(tmp_path_factory.mktemp("template") / "repo")[0]


def _release_modes() -> list[Any]:
    if isinstance(FOUND, str):
        return [pytest.param("none", "pypi", marks=pytest.mark.skip(reason=FOUND))]
    cases = []
    for release in FOUND:
        copier_yml = git(Path(__file__).resolve().parent.parent, "show",
                         f"{release.commit}:copier.yml")
        for mode in MODES:
            if f"{mode}  " in copier_yml or mode == "pypi":  # the modes that release offered
                cases.append(pytest.param(release.version, mode, id=f"{release.version}-{mode}"))
    return cases


def lock(project: Path, uv_bin: str, compat: Compat, *extra: str) -> None:
    python = find_python(uv_bin, answers_of(project)["python_min"])
    assert python is not None
    result = run_lock(uv_bin, project, python, compat, *extra)
    assert result.returncode == 0, result.stderr


def copy_and_edit(
    repo: Path, project: Path, ref: str, data: dict[str, Any], uv_bin: str, compat: Compat
) -> Path:
    """A project as a user leaves it: rendered, committed, edited, locked, committed."""
    copier.run_copy(
        str(repo), str(project), data=data, vcs_ref=ref, defaults=True, quiet=True, unsafe=False
    )
    git(project, "init", "-q", "-b", "main")
    commit_all(project, "Render from torch-uv-template")
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text()
    assert MARKER in text
    pyproject.write_text(text.replace(MARKER, MARKER + DEPENDENCY) + RUFF)
    readme = project / "README.md"
    readme.write_text(readme.read_text() + NOTES)
    (project / "src/project/model.py").write_text(MODEL)
    (project / "tests/test_model.py").write_text(MODEL_TEST)
    lock(project, uv_bin, compat)
    commit_all(project, "Our work")
    return project


def check_user_work_survived(project: Path) -> None:
    text = (project / "pyproject.toml").read_text()
    pyproject = tomllib.loads(text)  # still parses
    assert "rich>=13" in pyproject["project"]["dependencies"]
    assert pyproject["tool"]["ruff"] == {"line-length": 100}
    assert (project / "README.md").read_text().endswith(NOTES)
    assert (project / "src/project/model.py").read_text() == MODEL
    assert (project / "tests/test_model.py").read_text() == MODEL_TEST
    assert (project / "uv.lock").is_file()
    leftovers = []
    for path in project.rglob("*"):
        if ".git" in path.relative_to(project).parts or not path.is_file():
            continue
        if path.suffix == ".rej" or path.name.endswith(".orig"):
            leftovers.append(str(path))
        elif any(
            line.startswith(CONFLICT_MARKERS)
            for line in path.read_text(errors="replace").splitlines()
        ):
            leftovers.append(f"{path}: conflict markers")
    assert leftovers == []


def check_relock(project: Path, uv_bin: str, compat: Compat) -> None:
    lock(project, uv_bin, compat)
    lock(project, uv_bin, compat, "--check")


def without_user_work(project: Path) -> dict[str, str]:
    """The project's template-made files, with the user's edits taken out again."""
    files = {}
    for path in sorted(project.rglob("*")):
        relative = path.relative_to(project)
        if ".git" in relative.parts or not path.is_file():
            continue
        if str(relative) in {"uv.lock", "src/project/model.py", "tests/test_model.py"}:
            continue
        text = path.read_text()
        if str(relative) == "pyproject.toml":
            text = text.replace(MARKER + DEPENDENCY, MARKER).removesuffix(RUFF)
        if str(relative) == "README.md":
            text = text.removesuffix(NOTES)
        files[str(relative)] = text
    return files


def update(project: Path, data: dict[str, Any] | None = None) -> None:
    copier.run_update(
        str(project),
        data=data or {},
        vcs_ref="HEAD",
        defaults=True,
        overwrite=True,
        quiet=True,
        unsafe=False,
        conflict="inline",
    )


@pytest.mark.parametrize(("release", "mode"), _release_modes())
def test_update_from_every_release_keeps_user_work(
    release: str, mode: str, template_repo: Path, tmp_path: Path, stand_in: Path, uv_bin: str,
    compat: Compat,
) -> None:
    # A pypi project of a release that did not ask for the mirror never gave one.
    mirror = {"pytorch_index_url": stand_in.as_uri()} if mode != "pypi" else {}
    project = copy_and_edit(template_repo, tmp_path / "project", release, {**MODES[mode], **mirror},
                            uv_bin, compat)
    assert answers_of(project)["_commit"] == release

    update(project)

    check_user_work_survived(project)
    # The project is now what the working tree renders from the same answers.
    answers = answers_of(project)
    assert answers["_commit"] != release
    fresh_answers = {k: v for k, v in answers.items() if not k.startswith("_")}
    fresh = tmp_path / "fresh" / "project"
    copier.run_copy(str(template_repo), str(fresh), data=fresh_answers, vcs_ref="HEAD",
                    defaults=True, quiet=True)
    assert without_user_work(project) == without_user_work(fresh)
    check_relock(project, uv_bin, compat)


@pytest.mark.parametrize("change", list(CHANGES))
def test_update_with_new_answers_equals_a_fresh_copy(
    change: str, template_repo: Path, tmp_path: Path, stand_in: Path, uv_bin: str, compat: Compat
) -> None:
    before, new = CHANGES[change]
    data = {**before, "pytorch_index_url": stand_in.as_uri()}
    project = copy_and_edit(template_repo, tmp_path / "project", "HEAD", data, uv_bin, compat)

    update(project, new)

    check_user_work_survived(project)
    answers = answers_of(project)
    for key, value in new.items():
        assert answers[key] == value, key
    fresh_answers = {k: v for k, v in answers.items() if not k.startswith("_")}
    fresh = tmp_path / "fresh" / "project"
    copier.run_copy(
        str(template_repo),
        str(fresh),
        data=fresh_answers,
        vcs_ref="HEAD",
        defaults=True,
        quiet=True,
    )
    assert without_user_work(project) == without_user_work(fresh)
    check_relock(project, uv_bin, compat)


@pytest.mark.parametrize("mode", ["platform", "pypi"])
def test_answers_file_is_enough_to_render_again(
    mode: str, template_repo: Path, tmp_path: Path, stand_in: Path
) -> None:
    """Every answer, the index URL included (which a pypi project's CI uses), is recorded:
    recopy from it alone changes nothing."""
    data = {**MODES[mode], "pytorch_index_url": stand_in.as_uri(), "gpu_runner_label": "gpu"}
    project = tmp_path / "project"
    copier.run_copy(
        str(template_repo), str(project), data=data, vcs_ref="HEAD", defaults=True, quiet=True
    )
    answers = answers_of(project)
    for key, value in data.items():
        assert answers[key] == value, key
    git(project, "init", "-q", "-b", "main")
    commit_all(project, "Render")
    copier.run_recopy(
        str(project), vcs_ref="HEAD", defaults=True, overwrite=True, quiet=True, unsafe=False
    )
    assert git(project, "status", "--porcelain") == ""


def test_template_needs_no_trust() -> None:
    """No tasks, migrations or extensions: copy and update work without --trust."""
    from tests.support.project import ROOT

    text = (ROOT / "copier.yml").read_text()
    for key in ("_tasks", "_migrations", "_jinja_extensions"):
        assert f"\n{key}:" not in text


# Where `uv add` writes, each a package sorting before torch, beside it, and after it.
ADDED = ("einops", "torchmetrics", "tqdm")


# Every mode; and torch alone, whose list uv finds sorted, so it inserts a package before torch.
ADD_CASES = {**MODES, "pypi-torch-alone": {"torch_packages": []}}


@pytest.mark.parametrize("mode", list(ADD_CASES))
def test_uv_add_then_an_update_that_moves_torch_merges_cleanly(
    mode: str, template_repo: Path, tmp_path: Path, stand_in: Path, uv_bin: str, compat: Compat,
) -> None:
    """The user adds packages with `uv add` (uv keeps a sorted list sorted), commits, and moves
    torch's bound with `copier update --data torch_min=...`: the merge keeps every added line,
    moves the bound, and leaves no conflict."""
    data = {**ADD_CASES[mode], "torch_min": _LOWER, "pytorch_index_url": stand_in.as_uri()}
    project = tmp_path / "project"
    copier.run_copy(str(template_repo), str(project), data=data, vcs_ref="HEAD", defaults=True,
                    quiet=True, unsafe=False)
    git(project, "init", "-q", "-b", "main")
    commit_all(project, "Render from torch-uv-template")
    python = find_python(uv_bin, answers_of(project)["python_min"])
    assert python is not None
    added = subprocess.run(
        [uv_bin, "add", "--no-sync", "--python", str(python), *resolution_pin(compat), *ADDED],
        cwd=project, capture_output=True, text=True, env=lock_environment(), check=False,
    )
    assert added.returncode == 0, added.stderr
    before = tomllib.loads((project / "pyproject.toml").read_text())["project"]["dependencies"]
    assert {Requirement(r).name for r in before} >= set(ADDED), before
    commit_all(project, "uv add")

    update(project, {"torch_min": _DEFAULT})

    text = (project / "pyproject.toml").read_text()
    assert not [line for line in text.splitlines() if line.startswith(CONFLICT_MARKERS)], text
    pyproject = tomllib.loads(text)
    after = pyproject["project"]["dependencies"]
    assert [r for r in after if Requirement(r).name in ADDED] == [
        r for r in before if Requirement(r).name in ADDED
    ]
    first = compat.first_release(_DEFAULT)
    bounds = [str(Requirement(r).specifier) for r in _torch_requirements(pyproject)]
    assert bounds and all(b == f">={first.version}" for b in bounds), bounds
    print(f"{mode}: dependencies after the update:\n" + "\n".join(f"  {r}" for r in after))
    check_relock(project, uv_bin, compat)


def _torch_requirements(pyproject: dict[str, Any]) -> list[str]:
    """Every versioned torch requirement: in dependencies, extras and groups."""
    lists = [pyproject["project"]["dependencies"],
             *pyproject["project"].get("optional-dependencies", {}).values(),
             *[g for name, g in pyproject.get("dependency-groups", {}).items() if name != "dev"]]
    return [r for found in lists for r in found
            if Requirement(r).name == "torch" and Requirement(r).specifier]


# Answers are the user's data: the corpus of what each release accepted ---------------------------

CORPUS = yaml.safe_load((Path(__file__).parent / "corpus/recorded_answers.yml").read_text("utf-8"))


def _corpus_cases() -> list[Any]:
    if isinstance(FOUND, str):
        return [pytest.param("none", {}, "kept", marks=pytest.mark.skip(reason=FOUND))]
    released = {r.version for r in FOUND}
    cases = []
    for version, entries in CORPUS.items():
        for n, entry in enumerate(entries):
            marks = [] if version in released else [pytest.mark.skip(
                reason=f"{version} is in the corpus but not in CHANGELOG.md")]
            cases.append(pytest.param(version, entry["answers"], entry["expect"], marks=marks,
                                      id=f"{version}-{n}"))
    return cases


@pytest.mark.parametrize(("release", "given", "expect"), _corpus_cases())
def test_an_update_keeps_every_recorded_answer_or_stops_before_changing_anything(
    release: str, given: dict[str, Any], expect: Any, template_repo: Path, tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    project = tmp_path / "project"
    copier.run_copy(str(template_repo), str(project), data=given, vcs_ref=release, defaults=True,
                    quiet=True, unsafe=False)
    git(project, "init", "-q", "-b", "main")
    commit_all(project, "Render")
    recorded = answers_of(project)
    for key, value in given.items():
        assert recorded[key] == value, f"{release} did not record {key} as given"
    head = git(project, "rev-parse", "HEAD")

    if expect == "kept":
        update(project)
        after = answers_of(project)
        changed = {k: (v, after.get(k)) for k, v in recorded.items()
                   if not k.startswith("_") and k in after and after[k] != v}
        assert changed == {}, f"answers replaced by the update: {changed}"
        check_user_work_survived_markers(project)
        outcome = "kept"
    else:
        with pytest.raises(ValueError) as stopped:
            update(project)
        message = str(stopped.value)
        for phrase in expect["stopped"]:
            assert phrase in message, message
        # Nothing changed: not a file, not the answers.
        assert git(project, "status", "--porcelain") == ""
        assert git(project, "rev-parse", "HEAD") == head
        assert answers_of(project) == recorded
        outcome = "stopped: " + message.split(": ", 1)[1][:160]
    request.node.user_properties.append((
        EVIDENCE, f"update corpus {release} {sorted(given)}: {outcome}"))


def check_user_work_survived_markers(project: Path) -> None:
    for path in project.rglob("*"):
        if ".git" in path.relative_to(project).parts or not path.is_file():
            continue
        lines = path.read_text(errors="replace").splitlines()
        assert not any(line.startswith(CONFLICT_MARKERS) for line in lines), path


def _retiring() -> tuple[str, str, str]:
    """A variant that serves Linux x86_64 at one torch_min and not at the next."""
    minors = _COMPAT.minors()
    for variant in _COMPAT.variants:
        for early, late in itertools.pairwise(minors):
            if _COMPAT.serves(variant, "linux-x86_64", early, "3.12") and not _COMPAT.serves(
                    variant, "linux-x86_64", late, "3.12"):
                return variant, early, late
    raise AssertionError("no variant of the data retires on Linux x86_64")


_VARIANT, _EARLY, _LATE = _retiring()
# (case, answers recorded, answers given to the update, phrases the stop must hold)
CLASHES: dict[str, tuple[dict[str, Any], dict[str, Any], list[str]]] = {
    "a-recorded-build-the-new-torch-min-refuses": (
        {"accelerator_mode": "platform", "torch_min": _EARLY, "backend_linux_x86_64": _VARIANT},
        {"torch_min": _LATE},
        ["with the answers given now (torch_min)",
         "e.g. copier update --data backend_linux_x86_64=<new value>", "or give other answers now"],
    ),
    "a-recorded-launcher-the-new-platforms-leave-without-linux": (
        {"platforms": ["linux-x86_64", "macos-arm64"], "launcher": "slurm"},
        {"platforms": ["macos-arm64"]},
        ["launcher=slurm runs on a Linux cluster", "give launcher=none",
         "e.g. copier update --data launcher=<new value>"],
    ),
    "a-recorded-runner-label-without-ci": (
        {"gpu_runner_label": "gpu-a100"},
        {"github_actions": False},
        ['gpu_runner_label "gpu-a100" would be dropped', "also give gpu_runner_label=''"],
    ),
}


@pytest.mark.parametrize("case", list(CLASHES))
def test_an_update_whose_new_answers_leave_a_recorded_one_without_use_stops_and_names_it(
    case: str, template_repo: Path, tmp_path: Path
) -> None:
    """copier drops the answer of a question that goes unasked; the update stops first, names
    the answer to give, and changes nothing."""
    recorded, given, phrases = CLASHES[case]
    project = tmp_path / "project"
    copier.run_copy(str(template_repo), str(project), data=recorded, vcs_ref="HEAD",
                    defaults=True, quiet=True, unsafe=False)
    git(project, "init", "-q", "-b", "main")
    commit_all(project, "Render")
    before = answers_of(project)
    with pytest.raises(ValueError) as stopped:
        update(project, given)
    for phrase in phrases:
        assert phrase in str(stopped.value), str(stopped.value)
    assert git(project, "status", "--porcelain") == ""
    assert answers_of(project) == before


def test_the_readme_recipe_for_linux_cpu_builds_changes_linux_alone(
    template_repo: Path, tmp_path: Path
) -> None:
    """A PyPI-mode project's README says how to give Linux the CPU build for good; run as
    written, it leaves every other platform on PyPI's build (a default would have moved
    Windows to a CUDA build)."""
    project = tmp_path / "project"
    copier.run_copy(str(template_repo), str(project), vcs_ref="HEAD", defaults=True, quiet=True,
                    unsafe=False)
    git(project, "init", "-q", "-b", "main")
    commit_all(project, "Render")
    readme = (project / "README.md").read_text()
    found = re.search(r"`(copier update --data accelerator_mode=platform[^`]*)`", readme)
    assert found, "the README gives no recipe"
    words = shlex.split(found.group(1))
    data = dict(w.split("=", 1) for w in words[2:] if w != "--data")
    update(project, data)
    answers = answers_of(project)
    others = [p for p in answers["platforms"]
              if _COMPAT.platforms[p].sys_platform != "linux" and _COMPAT.platforms[p].labelled]
    assert others, "the default platforms hold no other platform with a backend question"
    for name in answers["platforms"]:
        if not _COMPAT.platforms[name].labelled:
            continue
        question = "backend_" + name.replace("-", "_")
        linux = _COMPAT.platforms[name].sys_platform == "linux"
        assert answers[question] == ("cpu" if linux else "pypi"), (name, answers[question])


def test_the_readme_way_to_rename_the_package_keeps_the_users_edits(
    template_repo: Path, tmp_path: Path
) -> None:
    """copier drops edits of the template's modules left in the old package's folder; the
    README's recipe moves the folder first, and every line the user wrote is still there."""
    project = tmp_path / "project"
    copier.run_copy(str(template_repo), str(project), data={"package_name": "acme_seg"},
                    vcs_ref="HEAD", defaults=True, quiet=True, unsafe=False)
    git(project, "init", "-q", "-b", "main")
    commit_all(project, "Render")
    added = "\n\ndef n_params() -> int:\n    return 1\n"
    device = project / "src/acme_seg/device.py"
    device.write_text(device.read_text() + added)
    (project / "src/acme_seg/model.py").write_text(MODEL)
    commit_all(project, "Our work")
    block = re.search(r"```console\n(git mv [^\n]*)\n(copier update [^\n]*)\n```",
                      (project / "README.md").read_text())
    assert block, "the README gives no recipe for renaming the package"
    move = block.group(1).replace("<new_name>", "acme_segmentation")
    subprocess.run(move, shell=True, cwd=project, check=True, capture_output=True,
                   env={**os.environ, **GIT_IDENTITY})
    words = shlex.split(block.group(2).replace("<new_name>", "acme_segmentation"))
    update(project, dict(w.split("=", 1) for w in words if "=" in w))
    moved = project / "src/acme_segmentation"
    assert "def n_params() -> int:" in (moved / "device.py").read_text()
    assert (moved / "model.py").read_text() == MODEL
    assert not (project / "src/acme_seg").exists()
