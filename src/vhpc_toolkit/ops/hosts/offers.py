"""What a host offers for passthrough, vGPU, SR-IOV and PVRDMA, and the checks made before any change.

Used by the device commands (ops/devices/) and the cluster engine (cluster/planning/devices.py).

The offer comes from the compute resource's environment browser
(``QueryConfigTarget(host)``: passthrough candidates and SR-IOV PFs with the
systemId their backing needs), called once per distinct host, plus the host's
``config.pciPassthruInfo`` / ``config.sharedPassthruGpuTypes`` from the same
snapshot the command read. Validators return problem strings that name the VM,
the host and what the host does offer; the caller raises them together.
"""
from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Iterable

from vhpc_toolkit.errors import NotFound
from vhpc_toolkit.ops.hosts.gpus import HOST_PROPS as GPU_PROPS, GpuState, VgpuLedger, assignment_policy, host_gpus
from vhpc_toolkit.specs.devices.passthrough import normalize_id, passthrough_id, pci_type
from vhpc_toolkit.specs.host import sriov_counts
from vhpc_toolkit.specs.devices.sriov import sriov_pf_id
from vhpc_toolkit.vsphere.inventory import Obj, Inventory

# What host_offers needs in the snapshot (merge into read_targets' host_props / more).
HOST_PROPS = sorted({"config.pciPassthruInfo", "config.sharedPassthruGpuTypes", "hardware.pciDevice",
                     "summary.hardware.cpuMhz", *GPU_PROPS})
MORE_PROPS = {"ClusterComputeResource": ["environmentBrowser"], "ComputeResource": ["environmentBrowser"]}
# VM properties the in-use checks read (of every VM in the snapshot).
VM_PROPS = ["config.hardware.device", "runtime.powerState", "runtime.host"]


@dataclass
class HostOffer:
    host: str                                              # host name
    moid: str
    passthrough: list = field(default_factory=list)        # vim.vm.PciPassthroughInfo (enabled devices)
    sriov: list = field(default_factory=list)              # vim.vm.SriovInfo (PFs with SR-IOV enabled)
    vgpu_profiles: list[str] = field(default_factory=list)  # config.sharedPassthruGpuTypes
    pci_passthru_info: list = field(default_factory=list)  # config.pciPassthruInfo (every capable device)
    pci_devices: dict[str, Any] = field(default_factory=dict)  # normalized id -> vim.host.PciDevice
    gpus: list[GpuState] = field(default_factory=list)     # every GPU: mode, model, frame buffer, vGPUs (ops/hosts/gpus.py)
    vgpu_policy: str = "performance"                       # config.graphicsConfig.sharedPassthruAssignmentPolicy

    def vgpu_ledger(self) -> VgpuLedger:
        """The vGPU slots of this host's GPUs as they are now; claims add the VMs still to come."""
        return VgpuLedger(self.gpus, self.vgpu_policy)

    def describe_gpus(self) -> str:
        return "; ".join(g.describe() for g in self.gpus) or "none"

    def passthrough_by_id(self) -> dict[str, Any]:
        return {normalize_id(p.pciDevice.id): p for p in self.passthrough}

    def sriov_by_id(self) -> dict[str, Any]:
        return {normalize_id(p.pciDevice.id): p for p in self.sriov}

    def passthru_info(self, pci_id: str):
        return next((i for i in self.pci_passthru_info if normalize_id(i.id) == normalize_id(pci_id)), None)

    def describe_passthrough(self) -> str:
        return ", ".join(f"{p.pciDevice.id} ({p.pciDevice.deviceName})" for p in self.passthrough) or "none"

    def describe_sriov(self) -> str:
        from pyVmomi import vim

        pfs = [i for i in self.pci_passthru_info if isinstance(i, vim.host.SriovInfo)]
        return ", ".join(f"{i.id} (SR-IOV {'enabled' if i.sriovEnabled else 'disabled'}, "
                         f"{sriov_counts(i)[0]} VFs" + (f", {sriov_counts(i)[1]} after the host's reboot"
                                                                if sriov_counts(i)[0] != sriov_counts(i)[1] else "")
                         + ")" for i in pfs) or "none"


def device_types(host: Obj, device_ids: Iterable[str]) -> tuple[Counter, list[str]]:
    """How many devices of each (vendor, device) type ``device_ids`` name on ``host`` (Dynamic
    DirectPath asks for a type, each id standing for its device's), and the ids the host lacks."""
    by_id = {normalize_id(d.id): d for d in host.get("hardware.pciDevice") or []}
    asked, missing = Counter(), []
    for raw in device_ids:
        dev = by_id.get(normalize_id(raw))
        if dev is None:
            missing.append(raw)
        else:
            asked[pci_type(dev)] += 1
    return asked, missing


