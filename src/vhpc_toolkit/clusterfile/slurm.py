"""The ``[_SLURM_]`` section and the Slurm keys of VMs: read and checked with the file (pure code).

``[_SLURM_]`` holds ``key: value`` settings of the whole cluster (docs/slurm.md): the controller the
nodes register with, what a suspended elastic node becomes, Slurm's power-saving timings and the
default partition. The VM keys ``role``, ``partition``, ``features`` and ``elastic`` say what each VM
is to Slurm. Problems are reported with the line of the key (or VM definition) they concern.
"""
from __future__ import annotations

import re
from dataclasses import replace
from typing import Dict, List, Optional

from .model import SlurmSpec, VMSpec
from .syntax import SLURM, _did_you_mean, _Problems, _Section
from .values import BadValue, to_positive_int

_HOST_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$")
SUSPEND_MODES = ("power_off", "destroy")
SLURM_VM_KEYS = ("role", "partition", "features", "elastic")


def _controller(raw: str) -> tuple[str, Optional[int]]:
    host, sep, port = raw.rpartition(":") if ":" in raw else (raw, "", "")
    if not _HOST_RE.match(host):
        raise BadValue("%r is not HOST[:PORT] (a host name or IPv4 address, then an optional port)" % raw)
    if not sep:
        return host, None
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise BadValue("%r: the port must be a number from 1 to 65535" % raw)
    return host, int(port)


def _suspend(raw: str) -> str:
    word = raw.lower().replace("-", "_")
    if word not in SUSPEND_MODES:
        raise BadValue("%r is not one of %s" % (raw, ", ".join(SUSPEND_MODES)))
    return word


def _partition(raw: str) -> str:
    from .values import to_slurm_name

    return to_slurm_name(raw)


_CONVERTERS = {
    "controller": _controller,
    "suspend": _suspend,
    "suspend_time": to_positive_int,
    "resume_timeout": to_positive_int,
    "suspend_timeout": to_positive_int,
    "partition_default": _partition,
}


def read_slurm_section(section: Optional[_Section], problems: _Problems) -> Optional[SlurmSpec]:
    """The ``[_SLURM_]`` section as a SlurmSpec (None without one, or when it is wrong)."""
    if section is None:
        return None
    values: Dict[str, object] = {}
    lines: Dict[str, int] = {SLURM: section.line}
    ok = not section.broken
    for pair in section.pairs:
        where = "[%s] %s" % (SLURM, pair.key)
        convert = _CONVERTERS.get(pair.key)
        if convert is None:
            problems.add(pair.line, "[%s] unknown key %r%s" % (SLURM, pair.key, _did_you_mean(pair.key, list(_CONVERTERS))))
            ok = False
            continue
        if pair.key in lines:
            problems.add(pair.line, "%s is given twice (first on line %d)" % (where, lines[pair.key]))
            ok = False
            continue
        lines[pair.key] = pair.line
        try:
            values[pair.key] = convert(pair.value)
        except BadValue as exc:
            problems.add(pair.line, "%s: %s" % (where, exc))
            ok = False
    if "controller" not in lines:
        problems.add(section.line, "[%s] needs controller: HOST[:PORT] (the slurmctld the nodes register with)" % SLURM)
        ok = False
    if not ok:
        return None
    host, port = values.pop("controller")  # type: ignore[misc]
    return SlurmSpec(controller=host, port=port, lines=lines, **values)  # type: ignore[arg-type]


def slurm_problems(slurm: Optional[SlurmSpec], vms: List[VMSpec], problems: _Problems,
                   section_given: bool) -> Optional[SlurmSpec]:
    """What does not fit together between the VMs' Slurm keys and the ``[_SLURM_]`` section; the
    section with its default partition settled (not given: ``compute`` when a compute node names no
    partition, else the first partition the file names)."""
    seen_lines = set()
    for vm in vms:
        if vm.line in seen_lines:   # the keys are the same for every VM of a line: once per line
            continue
        seen_lines.add(vm.line)
        who = "VM %r" % vm.name
        given = [k for k in SLURM_VM_KEYS if vm.get(k) is not None]
        if given and not section_given:
            problems.add(vm.line, "%s: %s need a [%s] section (the controller the nodes register with)"
                         % (who, ", ".join(given), SLURM))
        if vm.is_login and vm.elastic:
            problems.add(vm.line, "%s: a login node cannot be elastic (users log in to it; elastic nodes exist "
                                  "only while Slurm runs jobs on them)" % who)
        if vm.is_login and vm.partition:
            problems.add(vm.line, "%s: a login node is in no partition (it runs no jobs); remove partition: %s"
                         % (who, ", ".join(vm.partition)))
        if vm.elastic and vm.power == "off":
            problems.add(vm.line, "%s: elastic nodes are powered on and off by Slurm; remove power: off" % who)
    if slurm is None:
        return None
    compute = [vm for vm in vms if not vm.is_login]
    if not compute:
        problems.add(slurm.lines[SLURM], "[%s] the file has no compute node (every VM is role: login)" % SLURM)
        return None
    named = list(dict.fromkeys(p for vm in compute for p in vm.partition or []))
    if "partition_default" not in slurm.lines:
        unnamed = any(not vm.partition for vm in compute)
        return replace(slurm, partition_default="compute" if unnamed or not named else named[0])
    default = slurm.partition_default
    if not any(not vm.partition or default in vm.partition for vm in compute):
        problems.add(slurm.lines["partition_default"], "[%s] partition_default: partition %r has no nodes (every "
                     "compute node names other partitions: %s)" % (SLURM, default, ", ".join(named)))
        return None
    return slurm
