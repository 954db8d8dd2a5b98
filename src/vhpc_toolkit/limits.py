"""What vSphere accepts as names and sizes, checked before anything is sent.

Bounds are vSphere 7.0's configuration maximums for a VM; a value past them is a
typo (``memory: 16000`` meant as MB), so it is refused with the bound named.
"""
from __future__ import annotations

import math
import unicodedata

MAX_NAME = 80             # vCenter refuses longer inventory names (InvalidName)
MAX_VCPUS = 768           # vSphere 7.0 U1+: vCPUs per VM
MAX_MEMORY_GB = 24 * 1024  # vSphere 7.0 U1+: 24 TB per VM
MAX_SHARES = 1_000_000    # custom CPU/memory shares
MIN_MTU, MAX_MTU = 1280, 9000  # a standard or distributed switch's MTU (ESXi; 1500 when not given)
MAX_PASSTHROUGH = 16      # vSphere 7.0: PCI passthrough devices per VM ("up to sixteen")
# vSphere: "Minimum memory size is 4MB for virtual machines that use BIOS firmware. Virtual machines
# that use EFI firmware require at least 96MB of RAM or they cannot power on. The memory size must be
# a multiple of 4MB."
MIN_MEMORY_MB = 4
MIN_EFI_MEMORY_MB = 96


def memory_mb(gb: float) -> int:
    """``gb`` as vSphere takes memory: whole MB, a multiple of 4 MB (rounded down)."""
    mb = int(round(gb * 1024))
    return mb - mb % 4


def memory_problem(gb: float) -> str | None:
    """Why ``gb`` GB of memory is no size vSphere gives a VM, or None."""
    if math.isfinite(gb) and memory_mb(gb) < MIN_MEMORY_MB:
        return f"{gb:g} GB is less than vSphere's minimum of {MIN_MEMORY_MB} MB per VM"
    return None


def name_problem(name: str, what: str = "VM name") -> str | None:
    """Why vCenter would refuse ``name`` for an inventory object, or None."""
    if not name:
        return f"{what} is empty"
    if len(name) > MAX_NAME:
        return f"{what} {name!r} is longer than {MAX_NAME} characters"
    if "/" in name:
        return f"{what} {name!r} contains '/' (vCenter reads it as a folder separator)"
    if any(unicodedata.category(ch) == "Cc" for ch in name):
        return f"{what} {name!r} contains a control character"
    return None


def number_problem(value: float, what: str, maximum: float, minimum: float = 1) -> str | None:
    """Why ``value`` is no usable ``what`` (not finite, below ``minimum``, above ``maximum``), or None."""
    if not math.isfinite(value):
        return f"{what} must be a finite number, not {value}"
    if value < minimum:
        return f"{what} must be at least {minimum:g}, not {value:g}"
    if value > maximum:
        return f"{what} must be at most {maximum:g} (vSphere's maximum), not {value:g}"
    return None
