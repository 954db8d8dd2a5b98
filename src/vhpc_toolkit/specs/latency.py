"""Latency sensitivity: `high` needs full CPU and memory reservation, set in the same spec."""
from __future__ import annotations

from typing import Any, Mapping

from vhpc_toolkit.specs import Change
from vhpc_toolkit.specs.compute import ComputeRequest, apply_compute

VM_PROPS = ["config.latencySensitivity"]
LEVELS = ("high", "normal")


def current_level(current: Mapping[str, Any]) -> str:
    ls = current.get("config.latencySensitivity")
    return getattr(ls, "level", None) or "normal"


def apply_latency(spec, current: Mapping[str, Any], level: str, host_mhz: int | None) -> list[Change]:
    from pyVmomi import vim

    if level not in LEVELS:
        raise ValueError(f"latency level must be high or normal, not {level!r}")
    changes: list[Change] = []
    if level == "high":
        changes += apply_compute(spec, current, ComputeRequest(cpu_reservation=True, memory_reservation=True),
                                 host_mhz)
    old = current_level(current)
    if old != level:
        spec.latencySensitivity = vim.LatencySensitivity(level=level)
        changes.append(Change("latency", old, level))
    return changes
