"""`cluster (--plan | --create | --destroy) --file F`: the engine prepares, the CLI confirms and renders."""
from __future__ import annotations

import argparse
import getpass

from vhpc_toolkit.cli.parser import positive
from vhpc_toolkit.cli.prompt import can_ask, confirm
from vhpc_toolkit.clusterfile import parse_cluster_file
from vhpc_toolkit.output.emit import show
from vhpc_toolkit.output.exports import KINDS, check_export_paths, parse_export, write_exports
from vhpc_toolkit.results import Document


def arguments(p) -> None:
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--create", action="store_true", help="Create (or bring up to date) the cluster")
    group.add_argument("--destroy", action="store_true", help="Destroy the cluster's VMs and switches")
    group.add_argument("--plan", action="store_true",
                       help="Show the expansion of the file (VMs, switches); needs no vCenter")
    group.add_argument("--status", action="store_true",
                       help="Compare the file with vCenter (read-only): exit 0 when all matches, 1 otherwise")
    group.add_argument("--unlock", action="store_true",
                       help="Break the file's lock on vCenter left by a run that was killed")
    p.add_argument("--file", required=True, help="Cluster configuration file")
    p.add_argument("--rollback", action="store_true",
                   help="--create: destroy what this run created if anything failed")
    p.add_argument("--allow-power-off", action="store_true",
                   help="--create: power off existing VMs whose cpu/memory must change, then power on")
    p.add_argument("--prune", action="store_true",
                   help="--create: destroy the VMs that carry the file's naming pattern but are no longer in it")
    p.add_argument("--allow-drift", action="store_true",
                   help="--create: exit 0 even when VMs still differ from the file (reported as drift)")
    p.add_argument("--max-concurrency", type=positive, default=None, metavar="N",
                   help="tasks in flight in total (default: clones as vCenter admits them, up to its 640\n"
                        "operations at once; 32 for other tasks)")
    p.add_argument("--max-per-host", type=positive, default=None, metavar="N",
                   help="provisioning tasks in flight per host, counted on the source and the destination\n"
                        "host of each clone (default: as many as vCenter admits: 16 units per host, a full\n"
                        "clone 2 on each side; docs/performance.md)")
    p.add_argument("--keep-template-copies", action="store_true",
                   help="--destroy: keep the copies of the template the cluster made as extra clone\n"
                        "sources (a later --create reuses them)")
    p.add_argument("--ip-timeout", type=positive, default=300, metavar="SECONDS",
                   help="how long to wait, overall, for the VMs' guest IPs (default: %(default)s)")
    p.add_argument("--export", action="append", type=export_arg, default=[], metavar="KIND=PATH",
                   help="--create/--status: also write an export (repeatable); KIND is one of\n"
                        + "\n".join(f"  {k}: {v}" for k, v in KINDS.items()))
    p.add_argument("--hostfile", metavar="PATH", help="the same as --export hostfile=PATH")
    p.add_argument("--inventory", metavar="PATH", help="the same as --export ansible=PATH")


