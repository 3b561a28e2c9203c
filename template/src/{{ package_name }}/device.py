"""Pick the best available torch device: CUDA, ROCm, XPU, MPS, then CPU."""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import torch as torch_types

Accelerator = Literal["cuda", "rocm", "xpu", "mps", "cpu"]

# ROCm builds expose AMD GPUs through torch.cuda, under the device type "cuda".
DEVICE_TYPE: dict[Accelerator, str] = {
    "cuda": "cuda",
    "rocm": "cuda",
    "xpu": "xpu",
    "mps": "mps",
    "cpu": "cpu",
}


def _torch(module: ModuleType | None) -> ModuleType:
    """The module given (tests pass stand-ins), or torch itself."""
    return module if module is not None else importlib.import_module("torch")


def accelerator(torch_module: ModuleType | None = None) -> Accelerator:
    """The best accelerator this torch build can use on this machine."""
    torch = _torch(torch_module)
    if torch.cuda.is_available():
        return "rocm" if getattr(torch.version, "hip", None) else "cuda"
    xpu = getattr(torch, "xpu", None)
    if xpu is not None and xpu.is_available():
        return "xpu"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"


def best_device(torch_module: ModuleType | None = None) -> torch_types.device:
    """The torch.device to put tensors on."""
    torch = _torch(torch_module)
    return torch.device(DEVICE_TYPE[accelerator(torch)])
