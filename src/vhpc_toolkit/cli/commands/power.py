"""`power (--on | --off) (--vm | --file)`."""
from vhpc_toolkit.ops.power import set_power
from vhpc_toolkit.output.report import render_report


def run(ctx, args) -> int:
    from vhpc_toolkit.output.progress import progress

    with progress(ctx, "power " + ("on" if args.on else "off"), None) as event:
        report = set_power(ctx.session(), args.vm, args.file, on=args.on, on_event=event)
    return render_report(report, ctx)
