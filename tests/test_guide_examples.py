"""Each configuration of uv's guide "Using uv with PyTorch" is expressible by a set of answers.

For each example, the guide's TOML is written out as the guide shows it; a project rendered from
the answers must mean the same thing: on every platform (and with every extra), the same build.
Two configurations that both give macOS PyPI's build, or the CPU index's unlabelled macOS wheel,
mean the same: PyPI's macOS wheel is that build.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from compat.model import Compat
from tests.support.project import environment, pyproject_of, render, requirements, source_index

INDEX = """
[[tool.uv.index]]
name = "pytorch-{name}"
url = "https://download.pytorch.org/whl/{variant}"
explicit = true
"""


def guide(body: str, *indexes: tuple[str, str]) -> dict[str, Any]:
    text = body + "".join(INDEX.format(name=n, variant=v) for n, v in indexes)
    return tomllib.loads(text)


def build_of(pyproject: dict[str, Any], compat: Compat, platform: str, extra: str | None) -> str:
    """The build a configuration gives a platform: the variant of its index, or "pypi"."""
    env = environment(compat, platform, "3.12", extra or "")
    scope = ("extra", extra) if extra else None
    names = {r.name for r in requirements(pyproject, scope)}
    assert "torch" in names
    index = source_index(pyproject, "torch", env, scope)
    if index is None:
        return "pypi"
    url = next(i["url"] for i in pyproject["tool"]["uv"]["index"] if i["name"] == index)
    variant = url.rstrip("/").rsplit("/", 1)[1]
    # The CPU index serves macOS the same unlabelled wheel as PyPI.
    return "pypi" if not compat.platforms[platform].labelled and variant == "cpu" else variant


EXAMPLES: dict[str, tuple[dict[str, Any], dict[str, Any], list[str | None]]] = {
    "cpu-only": (
        guide(
            """
[project]
name = "project"
version = "0.1.0"
requires-python = ">=3.12.0"
dependencies = ["torch>=2.7.0", "torchvision>=0.22.0"]

[tool.uv.sources]
torch = [{ index = "pytorch-cpu" }]
torchvision = [{ index = "pytorch-cpu" }]
""",
            ("cpu", "cpu"),
        ),
        {"accelerator_mode": "platform", "accelerator": "cpu"},
        [None],
    ),
    "cuda-with-macos-fallback": (
        guide(
            """
[project]
name = "project"
version = "0.1.0"
requires-python = ">=3.12.0"
dependencies = ["torch>=2.7.0", "torchvision>=0.22.0"]

[tool.uv.sources]
torch = [{ index = "pytorch-cu128", marker = "sys_platform == 'linux' or sys_platform == 'win32'" }]
torchvision = [{ index = "pytorch-cu128", marker = "sys_platform == 'linux' or sys_platform == 'win32'" }]
""",
            ("cu128", "cu128"),
        ),
        {"accelerator_mode": "platform", "accelerator": "cu128", "torch_min": "2.9"},
        [None],
    ),
    "rocm-on-linux-pypi-elsewhere": (
        guide(
            """
[project]
name = "project"
version = "0.1.0"
requires-python = ">=3.12.0"
dependencies = [
  "torch>=2.7.0",
  "torchvision>=0.22.0",
  "pytorch-triton-rocm>=3.3.0 ; sys_platform == 'linux'",
]

[tool.uv.sources]
torch = [{ index = "pytorch-rocm", marker = "sys_platform == 'linux'" }]
torchvision = [{ index = "pytorch-rocm", marker = "sys_platform == 'linux'" }]
pytorch-triton-rocm = [{ index = "pytorch-rocm", marker = "sys_platform == 'linux'" }]
""",
            ("rocm", "rocm6.3"),
        ),
        # The guide's marker also sends Linux aarch64 to ROCm, which has no aarch64 builds.
        {
            "accelerator_mode": "platform",
            "accelerator": "rocm6.3",
            "torch_min": "2.7",
            "platforms": ["linux-x86_64", "windows-x86_64", "macos-arm64"],
        },
        [None],
    ),
    "xpu-with-triton": (
        guide(
            """
[project]
name = "project"
version = "0.1.0"
requires-python = ">=3.12.0"
dependencies = [
  "torch>=2.7.0",
  "torchvision>=0.22.0",
  "pytorch-triton-xpu>=3.3.0 ; sys_platform == 'win32' or sys_platform == 'linux'",
]

