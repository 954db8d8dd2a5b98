"""`view [--networking | --capacity] [--cluster C...] [--host H...] [--vm GLOB...]`: the inventory
tree, or what each host can still give."""
from __future__ import annotations

from vhpc_toolkit.results import Document


def arguments(p) -> None:
    what = p.add_mutually_exclusive_group()
    what.add_argument("--networking", action="store_true",
                      help="also show standard/distributed switches, port groups and VM adapters")
    what.add_argument("--capacity", action="store_true",
                      help="per host: free passthrough GPUs (and who holds the others), vGPU room per\n"
                           "physical GPU, free SR-IOV virtual functions, unreserved memory")
    p.add_argument("--cluster", nargs="+", metavar="CLUSTER", help="only these clusters")
    p.add_argument("--host", nargs="+", metavar="HOST", help="only these hosts (full or short names)")
    p.add_argument("--vm", nargs="+", metavar="GLOB",
                   help="only VMs whose names match one of these patterns (shell style: 'gpu-*'),\n"
                        "and the hosts they are on")


def run(ctx, args) -> Document:
    from vhpc_toolkit.errors import InputError

    if args.capacity and args.vm:
        raise InputError("view --capacity shows hosts: filter it with --cluster or --host, not --vm")
    if args.capacity:
        return _capacity(ctx, args)
    from vhpc_toolkit.cli.completion import remember
    from vhpc_toolkit.vsphere.overview import names, read_overview
    from vhpc_toolkit.vsphere.view_filter import filter_view

    doc = read_overview(ctx.session(), networking=args.networking)
    remember(**names(doc))     # the whole inventory's names, for shell completion
    if args.cluster or args.host or args.vm:
        doc = filter_view(doc, args.cluster, args.host, args.vm)
    return Document("view", doc)


def _capacity(ctx, args) -> Document:
    from vhpc_toolkit.cluster.placement.capacity_report import capacity_document, read_capacity
    from vhpc_toolkit.vsphere.view_filter import check_names, host_matches

    inv = read_capacity(ctx.session())
    hosts = inv.of_type("HostSystem")
    clusters = inv.of_type("ClusterComputeResource")
    listing = {"datacenters": [{"clusters": [{"name": c.name, "hosts": []} for c in clusters],
                                "standalone_hosts": [{"name": h.name} for h in hosts]}]}
    check_names(listing, args.cluster or [], args.host or [])
    if args.cluster:
        hosts = [h for h in hosts if inv.parent(h) is not None and inv.parent(h).name in args.cluster]
    if args.host:
        hosts = [h for h in hosts if host_matches(h.name, args.host)]
    return Document("capacity", capacity_document(inv, hosts))
