"""`power_policy (--host | --file) --policy {1,2,3,4}`: the host's power policy, from those it offers."""
from __future__ import annotations

from vhpc_toolkit.cli.parser import host_or_file


def arguments(p) -> None:
    host_or_file(p, "whose power policy to change")
    p.add_argument("--policy", type=int, required=True, choices=[1, 2, 3, 4],
                   help="1 high performance, 2 balanced, 3 low power, 4 custom")


def run(ctx, args):
    from vhpc_toolkit.ops.hosts.settings import host_names, set_power_policy

    names = host_names(args.host, args.file)
    return set_power_policy(ctx.session(), names, args.policy)
