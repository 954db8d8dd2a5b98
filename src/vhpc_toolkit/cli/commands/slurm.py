"""`slurm config | resume | suspend | resume-fail`: Slurm grows and shrinks the cluster (docs/slurm.md).

`config` writes the Slurm side of a cluster file; the other three are the programs slurmctld runs
with a host list (through the wrappers `config` writes), each writing one line per action to the
log, since Slurm shows nothing of their output.
"""
from __future__ import annotations

import argparse

ACTIONS = {
    "config": "Write the Slurm side of the cluster (nodes, partitions, GPUs, power saving, the programs)",
    "resume": "Slurm's ResumeProgram: clone the missing nodes of HOSTLIST, power on the stopped ones",
    "suspend": "Slurm's SuspendProgram: power off (or destroy, per suspend:) the nodes of HOSTLIST",
    "resume-fail": "Slurm's ResumeFailProgram: clean up what a failed resume of HOSTLIST left",
}


def arguments(p) -> None:
    from vhpc_toolkit.cli.parser import AFTER_WITHOUT_AUDIT

    sub = p.add_subparsers(dest="slurm_action", metavar="ACTION")
    sub.required = True
    for action, summary in ACTIONS.items():
        # These programs' own --log-file (one line per action) after the action; the audit trail's
        # --log-file goes before the command.
        a = sub.add_parser(action, help=summary, description=summary, parents=[AFTER_WITHOUT_AUDIT],
                           formatter_class=argparse.RawTextHelpFormatter)
        a.add_argument("--file", required=True, help="Cluster configuration file (with a [_SLURM_] section)")
        if action == "config":
            a.add_argument("--write", required=True, metavar="DIR",
                           help="folder to write nodes.conf, partitions.conf, gres.conf, power_save.conf and the\n"
                                "programs into (made when missing); Include the .conf files from slurm.conf")
            continue
        a.add_argument("hostlist", metavar="HOSTLIST", help="Slurm host list, e.g. gpu[001-004,7]")
        a.add_argument("--log-file", dest="slurm_log", metavar="PATH",
                       help="where to write one line per action (default: beside the cluster file,\n"
                            "FILE-STEM.slurm.log)")


def run(ctx, args):
    from vhpc_toolkit.clusterfile import parse_cluster_file

    spec = parse_cluster_file(args.file, check_scripts=args.slurm_action == "resume")
    if args.slurm_action == "config":
        return _config(ctx, spec, args)
    from vhpc_toolkit.slurm.power import run_action

    return run_action(ctx, spec, args.slurm_action, args.hostlist, args.slurm_log)


def _config(ctx, spec, args):
    from vhpc_toolkit.results import Document
    from vhpc_toolkit.settings.loader import find_conf_file
    from vhpc_toolkit.slurm.config import Invocation, write_config

    conf = find_conf_file(ctx.vcenter_conf, ctx.env)
    how = Invocation(vcenter_conf=str(conf.resolve()) if conf is not None else None)
    files = write_config(spec, args.write, how)
    lines = [f"wrote {len(files)} files for {spec.path} into {args.write}:"] + [f"  {f}" for f in files]
    lines.append("Include nodes.conf, partitions.conf and power_save.conf from slurm.conf; gres.conf goes beside it.")
    if conf is None:
        ctx.warn("no vCenter.conf found: the programs will look for one where slurmctld runs them "
                 "(give --vcenter-conf to name it)")
    return Document("message", {"message": "\n".join(lines), "files": files,
                                "vcenter_conf": how.vcenter_conf})
