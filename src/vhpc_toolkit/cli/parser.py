"""The argument tree: every command and flag of the original toolkit, same names.

Global options come before the command. Each command module under
``cli/commands`` registers a ``run(ctx, args)`` function; the parser only
records which one (``args.run``).
"""
from __future__ import annotations

import argparse

from vhpc_toolkit import __version__
from vhpc_toolkit.cli import commands as cmd

_VM_HELP = "Name (or inventory path) of the VM {what}"
_FILE_HELP = "File listing VMs, one per line ({what}); blank lines and # comments ignored"


def _bool_word(text: str) -> bool:
    word = text.strip().lower()
    if word in ("y", "yes", "t", "true", "on", "1"):
        return True
    if word in ("n", "no", "f", "false", "off", "0"):
        return False
    raise argparse.ArgumentTypeError(f"expected yes/no, got {text!r}")


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}")
    return value


def _vm_or_file(p: argparse.ArgumentParser, what: str) -> None:
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--vm", help=_VM_HELP.format(what=what))
    group.add_argument("--file", help=_FILE_HELP.format(what=what))


def _add_remove(p: argparse.ArgumentParser, noun: str, required: bool) -> None:
    group = p.add_mutually_exclusive_group(required=required)
    group.add_argument("--add", action="store_true", help=f"Add {noun}")
    group.add_argument("--remove", action="store_true", help=f"Remove {noun}")


def _global_options(p: argparse.ArgumentParser, default) -> None:
    """The options every command takes; ``default`` is SUPPRESS when repeated after the command,
    so a value given before the command is not reset."""
    d = (lambda v: v) if default is None else (lambda v: default)
    p.add_argument("--vcenter-conf", metavar="PATH", default=d(None),
                   help="vCenter settings file (default: $VHPC_VCENTER_CONF, ./vCenter.conf, "
                        "~/vhpc_toolkit/vCenter.conf)")
    p.add_argument("--output", choices=("text", "json"), default=d("text"), help="result format (default: text)")
    p.add_argument("--yes", "-y", action="store_true", default=d(False),
                   help="never prompt: assume yes to confirmations, fail where a secret is missing")
    p.add_argument("--debug", action="store_true", default=d(False), help="print debug messages (never secrets)")


_AFTER = argparse.ArgumentParser(add_help=False)
_global_options(_AFTER, argparse.SUPPRESS)


def _command(sub, name: str, help_text: str, run) -> argparse.ArgumentParser:
    assert run.__name__ == f"run_{name}"
    # Global options are accepted after the command too (`cluster --create --file F --yes`).
    p = sub.add_parser(name, help=help_text, description=help_text, parents=[_AFTER],
                       formatter_class=argparse.RawTextHelpFormatter)
    p.set_defaults(run=run, command=name)
    return p


