"""`cluster (--plan | --create | --destroy | --status | --adopt | --unlock) --file F`, `cluster --list`: the
engine prepares, the CLI confirms and renders."""
from __future__ import annotations

import argparse
import contextlib
import getpass

from vhpc_toolkit.cli.parser import positive
from vhpc_toolkit.cli.prompt import can_ask, confirm
from vhpc_toolkit.clusterfile import parse_cluster_file
from vhpc_toolkit.errors import InputError, InterruptedEarly
from vhpc_toolkit.output.emit import show
from vhpc_toolkit.output.cluster.exports import KINDS, check_export_paths, files_read, parse_export, write_exports
from vhpc_toolkit.results import Document
from vhpc_toolkit.words import count


def arguments(p) -> None:
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--create", action="store_true", help="Create (or bring up to date) the cluster")
    group.add_argument("--destroy", action="store_true", help="Destroy the cluster's VMs and switches")
    group.add_argument("--plan", action="store_true",
                       help="Show the expansion of the file (VMs, switches); needs no vCenter")
    group.add_argument("--status", action="store_true",
                       help="Compare the file with vCenter (read-only): exit 0 when all matches, 1 otherwise")
    group.add_argument("--unlock", action="store_true",
                       help="Break the cluster's lock on vCenter left by a run that was killed")
    group.add_argument("--list", action="store_true",
                       help="List every cluster on the vCenter (no --file): name, where, VMs, switches, last run")
    group.add_argument("--adopt", action="store_true",
                       help="Take over the file's VMs and switches that carry another cluster's mark (e.g. after "
                            "renaming the cluster); lists them and asks")
    p.add_argument("--file", help="Cluster configuration file (every action but --list)")
    p.add_argument("--rollback", action="store_true",
                   help="--create: destroy what this run created if anything failed")
    p.add_argument("--allow-power-off", action="store_true",
                   help="--create: power off existing VMs whose cpu/memory must change, then power on")
    p.add_argument("--prune", action="store_true",
                   help="--create: destroy the VMs that carry the file's naming pattern but are no longer in it")
    p.add_argument("--allow-drift", action="store_true",
                   help="--create/--status: exit 0 even when VMs differ from the file in what --create\n"
                        "does not change (reported as drift)")
    p.add_argument("--rerun-scripts", action="store_true",
                   help="--create: run every script step again on every VM (not only the unfinished ones)")
    p.add_argument("--no-checks", action="store_true",
                   help="--create/--status: do not run the file's checks in the guests")
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
    if args.list:
        if args.file:
            raise InputError("cluster --list lists every cluster on the vCenter: it takes no --file")
        return _list(ctx)
    if not args.file:
        raise InputError("cluster: --file is required (but for --list)")
    # A plan needs no script on disk: it notes the missing ones; every other action refuses them.
    spec = parse_cluster_file(args.file, check_scripts=not args.plan)
    if args.create or args.status:
        check_export_paths(exports_of(args), args.file, spec)
    ctx.protected.update(files_read(spec))
    for kind, path in exports_of(args):
        ctx.protected[path] = f"the file of --export {kind}"
    if args.plan:
        from vhpc_toolkit.output.cluster.plan import plan_document

        return Document("plan", plan_document(spec), source=spec)
    if args.unlock:
        return _unlock(ctx, spec)
    if args.destroy or args.adopt:
        can_ask(ctx, "destroying" if args.destroy else "adopting")   # refused off a terminal without --yes before any login
    if args.status:
        return _status(ctx, args, spec)
    from vhpc_toolkit.cluster.ownership.lock import held

    session = ctx.session()
    with held(session, spec.name, spec.path) as lock:   # one run at a time per cluster (cluster/ownership/lock.py)
        if lock.unprotected:
            ctx.warn(f"{lock.unprotected}: cluster {spec.name} runs without its lock on vCenter (do not run it "
                     "twice at the same time), and cluster --list may not show this run")
        run_ = _create if args.create else _destroy if args.destroy else _adopt
        return run_(ctx, args, spec, session, lock)


