"""Check that the installed PyTorch build is the one this project expects on this machine.

    uv run <package>-doctor [--json]
    python -m <package>.doctor [--json]

It reports the installed torch and its build, what the project expects on this platform (from
the template answers, in expected.json), the GPUs torch sees and the NVIDIA driver. It exits 1
when torch is missing, when a CPU build runs on a machine with a GPU, when the build is not the
expected one, or when a CUDA build needs a newer NVIDIA driver than the machine has.
"""

from __future__ import annotations

import argparse
import importlib
import json
import platform as platform_module
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from types import ModuleType
from typing import Any

PYPI = "pypi"
Runner = Callable[..., subprocess.CompletedProcess[str]]


@dataclass
class Report:
    project: str
    platform: str | None
    torch: str | None = None
    build: str | None = None
    build_source: str | None = None
    expected: dict[str, str] = field(default_factory=dict)
    gpus: list[str] = field(default_factory=list)
    nvidia_driver: str | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def load_expected() -> dict[str, Any]:
    text = (
        resources.files(__package__)
        .joinpath("expected.json")
        .read_text(encoding="utf-8")
    )
    return json.loads(text)


def platform_key(
    sys_platform: str | None = None, machine: str | None = None
) -> str | None:
    """This machine as the template names platforms, e.g. linux-x86_64; None if it has no name."""
    system = {"linux": "linux", "win32": "windows", "darwin": "macos"}.get(
        sys_platform or sys.platform
    )
    arch = {
        "x86_64": "x86_64",
        "amd64": "x86_64",
        "aarch64": "aarch64",
        "arm64": "arm64",
    }.get((machine or platform_module.machine()).lower())
    if system is None or arch is None:
        return None
    if system == "linux" and arch == "arm64":
        arch = "aarch64"
    return f"{system}-{arch}"


def nvidia_driver(root: Path = Path("/"), run: Runner = subprocess.run) -> str | None:
    """The NVIDIA driver version, read as uv reads it: the kernel module, then nvidia-smi."""
    module = root / "sys/module/nvidia/version"
    if module.is_file():
        return module.read_text(encoding="utf-8").strip() or None
    proc = root / "proc/driver/nvidia/version"
    if proc.is_file():
        found = re.search(
            r"Kernel Module.*?\s([0-9]+\.[0-9][0-9.]*)",
            proc.read_text(encoding="utf-8"),
        )
        if found:
            return found.group(1)
    if shutil.which("nvidia-smi"):
        query = ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"]
        try:
            result = run(query, capture_output=True, text=True, timeout=20, check=False)
        except (OSError, subprocess.SubprocessError):
            return None
        lines = result.stdout.strip().splitlines()
        if result.returncode == 0 and lines:
            return lines[0].strip()
    return None


def amd_gpu_present(root: Path = Path("/")) -> bool:
    """ROCm's kernel driver exposes /dev/kfd."""
    return (root / "dev/kfd").exists()


def classify(
    version: str, cuda: str | None, hip: str | None, xpu: bool
) -> tuple[str, str]:
    """(build, source) of a torch version: cpu, cuXYZ, rocmX.Y or xpu; from the PyTorch index
    (local label) or PyPI's own build (no label)."""
    _, _, label = version.partition("+")
    if label:
        return label, "pytorch-index"
    if hip:
        return "rocm" + ".".join(hip.split(".")[:2]), PYPI
    if cuda:
        return "cu" + cuda.replace(".", ""), PYPI
    if xpu:
        return "xpu", PYPI
    return "cpu", PYPI


def _version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"[0-9]+", version))


def driver_problem(
    build: str,
    driver: str | None,
    system: str,
    cuda_driver_min: dict[str, dict[str, str]],
) -> str | None:
    """Why the NVIDIA driver cannot run a CUDA build, or None."""
    if not build.startswith("cu") or driver is None:
        return None
    major = build[2:-1]
    minimum = cuda_driver_min.get(major, {}).get(system)
    if minimum and _version_tuple(driver) < _version_tuple(minimum):
        return (
            f"{build} needs NVIDIA driver {minimum} or newer on {system}; this machine has "
            f"{driver}: update the driver, or switch to an older CUDA build "
            "(copier update --data ...)"
        )
    return None


def expected_here(
    expected: dict[str, Any], platform: str | None, torch_version: str | None
) -> dict[str, str]:
    """{extra or "": build} this platform should have; PyPI's build resolved where known."""
    wanted = dict(expected["builds"].get(platform or "", {}))
    public = (torch_version or "").partition("+")[0]
    pypi = expected["pypi_builds"].get(public, {}).get(platform or "")
    return {
        extra: (pypi or PYPI) if build == PYPI else build
        for extra, build in wanted.items()
    }