def _compute_resource(inv: Inventory, host: Obj) -> Obj | None:
    return inv.ancestor(host, "ClusterComputeResource", "ComputeResource")


def host_offers(session, inv: Inventory, hosts: Iterable[Obj], concurrency: int = 8) -> dict[str, HostOffer]:
    """Each distinct host's offer, keyed by host moid: one QueryConfigTarget per host, run concurrently."""
    distinct = {h.moid: h for h in hosts if h is not None}

    def query(host: Obj) -> HostOffer:
        cr = _compute_resource(inv, host)
        browser = cr.get("environmentBrowser") if cr is not None else None
        if browser is None:
            raise NotFound(f"host {host.name} has no environment browser (is it in a cluster?)")
        target = browser.QueryConfigTarget(host=host.ref)
        return HostOffer(
            host=host.name, moid=host.moid,
            passthrough=list(getattr(target, "pciPassthrough", None) or []),
            sriov=[s for s in getattr(target, "sriov", None) or [] if not s.virtualFunction],
            vgpu_profiles=list(host.get("config.sharedPassthruGpuTypes") or []),
            pci_passthru_info=list(host.get("config.pciPassthruInfo") or []),
            pci_devices={normalize_id(d.id): d for d in host.get("hardware.pciDevice") or []},
            gpus=host_gpus(inv, host), vgpu_policy=assignment_policy(host))

    if not distinct:
        return {}
    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(distinct)))) as pool:
        return {o.moid: o for o in pool.map(query, distinct.values())}


def _host_moid(vm: Obj) -> str | None:
    ref = vm.get("runtime.host")
    return ref._moId if ref is not None else None


def held_id(device) -> str | None:
    """The PCI id a device holds: a DirectPath device's id, or the ``assignedId`` vSphere gave a
    Dynamic DirectPath device at power-on (None for anything else)."""
    from pyVmomi import vim

    pci = passthrough_id(device)
    if pci:
        return pci
    backing = getattr(device, "backing", None)
    if isinstance(backing, vim.vm.device.VirtualPCIPassthrough.DynamicBackingInfo) and backing.assignedId:
        return normalize_id(backing.assignedId)
    return None


def passthrough_users(inv: Inventory) -> dict[str, dict[str, list[str]]]:
    """host moid -> normalized PCI id -> names of the powered-on VMs holding that device
    (as a DirectPath device, or assigned to a Dynamic DirectPath device). One scan of the VMs,
    kept with the inventory: callers ask once per VM of a cluster."""
    return inv.cached(("passthrough_users",), lambda: _passthrough_users(inv))


def _passthrough_users(inv: Inventory) -> dict[str, dict[str, list[str]]]:
    users: dict[str, dict[str, list[str]]] = {}
    for vm in inv.of_type("VirtualMachine"):
        if vm.get("runtime.powerState") != "poweredOn" or _host_moid(vm) is None:
            continue
        for dev in vm.get("config.hardware.device") or []:
            pci = held_id(dev)
            if pci:
                users.setdefault(_host_moid(vm), {}).setdefault(pci, []).append(vm.name)
    return users


def in_use_on(inv: Inventory, host_moid: str, except_vm: str | None = None) -> dict[str, str]:
    """normalized PCI id -> a powered-on VM (other than ``except_vm``) using it on that host."""
    out = {}
    for pci, names in passthrough_users(inv).get(host_moid, {}).items():
        others = [n for n in names if n != except_vm]
        if others:
            out[pci] = others[0]
    return out


def vfs_in_use(inv: Inventory, host_moid: str, pf_id: str, powered_on_only: bool = True) -> int:
    """SR-IOV adapters backed by PF ``pf_id`` in VMs on that host (powered on, unless told otherwise)."""
    counts = inv.cached(("vfs_in_use", powered_on_only), lambda: _vf_counts(inv, powered_on_only))
    return counts.get((host_moid, normalize_id(pf_id)), 0)


def _vf_counts(inv: Inventory, powered_on_only: bool) -> Counter:
    """(host moid, PF id) -> SR-IOV adapters on it, in one scan of the inventory's VMs."""
    counts: Counter = Counter()
    for vm in inv.of_type("VirtualMachine"):
        if powered_on_only and vm.get("runtime.powerState") != "poweredOn":
            continue
        for d in vm.get("config.hardware.device") or []:
            pf = sriov_pf_id(d)
            if pf:
                counts[(_host_moid(vm), pf)] += 1
    return counts


