"""Boot and scheduling settings: secure boot, CPU scheduling affinity, NUMA node affinity.

Affinity lists are written as the original toolkit writes them: values and ranges separated by
commas, a range ``first:last`` or ``first:last:step`` with both ends included
(``0, 2, 4:7, 8:12:2`` is 0, 2, 4, 5, 6, 7, 8, 10, 12).
"""
from __future__ import annotations

from typing import Any, Mapping

from vhpc_toolkit.specs import Change
from vhpc_toolkit.words import count

NUMA_AFFINITY = "numa.nodeAffinity"     # extraConfig: the NUMA nodes the VM may use
VM_PROPS = ["config.firmware", "config.bootOptions", "config.cpuAffinity", "config.extraConfig",
            "config.hardware.numCPU", "runtime.powerState", "runtime.host"]


class AffinityError(ValueError):
    """An affinity list that cannot be read."""


def parse_affinity(text: str) -> list[int]:
    """The sorted distinct numbers an affinity list names."""
    out: set[int] = set()
    compact = text.replace(" ", "")
    if not compact:
        raise AffinityError("empty affinity list (give e.g. 0,2,4:7, or --clear)")
    for item in compact.split(","):
        parts = item.split(":")
        if not item or len(parts) > 3 or not all(p.isdigit() for p in parts):
            raise AffinityError(f"{item!r} is not a number or a range first:last[:step]")
        numbers = [int(p) for p in parts]
        if len(numbers) == 1:
            out.add(numbers[0])
            continue
        first, last = numbers[0], numbers[1]
        step = numbers[2] if len(numbers) == 3 else 1
        if last < first:
            raise AffinityError(f"range {item!r} ends before it starts")
        if step < 1:
            raise AffinityError(f"range {item!r} needs a step of at least 1")
        out.update(range(first, last + 1, step))
    return sorted(out)


def compact_ranges(numbers, sep: str = ",") -> str:
    """Distinct numbers as runs: ``0-3,8,10-11`` ("" for none)."""
    parts, start = [], None
    nums = sorted(set(numbers))
    for i, n in enumerate(nums):
        if start is None:
            start = n
        if i + 1 == len(nums) or nums[i + 1] != n + 1:
            parts.append(str(start) if start == n else f"{start}-{n}")
            start = None
    return sep.join(parts)


def format_affinity(numbers: list[int] | None) -> str:
    """Numbers as compact ranges (0-3,8,10-11), or "none"."""
    return compact_ranges(numbers) if numbers else "none"


def secure_boot(current: Mapping[str, Any]) -> bool:
    boot = current.get("config.bootOptions")
    return bool(getattr(boot, "efiSecureBootEnabled", False))


def apply_secure_boot(spec, current: Mapping[str, Any], on: bool) -> list[Change]:
    """EFI secure boot on or off; ValueError for a BIOS VM asked to turn it on."""
    from pyVmomi import vim

    old = secure_boot(current)
    if old == on:
        return []
    firmware = current.get("config.firmware") or "bios"
    if on and firmware != "efi":
        raise ValueError(f"boots with {firmware.upper()} firmware; secure boot needs EFI")
    if current.get("runtime.powerState") == "poweredOn":
        raise ValueError("is powered on; power it off to change secure boot")
    spec.bootOptions = vim.vm.BootOptions(efiSecureBootEnabled=on)
    return [Change("secure_boot", old, on)]


def cpu_affinity(current: Mapping[str, Any]) -> list[int]:
    info = current.get("config.cpuAffinity")
    return sorted(getattr(info, "affinitySet", None) or [])


def _check_affinity(current: Mapping[str, Any], wanted: list[int], limit: int | None, setting: str,
                    counted: str, one: str) -> None:
    """An affinity changes only on a powered-off VM, to numbers its host has (0 to ``limit`` - 1)."""
    if current.get("runtime.powerState") == "poweredOn":
        raise ValueError(f"is powered on; power it off to change its {setting}")
    beyond = [n for n in wanted if limit is not None and n >= limit]
    if beyond:
        raise ValueError(f"its host has {count(limit, counted)} (0-{limit - 1}); no {one} {format_affinity(beyond)}")


def apply_cpu_affinity(spec, current: Mapping[str, Any], cpus: list[int], logical_cpus: int | None) -> list[Change]:
    """Scheduling affinity (``sched.cpu.affinity``) to ``cpus`` (empty: cleared). The VM must be off and
    every CPU one of its host's logical CPUs."""
    from pyVmomi import vim

    old = cpu_affinity(current)
    if old == sorted(cpus):
        return []
    _check_affinity(current, cpus, logical_cpus, "scheduling affinity", "logical CPU", "CPU")
    spec.cpuAffinity = vim.vm.AffinityInfo(affinitySet=sorted(cpus))
    return [Change("cpu_affinity", format_affinity(old), format_affinity(cpus))]


def _extra(current: Mapping[str, Any]) -> dict[str, str]:
    return {o.key: str(o.value) for o in current.get("config.extraConfig") or []}


def numa_affinity(current: Mapping[str, Any]) -> list[int]:
    text = _extra(current).get(NUMA_AFFINITY, "")
    try:
        return parse_affinity(text) if text.strip() else []
    except AffinityError:
        return []


def apply_numa_affinity(spec, current: Mapping[str, Any], nodes: list[int], numa_nodes: int | None) -> list[Change]:
    """``numa.nodeAffinity`` to ``nodes`` (empty: removed). The VM must be off (the setting is read at
    power-on) and every node one of its host's."""
    from pyVmomi import vim

    old = numa_affinity(current)
    if old == sorted(nodes) and (nodes or NUMA_AFFINITY not in _extra(current)):
        return []
    _check_affinity(current, nodes, numa_nodes, "NUMA node affinity", "NUMA node", "node")
    value = ",".join(str(n) for n in sorted(nodes))
    spec.extraConfig = (spec.extraConfig or []) + [vim.option.OptionValue(key=NUMA_AFFINITY, value=value)]
    return [Change("numa_affinity", format_affinity(old), format_affinity(nodes))]