[tool.uv.sources]
torch = [{ index = "pytorch-xpu", marker = "sys_platform == 'win32' or sys_platform == 'linux'" }]
torchvision = [{ index = "pytorch-xpu", marker = "sys_platform == 'win32' or sys_platform == 'linux'" }]
pytorch-triton-xpu = [{ index = "pytorch-xpu", marker = "sys_platform == 'win32' or sys_platform == 'linux'" }]
""",
            ("xpu", "xpu"),
        ),
        {
            "accelerator_mode": "platform",
            "accelerator": "xpu",
            "torch_min": "2.7",
            "platforms": ["linux-x86_64", "windows-x86_64", "macos-arm64"],
        },
        [None],
    ),
    "cpu-on-windows-cuda-on-linux": (
        guide(
            """
[project]
name = "project"
version = "0.1.0"
requires-python = ">=3.12.0"
dependencies = ["torch>=2.7.0", "torchvision>=0.22.0"]

[tool.uv.sources]
torch = [
  { index = "pytorch-cpu", marker = "sys_platform != 'linux'" },
  { index = "pytorch-cu128", marker = "sys_platform == 'linux'" },
]
torchvision = [
  { index = "pytorch-cpu", marker = "sys_platform != 'linux'" },
  { index = "pytorch-cu128", marker = "sys_platform == 'linux'" },
]
""",
            ("cpu", "cpu"),
            ("cu128", "cu128"),
        ),
        {
            "accelerator_mode": "platform",
            "torch_min": "2.9",
            "backend_linux_x86_64": "cu128",
            "backend_linux_aarch64": "cu128",
            "backend_windows_x86_64": "cpu",
        },
        [None],
    ),
    "cpu-and-cu124-extras": (
        guide(
            """
[project]
name = "project"
version = "0.1.0"
requires-python = ">=3.12.0"
dependencies = []

[project.optional-dependencies]
cpu = ["torch>=2.5.1", "torchvision>=0.20.1"]
cu124 = ["torch>=2.5.1", "torchvision>=0.20.1"]

[tool.uv]
conflicts = [[{ extra = "cpu" }, { extra = "cu124" }]]

[tool.uv.sources]
torch = [
  { index = "pytorch-cpu", extra = "cpu" },
  { index = "pytorch-cu124", extra = "cu124" },
]
torchvision = [
  { index = "pytorch-cpu", extra = "cpu" },
  { index = "pytorch-cu124", extra = "cu124" },
]
""",
            ("cpu", "cpu"),
            ("cu124", "cu124"),
        ),
        # The guide notes that its cu124 extra cannot install on macOS (no CUDA build there):
        # the template gives macOS PyPI's build instead, so it differs there by design.
        {
            "accelerator_mode": "extras",
            "extras": ["cpu", "cu124"],
            "torch_min": "2.5",
            "platforms": ["linux-x86_64", "windows-x86_64"],
        },
        ["cpu", "cu124"],
    ),
}


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_guide_example_is_expressible(
    name: str, template_dir: Path, tmp_path: Path, compat: Compat
) -> None:
    expected, answers, extras = EXAMPLES[name]
    project = render(template_dir, tmp_path / "project", answers)
    rendered = pyproject_of(project)
    platforms = rendered_platforms = [
        p for p in compat.platforms if p in answers.get("platforms", compat.pypi_platforms())
    ]
    assert rendered_platforms
    for extra in extras:
        for platform in platforms:
            ours = build_of(rendered, compat, platform, extra)
            theirs = build_of(expected, compat, platform, extra)
            assert ours == theirs, f"{name}: {platform} ({extra}): ours {ours}, guide {theirs}"
    # Where the guide needs a Triton package from the index, so does the rendered project (the
    # package of the newest build its bounds allow, which the guide's lower bound also admits).
    for requirement in expected["project"]["dependencies"]:
        if "triton" in requirement:
            assert any("triton" in r for r in rendered["project"]["dependencies"])
            routed = [p for p in rendered["tool"]["uv"]["sources"] if "triton" in p]
            assert routed, rendered["tool"]["uv"]["sources"]
    if len(extras) > 1:
        assert rendered["tool"]["uv"]["conflicts"] == expected["tool"]["uv"]["conflicts"]
