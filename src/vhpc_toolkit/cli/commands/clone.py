"""`clone --template T (--vm V | --file F)`: full or linked clones, placed and sized in the clone spec."""
from __future__ import annotations

from vhpc_toolkit.cli.parser import memory_gb, vcpus
from vhpc_toolkit.ops.clone import CloneRequest, check_requests, clone_vms, requests_from_file
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


def run(ctx, args) -> Report:
    common = dict(template=args.template, linked=args.linked, datacenter=args.datacenter,
                  vm_folder=args.vm_folder, cluster=args.cluster, host=args.host, datastore=args.datastore,
                  resource_pool=args.resource_pool, cpu=args.cpu, memory_gb=args.memory)
    requests = [CloneRequest(name=args.vm, **common)] if args.vm else requests_from_file(args.file, **common)
    check_requests(requests)
    with progress(ctx, "clone", len(requests)) as event:
        return clone_vms(ctx.session(), requests, on_event=event)
