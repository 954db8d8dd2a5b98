"""`cluster --adopt --file F`: the file's VMs and switches that carry another cluster's mark take
this cluster's (e.g. after ``[_CLUSTER_] name:`` was changed, or a copy of the file was renamed).

Candidates, and nothing else (adopt never grabs what the file does not name):

- a VM of one of the file's VM names, in the file's datacenter and folder (as `--destroy` finds
  it), carrying another mark (another cluster's, another file's from an earlier version, or text
  that is no mark); templates never. VMs of the file's naming pattern that the file no longer lists
  are not candidates: another cluster may share the folder and the pattern.
- a standard switch of the file's, on the file's hosts for it, carrying another cluster's mark
  (port group or earlier attribute); an unmarked switch (vSwitch0, one made by hand) never.
- a distributed switch of the file's name (in its ``datacenter:``) carrying another mark.

The command lists them and asks (on a terminal; ``--yes`` otherwise). Nothing else in the toolkit
ever changes a mark that is not the cluster's own.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vhpc_toolkit.cluster.ownership.owner import Owner, Unproven, file_folder, match_vm, owner_of, vms_by_name
from vhpc_toolkit.cluster.ownership.remark import remark_dvs, remark_svs, remark_vms
from vhpc_toolkit.cluster.ownership.switch_marks import DVS_PROPS, HOST_PROPS, all_names, dvs_mark_on, dvs_named, svs_mark_on
from vhpc_toolkit.clusterfile import ClusterSpec
from vhpc_toolkit.errors import ValidationFailed, VhpcError
from vhpc_toolkit.marks import Mark
from vhpc_toolkit.results import CHANGED, FAILED, SWITCH, VM, Report, TargetResult
from vhpc_toolkit.specs import Change
from vhpc_toolkit.vsphere import hostnet
from vhpc_toolkit.vsphere.fields import MARK_PROPS
from vhpc_toolkit.vsphere.inventory import Inventory, Obj, read_inventory
from vhpc_toolkit.words import count


@dataclass
class Candidate:
    name: str
    kind: str          # vm | svs | dvs
    mark: Mark         # the mark it carries now
    objs: list[Obj]    # the VM, the DVS, or the hosts of a standard switch
    spec: Any = None   # the file's SwitchSpec


@dataclass
class Adoption:
    owner: Owner
    inv: Inventory
    candidates: list[Candidate] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.candidates

    def summary(self) -> str:
        vms = sum(c.kind == "vm" for c in self.candidates)
        switches = len(self.candidates) - vms
        return " and ".join(p for p in (count(vms, "VM") if vms else "", count(switches, "switch") if switches else "")
                            if p)

    def datacenter(self) -> Obj | None:
        """Where the run is recorded: the adopted objects' datacenter."""
        for c in self.candidates:
            dc = self.inv.ancestor(c.objs[0], "Datacenter")
            if dc is not None:
                return dc
        return None


def plan_adopt(session, spec: ClusterSpec) -> Adoption:
    inv = read_inventory(session, {"VirtualMachine": ["config.template", "config.extraConfig"],
                                   "Datacenter": ["vmFolder", *MARK_PROPS], "HostSystem": HOST_PROPS,
                                   "DistributedVirtualSwitch": DVS_PROPS})
    owner = owner_of(spec)
    adoption = Adoption(owner, inv)
    by_name = vms_by_name(inv)
    unproven = []
    for vm in spec.vms:
        try:
            folder = file_folder(inv, vm, owner, by_name.get(vm.name, []))
        except Unproven as exc:
            unproven.append(f"{spec.path}:{vm.line}: {exc}")
            continue
        except VhpcError as exc:
            adoption.notes.append(f"VM {vm.name}: {exc}")
            continue
        match = match_vm(inv, vm.name, folder, owner, by_name.get(vm.name, [])) if folder is not None else None
        if match is not None and match.foreign is not None:
            o = next(o for o in by_name[vm.name] if getattr(o.get("parent"), "_moId", None) == folder.moid)
            if o.get("config.template"):
                adoption.notes.append(f"{inv.path(o)} is a template: not adopted")
            else:
                adoption.candidates.append(Candidate(vm.name, "vm", match.foreign, [o]))
    if unproven:
        raise ValidationFailed(list(dict.fromkeys(unproven)))
    _switch_candidates(adoption, spec)
    return adoption


