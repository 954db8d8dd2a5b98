"""What each host can still give, from the one inventory read: free GPUs, vGPU room, memory, VFs.

The planner (cluster/placement/planner.py) claims from these as it places the file's VMs, so the file's own
earlier VMs count like the VMs already running. vSphere facts counted here:

- a passthrough device (a GPU: PCI class 03xx) is free when it is passthrough-enabled and no
  powered-on VM holds it, as a DirectPath device or through a Dynamic DirectPath assignment
  (``assignedId``, ``config.assignableHardwareBinding``);
- vGPU room per physical GPU (ops/hosts/gpus.py: one time-sliced profile per GPU, MIG instances);
- memory: a host powers on a VM only when its reservation fits beside those of the powered-on VMs
  (``hardware.memorySize``; ESXi's own overhead is not counted);
- an SR-IOV adapter holds a virtual function of its physical function while its VM runs;
- a PCI device sits on the NUMA node ``hardware.numaInfo`` lists it under (``pciId``, vSphere 7.0).

Pure code over the inventory snapshot.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from vhpc_toolkit.ops.hosts.gpus import HOST_PROPS as GPU_PROPS, VgpuLedger, assignment_policy, gpu_model, host_gpus
from vhpc_toolkit.ops.hosts.offers import held_id
from vhpc_toolkit.specs.host import sriov_counts
from vhpc_toolkit.specs.devices.passthrough import normalize_id
from vhpc_toolkit.specs.devices.sriov import sriov_pf_id
from vhpc_toolkit.vsphere.inventory import Inventory, Obj

HOST_PROPS = sorted({*GPU_PROPS, "hardware.pciDevice", "hardware.numaInfo", "hardware.memorySize",
                     "config.assignableHardwareConfig", "config.assignableHardwareBinding",
                     "runtime.connectionState", "runtime.inMaintenanceMode", "datastore", "network", "parent"})
VM_PROPS = ["config.hardware.device", "config.hardware.memoryMB", "config.memoryAllocation",
            "config.memoryReservationLockedToMax", "runtime.powerState", "runtime.host", "config.template"]
CLUSTER_PROPS = ["configurationEx", "host"]


@dataclass(frozen=True)
class PciGpu:
    """A passthrough-enabled GPU of a host."""

    id: str
    name: str                 # device name, e.g. GV100GL [Tesla V100 PCIe 32GB]
    model: str | None         # board, e.g. v100
    vendor_id: int
    device_id: int
    label: str = ""           # hardware label (config.assignableHardwareConfig customLabel)
    node: int | None = None   # NUMA node

    def matches(self, model: str | None, label: str | None) -> bool:
        """``gpu_model`` is matched against the device name, any case; ``gpu_label`` exactly."""
        if model and model.lower() not in self.name.lower():
            return False
        return not label or self.label == label

    def to_dict(self) -> dict:
        return {"id": self.id, "name": self.name, "label": self.label or None, "numa_node": self.node}


def reserved_mb(vm: Obj) -> int:
    """The memory a VM reserves while it runs (MB)."""
    size = int(vm.get("config.hardware.memoryMB") or 0)
    if vm.get("config.memoryReservationLockedToMax"):
        return size
    alloc = vm.get("config.memoryAllocation")
    return min(int(getattr(alloc, "reservation", 0) or 0), size) if alloc is not None else 0


@dataclass
class HostCapacity:
    """One host: what it has, what is held, and what the file's VMs placed so far claim."""

    host: Obj
    gpus: list[PciGpu]
    held: dict[str, str]                # PCI id -> the VM holding it (running, or of the file)
    ledger: VgpuLedger
    memory_mb: int
    reserved_mb: int                    # by powered-on VMs and the file's VMs placed here
    vfs: dict[str, tuple[int, int]]     # SR-IOV PF id -> (virtual functions, in use or claimed)
    nodes: dict[str, int]               # PCI id -> NUMA node
    vms: int = 0                        # VMs running here plus the file's VMs placed here
    problem: str | None = None          # why nothing can go here (maintenance, not connected)
    groups: set[str] = field(default_factory=set)   # anti-affinity groups with a VM here

    @property
    def name(self) -> str:
        return self.host.name

    def free_gpus(self, model: str | None = None, label: str | None = None) -> list[PciGpu]:
        return [g for g in self.gpus if g.id not in self.held and g.matches(model, label)]

    def free_memory_mb(self) -> int:
        return self.memory_mb - self.reserved_mb

    def free_vfs(self, pf: str) -> int:
        total, used = self.vfs.get(normalize_id(pf), (0, 0))
        return total - used

    def claim(self, vm_name: str, gpus: list[PciGpu] = (), memory_mb: int = 0, pfs: list[str] = (),
              group: str | None = None) -> None:
        """``pfs``: the physical function of each SR-IOV adapter (one virtual function each)."""
        for g in gpus:
            self.held[g.id] = vm_name
        self.reserved_mb += memory_mb
        for pf in pfs:
            total, used = self.vfs.get(normalize_id(pf), (0, 0))
            self.vfs[normalize_id(pf)] = (total, used + 1)
        if group:
            self.groups.add(group)
        self.vms += 1


