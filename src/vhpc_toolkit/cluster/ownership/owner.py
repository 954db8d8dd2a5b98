"""What a cluster owns on vCenter, and where its VMs live.

A cluster is its name (``[_CLUSTER_] name:``, else the file's stem): the same file, a copy or an
edited copy with that name manages the same cluster from any folder or machine. What
`cluster --create` makes carries the name (marks.py):

- a VM: extraConfig ``vhpc_toolkit.owner`` in its one CloneSpec (written with the VM itself);
- a distributed switch: a mark line in its description, in its CreateDVS_Task spec;
- a standard switch: a mark port group on it, on each host where the run created it.

None of these needs a custom attribute (a least-privilege user can run a cluster). Marks of earlier
versions (``HOST:/path`` in extraConfig and in custom attributes) are the file's when the path and
machine are this run's: a create takes them over (cluster/ownership/takeover.py).

Which VM is the cluster's: the VM of the file's name in the file's datacenter and folder that
carries no other cluster's mark (vCenter allows one VM of a name per folder). Without
``datacenter:`` the datacenter must be proven (:func:`file_folder`): never guessed.
"""
from __future__ import annotations

from dataclasses import dataclass

from vhpc_toolkit.clusterfile import ClusterSpec, VMSpec
from vhpc_toolkit.errors import InputError, VhpcError
from vhpc_toolkit.marks import OWNER_KEY, Mark, legacy_mark, parse, vm_mark
from vhpc_toolkit.vsphere.inventory import Inventory, Obj

__all__ = ["OWNER_KEY", "Owner", "owner_of", "vm_mark_of", "file_folder", "target_folder", "Unproven"]


@dataclass(frozen=True)
class Owner:
    """The cluster a run acts for: its ``name``, and ``legacy``, the mark earlier versions wrote for
    this file on this machine (their marks are this cluster's)."""

    name: str
    legacy: str = ""

    @property
    def mark(self) -> str:
        """The text of the cluster's mark (what a new VM carries)."""
        return vm_mark(self.name)

    def owns(self, mark: Mark | None) -> bool:
        return mark is not None and (mark.cluster == self.name or (bool(self.legacy) and mark.legacy == self.legacy))

    def is_legacy(self, mark: Mark | None) -> bool:
        """An earlier version's mark of this file: taken over by the next create."""
        return mark is not None and bool(self.legacy) and mark.legacy == self.legacy

    def foreign(self, mark: Mark | None) -> bool:
        """A mark of another cluster (or of another file, or unknown text): never touched."""
        return mark is not None and not self.owns(mark)


def owner_of(spec: ClusterSpec) -> Owner:
    return Owner(spec.name, legacy_mark(spec.path))


def vms_by_name(inv: Inventory) -> dict[str, list[Obj]]:
    """The read's VMs by name (a name may be in several folders: the file's folder decides)."""
    out: dict[str, list[Obj]] = {}
    for o in inv.of_type("VirtualMachine"):
        out.setdefault(o.name, []).append(o)
    return out


def vm_mark_of(vm: Obj) -> Mark | None:
    """The mark a VM carries (read with ``config.extraConfig``), or None."""
    for opt in vm.get("config.extraConfig") or []:
        if opt.key == OWNER_KEY:
            return parse(str(opt.value))
    return None


class Unproven(InputError):
    """Which datacenter holds the file's VMs cannot be proven; nothing was changed (exit 2)."""


def _folder_in(inv: Inventory, dc: Obj, vm: VMSpec) -> Obj | None:
    if vm.vm_folder:
        try:
            return inv.find("Folder", vm.vm_folder, what="VM folder", within=dc)
        except VhpcError:
            return None
    return inv.by_ref(dc.get("vmFolder"))


def _template_dc(inv: Inventory, vm: VMSpec) -> Obj | None:
    """The datacenter of the file's template when its name is one object's, else None."""
    if not vm.template:
        return None
    try:
        return inv.ancestor(inv.find("VirtualMachine", vm.template, what="template"), "Datacenter")
    except VhpcError:
        return None


def target_folder(inv: Inventory, vm: VMSpec, template: Obj | None = None) -> Obj:
    """The folder the file puts ``vm`` in: ``vm_folder`` (else the VM folder) of its ``datacenter``,
    or of the template's, or of the only datacenter. Raises VhpcError (Unproven when several
    datacenters could be meant)."""
    if vm.datacenter:
        dc = inv.find("Datacenter", vm.datacenter, what="datacenter")
    else:
        dc = inv.ancestor(template, "Datacenter") if template is not None else _template_dc(inv, vm)
        dcs = sorted(inv.of_type("Datacenter"), key=lambda d: d.name)
        if dc is None and len(dcs) == 1:
            dc = dcs[0]
        if dc is None:
            if not dcs:
                raise VhpcError("the inventory has no datacenter")
            raise Unproven(f"VM {vm.name}: no datacenter: in the file and the template {vm.template!r} names no "
                           f"single VM: the datacenters {', '.join(d.name for d in dcs)} could be meant; "
                           "give datacenter:")
    if vm.vm_folder:
        return inv.find("Folder", vm.vm_folder, what="VM folder", within=dc)
    folder = inv.by_ref(dc.get("vmFolder"))
    if folder is None:
        raise VhpcError(f"datacenter {dc.name} has no VM folder in the inventory read")
    return folder


