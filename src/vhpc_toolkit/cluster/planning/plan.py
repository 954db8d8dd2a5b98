"""Plan a cluster: for each switch and VM, create / reconfigure / nothing, and every problem found
before anything changes.

Everything here works on one inventory snapshot (cluster/inventory.py) plus the
host offers of the hosts VMs land on; nothing here changes vCenter.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any, Sequence

from vhpc_toolkit.clusterfile import ClusterSpec, VMSpec
from vhpc_toolkit.cluster.planning.desired import compute_request, wants_customization
from vhpc_toolkit.cluster.ownership.owner import (Unproven, elsewhere_note, file_folder, foreign_note, match_vm,
                                                  owner_of, vms_by_name)
from vhpc_toolkit.cluster.placement.planner import Held, gpu_drift, plan_placement
from vhpc_toolkit.cluster.networks.plan_switches import NOTHING, SwitchPlan, plan_dvs, plan_svs, shared_uplinks
from vhpc_toolkit.cluster.ownership.strays import made_by_file
from vhpc_toolkit.errors import VhpcError
from vhpc_toolkit.limits import MIN_EFI_MEMORY_MB, memory_mb
from vhpc_toolkit.ops.vms.linked import linked_note, linked_problem
from vhpc_toolkit.ops.hosts.offers import device_types
from vhpc_toolkit.ops.vms.placement import Placement, place
from vhpc_toolkit.specs import Change
from vhpc_toolkit.specs.compute import ResizeRefused, apply_compute
from vhpc_toolkit.specs.customization import BadNetworkValue, GuestNetwork, default_hostname
from vhpc_toolkit.specs.hardware import needs_upgrade
from vhpc_toolkit.specs.latency import apply_latency_level
from vhpc_toolkit.specs.devices.passthrough import dynamic_type
from vhpc_toolkit.specs.tuning import apply_secure_boot
from vhpc_toolkit.words import plural
from vhpc_toolkit.vsphere.inventory import Obj, Inventory

CREATE, RECONFIGURE, DRIFT = "create", "reconfigure", "drift"
ELASTIC_ABSENT = "elastic: Slurm creates it when jobs need it"


@dataclass
class VMPlan:
    spec: VMSpec
    action: str = NOTHING
    existing: Obj | None = None
    template: Obj | None = None
    placement: Placement | None = None
    changes: list[Change] = field(default_factory=list)   # reconfigure: what will change
    drift: list[str] = field(default_factory=list)        # differences left as they are
    power_on: bool = False                                # an existing VM to power on
    power_cycle: bool = False                             # power off, reconfigure, power on
    network: GuestNetwork | None = None
    config_spec: Any = None                               # reconfigure: the one spec to send
    file_switches: Any = None                             # (svs, dvs) of the file, for port group checks
    choice: Any = None                                    # cluster/placement.Choice: host and devices chosen

    @property
    def name(self) -> str:
        return self.spec.name

    def host_name(self, inv: Inventory) -> str | None:
        if self.placement is not None:
            return self.placement.host.name
        if self.existing is not None:
            host = inv.by_ref(self.existing.get("runtime.host"))
            return host.name if host else None
        return None


@dataclass
class ClusterPlan:
    spec: ClusterSpec
    inv: Inventory
    switches: list[SwitchPlan]
    vms: list[VMPlan]
    problems: list[str]
    strays: list[Obj] = field(default_factory=list)       # VMs of the file's naming pattern it no longer has
    prune: bool = False                                   # --prune: destroy the strays the file made
    warnings: list[str] = field(default_factory=list)    # shown before the confirmation, kept in the result
    pvrdma: list = field(default_factory=list)            # cluster/pvrdma.PvrdmaPlan: hosts to prepare
    owner: str = ""                                    # the cluster's mark, for what it makes (cluster/ownership/owner.py)
    notes: list[str] = field(default_factory=list)     # same-named VMs left alone, for the report
    rules: list = field(default_factory=list)             # cluster/rules.RulePlan: DRS anti-affinity rules
    contents: dict = field(default_factory=dict)          # script path -> bytes (read once, before any change)
    steps: dict = field(default_factory=dict)             # VM name -> cluster/scripts.StepState list
    rerun_scripts: bool = False                           # --rerun-scripts: every step runs again
    held: list = field(default_factory=list)              # cluster/placement.Held: kept from the planner
    clones: Any = None                                    # cluster/clone_run.CloneRun: sources and order of the clones

    @property
    def scripts_pending(self) -> list[str]:
        """The VMs with script steps to run (cluster/guests/scripts.py): not done, or all with --rerun-scripts."""
        return [name for name, states in self.steps.items()
                if states and (self.rerun_scripts or any(not s.done for s in states))]

    @property
    def prunable(self) -> list[Obj]:
        """The strays --prune destroys: those carrying the file's owner mark (cluster/ownership/strays.py)."""
        return [o for o in self.strays if made_by_file(o, self.spec)]

    @property
    def up_to_date(self) -> bool:
        return not (self.prune and self.prunable) and \
            all(p.action in (NOTHING, DRIFT) and not p.power_on for p in self.vms) and \
            all(s.action == NOTHING for s in self.switches) and not any(p.pending for p in self.pvrdma) and \
            not any(r.pending for r in self.rules) and not self.scripts_pending


