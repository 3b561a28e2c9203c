"""The doctor's distributed check, run by every rank of a torchrun job:

    uv run torchrun --standalone --nproc-per-node=2 -m <package>.doctor --distributed
    sbatch scripts/slurm.sbatch    (runs it on every node before your command, where rendered)

Each rank reports its host, local rank, device, torch version, build and the hash of the uv.lock
it was synced from; the ranks gather each other's reports and fail when builds, torch versions
or locks differ; an all-reduce and a barrier run with a timeout, and their result and time are
reported. Every rank reaches the same verdict; rank 0 prints it, OK or NOT OK with the reasons,
and --json gives it whole. The backend follows the build: NCCL for CUDA and ROCm, XCCL for XPU
where torch has it, gloo for CPU builds.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import socket
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

TORCHRUN = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")


@dataclass
class RankReport:
    rank: int
    local_rank: int
    host: str
    device: str
    torch: str | None
    build: str | None
    lock: str | None
    problems: list[str] = field(default_factory=list)


@dataclass
class Summary:
    world_size: int
    backend: str
    ranks: list[RankReport]
    all_reduce: str = "not run"
    barrier: str = "not run"
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def under_torchrun(env: Mapping[str, str]) -> bool:
    return all(name in env for name in TORCHRUN)


def launch_hint(package: str) -> str:
    return (
        "--distributed runs under torchrun, on every rank: "
        f"uv run torchrun --standalone --nproc-per-node=2 -m {package}.doctor --distributed "
        "(one machine), or scripts/slurm.sbatch on a Slurm cluster"
    )


def lock_hash(start: Path) -> str | None:
    """The sha256 of the uv.lock in `start` or above it, shortened: ranks synced from different
    locks differ here."""
    for folder in (start, *start.parents):
        lock = folder / "uv.lock"
        if lock.is_file():
            return hashlib.sha256(lock.read_bytes()).hexdigest()[:16]
    return None


def family_of(build: str | None) -> str:
    """cpu, cuda, rocm or xpu: what a build label (cu130, rocm7.2, xpu, cpu) belongs to."""
    build = build or "cpu"
    if build.startswith("cu"):
        return "cuda"
    return next((f for f in ("rocm", "xpu") if build.startswith(f)), "cpu")


def backend_problem(backend: str, dist: Any, build: str | None) -> str | None:
    """Why this torch cannot use `backend`, or None."""
    probe = {
        "gloo": "is_gloo_available",
        "nccl": "is_nccl_available",
        "xccl": "is_xccl_available",
    }.get(backend)
    available = getattr(dist, probe, None) if probe else None
    if available is None or not available():
        return (
            f"the {build or 'installed'} build of torch has no {backend.upper()} backend: "
            "install the build the project configures (uv run <package>-doctor says which), "
            "or pass --backend gloo to check the rendezvous alone"
        )
    return None


def compare(reports: list[RankReport]) -> list[str]:
    """What differs between the ranks, naming them, and each rank's own problems."""
    problems = []
    for key, what in (
        ("build", "builds"),
        ("torch", "torch versions"),
        ("lock", "uv.lock"),
    ):
        values = {getattr(r, key) for r in reports}
        if len(values) > 1:
            problems.append(
                f"the ranks run different {what}: "
                + "; ".join(
                    f"rank {r.rank} on {r.host}: {getattr(r, key)}" for r in reports
                )
                + " (sync every node from the same lock: uv sync --locked)"
            )
    for report in reports:
        problems += [
            f"rank {report.rank} on {report.host}: {p}" for p in report.problems
        ]
    return problems


def _device(torch: Any, family: str, local_rank: int) -> tuple[str, str | None]:
    """The device this rank uses for its build, or the CPU and why not a GPU."""
    if family in ("cuda", "rocm"):
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if local_rank < count:
            torch.cuda.set_device(local_rank)
            return f"cuda:{local_rank}", None
        return "cpu", f"sees {count} GPU(s), so none for local rank {local_rank}"
    if family == "xpu":
        xpu = getattr(torch, "xpu", None)
        count = xpu.device_count() if xpu is not None and xpu.is_available() else 0
        if xpu is not None and local_rank < count:
            xpu.set_device(local_rank)
            return f"xpu:{local_rank}", None
        return "cpu", f"sees {count} XPU(s), so none for local rank {local_rank}"
    return "cpu", None


