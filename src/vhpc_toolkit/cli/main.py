"""The entry point: the one place where exceptions become messages and exit codes.

A command returns a result; here it is rendered (output/emit.py) and its exit code
derived (results.exit_code). Library code raises typed errors and never prints or exits.
"""
from __future__ import annotations

import logging
import sys

from rich.markup import escape

from vhpc_toolkit.cli.context import Context
from vhpc_toolkit.cli.parser import build_parser, command_of
from vhpc_toolkit.errors import ExitCode, VhpcError


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(command_of(argv))
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help, --version, usage errors
        return int(exc.code or 0)
    ctx = Context(output=args.output, yes=args.yes, debug=args.debug, vcenter_conf=args.vcenter_conf,
                  connect_timeout=args.connect_timeout, read_timeout=args.read_timeout)
    if args.debug:
        logging.basicConfig(level=logging.DEBUG, format="%(levelname)s %(name)s: %(message)s")
    from vhpc_toolkit.output.emit import emit
    from vhpc_toolkit.results import exit_code

    try:
        result = args.run(ctx, args)
        emit(ctx, result)
        return int(exit_code(result))
    except VhpcError as exc:
        for line in str(exc).splitlines() or [type(exc).__name__]:
            ctx.err.print(f"[red]error:[/] {escape(line)}", highlight=False, soft_wrap=True)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        ctx.err.print("interrupted", highlight=False)
        return int(ExitCode.INTERRUPTED)
    except Exception as exc:  # a vSphere fault or a bug: one line, the traceback only with --debug
        if args.debug:
            ctx.err.print_exception()
        msg = getattr(exc, "msg", None) or str(exc) or type(exc).__name__
        ctx.err.print(f"[red]error:[/] {escape(type(exc).__name__)}: {escape(msg.splitlines()[0] if msg else '')}"
                      " (run with --debug for details)", highlight=False)
        return int(ExitCode.FAILED)
    finally:
        ctx.close()


def entry() -> None:  # pragma: no cover - console script shim
    sys.exit(main())
