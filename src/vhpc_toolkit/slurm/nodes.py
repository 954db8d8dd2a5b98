"""A cluster file's compute VMs as Slurm nodes: slurm.conf NodeName lines and gres.conf lines (pure code).

A node's size is the VM's (``cpu``, ``cores_per_socket``, ``memory``); vCPUs are cores to the
guest (one thread per core). ``RealMemory`` leaves the guest OS its share: Slurm drains a node
whose OS reports less than it. GPUs are typed where the file says what they are: ``gpu_model``
for passthrough GPUs (``gpu:v100:2``), the profile for vGPUs (``grid_a100-3-20c`` is
``gpu:a100-3-20c:1``). Elastic nodes are ``State=CLOUD``: Slurm resumes them when jobs need them.
Login nodes are not compute nodes: they get no line.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from vhpc_toolkit.clusterfile import ClusterSpec, VMSpec

MEMORY_SHARE = 0.95   # of the VM's memory for jobs; the rest is the guest OS's


@dataclass
class SlurmNode:
    name: str
    addr: str | None = None                 # NodeAddr, when the IP is known
    hostname: str | None = None             # NodeHostname, when the guest's differs from the VM's name
    cpus: int | None = None
    cores_per_socket: int = 1
    memory_gb: float | None = None
    gres: list[tuple[str | None, int]] = field(default_factory=list)   # (type or None, count)
    features: list[str] = field(default_factory=list)
    elastic: bool = False

    @property
    def real_memory_mb(self) -> int | None:
        return int(self.memory_gb * 1024 * MEMORY_SHARE) if self.memory_gb else None

    def line(self) -> str:
        parts = [f"NodeName={self.name}"]
        if self.addr:
            parts.append(f"NodeAddr={self.addr}")
        if self.hostname:
            parts.append(f"NodeHostname={self.hostname}")
        if self.cpus:
            cores = self.cores_per_socket if self.cpus % self.cores_per_socket == 0 else 1
            parts += [f"CPUs={self.cpus}", f"Sockets={self.cpus // cores}", f"CoresPerSocket={cores}",
                      "ThreadsPerCore=1"]
        if self.real_memory_mb:
            parts.append(f"RealMemory={self.real_memory_mb}")
        if self.gres:
            parts.append("Gres=" + ",".join(f"gpu:{kind}:{n}" if kind else f"gpu:{n}" for kind, n in self.gres))
        if self.features:
            parts.append("Features=" + ",".join(self.features))
        parts.append("State=CLOUD" if self.elastic else "State=UNKNOWN")
        return " ".join(parts)

    def gres_lines(self) -> list[str]:
        """gres.conf: each GPU type on its own /dev/nvidiaN files, numbered on from 0."""
        out, first = [], 0
        for kind, n in self.gres:
            files = f"/dev/nvidia{first}" if n == 1 else f"/dev/nvidia[{first}-{first + n - 1}]"
            out.append(f"NodeName={self.name} Name=gpu" + (f" Type={kind}" if kind else "") + f" File={files}")
            first += n
        return out


def gpu_gres(vm: VMSpec) -> list[tuple[str | None, int]]:
    """The VM's GPUs as Slurm GRES: passthrough GPUs (``gpu: N`` or ``device:``), then vGPUs by profile."""
    out: list[tuple[str | None, int]] = []
    passthrough = (vm.gpu or 0) + len(vm.device or [])
    if passthrough:
        out.append(((vm.gpu_model or "").lower() or None, passthrough))
    for profile, n in Counter(vm.vgpus).items():
        out.append((profile.removeprefix("grid_").lower(), n))
    return out


def slurm_node(vm: VMSpec, ip: str | None = None, cpus: int | None = None) -> SlurmNode:
    """``vm`` as a Slurm node; ``ip``/``cpus`` are what a run found on vCenter (else the file's)."""
    hostname = vm.guest_hostname if vm.guest_hostname and vm.guest_hostname != vm.name else None
    return SlurmNode(name=vm.name, addr=ip or vm.ip, hostname=hostname, cpus=cpus or vm.cpu,
                     cores_per_socket=vm.cores_per_socket or 1, memory_gb=vm.memory, gres=gpu_gres(vm),
                     features=list(vm.features or []), elastic=bool(vm.elastic))


def compute_vms(spec: ClusterSpec) -> list[VMSpec]:
    """The VMs that run jobs: every VM but the login nodes."""
    return [vm for vm in spec.vms if not vm.is_login]


def nodes_text(nodes: list[SlurmNode], source: str) -> str:
    """slurm.conf lines of ``nodes`` (``GresTypes=gpu`` first when any has GPUs)."""
    lines = [f"# Slurm nodes of {source}, written by vhpc_toolkit (RealMemory: {MEMORY_SHARE:.0%} of the VM's "
             "memory, the rest is the guest OS's)"]
    if any(n.gres for n in nodes):
        lines.append("GresTypes=gpu")
    for n in nodes:
        note = ""
        if not n.addr and not n.elastic:
            note = "  # no IP yet: NodeAddr unknown"
        elif not n.addr:
            note = "  # NodeAddr set when it boots (slurm resume)"
        lines.append(n.line() + note)
    return "\n".join(lines) + "\n"


def gres_text(nodes: list[SlurmNode], source: str) -> str | None:
    """gres.conf lines of ``nodes``, or None when none has GPUs."""
    lines = [line for n in nodes for line in n.gres_lines()]
    if not lines:
        return None
    return "\n".join([f"# GPUs of the nodes of {source}, written by vhpc_toolkit"] + lines) + "\n"


def export_text(result, spec: ClusterSpec) -> tuple[str, str | None]:
    """``--export slurm``: the node lines (and gres.conf lines) of the file's compute VMs, with the IPs
    and vCPUs the run found (``result.vms``)."""
    found = {v.name: v for v in getattr(result, "vms", [])}
    nodes = []
    for vm in compute_vms(spec):
        seen = found.get(vm.name)
        nodes.append(slurm_node(vm, getattr(seen, "ip", None), getattr(seen, "cpu", None)))
    return nodes_text(nodes, spec.path), gres_text(nodes, spec.path)
