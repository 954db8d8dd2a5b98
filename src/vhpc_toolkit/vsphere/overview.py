"""The `view` document: datacenters > clusters > hosts > VMs, from one snapshot.

Plain dicts and lists (JSON-ready); output/inventory.py renders them as a tree.
"""
from __future__ import annotations

from typing import Any

from vhpc_toolkit.marks import SVS_MARK_PREFIX
from vhpc_toolkit.specs.devices.vgpu import vgpu_profile
from vhpc_toolkit.specs.devices.vgpu_profiles import MIG, TIME_SLICED, gpu_room, parse_profile, sharing_mode
from vhpc_toolkit.vsphere import hostnet
from vhpc_toolkit.vsphere.inventory import Obj, Inventory, read_inventory, read_objects

HOST_PROPS = ["runtime.connectionState", "runtime.inMaintenanceMode", "hardware.pciDevice",
              "config.pciPassthruInfo", "config.graphicsInfo", "config.sharedPassthruGpuTypes"]
# Plain values only: 10,000 VMs' device lists cost a minute of pyVmomi decoding (vsphere/fastread.py).
VM_PROPS = ["runtime.host", "runtime.powerState", "config.template", "guest.ipAddress"]
NET_HOST_PROPS = ["config.network.vswitch", "config.network.portgroup", "config.network.proxySwitch"]
# config.graphicsInfo graphicsType, as view shows it
GPU_MODES = {"direct": "passthrough", "sharedDirect": "vgpu", "shared": "shared", "basic": "basic"}
NET_VM_PROPS = ["config.hardware.device"]


def read_overview(session, networking: bool = False) -> dict[str, Any]:
    props: dict[str, list[str]] = {
        "ClusterComputeResource": [],
        "ComputeResource": [],
        "HostSystem": HOST_PROPS + (NET_HOST_PROPS if networking else []),
        "VirtualMachine": VM_PROPS + (NET_VM_PROPS if networking else []),
        "Network": [],    # names only, in the same read: every view lists its port groups
    }
    if networking:
        props["DistributedVirtualSwitch"] = ["uuid", "summary.hostMember"]
        props["DistributedVirtualPortgroup"] = ["key", "config.distributedVirtualSwitch"]
    inv = read_inventory(session, props)
    if not networking:   # the devices of the VMs running vGPUs, for the GPUs' vGPU lists: one more read
        _read_devices(session, inv, {ref._moId for h in inv.of_type("HostSystem")
                                     for g in h.get("config.graphicsInfo") or [] for ref in g.vm or []})
    return build_overview(inv, networking)


def _read_devices(session, inv: Inventory, moids: set[str]) -> None:
    refs = [inv.objects[m].ref for m in sorted(moids) if m in inv.objects]
    for moid, read in read_objects(session, refs, ["config.hardware.device"]).items():
        inv.objects[moid].props.update(read.props)


def _board(name: str | None) -> str | None:
    """V100 for `GV100GL [Tesla V100 PCIe 32GB]`, in profile spelling (v100)."""
    import re

    inside = re.search(r"\[(.*)\]", name or "")
    m = re.search(r"\b([A-Z]{1,2}\d{2,3})\b", inside.group(1) if inside else name or "")
    return m.group(1).lower() if m else None


def _vgpus(info, inv: Inventory, board: str | None) -> list[str]:
    """The vGPU profiles of the powered-on VMs vSphere lists on a GPU (one per VM)."""
    out = []
    for ref in info.vm or []:
        vm = inv.by_ref(ref)
        mine = [q for q in map(vgpu_profile, (vm.get("config.hardware.device") or []) if vm else [])
                if q and parse_profile(q) and parse_profile(q).board == board]
        out += mine[:1]
    return out


def _gpus(host: Obj, inv: Inventory) -> list[dict[str, Any]]:
    enabled = {info.id: bool(getattr(info, "passthruEnabled", False))
               for info in host.get("config.pciPassthruInfo") or []}
    graphics = {g.pciId: g for g in host.get("config.graphicsInfo") or []}
    offered = list(host.get("config.sharedPassthruGpuTypes") or [])
    gpus = []
    for dev in host.get("hardware.pciDevice") or []:
        if (dev.classId or 0) >> 8 != 0x03:  # PCI class 03xx: display controllers
            continue
        info = graphics.get(dev.id)
        mode = info.graphicsType if info is not None else None
        doc = {"id": dev.id, "name": dev.deviceName, "vendor": dev.vendorName,
               "passthrough": enabled.get(dev.id, False), "mode": GPU_MODES.get(mode, mode)}
        if mode == "sharedDirect":
            board = _board(dev.deviceName)
            running = _vgpus(info, inv, board)
            mig = sharing_mode(running, offered, board)
            fb = int(info.memorySizeInKB or 0) // 1024
            doc.update({"frame_buffer_gb": fb / 1024, "sharing": None if mig is None else (MIG if mig else TIME_SLICED),
                        "vgpus": running,
                        "free": {q: gpu_room(q, board, fb, running, mig) for q in offered
                                 if parse_profile(q) and parse_profile(q).board == board}})
        gpus.append(doc)
    return gpus


