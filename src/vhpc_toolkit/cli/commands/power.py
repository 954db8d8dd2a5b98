"""`power (--on | --off) (--vm | --file)`."""
from vhpc_toolkit.ops.power import set_power
from vhpc_toolkit.output.report import render_report


def run(ctx, args) -> int:
    return render_report(set_power(ctx.session(), args.vm, args.file, on=args.on), ctx)
