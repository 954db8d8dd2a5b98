"""The original's host commands: power policy, PCI passthrough and SR-IOV of host devices.

Each reads the hosts (and the VMs that use their devices) in one read, checks every host
before the first change (one ValidationFailed naming each problem), then makes one call per
host that needs a change, hosts side by side (the calls are synchronous).
"""
from __future__ import annotations


from vhpc_toolkit.errors import InputError, VhpcError, refuse_problems
from vhpc_toolkit.ops.hosts.offers import passthrough_users, vfs_in_use
from vhpc_toolkit.ops.runner import run_calls
from vhpc_toolkit.ops.vms.targets import read_vm_file
from vhpc_toolkit.results import HOST, Report, TargetResult
from vhpc_toolkit.specs.host import POLICY_TITLES, offered_policy, passthru_config, sriov_config, sriov_counts
from vhpc_toolkit.specs.devices.passthrough import normalize_id
from vhpc_toolkit.vsphere.inventory import Inventory, Obj, read_inventory
from vhpc_toolkit.words import count

VM_PROPS = ["config.hardware.device", "runtime.powerState", "runtime.host"]


def host_names(host: str | None, file: str | None) -> list[tuple[str, str]]:
    """(name, where) of ``--host`` or of ``--file`` (one host per line); read before any login."""
    if host is not None:
        return [(host, "--host")]
    names, seen = [], set()
    for number, fields in read_vm_file(file, what="host"):
        if fields[0] not in seen:
            seen.add(fields[0])
            names.append((fields[0], f"{file}:{number}"))
    return names


def read_hosts(session, names: list[tuple[str, str]], host_props: list[str],
               with_vms: bool = False) -> tuple[Inventory, list[Obj]]:
    """One read of the hosts (and of every VM, for device users); every name resolved or one error."""
    props = {"HostSystem": sorted(set(host_props))}
    if with_vms:
        props["VirtualMachine"] = VM_PROPS
    inv = read_inventory(session, props)
    hosts, problems = [], []
    for name, where in names:
        try:
            hosts.append(inv.find("HostSystem", name, what="host"))
        except VhpcError as exc:
            problems.append(str(exc) if where == "--host" else f"{where}: {exc}")
    refuse_problems(problems)
    return inv, hosts


# --- power policy ----------------------------------------------------------------------------

POWER_PROPS = ["configManager.powerSystem", "config.powerSystemCapability", "config.powerSystemInfo"]


def set_power_policy(session, names, number: int) -> Report:
    """`power_policy --policy N`: the host's policy of that kind (1 high performance, 2 balanced,
    3 low power, 4 custom), found among the policies the host offers."""
    if number not in POLICY_TITLES:
        raise InputError(f"power_policy: --policy must be 1, 2, 3 or 4, not {number}")
    _, hosts = read_hosts(session, names, POWER_PROPS)
    problems, plans = [], []
    for host in hosts:
        capability = host.get("config.powerSystemCapability")
        policy = offered_policy(capability, number)
        if host.get("configManager.powerSystem") is None or capability is None:
            problems.append(f"host {host.name} has no power management (no power system)")
        elif policy is None:
            offered = ", ".join(f"{p.key} {p.name}" for p in capability.availablePolicy or []) or "none"
            problems.append(f"host {host.name} does not offer the {POLICY_TITLES[number]} power policy "
                            f"(it offers: {offered})")
        else:
            plans.append((host, policy))
    refuse_problems(problems)
    results, work = [], []
    for host, policy in plans:
        result = TargetResult(host.name, kind=HOST, data={"policy": policy.name, "key": policy.key})
        results.append(result)
        current = getattr(host.get("config.powerSystemInfo"), "currentPolicy", None)
        if current is not None and current.key == policy.key:
            result.detail = f"already {policy.name}"
            continue
        result.detail = f"{current.name if current else '?'} -> {policy.name}"
        system = host.get("configManager.powerSystem")
        work.append((result, lambda s=system, k=policy.key: s.ConfigurePowerPolicy(key=k)))
    run_calls(work)
    return Report(f"power policy {POLICY_TITLES[number]}", results)


# --- PCI passthrough of a host device -------------------------------------------------------

PASSTHRU_PROPS = ["configManager.pciPassthruSystem", "config.pciPassthruInfo", "hardware.pciDevice"]


def _info(host: Obj, pci_id: str):
    return next((i for i in host.get("config.pciPassthruInfo") or [] if normalize_id(i.id) == normalize_id(pci_id)),
                None)


def _device_name(host: Obj, pci_id: str) -> str:
    dev = next((d for d in host.get("hardware.pciDevice") or [] if normalize_id(d.id) == normalize_id(pci_id)), None)
    return f"{dev.vendorName} {dev.deviceName}" if dev is not None else "?"


def _capable(host: Obj) -> str:
    return ", ".join(i.id for i in host.get("config.pciPassthruInfo") or [] if i.passthruCapable) or "none"


