"""One CloneSpec per new VM carrying everything: compute, reservations, shares, latency,
extraConfig, every device, guest customization and power-on."""
from __future__ import annotations

import copy
from typing import Callable

from vhpc_toolkit.cluster.cloning.copies import COPY_KEY
from vhpc_toolkit.cluster.planning.desired import compute_request
from vhpc_toolkit.cluster.ownership.owner import OWNER_KEY
from vhpc_toolkit.cluster.planning.plan import VMPlan
from vhpc_toolkit.ops.hosts.offers import device_types
from vhpc_toolkit.ops.post.steps import STEPS_KEY, has_record
from vhpc_toolkit.ops.vms.placement import ref_of
from vhpc_toolkit.specs.devices.accelerators import accelerator_options
from vhpc_toolkit.specs.clone import clone_spec, instant_clone_spec
from vhpc_toolkit.specs.compute import apply_compute
from vhpc_toolkit.specs.customization import customization_spec
from vhpc_toolkit.specs.latency import apply_latency_level
from vhpc_toolkit.specs.devices.nic import PortGroupRef, guest_order, is_sriov, nic_backing, nic_network_name
from vhpc_toolkit.specs.devices.passthrough import (DEFAULT_MMIO_GB, check_mmio_size, dynamic_passthrough_device,
                                            mmio_extra_config, normalize_id, passthrough_device, pci_type)
from vhpc_toolkit.specs.devices.pvrdma import pvrdma_adapter
from vhpc_toolkit.specs.devices.sriov import sriov_adapter
from vhpc_toolkit.specs.tuning import secure_boot
from vhpc_toolkit.specs.devices.vgpu import vgpu_device
from vhpc_toolkit.vsphere.inventory import Inventory

# find_pg(name, dvs_name) -> PortGroupRef, resolved within the VM's datacenter
PortGroupFinder = Callable[[str, "str | None"], PortGroupRef]


def build_config(plan: VMPlan, inv: Inventory, offer, find_pg: PortGroupFinder):
    """The ConfigSpec of a new VM and the number of adapters it will have (for customization)."""
    from pyVmomi import vim

    vm, template, host = plan.spec, plan.template, plan.placement.host
    config = vim.vm.ConfigSpec()
    apply_compute(config, template.props, compute_request(vm), host.get("summary.hardware.cpuMhz"))
    if vm.latency:  # its reservations are already in compute_request
        apply_latency_level(config, template.props, vm.latency)
    changes, main_index, adapters = _port_group_adapter(vm, template, find_pg)
    if vm.secure_boot is not None and vm.secure_boot != secure_boot(template.props):
        config.bootOptions = vim.vm.BootOptions(efiSecureBootEnabled=vm.secure_boot)
    devices, options, gpus = _passthrough(plan, offer)
    changes += devices
    options += accelerator_options(gpus, plan.choice.numa_node if plan.choice is not None else None,
                                   bool(vm.hugepages_1g))
    if options:
        config.extraConfig = options
    changes += [vgpu_device(profile) for profile in vm.vgpus]
    for adapter in vm.sriov_adapters():
        changes.append(sriov_adapter(offer.sriov_by_id()[normalize_id(adapter.pf)], _sriov_pg(vm, adapter, find_pg),
                                     allow_guest_mtu_change=vm.allow_guest_mtu_change is not False))
        adapters += 1
    if vm.pvrdma_port_group:
        changes.append(pvrdma_adapter(find_pg(vm.pvrdma_port_group, vm.dvs_name)))
        adapters += 1
    if changes:
        config.deviceChange = changes
    return config, adapters, main_index


def _port_group_adapter(vm, template, find_pg: PortGroupFinder) -> tuple[list, int, int]:
    """The edits that put the VM's adapter on ``port_group`` (the template's adapter there, its first one
    moved there, or a new one), the index of that adapter, and how many adapters the clone has so far.
    The order is the guest's (the order customization maps them in): the template's emulated adapters,
    a new one for port_group, PVRDMA, then SR-IOV adapters (specs.devices.nic.guest_order)."""
    from pyVmomi import vim

    nics = guest_order(template.get("config.hardware.device"))
    ordinary = [d for d in nics if not is_sriov(d)]
    changes, main_index = [], 0
    if vm.port_group:
        names: dict = {}
        current = [nic_network_name(d, names) for d in ordinary]
        if vm.port_group in current:
            main_index = current.index(vm.port_group)
        elif ordinary:
            nic = copy.copy(ordinary[0])  # same device, new backing
            nic.backing = nic_backing(find_pg(vm.port_group, None))
            changes.append(vim.vm.device.VirtualDeviceSpec(operation="edit", device=nic))
        else:
            from vhpc_toolkit.specs.devices.nic import add_nic
            changes.append(add_nic(find_pg(vm.port_group, None)))
    return changes, main_index, max(len(ordinary), 1 if vm.port_group else 0) + (len(nics) - len(ordinary))