def install_command(expected: dict[str, Any], gpu: bool) -> str:
    if expected["mode"] != "extras":
        return "uv sync"
    extras = expected["extras"]
    choice = next((e for e in extras if e != "cpu"), extras[0]) if gpu else extras[0]
    if not gpu and "cpu" in extras:
        choice = "cpu"
    return f"uv sync --extra {choice}"


def _import_torch() -> ModuleType | None:
    try:
        return importlib.import_module("torch")
    except ImportError:
        return None


def _gpus(torch: ModuleType) -> list[str]:
    found = []
    if torch.cuda.is_available():
        kind = "ROCm" if getattr(torch.version, "hip", None) else "CUDA"
        found += [
            f"{kind}: {torch.cuda.get_device_name(i)}"
            for i in range(torch.cuda.device_count())
        ]
    xpu = getattr(torch, "xpu", None)
    if xpu is not None and xpu.is_available():
        found += [f"XPU: {xpu.get_device_name(i)}" for i in range(xpu.device_count())]
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        found.append("MPS: Apple GPU")
    return found


def diagnose(
    expected: dict[str, Any],
    torch: ModuleType | None,
    platform: str | None,
    driver: str | None,
    amd_gpu: bool,
) -> Report:
    report = Report(expected.get("project", ""), platform, nvidia_driver=driver)
    system = (platform or "").split("-")[0]
    machine_has_gpu = driver is not None or amd_gpu
    if platform not in expected["builds"]:
        targets = ", ".join(expected["builds"])
        report.problems.append(
            f"this project targets {targets}, not {platform or sys.platform}"
        )
    if torch is None:
        report.expected = expected_here(expected, platform, None)
        command = install_command(expected, machine_has_gpu)
        report.problems.append(f"torch is not installed: run `{command}`")
        return report

    report.torch = torch.__version__
    xpu = getattr(torch, "xpu", None)
    report.build, report.build_source = classify(
        torch.__version__,
        getattr(torch.version, "cuda", None),
        getattr(torch.version, "hip", None),
        bool(getattr(torch.version, "xpu", None))
        or (xpu is not None and xpu.is_available()),
    )
    report.gpus = _gpus(torch)
    report.expected = expected_here(expected, platform, torch.__version__)
    wanted = set(report.expected.values())
    if (
        wanted
        and report.build not in wanted
        and not (PYPI in wanted and report.build_source == PYPI)
    ):
        builds = " or ".join(sorted(wanted))
        report.problems.append(
            f"torch {report.torch} is a {report.build} build, but this project expects {builds} "
            f"on {platform}: run `{install_command(expected, machine_has_gpu)}`"
        )
    if report.build == "cpu" and machine_has_gpu and system != "macos":
        gpu = f"an NVIDIA GPU (driver {driver})" if driver else "an AMD GPU (/dev/kfd)"
        report.problems.append(
            f"torch {report.torch} is a CPU build on a machine with {gpu}: install a GPU build"
            + (
                f" (`{install_command(expected, True)}`)"
                if expected["mode"] == "extras"
                else ""
            )
        )
    problem = driver_problem(report.build, driver, system, expected["cuda_driver_min"])
    if problem:
        report.problems.append(problem)
    return report


def _print(report: Report) -> None:
    expected = ", ".join(
        f"{build} (extra {extra})" if extra else build
        for extra, build in report.expected.items()
    )
    source = {"pytorch-index": "from the PyTorch index", PYPI: "PyPI's build"}.get(
        report.build_source or "", ""
    )
    rows = [
        ("project", report.project),
        ("platform", report.platform or "unknown"),
        (
            "torch",
            f"{report.torch} ({report.build}, {source})"
            if report.torch
            else "not installed",
        ),
        ("expected", expected or "nothing for this platform"),
        ("GPUs", ", ".join(report.gpus) or "none seen by torch"),
        ("NVIDIA driver", report.nvidia_driver or "not found"),
    ]
    for name, value in rows:
        print(f"{name:<14} {value}")
    for problem in report.problems:
        print(f"PROBLEM        {problem}")
    print(f"{'result':<14} {'OK' if report.ok else 'NOT OK'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog=f"{__package__}-doctor",
        description="Check that the installed PyTorch build is the one this project expects.",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    report = diagnose(
        load_expected(),
        _import_torch(),
        platform_key(),
        nvidia_driver(),
        amd_gpu_present(),
    )
    if args.json:
        print(json.dumps({**asdict(report), "ok": report.ok}, indent=2))
    else:
        _print(report)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