def export_arg(text: str) -> tuple[str, str]:
    try:
        return parse_export(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def exports_of(args) -> list[tuple[str, str]]:
    """(kind, path) of --export, --hostfile and --inventory, in that order."""
    aliases = [("hostfile", args.hostfile), ("ansible", args.inventory)]
    return list(args.export) + [(kind, path) for kind, path in aliases if path]


def run(ctx, args):
    # A plan needs no script on disk: it notes the missing ones; every other action refuses them.
    spec = parse_cluster_file(args.file, check_scripts=not args.plan)
    if args.create or args.status:
        check_export_paths([(f"--export {kind}", path) for kind, path in exports_of(args)], args.file)
    if args.plan:
        from vhpc_toolkit.output.plan import plan_document

        return Document("plan", plan_document(spec), source=spec)
    if args.unlock:
        return _unlock(ctx, spec)
    if args.destroy:
        can_ask(ctx)   # refused off a terminal without --yes before any login
    if args.status:
        return _status(ctx, args, spec)
    from vhpc_toolkit.cluster.lock import held

    session = ctx.session()
    with held(session, spec.path) as locked:   # one run at a time per cluster file (cluster/lock.py)
        if not locked:
            ctx.warn(f"{ctx.session().server} has no usable custom attributes: running without the lock "
                     f"of {spec.path} (do not run this file twice at once)")
        return _create(ctx, args, spec, session) if args.create else _destroy(ctx, args, spec, session)


def _status(ctx, args, spec):
    from vhpc_toolkit.cli.completion import remember_vm_names
    from vhpc_toolkit.cluster.status import cluster_status

    status = cluster_status(ctx.session(), spec)
    remember_vm_names([v.name for v in status.vms if v.host])
    for note in write_exports(status, spec, exports_of(args)):
        ctx.err.print(f"[yellow]note:[/] {note}", highlight=False)
    return status


def _unlock(ctx, spec):
    from vhpc_toolkit.cluster.lock import break_lock, lock_name

    session = ctx.session()
    confirm(ctx, f"Break the lock of {spec.path} (a run still holding it would go on unprotected)?")
    holder = break_lock(session, spec.path)
    text = f"lock of {spec.path} broken (it was held by {holder})" if holder else f"{spec.path} was not locked"
    return Document("message", {"message": text, "lock": lock_name(spec.path), "held_by": holder})


def _create(ctx, args, spec, session):
    from vhpc_toolkit.cluster.apply import ApplyOptions, apply_plan, current_state
    from vhpc_toolkit.cluster.plan import plan_rows, pvrdma_rows, rule_rows, switch_rows
    from vhpc_toolkit.cluster.prepare import prepare_create
    from vhpc_toolkit.ops.post import password_source
    from vhpc_toolkit.output.cloning import render_cloning
    from vhpc_toolkit.output.cluster import render_actions, render_prune
    from vhpc_toolkit.output.plan import render_plan
    from vhpc_toolkit.output.progress import progress

    password_for = password_source(env=ctx.env, prompt=getpass.getpass if ctx.interactive else None)
    prepared = prepare_create(session, spec, allow_power_off=args.allow_power_off, password_for=password_for,
                              prune=args.prune)
    plan = prepared.plan
    for warning in plan.warnings:   # before the confirmation, in either format (stderr)
        ctx.warn(warning)
    if plan.up_to_date:
        result = current_state(plan)
        result.notes = plan.notes + result.notes
    else:
        show(ctx, render_plan, spec)
        show(ctx, render_actions, plan_rows(plan), switch_rows(plan), pvrdma_rows(plan), rule_rows(plan))
        if plan.prune and plan.prunable:
            show(ctx, render_prune, plan.prunable)
        show(ctx, render_cloning, plan.clones)
        confirm(ctx, "Create/update the cluster as planned above?")
        options = ApplyOptions(max_concurrency=args.max_concurrency, max_per_host=args.max_per_host,
                               ip_timeout=args.ip_timeout, rollback=args.rollback, password_for=password_for)
        with progress(ctx, "creating cluster", len(plan.vms) + len(plan.switches)) as event:
            result = apply_plan(session, plan, options, prepared.offers, on_event=event,
                                on_states=getattr(event, "states", None))
    result.allow_drift = args.allow_drift
    result.notes += plan.warnings
    result.notes += write_exports(result, spec, exports_of(args))
    return result


def _destroy(ctx, args, spec, session):
    from vhpc_toolkit.cluster.destroy import destroy_cluster
    from vhpc_toolkit.cluster.prepare import prepare_destroy
    from vhpc_toolkit.output.cluster import render_destroy_preview
    from vhpc_toolkit.output.progress import progress

    plan = prepare_destroy(session, spec, keep_copies=args.keep_template_copies)
    show(ctx, render_destroy_preview, plan)
    if plan.present or plan.switches or plan.copies:
        switches = f" and {len(plan.switches)} switch(es)" if plan.switches else ""
        copies = f", {len(plan.copies)} template copies" if plan.copies else ""
        confirm(ctx, f"Destroy {len(plan.present)} VM(s){copies}{switches} of {spec.path}?")
    with progress(ctx, "destroying cluster", len(plan.present) + len(plan.copies)) as event:
        return destroy_cluster(session, plan, concurrency=args.max_concurrency or 32, on_event=event)
