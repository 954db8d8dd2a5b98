"""What each VM of a file must have to itself, after every range is expanded: its static IP and its
guest host name (VM names are checked as they are read). Two VMs with one address would both come
up and fight over it; the file is refused instead, naming every VM that shares the value and where."""
from __future__ import annotations

from typing import Dict, List, Optional

from vhpc_toolkit.namelists import compact_names
from vhpc_toolkit.specs.customization import default_hostname

from .model import VMSpec
from .syntax import _Problems


def static_ip(vm: VMSpec) -> Optional[str]:
    """The static address the file gives the VM (None with DHCP)."""
    return vm.ip if vm.ip and not vm.is_dhcp else None


def guest_name(vm: VMSpec) -> Optional[str]:
    """The guest host name the VM gets: ``guest_hostname``, else (when customized) its VM name made one.
    Host names are compared without case, as DNS does."""
    customized = bool(vm.port_group and (vm.is_dhcp or vm.ip))
    name = vm.guest_hostname or (default_hostname(vm.name) if customized else None)
    return name.lower() if name else None


CHECKS: List[tuple] = [("ip", static_ip), ("guest host name", guest_name)]


def unique_problems(file: str, vms: List[VMSpec], problems: _Problems,
                    checks: List[tuple] = CHECKS) -> None:
    """One problem per value two or more VMs share, at the line of its second VM, naming all of them
    with their FILE:LINE."""
    for what, value_of in checks:
        holders: Dict[str, List[VMSpec]] = {}
        for vm in vms:
            value = value_of(vm)
            if value:
                holders.setdefault(value, []).append(vm)
        for value, shared in holders.items():
            if len(shared) > 1:
                problems.add(shared[1].line, "%s %s is given to %d VMs: %s; each VM needs its own"
                             % (what, value, len(shared), _where(file, shared)))


def _where(file: str, vms: List[VMSpec]) -> str:
    """``node1..node3 (f.conf:5), login (f.conf:9)``: the VMs grouped by their line."""
    by_line: Dict[int, List[str]] = {}
    for vm in vms:
        by_line.setdefault(vm.line, []).append(vm.name)
    return ", ".join("%s (%s:%d)" % (compact_names(names), file, line) for line, names in by_line.items())


__all__: List[str] = ["unique_problems", "static_ip", "guest_name"]
