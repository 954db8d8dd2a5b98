"""What a host offers for passthrough, vGPU, SR-IOV and PVRDMA, and the checks made before any change.

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
from vhpc_toolkit.specs.passthrough import normalize_id, passthrough_id
from vhpc_toolkit.specs.sriov import sriov_pf_id
from vhpc_toolkit.vsphere.inventory import Obj, Snapshot

# What host_offers needs in the snapshot (merge into read_targets' host_props / more).
HOST_PROPS = ["config.pciPassthruInfo", "config.sharedPassthruGpuTypes", "hardware.pciDevice",
              "summary.hardware.cpuMhz"]
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
                         f"{i.numVirtualFunction or 0} VFs)" for i in pfs) or "none"


def _compute_resource(snap: Snapshot, host: Obj) -> Obj | None:
    return snap.ancestor(host, "ClusterComputeResource", "ComputeResource")


def host_offers(session, snap: Snapshot, hosts: Iterable[Obj], concurrency: int = 8) -> dict[str, HostOffer]:
    """Each distinct host's offer, keyed by host moid: one QueryConfigTarget per host, run concurrently."""
    distinct = {h.moid: h for h in hosts if h is not None}

    def query(host: Obj) -> HostOffer:
        cr = _compute_resource(snap, host)
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
            pci_devices={normalize_id(d.id): d for d in host.get("hardware.pciDevice") or []})

    if not distinct:
        return {}
    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(distinct)))) as pool:
        return {o.moid: o for o in pool.map(query, distinct.values())}


def _host_moid(vm: Obj) -> str | None:
    ref = vm.get("runtime.host")
    return ref._moId if ref is not None else None


def passthrough_users(snap: Snapshot) -> dict[str, dict[str, list[str]]]:
    """host moid -> normalized PCI id -> names of the powered-on VMs with that device (one scan
    of the snapshot's VMs, kept: callers ask once per VM of a cluster)."""
    return snap.cached(("passthrough_users",), lambda: _passthrough_users(snap))


def _passthrough_users(snap: Snapshot) -> dict[str, dict[str, list[str]]]:
    users: dict[str, dict[str, list[str]]] = {}
    for vm in snap.of_type("VirtualMachine"):
        if vm.get("runtime.powerState") != "poweredOn" or _host_moid(vm) is None:
            continue
        for dev in vm.get("config.hardware.device") or []:
            pci = passthrough_id(dev)
            if pci:
                users.setdefault(_host_moid(vm), {}).setdefault(pci, []).append(vm.name)
    return users


def in_use_on(snap: Snapshot, host_moid: str, except_vm: str | None = None) -> dict[str, str]:
    """normalized PCI id -> a powered-on VM (other than ``except_vm``) using it on that host."""
    out = {}
    for pci, names in passthrough_users(snap).get(host_moid, {}).items():
        others = [n for n in names if n != except_vm]
        if others:
            out[pci] = others[0]
    return out


def vfs_in_use(snap: Snapshot, host_moid: str, pf_id: str, powered_on_only: bool = True) -> int:
    """SR-IOV adapters backed by PF ``pf_id`` in VMs on that host (powered on, unless told otherwise)."""
    counts = snap.cached(("vfs_in_use", powered_on_only), lambda: _vf_counts(snap, powered_on_only))
    return counts.get((host_moid, normalize_id(pf_id)), 0)


def _vf_counts(snap: Snapshot, powered_on_only: bool) -> Counter:
    """(host moid, PF id) -> SR-IOV adapters on it, in one scan of the snapshot's VMs."""
    counts: Counter = Counter()
    for vm in snap.of_type("VirtualMachine"):
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


def check_vgpu(vm_name: str, host_name: str, offer: HostOffer, profile: str) -> list[str]:
    if profile in offer.vgpu_profiles:
        return []
    offered = ", ".join(offer.vgpu_profiles) or "none"
    return [f"VM {vm_name} on host {host_name}: vGPU profile {profile} is not offered "
            f"(the host offers: {offered})"]


