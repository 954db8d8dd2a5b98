"""`cluster (--plan | --create | --destroy) --file F`."""
from __future__ import annotations

from vhpc_toolkit.clusterfile import parse_cluster_file
from vhpc_toolkit.errors import NotImplementedCommand
from vhpc_toolkit.output.jsonout import print_json
from vhpc_toolkit.output.plan import plan_document, render_plan


def run(ctx, args) -> int:
    spec = parse_cluster_file(args.file)
    if args.plan:
        if ctx.output == "json":
            print_json(plan_document(spec), ctx.out)
        else:
            render_plan(spec, ctx.out)
        return 0
    action = "--create" if args.create else "--destroy"
    raise NotImplementedCommand(f"`cluster {action}` is not built yet in this version of vhpc_toolkit "
                                "(`cluster --plan` shows what the file describes)")
