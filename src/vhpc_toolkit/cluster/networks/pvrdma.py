"""PVRDMA in a cluster file: the distributed switches that carry the file's PVRDMA adapters have
their member hosts prepared (ops/hosts/pvrdma.py) as part of the plan, before the VMs are cloned.

Planning reads each such host's state (one QueryOptions per host, concurrently; one firewall read)
and checks, before any change: the switch's only uplink is an RDMA-capable NIC, no host is
prepared for another switch, the template's hardware version is 13 or later. A file without
PVRDMA adapters costs nothing here. ``--destroy`` undoes the preparation with the switch
(ops/dvs.destroy_dvs reads what was done from the switch).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from vhpc_toolkit.ops.hosts import pvrdma as pvrdma_hosts
from vhpc_toolkit.ops.networks.distributed import DVS_TYPES, _switch_state, prepare_members
from vhpc_toolkit.vsphere import hostnet
from vhpc_toolkit.vsphere.inventory import read_inventory

MIN_HW_VERSION = pvrdma_hosts.MIN_HW_VERSION


@dataclass
class PvrdmaPlan:
    """One distributed switch carrying PVRDMA adapters of the file, and its hosts' preparation."""

    switch: str
    port_group: str
    in_file: bool                                   # a _DVS_ line of the file
    states: dict = field(default_factory=dict)      # host moid -> HostPrep

    def rows(self) -> list[dict]:
        return [{"switch": self.switch, "host": s.host.name, "steps": s.steps(self.port_group)}
                for s in sorted(self.states.values(), key=lambda s: s.host.name)]

    @property
    def pending(self) -> list:
        return [s for s in self.states.values() if s.steps(self.port_group)]


def _hw_version(version: str | None) -> int:
    try:
        return int(str(version or "").removeprefix("vmx-"))
    except ValueError:
        return 0


def _switch_of(plan, vm) -> tuple[str | None, str]:
    """The switch of a VM's PVRDMA port group: its dvs_name, the file's _DVS_ with that port group,
    or the switch the inventory's port group belongs to."""
    if vm.dvs_name:
        return vm.dvs_name, vm.pvrdma_port_group
    sw = next((s for s in plan.spec.dvs if s.port_group == vm.pvrdma_port_group), None)
    if sw is not None:
        return sw.name, vm.pvrdma_port_group
    pg = next((o for o in plan.inv.of_type("DistributedVirtualPortgroup") if o.name == vm.pvrdma_port_group), None)
    switch = plan.inv.by_ref(pg.get("config.distributedVirtualSwitch")) if pg is not None else None
    return (switch.name if switch is not None else None), vm.pvrdma_port_group


def plan_pvrdma(session, plan) -> list[PvrdmaPlan]:
    """Every switch carrying the file's PVRDMA adapters, its hosts' state; problems go to plan.problems."""
    inv, where = plan.inv, plan.spec.path
    wanted: dict[str, tuple[str, int]] = {}
    for p in plan.vms:
        vm = p.spec
        if not vm.pvrdma_port_group:
            continue
        switch, pg = _switch_of(plan, vm)
        if switch is None:
            continue   # reported by the device checks
        wanted.setdefault(switch, (pg, vm.line))
        if p.template is not None and 0 < _hw_version(p.template.get("config.version")) < MIN_HW_VERSION:
            plan.problems.append(f"{where}:{vm.line}: VM {vm.name}: PVRDMA needs virtual hardware version "
                                 f"{MIN_HW_VERSION} or later; template {p.template.name} is "
                                 f"{p.template.get('config.version')} (upgrade the template)")
    out = []
    for name, (pg, line) in wanted.items():
        file_sw = next((s for s in plan.spec.dvs if s.name == name), None)
        existing = next((o for o in inv.of_type(*DVS_TYPES) if o.name == name), None)
        members = {inv.by_ref(r).name for r in (existing.get("summary.hostMember") or []) if inv.by_ref(r)} \
            if existing is not None else set()
        names = sorted(members | set(file_sw.host if file_sw else []))
        hosts = [h for h in inv.of_type("HostSystem") if h.name in names]
        at = f"{where}:{file_sw.line if file_sw else line}"
        if file_sw is not None and len(file_sw.pnic) != 1:
            plan.problems.append(f"{at}: switch {name}: PVRDMA needs the HCA as the switch's only uplink, "
                                 f"pnic gives {len(file_sw.pnic)} ({', '.join(file_sw.pnic)}); "
                                 "PVRDMA does not support NIC teaming")
        else:
            for host in hosts:
                current = hostnet.proxy_switches(host).get(name)
                uplinks = current if current else (file_sw.pnic if file_sw else [])
                plan.problems.extend(f"{at}: {msg}" for msg in pvrdma_hosts.uplink_problems(host, name, uplinks))
        addresses = _addresses(plan, at, name, file_sw, hosts)
        states = pvrdma_hosts.read_states(session, hosts, existing.get("uuid") if existing is not None else None,
                                          addresses=addresses)
        for state in states.values():
            if state.tagged_elsewhere:
                plan.problems.append(f"{at}: switch {name}: host {state.host.name} is prepared for PVRDMA on "
                                     f"another switch ({pvrdma_hosts.OPTION} = {state.tag}); a host serves "
                                     "PVRDMA through one VMkernel adapter")
        out.append(PvrdmaPlan(name, pg, file_sw is not None, states))
    for sw in plan.spec.dvs:
        if sw.vmk_ip and sw.name not in wanted:
            plan.warnings.append(f"{where}:{sw.line}: switch {sw.name}: vmk_ip is not used: no VM of the file "
                                 "has a PVRDMA adapter on it, so its hosts are not prepared for PVRDMA")
    return out


def _addresses(plan, at: str, name: str, file_sw, hosts: list) -> dict:
    """Host moid -> (ip, netmask) of its PVRDMA adapter, from the _DVS_ line's vmk_ip (empty: DHCP).
    A member the line does not list would get DHCP beside static neighbours: refused."""
    by_name = file_sw.vmk_addresses() if file_sw is not None else {}
    if not by_name:
        return {}
    for host in hosts:
        if host.name not in by_name:
            plan.problems.append(f"{at}: switch {name}: host {host.name} is a member but not in the line's host, "
                                 "so vmk_ip gives its VMkernel adapter no address (add it to host and vmk_ip)")
    return {h.moid: by_name[h.name] for h in hosts if h.name in by_name}


def apply_pvrdma(session, plans: list[PvrdmaPlan], outcomes_by_switch: dict) -> list[str]:
    """Prepare the hosts of each switch (after the switches exist); returns failures."""
    pending = [p for p in plans if p.pending]
    if not pending:
        return []
    inv = read_inventory(session, {"DistributedVirtualSwitch": []})
    failures = []
    for p in pending:
        switch = next((o for o in inv.of_type(*DVS_TYPES) if o.name == p.switch), None)
        if switch is None:
            failures.append(f"switch {p.switch} not found after its creation")
            continue
        state = _switch_state(session, switch.ref)
        try:
            if p.port_group not in state["portgroups"]:
                raise ValueError(f"switch {p.switch} has no port group {p.port_group}")
            done = prepare_members(session, switch.ref, state, p.states, p.port_group)
        except Exception as exc:   # VhpcError from a task, a host fault: this switch's VMs cannot run
            failures.append(f"switch {p.switch}: {exc}")
            done = []
        out = outcomes_by_switch.get(p.switch)
        if out is not None:
            out.pvrdma_hosts = [r["host"] for r in p.rows()]
            out.detail = "; ".join(filter(None, [out.detail] + done))
    return failures