def check_sriov(vm_name: str, host_name: str, offer: HostOffer, pf_id: str, vfs_used: int) -> list[str]:
    """The PF exists, has SR-IOV enabled, and has a free virtual function (``vfs_used`` counted as taken)."""
    from pyVmomi import vim

    where = f"VM {vm_name} on host {host_name}"
    info = offer.passthru_info(pf_id)
    if not isinstance(info, vim.host.SriovInfo):
        what = "has no PCI device" if normalize_id(pf_id) not in offer.pci_devices else "has no SR-IOV physical function"
        return [f"{where}: the host {what} {pf_id} (its SR-IOV physical functions: {offer.describe_sriov()})"]
    if not info.sriovEnabled or normalize_id(pf_id) not in offer.sriov_by_id():
        return [f"{where}: SR-IOV is disabled on physical function {pf_id} "
                f"(the host's SR-IOV physical functions: {offer.describe_sriov()})"]
    total = info.numVirtualFunction or 0
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


# ---------------------------------------------------------------------------------------------
# The commands: query, add, remove. One inventory read, one QueryConfigTarget per host, every VM
# checked before the first change, then one ReconfigVM_Task per VM (ops/reconfigure.py).
# ---------------------------------------------------------------------------------------------

def _read(session, vm, file) -> tuple[Snapshot, list[Obj], dict[str, Obj | None]]:
    """One inventory read with what every device command needs; the VMs and each VM's host."""
    from vhpc_toolkit.ops.networks import PROPS as NET_PROPS
    from vhpc_toolkit.ops.reconfigure import read_targets
    from vhpc_toolkit.specs import compute

    more = {k: list(v) for k, v in NET_PROPS.items()}
    more["DistributedVirtualSwitch"] = sorted(set(more.get("DistributedVirtualSwitch", [])) |
                                              {"uuid", "summary.hostMember"})
    more.update(MORE_PROPS)
    vm_props = set(VM_PROPS) | set(compute.VM_PROPS) | {"config.firmware", "config.extraConfig"}
    snap, vms = read_targets(session, vm, file, vm_props, host_props=HOST_PROPS, more=more)
    return snap, vms, _hosts(snap, vms)


def _hosts(snap: Snapshot, vms: list[Obj]) -> dict[str, Obj | None]:
    from vhpc_toolkit.ops.reconfigure import host_of

    return {vm.moid: host_of(snap, vm) for vm in vms}


def _no_host(vm: Obj) -> str:
    return f"VM {vm.name} is not on any host (is it registered and connected?)"


def _validated(problems: list[str]) -> None:
    from vhpc_toolkit.errors import ValidationFailed

    if problems:
        raise ValidationFailed(problems + ["nothing was changed"])


def _full_memory(spec, vm: Obj, host: Obj | None) -> list:
    from vhpc_toolkit.specs.compute import ComputeRequest, apply_compute

    return apply_compute(spec, vm.props, ComputeRequest(memory_reservation=True),
                         host.get("summary.hardware.cpuMhz") if host else None)


def _devices(vm: Obj) -> list:
    return list(vm.get("config.hardware.device") or [])


def _remove(spec, device) -> None:
    from vhpc_toolkit.specs.nic import remove_device

    spec.deviceChange = (spec.deviceChange or []) + [remove_device(device)]


def _add(spec, change) -> None:
    spec.deviceChange = (spec.deviceChange or []) + [change]


def _finish(report, unchanged_detail):
    from vhpc_toolkit.ops.results import UNCHANGED

    if unchanged_detail:
        for r in report.results:
            if r.status == UNCHANGED:
                r.detail = unchanged_detail
    return report


# --- passthrough ---------------------------------------------------------------------------