def _where(spec: ClusterSpec, line: int) -> str:
    return f"{spec.path}:{line}"


# --- VMs -----------------------------------------------------------------------------------------

def _guest_network(vm: VMSpec) -> GuestNetwork | None:
    if not wants_customization(vm):
        return None
    return GuestNetwork(hostname=vm.guest_hostname or default_hostname(vm.name), is_dhcp=bool(vm.is_dhcp),
                        ip=None if vm.is_dhcp else vm.ip, netmask=vm.netmask, gateway=vm.gateway,
                        dns=tuple(vm.dns or ()), domain=vm.domain).validated()


def _port_group_known(inv: Inventory, name: str, file_pgs: set[str]) -> bool:
    return name in file_pgs or any(o.name == name for o in inv.of_type("Network", "DistributedVirtualPortgroup"))


def _plan_new_vm(inv: Inventory, plan: VMPlan, file_pgs: set[str], problems: list[str], where: str) -> None:
    vm = plan.spec
    if not vm.template:
        problems.append(f"{where}: VM {vm.name}: no template")
        return
    try:
        plan.template = inv.find("VirtualMachine", vm.template, what="template")
        host = _instant_host(inv, plan.template, vm) if vm.instant else vm.host
        plan.placement = place(inv, plan.template, vm.datacenter, vm.vm_folder, vm.cluster, host,
                               None if vm.linked else vm.datastore, vm.resource_pool)
    except VhpcError as exc:
        problems.append(f"{where}: VM {vm.name}: {exc}")
        return
    if vm.linked and linked_problem(plan.template):
        problems.append(f"{where}: linked: yes: {linked_problem(plan.template)}")   # once per line
        return
    plan.action = CREATE
    if vm.port_group and not _port_group_known(inv, vm.port_group, file_pgs):
        problems.append(f"{where}: VM {vm.name}: port_group {vm.port_group!r} not found (and no switch in the "
                        "file creates it)")
    for adapter in vm.sriov_adapters():
        problems += [f"{where}: VM {vm.name}: {p}" for p in _sriov_switch_problems(inv, plan, adapter, file_pgs)]
    if vm.instant:
        problems += [f"{where}: VM {vm.name}: {p}" for p in _instant_source_problems(plan.template)]
    if vm.secure_boot and (plan.template.get("config.firmware") or "bios") != "efi":
        problems.append(f"{where}: VM {vm.name}: secure_boot needs EFI firmware; template {vm.template} boots with "
                        f"{(plan.template.get('config.firmware') or 'bios').upper()}")
    firmware = plan.template.get("config.firmware") or "bios"
    if vm.memory and vm.power == "on" and firmware == "efi" and memory_mb(vm.memory) < MIN_EFI_MEMORY_MB:
        problems.append(f"{where}: VM {vm.name}: memory {vm.memory:g} GB is less than the {MIN_EFI_MEMORY_MB} MB "
                        f"a VM that boots with EFI (as template {vm.template} does) needs to power on")
    if vm.pvrdma_port_group and not _port_group_known(inv, vm.pvrdma_port_group, file_pgs):
        problems.append(f"{where}: VM {vm.name}: pvrdma_port_group {vm.pvrdma_port_group!r} not found "
                        "(and no _DVS_ line creates it)")