def _adapters(vm: Obj, inv: Inventory, pg_by_key: dict[str, str]) -> list[dict[str, Any]]:
    from pyVmomi import vim

    out = []
    for dev in vm.get("config.hardware.device") or []:
        if not isinstance(dev, vim.vm.device.VirtualEthernetCard):
            continue
        backing = dev.backing
        network = None
        if isinstance(backing, vim.vm.device.VirtualEthernetCard.NetworkBackingInfo):
            network = backing.deviceName
        elif isinstance(backing, vim.vm.device.VirtualEthernetCard.DistributedVirtualPortBackingInfo):
            network = pg_by_key.get(backing.port.portgroupKey, backing.port.portgroupKey)
        out.append({"label": dev.deviceInfo.label if dev.deviceInfo else str(dev.key),
                    "type": type(dev).__name__.split(".")[-1].replace("Virtual", "", 1),
                    "network": network, "mac": dev.macAddress})
    return out


def build_overview(inv: Inventory, networking: bool) -> dict[str, Any]:
    pg_by_key = {o.get("key"): o.name for o in inv.of_type("DistributedVirtualPortgroup")}
    vms_by_host: dict[str, list[Obj]] = {}
    for vm in inv.of_type("VirtualMachine"):
        host = vm.get("runtime.host")
        vms_by_host.setdefault(host._moId if host is not None else "", []).append(vm)

    def vm_doc(vm: Obj) -> dict[str, Any]:
        doc = {"name": vm.name, "power_state": vm.get("runtime.powerState"),
               "template": bool(vm.get("config.template")), "ip": vm.get("guest.ipAddress")}
        if networking:
            doc["adapters"] = _adapters(vm, inv, pg_by_key)
        return doc

    def host_doc(host: Obj) -> dict[str, Any]:
        doc = {"name": host.name, "connection_state": host.get("runtime.connectionState"),
               "maintenance": bool(host.get("runtime.inMaintenanceMode")), "gpus": _gpus(host, inv),
               "vms": [vm_doc(v) for v in sorted(vms_by_host.get(host.moid, []), key=lambda o: o.name)]}
        if networking:
            doc["switches"] = [{"name": sw.name, "pnics": sw.pnics, "port_groups": sw.port_groups, "mtu": sw.mtu}
                               for sw in hostnet.standard_switches(host)]
            doc["dvs_uplinks"] = hostnet.proxy_switches(host)
        return doc

    datacenters = []
    for dc in sorted(inv.of_type("Datacenter"), key=lambda o: o.name):
        clusters, standalone = [], []
        for cr in sorted(inv.of_type("ClusterComputeResource", "ComputeResource"), key=lambda o: o.name):
            if not inv.is_under(cr, dc):
                continue
            hosts = sorted((h for h in inv.of_type("HostSystem") if h.get("parent") is not None
                            and h.get("parent")._moId == cr.moid), key=lambda o: o.name)
            if cr.type == "ClusterComputeResource":
                clusters.append({"name": cr.name, "hosts": [host_doc(h) for h in hosts]})
            else:
                standalone.extend(host_doc(h) for h in hosts)
        doc: dict[str, Any] = {"name": dc.name, "clusters": clusters, "standalone_hosts": standalone}
        if networking:
            host_names = {h.moid: h.name for h in inv.of_type("HostSystem")}
            doc["distributed_switches"] = [
                {"name": sw.name, "uuid": sw.get("uuid"),
                 "hosts": sorted(host_names.get(h._moId, h._moId) for h in sw.get("summary.hostMember") or []),
                 "port_groups": sorted(pg.name for pg in inv.of_type("DistributedVirtualPortgroup")
                                       if pg.get("config.distributedVirtualSwitch") is not None
                                       and pg.get("config.distributedVirtualSwitch")._moId == sw.moid)}
                for sw in sorted(inv.of_type("VmwareDistributedVirtualSwitch", "DistributedVirtualSwitch"),
                                 key=lambda o: o.name) if inv.is_under(sw, dc)]
        doc["networks"] = sorted({n.name for n in inv.of_type("Network", "DistributedVirtualPortgroup")
                                  if inv.is_under(n, dc)})
        datacenters.append(doc)
    return {"datacenters": datacenters}


def all_hosts(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Every host of a view document, in clusters or standalone."""
    return [h for dc in doc["datacenters"] for h in dc["standalone_hosts"]] + \
        [h for dc in doc["datacenters"] for c in dc["clusters"] for h in c["hosts"]]


def vm_names(doc: dict[str, Any]) -> list[str]:
    """Every VM name of a view document."""
    return [vm["name"] for h in all_hosts(doc) for vm in h["vms"]]


def names(doc: dict[str, Any]) -> dict[str, list[str]]:
    """The names a view document holds, by kind (for shell completion)."""
    hosts = all_hosts(doc)
    vms = [vm for h in hosts for vm in h["vms"]]
    out = {"vms": [v["name"] for v in vms if not v["template"]], "templates": [v["name"] for v in vms if v["template"]],
           "hosts": [h["name"] for h in hosts], "devices": sorted({g["id"] for h in hosts for g in h["gpus"]}),
           "vgpu_profiles": sorted({q for h in hosts for g in h["gpus"] for q in g.get("free") or {}}),
           "clusters": [c["name"] for dc in doc["datacenters"] for c in dc["clusters"]],
           "datacenters": [dc["name"] for dc in doc["datacenters"]],
           "port_groups": sorted({n for dc in doc["datacenters"] for n in dc.get("networks", [])
                                  if not n.startswith(SVS_MARK_PREFIX)})}   # a cluster's mark is no port group to use
    if any("distributed_switches" in dc for dc in doc["datacenters"]):
        out["switches"] = [s["name"] for dc in doc["datacenters"] for s in dc.get("distributed_switches", [])]
    return out
