"""Check that the installed PyTorch build is the one this project expects on this machine, and
that it can run on this machine's GPUs.

    uv run <package>-doctor [--json] [--expect BUILD]
    python -m <package>.doctor [--json] [--expect BUILD]

It reports the installed torch, its build and where it came from (read from the distribution's
metadata: a local label such as +cu130 marks the PyTorch index; PyPI's wheels have none), what
the project expects on this platform (expected.json, generated from the template's answers), the
GPUs torch sees, and the NVIDIA driver. For each GPU it compares the compute capability with the
build's architectures (PTX included) and runs a tiny kernel; where the build cannot serve the GPU,
it names the builds that can. It exits 1 when torch is missing or broken, when a CPU build runs
on a machine with a GPU, when the build is not the expected one, when a CUDA build needs a newer
driver, or when a GPU has no kernels in the build. `--expect cpu` checks for another build than
expected.json names, as CI does where it installs CPU builds on runners without a GPU.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import json
import os
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
INDEX = "pytorch-index"
Runner = Callable[..., subprocess.CompletedProcess[str]]


@dataclass
class Gpu:
    index: int
    name: str
    kind: str  # CUDA or ROCm
    arch: str  # sm_120, or gfx90a
    served: bool
    kernel: str  # "ok", or what running one raised
    builds: list[str] = field(
        default_factory=list
    )  # builds whose architectures serve it


@dataclass
class Report:
    project: str
    platform: str | None
    torch: str | None = None
    distribution: str | None = None
    build: str | None = None
    build_source: str | None = None
    expected: dict[str, str] = field(default_factory=dict)
    gpus: list[Gpu] = field(default_factory=list)
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
    expected: dict[str, Any] = json.loads(text)
    return expected


def platform_key(
    expected: dict[str, Any],
    sys_platform: str | None = None,
    machine: str | None = None,
) -> str | None:
    """This machine as the project names platforms (expected.json), e.g. linux-x86_64."""
    sys_platform = sys_platform or sys.platform
    machine = (machine or platform_module.machine()).lower()
    aliases = {"arm64": {"arm64", "aarch64"}, "aarch64": {"aarch64", "arm64"}}
    for name, described in expected["platforms"].items():
        wanted = described["platform_machine"].lower()
        if described["sys_platform"] == sys_platform and machine in aliases.get(
            wanted, {wanted}
        ):
            return str(name)
    return None


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
        # Two clauses, not a tuple: ruff formats `except (A, B):` differently for Python 3.14.
        except OSError:  # it could not start
            return None
        except subprocess.SubprocessError:  # it hung
            return None
        lines = result.stdout.strip().splitlines()
        if result.returncode == 0 and lines:
            return lines[0].strip()
    return None


def amd_gpu_present(root: Path = Path("/")) -> bool:
    """ROCm's kernel driver exposes /dev/kfd."""
    return (root / "dev/kfd").exists()


def distribution_version(name: str = "torch") -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def classify(
    distribution: str | None, cuda: str | None, hip: str | None, xpu: bool
) -> tuple[str, str]:
    """(build, source) of an installed torch: the build (cpu, cuXYZ, rocmX.Y, xpu) and where
    it came from. The distribution's version tells the source: the PyTorch index labels its
    builds (+cpu, +cu130), PyPI's wheels carry no label, whatever torch.__version__ says
    (PyPI's Linux wheels report their CUDA build there, as +cu132)."""
    _, _, label = (distribution or "").partition("+")
    if label:
        return label, INDEX
    if hip:
        return "rocm" + ".".join(hip.split(".")[:2]), PYPI
    if cuda:
        return "cu" + cuda.replace(".", ""), PYPI
    if xpu:
        return "xpu", PYPI
    return "cpu", PYPI


def describe_source(build: str | None, source: str | None) -> str:
    if source == PYPI:
        return f"PyPI's {build} build"
    if source == INDEX:
        return f"the {build} build from the PyTorch index"
    return "unknown build"


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


def serves(capability: tuple[int, int], arch_list: list[str]) -> bool:
    """Whether a CUDA build with these architectures runs on a GPU of this compute capability:
    a binary for the same major version and an equal or lower minor runs (sm_80 on sm_86), PTX
    of an equal or lower version is compiled for it (compute_90 on sm_120); arch-specific
    binaries (sm_90a) run only on their own GPU."""
    major, minor = capability
    for arch in arch_list:
        found = re.fullmatch(r"(sm|compute)_(\d+)(\d)(a?)", arch)
        if not found:
            continue
        kind, arch_major, arch_minor, specific = found.groups()
        number = (int(arch_major), int(arch_minor))
        binary = kind == "sm" and number[0] == major and number[1] <= minor
        ptx = kind == "compute" and number <= capability
        if (number == capability) if specific else (binary or ptx):
            return True
    return False