def _labels(host: Obj) -> dict[str, str]:
    cfg = host.get("config.assignableHardwareConfig")
    return {normalize_id(o.instanceId): str(o.value) for o in getattr(cfg, "attributeOverride", None) or []
            if o.name == "customLabel"}


def _nodes(host: Obj) -> dict[str, int]:
    numa = host.get("hardware.numaInfo")
    return {normalize_id(pci): int(n.typeId) for n in getattr(numa, "numaNode", None) or [] for pci in n.pciId or []}


def _passthrough_gpus(host: Obj, nodes: dict[str, int]) -> list[PciGpu]:
    enabled = {normalize_id(i.id) for i in host.get("config.pciPassthruInfo") or [] if i.passthruEnabled}
    labels = _labels(host)
    out = []
    for d in host.get("hardware.pciDevice") or []:
        pci = normalize_id(d.id)
        if pci in enabled and ((d.classId or 0) & 0xFF00) == 0x0300:
            out.append(PciGpu(pci, d.deviceName or "", gpu_model(d.deviceName), d.vendorId & 0xFFFF,
                              d.deviceId & 0xFFFF, labels.get(pci, ""), nodes.get(pci)))
    return sorted(out, key=lambda g: g.id)


def _vfs(host: Obj) -> dict[str, tuple[int, int]]:
    from pyVmomi import vim

    # Only active functions back adapters: a new count waits for the host's reboot (specs/host.py).
    return {normalize_id(i.id): (sriov_counts(i)[0], 0)
            for i in host.get("config.pciPassthruInfo") or [] if isinstance(i, vim.host.SriovInfo)}


def read_capacities(inv: Inventory, hosts: list[Obj]) -> dict[str, HostCapacity]:
    """host moid -> its capacity now (powered-on VMs and Dynamic DirectPath assignments counted)."""
    caps: dict[str, HostCapacity] = {}
    for h in hosts:
        nodes = _nodes(h)
        state = h.get("runtime.connectionState")
        problem = ("in maintenance mode" if h.get("runtime.inMaintenanceMode") else
                   f"not connected ({state})" if state not in (None, "connected") else None)
        caps[h.moid] = HostCapacity(
            host=h, gpus=_passthrough_gpus(h, nodes), held={},
            ledger=VgpuLedger(host_gpus(inv, h), assignment_policy(h)),
            memory_mb=int(h.get("hardware.memorySize") or 0) // (1 << 20), reserved_mb=0, vfs=_vfs(h), nodes=nodes,
            problem=problem)
        for b in h.get("config.assignableHardwareBinding") or []:
            vm = inv.by_ref(b.vm)
            caps[h.moid].held[normalize_id(b.instanceId)] = vm.name if vm else b.vm._moId
    for vm in inv.of_type("VirtualMachine"):
        cap = caps.get(getattr(vm.get("runtime.host"), "_moId", None))
        if cap is None or vm.get("runtime.powerState") != "poweredOn":
            continue
        cap.vms += 1
        cap.reserved_mb += reserved_mb(vm)
        for dev in vm.get("config.hardware.device") or []:
            pci = held_id(dev)
            if pci:
                cap.held[pci] = vm.name
            pf = sriov_pf_id(dev)
            if pf and pf in cap.vfs:
                total, used = cap.vfs[pf]
                cap.vfs[pf] = (total, used + 1)
    return caps
