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
    """The level, and for `high` full CPU and memory reservation, in the same spec."""
    if level not in LEVELS:
        raise ValueError(f"latency level must be high or normal, not {level!r}")
    changes: list[Change] = []
    if level == "high":
        changes += apply_compute(spec, current, ComputeRequest(cpu_reservation=True, memory_reservation=True),
                                 host_mhz)
    return changes + apply_latency_level(spec, current, level)


def apply_latency_level(spec, current: Mapping[str, Any], level: str) -> list[Change]:
    """Only the level: for callers that set the reservations themselves in the same spec."""
    from pyVmomi import vim

    if level not in LEVELS:
        raise ValueError(f"latency level must be high or normal, not {level!r}")
    old = current_level(current)
    if old == level:
        return []
    spec.latencySensitivity = vim.LatencySensitivity(level=level)
    return [Change("latency", old, level)]
