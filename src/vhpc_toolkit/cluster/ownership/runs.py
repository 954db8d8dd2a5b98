"""Each cluster's last run, kept on vCenter for `cluster --list`.

A custom attribute ``vhpc_toolkit.run NAME`` defined for datacenters only (moType Datacenter: it
shows on datacenters, not on every object), whose value on the cluster's datacenter is
``{"path": ..., "machine": ..., "user": ..., "time": ..., "action": ...}``. `--create` and
`--adopt` write it (one SetField, plus one AddCustomFieldDef the first time), `--destroy` removes
it when nothing of the cluster is left. Recording needs Global.ManageCustomFields (the first time)
and Global.SetCustomField; without them the run goes on and says so (nothing else depends on it).
"""
from __future__ import annotations

import datetime as dt
import json
import os
import socket

from vhpc_toolkit.cluster.ownership.lock import missing_privilege, user_name
from vhpc_toolkit.vsphere.fields import (add_field, field_keys, field_names, is_no_permission, remove_field,
                                         set_value, value_of)
from vhpc_toolkit.vsphere.faults import error_message
from vhpc_toolkit.vsphere.inventory import Inventory, Obj

RUN_PREFIX = "vhpc_toolkit.run "
RUN_TYPE = "Datacenter"


def run_field(cluster: str) -> str:
    return RUN_PREFIX + cluster


def run_value(path: str, action: str) -> str:
    return json.dumps({"path": os.path.realpath(path), "machine": socket.gethostname(), "user": user_name(),
                       "time": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), "action": action},
                      sort_keys=True)


def _key(inv: Inventory, name: str) -> int | None:
    return next((k for k, n in field_names(inv.of_type("Datacenter")).items() if n == name), None)


def record_run(session, inv: Inventory, cluster: str, dc: Obj | None, path: str, action: str) -> str | None:
    """Record this run of ``cluster`` on datacenter ``dc`` (``inv`` read with MARK_PROPS on
    datacenters); why it was not recorded, or None."""
    from pyVmomi import vim

    if dc is None:
        return None
    name = run_field(cluster)
    try:
        key = _key(inv, name)
        if key is None:
            try:
                key = add_field(session, name, RUN_TYPE)
            except vim.fault.DuplicateName:
                key = field_keys(session)[name]
        set_value(session, dc.ref, key, run_value(path, action))
    except Exception as exc:
        return missing_privilege(exc) if is_no_permission(exc) else error_message(exc)
    return None


def forget_run(session, inv: Inventory, cluster: str) -> None:
    """Remove the cluster's record (its whole definition: nothing of the cluster is left)."""
    key = _key(inv, run_field(cluster))
    if key is None:
        return
    try:
        remove_field(session, key)
    except Exception:   # no privilege, or removed meanwhile: a stale record names a gone cluster
        pass


def last_runs(inv: Inventory) -> dict[str, dict]:
    """Each cluster's last run as recorded on the datacenters of ``inv`` (read with MARK_PROPS)."""
    names = {k: n[len(RUN_PREFIX):] for k, n in field_names(inv.of_type("Datacenter")).items()
             if n.startswith(RUN_PREFIX)}
    runs: dict[str, dict] = {}
    for dc in inv.of_type("Datacenter"):
        for key, cluster in names.items():
            try:
                run = json.loads(value_of(dc, key) or "")
            except ValueError:
                continue
            if isinstance(run, dict) and str(run.get("time", "")) >= str(runs.get(cluster, {}).get("time", "")):
                runs[cluster] = {k: run.get(k) for k in ("path", "machine", "user", "time", "action")}
    return runs


def datacenter_of(plan) -> Obj | None:
    """The datacenter a create's record goes to: its VMs', else its switches' hosts', else the only one."""
    inv = plan.inv
    for p in plan.vms:
        dc = inv.ancestor(p.existing, "Datacenter") if p.existing is not None else \
            (p.placement.datacenter if p.placement is not None else None)
        if dc is not None:
            return dc
    for sw in plan.spec.svs + plan.spec.dvs:
        hosts = [h for h in inv.of_type("HostSystem") if h.name in sw.host]
        if hosts and inv.ancestor(hosts[0], "Datacenter") is not None:
            return inv.ancestor(hosts[0], "Datacenter")
    dcs = inv.of_type("Datacenter")
    return dcs[0] if len(dcs) == 1 else None


def after_destroy(session, plan, result) -> str | None:
    """Record the destroy, or forget the cluster's record when nothing carrying its mark is left;
    why it was not recorded, or None."""
    from vhpc_toolkit.cluster.ownership.listing import marked
    from vhpc_toolkit.cluster.ownership.owner import owner_of
    from vhpc_toolkit.results import DESTROYED

    inv, owner = plan.inv, owner_of(plan.spec)
    gone = {"vm": {r.name for r in result.report.results if r.status == "changed"},
            "switch": {s.name for s in result.switches if s.status == DESTROYED}}
    left = [m for m in marked(inv) if owner.owns(m.mark)
            and (m.obj.name not in gone["vm"] if m.kind == "vm" else m.switch not in gone["switch"])]
    if not left:
        forget_run(session, inv, owner.name)
        return None
    # the datacenter of the first VM or distributed switch left, else of the first standard switch's host
    dc = next((inv.ancestor(m.obj, "Datacenter") for m in left if m.kind != "svs"), None) or \
        next((inv.ancestor(m.obj, "Datacenter") for m in left if m.kind == "svs"), None)
    return record_run(session, inv, owner.name, dc, plan.spec.path, "destroy")