def query_passthrough(session, vm, file):
    """Per VM: the passthrough devices its host offers, and whether each is free, in use, or on this VM."""
    from vhpc_toolkit.ops.results import OperationReport, VMResult

    snap, vms, hosts = _read(session, vm, file)
    offers = host_offers(session, snap, hosts.values())
    results = []
    for obj in vms:
        host = hosts[obj.moid]
        if host is None:
            results.append(VMResult(obj.name, detail=_no_host(obj), data={"host": None, "devices": []}))
            continue
        mine = {passthrough_id(d) for d in _devices(obj)} - {None}
        used = in_use_on(snap, host.moid, except_vm=obj.name)
        rows = []
        for p in offers[host.moid].passthrough:
            pci = normalize_id(p.pciDevice.id)
            status, user = ("on this VM", None) if pci in mine else \
                (("in use", used[pci]) if pci in used else ("free", None))
            rows.append({"id": p.pciDevice.id, "vendor": p.pciDevice.vendorName, "device": p.pciDevice.deviceName,
                         "status": status, "used_by": user})
        free = sum(r["status"] == "free" for r in rows)
        results.append(VMResult(obj.name, detail=f"host {host.name}: {len(rows)} passthrough device(s), {free} free",
                                data={"host": host.name, "devices": rows}))
    return OperationReport("passthru query", results)


def _dedupe(ids: Iterable[str]) -> list[str]:
    out, seen = [], set()
    for raw in ids:
        if normalize_id(raw) not in seen:
            seen.add(normalize_id(raw))
            out.append(raw)
    return out


def change_passthrough(session, vm, file, device_ids: list[str], add: bool, mmio_size: int = 256):
    """`passthru --add/--remove --device ID...`: one ReconfigVM_Task per VM carrying everything."""
    from vhpc_toolkit.errors import InputError
    from vhpc_toolkit.ops.reconfigure import apply_specs, plan_specs
    from vhpc_toolkit.specs import Change
    from vhpc_toolkit.specs.passthrough import check_mmio_size, mmio_extra_config, passthrough_device

    device_ids = _dedupe(device_ids or [])
    if not device_ids:
        raise InputError("passthru: give --device ID... with --add or --remove")
    if add:
        try:
            check_mmio_size(mmio_size)
        except ValueError as exc:
            raise InputError(f"passthru: --mmio_size: {exc}") from None
    snap, vms, hosts = _read(session, vm, file)

    if not add:
        def build_remove(spec, obj, host):
            changes = []
            for dev in _devices(obj):
                pci = passthrough_id(dev)
                if pci and pci in {normalize_id(d) for d in device_ids}:
                    _remove(spec, dev)
                    changes.append(Change("passthrough", dev.backing.id, None))
            return changes

        report = apply_specs(session, "passthru remove", plan_specs(snap, vms, build_remove))
        return _finish(report, "has none of the devices " + ", ".join(device_ids))

    offers = host_offers(session, snap, hosts.values())
    problems, claimed = [], {}
    for obj in vms:
        host = hosts[obj.moid]
        if host is None:
            problems.append(_no_host(obj))
            continue
        offer = offers[host.moid]
        mine = {passthrough_id(d) for d in _devices(obj)} - {None}
        wanted = [d for d in device_ids if normalize_id(d) not in mine]
        found = check_passthrough(obj.name, host.name, offer, wanted, in_use_on(snap, host.moid, except_vm=obj.name))
        problems += found
        for d in wanted:
            other = claimed.setdefault((host.moid, normalize_id(d)), obj.name)
            if other != obj.name:
                problems.append(f"VM {obj.name} on host {host.name}: device {d} is also asked for VM {other} "
                                "on the same host; only one of them could power on")
        if not found:
            offered = offer.passthrough_by_id()
            final = [offered.get(p) or offer.pci_devices.get(p) for p in mine | {normalize_id(d) for d in wanted}]
            try:
                check_mmio_size(mmio_size, [f for f in final if f is not None])
            except ValueError as exc:
                problems.append(f"VM {obj.name} on host {host.name}: {exc}")
    _validated(problems)

    def build_add(spec, obj, host):
        offer = offers[host.moid]
        mine = {passthrough_id(d) for d in _devices(obj)} - {None}
        changes = []
        for d in device_ids:
            if normalize_id(d) not in mine:
                info = offer.passthrough_by_id()[normalize_id(d)]
                _add(spec, passthrough_device(info))
                changes.append(Change("passthrough", None, info.pciDevice.id))
        current = {o.key: o.value for o in obj.get("config.extraConfig") or []}
        for opt in mmio_extra_config(mmio_size):
            if str(current.get(opt.key, "")).upper() != str(opt.value).upper():
                spec.extraConfig = (spec.extraConfig or []) + [opt]
                changes.append(Change(opt.key, current.get(opt.key), opt.value))
        return changes + _full_memory(spec, obj, host)

    planned = plan_specs(snap, vms, build_add)
    for obj, _, result in planned:
        if (obj.get("config.firmware") or "bios") != "efi":
            result.data["warnings"] = [
                f"VM {obj.name} firmware is {obj.get('config.firmware') or 'bios'}, not EFI: large-BAR devices "
                "with a 64-bit MMIO window need EFI firmware to boot"]
    report = apply_specs(session, "passthru add", planned)
    return _finish(report, "already has the devices, the MMIO window and full memory reservation")


