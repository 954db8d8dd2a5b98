"""The commands: one module each, declaring its arguments (``arguments(parser)``) beside its
``run(ctx, args)``, which returns a result for the output path (output/emit.py).

A module is imported only when its command is parsed or run (pyVmomi is slow to import);
``COMMANDS`` gives every command's one-line summary without importing anything.
"""
from __future__ import annotations

import importlib
from types import ModuleType

COMMANDS: dict[str, str] = {
    "view": "View the vCenter inventory (datacenters, clusters, hosts, VMs)",
    "clone": "Clone VM(s) via full clone or linked clone",
    "destroy": "Destroy VM(s) (powered off first)",
    "power": "Power on/off VM(s)",
    "cpumem": "Reconfigure CPU/memory, shares and reservations of VM(s)",
    "network": "Add/remove vmxnet3 network adapter(s) of VM(s)",
    "network_cfg": "Configure the guest network of a VM's adapter (Linux)",
    "post": "Run post script(s) in the guest OS through VMware Tools",
    "passthru": "Add/remove (large-BAR) PCI device(s) in passthrough mode",
    "sriov": "Add/remove SR-IOV passthrough network adapter(s)",
    "pvrdma": "Add/remove PVRDMA (paravirtual RDMA) adapter(s)",
    "vgpu": "Add/remove an NVIDIA vGPU (shared passthrough)",
    "svs": "Create/destroy a standard virtual switch on host(s)",
    "dvs": "Create/destroy a distributed virtual switch",
    "latency": "Configure/check latency sensitivity",
    "cluster": "Create/destroy a virtual HPC cluster from a cluster file",
    # the original's 1.0.3 release
    "get_vm_config": "Show the performance settings of VM(s)",
    "migrate_vm": "Migrate VM(s) to another host",
    "secure_boot": "Turn EFI secure boot on/off for VM(s)",
    "vm_sched_affinity": "Set/clear the CPU scheduling affinity of VM(s)",
    "numa_affinity": "Set/clear the NUMA node affinity of VM(s)",
    "power_policy": "Change the power policy of host(s)",
    "passthru_host": "Enable/disable a host PCI device for passthrough",
    "sriov_host": "Turn SR-IOV on/off on a host's physical function",
    # this toolkit's own
    "slurm": "Let Slurm grow and shrink the cluster (config, resume, suspend, resume-fail)",
    "examples": "List the example cluster files, post scripts and JSON schemas, or copy them",
    "completion": "Print the line that turns on shell completion (bash, zsh)",
}
# The original's commands (the README tour shows each); the rest of COMMANDS are this toolkit's own.
ORIGINAL_COMMANDS = tuple(COMMANDS)[:tuple(COMMANDS).index("sriov_host") + 1]


def load(name: str) -> ModuleType:
    """The module of command ``name``."""
    return importlib.import_module(f"{__name__}.{name}")


def runner(name: str):
    """What the parser records as ``args.run``: the command's ``run``, its module imported when called."""
    def run(ctx, args):
        return load(name).run(ctx, args)

    run.__name__ = f"run_{name}"
    return run
