"""Where models run and in which precision: the `device` and `dtype` engine arguments, and the CPU's bf16 support."""

from __future__ import annotations

from pathlib import Path

import torch

from service.engines.base import ArgumentError


def pick_device(device: str) -> torch.device:
    """`auto`: CUDA when visible, else CPU. Choosing CUDA also turns off cuDNN attention.

    torch prefers cuDNN's attention kernels on Hopper and Blackwell GPUs, and cuDNN
    builds an execution plan (tens of milliseconds) for every new batch size and key
    length: generation meets a new key length at every decoding step, so each new batch
    size cost ~10 s (measured on an H100). Flash and memory-efficient attention need no plans.
    """
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        chosen = torch.device(device)
    except RuntimeError:
        raise ArgumentError("device", f"must be auto, cpu or cuda[:N], got {device!r}") from None
    if chosen.type == "cuda":
        if not torch.cuda.is_available():
            raise ArgumentError("device", f"{device} was asked for, but no CUDA device is visible")
        torch.backends.cuda.enable_cudnn_sdp(False)
    return chosen


DTYPES = {
    "fp32": torch.float32,
    "float32": torch.float32,
    "fp16": torch.float16,
    "float16": torch.float16,
    "bf16": torch.bfloat16,
    "bfloat16": torch.bfloat16,
}


def pick_dtype(dtype: str, device: torch.device) -> torch.dtype:
    """`auto`: bf16 on CUDA (fp16 where bf16 is missing), fp32 on CPU."""
    if dtype == "auto":
        if device.type != "cuda":
            return torch.float32
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if dtype not in DTYPES:
        raise ArgumentError("dtype", f"must be one of auto, fp32, fp16, bf16, got {dtype!r}")
    return DTYPES[dtype]


def cpu_has_bf16() -> bool:
    """True when the CPU computes bf16 natively (AVX512-BF16 or AMX); emulated bf16 is slower than fp32."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags
