"""The planner: a host and concrete devices for every new VM of the file, from the one inventory read.

Before anything changes, in file order, each new VM that asks for placement (no ``host:``, or
``gpu: N``) gets the host and the GPUs (or the room for its vGPUs) that ``placement: spread | pack``
prefers among the hosts that can take it: free GPUs of the model and label asked (cluster/placement/capacity.py
counts powered-on VMs, Dynamic DirectPath assignments and the file's earlier VMs), vGPU room per
physical GPU, memory for its full reservation, a free virtual function of its SR-IOV physical
function, its datastore and port groups, and its anti-affinity group (no two VMs of a group on one
host, counting the VMs the group's DRS rule already has). A VM with GPUs and an SR-IOV adapter gets
GPUs on the adapter's NUMA node when a host has them, and that node as its NUMA affinity.

Pinned VMs (``host:`` without ``gpu:``) are counted first, so the planner never takes what they
name; existing VMs keep their host (a placed VM is never moved). An impossible file is one error per
shortage, saying what is short and where; a file whose totals fit but whose VMs do not, an error
per VM naming why each host is out.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace

from vhpc_toolkit.cluster.placement.capacity import HostCapacity, PciGpu, read_capacities, reserved_mb
from vhpc_toolkit.cluster.planning.desired import needs_full_memory
from vhpc_toolkit.cluster.placement.shortages import host_list, lines_text, short_host, shortage_problems
from vhpc_toolkit.specs.devices.passthrough import DEFAULT_MMIO_GB, normalize_id, passthrough_id, required_mmio_gb
from vhpc_toolkit.specs.devices.vgpu import vgpu_profile
from vhpc_toolkit.vsphere import hostnet
from vhpc_toolkit.vsphere.inventory import Inventory, Obj
from vhpc_toolkit.words import count

SPREAD, PACK = "spread", "pack"
MAX_VM_PROBLEMS = 10   # per-VM placement problems listed before a summary line


@dataclass
class Choice:
    """Where the planner put a VM and what it gave it."""

    host: Obj
    gpus: list[PciGpu] = field(default_factory=list)   # passthrough GPUs (or, dynamic: the ones counted)
    vgpus: list[str] = field(default_factory=list)
    vgpu_gpus: list[str] = field(default_factory=list)  # the physical GPUs the host's policy will give them
    dynamic: bool = False
    label: str | None = None
    numa_node: int | None = None     # the VM's NUMA affinity (GPUs and SR-IOV adapter on one node)
    mmio_gb: int | None = None       # 64-bit MMIO window the GPUs need
    notes: list[str] = field(default_factory=list)

    def describe(self) -> str:
        """The devices chosen (the host is shown beside it)."""
        parts = []
        if self.gpus:
            kind = "Dynamic DirectPath" if self.dynamic else "passthrough"
            ids = ", ".join(f"{g.id}" + (f" (NUMA {g.node})" if g.node is not None else "") for g in self.gpus)
            model = self.gpus[0].model.upper() if self.gpus[0].model else "GPU"
            parts.append(f"{len(self.gpus)} x {model} {kind} {ids}" + (f" [label {self.label}]" if self.label else "")
                         + (", peer-to-peer" if len(self.gpus) > 1 else ""))
        if self.vgpus:
            parts.append("vGPU " + ", ".join(self.vgpus) +
                         (f" (on GPU {', '.join(self.vgpu_gpus)})" if self.vgpu_gpus else ""))
        if self.numa_node is not None:
            parts.append(f"NUMA node {self.numa_node}")
        return "; ".join(parts + self.notes) or "placed by the planner"

    def to_dict(self) -> dict:
        return {"host": self.host.name, "gpus": [g.to_dict() for g in self.gpus], "vgpus": list(self.vgpus),
                "vgpu_gpus": list(self.vgpu_gpus),
                "dynamic": self.dynamic, "numa_node": self.numa_node, "mmio_gb": self.mmio_gb,
                "notes": list(self.notes)}


@dataclass(frozen=True)
class Held:
    """What a VM holds on a host though the inventory read does not show it: a clone or power-on
    still in flight in another run, or a stopped node keeping its devices for its next power-on
    (slurm/claims.py). The planner counts it as a running VM's."""

    vm: str
    host: str                         # host moid
    gpus: tuple[str, ...] = ()        # PCI ids of passthrough devices
    vgpus: tuple[str, ...] = ()       # vGPU profiles
    memory_mb: int = 0                # reserved memory

    def to_dict(self) -> dict:
        return {"vm": self.vm, "host": self.host, "gpus": list(self.gpus), "vgpus": list(self.vgpus),
                "memory_mb": self.memory_mb}


@dataclass
class _Fit:
    """One host that can take a VM: what it would give and how it ranks."""

    cap: HostCapacity
    gpus: list[PciGpu]
    ledger: object
    local: bool
    free_after: int


def _memory_mb(p) -> int:
    vm = p.spec
    if not needs_full_memory(vm):
        return 0
    if vm.memory:
        return int(round(vm.memory * 1024))
    return int(p.template.get("config.hardware.memoryMB") or 0) if p.template is not None else 0


def _pick_gpus(cap: HostCapacity, vm, node: int | None) -> tuple[list[PciGpu], bool] | None:
    """``vm.gpu`` free GPUs of ``cap`` (on ``node`` when it can), and whether they are all there."""
    free = cap.free_gpus(vm.gpu_model, vm.gpu_label)
    if len(free) < vm.gpu:
        return None
    by_node: dict[int | None, list[PciGpu]] = {}
    for g in free:
        by_node.setdefault(g.node, []).append(g)
    if node is not None and len(by_node.get(node, [])) >= vm.gpu:
        return by_node[node][:vm.gpu], True
    one = next((gs for n, gs in sorted(by_node.items(), key=lambda kv: (kv[0] is None, kv[0]))
                if len(gs) >= vm.gpu), None)   # GPUs of one node talk peer-to-peer best
    return (one[:vm.gpu] if one else free[:vm.gpu]), node is None


class Planner:
    def __init__(self, inv: Inventory, plan):
        self.inv, self.plan, self.spec = inv, plan, plan.spec
        hosts, clusters = {}, {}
        for p in plan.vms:
            if p.placement is not None and p.placement.cluster is not None:
                clusters[p.placement.cluster.moid] = p.placement.cluster
            elif p.placement is not None:
                hosts[p.placement.host.moid] = p.placement.host
            if p.existing is not None and inv.by_ref(p.existing.get("runtime.host")):
                host = inv.by_ref(p.existing.get("runtime.host"))
                hosts[host.moid] = host
        for cluster in clusters.values():
            hosts.update({h.moid: h for h in map(inv.by_ref, cluster.get("host") or []) if h is not None})
        self.caps = read_capacities(inv, list(hosts.values()))
        self.file_svs = {(sw.port_group, h) for sw in self.spec.svs for h in sw.host}
        self.file_dvs = {(sw.port_group, h) for sw in self.spec.dvs for h in sw.host}
        self.failures: list[tuple] = []   # (plan, reasons by host)
        self.networks: dict[str, set[str]] = {}   # host moid -> port group names (_host_networks)
        self.members: dict[str, list[HostCapacity]] = {}   # cluster moid -> its hosts' capacities

    # -- what is there already

    def count_rules(self) -> None:
        """The hosts of the VMs of each existing anti-affinity rule named like a group of the file."""
        from pyVmomi import vim

        groups = {vm.anti_affinity for vm in self.spec.vms if vm.anti_affinity}
        for cluster in self.inv.of_type("ClusterComputeResource"):
            for rule in getattr(cluster.get("configurationEx"), "rule", None) or []:
                if isinstance(rule, vim.cluster.AntiAffinityRuleSpec) and rule.name in groups:
                    for ref in rule.vm or []:
                        vm = self.inv.by_ref(ref)
                        cap = self.caps.get(getattr(vm.get("runtime.host"), "_moId", None)) if vm else None
                        if cap is not None:
                            cap.groups.add(rule.name)

    def count_held(self, h: Held) -> None:
        """What another run (or a stopped node) holds on a host, claimed as a running VM's."""
        cap = self.caps.get(h.host)
        if cap is None:
            return
        ids = {normalize_id(g) for g in h.gpus}
        cap.claim(h.vm, [g for g in cap.gpus if g.id in ids], h.memory_mb)
        for pci in ids - {g.id for g in cap.gpus}:
            cap.held.setdefault(pci, h.vm)
        if h.vgpus:
            cap.ledger.claim(h.vm, list(h.vgpus))

    def count_existing(self, p) -> None:
        """An existing VM of the file stays where it is; what it will hold when this run powers it on
        is claimed; its group holds its host."""
        host = self.inv.by_ref(p.existing.get("runtime.host"))
        cap = self.caps.get(host.moid) if host else None
        if cap is None:
            return
        if p.spec.anti_affinity:
            cap.groups.add(p.spec.anti_affinity)
        if not p.power_on or p.existing.get("runtime.powerState") == "poweredOn":
            return
        devices = p.existing.get("config.hardware.device") or []
        cap.claim(p.name, [g for g in cap.gpus if g.id in {passthrough_id(d) for d in devices}],
                  reserved_mb(p.existing))
        profiles = [q for q in map(vgpu_profile, devices) if q]
        if profiles:
            cap.ledger.claim(p.name, profiles)

    def count_pinned(self, p) -> None:
        """A new VM with ``host:`` and without ``gpu:``: its named devices, vGPUs, VF and memory."""
        cap = self.caps.get(p.placement.host.moid)
        if cap is None:
            return
        vm = p.spec
        where = self._where(p)
        if vm.anti_affinity and vm.anti_affinity in cap.groups:
            self.plan.problems.append(f"{where}: VM {vm.name}: host {cap.name} already has a VM of anti-affinity "
                                      f"group {vm.anti_affinity}; give another host or leave host: out")
        if vm.anti_affinity:
            cap.groups.add(vm.anti_affinity)
        need = _memory_mb(p) if vm.power == "on" else 0
        if need and need > cap.free_memory_mb():
            self.plan.problems.append(f"{where}: VM {vm.name}: host {cap.name} has {cap.free_memory_mb() // 1024} GB "
                                      f"of memory unreserved, the VM reserves {need // 1024} GB")
        if vm.power != "on":
            return
        wanted = {normalize_id(d) for d in vm.device or []}
        cap.claim(vm.name, [g for g in cap.gpus if g.id in wanted], need, _pfs(vm))
        for d in wanted - {g.id for g in cap.gpus}:
            cap.held.setdefault(d, vm.name)
        if vm.vgpus:
            cap.ledger.claim(vm.name, vm.vgpus)   # a shortage is check_devices' to report

    # -- placing

    def _where(self, p) -> str:
        return f"{self.spec.path}:{p.spec.line}"

    def _host_networks(self, cap: HostCapacity) -> set[str]:
        """The port groups a VM on this host can use: the host's networks and its standard switches'."""
        if cap.host.moid not in self.networks:
            refs = cap.host.get("network") or []
            names = {o.name for o in map(self.inv.by_ref, refs) if o is not None}
            names |= {pg for s in hostnet.standard_switches(cap.host) for pg in s.port_groups}
            self.networks[cap.host.moid] = names
        return self.networks[cap.host.moid]

    def _network_problem(self, cap: HostCapacity, name: str) -> str | None:
        host = cap.host
        if (name, host.name) in self.file_svs or (name, host.name) in self.file_dvs:
            return None
        if name in self._host_networks(cap):
            return None
        for pg in self.inv.of_type("DistributedVirtualPortgroup"):
            if pg.name == name:
                switch = self.inv.by_ref(pg.get("config.distributedVirtualSwitch"))
                members = {r._moId for r in (switch.get("summary.hostMember") or [])} if switch else set()
                return None if host.moid in members else f"not a member of the switch of port group {name}"
        known = any(o.name == name for o in self.inv.of_type("Network")) or \
            any(pg == name for pg, _ in self.file_svs | self.file_dvs)
        return f"no port group {name}" if known else None   # an unknown one is plan.py's to report

    def _evaluate(self, p, cap: HostCapacity, node: int | None):
        """A _Fit of VM ``p`` on ``cap``, or why it does not fit there."""
        vm = p.spec
        if cap.problem:
            return cap.problem
        if vm.anti_affinity and vm.anti_affinity in cap.groups:
            return f"has a VM of group {vm.anti_affinity}"
        stores = [p.placement.datastore] if p.placement.datastore is not None else \
            [self.inv.by_ref(r) for r in (p.template.get("datastore") or [])] if p.template is not None else []
        mounted = {r._moId for r in cap.host.get("datastore") or []}
        for ds in stores:
            if ds is not None and mounted and ds.moid not in mounted:
                return f"datastore {ds.name} not mounted"
        for name in (vm.port_group, *(a.port_group for a in vm.sriov_adapters()), vm.pvrdma_port_group):
            why = self._network_problem(cap, name) if name else None
            if why:
                return why
        need = _memory_mb(p)
        if need > cap.free_memory_mb():
            return f"{cap.free_memory_mb() // 1024} GB unreserved of {cap.memory_mb // 1024} GB"
        for pf, n in Counter(normalize_id(pf) for pf in _pfs(vm)).items():
            if cap.free_vfs(pf) < n:
                return f"no free virtual function on {pf}" if n == 1 else f"not {n} free virtual functions on {pf}"
        gpus, local = [], node is None
        if vm.device:   # named devices (no host:): a host where each is passthrough-enabled and free
            named = {g.id: g for g in cap.gpus}
            missing = [d for d in vm.device if normalize_id(d) not in named or normalize_id(d) in cap.held]
            if missing:
                return f"{', '.join(missing)} not free for passthrough"
            gpus = [named[normalize_id(d)] for d in vm.device]
        if vm.gpu:
            picked = _pick_gpus(cap, vm, node)
            if picked is None:
                what = " ".join(filter(None, [vm.gpu_model, f"[label {vm.gpu_label}]" if vm.gpu_label else ""]))
                return f"{len(cap.free_gpus(vm.gpu_model, vm.gpu_label))} free {what or 'GPU'}"
            gpus, local = picked
        ledger = cap.ledger
        if vm.vgpus:
            ledger = cap.ledger.copy()
            if ledger.claim(vm.name, vm.vgpus):   # why, per GPU: `vgpu --query` on the host shows it
                return "no room for vGPU " + ", ".join(vm.vgpus)
        if vm.gpu:
            free_after = len(cap.free_gpus(vm.gpu_model, vm.gpu_label)) - vm.gpu
        elif vm.vgpus:
            free_after = ledger.room(vm.vgpus[0])
        else:
            free_after = -cap.vms
        return _Fit(cap, gpus, ledger, local, free_after)

    def _members(self, cluster: Obj) -> list[HostCapacity]:
        """The capacities of a cluster's hosts, by name (cached: asked once per VM)."""
        if cluster.moid not in self.members:
            refs = {r._moId for r in cluster.get("host") or []}
            self.members[cluster.moid] = sorted((c for c in self.caps.values() if c.host.moid in refs),
                                                key=lambda c: c.name)
        return self.members[cluster.moid]

    def place(self, p) -> None:
        vm = p.spec
        node = None
        candidates = [self.caps[p.placement.host.moid]] if vm.host else self._members(p.placement.cluster)
        fits, reasons = [], {}
        for cap in candidates:
            node = cap.nodes.get(normalize_id(_pfs(vm)[0])) if _pfs(vm) and vm.gpu else None
            fit = self._evaluate(p, cap, node)
            if isinstance(fit, _Fit):
                fits.append(fit)
            else:
                reasons.setdefault(fit, []).append(cap.name)
        if not fits:
            self.failures.append((p, reasons))
            return
        pack = (vm.placement or SPREAD) == PACK
        best = min(fits, key=lambda f: (not f.local, (f.free_after if pack else -f.free_after),
                                        (-f.cap.vms if pack else f.cap.vms), f.cap.name))
        cap = best.cap
        cap.ledger = best.ledger
        # A VM that stays off reserves nothing yet, but its GPUs are not given to another VM of the run.
        cap.claim(vm.name, best.gpus, _memory_mb(p) if vm.power == "on" else 0,
                  _pfs(vm) if vm.power == "on" else [], vm.anti_affinity)
        choice = Choice(host=cap.host, gpus=best.gpus, vgpus=vm.vgpus, dynamic=bool(vm.dynamic), label=vm.gpu_label,
                        vgpu_gpus=sorted(pci for pci, (_, _, vms) in cap.ledger.slots.items() if vm.name in vms)
                        if vm.vgpus else [])
        if best.gpus:
            choice.mmio_gb = vm.mmio_size or max(DEFAULT_MMIO_GB, required_mmio_gb([g.name for g in best.gpus]))
        pf_node = cap.nodes.get(normalize_id(_pfs(vm)[0])) if _pfs(vm) else None
        gpu_nodes = {g.node for g in best.gpus}
        if best.gpus and pf_node is not None:
            if gpu_nodes == {pf_node}:
                choice.numa_node = pf_node
            else:
                choice.notes.append(f"GPUs on NUMA node {', '.join(str(n) for n in sorted(gpu_nodes, key=str))}, "
                                    f"SR-IOV adapter on node {pf_node} (no host had {vm.gpu} free beside it)")
        p.choice = choice
        p.placement = replace(p.placement, host=cap.host)

    # -- the whole file

    def run(self) -> None:
        self.count_rules()
        for h in getattr(self.plan, "held", ()):
            self.count_held(h)
        creates = [p for p in self.plan.vms if p.action == "create" and p.placement is not None]
        for p in self.plan.vms:
            if p.existing is not None:
                self.count_existing(p)
        for p in creates:
            if not p.spec.requests_placement:
                self.count_pinned(p)
        wanted = [p for p in creates if p.spec.requests_placement]
        shortages = shortage_problems(self.spec, self.caps, wanted)
        if shortages:   # the file cannot fit: say what is short and where, once
            self.plan.problems.extend(shortages)
            return
        for p in wanted:
            self.place(p)
        self.plan.problems.extend(self._failure_lines())

    def _failure_lines(self) -> list[str]:
        out = []
        for p, reasons in self.failures[:MAX_VM_PROBLEMS]:
            why = "; ".join(f"{reason}: {host_list(hosts)}" for reason, hosts in
                            sorted(reasons.items(), key=lambda kv: -len(kv[1])))
            out.append(f"{self._where(p)}: VM {p.name}: no host can take it ({_asks(p.spec)}): {why}")
        if len(self.failures) > MAX_VM_PROBLEMS:
            rest = self.failures[MAX_VM_PROBLEMS:]
            out.append(f"{self.spec.path}:{rest[0][0].spec.line}: and {count(len(rest), 'more VM')} no host can take "
                       f"({', '.join(p.name for p, _ in rest[:5])}{', ...' if len(rest) > 5 else ''}; "
                       f"{lines_text(p.spec for p, _ in rest)})")
        return out


