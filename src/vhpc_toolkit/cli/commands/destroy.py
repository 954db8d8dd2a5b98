"""`destroy (--vm | --file)`: powered off first."""
from vhpc_toolkit.ops.power import destroy
from vhpc_toolkit.output.report import render_report


def run(ctx, args) -> int:
    return render_report(destroy(ctx.session(), args.vm, args.file), ctx)
