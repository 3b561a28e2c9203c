"""Answers that cannot work are refused when asked (and through --data), each with a message
that names the question and what would work. Nothing else may go wrong: no Jinja error, no
KeyError, no TOML that does not parse, no project rendered from impossible answers."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from tests.rendering import pyproject_of, render

PLATFORM = {"accelerator_mode": "platform"}

# (case, answers, question, phrases the message must contain)
REFUSED: list[tuple[str, dict[str, Any], str, list[str]]] = [
    (
        "rocm-on-windows",
        {**PLATFORM, "backend_windows_x86_64": "rocm7.2"},
        "backend_windows_x86_64",
        [
            "rocm7.2 has no build for windows-x86_64",
            "ROCm builds exist only for linux-x86_64",
            "choose one of: pypi, cpu",
        ],
    ),
    (
        "cu118-on-aarch64",
        {**PLATFORM, "torch_min": "2.4", "backend_linux_aarch64": "cu118"},
        "backend_linux_aarch64",
        [
            "cu118 has no build for linux-aarch64",
            "built only for linux-x86_64, windows-x86_64",
            "choose one of:",
        ],
    ),
    (
        "cuda-on-macos",
        {**PLATFORM, "platforms": ["macos-arm64"], "accelerator": "cu130"},
        "accelerator",
        ["cu130 can serve none of the selected platforms", "CUDA builds exist only for"],
    ),
    (
        "rocm-extra-without-linux",
        {
            "accelerator_mode": "extras",
            "platforms": ["windows-x86_64", "macos-arm64"],
            "extras": ["cpu", "rocm7.2"],
        },
        "extras",
        [
            "rocm7.2 can serve none of the selected platforms",
            "ROCm builds exist only for linux-x86_64",
        ],
    ),
    (
        "cu121-ended",
        {**PLATFORM, "torch_min": "2.6", "backend_linux_x86_64": "cu121"},
        "backend_linux_x86_64",
        ["at or after torch 2.6", "its last is 2.5.1", "torch_min 2.5 or older"],
    ),
    (
        "cu118-ended",
        {**PLATFORM, "torch_min": "2.8", "backend_windows_x86_64": "cu118"},
        "backend_windows_x86_64",
        ["its last is 2.7.1", "torch_min 2.7 or older"],
    ),
    (
        "no-release-fits-python-and-variant",
        {**PLATFORM, "python_min": "3.14", "torch_min": "2.4", "backend_linux_x86_64": "cu118"},
        "backend_linux_x86_64",
        ["supports Python 3.14", "they support 3.8 to 3.13"],
    ),
    (
        "no-release-fits-python",
        {"python_min": "3.10", "torch_min": "2.15"},
        "torch_min",
        ["no torch release from 2.15 on supports Python 3.10", "choose python_min 3.11 or newer"],
    ),
    (
        "no-platforms",
        {"platforms": []},
        "platforms",
        ["select at least one platform: linux-x86_64"],
    ),
    (
        "no-extras",
        {"accelerator_mode": "extras", "extras": []},
        "extras",
        ["select at least one extra, e.g. cpu"],
    ),
    (
        "project-name",
        {"project_name": "my project!"},
        "project_name",
        ["not a valid distribution name", "e.g. my-torch-project"],
    ),
    ("package-name-digit", {"package_name": "1model"}, "package_name", ["not an importable name"]),
    ("package-name-keyword", {"package_name": "class"}, "package_name", ["is a Python keyword"]),
    (
        "package-name-shadows",
        {"package_name": "torch"},
        "package_name",
        ["would shadow the package", "e.g. my_torch"],
    ),
    ("author-email", {"author_email": "someone"}, "author_email", ["not an email address"]),
    (
        "index-url-scheme",
        {**PLATFORM, "pytorch_index_url": "ftp://mirror/whl"},
        "pytorch_index_url",
        ["not an http(s):// or file:/// URL", "e.g."],
    ),
    (
        "index-url-no-scheme",
        {**PLATFORM, "pytorch_index_url": "download.pytorch.org/whl"},
        "pytorch_index_url",
        ["https://download.pytorch.org/whl"],
    ),
    (
        "index-url-empty-host",
        {**PLATFORM, "pytorch_index_url": "https://"},
        "pytorch_index_url",
        ["not an http(s)"],
    ),
    (
        "index-url-space",
        {**PLATFORM, "pytorch_index_url": "https://mirror.example.org/py torch"},
        "pytorch_index_url",
        ["not an http(s)"],
    ),
    (
        "backend-outside-platform-mode",
        {"backend_linux_x86_64": "cu130"},
        "accelerator_mode",
        ["applies only with accelerator_mode=platform, not pypi"],
    ),
    (
        "extras-outside-extras-mode",
        {**PLATFORM, "extras": ["cpu"]},
        "accelerator_mode",
        ["extras applies only with accelerator_mode=extras"],
    ),
    (
        "backend-of-unselected-platform",
        {**PLATFORM, "platforms": ["linux-x86_64"], "backend_windows_x86_64": "cpu"},
        "accelerator_mode",
        ["windows-x86_64 is not among platforms (linux-x86_64)"],
    ),
    (
        "unknown-mode",
        {"accelerator_mode": "conda"},
        "accelerator_mode",
        ["'conda' is not in ['pypi', 'platform', 'extras']"],
    ),
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
            "backend_windows_x86_64=rocm7.2",
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
    for n, url in enumerate(
        [
            "https://mirror.example.org:8443/pytorch/whl/",
            "http://10.0.0.5/whl",
            "file:///srv/share/whl",
        ]
    ):
        project = render(template_dir, tmp_path / str(n), {**PLATFORM, "pytorch_index_url": url})
        pyproject = tomllib.loads((project / "pyproject.toml").read_text())
        urls = {i["url"] for i in pyproject["tool"]["uv"]["index"]}
        assert urls == {url.rstrip("/") + "/cu130"}, urls


@pytest.mark.parametrize(
    ("folder", "project_name", "package_name"),
    [
        ("My Model", "my-model", "my_model"),
        ("0day", "0day", "_0day"),
        ("--", "my-torch-project", "my_torch_project"),
    ],
)
def test_names_default_from_the_folder(
    template_dir: Path, tmp_path: Path, folder: str, project_name: str, package_name: str
) -> None:
    project = render(template_dir, tmp_path / folder, {})
    assert pyproject_of(project)["project"]["name"] == project_name
    assert (project / "src" / package_name / "__init__.py").is_file()


def test_prompt_greys_out_impossible_choices_with_their_reason(
    template_dir: Path, tmp_path: Path
) -> None:
    """In copier's real interactive prompt (driven through a pseudo-terminal), a build that
    cannot work is shown, disabled, with its reason: not silently missing."""
    pexpect = pytest.importorskip("pexpect")
    env = {"TERM": "xterm", "PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path)}
    child = pexpect.spawn(
        sys.executable,
        ["-m", "copier", "copy", str(template_dir), str(tmp_path / "project")],
        dimensions=(60, 400),
        encoding="utf-8",
        timeout=60,
        env=env,
    )
    screen = io.StringIO()
    child.logfile_read = screen
    for question in [
        "Project name",
        "Import name",
        "One-line description",
        "Author name",
        "Author email",
        "License",
        "Oldest Python",
        "Oldest torch",
        "Companion packages",
        "Platforms the project",
    ]:
        child.expect(question)
        child.send("\r")
    child.expect("How the project picks")
    child.send("\x1b[B\r")  # down to "platform"
    for question in ["Main build", "Build for Linux x86_64", "Build for Linux aarch64"]:
        child.expect(question)
        child.send("\r")
    child.expect("Build for Windows x86_64")
    child.expect("ROCm builds exist only for linux-x86_64")
    child.send("\r")
    for question in ["Base URL", "Add GitHub Actions", "Label of a self-hosted"]:
        child.expect(question)
        child.send("\r")
    child.expect(pexpect.EOF)
    shown = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen.getvalue())
    # questionary marks a disabled choice with "- " and shows its reason after the label.
    assert (
        "- rocm7.2 (rocm7.2 has no build for windows-x86_64: ROCm builds exist only for linux-x86_64"
        in shown
    )
    assert (
        "- cu118  (torch 2.4.0 to 2.7.1) (cu118 has no build for windows-x86_64 at or after torch 2.14"
        in shown
    )
    assert "- cu130" not in shown and "cu130  (torch 2.9.0 to 2.15.0)" in shown
    assert (tmp_path / "project" / "pyproject.toml").is_file()
