"""Desired state read from a cluster file: plain dataclasses, no pyVmomi."""
from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple, Union

from .values import KEY_ALIASES, VM_KEYS


SECRET_KEYS = frozenset({"guest_password"})   # never written to any output
MASK = "********"


@dataclass(frozen=True)
class ScriptStep:
    """One post script (``script:``) or health check (``check:``) of a VM.

    ``path`` is absolute (a relative path is looked for in the cluster file's
    folder, then in the working directory, where the original's users ran it);
    ``barrier`` is the barrier that labelled it, or None (always None for a check).
    ``source`` is the path as written in the file (for display only);
    ``args`` the words after the path (``script: setup.sh --cuda 12``).
    """

    path: str
    barrier: Optional[int] = None
    source: str = field(default="", compare=False)
    args: Tuple[str, ...] = ()

    @property
    def shown(self) -> str:
        """The step as a person wrote it: its path (as in the file) and arguments."""
        return " ".join([self.source or self.path] + [shlex.quote(a) for a in self.args])

    def to_dict(self) -> Dict[str, Any]:
        doc: Dict[str, Any] = {"path": self.path, "barrier": self.barrier}
        if self.args:
            doc["args"] = list(self.args)
        return doc


def group_scripts(steps: List[ScriptStep]) -> List[Tuple[Optional[int], List[ScriptStep]]]:
    """Steps grouped in run order: unlabelled first, then barriers ascending
    (numerically: 2 before 10); file order inside a group."""
    groups: Dict[Optional[int], List[ScriptStep]] = {}
    for step in steps:
        groups.setdefault(step.barrier, []).append(step)
    order = sorted(groups, key=lambda b: (-1 if b is None else b))
    return [(b, groups[b]) for b in order]


@dataclass(frozen=True)
class SriovSpec:
    """One SR-IOV adapter of a VM: its port group, physical function and, when the port
    group is distributed, its switch (``sriov_dvs_name``)."""

    port_group: str
    pf: str
    dvs_name: Optional[str] = None