def _recorded(ctx, lock, why: str | None) -> None:
    """Warn when the run could not be recorded for --list, unless the lock's warning said why."""
    if why and why != lock.unprotected:
        ctx.warn(f"cluster --list will not show this run of cluster {lock.cluster}: {why}")


def _password_source(ctx):
    from vhpc_toolkit.ops.post import password_source

    return password_source(env=ctx.env, prompt=getpass.getpass if ctx.interactive else None)


def _status(ctx, args, spec):
    from vhpc_toolkit.cli.completion import remember_vm_names
    from vhpc_toolkit.cluster.state.status import cluster_status
    from vhpc_toolkit.output.progress import phases

    from vhpc_toolkit.cluster.guests.checks import with_checks

    password_for = None
    if not args.no_checks and with_checks(spec):
        password_for = _password_source(ctx)
        try:   # looked up before anything runs (and asked once on a terminal)
            for vm in with_checks(spec):
                password_for(vm)
        except InputError as exc:
            raise InputError(f"{exc}; --no-checks skips the checks that need it") from None
    with before_any_change(), phases(ctx) as shown:   # a status changes nothing on vCenter
        status = cluster_status(ctx.session(), spec, password_for, allow_drift=args.allow_drift, progress=shown)
    remember_vm_names([v.name for v in status.vms if v.host])
    status.notes = write_exports(status, spec, exports_of(args))
    if ctx.output == "json":   # the document stays the status; the notes go beside it
        for note in status.notes:
            ctx.err.print(f"[yellow]note:[/] {note}", highlight=False)
    return status


def _unlock(ctx, spec):
    from vhpc_toolkit.cluster.ownership.lock import break_lock, lock_name

    session = ctx.session()
    confirm(ctx, f"Break the lock of cluster {spec.name} (a run still holding it would go on unprotected)?")
    holder = break_lock(session, spec.name)
    text = f"lock of cluster {spec.name} broken (it was held by {holder})" if holder else \
        f"cluster {spec.name} was not locked"
    return Document("message", {"message": text, "lock": lock_name(spec.name), "held_by": holder})


def _list(ctx):
    from vhpc_toolkit.cluster.ownership.listing import list_clusters

    return list_clusters(ctx.session())


def _adopt(ctx, args, spec, session, lock):
    from vhpc_toolkit.cluster.ownership.adopt import adopt, plan_adopt
    from vhpc_toolkit.cluster.ownership.runs import record_run
    from vhpc_toolkit.output.cluster.results import render_adoption

    adoption = plan_adopt(session, spec)
    if adoption.empty:
        return adopt(session, adoption)
    show(ctx, render_adoption, adoption)
    confirm(ctx, f"Adopt {adoption.summary()} into cluster {spec.name}?")
    result = adopt(session, adoption)
    _recorded(ctx, lock, record_run(session, adoption.inv, spec.name, adoption.datacenter(), spec.path, "adopt"))
    return result