def serving_builds(
    expected: dict[str, Any], platform: str | None, capability: tuple[int, int]
) -> list[str]:
    """The CUDA builds this project could use on this platform whose architectures, as built
    for this platform (aarch64 builds carry fewer), serve it."""
    available = expected.get("available", {}).get(platform or "", [])
    return [
        str(build)
        for build, by_platform in expected.get("arch", {}).items()
        if build in available
        and serves(capability, by_platform.get(platform or "", []))
    ]


def _run_kernel(torch: ModuleType, device: str) -> str:
    """Run a tiny kernel on `device`: a build without kernels for the GPU fails here with
    "no kernel image is available for execution on the device"."""
    try:
        result = (torch.arange(8, device=device, dtype=torch.float32) * 2).sum().item()
        torch.cuda.synchronize(device)
    # torch raises RuntimeError or its own AcceleratorError; the doctor reports, never crashes
    except Exception as error:  # noqa: BLE001
        return f"{type(error).__name__}: {error}".strip().splitlines()[0]
    return "ok" if result == 56 else f"wrong result {result}"


def gpus(torch: Any, expected: dict[str, Any], platform: str | None) -> list[Gpu]:
    """The GPUs `torch` (the module, or a stand-in with its attributes) sees."""
    found: list[Gpu] = []
    if not torch.cuda.is_available():
        return found
    rocm = bool(getattr(torch.version, "hip", None))
    arch_list = list(torch.cuda.get_arch_list())
    for index in range(torch.cuda.device_count()):
        properties = torch.cuda.get_device_properties(index)
        if rocm:
            arch = str(getattr(properties, "gcnArchName", "")).split(":")[0]
            served = not arch or arch in {a.split(":")[0] for a in arch_list}
            builds: list[str] = []
        else:
            capability = tuple(torch.cuda.get_device_capability(index))
            arch = f"sm_{capability[0]}{capability[1]}"
            served = serves(capability, arch_list)
            builds = serving_builds(expected, platform, capability)
        kernel = _run_kernel(torch, f"cuda:{index}")
        found.append(
            Gpu(
                index,
                str(properties.name),
                "ROCm" if rocm else "CUDA",
                arch,
                served,
                kernel,
                builds,
            )
        )
    return found


def expected_here(
    expected: dict[str, Any],
    platform: str | None,
    torch_version: str | None,
    expect: str | None = None,
) -> dict[str, str]:
    """{set or "": build} this platform should have; PyPI's build resolved where known.
    `expect` names the one build wanted instead (--expect)."""
    if expect:
        return {"": expect}
    wanted: dict[str, str] = dict(expected["builds"].get(platform or "", {}))
    public = (torch_version or "").partition("+")[0]
    pypi = expected["pypi_builds"].get(public, {}).get(platform or "")
    return {
        name: (pypi or PYPI) if build == PYPI else build
        for name, build in wanted.items()
    }


def install_command(expected: dict[str, Any], gpu: bool) -> str:
    sets = expected["sets"]
    if expected["mode"] == "groups":
        if gpu or "cpu" not in sets:
            return "uv sync"
        return "uv sync --no-default-groups --group dev --group cpu"
    if expected["mode"] != "extras":
        return "uv sync"
    choice = next((s for s in sets if s != "cpu"), sets[0]) if gpu else sets[0]
    if not gpu and "cpu" in sets:
        choice = "cpu"
    return f"uv sync --extra {choice}"


def _import_torch() -> tuple[ModuleType | None, str | None]:
    try:
        return importlib.import_module("torch"), None
    # a broken install raises OSError, ImportError and others; the doctor reports them all
    except Exception as error:  # noqa: BLE001
        return None, f"{type(error).__name__}: {error}".splitlines()[0]