@dataclass(frozen=True)
class VMSpec:
    """One VM after ranges are expanded and its definition resolved.

    Every attribute is named after its cluster-file key and is None when
    the file did not give it (``power`` defaults to "on"). ``scripts`` holds
    the ``script`` key's occurrences in order, ``checks`` the ``check`` key's. ``line`` is the line of the
    ``_VMS_`` definition that produced the VM; ``sections`` the sections it
    inherits; ``pattern`` matches every name its range could give.
    """

    name: str
    line: int = 0
    template: Optional[str] = None
    cpu: Optional[int] = None
    memory: Optional[float] = None
    datacenter: Optional[str] = None
    vm_folder: Optional[str] = None
    cluster: Optional[str] = None
    host: Optional[str] = None
    datastore: Optional[str] = None
    resource_pool: Optional[str] = None
    linked: Optional[bool] = None
    port_group: Optional[str] = None
    is_dhcp: Optional[bool] = None
    ip: Optional[str] = None
    guest_hostname: Optional[str] = None
    netmask: Optional[str] = None
    gateway: Optional[str] = None
    domain: Optional[str] = None
    dns: Optional[List[str]] = None
    device: Optional[List[str]] = None
    mmio_size: Optional[int] = None
    latency: Optional[str] = None
    cpu_reservation: Optional[bool] = None
    memory_reservation: Optional[bool] = None
    cpu_shares: Optional[int] = None
    memory_shares: Optional[int] = None
    guest_username: Optional[str] = None
    guest_password: Optional[str] = field(default=None, repr=False)   # a secret: never shown
    scripts: List[ScriptStep] = field(default_factory=list)
    checks: List[ScriptStep] = field(default_factory=list)   # ``check:`` occurrences, in order
    sections: Tuple[str, ...] = ()    # the sections its definition spliced in, in file order
    pattern: Optional[str] = None     # regex of its definition's names (a name range), else None
    barrier: Optional[int] = None
    sriov_port_group: Optional[List[str]] = None   # append keys: one SR-IOV adapter per pair
    pf: Optional[List[str]] = None
    pvrdma_port_group: Optional[str] = None
    dvs_name: Optional[str] = None
    vgpu: Optional[Union[str, List[str]]] = None   # one profile, or a list (several vGPUs)
    power: str = "on"
    cores_per_socket: Optional[int] = None
    secure_boot: Optional[bool] = None
    instant: Optional[bool] = None
    sriov_dvs_name: Optional[List[str]] = None
    svs_name: Optional[str] = None
    allow_guest_mtu_change: Optional[bool] = None
    gpu: Optional[int] = None              # passthrough GPUs the planner chooses (docs/placement.md)
    gpu_model: Optional[str] = None        # ... whose device name contains this (V100, A100)
    gpu_label: Optional[str] = None        # ... with this hardware label (Dynamic DirectPath)
    dynamic: Optional[bool] = None         # GPUs/devices as Dynamic DirectPath I/O (1.0.3's key too)
    placement: Optional[str] = None        # spread (default) | pack
    anti_affinity: Optional[str] = None    # DRS anti-affinity group
    hugepages_1g: Optional[bool] = None    # sched.mem.lpage.enable1GPage
    hardware_version: Optional[int] = None  # clones of an older template are upgraded to vmx-N
    role: Optional[str] = None             # Slurm: login | compute (default compute)
    partition: Optional[List[str]] = None  # Slurm partitions of a compute node
    features: Optional[List[str]] = None   # Slurm node features
    elastic: Optional[bool] = None         # Slurm creates/powers it when jobs need it

    @property
    def is_login(self) -> bool:
        return self.role == "login"

    @property
    def vgpus(self) -> List[str]:
        """The vGPU profiles asked for, as a list (empty without ``vgpu``)."""
        if self.vgpu is None:
            return []
        return [self.vgpu] if isinstance(self.vgpu, str) else list(self.vgpu)

    @property
    def requests_placement(self) -> bool:
        """Whether the planner chooses this VM's host or devices (no host, or GPUs asked by count). An
        instant clone does not: it runs on its source's host (cluster/planning/plan.py puts it there)."""
        return (self.host is None or bool(self.gpu)) and not self.instant

    def sriov_adapters(self) -> List[SriovSpec]:
        """The SR-IOV adapters, pairing the n-th ``sriov_port_group`` with the n-th ``pf`` (and
        ``sriov_dvs_name``, given for each adapter or not at all). The parser checks the counts."""
        pgs, pfs, dvs = self.sriov_port_group or [], self.pf or [], self.sriov_dvs_name or []
        return [SriovSpec(pg, pf, dvs[i] if i < len(dvs) else None) for i, (pg, pf) in enumerate(zip(pgs, pfs))]

    def get(self, key: str) -> Any:
        """The value of a cluster-file key (``script`` gives ``scripts``, ``check`` ``checks``)."""
        if key == "script":
            return self.scripts
        if key == "check":
            return self.checks
        if key not in VM_KEYS:
            raise KeyError(key)
        return getattr(self, KEY_ALIASES.get(key, key))

    def to_dict(self) -> Dict[str, Any]:
        """``{"name": ..., key: value...}`` in the order of the key list;
        keys not given are left out (``power`` is always there); scripts are
        ``"script": [{"path": ..., "barrier": N or None}]``. Secrets are never
        written: a guest password given in the file shows as ``"********"``."""
        out: Dict[str, Any] = {"name": self.name}
        for key in VM_KEYS:
            if key in KEY_ALIASES:
                continue
            if key in ("script", "check"):
                steps = self.get(key)
                if steps:
                    out[key] = [s.to_dict() if key == "script" else
                                {k: v for k, v in s.to_dict().items() if k != "barrier"} for s in steps]
                continue
            value = getattr(self, key)
            if value is None:
                continue
            if key in SECRET_KEYS:
                value = MASK
            out[key] = list(value) if isinstance(value, list) else value
        return out

    def script_groups(self) -> List[Tuple[Optional[int], List[ScriptStep]]]:
        """This VM's scripts in run order (see :func:`group_scripts`)."""
        return group_scripts(self.scripts)