def _create(ctx, args, spec, session, lock):
    from vhpc_toolkit.cluster.applying.apply import ApplyOptions, apply_plan, current_state
    from vhpc_toolkit.cluster.planning.plan import plan_rows, pvrdma_rows, rule_rows, switch_rows
    from vhpc_toolkit.cluster.planning.prepare import prepare_create
    from vhpc_toolkit.cluster.ownership.runs import datacenter_of, record_run
    from vhpc_toolkit.cluster.planning.summary import create_counts
    from vhpc_toolkit.cluster.ownership.takeover import take_over
    from vhpc_toolkit.output.cluster.cloning import render_cloning
    from vhpc_toolkit.output.cluster.results import render_actions, render_prune
    from vhpc_toolkit.output.cluster.plan import render_plan
    from vhpc_toolkit.output.progress import phases
    from vhpc_toolkit.output.cluster.scripts import render_pending_steps
    from vhpc_toolkit.slurm.guest_env import script_env
    from vhpc_toolkit.cli.completion import remember_vm_names
    from vhpc_toolkit.results import ROLLED_BACK

    password_for = _password_source(ctx)
    with before_any_change():
        prepared = prepare_create(session, spec, allow_power_off=args.allow_power_off, password_for=password_for,
                                  prune=args.prune, rerun_scripts=args.rerun_scripts, checks=not args.no_checks)
    plan = prepared.plan
    counts = create_counts(plan)
    for warning in plan.warnings:   # before the confirmation, in either format (stderr)
        ctx.warn(warning)
    options = ApplyOptions(max_concurrency=args.max_concurrency, max_per_host=args.max_per_host,
                           ip_timeout=args.ip_timeout, rollback=args.rollback, password_for=password_for,
                           checks=not args.no_checks, script_env=script_env(spec))
    taken = take_over(session, plan)   # an earlier version's marks of this file: without a question
    if plan.up_to_date:   # nothing to change: Ctrl-C during the checks leaves all as it was (unless taken over)
        with (before_any_change() if not taken else contextlib.nullcontext()), phases(ctx) as shown:
            result = current_state(plan, session, options, shown)
        result.notes = plan.notes + result.notes
    else:
        show(ctx, render_plan, spec)
        show(ctx, render_actions, plan_rows(plan), switch_rows(plan), pvrdma_rows(plan), rule_rows(plan))
        show(ctx, render_pending_steps, plan)
        if plan.prune and plan.prunable:
            show(ctx, render_prune, plan.prunable)
        show(ctx, render_cloning, plan.clones)
        say_plan(ctx, counts)
        with before_any_change():
            confirm(ctx, "Create/update the cluster as planned above?")
        with phases(ctx) as shown:
            result = apply_plan(session, plan, options, prepared.offers, progress=shown)
    result.allow_drift = args.allow_drift
    result.plan = counts
    result.notes = taken + result.notes + [n for n in spec.notes if n not in result.notes] + plan.warnings
    result.notes += write_exports(result, spec, exports_of(args))
    _recorded(ctx, lock, record_run(session, plan.inv, spec.name, datacenter_of(plan), spec.path, "create"))
    remember_vm_names([v.name for v in result.vms if v.host and v.status != ROLLED_BACK])   # for completion
    return result


def _destroy(ctx, args, spec, session, lock):
    from vhpc_toolkit.cluster.applying.destroy import destroy_cluster
    from vhpc_toolkit.cluster.ownership.runs import after_destroy
    from vhpc_toolkit.cluster.planning.prepare import prepare_destroy
    from vhpc_toolkit.cluster.planning.summary import destroy_counts
    from vhpc_toolkit.output.cluster.results import render_destroy_preview
    from vhpc_toolkit.output.progress import phases

    with before_any_change():
        plan = prepare_destroy(session, spec, keep_copies=args.keep_template_copies)
    counts = destroy_counts(plan)
    show(ctx, render_destroy_preview, plan)
    if plan.present or plan.switches or plan.copies:
        switches = f" and {count(len(plan.switches), 'switch')}" if plan.switches else ""
        copies = f", {count(len(plan.copies), 'template copy')}" if plan.copies else ""
        say_plan(ctx, counts)
        with before_any_change():
            confirm(ctx, f"Destroy {count(len(plan.present), 'VM')}{copies}{switches} of cluster {spec.name}?")
    if plan.present or plan.copies:
        with phases(ctx) as shown, shown.phase("destroying", len(plan.present) + len(plan.copies)) as phase:
            result = destroy_cluster(session, plan, concurrency=args.max_concurrency or 32, on_event=phase)
    else:   # no VM: no phase of nothing
        result = destroy_cluster(session, plan, concurrency=args.max_concurrency or 32)
    result.plan = counts
    # Also when nothing was left to destroy (removed by hand): the record of a cluster that is gone goes.
    _recorded(ctx, lock, after_destroy(session, plan, result))
    return result


@contextlib.contextmanager
def before_any_change():
    """Ctrl-C while reading, planning or asking: exit 130 saying nothing was changed."""
    try:
        yield
    except KeyboardInterrupt:
        raise InterruptedEarly() from None


def say_plan(ctx, counts) -> None:
    """The one line above a confirmation; in JSON mode on stderr, and only when a person is asked."""
    if ctx.output != "json":
        ctx.out.print(counts.line(), highlight=False)
    elif ctx.interactive:   # a terminal and no --yes
        ctx.err.print(counts.line(), highlight=False)