def _sriov_switch_problems(inv: Inventory, plan: VMPlan, adapter, file_pgs: set[str]) -> list[str]:
    """An SR-IOV adapter's port group must exist: on distributed switch ``sriov_dvs_name`` when given, on
    standard switch ``svs_name`` (on the VM's host) when given, else anywhere (or made by the file)."""
    spec, host = plan.spec, plan.placement.host
    pg, dvs = adapter.port_group, adapter.dvs_name
    if dvs:
        if any(sw.name == dvs and sw.port_group == pg for sw in plan_spec_dvs(plan)):
            return []
        switch = next((o for o in inv.of_type("VmwareDistributedVirtualSwitch", "DistributedVirtualSwitch")
                       if o.name == dvs), None)
        if switch is None:
            return [f"sriov_dvs_name: distributed switch {dvs!r} not found (and no _DVS_ line creates it)"]
        on_switch = [o for o in inv.of_type("DistributedVirtualPortgroup") if o.name == pg
                     and o.get("config.distributedVirtualSwitch") is not None
                     and o.get("config.distributedVirtualSwitch")._moId == switch.moid]
        return [] if on_switch else [f"sriov_port_group {pg!r} is not a port group of distributed switch {dvs}"]
    if spec.svs_name:
        if any(sw.name == spec.svs_name and sw.port_group == pg and host.name in sw.host for sw in plan_spec_svs(plan)):
            return []
        on_switch = {p.spec.name for p in host.get("config.network.portgroup") or []
                     if p.spec.vswitchName == spec.svs_name}
        if pg not in on_switch:
            return [f"sriov_port_group {pg!r} is not on standard switch {spec.svs_name} of host {host.name}"]
        return []
    if not _port_group_known(inv, pg, file_pgs):
        return [f"sriov_port_group {pg!r} not found (and no switch in the file creates it)"]
    return []


def plan_spec_dvs(plan: VMPlan):
    return plan.file_switches[1] if plan.file_switches else []


def plan_spec_svs(plan: VMPlan):
    return plan.file_switches[0] if plan.file_switches else []


def _instant_host(inv: Inventory, source: Obj, vm: VMSpec) -> str | None:
    """An instant clone's host: its source's, the only one InstantClone_Task allows (it shares the
    source's memory and disks). Raises VhpcError when the file pins another host."""
    host = inv.by_ref(source.get("runtime.host"))
    if host is None or source.get("config.template"):   # no fork from a template: said once, below
        return vm.host
    if vm.host and vm.host != host.name:
        raise VhpcError(f"an instant clone runs on its source's host: {source.name} runs on {host.name}, "
                        f"the file gives host: {vm.host} (remove host:, or give {host.name})")
    return host.name


def _instant_source_problems(source: Obj) -> list[str]:
    """InstantClone_Task forks a running VM without DirectPath, SR-IOV or vGPU devices."""
    from vhpc_toolkit.specs.devices.passthrough import dynamic_type, passthrough_id
    from vhpc_toolkit.specs.devices.sriov import sriov_pf_id
    from vhpc_toolkit.specs.devices.vgpu import vgpu_profile

    if source.get("config.template"):
        return [f"instant: {source.name} is a template; an instant clone is made from a running VM"]
    out = []
    if source.get("runtime.powerState") != "poweredOn":
        out.append(f"instant: source VM {source.name} is {source.get('runtime.powerState')}; an instant clone "
                   "is made from a running VM (power it on first)")
    for dev in source.get("config.hardware.device") or []:
        if passthrough_id(dev) or dynamic_type(dev) or sriov_pf_id(dev) or vgpu_profile(dev):
            out.append(f"instant: source VM {source.name} has a DirectPath, SR-IOV or vGPU device, which prevents "
                       "instant clones")
            break
    return out


def _plan_existing_vm(inv: Inventory, plan: VMPlan, allow_power_off: bool) -> None:
    from pyVmomi import vim

    vm, obj = plan.spec, plan.existing
    host = inv.by_ref(obj.get("runtime.host"))
    mhz = host.get("summary.hardware.cpuMhz") if host else None
    spec = vim.vm.ConfigSpec()
    powered_on = obj.get("runtime.powerState") == "poweredOn"
    try:
        changes = apply_compute(spec, obj.props, compute_request(vm), mhz)
    except ResizeRefused:
        if not allow_power_off:
            plan.drift.append(f"cpu/memory differ ({obj.get('config.hardware.numCPU')} vCPU, "
                              f"{obj.get('config.hardware.memoryMB')} MB) and the VM is powered on; "
                              "use --allow-power-off to resize it")
            spec = vim.vm.ConfigSpec()
            changes = apply_compute(spec, obj.props, _without_resize(compute_request(vm)), mhz)
        else:
            plan.power_cycle = True
            spec = vim.vm.ConfigSpec()
            changes = apply_compute(spec, {**obj.props, "runtime.powerState": "poweredOff"},
                                    compute_request(vm), mhz)
    if vm.latency:
        changes += apply_latency_level(spec, obj.props, vm.latency)
    if vm.secure_boot is not None:
        try:
            changes += apply_secure_boot(spec, obj.props, vm.secure_boot)
        except ValueError as exc:
            plan.drift.append(f"secure boot differs: the VM {exc}")
    plan.changes = changes
    plan.config_spec = spec if changes else None
    plan.drift += _device_drift(vm, obj, host) + gpu_drift(plan)
    if vm.host and host is not None and host.name != vm.host:
        plan.drift.append(f"runs on {host.name}, the file says {vm.host} (not moved)")
    if plan.network is not None and not plan.network.is_dhcp and powered_on:
        have = [ip for nic in obj.get("guest.net") or [] for ip in (nic.ipAddress or []) if ":" not in ip]
        if have and plan.network.ip not in have:   # no address reported: nothing to compare
            plan.drift.append(f"guest address {', '.join(have)}, the file asks for {plan.network.ip} "
                              "(its guest customization failed, or the guest changed it; not re-customized)")
    plan.power_on = vm.power == "on" and (not powered_on or plan.power_cycle)
    if plan.power_on and host is not None and host.get("runtime.inMaintenanceMode"):
        raise ValueError(f"it is to be powered on, and its host {host.name} is in maintenance mode "
                         "(no VM is powered on there): exit maintenance mode first")
    plan.action = RECONFIGURE if changes else (DRIFT if plan.drift else NOTHING)


