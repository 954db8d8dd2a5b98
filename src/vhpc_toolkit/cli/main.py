# PYTHON_ARGCOMPLETE_OK  (argcomplete's marker: this program answers completion requests itself)
"""The entry point: the one place where exceptions become messages and exit codes.

A command returns a result; here it is rendered (output/emit.py) and its exit code
derived (results.exit_code). Library code raises typed errors and never prints or exits.
"""
from __future__ import annotations

import sys

try:   # a Ctrl-C while the program loads ends as any other: 130, never killed by SIGINT
    import json
    import logging

    from rich.markup import escape

    from vhpc_toolkit.cli.completion import complete
    from vhpc_toolkit.cli.context import Context
    from vhpc_toolkit.cli.parser import UsageError, build_parser, command_of, output_of
    from vhpc_toolkit.errors import ExitCode, VhpcError
except KeyboardInterrupt:  # pragma: no cover - a matter of milliseconds
    sys.exit(130)


def report_error(ctx: Context, exc: BaseException, code: ExitCode, lines: list[str]) -> int:
    """Print an error: ``error:`` lines on stderr, then its hint (what to do) as plain lines; or in
    JSON mode one JSON object there."""
    hint = (getattr(exc, "hint", "") or "").splitlines()
    if ctx.output == "json":
        doc = {"error": {"message": lines[0] if lines else "", "lines": lines + hint, "exit_code": int(code),
                         "type": type(exc).__name__}}
        ctx.err.file.write(json.dumps(doc) + "\n")
    else:
        for line in lines:
            ctx.err.print(f"[red]error:[/] {escape(line)}", highlight=False, soft_wrap=True)
        for line in hint:
            ctx.err.print(escape(line), highlight=False, soft_wrap=True)
    return int(code)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    complete(build_parser)   # returns unless the shell asks for completions
    parser = build_parser(command_of(argv))
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help, --version
        return int(exc.code or 0)
    except UsageError as exc:
        ctx = Context(output=output_of(argv))
        if ctx.output == "json":
            return report_error(ctx, exc, ExitCode.BAD_INPUT, [str(exc)])
        ctx.err.file.write(exc.usage + str(exc) + "\n")
        return int(ExitCode.BAD_INPUT)
    ctx = Context(output=args.output, yes=args.yes, debug=args.debug, vcenter_conf=args.vcenter_conf,
                  task_timeout=getattr(args, "task_timeout", None),
                  connect_timeout=args.connect_timeout, read_timeout=args.read_timeout,
                  log_file=args.log_file, argv=argv)
    if args.debug:
        logging.basicConfig(level=logging.DEBUG, format="%(levelname)s %(name)s: %(message)s")
    from vhpc_toolkit.output.emit import emit
    from vhpc_toolkit.results import exit_code

    try:
        result = args.run(ctx, args)
        emit(ctx, result)
        return int(exit_code(result))
    except VhpcError as exc:
        return report_error(ctx, exc, exc.exit_code, str(exc).splitlines() or [type(exc).__name__])
    except KeyboardInterrupt as exc:
        if ctx.output == "json":
            return report_error(ctx, exc, ExitCode.INTERRUPTED, ["interrupted"])
        ctx.err.print("interrupted", highlight=False)
        return int(ExitCode.INTERRUPTED)
    except Exception as exc:  # a vSphere fault or a bug: one line, the traceback only with --debug
        if args.debug:
            ctx.err.print_exception()
        msg = getattr(exc, "msg", None) or str(exc) or type(exc).__name__
        line = f"{type(exc).__name__}: {msg.splitlines()[0] if msg else ''} (run with --debug for details)"
        return report_error(ctx, exc, ExitCode.FAILED, [line])
    finally:
        try:
            ctx.close()
        except KeyboardInterrupt:   # Ctrl-C during the logout: the run's outcome stands
            pass


def entry() -> None:  # pragma: no cover - console script shim
    # A Ctrl-C that comes while main() cleans up (the logout, the lock's release, a second Ctrl-C
    # while the first is reported) still ends with 130: uncaught, Python would kill itself with SIGINT.
    try:
        code = main()
    except KeyboardInterrupt:
        code = int(ExitCode.INTERRUPTED)
    sys.exit(code)