def _switch_candidates(adoption: Adoption, spec: ClusterSpec) -> None:
    inv, owner, names = adoption.inv, adoption.owner, all_names(adoption.inv)
    for sw in spec.svs:
        marked = [(h, svs_mark_on(h, sw.name, names)) for h in inv.of_type("HostSystem")
                  if h.name in sw.host and hostnet.standard_switch(h, sw.name) is not None]
        foreign = [(h, m) for h, m in marked if owner.foreign(m)]
        if foreign:
            adoption.candidates.append(Candidate(sw.name, "svs", foreign[0][1], [h for h, _ in foreign], sw))
    for sw in spec.dvs:
        for o in dvs_named(inv, sw):
            mark = dvs_mark_on(o, names)
            if owner.foreign(mark):
                adoption.candidates.append(Candidate(sw.name, "dvs", mark, [o], sw))


def adopt(session, adoption: Adoption) -> Report:
    """Put the cluster's mark on every candidate; one result per VM or switch."""
    owner, results = adoption.owner, []
    vms = [c for c in adoption.candidates if c.kind == "vm"]
    remarked = remark_vms(session, [c.objs[0] for c in vms], owner.mark)
    moved: set[tuple[str, str | None]] = set()   # listing.Marked keys of what now carries this cluster's mark
    for c in adoption.candidates:
        failed: dict[str, str] = {}   # a standard switch's hosts whose mark stayed
        if c.kind == "vm":
            why = remarked.failed.get(c.name)
        elif c.kind == "dvs":
            why = remark_dvs(session, adoption.inv, c.objs[0], owner.name)
        else:
            failed = remark_svs(session, adoption.inv, c.name, c.objs, owner.name)
            why = "; ".join(f"{h}: {w}" for h, w in failed.items()) or None
        if c.kind == "svs" or not why:
            moved |= _keys(c, failed)
        where = {"svs": f"standard switch on {', '.join(h.name for h in c.objs)}: ", "dvs": "distributed switch: ",
                 "vm": ""}[c.kind]
        results.append(TargetResult(
            c.name, FAILED if why else CHANGED,
            why or f"{where}{c.mark.describe()} before, now cluster {owner.name}",
            changes=[] if why else [Change("owner", c.mark.describe(), f"cluster {owner.name}")],
            kind=VM if c.kind == "vm" else SWITCH))
    _forget_emptied(session, adoption.inv, {c.mark.cluster for c in adoption.candidates if c.mark.cluster}, moved)
    return Report(f"cluster adopt ({owner.name})", results, done="adopted",
                  nothing=f"nothing to adopt: every VM and switch of the file is cluster {owner.name}'s or absent")


def _keys(c: Candidate, failed: dict[str, str]) -> set[tuple[str, str | None]]:
    """The listing.Marked keys of a candidate re-marked (of a standard switch, on the hosts not failed)."""
    if c.kind == "svs":
        return {(h.moid, c.name) for h in c.objs if h.name not in failed}
    return {(c.objs[0].moid, c.objs[0].name if c.kind == "dvs" else None)}


def _forget_emptied(session, inv: Inventory, previous: set[str], moved: set[tuple[str, str | None]]) -> None:
    """The last-run records of clusters the adoption left without anything: what ``inv`` (the
    adoption's read, listing.PROPS and more) holds of them, but what was just re-marked."""
    from vhpc_toolkit.cluster.ownership.listing import clusters_of
    from vhpc_toolkit.cluster.ownership.runs import forget_run

    left = {c.name for c in clusters_of(inv, without=moved) if c.legacy is None and (c.vms or c.switches)}
    for name in previous - left:
        forget_run(session, inv, name)