def _device_drift(vm: VMSpec, obj: Obj, host: Obj | None) -> list[str]:
    """The file's passthrough devices and vGPUs an existing VM lacks (devices are not added to an
    existing VM: reported as drift)."""
    from pyVmomi import vim

    devices = obj.get("config.hardware.device") or []
    out = []
    if vm.device and vm.dynamic and host is not None:
        asked, _ = device_types(host, vm.device)
        have = Counter(t for t in (dynamic_type(d) for d in devices) if t)
        short = {f"{k[0]:04x}:{k[1]:04x}": n - have[k] for k, n in asked.items() if have[k] < n}
        if short:
            out.append(f"Dynamic DirectPath {plural(sum(short.values()), 'device')} "
                       + ", ".join(f"{n} x {t}" for t, n in short.items())
                       + " not on the VM (not added to an existing VM)")
    elif vm.device:
        have = {d.backing.id.lower() for d in devices if isinstance(d, vim.vm.device.VirtualPCIPassthrough)
                and isinstance(d.backing, vim.vm.device.VirtualPCIPassthrough.DeviceBackingInfo)}
        missing = [d for d in vm.device if d.lower() not in have]
        if missing:
            out.append(f"passthrough {plural(len(missing), 'device')} {', '.join(missing)} not on the VM "
                       "(not added to an existing VM)")
    if vm.vgpus:
        profiles = [d.backing.vgpu for d in devices
                    if isinstance(getattr(d, "backing", None), vim.vm.device.VirtualPCIPassthrough.VmiopBackingInfo)]
        missing = list((Counter(vm.vgpus) - Counter(profiles)).elements())
        if missing:
            out.append(f"vGPU {', '.join(missing)} not on the VM (not added to an existing VM)")
    return out


def _leave_to_slurm(plan: VMPlan, slurms: bool) -> None:
    """An absent elastic VM is checked like a new one, then left for Slurm to create."""
    if slurms:
        plan.action, plan.placement = NOTHING, None


def _without_resize(req):
    from dataclasses import replace

    return replace(req, cpu=None, memory_gb=None, cores_per_socket=None)


def plan_cluster(inv: Inventory, spec: ClusterSpec, allow_power_off: bool = False, *, elastic: bool = False,
                 held: Sequence[Held] = ()) -> ClusterPlan:
    """Every switch's and VM's action, from the one read ``inv``.

    Elastic VMs (``elastic: yes``) are Slurm's: an absent one is checked but not created, a stopped
    one not powered on, unless ``elastic`` (the Slurm programs, slurm/power.py, plan them as any VM).
    ``held``: what other runs hold that ``inv`` does not show yet, kept from the planner.
    """
    problems: list[str] = []
    shared_uplinks(spec, problems)
    switches = [plan_svs(inv, sw, problems, _where(spec, sw.line)) for sw in spec.svs]
    switches += [plan_dvs(inv, sw, problems, _where(spec, sw.line)) for sw in spec.dvs]
    run = _Planning(inv, spec, owner_of(spec), vms_by_name(inv), problems, allow_power_off=allow_power_off,
                    elastic=elastic)
    plans = [run.plan_vm(vm) for vm in spec.vms]
    plan = ClusterPlan(spec=spec, inv=inv, switches=switches, vms=plans, problems=problems, owner=run.owner.mark,
                       notes=run.notes, held=list(held))
    plan_placement(inv, plan)   # hosts and devices of the new VMs, from this read (cluster/placement/planner.py)
    plan.problems = list(dict.fromkeys(plan.problems))
    return plan


