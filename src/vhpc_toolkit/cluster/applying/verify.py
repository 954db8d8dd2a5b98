"""What vCenter holds after a cluster run, read in one call, and how it differs from what the run asked.

A task that succeeds is not proof that vCenter applied the whole spec (govmomi's stock simulator, for
one, ignores a clone's config, host and power-on and reports success). So after the tasks every VM the
run created, reconfigured or powered on is read back once (one RetrievePropertiesEx for all of them);
the result shows the host, devices and vCPUs vCenter reports, and a VM that does not hold what the run
asked of it fails with the difference (docs/cluster-create.md, "Read back").
"""
from __future__ import annotations

from collections import Counter

from vhpc_toolkit.cluster.planning.desired import compute_request
from vhpc_toolkit.cluster.planning.plan import CREATE, ClusterPlan, VMPlan
from vhpc_toolkit.cluster.state.result import VMOutcome
from vhpc_toolkit.ops.networks.portgroups import portgroup_names_by_key
from vhpc_toolkit.results import FAILED, POWERED_ON, RECONFIGURED
from vhpc_toolkit.specs import compute, latency
from vhpc_toolkit.specs.compute import apply_compute
from vhpc_toolkit.specs.latency import apply_latency_level
from vhpc_toolkit.specs.devices.nic import ethernet_cards, is_sriov, nic_network_name
from vhpc_toolkit.specs.devices.passthrough import assigned_id, dynamic_type, normalize_id, passthrough_id
from vhpc_toolkit.specs.devices.sriov import sriov_pf_id
from vhpc_toolkit.vsphere.inventory import Inventory, Obj, read_objects
from vhpc_toolkit.words import count

# What differences() compares; the device list only when a VM of the run has devices or adapters
# to check (decoding 1,024 VMs' device lists costs seconds of client CPU).
READ_BACK_PROPS = sorted(set(compute.VM_PROPS) | set(latency.VM_PROPS) | {"name", "config.template"})
DEVICE_PROPS = ["config.hardware.device"]


def read_back(session, refs, devices: bool = True) -> dict[str, Obj]:
    """The VMs' properties as vCenter holds them now: moid -> Obj, in one read."""
    return read_objects(session, refs, READ_BACK_PROPS + (DEVICE_PROPS if devices else []))


def _asks_devices(p: VMPlan) -> bool:
    vm = p.spec
    return bool(vm.device or vm.vgpus or vm.sriov_port_group or vm.pvrdma_port_group or vm.port_group or
                (p.choice is not None and p.choice.gpus))


def devices_of(vm: Obj, names_by_key: dict[str, str]) -> list[str]:
    """The HPC devices a VM has, as the cluster report lists them."""
    from pyVmomi import vim

    out = []
    for d in vm.get("config.hardware.device") or []:
        backing = getattr(d, "backing", None)
        if isinstance(backing, vim.vm.device.VirtualPCIPassthrough.VmiopBackingInfo):
            out.append(f"vgpu {backing.vgpu}")
        elif dynamic_type(d):   # the device the host gave it at power-on, else the type it allows
            out.append(f"gpu {assigned_id(d) or '%04x:%04x' % dynamic_type(d)} (dynamic)")
        elif passthrough_id(d):
            out.append(f"gpu {passthrough_id(d)}")
        elif is_sriov(d):
            out.append(f"sriov {nic_network_name(d, names_by_key)}")
        elif isinstance(d, vim.vm.device.VirtualVmxnet3Vrdma):
            out.append(f"pvrdma {nic_network_name(d, names_by_key)}")
    return out


def choice_differences(choice, devices) -> list[str]:
    """How a new VM's devices differ from the GPUs the planner chose for it."""
    if choice is None or not choice.gpus:
        return []
    if choice.dynamic:
        allowed = [t for t in map(dynamic_type, devices) if t]
        missing = len(choice.gpus) - len(allowed)
        return [f"has {count(len(allowed), 'Dynamic DirectPath device')} (asked {len(choice.gpus)})"] if missing > 0 else []
    have = {passthrough_id(d) for d in devices} - {None}
    return [f"has no passthrough device {g.id} (chosen)" for g in choice.gpus if g.id not in have]