@dataclass(frozen=True)
class SwitchSpec:
    """A standard (``kind="svs"``) or distributed (``kind="dvs"``) switch.

    ``host`` is the list of member hosts (a range expands to all of them);
    ``pnic`` is always a list of physical NIC names (a single name becomes a
    one-item list).
    """

    name: str
    kind: str
    host: List[str]
    pnic: List[str]
    port_group: Optional[str]         # None: the switch alone (the original's _DVS_ lines may omit it)
    datacenter: Optional[str] = None
    line: int = 0
    mtu: Optional[int] = None          # None: the switch's default (1500)
    vmk_ip: Optional[List[str]] = None  # PVRDMA VMkernel adapters' addresses, one per host (None: DHCP)
    vmk_netmask: Optional[str] = None

    def vmk_addresses(self) -> Dict[str, Tuple[str, str]]:
        """Host name -> (ip, netmask) of its PVRDMA VMkernel adapter (empty: DHCP)."""
        if not self.vmk_ip or not self.vmk_netmask:
            return {}
        return {h: (ip, self.vmk_netmask) for h, ip in zip(self.host, self.vmk_ip)}

    def to_dict(self) -> Dict[str, Any]:
        out: Dict[str, Any] = {
            "name": self.name,
            "host": list(self.host),
            "pnic": list(self.pnic),
            "port_group": self.port_group,
        }
        if self.datacenter is not None:
            out["datacenter"] = self.datacenter
        if self.mtu is not None:
            out["mtu"] = self.mtu
        if self.vmk_ip:
            out["vmk_ip"] = list(self.vmk_ip)
            out["vmk_netmask"] = self.vmk_netmask
        return out


@dataclass(frozen=True)
class SlurmSpec:
    """The ``[_SLURM_]`` section: the scheduler that grows and shrinks the cluster (docs/slurm.md).

    ``controller`` is the slurmctld the nodes register with (``port`` None: Slurm's 6817);
    ``suspend`` what a suspended elastic node becomes (``power_off``: a resume powers it on again;
    ``destroy``: a resume clones it again); the timings are seconds; ``partition_default`` is the
    partition of compute nodes that name none, and Slurm's default partition. ``lines`` gives the
    file line of each key given (and ``"[_SLURM_]"`` of the section header).
    """

    controller: str
    port: Optional[int] = None
    suspend: str = "power_off"
    suspend_time: int = 300
    resume_timeout: int = 60
    suspend_timeout: int = 30
    partition_default: str = "compute"
    lines: Dict[str, int] = field(default_factory=dict, compare=False)

    @property
    def controller_port(self) -> int:
        """The port slurmctld listens on: the file's, else Slurm's default."""
        return self.port or 6817

    @property
    def controller_address(self) -> str:
        """``HOST:PORT`` (Slurm's default port when the file gives none)."""
        return f"{self.controller}:{self.controller_port}"

    def to_dict(self) -> Dict[str, Any]:
        return {"controller": self.controller_address, "suspend": self.suspend, "suspend_time": self.suspend_time,
                "resume_timeout": self.resume_timeout, "suspend_timeout": self.suspend_timeout,
                "partition_default": self.partition_default}


@dataclass(frozen=True)
class ClusterSpec:
    """Everything a cluster file asks for. ``name`` is the cluster's identity on vCenter
    (``[_CLUSTER_] name:``, line ``name_line``; else the file's stem, ``name_line`` 0)."""

    path: str
    vms: List[VMSpec] = field(default_factory=list)
    svs: List[SwitchSpec] = field(default_factory=list)
    dvs: List[SwitchSpec] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)   # FILE:LINE: what the file gives but no VM uses
    name: str = ""
    name_line: int = 0
    slurm: Optional[SlurmSpec] = None    # the [_SLURM_] section, when the file has one

    def __post_init__(self) -> None:
        if not self.name:
            from vhpc_toolkit.marks import name_of_path

            object.__setattr__(self, "name", name_of_path(self.path))

    def vm(self, name: str) -> VMSpec:
        for vm in self.vms:
            if vm.name == name:
                return vm
        raise KeyError(name)

    def script_phases(self) -> List[Tuple[Optional[int], List[Tuple[VMSpec, ScriptStep]]]]:
        """Every VM's scripts as run phases: unlabelled first, then barriers
        ascending; each phase finishes on every VM before the next starts."""
        phases: Dict[Optional[int], List[Tuple[VMSpec, ScriptStep]]] = {}
        for vm in self.vms:
            for step in vm.scripts:
                phases.setdefault(step.barrier, []).append((vm, step))
        order = sorted(phases, key=lambda b: (-1 if b is None else b))
        return [(b, phases[b]) for b in order]
