"""What a cluster file owns on vCenter, and where its VMs live.

`cluster --create` marks what it creates with the file's owner mark
(``HOST:/absolute/path/of/the/file``):

- a VM: extraConfig ``vhpc_toolkit.owner`` in its one CloneSpec (written with the VM itself:
  no window without the mark, no extra call);
- a distributed switch: custom attribute ``vhpc_toolkit.owner`` on the switch;
- a standard switch (not a vCenter object of its own): custom attribute
  ``vhpc_toolkit.svs:NAME`` on each host it was created on, the owner mark as its value
  (cluster/switch_marks.py).

`cluster --destroy` destroys a switch only where it carries the file's mark, and a VM only in
the file's datacenter and folder and when it carries no mark or the file's mark. Anything
else of the same name is reported, never touched.
"""
from __future__ import annotations

import os
import socket
from dataclasses import dataclass

from vhpc_toolkit.clusterfile import VMSpec
from vhpc_toolkit.errors import VhpcError
from vhpc_toolkit.vsphere.inventory import Inventory, Obj

OWNER_KEY = "vhpc_toolkit.owner"          # VM extraConfig key; switch custom attribute


def owner_mark(path: str) -> str:
    """The mark of the cluster file at ``path``: this machine and the file's real path."""
    return f"{socket.gethostname()}:{os.path.realpath(path)}"


def vm_owner(vm: Obj) -> str | None:
    """The owner mark a VM carries (read with ``config.extraConfig``), or None."""
    for opt in vm.get("config.extraConfig") or []:
        if opt.key == OWNER_KEY:
            return str(opt.value)
    return None


def target_folder(inv: Inventory, vm: VMSpec, template: Obj | None = None) -> Obj:
    """The folder the file puts ``vm`` in: its ``vm_folder`` in its ``datacenter`` (or the
    template's, or the first), else that datacenter's VM folder. Raises VhpcError."""
    if vm.datacenter:
        dc = inv.find("Datacenter", vm.datacenter, what="datacenter")
    else:
        dc = inv.ancestor(template, "Datacenter") if template is not None else None
        if dc is None and vm.template:
            try:
                dc = inv.ancestor(inv.find("VirtualMachine", vm.template, what="template"), "Datacenter")
            except VhpcError:
                dc = None
        if dc is None:
            dcs = sorted(inv.of_type("Datacenter"), key=lambda d: d.name)
            if not dcs:
                raise VhpcError("the inventory has no datacenter")
            dc = dcs[0]
    if vm.vm_folder:
        return inv.find("Folder", vm.vm_folder, what="VM folder", within=dc)
    folder = inv.by_ref(dc.get("vmFolder"))
    if folder is None:
        raise VhpcError(f"datacenter {dc.name} has no VM folder in the inventory read")
    return folder


@dataclass
class VMMatch:
    """The file's VM found in its folder (``vm``), or not, and same-named VMs left alone."""

    vm: Obj | None = None
    foreign: str | None = None             # the mark of another file on the VM in the folder
    elsewhere: list[str] | None = None     # paths of same-named VMs outside the folder


def match_vm(inv: Inventory, name: str, folder: Obj, mark: str, candidates: list[Obj]) -> VMMatch:
    """The VM named ``name`` in ``folder`` (vCenter allows one), judged by its owner mark."""
    inside = [o for o in candidates if o.get("parent") is not None and o.get("parent")._moId == folder.moid]
    outside = [inv.path(o) for o in candidates if o not in inside]
    match = VMMatch(elsewhere=sorted(outside))
    if inside:
        owner = vm_owner(inside[0])
        if owner is not None and owner != mark:
            match.foreign = owner
        else:
            match.vm = inside[0]
    return match


def elsewhere_note(name: str, folder_path: str, paths: list[str]) -> str:
    return (f"VM {name}: {', '.join(paths)} has the same name outside the file's folder {folder_path}; "
            "not touched")


def foreign_note(name: str, path: str, owner: str) -> str:
    return f"VM {name}: {path} belongs to another cluster file ({owner}); not touched"