def file_folder(inv: Inventory, vm: VMSpec, owner: Owner, same_named: list[Obj]) -> Obj | None:
    """The folder that holds the file's VM ``vm``, proven: None when no datacenter holds a VM of its
    name where the file puts it (nothing of the file's there). ``same_named``: the inventory's VMs
    of that name (read with ``config.extraConfig``). VhpcError when the file's datacenter or folder
    does not exist.

    With ``datacenter:`` (or one datacenter in the inventory) that datacenter's. Without it, the
    datacenter whose folder holds a VM of that name carrying the cluster's mark; else, when none
    carries it, the template's datacenter, if it is the only one holding such a VM. Anything else is
    a guess: Unproven, naming the candidate datacenters."""
    if vm.datacenter or len(inv.of_type("Datacenter")) <= 1:
        return target_folder(inv, vm)     # VhpcError: the file's datacenter or folder does not exist
    found: dict[str, tuple[Obj, Obj, Obj]] = {}     # datacenter moid -> (datacenter, folder, VM)
    for dc in inv.of_type("Datacenter"):
        folder = _folder_in(inv, dc, vm)
        for o in same_named:
            if folder is not None and getattr(o.get("parent"), "_moId", None) == folder.moid \
                    and not o.get("config.template"):
                found[dc.moid] = (dc, folder, o)
    marked = [(dc, folder) for dc, folder, o in found.values() if owner.owns(vm_mark_of(o))]
    if len(marked) == 1:
        return marked[0][1]
    tmpl = _template_dc(inv, vm)
    if not marked and not found:     # no VM of that name anywhere: nothing of the file's exists
        return _folder_in(inv, tmpl, vm) if tmpl is not None else None
    if not marked and tmpl is not None and set(found) == {tmpl.moid}:
        return found[tmpl.moid][1]
    candidates = sorted({dc.name for dc, _ in marked} if marked else
                        {dc.name for dc, _, _ in found.values()} | ({tmpl.name} if tmpl is not None else set()))
    why = "carry the cluster's mark" if marked else "hold a VM of that name and none carries the cluster's mark"
    raise Unproven(f"VM {vm.name}: no datacenter: in the file, and the datacenters {', '.join(candidates)} {why}"
                   f"{'' if marked or tmpl else f' (the template {vm.template!r} names no single VM)'}: "
                   "which is the file's cannot be proven; give datacenter:")


@dataclass
class VMMatch:
    """The file's VM found in its folder (``vm``), or not, and same-named VMs left alone."""

    vm: Obj | None = None
    foreign: Mark | None = None            # the mark of another cluster on the VM in the folder
    elsewhere: list[str] | None = None     # paths of same-named VMs outside the folder
    legacy: bool = False                   # the VM carries an earlier version's mark of this file


def match_vm(inv: Inventory, name: str, folder: Obj, owner: Owner, candidates: list[Obj]) -> VMMatch:
    """The VM named ``name`` in ``folder`` (vCenter allows one), judged by its owner mark."""
    inside = [o for o in candidates if o.get("parent") is not None and o.get("parent")._moId == folder.moid]
    outside = [inv.path(o) for o in candidates if o not in inside]
    match = VMMatch(elsewhere=sorted(outside))
    if inside:
        mark = vm_mark_of(inside[0])
        if owner.foreign(mark):
            match.foreign = mark
        else:
            match.vm, match.legacy = inside[0], owner.is_legacy(mark)
    return match


def elsewhere_note(name: str, folder_path: str, paths: list[str]) -> str:
    return (f"VM {name}: {', '.join(paths)} has the same name outside the file's folder {folder_path}; "
            "not touched")


def foreign_note(name: str, path: str, mark: Mark, owner: Owner) -> str:
    """Said per VM, in words that are the same for every VM of one cause (the folder, not the VM's path),
    so a plan's problems say it once with the VMs it hits (cluster/planning/problems.py)."""
    folder = path.rpartition("/")[0] or "/"
    return (f"VM {name}: belongs to {mark.describe()} (in {folder}), not to cluster {owner.name}; not touched "
            "(cluster --adopt takes such VMs over)")