def build_parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(
        prog="vhpc_toolkit",
        description="Build and manage virtual HPC clusters on VMware vSphere",
    )
    _global_options(main, None)
    main.add_argument("--version", action="version", version=f"vhpc_toolkit version {__version__}")
    sub = main.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = _command(sub, "view", "View the vCenter inventory (datacenters, clusters, hosts, VMs)", cmd.runner("view"))
    p.add_argument("--networking", action="store_true",
                   help="also show standard/distributed switches, port groups and VM adapters")

    p = _command(sub, "clone", "Clone VM(s) via full clone or linked clone", cmd.runner("clone"))
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--vm", help="Name of the cloned VM")
    group.add_argument("--file", help="File with one clone per line: vm [cluster [host [datastore]]]")
    p.add_argument("--linked", action="store_true",
                   help="Linked clone from the template's snapshot (one is taken if none exists)")
    p.add_argument("--template", required=True, help="Name of the template VM to clone from")
    p.add_argument("--datacenter", help="Destination datacenter (default: the first one)")
    p.add_argument("--vm_folder", help="Destination VM folder (default: the datacenter's VM folder)")
    p.add_argument("--cluster", help="Destination cluster (default: the first in the datacenter)")
    p.add_argument("--host", help="Destination host (default: the first in the cluster)")
    p.add_argument("--datastore", help="Destination datastore (default: the template's)")
    p.add_argument("--resource_pool", help="Destination resource pool (default: the cluster's root pool)")
    p.add_argument("--memory", type=float, help="Memory in GB (default: as the template)")
    p.add_argument("--cpu", type=int, help="Number of vCPUs (default: as the template)")

    p = _command(sub, "destroy", "Destroy VM(s) (powered off first)", cmd.runner("destroy"))
    _vm_or_file(p, "to destroy")

    p = _command(sub, "power", "Power on/off VM(s)", cmd.runner("power"))
    _vm_or_file(p, "to power on or off")
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--on", action="store_true", help="Power on")
    group.add_argument("--off", action="store_true", help="Power off")

    p = _command(sub, "cpumem", "Reconfigure CPU/memory, shares and reservations of VM(s)", cmd.runner("cpumem"))
    _vm_or_file(p, "to reconfigure")
    p.add_argument("--memory", type=float, help="New memory (in GB)")
    p.add_argument("--cpu", type=int, help="New number of vCPUs")
    p.add_argument("--cpu_shares", type=int, help="CPU shares")
    p.add_argument("--memory_shares", type=int, help="Memory shares")
    p.add_argument("--cpu_reservation", type=_bool_word, metavar="yes/no",
                   help="Reserve all CPU (vCPUs x host MHz per core)")
    p.add_argument("--memory_reservation", type=_bool_word, metavar="yes/no",
                   help="Reserve all memory (locked to max)")

    p = _command(sub, "network", "Add/remove vmxnet3 network adapter(s) of VM(s)", cmd.runner("network"))
    _vm_or_file(p, "to change")
    _add_remove(p, "a network adapter", required=True)
    p.add_argument("--port_group", required=True, nargs="+",
                   help="Port group(s) (standard or distributed) of the adapter(s)")

    p = _command(sub, "network_cfg", "Configure the guest network of a VM's adapter (Linux)", cmd.runner("network_cfg"))
    _vm_or_file(p, "to configure")
    p.add_argument("--port_group", required=True, help="Port group of the adapter to configure")
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--is_dhcp", action="store_true", help="Use DHCP")
    group.add_argument("--ip", help="Static IPv4 address")
    p.add_argument("--netmask", help="Netmask (static IP)")
    p.add_argument("--gateway", help="Gateway (static IP)")
    p.add_argument("--dns", nargs="+", help="DNS server(s)")
    p.add_argument("--domain", help="Domain name")
    p.add_argument("--guest_hostname", help="Guest host name (default: the VM name)")

    p = _command(sub, "post", "Run post script(s) in the guest OS through VMware Tools", cmd.runner("post"))
    _vm_or_file(p, "to run the script(s) in")
    p.add_argument("--script", required=True, nargs="+", help="Local script(s) to upload and run")
    p.add_argument("--guest_username", default="root", help="Guest OS user (default: %(default)s)")
    p.add_argument("--guest_password",
                   help="Guest OS password. Better kept out of the command line: set\n"
                        "VHPC_GUEST_PASSWORD, keep it in Vault, or answer the prompt.")
    p.add_argument("--wait", action="store_true", help="Wait for the scripts to finish and report")

    p = _command(sub, "passthru", "Add/remove (large-BAR) PCI device(s) in passthrough mode", cmd.runner("passthru"))
    _vm_or_file(p, "for the passthrough operation")
    p.add_argument("--query", action="store_true", help="List the passthrough devices the VM's host offers")
    _add_remove(p, "device(s)", required=False)
    p.add_argument("--device", nargs="+", help="PCI id(s) of the device(s), e.g. 0000:3b:00.0")
    p.add_argument("--mmio_size", type=int, default=256,
                   help="64-bit MMIO size in GB, a power of two (default: %(default)s)")

    p = _command(sub, "sriov", "Add/remove SR-IOV passthrough network adapter(s)", cmd.runner("sriov"))
    _vm_or_file(p, "for the SR-IOV operation")
    p.add_argument("--query", action="store_true", help="List SR-IOV physical functions of the VM's host")
    _add_remove(p, "an SR-IOV adapter", required=False)
    p.add_argument("--sriov_port_group", help="Port group of the SR-IOV adapter")
    p.add_argument("--dvs_name", help="Distributed switch of the port group (if distributed)")
    p.add_argument("--pf", help="PCI id of the backing physical function, e.g. 0000:af:00.0")

    p = _command(sub, "pvrdma", "Add/remove PVRDMA (paravirtual RDMA) adapter(s)", cmd.runner("pvrdma"))
    _vm_or_file(p, "for the PVRDMA operation")
    _add_remove(p, "a PVRDMA adapter", required=True)
    p.add_argument("--pvrdma_port_group", required=True, help="Distributed port group of the adapter")
    p.add_argument("--dvs_name", help="Distributed switch of the port group")

    p = _command(sub, "vgpu", "Add/remove an NVIDIA vGPU (shared passthrough)", cmd.runner("vgpu"))
    _vm_or_file(p, "for the vGPU operation")
    p.add_argument("--query", action="store_true", help="List the vGPU profiles the VM's host offers")
    _add_remove(p, "a vGPU", required=False)
    p.add_argument("--profile", help="vGPU profile, e.g. grid_p100-4q")

    p = _command(sub, "svs", "Create/destroy a standard virtual switch on host(s)", cmd.runner("svs"))
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--create", action="store_true", help="Create the switch and port group")
    group.add_argument("--destroy", action="store_true", help="Destroy the switch")
    p.add_argument("--host", required=True, nargs="+", help="ESXi host(s)")
    p.add_argument("--name", required=True, help="Name of the standard switch")
    p.add_argument("--pnic", help="Physical NIC uplink, e.g. vmnic4")
    p.add_argument("--port_group", help="Port group to create on the switch")

    p = _command(sub, "dvs", "Create/destroy a distributed virtual switch", cmd.runner("dvs"))
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--create", action="store_true", help="Create the switch and port group")
    group.add_argument("--destroy", action="store_true", help="Destroy the switch")
    p.add_argument("--name", required=True, help="Name of the distributed switch")
    p.add_argument("--datacenter", help="Datacenter of the switch (all hosts must be in it)")
    p.add_argument("--host", nargs="+", help="Member ESXi host(s)")
    p.add_argument("--pnic", nargs="+", help="Uplink physical NIC(s) on each host, e.g. vmnic5")
    p.add_argument("--port_group", help="Distributed port group to create")

    p = _command(sub, "latency", "Configure/check latency sensitivity", cmd.runner("latency"))
    _vm_or_file(p, "to configure")
    p.add_argument("--level", choices=("high", "normal"), help="Latency sensitivity level")
    p.add_argument("--check", action="store_true", help="Print the current level")

    p = _command(sub, "cluster", "Create/destroy a virtual HPC cluster from a cluster file", cmd.runner("cluster"))
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--create", action="store_true", help="Create (or bring up to date) the cluster")
    group.add_argument("--destroy", action="store_true", help="Destroy the cluster's VMs and switches")
    group.add_argument("--plan", action="store_true",
                       help="Show the expansion of the file (VMs, switches); needs no vCenter")
    p.add_argument("--file", required=True, help="Cluster configuration file")
    p.add_argument("--rollback", action="store_true",
                   help="--create: destroy what this run created if anything failed")
    p.add_argument("--allow-power-off", action="store_true",
                   help="--create: power off existing VMs whose cpu/memory must change, then power on")
    p.add_argument("--max-concurrency", type=_positive, default=32, metavar="N",
                   help="tasks in flight in total (default: %(default)s)")
    p.add_argument("--max-per-host", type=_positive, default=8, metavar="N",
                   help="provisioning tasks in flight per host (default: %(default)s)")
    p.add_argument("--ip-timeout", type=_positive, default=300, metavar="SECONDS",
                   help="how long to wait, overall, for the VMs' guest IPs (default: %(default)s)")
    p.add_argument("--hostfile", metavar="PATH",
                   help="--create: also write an MPI hostfile (Open MPI syntax) of the VMs' IPs")
    p.add_argument("--inventory", metavar="PATH",
                   help="--create: also write an Ansible inventory (INI) of the VMs")
    return main
