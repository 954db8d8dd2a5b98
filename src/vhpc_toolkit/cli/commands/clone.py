"""`clone --template T (--vm V | --file F)`: full or linked clones, placed and sized in the clone spec."""
from __future__ import annotations

import argparse

from vhpc_toolkit.cli.parser import hardware_version, memory_gb, vcpus
from vhpc_toolkit.ops.vms.clone import CloneRequest, check_requests, clone_vms, requests_from_file
from vhpc_toolkit.output.progress import progress
from vhpc_toolkit.results import Report


def arguments(p) -> None:
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--vm", help="Name of the cloned VM")
    group.add_argument("--file", help="File with one clone per line: vm [cluster [host [datastore]]]")
    p.add_argument("--linked", action="store_true",
                   help="Linked clone from the template's current snapshot (a template must have one; "
                        "a source VM that is not a template is snapshotted first)")
    p.add_argument("--template", required=True, help="Name of the template VM to clone from")
    p.add_argument("--datacenter", help="Destination datacenter (default: the first one)")
    p.add_argument("--vm_folder", help="Destination VM folder (default: the datacenter's VM folder)")
    p.add_argument("--cluster", help="Destination cluster (default: the first in the datacenter)")
    p.add_argument("--host", help="Destination host (default: the first in the cluster)")
    p.add_argument("--datastore", help="Destination datastore (default: the template's)")
    p.add_argument("--resource_pool", help="Destination resource pool (default: the cluster's root pool)")
    p.add_argument("--memory", type=memory_gb, help="Memory in GB (default: as the template)")
    p.add_argument("--cpu", type=vcpus, help="Number of vCPUs (default: as the template)")
    asks = p.add_argument_group("requests instead of addresses (docs/placement.md): the planner chooses "
                                "the host (unless --host) and the devices")
    asks.add_argument("--gpu", type=gpu_count, metavar="N", help="N passthrough GPUs for each clone")
    asks.add_argument("--gpu_model", metavar="NAME", help="GPUs whose device name contains NAME (e.g. V100, A100)")
    asks.add_argument("--gpu_label", metavar="LABEL", help="GPUs with this hardware label (Dynamic DirectPath)")
    asks.add_argument("--dynamic", action="store_true", help="attach the GPUs as Dynamic DirectPath I/O devices")
    asks.add_argument("--vgpu", nargs="+", metavar="PROFILE",
                      help="vGPU profile(s) for each clone, several for several vGPUs (grid_a100-3-20c grid_a100-3-20c)")
    asks.add_argument("--placement", choices=("spread", "pack"),
                      help="spread the clones over the hosts (default) or pack them onto few")
    asks.add_argument("--hardware_version", type=hardware_version, metavar="N",
                      help="upgrade clones of a template older than vmx-N (UpgradeVM_Task) before their devices:\n"
                           "Dynamic DirectPath I/O needs 17")


def run(ctx, args) -> Report:
    common = dict(template=args.template, linked=args.linked, datacenter=args.datacenter,
                  vm_folder=args.vm_folder, cluster=args.cluster, host=args.host, datastore=args.datastore,
                  resource_pool=args.resource_pool, cpu=args.cpu, memory_gb=args.memory)
    requests = [CloneRequest(name=args.vm, **common)] if args.vm else requests_from_file(args.file, **common)
    check_requests(requests)
    asks = {"gpu": args.gpu, "gpu_model": args.gpu_model, "gpu_label": args.gpu_label,
            "dynamic": args.dynamic or None, "vgpu": args.vgpu, "placement": args.placement,
            "hardware_version": args.hardware_version}
    with progress(ctx, "clone", len(requests)) as event:
        if any(v is not None for v in asks.values()):
            from vhpc_toolkit.cluster.placement.clone_requests import clone_with_requests

            return clone_with_requests(ctx.session(), requests, asks, on_event=event)
        return clone_vms(ctx.session(), requests, on_event=event)


def gpu_count(text: str) -> int:
    from vhpc_toolkit.clusterfile.values import BadValue, to_gpu_count

    try:
        return to_gpu_count(text)
    except BadValue as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
