"""`clone --template T (--vm V | --file F)`."""
from vhpc_toolkit.errors import InputError
from vhpc_toolkit.ops.clone import CloneRequest, clone_vms, requests_from_file
from vhpc_toolkit.output.report import render_report


def run(ctx, args) -> int:
    if args.cpu is not None and args.cpu <= 0 or args.memory is not None and args.memory <= 0:
        raise InputError("clone: --cpu and --memory must be positive")
    common = dict(template=args.template, linked=args.linked, datacenter=args.datacenter,
                  vm_folder=args.vm_folder, cluster=args.cluster, host=args.host, datastore=args.datastore,
                  resource_pool=args.resource_pool, cpu=args.cpu, memory_gb=args.memory)
    requests = [CloneRequest(name=args.vm, **common)] if args.vm else requests_from_file(args.file, **common)
    return render_report(clone_vms(ctx.session(), requests), ctx)