# --- vGPU ----------------------------------------------------------------------------------

def query_vgpu(session, vm, file):
    from vhpc_toolkit.ops.results import OperationReport, VMResult
    from vhpc_toolkit.specs.vgpu import vgpu_profile

    snap, vms, hosts = _read(session, vm, file)
    offers = host_offers(session, snap, hosts.values())
    results = []
    for obj in vms:
        host = hosts[obj.moid]
        if host is None:
            results.append(VMResult(obj.name, detail=_no_host(obj), data={"host": None, "profiles": []}))
            continue
        mine = [p for p in (vgpu_profile(d) for d in _devices(obj)) if p]
        profiles = [{"profile": p, "on_this_vm": p in mine} for p in offers[host.moid].vgpu_profiles]
        results.append(VMResult(obj.name, detail=f"host {host.name}: {len(profiles)} vGPU profile(s)"
                                + (f"; this VM has {', '.join(mine)}" if mine else ""),
                                data={"host": host.name, "profiles": profiles, "vgpus": mine}))
    return OperationReport("vgpu query", results)


def change_vgpu(session, vm, file, profile: str | None, add: bool):
    from vhpc_toolkit.errors import InputError
    from vhpc_toolkit.ops.reconfigure import apply_specs, plan_specs
    from vhpc_toolkit.specs import Change
    from vhpc_toolkit.specs.vgpu import vgpu_device, vgpu_profile

    if add and not profile:
        raise InputError("vgpu: --add needs --profile P (see `vgpu --query`)")
    snap, vms, hosts = _read(session, vm, file)
    if not add:
        def build_remove(spec, obj, host):
            changes = []
            for dev in _devices(obj):
                p = vgpu_profile(dev)
                if p and (profile is None or p == profile):
                    _remove(spec, dev)
                    changes.append(Change("vgpu", p, None))
            return changes

        report = apply_specs(session, "vgpu remove", plan_specs(snap, vms, build_remove))
        return _finish(report, f"has no vGPU{' ' + profile if profile else ''}")

    offers = host_offers(session, snap, hosts.values())
    problems = []
    for obj in vms:
        host = hosts[obj.moid]
        problems += [_no_host(obj)] if host is None else check_vgpu(obj.name, host.name, offers[host.moid], profile)
    _validated(problems)

    def build_add(spec, obj, host):
        changes = []
        if profile not in {vgpu_profile(d) for d in _devices(obj)}:
            _add(spec, vgpu_device(profile))
            changes.append(Change("vgpu", None, profile))
        return changes + _full_memory(spec, obj, host)

    report = apply_specs(session, "vgpu add", plan_specs(snap, vms, build_add))
    return _finish(report, f"already has vGPU {profile} and full memory reservation")


