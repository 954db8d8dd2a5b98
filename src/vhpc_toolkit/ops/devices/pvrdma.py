"""`pvrdma`: add and remove PVRDMA adapters on distributed port groups."""
from __future__ import annotations

from vhpc_toolkit.errors import VhpcError, refuse_problems
from vhpc_toolkit.ops.hosts import pvrdma as pvrdma_hosts
from vhpc_toolkit.ops.devices.common import append_device, devices, no_host, read, remove_devices
from vhpc_toolkit.ops.networks.portgroups import find_portgroup, member_problem, portgroup_names_by_key
from vhpc_toolkit.ops.edits.reconfigure import apply_specs, plan_specs
from vhpc_toolkit.results import Report
from vhpc_toolkit.specs import Change
from vhpc_toolkit.specs.devices.nic import nic_network_name
from vhpc_toolkit.specs.devices.pvrdma import pvrdma_adapter
from vhpc_toolkit.vsphere import hostnet

MIN_HW_VERSION = pvrdma_hosts.MIN_HW_VERSION


def change_pvrdma(session, targets, port_group: str, add: bool, dvs_name: str | None = None) -> Report:
    from pyVmomi import vim

    inv, vms, hosts = read(session, targets, host_props=set(hostnet.HOST_PROPS) | set(pvrdma_hosts.HOST_PROPS))
    names_by_key = portgroup_names_by_key(inv)

    def is_pvrdma_on_pg(dev) -> bool:
        return isinstance(dev, vim.vm.device.VirtualVmxnet3Vrdma) and \
            nic_network_name(dev, names_by_key) == port_group

    if not add:
        return remove_devices(session, inv, vms, "pvrdma remove",
                              lambda dev: Change("pvrdma_adapter", port_group, None) if is_pvrdma_on_pg(dev) else None,
                              unchanged=f"has no PVRDMA adapter on {port_group}")

    problems, pgs = [], {}
    switches = {o.get("uuid"): o for o in inv.of_type("VmwareDistributedVirtualSwitch", "DistributedVirtualSwitch")}
    for obj in vms:
        host = hosts[obj.moid]
        if host is None:
            problems.append(no_host(obj))
            continue
        try:
            pg = find_portgroup(inv, port_group, inv.ancestor(obj, "Datacenter"), dvs_name)
        except VhpcError as exc:
            problems.append(f"VM {obj.name}: {exc}")
            continue
        version = obj.get("config.version") or ""
        if version.removeprefix("vmx-").isdigit() and int(version.removeprefix("vmx-")) < MIN_HW_VERSION:
            problems.append(f"VM {obj.name}: PVRDMA needs virtual hardware version {MIN_HW_VERSION} or later; "
                            f"the VM is {version} (upgrade it first)")
            continue
        if not pg.distributed:
            problems.append(f"VM {obj.name}: PVRDMA needs a distributed port group; {port_group} is a standard "
                            "port group (create one with `dvs --create`)")
            continue
        pgs[obj.moid] = pg
        problem = member_problem(inv, pg, host)
        if problem:
            problems.append(f"VM {obj.name}: {problem}")
    refuse_problems(problems)
    problems += _unprepared(session, inv, vms, hosts, pgs, switches, port_group)
    refuse_problems(problems)

    def build_add(spec, obj, host):
        if any(is_pvrdma_on_pg(d) for d in devices(obj)):
            return []
        append_device(spec, pvrdma_adapter(pgs[obj.moid]))
        return [Change("pvrdma_adapter", None, port_group)]

    return apply_specs(session, "pvrdma add", plan_specs(inv, vms, build_add),
                       unchanged=f"already has a PVRDMA adapter on {port_group}")


def _unprepared(session, inv, vms, hosts, pgs, switches, port_group) -> list[str]:
    """The VMs' hosts must be prepared for PVRDMA on the port group's switch; say how when not."""
    problems, by_switch = [], {}
    for obj in vms:
        if obj.moid in pgs and hosts[obj.moid] is not None:
            by_switch.setdefault(pgs[obj.moid].dvs_uuid, {})[hosts[obj.moid].moid] = hosts[obj.moid]
    for uuid, members in by_switch.items():
        switch = switches.get(uuid)
        name = switch.name if switch else uuid
        states = pvrdma_hosts.read_states(session, list(members.values()), uuid)
        for host in sorted(members.values(), key=lambda h: h.name):
            problems += pvrdma_hosts.uplink_problems(host, name)
            missing = states[host.moid].missing()
            if missing:
                uplinks = hostnet.proxy_switches(host).get(name) or ["<its RDMA NIC>"]
                problems.append(f"host {host.name} is not prepared for PVRDMA on distributed switch {name} "
                                f"({'; '.join(missing)}); prepare it with `vhpc_toolkit dvs --create --name {name} "
                                f"--host {host.name} --pnic {' '.join(uplinks)} --port_group {port_group} --pvrdma`")
    return problems
