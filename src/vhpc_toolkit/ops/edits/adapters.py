"""`network --add/--remove` and `network_cfg`: adapters and their guest configuration."""
from __future__ import annotations

from vhpc_toolkit.errors import InputError, refuse_problems
from vhpc_toolkit.ops.networks.portgroups import PROPS as NET_PROPS, find_portgroup, member_problem, portgroup_names_by_key
from vhpc_toolkit.ops.edits.reconfigure import apply_specs, plan_specs
from vhpc_toolkit.ops.runner import Job, run_batch
from vhpc_toolkit.ops.vms.targets import read_targets
from vhpc_toolkit.results import FAILED, Report, TargetResult
from vhpc_toolkit.specs import Change
from vhpc_toolkit.specs.customization import GuestNetwork, customization_spec, default_hostname
from vhpc_toolkit.specs.devices.nic import add_nic, ethernet_cards, nic_network_name, order_known, remove_device

VM_PROPS = ["config.hardware.device", "runtime.powerState"]


def change_adapters(session, targets, port_groups: list[str], add: bool) -> Report:
    inv, vms = read_targets(session, targets, VM_PROPS, host_props=[], more=dict(NET_PROPS))
    names_by_key = portgroup_names_by_key(inv)

    def build(spec, obj, host):
        dc = inv.ancestor(obj, "Datacenter")
        on = {nic_network_name(d, names_by_key): d for d in ethernet_cards(obj.get("config.hardware.device"))}
        changes = []
        for name in port_groups:
            if add:
                pg = find_portgroup(inv, name, dc)  # NotFound is an InputError, not ValueError
                problem = member_problem(inv, pg, host)
                if problem:   # a ValueError: every VM is checked before any change
                    raise ValueError(problem)
                if name not in on:
                    spec.deviceChange = (spec.deviceChange or []) + [add_nic(pg)]
                    changes.append(Change("adapter", None, name))
            else:
                for dev in ethernet_cards(obj.get("config.hardware.device")):
                    if nic_network_name(dev, names_by_key) == name:
                        spec.deviceChange = (spec.deviceChange or []) + [remove_device(dev)]
                        changes.append(Change("adapter", name, None))
        return changes

    unchanged = ("already has an adapter on " if add else "has no adapter on ") + ", ".join(port_groups)
    return apply_specs(session, "network " + ("add" if add else "remove"), plan_specs(inv, vms, build),
                       unchanged=unchanged)


def configure_guest_network(session, targets, port_group: str, net: GuestNetwork,
                            hostname_given: bool, power_on: bool = False, ip_timeout: float = 300.0) -> Report:
    """CustomizeVM_Task per VM (powered off); the guest applies it at its next boot, which
    ``power_on`` starts, waiting for each VM's customization outcome."""
    inv, vms = read_targets(session, targets, VM_PROPS, host_props=[], more=dict(NET_PROPS))
    if not net.is_dhcp and len(vms) > 1:
        raise InputError("network_cfg: one static --ip cannot go to several VMs; use --vm, or --is_dhcp")
    names_by_key = portgroup_names_by_key(inv)
    problems, jobs, results, pending = [], [], [], []
    for obj in vms:
        vm_net = net if hostname_given else GuestNetwork(**{**vars(net), "hostname": default_hostname(obj.name)})
        vm_net.validated()
        cards = ethernet_cards(obj.get("config.hardware.device"))
        index = next((i for i, d in enumerate(cards) if nic_network_name(d, names_by_key) == port_group), None)
        if index is None:
            on = ", ".join(str(nic_network_name(d, names_by_key)) for d in cards) or "none"
            problems.append(f"VM {obj.name} has no adapter on port group {port_group} (its adapters: {on})")
            continue
        if obj.get("runtime.powerState") != "poweredOff":
            problems.append(f"VM {obj.name} is powered on; guest customization needs it powered off")
            continue
        # nicSettingMap in the guest's adapter order, with the MAC addresses when the order is certain.
        spec = customization_spec(vm_net, adapter_count=len(cards), adapter_index=index,
                                  macs=[d.macAddress for d in cards] if order_known(cards) else None)
        what = "dhcp" if vm_net.is_dhcp else f"{vm_net.ip}/{vm_net.netmask}"
        result = TargetResult(obj.name, detail=f"adapter {index + 1} on {port_group}: {what}, "
                                           f"hostname {vm_net.hostname}")
        results.append(result)
        pending.append((obj, result, vm_net))
        jobs.append(Job(result=result, start=lambda o=obj, s=spec: o.ref.CustomizeVM_Task(spec=s)))
    refuse_problems(problems)
    interrupted = run_batch(session, jobs)
    for r in results:
        if r.status == FAILED:
            r.detail = f"customization failed: {r.detail}"
        elif not power_on:
            r.detail += "; applied by the guest at its next power-on"
    if power_on and not interrupted:
        from vhpc_toolkit.ops.vms.customize import power_on_and_wait

        interrupted = power_on_and_wait(session, pending, ip_timeout)
    return Report("network_cfg", results, interrupted=interrupted)
