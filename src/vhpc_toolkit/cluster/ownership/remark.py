"""Rewrite the mark of VMs and switches to a cluster's: used by the takeover of an earlier version's
marks (cluster/ownership/takeover.py) and by `cluster --adopt` (cluster/ownership/adopt.py), nothing else.

Calls: one ReconfigVM_Task per VM (extraConfig only, all in flight at once, waited on together);
a distributed switch: one ReconfigureDvs_Task (its description's mark line); a standard switch:
per host, the cluster's mark port group added and another cluster's removed. An earlier version's
custom-attribute value on a switch is cleared, and a standard switch's attribute removed once no
host carries it (both need Global.SetCustomField / Global.ManageCustomFields: without them they
stay, harmless, since the new mark comes first).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from vhpc_toolkit.marks import OWNER_KEY, svs_mark, svs_mark_owner, with_dvs_mark
from vhpc_toolkit.cluster.ownership.switch_marks import (LEGACY_SVS_PREFIX, all_names, forget_legacy_owner, forget_legacy_svs,
                                               key_named)
from vhpc_toolkit.vsphere import hostnet
from vhpc_toolkit.vsphere.faults import error_message
from vhpc_toolkit.vsphere.fields import set_value, value_of
from vhpc_toolkit.vsphere.inventory import Inventory, Obj, read_objects
from vhpc_toolkit.vsphere.tasks import wait_for_task, wait_for_tasks


@dataclass
class Remarked:
    """What was re-marked (names) and what failed (name -> why)."""

    done: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


def remark_vms(session, vms: list[Obj], mark: str) -> Remarked:
    from pyVmomi import vim

    out = Remarked()
    spec = vim.vm.ConfigSpec(extraConfig=[vim.option.OptionValue(key=OWNER_KEY, value=mark)])
    tasks = {}
    for o in vms:
        try:
            tasks[o.name] = o.ref.ReconfigVM_Task(spec=spec)
        except Exception as exc:   # refused (e.g. NoPermission): the VM keeps its mark
            out.failed[o.name] = error_message(exc)
    outcomes = wait_for_tasks(session, tasks.values()) if tasks else {}
    for name, task in tasks.items():
        outcome = outcomes[task._moId]
        if outcome.ok:
            out.done.append(name)
        else:
            out.failed[name] = outcome.error or "failed"
    return out


def remark_dvs(session, inv: Inventory, switch: Obj, cluster: str) -> str | None:
    """Put cluster ``cluster``'s mark on a distributed switch; why it failed, or None."""
    from pyVmomi import vim

    try:
        state = read_objects(session, [switch.ref], ["config.configVersion", "config.description"])[switch.moid]
        spec = vim.dvs.VmwareDistributedVirtualSwitch.ConfigSpec(
            configVersion=state.get("config.configVersion"),
            description=with_dvs_mark(state.get("config.description"), cluster))
        wait_for_task(session, switch.ref.ReconfigureDvs_Task(spec=spec), what=f"marking switch {switch.name}")
    except Exception as exc:
        return error_message(exc)
    if _clear(session, switch, key_named(all_names(inv), OWNER_KEY)):
        forget_legacy_owner(session)
    return None


def remark_svs(session, inv: Inventory, switch: str, hosts: list[Obj], cluster: str) -> dict[str, str]:
    """Put cluster ``cluster``'s mark on standard switch ``switch`` of ``hosts`` (another cluster's mark
    port group removed); failures by host name."""
    from pyVmomi import vim

    failed = {}
    for h in hosts:
        sw = hostnet.standard_switch(h, switch)
        ns = h.get("configManager.networkSystem")
        marks = [pg for pg in (sw.port_groups if sw else []) if svs_mark_owner(pg, switch) is not None]
        try:
            if svs_mark(cluster, switch) not in marks:
                ns.AddPortGroup(portgrp=vim.host.PortGroup.Specification(
                    name=svs_mark(cluster, switch), vlanId=0, vswitchName=switch, policy=vim.host.NetworkPolicy()))
            for pg in marks:
                if pg != svs_mark(cluster, switch):
                    ns.RemovePortGroup(pgName=pg)
        except Exception as exc:
            failed[h.name] = error_message(exc)
    if key_named(all_names(inv), LEGACY_SVS_PREFIX + switch) is not None:
        forget_legacy_svs(session, switch, [h.name for h in hosts if h.name not in failed])
    return failed


def _clear(session, obj: Obj, key: int | None) -> bool:
    """Clear ``obj``'s value of field ``key``; whether it was cleared."""
    if key is None or not value_of(obj, key):
        return False
    try:
        set_value(session, obj.ref, key, "")
    except Exception:   # no privilege: the description's mark comes first
        return False
    return True