def differences(plan: VMPlan, vm: Obj, inv: Inventory, names_by_key: dict[str, str], powered_on: bool) -> list[str]:
    """How ``vm`` differs from what this run asked of it: `what vCenter holds (what was asked)` lines.

    ``powered_on``: the run powered the VM on (or cloned it with power-on).
    """
    from pyVmomi import vim

    spec, out = plan.spec, []
    host = inv.by_ref(vm.get("runtime.host"))
    mhz = host.get("summary.hardware.cpuMhz") if host else None
    if plan.action == CREATE and (host is None or host.moid != plan.placement.host.moid):
        out.append(f"runs on {host.name if host else 'no host'} (asked {plan.placement.host.name})")
    if powered_on and vm.get("runtime.powerState") != "poweredOn":
        out.append(f"is {vm.get('runtime.powerState')} (asked poweredOn)")
    if plan.action == CREATE and spec.power != "on" and vm.get("runtime.powerState") != "poweredOff":
        out.append(f"is {vm.get('runtime.powerState')} (asked power: off)")
    if plan.action == CREATE and vm.get("config.template"):
        out.append("is a template (asked a virtual machine)")
    # Compute and latency: what a plan of this VM would still change (as if off: no resize refusal).
    props = {**vm.props, "runtime.powerState": "poweredOff"}
    left = apply_compute(vim.vm.ConfigSpec(), props, compute_request(spec), mhz)
    if spec.latency:
        left += apply_latency_level(vim.vm.ConfigSpec(), props, spec.latency)
    out += [f"{c.field} is {c.old} (asked {c.new})" for c in left]
    if plan.action != CREATE:
        return out
    devices = vm.get("config.hardware.device") or []
    if getattr(spec, "dynamic", None) and spec.device:   # Dynamic DirectPath: one of each asked type, at power-on
        dynamic = sum(dynamic_type(d) is not None for d in devices)
        if dynamic < len(spec.device):
            out.append(f"has {count(dynamic, 'Dynamic DirectPath device')} (asked {len(spec.device)})")
    else:
        have = {passthrough_id(d) for d in devices} - {None}
        out += [f"has no passthrough device {d} (asked)" for d in spec.device or [] if normalize_id(d) not in have]
    profiles = [d.backing.vgpu for d in devices
                if isinstance(getattr(d, "backing", None), vim.vm.device.VirtualPCIPassthrough.VmiopBackingInfo)]
    out += [f"has no vGPU {q} (asked)" for q in (Counter(spec.vgpus) - Counter(profiles)).elements()]
    out += choice_differences(plan.choice, devices)
    if spec.sriov_port_group and not any(sriov_pf_id(d) for d in devices):
        out.append(f"has no SR-IOV adapter on {spec.sriov_port_group} (asked)")
    if spec.pvrdma_port_group and not any(isinstance(d, vim.vm.device.VirtualVmxnet3Vrdma) for d in devices):
        out.append(f"has no PVRDMA adapter on {spec.pvrdma_port_group} (asked)")
    if spec.port_group:
        names = [nic_network_name(d, names_by_key) for d in ethernet_cards(devices)
                 if not is_sriov(d) and not isinstance(d, vim.vm.device.VirtualVmxnet3Vrdma)]
        if spec.port_group not in names and None not in names:   # None: a port group this read cannot name
            out.append(f"has no adapter on {spec.port_group} (asked; it has {', '.join(names) or 'none'})")
    return out


def check_vms(session, plan: ClusterPlan, outcomes: dict[str, VMOutcome]) -> None:
    """Read back every VM the run created, reconfigured or powered on (one call), put what vCenter holds
    in its outcome (host, devices, vCPUs) and fail a VM that does not hold what the run asked."""
    touched = {}
    for p in plan.vms:
        out = outcomes[p.name]
        if out.failed or out.ref is None:
            continue
        if p.action == CREATE or out.status in (RECONFIGURED, POWERED_ON):
            touched[p.name] = (p, out)
    if not touched:
        return
    devices = any(_asks_devices(p) or p.action != CREATE for p, _ in touched.values())
    now = read_back(session, [out.ref for _, out in touched.values()], devices)
    names = portgroup_names_by_key(plan.inv)
    for p, out in touched.values():
        vm = now.get(out.ref._moId)
        if vm is None:
            out.status, out.detail = FAILED, "vCenter reported it done, but the VM is not in the inventory"
            continue
        host = plan.inv.by_ref(vm.get("runtime.host"))
        out.host, out.cpu = (host.name if host else None), vm.get("config.hardware.numCPU")
        # Not read back (the run asked no devices): a clone has its template's.
        out.devices = devices_of(vm if devices or p.template is None else p.template, names)
        powered_on = (p.action == CREATE and p.spec.power == "on") or p.power_on
        out.unapplied = differences(p, vm, plan.inv, names, powered_on)
        if out.unapplied:
            out.status = FAILED
            out.detail = "vCenter reported the tasks done, but does not hold: " + "; ".join(out.unapplied)