# --- SR-IOV --------------------------------------------------------------------------------

def _adapter_pg_name(dev, names_by_key) -> str | None:
    from vhpc_toolkit.specs.nic import nic_network_name

    return nic_network_name(dev, names_by_key)


def query_sriov(session, vm, file):
    from pyVmomi import vim

    from vhpc_toolkit.ops.results import OperationReport, VMResult

    snap, vms, hosts = _read(session, vm, file)
    offers = host_offers(session, snap, hosts.values())
    results = []
    for obj in vms:
        host = hosts[obj.moid]
        if host is None:
            results.append(VMResult(obj.name, detail=_no_host(obj), data={"host": None, "pfs": []}))
            continue
        offer = offers[host.moid]
        targets = offer.sriov_by_id()
        rows = []
        for info in offer.pci_passthru_info:
            if not isinstance(info, vim.host.SriovInfo):
                continue
            pci = normalize_id(info.id)
            used = vfs_in_use(snap, host.moid, pci)
            dev = offer.pci_devices.get(pci)
            target = targets.get(pci)
            total = info.numVirtualFunction or 0
            rows.append({"id": info.id, "device": dev.deviceName if dev else None,
                         "pnic": getattr(target, "pnic", None), "sriov_enabled": bool(info.sriovEnabled),
                         "virtual_functions": total, "in_use": used,
                         "free": max(0, total - used) if info.sriovEnabled else 0,
                         "on_this_vm": sum(1 for d in _devices(obj) if sriov_pf_id(d) == pci)})
        results.append(VMResult(obj.name, detail=f"host {host.name}: {len(rows)} SR-IOV physical function(s)",
                                data={"host": host.name, "pfs": rows}))
    return OperationReport("sriov query", results)


def change_sriov(session, vm, file, port_group: str | None, pf: str | None, add: bool,
                 dvs_name: str | None = None):
    from vhpc_toolkit.errors import InputError, VhpcError
    from vhpc_toolkit.ops.networks import find_portgroup, portgroup_names_by_key
    from vhpc_toolkit.ops.reconfigure import apply_specs, plan_specs
    from vhpc_toolkit.specs import Change
    from vhpc_toolkit.specs.sriov import sriov_adapter

    if not port_group or (add and not pf):
        raise InputError("sriov: --add needs --sriov_port_group PG and --pf ID; --remove needs --sriov_port_group")
    snap, vms, hosts = _read(session, vm, file)
    names_by_key = portgroup_names_by_key(snap)

    def on_pg(dev) -> bool:
        return sriov_pf_id(dev) is not None and _adapter_pg_name(dev, names_by_key) == port_group

    if not add:
        def build_remove(spec, obj, host):
            changes = []
            for dev in _devices(obj):
                if on_pg(dev) and (pf is None or sriov_pf_id(dev) == normalize_id(pf)):
                    _remove(spec, dev)
                    changes.append(Change("sriov_adapter", f"{port_group} ({sriov_pf_id(dev)})", None))
            return changes

        report = apply_specs(session, "sriov remove", plan_specs(snap, vms, build_remove))
        return _finish(report, f"has no SR-IOV adapter on {port_group}")

    offers = host_offers(session, snap, hosts.values())
    problems, pgs, taking = [], {}, {}
    for obj in vms:
        host = hosts[obj.moid]
        if host is None:
            problems.append(_no_host(obj))
            continue
        try:
            pgs[obj.moid] = find_portgroup(snap, port_group, snap.ancestor(obj, "Datacenter"), dvs_name)
        except VhpcError as exc:
            problems.append(f"VM {obj.name}: {exc}")
            continue
        if any(on_pg(d) and sriov_pf_id(d) == normalize_id(pf) for d in _devices(obj)):
            continue  # already there
        used = vfs_in_use(snap, host.moid, pf) + taking.get(host.moid, 0)
        found = check_sriov(obj.name, host.name, offers[host.moid], pf, used)
        problems += found
        if not found:
            taking[host.moid] = taking.get(host.moid, 0) + 1
    _validated(problems)

    def build_add(spec, obj, host):
        changes = []
        if not any(on_pg(d) and sriov_pf_id(d) == normalize_id(pf) for d in _devices(obj)):
            _add(spec, sriov_adapter(offers[host.moid].sriov_by_id()[normalize_id(pf)], pgs[obj.moid]))
            changes.append(Change("sriov_adapter", None, f"{port_group} ({pf})"))
        return changes + _full_memory(spec, obj, host)

    report = apply_specs(session, "sriov add", plan_specs(snap, vms, build_add))
    return _finish(report, f"already has an SR-IOV adapter on {port_group} ({pf}) and full memory reservation")


