"""`destroy (--vm | --file)`: powered off first."""
from vhpc_toolkit.ops.power import destroy
from vhpc_toolkit.output.report import render_report


def run(ctx, args) -> int:
    from vhpc_toolkit.output.progress import progress

    with progress(ctx, "destroy", None) as event:
        report = destroy(ctx.session(), args.vm, args.file, on_event=event)
    return render_report(report, ctx)
