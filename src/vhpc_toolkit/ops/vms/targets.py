"""Which VMs a command acts on: `--vm NAME` or `--file FILE` (one name per line), read in one go."""
from __future__ import annotations

from typing import Iterable

from vhpc_toolkit.errors import InputError, VhpcError, refuse_problems
from vhpc_toolkit.files import read_text
from vhpc_toolkit.vsphere.inventory import Inventory, Obj, read_inventory

HOST_PROPS = ["summary.hardware.cpuMhz"]


def read_vm_file(path: str, what: str = "VM") -> list[tuple[int, list[str]]]:
    """Lines of a VM (or host) list file as (line number, whitespace-split fields); blanks and # comments
    skipped."""
    text = read_text(path, f"{what} list")
    rows = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if line:
            rows.append((number, line.split()))
    if not rows:
        raise InputError(f"{path}: no {what} names in the file")
    return rows


def target_names(vm: str | list[str] | None, file: str | None) -> list[tuple[str, str]]:
    """(name, where) pairs, each name once; ``where`` locates the name for error messages."""
    names, seen = [], set()
    if vm is not None:
        for name in [vm] if isinstance(vm, str) else vm:
            if name not in seen:
                seen.add(name)
                names.append((name, "--vm"))
        return names
    for number, fields in read_vm_file(file):
        name = fields[0]
        if name not in seen:
            seen.add(name)
            names.append((name, f"{file}:{number}"))
    return names


def resolve_vms(inv: Inventory, names: list[tuple[str, str]]) -> list[Obj]:
    """Every name to one VM, or one error listing every name that did not resolve."""
    found, problems = [], []
    for name, where in names:
        try:
            found.append(inv.find("VirtualMachine", name, what="VM"))
        except VhpcError as exc:
            problems.append(f"{where}: {exc}" if where != "--vm" else str(exc))
    refuse_problems(problems)
    return found


def read_targets(session, targets: list[tuple[str, str]], vm_props: Iterable[str],
                 host_props: Iterable[str] = HOST_PROPS,
                 more: dict[str, list[str]] | None = None) -> tuple[Inventory, list[Obj]]:
    """One inventory read with everything the command needs, and the named VMs in it."""
    props = {"VirtualMachine": sorted(set(vm_props) | {"runtime.host"}),
             "HostSystem": sorted(set(host_props))}
    props.update(more or {})
    inv = read_inventory(session, props)
    return inv, resolve_vms(inv, targets)


def host_of(inv: Inventory, vm: Obj) -> Obj | None:
    return inv.by_ref(vm.get("runtime.host"))