@dataclass
class _Planning:
    """What planning one VM needs from the run: the read, the file, its owner, the VMs by name."""

    inv: Inventory
    spec: ClusterSpec
    owner: Any
    vms_by_name: dict
    problems: list
    notes: list = field(default_factory=list)
    allow_power_off: bool = False
    elastic: bool = False

    def plan_vm(self, vm: VMSpec) -> VMPlan:
        """The VM's action: create, reconfigure, power on, nothing (or drift); problems noted."""
        inv, spec, problems = self.inv, self.spec, self.problems
        where = _where(spec, vm.line)
        slurms = bool(vm.elastic) and not self.elastic
        if slurms:   # neither created nor powered on here: Slurm does that when jobs need the node
            vm = replace(vm, power="off")
        plan = VMPlan(vm, file_switches=(spec.svs, spec.dvs))
        file_pgs = {sw.port_group for sw in spec.svs + spec.dvs if sw.port_group}
        try:
            plan.network = _guest_network(vm)
        except BadNetworkValue as exc:
            problems.append(f"{where}: VM {vm.name}: {exc}")
        same_name = self.vms_by_name.get(vm.name, [])
        try:
            folder = file_folder(inv, vm, self.owner, same_name)
        except Unproven as exc:   # several datacenters could hold it: never guessed
            problems.append(f"{where}: {exc}")
            plan.drift.append(str(exc))
            return plan
        except VhpcError:
            folder = None
        # Only the VM of that name in the file's folder is the file's (names are unique per folder).
        match = match_vm(inv, vm.name, folder, self.owner, same_name) if folder is not None else None
        if match is not None and match.elsewhere:
            self.notes.append(elsewhere_note(vm.name, inv.path(folder), match.elsewhere))
        if match is not None and match.foreign:
            problems.append(f"{where}: {foreign_note(vm.name, inv.path(folder) + '/' + vm.name, match.foreign, self.owner)}")
        elif match is not None and match.vm is not None:
            if match.vm.get("config.template"):
                problems.append(f"{where}: VM {vm.name}: a template of that name exists in {inv.path(folder)}")
                return plan
            plan.existing = match.vm
            try:
                _plan_existing_vm(inv, plan, self.allow_power_off)
            except ValueError as exc:   # e.g. vCPUs the cores per socket do not divide
                problems.append(f"{where}: VM {vm.name}: {exc}")
        else:   # no folder (its placement says what is wrong), or none of that name in it
            _plan_new_vm(inv, plan, file_pgs, problems, where)
            _leave_to_slurm(plan, slurms)
        return plan


def plan_rows(plan: ClusterPlan) -> list[dict[str, Any]]:
    """The action per VM, for display next to the file's expansion."""
    rows = []
    for p in plan.vms:
        detail = {CREATE: (f"linked clone of {p.spec.template} ({linked_note(p.template)})" if p.spec.linked
                           else f"instant clone of {p.spec.template}, on its host" if p.spec.instant
                           else f"clone of {p.spec.template}"),
                  RECONFIGURE: "; ".join(str(c) for c in p.changes),
                  NOTHING: "up to date", DRIFT: "differs (see drift)"}[p.action]
        upgrade = needs_upgrade(p.template.get("config.version"), p.spec.hardware_version) \
            if p.action == CREATE and p.template is not None and not p.spec.instant else None
        if upgrade:
            detail += f"; upgraded to vmx-{upgrade} before its devices and power-on"
        if p.spec.elastic and p.existing is None and p.action == NOTHING:
            detail = ELASTIC_ABSENT
        if p.choice is not None:
            detail += "; " + p.choice.describe()
        if p.power_on:
            detail += "; power on"
        rows.append({"vm": p.name, "action": p.action, "host": p.host_name(plan.inv), "detail": detail,
                     "drift": list(p.drift)})
    return rows


def switch_rows(plan: ClusterPlan) -> list[dict[str, Any]]:
    """The action per switch, for display before the confirmation."""
    return [{"name": s.spec.name, "kind": s.spec.kind, "action": s.action, "detail": s.detail}
            for s in plan.switches]


def rule_rows(plan: ClusterPlan) -> list[dict[str, Any]]:
    """The DRS rules a create will make or complete, for display before the confirmation."""
    from vhpc_toolkit.cluster.placement.rules import rule_rows as rows

    return rows(plan.rules)


def pvrdma_rows(plan: ClusterPlan) -> list[dict[str, Any]]:
    """The PVRDMA preparation per host, for display before the confirmation."""
    return [row for p in plan.pvrdma for row in p.rows()]
