"""The compute precisions rx offers, by name (declared once: encoding, training and evaluation options take their
choices from here; ``encoding.loader.PRECISIONS`` maps each to its torch dtype), and ``auto``: bfloat16 where the
hardware computes it natively (a GPU, or a CPU with AVX512_BF16 or AMX_BF16), float32 elsewhere.

No torch here: the CPU's flags are read from ``/proc/cpuinfo`` (Linux; elsewhere none are known and ``auto`` keeps
float32)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from retrieval_xfer.machine import cpu_flags

PRECISION_NAMES = ("float32", "bfloat16", "float16")
PRECISION_CHOICES = ("auto", *PRECISION_NAMES)  # what a --precision option accepts
NATIVE_BF16_FLAGS = ("amx_bf16", "avx512_bf16")  # CPU flags with bfloat16 dot products in hardware

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PrecisionChoice:
    """The precision that runs (``name``) and why (``reason``: what was asked and what the hardware has)."""

    name: str
    reason: str


def choose_precision(requested: str, device: str, flags: frozenset[str] | None = None) -> PrecisionChoice:
    """The precision ``requested`` (a name or ``auto``) runs at on ``device`` (``cpu``, ``cuda...``, ``mps``),
    given the CPU's ``flags`` (default: this machine's). ``auto``: bfloat16 on a GPU and on a CPU with native
    bfloat16, float32 elsewhere; it never fails. bfloat16 asked for on a CPU without it is allowed (torch emulates
    it) with a one-line warning that it will be slower."""
    flags = cpu_flags() if flags is None else flags
    native = next((flag for flag in NATIVE_BF16_FLAGS if flag in flags), None)
    on_cpu = device.split(":")[0] == "cpu"
    if requested != "auto":
        if requested == "bfloat16" and on_cpu and native is None:
            logger.warning(
                "--precision bfloat16 on a CPU without native bfloat16 (no avx512_bf16 or amx_bf16): torch "
                "emulates it, which is slower than float32"
            )
        return PrecisionChoice(requested, "asked for")
    if device.split(":")[0] == "cuda":
        return PrecisionChoice("bfloat16", "auto: a GPU")
    if on_cpu and native is not None:
        return PrecisionChoice("bfloat16", f"auto: the CPU has {native}")
    if on_cpu:
        return PrecisionChoice("float32", "auto: the CPU has no native bfloat16 (avx512_bf16 or amx_bf16)")
    return PrecisionChoice("float32", f"auto: {device}")
