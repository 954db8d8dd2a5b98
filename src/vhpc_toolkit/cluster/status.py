"""`cluster --status`: the file against vCenter, read-only, from one inventory read."""
from __future__ import annotations

from vhpc_toolkit.cluster.plan import CREATE, DRIFT as DRIFT_ACTION, RECONFIGURE, plan_cluster
from vhpc_toolkit.cluster.read import read_cluster_inventory
from vhpc_toolkit.cluster.result import ClusterStatus, Stray, VMOutcome
from vhpc_toolkit.cluster.strays import strays
from vhpc_toolkit.clusterfile import ClusterSpec
from vhpc_toolkit.ops.portgroups import portgroup_names_by_key
from vhpc_toolkit.results import ABSENT, DRIFT, UP_TO_DATE, SwitchOutcome
from vhpc_toolkit.specs.accelerators import dynamic_allowed
from vhpc_toolkit.specs.nic import nic_network_name
from vhpc_toolkit.specs.passthrough import passthrough_id
from vhpc_toolkit.specs.sriov import sriov_pf_id
from vhpc_toolkit.specs.vgpu import vgpu_profile
from vhpc_toolkit.vsphere.inventory import Inventory, Obj

INCOMPLETE = "incomplete"


def vm_devices(vm: Obj, pg_names: dict[str, str]) -> list[str]:
    """The accelerators and fabric adapters a VM has, as the cluster result names them."""
    from pyVmomi import vim

    out = []
    for dev in vm.get("config.hardware.device") or []:
        if passthrough_id(dev):
            out.append(f"gpu {passthrough_id(dev)}")
        elif vgpu_profile(dev):
            out.append(f"vgpu {vgpu_profile(dev)}")
        elif dynamic_allowed(dev) is not None:
            out.append(f"dynamic gpu {dev.backing.assignedId}" if dev.backing.assignedId else "dynamic gpu")
        elif sriov_pf_id(dev):
            out.append(f"sriov {nic_network_name(dev, pg_names)}")
        elif isinstance(dev, vim.vm.device.VirtualVmxnet3Vrdma):
            out.append(f"pvrdma {nic_network_name(dev, pg_names)}")
    return out


def _host_name(inv: Inventory, vm: Obj) -> str | None:
    host = inv.by_ref(vm.get("runtime.host"))
    return host.name if host else None


def cluster_status(session, spec: ClusterSpec) -> ClusterStatus:
    inv = read_cluster_inventory(session)
    plan = plan_cluster(inv, spec)
    pg_names = portgroup_names_by_key(inv)
    vms = []
    for p in plan.vms:
        out = VMOutcome(name=p.name, action=p.action)
        if p.existing is None:
            out.status = ABSENT
            out.detail = "not on vCenter (cluster --create makes it)" if p.action == CREATE else "; ".join(p.drift)
            vms.append(out)
            continue
        out.host, out.ip = _host_name(inv, p.existing), p.existing.get("guest.ipAddress")
        out.devices = vm_devices(p.existing, pg_names)
        differences = [str(c) for c in p.changes] if p.action == RECONFIGURE else []
        differences += p.drift
        if p.power_on:
            differences.append(f"{p.existing.get('runtime.powerState')}; the file wants it on")
        out.drift = differences
        out.status = DRIFT if differences or p.action == DRIFT_ACTION else UP_TO_DATE
        out.detail = "; ".join(differences)
        vms.append(out)
    switches = [SwitchOutcome(s.spec.name, s.spec.kind, list(s.spec.host), s.spec.port_group,
                              status=UP_TO_DATE if s.action != "create" else (INCOMPLETE if s.exists else ABSENT),
                              detail=s.detail) for s in plan.switches]
    stray = [Stray(o.name, _host_name(inv, o), o.get("runtime.powerState")) for o in strays(inv, spec)]
    return ClusterStatus(switches, vms, stray, spec=spec)