def _gather_text(torch: Any, text: str, world: int, device: str) -> list[str]:
    """Every rank's `text`, in rank order. By hand, in byte tensors: all_gather_object needs
    NumPy, which torch does not require."""
    dist = torch.distributed
    data = torch.tensor(list(text.encode()), dtype=torch.uint8, device=device)
    size = torch.tensor([data.numel()], dtype=torch.int64, device=device)
    sizes = [torch.zeros(1, dtype=torch.int64, device=device) for _ in range(world)]
    dist.all_gather(sizes, size)
    longest = max(int(s.item()) for s in sizes)
    padded = torch.zeros(longest, dtype=torch.uint8, device=device)
    padded[: data.numel()] = data
    gathered = [
        torch.zeros(longest, dtype=torch.uint8, device=device) for _ in range(world)
    ]
    dist.all_gather(gathered, padded)
    return [
        bytes(g[: int(s.item())].tolist()).decode()
        for g, s in zip(gathered, sizes, strict=True)
    ]


def run(
    torch: Any,
    expected: dict[str, Any],
    build: str | None,
    env: Mapping[str, str],
    timeout: float,
    backend: str | None = None,
) -> Summary:
    """This rank's part of the check; every rank returns the same verdict."""
    dist = torch.distributed
    rank, world = int(env["RANK"]), int(env["WORLD_SIZE"])
    local_rank = int(env["LOCAL_RANK"])
    family = family_of(build)
    chosen = backend or expected["backends"][family]["backend"]
    problems = []
    device, no_device = (
        ("cpu", None) if chosen == "gloo" else _device(torch, family, local_rank)
    )
    if no_device:
        problems.append(no_device)
    unavailable = backend_problem(chosen, dist, build)
    mine = RankReport(
        rank,
        local_rank,
        socket.gethostname(),
        device,
        torch.__version__,
        build,
        lock_hash(Path.cwd()),
        problems,
    )
    summary = Summary(world, chosen, [mine])
    if unavailable:
        # Without the backend there is no collective: each rank reports for itself.
        summary.problems = compare([mine]) + [unavailable]
        return summary
    wait = datetime.timedelta(seconds=timeout)
    try:
        dist.init_process_group(chosen, timeout=wait)
    # torch's DistStoreError and DistNetworkError are RuntimeErrors
    except RuntimeError as error:
        never = (
            f"the rendezvous did not form within {timeout:g} s ({_first_line(error)}): "
            "start every rank with the same command, and check that MASTER_ADDR and "
            "MASTER_PORT reach rank 0"
        )
        summary.problems = [*compare([mine]), never]
        return summary
    try:
        texts = _gather_text(torch, json.dumps(asdict(mine)), world, device)
        summary.ranks = [RankReport(**json.loads(text)) for text in texts]
        summary.problems = compare(summary.ranks)
        tensor = torch.ones(1, device=device)
        started = time.perf_counter()
        dist.all_reduce(tensor)
        total = float(tensor.item())
        elapsed = (time.perf_counter() - started) * 1000
        summary.all_reduce = f"sum {total:g} of {world} ranks in {elapsed:.1f} ms"
        if total != world:
            summary.problems.append(f"all-reduce gave {total:g}, not {world}")
        started = time.perf_counter()
        if chosen == "gloo":
            dist.monitored_barrier(timeout=wait)
        else:
            dist.barrier()
        summary.barrier = f"passed in {(time.perf_counter() - started) * 1000:.1f} ms"
    except RuntimeError as error:  # a rank that exits or hangs midway
        summary.problems.append(f"a collective failed ({_first_line(error)})")
    finally:
        dist.destroy_process_group()
    return summary


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return type(error).__name__ + (": " + text.splitlines()[0] if text else "")


def render(summary: Summary) -> str:
    rows = [f"{'world size':<14} {summary.world_size} ({summary.backend})"]
    for r in sorted(summary.ranks, key=lambda r: r.rank):
        rows.append(
            f"{'rank ' + str(r.rank):<14} {r.host} local {r.local_rank}, {r.device}, "
            f"torch {r.torch} ({r.build}), uv.lock {r.lock or 'not found'}"
        )
    rows += [
        f"{'all-reduce':<14} {summary.all_reduce}",
        f"{'barrier':<14} {summary.barrier}",
    ]
    rows += [f"PROBLEM        {p}" for p in summary.problems]
    rows.append(f"{'result':<14} {'OK' if summary.ok else 'NOT OK'}")
    return "\n".join(rows)