def _asks(vm) -> str:
    parts = []
    if vm.gpu:
        parts.append(f"{vm.gpu} x {vm.gpu_model or 'GPU'}" + (f" labelled {vm.gpu_label}" if vm.gpu_label else ""))
    if vm.vgpus:
        parts.append("vGPU " + ", ".join(vm.vgpus))
    if vm.anti_affinity:
        parts.append(f"anti-affinity group {vm.anti_affinity}")
    if vm.host:
        parts.append(f"host {short_host(vm.host)}")
    return ", ".join(parts) or "a host"


def _pfs(vm) -> list[str]:
    """The physical function of each of the VM's SR-IOV adapters (the first one's NUMA node is the VM's)."""
    return [a.pf for a in vm.sriov_adapters()]


def plan_placement(inv: Inventory, plan) -> None:
    """Choose hosts and devices for the new VMs of ``plan`` (a cluster/plan.ClusterPlan): sets each
    planned VM's ``choice`` and ``placement.host``; appends every problem to ``plan.problems``."""
    if not any(p.action == "create" for p in plan.vms):
        return
    Planner(inv, plan).run()


def gpu_drift(p) -> list[str]:
    """How an existing VM's GPUs differ from ``gpu: N`` (GPUs are not added to an existing VM)."""
    vm = p.spec
    if not vm.gpu or p.existing is None:
        return []
    from pyVmomi import vim

    have = sum(1 for d in p.existing.get("config.hardware.device") or []
               if isinstance(d, vim.vm.device.VirtualPCIPassthrough)
               and isinstance(d.backing, (vim.vm.device.VirtualPCIPassthrough.DeviceBackingInfo,
                                          vim.vm.device.VirtualPCIPassthrough.DynamicBackingInfo)))
    if have >= vm.gpu:
        return []
    return [f"has {count(have, 'GPU')}, the file asks gpu: {vm.gpu} (GPUs are not added to an existing VM)"]