# --- PVRDMA --------------------------------------------------------------------------------

def change_pvrdma(session, vm, file, port_group: str, add: bool, dvs_name: str | None = None):
    from pyVmomi import vim

    from vhpc_toolkit.errors import VhpcError
    from vhpc_toolkit.ops.networks import find_portgroup, portgroup_names_by_key
    from vhpc_toolkit.ops.reconfigure import apply_specs, plan_specs
    from vhpc_toolkit.specs import Change
    from vhpc_toolkit.specs.pvrdma import pvrdma_adapter

    snap, vms, hosts = _read(session, vm, file)
    names_by_key = portgroup_names_by_key(snap)

    def is_pvrdma_on_pg(dev) -> bool:
        return isinstance(dev, vim.vm.device.VirtualVmxnet3Vrdma) and \
            _adapter_pg_name(dev, names_by_key) == port_group

    if not add:
        def build_remove(spec, obj, host):
            changes = []
            for dev in _devices(obj):
                if is_pvrdma_on_pg(dev):
                    _remove(spec, dev)
                    changes.append(Change("pvrdma_adapter", port_group, None))
            return changes

        report = apply_specs(session, "pvrdma remove", plan_specs(snap, vms, build_remove))
        return _finish(report, f"has no PVRDMA adapter on {port_group}")

    problems, pgs = [], {}
    switches = {o.get("uuid"): o for o in snap.of_type("VmwareDistributedVirtualSwitch", "DistributedVirtualSwitch")}
    for obj in vms:
        host = hosts[obj.moid]
        if host is None:
            problems.append(_no_host(obj))
            continue
        try:
            pg = find_portgroup(snap, port_group, snap.ancestor(obj, "Datacenter"), dvs_name)
        except VhpcError as exc:
            problems.append(f"VM {obj.name}: {exc}")
            continue
        if not pg.distributed:
            problems.append(f"VM {obj.name}: PVRDMA needs a distributed port group; {port_group} is a standard "
                            "port group (create one with `dvs --create`)")
            continue
        pgs[obj.moid] = pg
        switch = switches.get(pg.dvs_uuid)
        members = {}
        for ref in (switch.get("summary.hostMember") if switch else None) or []:
            member = snap.by_ref(ref)
            members[ref._moId] = member.name if member else ref._moId
        problems += check_pvrdma(obj.name, host.name, host.moid, switch.name if switch else str(dvs_name), members)
    _validated(problems)

    def build_add(spec, obj, host):
        if any(is_pvrdma_on_pg(d) for d in _devices(obj)):
            return []
        _add(spec, pvrdma_adapter(pgs[obj.moid]))
        return [Change("pvrdma_adapter", None, port_group)]

    report = apply_specs(session, "pvrdma add", plan_specs(snap, vms, build_add))
    return _finish(report, f"already has a PVRDMA adapter on {port_group}")