def diagnose(
    expected: dict[str, Any],
    torch: Any,
    platform: str | None,
    driver: str | None,
    amd_gpu: bool,
    distribution: str | None = None,
    import_error: str | None = None,
    expect: str | None = None,
) -> Report:
    """The report on `torch` (the module, a stand-in with its attributes, or None where it is
    not installed) as this project expects it on `platform`."""
    report = Report(expected.get("project", ""), platform, nvidia_driver=driver)
    report.distribution = distribution
    system = (platform or "").split("-")[0]
    machine_has_gpu = driver is not None or amd_gpu
    if platform not in expected["builds"]:
        targets = ", ".join(expected["builds"])
        report.problems.append(
            f"this project targets {targets}, not {platform or sys.platform}"
        )
    if torch is None:
        report.expected = expected_here(expected, platform, distribution, expect)
        command = install_command(expected, machine_has_gpu)
        if distribution:
            report.problems.append(
                f"torch {distribution} is installed but does not import ({import_error}): "
                f"reinstall it with `{command}`"
            )
        else:
            report.problems.append(f"torch is not installed: run `{command}`")
        return report

    report.torch = torch.__version__
    xpu = getattr(torch, "xpu", None)
    report.build, report.build_source = classify(
        distribution or torch.__version__,
        getattr(torch.version, "cuda", None),
        getattr(torch.version, "hip", None),
        bool(getattr(torch.version, "xpu", None))
        or (xpu is not None and xpu.is_available()),
    )
    report.expected = expected_here(expected, platform, torch.__version__, expect)
    wanted = set(report.expected.values())
    if (
        wanted
        and report.build not in wanted
        and not (PYPI in wanted and report.build_source == PYPI)
    ):
        builds = " or ".join(sorted(wanted))
        report.problems.append(
            f"torch {report.torch} is {describe_source(report.build, report.build_source)}, "
            f"but this project expects {builds} on {platform}: "
            f"run `{install_command(expected, machine_has_gpu)}`"
        )
    if report.build == "cpu" and machine_has_gpu and system != "macos":
        seen = f"an NVIDIA GPU (driver {driver})" if driver else "an AMD GPU (/dev/kfd)"
        report.problems.append(
            f"torch {report.torch} is a CPU build on a machine with {seen}: install a GPU build"
            + (
                f" (`{install_command(expected, True)}`)"
                if expected["mode"] in ("extras", "groups")
                else ""
            )
        )
    problem = driver_problem(report.build, driver, system, expected["cuda_driver_min"])
    if problem:
        report.problems.append(problem)
    report.gpus = gpus(torch, expected, platform)
    for gpu in report.gpus:
        if gpu.served and gpu.kernel == "ok":
            continue
        where = f"GPU {gpu.index} ({gpu.name}, {gpu.arch})"
        if not gpu.served:
            fix = (
                f"builds that serve it: {', '.join(gpu.builds)}"
                if gpu.builds
                else "no build this project can choose serves it"
            )
            report.problems.append(
                f"{where} is not among the architectures of torch {report.torch} "
                f"({', '.join(torch.cuda.get_arch_list())}): {fix}"
            )
        else:
            report.problems.append(f"{where} did not run a kernel: {gpu.kernel}")
    return report


def _print(report: Report) -> None:
    expected = ", ".join(
        f"{build} ({name})" if name else build
        for name, build in report.expected.items()
    )
    gpus = [
        f"{g.kind} {g.index}: {g.name} ({g.arch}, "
        + ("served" if g.served else "NOT served")
        + f", kernel {g.kernel})"
        for g in report.gpus
    ]
    rows = [
        ("project", report.project),
        ("platform", report.platform or "unknown"),
        (
            "torch",
            f"{report.torch} ({describe_source(report.build, report.build_source)})"
            if report.torch
            else f"{report.distribution} (does not import)"
            if report.distribution
            else "not installed",
        ),
        ("expected", expected or "nothing for this platform"),
        ("GPUs", "; ".join(gpus) or "none seen by torch"),
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
    parser.add_argument(
        "--expect",
        metavar="BUILD",
        help="the build that must be installed here (cpu, cu130, pypi, ...), instead of "
        "the one the project configures for this platform",
    )
    parser.add_argument(
        "--distributed",
        action="store_true",
        help="under torchrun: check that every rank has the same build and lock, and that "
        "an all-reduce and a barrier run",
    )
    parser.add_argument(
        "--backend",
        help="with --distributed: the collective backend (default: the build's; gloo "
        "checks the rendezvous on the CPU)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=120.0,
        help="with --distributed: seconds to wait for the other ranks (default 120)",
    )
    args = parser.parse_args(argv)
    expected = load_expected()
    if args.distributed:
        return _distributed(args, expected)
    torch, import_error = _import_torch()
    report = diagnose(
        expected,
        torch,
        platform_key(expected),
        nvidia_driver(),
        amd_gpu_present(),
        distribution_version(),
        import_error,
        args.expect,
    )
    if args.json:
        print(json.dumps({**asdict(report), "ok": report.ok}, indent=2))
    else:
        _print(report)
    return 0 if report.ok else 1


def _distributed(args: argparse.Namespace, expected: dict[str, Any]) -> int:
    """The check of a torchrun job (cluster.py); rank 0 prints the verdict."""
    from . import cluster

    if not cluster.under_torchrun(os.environ):
        print(cluster.launch_hint(__package__ or "package"), file=sys.stderr)
        return 2
    torch, import_error = _import_torch()
    if torch is None:
        print(f"torch does not import: {import_error}", file=sys.stderr)
        return 1
    build, _ = classify(
        distribution_version() or torch.__version__,
        getattr(torch.version, "cuda", None),
        getattr(torch.version, "hip", None),
        bool(getattr(torch.version, "xpu", None)),
    )
    summary = cluster.run(
        torch, expected, build, os.environ, args.timeout, args.backend
    )
    if os.environ.get("RANK") == "0":
        if args.json:
            print(json.dumps({**asdict(summary), "ok": summary.ok}, indent=2))
        else:
            print(cluster.render(summary))
    return 0 if summary.ok else 1


if __name__ == "__main__":
    sys.exit(main())