def check_passthrough(vm_name: str, host_name: str, offer: HostOffer, device_ids: Iterable[str],
                      in_use: dict[str, str]) -> list[str]:
    """Problems with giving ``vm_name`` the devices: not on the host, not enabled, in use."""
    problems = []
    offered = offer.passthrough_by_id()
    in_use = {normalize_id(k): v for k, v in in_use.items()}
    where = f"VM {vm_name} on host {host_name}"
    for raw in device_ids:
        pci = normalize_id(raw)
        if pci not in offered:
            info = offer.passthru_info(pci)
            if info is not None and not info.passthruEnabled:
                why = f"device {raw} is not enabled for passthrough"
            elif pci in offer.pci_devices:
                why = f"device {raw} ({offer.pci_devices[pci].deviceName}) is not passthrough-capable"
            else:
                why = f"the host has no PCI device {raw}"
            problems.append(f"{where}: {why} (the host offers for passthrough: {offer.describe_passthrough()})")
        elif pci in in_use:
            problems.append(f"{where}: device {raw} is in use by powered-on VM {in_use[pci]}")
    return problems


def check_vgpu(vm_name: str, host_name: str, offer: HostOffer, profile: str,
               ledger: VgpuLedger | None = None) -> list[str]:
    """The host offers the profile (a GPU of its model in shared direct mode) and, with a
    ``ledger``, one of those GPUs has room for it now (then it is claimed in the ledger)."""
    where = f"VM {vm_name} on host {host_name}"
    if profile not in offer.vgpu_profiles:
        offered = ", ".join(offer.vgpu_profiles) or "none"
        return [f"{where}: vGPU profile {profile} is not offered (the host offers: {offered}; "
                f"its GPUs: {offer.describe_gpus()})"]
    if offer.gpus and not any(g.serves(profile) for g in offer.gpus):
        return [f"{where}: no GPU of the host is in shared direct mode for vGPU profile {profile} "
                f"(its GPUs: {offer.describe_gpus()})"]
    if ledger is None:
        return []
    return [f"{where}: {p}" for p in ledger.claim(vm_name, [profile])]


def check_vgpus(vm_name: str, host_name: str, offer: HostOffer, profiles: list[str],
                ledger: VgpuLedger | None = None) -> list[str]:
    """:func:`check_vgpu` for the vGPUs of one VM: each profile offered, then (with a ``ledger``)
    room for all of them at once, one GPU each."""
    problems = [msg for profile in dict.fromkeys(profiles) for msg in check_vgpu(vm_name, host_name, offer, profile)]
    if problems or ledger is None:
        return problems
    return [f"VM {vm_name} on host {host_name}: {p}" for p in ledger.claim(vm_name, list(profiles))]


def check_sriov(vm_name: str, host_name: str, offer: HostOffer, pf_id: str, vfs_used: int) -> list[str]:
    """The PF exists, has SR-IOV enabled, and has a free virtual function (``vfs_used`` counted as taken)."""
    from pyVmomi import vim

    where = f"VM {vm_name} on host {host_name}"
    info = offer.passthru_info(pf_id)
    if not isinstance(info, vim.host.SriovInfo):
        what = "has no PCI device" if normalize_id(pf_id) not in offer.pci_devices else "has no SR-IOV physical function"
        return [f"{where}: the host {what} {pf_id} (its SR-IOV physical functions: {offer.describe_sriov()})"]
    total, requested = sriov_counts(info)
    if info.sriovEnabled and not total and requested:
        return [f"{where}: SR-IOV on physical function {pf_id} waits for the host's reboot ({requested} virtual "
                "functions asked, none active yet): reboot the host first"]
    if not info.sriovEnabled or not total or normalize_id(pf_id) not in offer.sriov_by_id():
        return [f"{where}: SR-IOV is disabled on physical function {pf_id} "
                f"(the host's SR-IOV physical functions: {offer.describe_sriov()})"]
    if vfs_used >= total:
        return [f"{where}: physical function {pf_id} has no free virtual function "
                f"({vfs_used} of {total} in use)"]
    return []


def check_pvrdma(vm_name: str, host_name: str, host_moid: str, dvs_name: str,
                 dvs_members: dict[str, str]) -> list[str]:
    """The VM's host must be a member of the distributed switch (``dvs_members``: host moid -> name)."""
    if host_moid in dvs_members:
        return []
    members = ", ".join(sorted(dvs_members.values())) or "none"
    return [f"VM {vm_name}: host {host_name} is not a member of distributed switch {dvs_name} "
            f"(its member hosts: {members})"]