def _passthrough(plan: VMPlan, offer) -> tuple[list, list, int]:
    """The VM's passthrough devices (the planner's GPUs, or the file's devices, Dynamic DirectPath or
    not), their MMIO settings, and how many there are."""
    vm, host, choice = plan.spec, plan.placement.host, plan.choice
    if choice is not None and choice.gpus:   # chosen by the planner (cluster/placement/planner.py)
        if choice.dynamic:
            devices = [dynamic_passthrough_device(g.vendor_id, g.device_id, choice.label, g.name) for g in choice.gpus]
        else:
            devices = [passthrough_device(offer.passthrough_by_id()[g.id]) for g in choice.gpus]
        return devices, mmio_extra_config(choice.mmio_gb or DEFAULT_MMIO_GB), len(choice.gpus)
    size = vm.mmio_size or DEFAULT_MMIO_GB
    if vm.device and vm.dynamic:   # each address stands for its device's type; the host picks at power-on
        asked, _ = device_types(host, vm.device)
        names = {pci_type(d): d.deviceName for d in host.get("hardware.pciDevice") or []}
        check_mmio_size(size, [names[k] for k, n in asked.items() for _ in range(n)])
        devices = [dynamic_passthrough_device(k[0], k[1], None, names[k]) for k, n in asked.items() for _ in range(n)]
        return devices, mmio_extra_config(size), sum(asked.values())
    if vm.device:
        infos = [offer.passthrough_by_id()[normalize_id(d)] for d in vm.device]
        check_mmio_size(size, [i.pciDevice for i in infos])
        return [passthrough_device(i) for i in infos], mmio_extra_config(size), len(infos)
    return [], [], 0


def _sriov_pg(vm, adapter, find_pg: PortGroupFinder) -> PortGroupRef:
    """The adapter's port group: on its ``sriov_dvs_name`` switch when given. Without it, ``dvs_name``
    (which serves PVRDMA and SR-IOV alike in the original's older files) is tried first, then a
    standard port group of that name."""
    from vhpc_toolkit.errors import NotFound

    if adapter.dvs_name:
        return find_pg(adapter.port_group, adapter.dvs_name)
    if vm.dvs_name and not vm.svs_name:
        try:
            return find_pg(adapter.port_group, vm.dvs_name)
        except NotFound:
            pass
    return find_pg(adapter.port_group, None)


def build_instant_clone_spec(plan: VMPlan, owner: str | None = None):
    """InstantClone_Task's spec: the clone's name, folder, pool and datastore (never a host: it runs on
    its source's); ``owner``, the file's mark, replaces the one the source's extraConfig may carry."""
    placement = plan.placement
    return instant_clone_spec(plan.name, pool=placement.pool,
                              datastore=placement.datastore.ref if placement.datastore else None,
                              folder=ref_of(placement.folder), options=_instant_options(plan, owner))


def _instant_options(plan: VMPlan, owner: str | None) -> dict | None:
    """The instant clone's extraConfig over its source's: the file's owner mark, no script record."""
    options = {OWNER_KEY: owner} if owner else {}
    if has_record(plan.template):
        options[STEPS_KEY] = ""
    return options or None


def build_clone_spec(plan: VMPlan, inv: Inventory, offer, find_pg: PortGroupFinder, snapshot_ref=None,
                     owner: str | None = None):
    """``owner``: the cluster file's owner mark, written with the VM (cluster/ownership/owner.py)."""
    from pyVmomi import vim

    vm, placement = plan.spec, plan.placement
    config, adapters, main_index = build_config(plan, inv, offer, find_pg)
    if owner:
        config.extraConfig = list(config.extraConfig or []) + [vim.option.OptionValue(key=OWNER_KEY, value=owner)]
    if has_record(plan.template):   # a clone starts with no finished steps: the source's record is not its own
        config.extraConfig = list(config.extraConfig or []) + [vim.option.OptionValue(key=STEPS_KEY, value="")]
    # A clone is never a copy, though its source may be one (cluster/cloning/run.py picks it after this
    # spec is built): an empty value removes the key, and is nothing when the source has none.
    config.extraConfig = list(config.extraConfig or []) + [vim.option.OptionValue(key=COPY_KEY, value="")]
    custom = customization_spec(plan.network, adapters, main_index) if plan.network else None
    return clone_spec(host=placement.host.ref, pool=placement.pool,
                      datastore=placement.datastore.ref if placement.datastore else None,
                      linked=bool(vm.linked), snapshot=snapshot_ref, config=config, customization=custom,
                      power_on=vm.power == "on")