def set_host_passthrough(session, names, pci_id: str, on: bool) -> Report:
    """`passthru_host --device ID (--on | --off)`: make a host's PCI device available for passthrough to
    VMs, or not; a device a powered-on VM uses stays enabled."""
    from pyVmomi import vim

    inv, hosts = read_hosts(session, names, PASSTHRU_PROPS, with_vms=True)
    users = passthrough_users(inv)
    problems, plans = [], []
    for host in hosts:
        info = _info(host, pci_id)
        where = f"host {host.name}"
        if info is None:
            problems.append(f"{where} has no passthrough-capable PCI device {pci_id} (capable: {_capable(host)})")
        elif not info.passthruCapable:
            problems.append(f"{where}: device {pci_id} ({_device_name(host, pci_id)}) is not passthrough capable")
        elif on and isinstance(info, vim.host.SriovInfo) and info.sriovEnabled:
            problems.append(f"{where}: {pci_id} is an SR-IOV physical function with SR-IOV enabled; it serves "
                            "virtual functions and cannot be passed through itself (sriov_host --off first)")
        elif not on and users.get(host.moid, {}).get(normalize_id(pci_id)):
            vms = ", ".join(users[host.moid][normalize_id(pci_id)])
            problems.append(f"{where}: device {pci_id} is in use by powered-on VM(s) {vms}; power them off first")
        else:
            plans.append((host, info))
    refuse_problems(problems)
    results, work = [], []
    for host, info in plans:
        result = TargetResult(host.name, kind=HOST, data={"device": info.id, "passthrough": on})
        results.append(result)
        if bool(info.passthruEnabled) == on:
            result.detail = f"{info.id} already {'enabled' if on else 'disabled'} for passthrough"
            continue
        result.detail = f"{info.id} ({_device_name(host, info.id)}) passthrough {'enabled' if on else 'disabled'}"
        system = host.get("configManager.pciPassthruSystem")
        work.append((result, lambda s=system, c=passthru_config(info.id, on): s.UpdatePassthruConfig(config=[c])))
    run_calls(work)
    return Report(f"passthru_host {'on' if on else 'off'}", results)


# --- SR-IOV of a host's physical function --------------------------------------------------

def _sriov_pfs(host: Obj) -> str:
    from pyVmomi import vim

    pfs = [f"{i.id} (up to {i.maxVirtualFunctionSupported} VFs)" for i in host.get("config.pciPassthruInfo") or []
           if isinstance(i, vim.host.SriovInfo) and i.sriovCapable]
    return ", ".join(pfs) or "none"


def _sriov_words(on: bool, n: int) -> str:
    return f"on with {n} VFs" if on and n else "off"


def set_host_sriov(session, names, pci_id: str, on: bool, num_func: int | None) -> Report:
    """`sriov_host --device PF (--on [--num_func N] | --off)`: SR-IOV on a physical function with N virtual
    functions (at most what the device supports; default: as asked now, else its maximum), or off. Fewer
    VFs than powered-on VMs' adapters use is refused. The host applies a new count at its next boot:
    the result says "reboot required" until then, and a re-run that asks again changes nothing."""
    from pyVmomi import vim

    if num_func is not None and num_func < 1:
        raise InputError(f"sriov_host: --num_func must be at least 1, not {num_func}")
    inv, hosts = read_hosts(session, names, PASSTHRU_PROPS, with_vms=True)
    problems, plans = [], []
    for host in hosts:
        info = _info(host, pci_id)
        where = f"host {host.name}"
        if not isinstance(info, vim.host.SriovInfo) or not info.sriovCapable:
            problems.append(f"{where}: {pci_id} is not an SR-IOV physical function (its SR-IOV physical "
                            f"functions: {_sriov_pfs(host)}; give the PF, not a virtual function)")
            continue
        maximum = info.maxVirtualFunctionSupported or 0
        want = 0
        if on:
            want = num_func or sriov_counts(info)[1] or sriov_counts(info)[0] or maximum
            if want > maximum:
                problems.append(f"{where}: {info.id} supports at most {maximum} virtual functions, "
                                f"not {want}")
                continue
        used = vfs_in_use(inv, host.moid, info.id)
        if used > want:
            problems.append(f"{where}: {count(used, 'virtual function')} of {info.id} {'is' if used == 1 else 'are'} in use by powered-on VMs; "
                            f"{'SR-IOV cannot be turned off' if not on else f'cannot go down to {want}'} "
                            "until they are powered off")
            continue
        plans.append((host, info, want))
    refuse_problems(problems)
    results, work = [], []
    for host, info, want in plans:
        result = TargetResult(host.name, kind=HOST, data={"device": info.id, "sriov": on, "virtual_functions": want})
        results.append(result)
        active, requested = sriov_counts(info)
        active_on = bool(info.sriovActive and active)
        pending = active != want or active_on != (on and want > 0)
        result.data["reboot_required"] = pending
        reboot = (f"; reboot required: the host activates it at its next boot (now {_sriov_words(active_on, active)})"
                  if pending else "")
        if (bool(info.sriovEnabled), requested) == (on, want):
            result.detail = f"{info.id}: SR-IOV already {'asked' if pending else ''} {_sriov_words(on, want)}".replace(
                "  ", " ") + reboot
            continue
        result.detail = f"{info.id}: SR-IOV {_sriov_words(bool(info.sriovEnabled), requested)} -> " \
                        f"{_sriov_words(on, want)}{reboot}"
        system = host.get("configManager.pciPassthruSystem")
        work.append((result, lambda s=system, c=sriov_config(info.id, on, want): s.UpdatePassthruConfig(config=[c])))
    run_calls(work)
    return Report(f"sriov_host {'on' if on else 'off'}", results)
