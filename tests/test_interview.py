"""Answers that cannot work are refused when asked (and through --data), each with a message
that names what is wrong and what would work. Nothing else may go wrong: no Jinja error, no
KeyError, no TOML that does not parse, no project rendered from impossible answers. The values
here are chosen from the data where they name builds, so a new release changes none of them."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from compat.model import load
from tests.support.project import pyproject_of, render

PLATFORM = {"accelerator_mode": "platform"}

_COMPAT = load()
# Facts of the data the cases below need, looked up rather than written down.
_NEWEST = _COMPAT.releases[-1]
_ROCM = next(v for v in _NEWEST.builds if _COMPAT.variants[v].family == "rocm")
_CUDA = next(v for v in reversed(_NEWEST.builds) if _COMPAT.variants[v].family == "cuda")
_X86_ONLY_CUDA = next(  # a CUDA variant never built for Linux aarch64
    v for v, info in _COMPAT.variants.items()
    if info.family == "cuda" and "linux-aarch64" not in {
        p for r in _COMPAT.releases for b in r.builds.values() if b.variant == v for p in b.platforms
    }
)
_RETIRED, _RETIRED_LAST = next(  # a variant whose last Linux x86_64 build is not the newest release
    (v, r) for v in _COMPAT.variants
    for r in [[x for x in _COMPAT.releases if x.has_build(v, "linux-x86_64")]]
    if r and r[-1].minor != _NEWEST.minor and _COMPAT.variants[v].family == "cuda"
)
_AFTER_RETIRED = _COMPAT.minors()[_COMPAT.minors().index(_RETIRED_LAST[-1].minor) + 1]
_OLDEST_PYTHON = _COMPAT.python_choices()[0]
_NEWEST_PYTHON = _COMPAT.python_choices()[-1]
# A platform without torch on PyPI, and one whose builds ship torch alone (no companions).
_NO_PYPI = [p for p, info in _COMPAT.platforms.items() if not info.pypi]
_TORCH_ALONE = [p for p in _COMPAT.platforms if any(
    p in b.without_companions for b in _NEWEST.builds.values())]
_TOO_NEW_FOR = next((r.minor for r in _COMPAT.releases if _OLDEST_PYTHON not in r.python), None)

# (case, answers, question, phrases the message must contain)
REFUSED: list[tuple[str, dict[str, Any], str, list[str]]] = [
    (
        "rocm-on-windows",
        {**PLATFORM, "backend_windows_x86_64": _ROCM},
        "accelerator_mode",
        [
            f"{_ROCM} has no windows-x86_64 build",
            "ROCm builds exist only for linux-x86_64",
            "choose one of: pypi, cpu",
        ],
    ),
    (
        "x86-only-cuda-on-aarch64",
        {**PLATFORM, "torch_min": _COMPAT.minors()[0], "backend_linux_aarch64": _X86_ONLY_CUDA},
        "accelerator_mode",
        [f"{_X86_ONLY_CUDA} has no linux-aarch64 build", "it is built only for", "choose one of:"],
    ),
    (
        "cuda-on-macos",
        {**PLATFORM, "platforms": ["macos-arm64"], "accelerator": _CUDA},
        "accelerator_mode",
        [f"{_CUDA} can serve none of the selected platforms", "CUDA builds exist only for"],
    ),
    (
        "rocm-extra-without-linux",
        {"accelerator_mode": "extras", "platforms": ["windows-x86_64", "macos-arm64"],
         "extras": ["cpu", _ROCM]},
        "accelerator_mode",
        [f"{_ROCM} can serve none of the selected platforms",
         "ROCm builds exist only for linux-x86_64", "choose one of cpu"],
    ),
    (
        "retired-variant",
        {**PLATFORM, "torch_min": _AFTER_RETIRED, "backend_linux_x86_64": _RETIRED},
        "accelerator_mode",
        [f"last linux-x86_64 build is torch {_RETIRED_LAST[-1].version}",
         f"torch_min {_RETIRED_LAST[-1].minor} or older would allow it"],
    ),
    *([(
        "no-release-fits-python",
        {"python_min": _OLDEST_PYTHON, "torch_min": _TOO_NEW_FOR},
        "torch_min",
        [f"python_min is {_OLDEST_PYTHON}", "needs Python"],
    )] if _TOO_NEW_FOR else []),
    ("no-platforms", {"platforms": []}, "platforms", ["select at least one platform: linux-x86_64"]),
    ("no-extras", {"accelerator_mode": "extras", "extras": []}, "extras",
     ["select at least one extra, e.g. cpu"]),
    ("groups-without-the-main-build", {"accelerator_mode": "groups", "groups": ["cpu"],
     "accelerator": _CUDA}, "groups", [f"groups must include the main build {_CUDA}"]),
    ("project-name", {"project_name": "my project!"}, "project_name",
     ["not a valid distribution name", "e.g. my-torch-project"]),
    ("package-name-digit", {"package_name": "1model"}, "package_name", ["not an importable name"]),
    ("package-name-keyword", {"package_name": "class"}, "package_name", ["is a Python keyword"]),
    ("package-name-shadows", {"package_name": "torch"}, "package_name",
     ["would shadow the module", "e.g. my_torch"]),
    # The standard library (every Python's, not a list of favourites) and what torch installs.
    *[(f"package-name-{name}", {"package_name": name}, "package_name",
       [f"would shadow the module {name}", "could never be imported"])
      for name in ("collections", "re", "code", "functorch", "torchgen", "isympy", "pil")],
    ("package-name-private", {"package_name": "_pylong"}, "package_name",
     ["starts with an underscore", "e.g. pylong"]),
    ("author-email", {"author_email": "someone"}, "author_email", ["not an email address"]),
    ("index-url-scheme", {**PLATFORM, "pytorch_index_url": "ftp://mirror/whl"},
     "pytorch_index_url", ["not an http(s):// or file:/// URL", "e.g."]),
    ("index-url-no-scheme", {**PLATFORM, "pytorch_index_url": "download.pytorch.org/whl"},
     "pytorch_index_url", ["https://download.pytorch.org/whl"]),
    ("index-url-empty-host", {**PLATFORM, "pytorch_index_url": "https://"}, "pytorch_index_url",
     ["not an http(s)"]),
    ("index-url-space", {**PLATFORM, "pytorch_index_url": "https://mirror.example.org/py torch"},
     "pytorch_index_url", ["not an http(s)"]),
    ("backend-outside-platform-mode", {"backend_linux_x86_64": "cpu"}, "accelerator_mode",
     ["applies only with accelerator_mode=platform, not pypi"]),
    ("extras-outside-extras-mode", {**PLATFORM, "extras": ["cpu"]}, "accelerator_mode",
     ["extras applies only with accelerator_mode=extras"]),
    ("backend-of-unselected-platform",
     {**PLATFORM, "platforms": ["linux-x86_64"], "backend_windows_x86_64": "cpu"},
     "accelerator_mode", ["windows-x86_64 is not among platforms (linux-x86_64)"]),
    ("unknown-mode", {"accelerator_mode": "conda"}, "accelerator_mode",
     ["'conda' is not in ['pypi', 'platform', 'extras', 'groups']"]),
    # What issue 10 found getting through, each refused now.
    ("trailing-newline", {"package_name": "pkg\n"}, "package_name",
     ['contains the control character "\\n"', "one line of printable text"]),
    ("trailing-newline-in-a-choice", {"license": "MIT\n"}, "license", ["is not in"]),
    ("shell-in-the-mirror", {**PLATFORM, "pytorch_index_url": "https://x.org/$(touch${IFS}/tmp/PWNED)"},
     "pytorch_index_url", ["not an http(s):// or file:/// URL"]),
    ("quote-in-the-mirror", {**PLATFORM, "pytorch_index_url": 'https://x.org/a"b'},
     "pytorch_index_url", ["not an http(s)"]),
    ("backslash-in-the-mirror", {**PLATFORM, "pytorch_index_url": "https://x.org/a\\q"},
     "pytorch_index_url", ["not an http(s)"]),
    ("fragment-in-the-mirror", {**PLATFORM, "pytorch_index_url": 'https://evil.example/simple"#'},
     "pytorch_index_url", ["not an http(s)"]),
    ("credentials-in-the-mirror", {**PLATFORM, "pytorch_index_url": "https://me:secret@x.org/whl"},
     "pytorch_index_url", ["carries credentials", "answer the URL alone (https://x.org/whl)",
                           "UV_INDEX_PYTORCH_CU130_USERNAME", "UV_INDEX_PYTORCH_CU130_PASSWORD"]),
    ("token-in-the-mirror", {**PLATFORM, "pytorch_index_url": "https://x.org/whl?token=abc"},
     "pytorch_index_url", ["carries credentials or a query", "(https://x.org/whl)"]),
    ("vertical-tab", {"description": "a\x0bb"}, "description", ["control character"]),
    ("escape", {"description": "a\x1b[31mb"}, "description", ["control character"]),
    ("delete", {"author_name": "a\x7fb"}, "author_name", ["control character"]),
    ("line-separator", {"description": "a\u2028b"}, "description", ["control character"]),
    ("bidi-override", {"author_name": "a\u202eb"}, "author_name", ["control character"]),
    ("typo-in-a-key", {"accelerator_mod": "platform"}, "project_name",
     ['there is no question "accelerator_mod"', "did you mean accelerator_mode?"]),
    ("a-computed-key", {"build_plan": "{}"}, "project_name", ["build_plan is computed"]),
    ("project-named-torch", {"project_name": "torch"}, "project_name",
     ["is the name of a package the project depends on", "depend on itself"]),
    ("project-named-like-a-dependency", {"project_name": "Typing_Extensions"}, "project_name",
     ["(typing-extensions)"]),
    ("project-name-too-long", {"project_name": "p" * 300}, "project_name",
     ["has 300 characters: use at most 100"]),
    ("description-too-long", {"description": "d" * 600}, "description", ["use at most 512"]),
    ("runner-label-with-a-space", {"gpu_runner_label": "gpu a100"}, "gpu_runner_label",
     ["is not a runner label"]),
    *[(f"{p}-in-pypi-mode", {"platforms": [p], "accelerator_mode": "pypi"}, "accelerator_mode",
       [f"PyPI has no torch for {p}"]) for p in _NO_PYPI],
    *[(f"{p}-with-a-companion", {**PLATFORM, "platforms": [p], "torch_packages": ["torchvision"]},
       "torch_packages", [f"no torchvision wheels for {p}", "its builds ship torch alone"])
      for p in _TORCH_ALONE],
    *[(f"{p}-for-a-python-it-lacks", {**PLATFORM, "platforms": [p], "python_min": _NEWEST_PYTHON},
       "platforms", [f"no build for Python {_NEWEST_PYTHON}", "supports Python"])
      for p in _NO_PYPI if _NEWEST_PYTHON not in _COMPAT.releases[-1].pythons(p, "cpu")],
    ("container-without-linux", {"platforms": ["macos-arm64"], "container": True},
     "accelerator_mode", ["container builds a Linux image", "drop container"]),
    # Answers copier would otherwise drop or change without a word.
    ("launcher-without-linux", {"platforms": ["macos-arm64"], "launcher": "slurm"},
     "accelerator_mode", ["launcher=slurm runs on a Linux cluster", "give launcher=none"]),
    ("runner-label-without-ci", {"github_actions": False, "gpu_runner_label": "gpu-a100"},
     "github_actions", ['gpu_runner_label "gpu-a100" would be dropped', "keep github_actions"]),
    ("mirror-nothing-uses", {"github_actions": False, "platforms": ["macos-arm64"],
                             "pytorch_index_url": "https://mirror.example.org/whl"},
     "github_actions", ["would be dropped", "pytorch_index_url=https://download.pytorch.org/whl"]),
    ("a-misspelt-boolean", {"github_actions": "flase"}, "project_name",
     ['github_actions is "flase", which is no yes or no', "write true or false"]),
    ("torch-min-as-a-yaml-number", {"torch_min": 2.1}, "project_name",
     ["the YAML number 2.1, which is how 2.10 reads", 'torch_min: "2.10"']),
    ("the-digest-given", {"pytorch": "1"}, "project_name", ["pytorch is computed"]),
    ("a-key-with-no-value", {"description": None}, "project_name",
     ["description has no value", 'write description: "" for empty text']),
    ("a-port-out-of-range", {**PLATFORM, "pytorch_index_url": "https://x.org:99999/whl"},
     "pytorch_index_url", ["with a port from 1 to 65535"]),
    ("package-name-with-capitals", {"package_name": "RLAgents"}, "package_name",
     ["has capitals", "use e.g. rlagents"]),
    ("a-comma-in-the-name-beside-an-email",
     {"author_name": "O'Brien, Jr.", "author_email": "ob@example.org"}, "author_email",
     ["holds a comma", "would read as two addresses"]),
    *[(f"{p}-in-pypi-mode-says-what-works", {"platforms": [p], "accelerator_mode": "pypi"},
       "accelerator_mode", ["choose platform, extras or groups", "or drop it from platforms"])
      for p in _NO_PYPI],
]


@pytest.mark.parametrize(
    ("answers", "question", "phrases"), [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED]
)
def test_refused_with_its_reason(
    template_dir: Path, tmp_path: Path, answers: dict[str, Any], question: str, phrases: list[str]
) -> None:
    dest = tmp_path / "project"
    with pytest.raises(ValueError) as refused:
        render(template_dir, dest, answers)
    message = str(refused.value)
    assert f"'{question}'" in message, message
    for phrase in phrases:
        assert phrase in message, message
    assert not (dest / "pyproject.toml").exists()


def test_cli_data_refusal_says_rocm_is_linux_only(template_dir: Path, tmp_path: Path) -> None:
    """Through the command line, as users script it; copier prints the refusal last."""
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "copier",
            "copy",
            "--defaults",
            "--data",
            "accelerator_mode=platform",
            "--data",
            f"backend_windows_x86_64={_ROCM}",
            str(template_dir),
            str(tmp_path / "project"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode != 0
    last = run.stderr.strip().splitlines()[-1]
    assert "ROCm builds exist only for linux-x86_64" in last, run.stderr
    assert not (tmp_path / "project" / "pyproject.toml").exists()


@pytest.mark.parametrize(
    "text",
    ['He said "hi"', "back\\slash and C:\\path", "O'Brien & <co>", "tab\there", "ünïcödé ✓"],
)
def test_free_text_answers_give_valid_toml(template_dir: Path, tmp_path: Path, text: str) -> None:
    project = render(template_dir, tmp_path / "project", {"description": text, "author_name": text})
    pyproject = pyproject_of(project)
    assert pyproject["project"]["description"] == text
    assert pyproject["project"]["authors"] == [{"name": text}]
    init = (project / "src" / "project" / "__init__.py").read_text(encoding="utf-8")
    compile(init, "__init__.py", "exec")


def test_accepted_index_urls(template_dir: Path, tmp_path: Path) -> None:
    # Platform mode's main build, as the data names it (PyPI's Linux build of the default).
    main = _COMPAT.newest_verified().pypi_build["linux-x86_64"]
    for n, url in enumerate(
        [
            "https://mirror.example.org:8443/pytorch/whl/",
            "http://10.0.0.5/whl",
            "file:///srv/share/whl",
            "file:///C:/pytorch/whl",
        ]
    ):
        project = render(template_dir, tmp_path / str(n), {**PLATFORM, "pytorch_index_url": url})
        pyproject = tomllib.loads((project / "pyproject.toml").read_text())
        urls = {i["url"] for i in pyproject["tool"]["uv"]["index"]}
        assert urls == {url.rstrip("/") + f"/{main}"}, urls


def test_a_windows_share_mirror_renders_validates_and_locks(
    template_dir: Path, tmp_path: Path, stand_in: Path, uv_bin: str
) -> None:
    """file:///C:/... as a Windows user answers it: pyproject.toml is valid, and the lock of the
    configuration works once each index reaches a share. This machine has no C: drive, so each
    index is re-pointed with `uv lock --index`, which drops `explicit`: the stand-in's decoys
    are then exempt from the date pin like its other files."""
    from validate_pyproject import api

    from tests.support.interpreters import python_for
    from tests.support.lock import run_lock
    from tests.support.project import answers_of
    from tests.support.stand_in import DECOYS

    data = {**PLATFORM, "backend_windows_x86_64": "cpu", "pytorch_index_url": "file:///C:/pytorch/whl"}
    project = render(template_dir, tmp_path / "project", data)
    pyproject = pyproject_of(project)
    api.Validator()(pyproject)
    names = [i["name"] for i in pyproject["tool"]["uv"]["index"]]
    assert all(i["url"].startswith("file:///C:/pytorch/whl/") for i in pyproject["tool"]["uv"]["index"])
    repoint = [arg for name in names for arg in
               ("--index", f"{name}={stand_in.as_uri()}/{name.removeprefix('pytorch-')}")]
    python = python_for(uv_bin, answers_of(project)["python_min"])
    exempt = [arg for decoy in DECOYS for arg in ("--exclude-newer-package", f"{decoy}=false")]
    result = run_lock(uv_bin, project, python, _COMPAT, *repoint, *exempt)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("folder", "project_name", "package_name"),
    [
        ("My Model", "my-model", "my_model"),
        ("0day", "0day", "_0day"),
        ("--", "my-torch-project", "my_torch_project"),
        # A folder named like a dependency: the project cannot be named after it.
        ("torch", "my-torch", "my_torch"),
        ("Typing_Extensions", "my-typing_extensions", "my_typing_extensions"),
        # A folder named like a module: the default package name takes a prefix, not the module.
        ("collections", "collections", "my_collections"),
        ("TorchGen", "torchgen", "my_torchgen"),
        # A long folder name: the package name keeps the first 40 characters.
        ("a-very-long-project-name-for-the-protein-folding-experiments",
         "a-very-long-project-name-for-the-protein-folding-experiments",
         "a_very_long_project_name_for_the_protein"),
    ],
)
def test_names_default_from_the_folder(
    template_dir: Path, tmp_path: Path, folder: str, project_name: str, package_name: str
) -> None:
    project = render(template_dir, tmp_path / folder, {})
    assert pyproject_of(project)["project"]["name"] == project_name
    assert (project / "src" / package_name / "__init__.py").is_file()
