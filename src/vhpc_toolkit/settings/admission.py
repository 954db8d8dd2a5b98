"""vCenter's admission of provisioning operations, as VMware documents it, and the clone times.

Each ESXi 6.x/7.x host has 16 units; an operation is charged on its source host and on its
destination host (both charges on one host when they are the same); a full clone costs 2 units per
side, a linked clone 1; vCenter runs about 640 operations at once, and queues what does not fit
(vSphere docs "Limits on Simultaneous Migrations"; VMware performance blog "vCenter Limits for
Tasks Running at the Same Time", 2021; docs/performance.md). So every clone of one template runs 8
at a time, wherever it goes. The numbers can be set in vCenter.conf (docs/settings.md): a vCenter
with other limits, or ``clone_time`` (seconds a full clone takes) for the plan's estimate.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from typing import Any, Mapping

from vhpc_toolkit.errors import SettingsError

FULL, LINKED, INSTANT = "full", "linked", "instant"

COST_KEYS = ("host_units", "full_clone_cost", "linked_clone_cost", "max_operations")
TIME_KEYS = ("clone_time", "linked_clone_time", "instant_clone_time")
KEYS = COST_KEYS + TIME_KEYS


@dataclass(frozen=True)
class AdmissionModel:
    host_units: int = 16              # per host; 0: no per-host limit
    full_clone_cost: int = 2          # units on each side of a full clone
    linked_clone_cost: int = 1        # units on each side of a linked or an instant clone
    max_operations: int = 640         # operations at once per vCenter; 0: no limit
    clone_time: float | None = None   # seconds a full clone takes once it runs (None: unknown)
    linked_clone_time: float | None = None    # None: a tenth of the clone time
    instant_clone_time: float | None = None   # None: a hundredth of the clone time
    clone_time_source: str = ""       # where clone_time came from, for the plan ("vCenter.conf", ...)

    def cost(self, kind: str) -> int:
        return self.full_clone_cost if kind == FULL else self.linked_clone_cost

    def charges(self, kind: str, source_host: str, dest_host: str) -> dict[str, int]:
        """Units an operation takes, by host: its cost on each side (twice on one host)."""
        out = {source_host: self.cost(kind)}
        out[dest_host] = out.get(dest_host, 0) + self.cost(kind)
        return out

    def duration(self, kind: str) -> float:
        """How long a clone of ``kind`` runs: seconds when the clone time is known, else in clone times."""
        full = self.clone_time or 1.0
        if kind == LINKED:
            return self.linked_clone_time if self.clone_time and self.linked_clone_time else full / 10
        if kind == INSTANT:
            return self.instant_clone_time if self.clone_time and self.instant_clone_time else full / 100
        return full

    def with_clone_time(self, seconds: float | None, source: str) -> "AdmissionModel":
        """The model with a clone time measured or given elsewhere (when none is set)."""
        if self.clone_time is not None or not seconds:
            return self
        return replace(self, clone_time=seconds, clone_time_source=source)


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|min)?\s*$")


def parse_seconds(value: Any, what: str) -> float:
    """A duration: a number of seconds, or a number with s, m (min) or h."""
    if isinstance(value, bool):
        raise SettingsError(f"{what} must be a duration (seconds, or e.g. 4m), not {value!r}")
    if isinstance(value, (int, float)):
        seconds = float(value)
    else:
        match = _DURATION.match(str(value))
        if not match:
            raise SettingsError(f"{what} must be a duration (seconds, or e.g. 90s, 4m, 1h), not {value!r}")
        seconds = float(match.group(1)) * {"h": 3600, "m": 60, "min": 60}.get(match.group(2) or "s", 1)
    if not math.isfinite(seconds) or seconds <= 0:
        raise SettingsError(f"{what} must be a duration above 0, not {value!r}")
    return seconds


def _count(value: Any, what: str, least: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise SettingsError(f"{what} must be a whole number of at least {least}, not {value!r}")
    return value


def parse_admission(conf: Mapping[str, Any], where: str) -> AdmissionModel:
    """The model from vCenter.conf's keys (``where``: the file, for messages); the documented
    numbers for what it does not set."""
    values: dict[str, Any] = {}
    for key in COST_KEYS:
        if conf.get(key) is not None:
            least = 1 if key.endswith("_cost") else 0
            values[key] = _count(conf[key], f"{where}: {key}", least)
    for key in TIME_KEYS:
        if conf.get(key) is not None:
            values[key] = parse_seconds(conf[key], f"{where}: {key}")
    model = AdmissionModel(**values)
    if model.clone_time is not None:
        model = replace(model, clone_time_source=where)
    worst = 2 * max(model.full_clone_cost, model.linked_clone_cost)
    if model.host_units and worst > model.host_units:
        raise SettingsError(f"{where}: host_units {model.host_units} admits no clone to its source's own host "
                            f"(it costs {worst} units)")
    return model


def admission_of(session) -> AdmissionModel:
    """The session's model (vCenter.conf's numbers), else the documented one."""
    return getattr(session, "admission", None) or AdmissionModel()
