"""`cluster (--plan | --create | --destroy) --file F`."""
from __future__ import annotations

from vhpc_toolkit.clusterfile import parse_cluster_file
from vhpc_toolkit.errors import InputError, ValidationFailed
from vhpc_toolkit.output.jsonout import print_json
from vhpc_toolkit.output.plan import plan_document, render_plan


def confirm(ctx, question: str) -> bool:
    """--yes answers yes; a terminal is asked; anything else is an error (never guess)."""
    if ctx.yes:
        return True
    if not ctx.interactive:
        raise InputError(f"{question} (not a terminal: add --yes to confirm)")
    from rich.prompt import Confirm

    return Confirm.ask(question, console=ctx.err, default=False)


def run(ctx, args) -> int:
    if args.plan:
        spec = parse_cluster_file(args.file)
        if ctx.output == "json":
            print_json(plan_document(spec), ctx.out)
        else:
            render_plan(spec, ctx.out)
        return 0
    spec = parse_cluster_file(args.file)
    return _create(ctx, args, spec) if args.create else _destroy(ctx, args, spec)


def _create(ctx, args, spec) -> int:
    from vhpc_toolkit.cluster.apply import ApplyOptions, apply_plan, current_state
    from vhpc_toolkit.cluster.devices import check_devices
    from vhpc_toolkit.cluster.inventory import read_cluster_inventory
    from vhpc_toolkit.cluster.plan import plan_cluster, plan_rows
    from vhpc_toolkit.output.cluster import render_actions, render_result
    from vhpc_toolkit.output.exports import write_exports

    session = ctx.session()
    plan = plan_cluster(read_cluster_inventory(session, spec), spec, allow_power_off=args.allow_power_off)
    offers = check_devices(session, plan)
    password_for = _guest_passwords(ctx, plan)
    if plan.problems:
        raise ValidationFailed(plan.problems + [f"{len(plan.problems)} problem(s); nothing was changed"])
    rows = plan_rows(plan)
    switch_rows = [{"name": s.spec.name, "kind": s.spec.kind, "action": s.action, "detail": s.detail}
                   for s in plan.switches]
    if plan.up_to_date:
        result = current_state(plan)
        result.notes += write_exports(result, spec, args.hostfile, args.inventory)
        if ctx.output == "json":
            print_json(result.to_dict(), ctx.out)
        else:
            render_result(result, ctx.out)
            drift = [v for v in result.vms if v.status == "drift"]
            ctx.out.print(f"cluster {spec.path}: up to date ({len(rows)} VM(s), {len(switch_rows)} switch(es))"
                          + (f"; {len(drift)} VM(s) differ from the file (see drift)" if drift else ""),
                          highlight=False)
        return 0
    if ctx.output != "json":
        render_plan(spec, ctx.out)
        render_actions(rows, switch_rows, ctx.out)
    if not confirm(ctx, "Create/update the cluster as planned above?"):
        ctx.err.print("nothing was changed")
        return 1
    options = ApplyOptions(max_concurrency=args.max_concurrency, max_per_host=args.max_per_host,
                           ip_timeout=args.ip_timeout, rollback=args.rollback, password_for=password_for)
    from vhpc_toolkit.output.progress import progress

    with progress(ctx, "creating cluster", len(plan.vms) + len(plan.switches)) as event:
        result = apply_plan(session, plan, options, offers, on_event=event)
    result.notes += write_exports(result, spec, args.hostfile, args.inventory)
    if ctx.output == "json":
        print_json(result.to_dict(), ctx.out)
    else:
        render_result(result, ctx.out)
        if result.post is not None:
            from vhpc_toolkit.cli.commands.post import render as render_post

            render_post(result.post, ctx)
    if result.interrupted:
        return 130
    return 1 if result.failed or result.post_failed else 0


def _guest_passwords(ctx, plan):
    """Every VM that will run scripts has a guest password before anything changes."""
    import getpass

    from vhpc_toolkit.cluster.plan import CREATE
    from vhpc_toolkit.errors import VhpcError
    from vhpc_toolkit.ops.post import password_source

    password_for = password_source(env=ctx.env, prompt=getpass.getpass if ctx.interactive else None)
    for p in plan.vms:
        if p.action == CREATE and p.spec.scripts:
            try:
                password_for(p.spec)
            except VhpcError as exc:
                plan.problems.append(f"{plan.spec.path}:{p.spec.line}: VM {p.name}: {exc}")
    return password_for


def _destroy(ctx, args, spec) -> int:
    from vhpc_toolkit.cluster.destroy import destroy_cluster, plan_destroy
    from vhpc_toolkit.output.report import render_report

    session = ctx.session()
    _, plan = plan_destroy(session, spec)
    if ctx.output != "json":
        names = ", ".join(o.name for o in plan.present) or "none"
        ctx.out.print(f"to destroy: {len(plan.present)} VM(s): {names}", highlight=False)
        if plan.absent:
            ctx.out.print(f"absent (nothing to do): {', '.join(plan.absent)}", highlight=False)
        if plan.switches:
            ctx.out.print("then switches: " + ", ".join(f"{s.name} ({s.kind})" for s in plan.switches),
                          highlight=False)
    if (plan.present or plan.switches) and not confirm(ctx, f"Destroy {len(plan.present)} VM(s) of {spec.path}?"):
        ctx.err.print("nothing was changed")
        return 1
    from vhpc_toolkit.output.progress import progress

    with progress(ctx, "destroying cluster", len(plan.present)) as event:
        report, switch_rows = destroy_cluster(session, plan, concurrency=args.max_concurrency, on_event=event)
    if ctx.output == "json":
        doc = report.to_dict()
        doc["switches"] = switch_rows
        print_json(doc, ctx.out)
        return 1 if report.failed or any(r["status"] == "failed" for r in switch_rows) else 0
    code = render_report(report, ctx)
    for row in switch_rows:
        ctx.out.print(f"switch {row['name']} ({row['kind']}): {row['status']}: {row['detail']}", highlight=False)
    return code or (1 if any(r["status"] == "failed" for r in switch_rows) else 0)
