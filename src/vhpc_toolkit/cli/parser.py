"""The argument tree: every command and flag of the original toolkit, same names.

Global options come before the command (or after it). Each command module under
``cli/commands`` declares its own arguments; the parser only assembles them, and
imports only the module of the command being parsed (all of them for ``--help``
listings of every command's flags, e.g. shell completion).
"""
from __future__ import annotations

import argparse

from vhpc_toolkit import __version__
from vhpc_toolkit.cli.commands import COMMANDS, load, runner
from vhpc_toolkit.errors import InputError
from vhpc_toolkit.limits import MAX_MEMORY_GB, MAX_MTU, MAX_SHARES, MAX_VCPUS, MIN_MTU, memory_problem, number_problem
from vhpc_toolkit.words import HINT as YES_NO_HINT, yes_no

VM_HELP = "Name(s) (or inventory paths) of the VM(s) {what}"
FILE_HELP = "File listing VMs, one per line ({what}); blank lines and # comments ignored"
# Commands that run vSphere tasks: they take --task-timeout.
TASK_COMMANDS = frozenset({"clone", "destroy", "power", "cpumem", "network", "network_cfg", "post", "passthru",
                           "sriov", "pvrdma", "vgpu", "dvs", "latency", "cluster"})
DEFAULT_TASK_TIMEOUT = 3600


# --- argument types and groups the commands share ----------------------------------------------

def bool_word(text: str) -> bool:
    value = yes_no(text)
    if value is None:
        raise argparse.ArgumentTypeError(f"expected yes/no ({YES_NO_HINT}), got {text!r}")
    return value


def positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}")
    return value


def _bounded(parse, what: str, maximum: float, minimum: float = 1):
    def convert(text: str):
        try:
            value = parse(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        problem = number_problem(value, what, maximum, minimum)
        if problem:
            raise argparse.ArgumentTypeError(problem)
        return value

    convert.__name__ = what.replace(" ", "_")
    return convert


vcpus = _bounded(int, "vCPUs", MAX_VCPUS)
timeout_seconds = _bounded(float, "timeout (seconds)", 3600, minimum=0.001)
_memory_bounds = _bounded(float, "memory (GB)", MAX_MEMORY_GB, minimum=0)


def memory_gb(text: str) -> float:
    """GB of memory vSphere can give a VM: at least 4 MB (vSphere's minimum), at most its maximum."""
    value = _memory_bounds(text)
    problem = memory_problem(value)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return value
shares = _bounded(int, "shares", MAX_SHARES, minimum=0)
mtu = _bounded(int, "MTU (bytes)", MAX_MTU, minimum=MIN_MTU)


def hardware_version(text: str) -> int:
    """A virtual hardware version: 17, or vSphere's spelling vmx-17."""
    from vhpc_toolkit.clusterfile.values import to_hardware_version

    return _value_of(to_hardware_version)(text)


def _value_of(convert):
    """An argparse type from a cluster-file converter (same words, same checks)."""
    def parse(text: str):
        from vhpc_toolkit.clusterfile.values import BadValue

        try:
            return convert(text)
        except BadValue as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parse.__name__ = convert.__name__.removeprefix("to_")
    return parse


def ipv4(text: str) -> str:
    from vhpc_toolkit.clusterfile.values import to_ipv4

    return _value_of(to_ipv4)(text)


def netmask(text: str) -> str:
    from vhpc_toolkit.clusterfile.values import to_netmask

    return _value_of(to_netmask)(text)


def vm_or_file(p: argparse.ArgumentParser, what: str) -> None:
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--vm", nargs="+", metavar="VM", help=VM_HELP.format(what=what))
    group.add_argument("--file", help=FILE_HELP.format(what=what))


def host_or_file(p: argparse.ArgumentParser, what: str) -> None:
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--host", help=f"Name of the ESXi host {what}")
    group.add_argument("--file", help=f"File listing hosts, one per line ({what}); blank lines and # comments ignored")


def on_off(p: argparse.ArgumentParser, on: str, off: str) -> None:
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--on", action="store_true", help=on)
    group.add_argument("--off", action="store_true", help=off)


def affinity_list(text: str) -> list[int]:
    """The original's affinity syntax (`0, 2, 4:7, 8:12:2`) as sorted numbers."""
    from vhpc_toolkit.specs.tuning import AffinityError, parse_affinity

    try:
        return parse_affinity(text)
    except AffinityError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def affinity_or_clear(p: argparse.ArgumentParser, what: str, unit: str) -> None:
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--affinity", type=affinity_list, metavar="SPEC",
                       help=f"{what}: values and ranges, e.g. '0, 2, 4:7, 8:12:2' is {unit} 0, 2, 4, 5, 6, 7, 8, 10, 12\n"
                            "(first:last[:step], both ends included)")
    group.add_argument("--clear", action="store_true", help=f"Clear the {what.lower()}")


def vm_targets(args) -> list[tuple[str, str]]:
    """The VMs of ``--vm`` or ``--file`` as (name, where) pairs, read now (before any login)."""
    from vhpc_toolkit.ops.vms.targets import target_names

    return target_names(args.vm, args.file)


def add_remove(p: argparse.ArgumentParser, noun: str, required: bool,
               query: str | None = None) -> argparse._MutuallyExclusiveGroup:
    """--add | --remove (and --query, which lists ``query``): one of them at most."""
    group = p.add_mutually_exclusive_group(required=required)
    if query:
        group.add_argument("--query", action="store_true", help=f"List {query}")
    group.add_argument("--add", action="store_true", help=f"Add {noun}")
    group.add_argument("--remove", action="store_true", help=f"Remove {noun}")
    return group


def task_timeout(p: argparse.ArgumentParser) -> None:
    p.add_argument("--task-timeout", type=positive, default=DEFAULT_TASK_TIMEOUT, metavar="SECONDS",
                   help="how long each vSphere task (clone, reconfigure, power...) may take before it is\n"
                        "cancelled and reported failed (default: %(default)s); the others go on")


def create_destroy(p: argparse.ArgumentParser, noun: str) -> argparse._MutuallyExclusiveGroup:
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--create", action="store_true", help=f"Create {noun}")
    group.add_argument("--destroy", action="store_true", help=f"Destroy {noun}")
    return group


# --- assembly -------------------------------------------------------------------------------

def _global_options(p: argparse.ArgumentParser, default, audit: bool = True) -> None:
    """The options every command takes; ``default`` is SUPPRESS when repeated after the command,
    so a value given before the command is not reset. ``audit`` False leaves out ``--log-file``
    (the Slurm programs' own --log-file takes its place after their action)."""
    d = (lambda v: v) if default is None else (lambda v: default)
    p.add_argument("--vcenter-conf", metavar="PATH", default=d(None),
                   help="vCenter settings file (default: $VHPC_VCENTER_CONF, ./vCenter.conf, "
                        "~/.config/vhpc_toolkit/vCenter.conf, ~/vhpc_toolkit/vCenter.conf)")
    if audit:
        p.add_argument("--log-file", metavar="PATH", default=d(None),
                       help="append every change made on vCenter to PATH, one line each: user, vCenter, object,\n"
                            "task and outcome (an audit trail; default: log_file in vCenter.conf)")
    p.add_argument("--output", choices=("text", "json"), default=d("text"), help="result format (default: text)")
    p.add_argument("--yes", "-y", action="store_true", default=d(False),
                   help="never prompt: assume yes to confirmations, fail where a secret is missing")
    p.add_argument("--debug", action="store_true", default=d(False), help="print debug messages (never secrets)")
    p.add_argument("--connect-timeout", type=timeout_seconds, metavar="SECONDS", default=d(None),
                   help="seconds to connect to vCenter (default: connect_timeout in vCenter.conf, else 15)")
    p.add_argument("--read-timeout", type=timeout_seconds, metavar="SECONDS", default=d(None),
                   help="seconds to wait for any answer of vCenter (default: read_timeout in vCenter.conf, else 120)")


_AFTER = argparse.ArgumentParser(add_help=False)
_global_options(_AFTER, argparse.SUPPRESS)
# Parents share their actions with every parser made from them: never resolve a conflict with one
# (it would take the option strings off the shared action). A parser with a --log-file of its own
# takes this one instead.
AFTER_WITHOUT_AUDIT = argparse.ArgumentParser(add_help=False)
_global_options(AFTER_WITHOUT_AUDIT, argparse.SUPPRESS, audit=False)


class UsageError(InputError):
    """Bad usage found by argparse: the usage line and the message."""

    def __init__(self, usage: str, message: str):
        self.usage = usage
        super().__init__(message)


class Parser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so the entry point renders the error (text or JSON),
    suggests the nearest command or flag for a mistyped one, and takes a flag's two spellings as one."""

    def error(self, message: str):
        raise UsageError(self.format_usage(), f"{self.prog}: error: {suggest(self, message)}")

    def _get_option_tuples(self, option_string):
        # An abbreviation matching both spellings of one flag (--include: --include-templates,
        # --include_templates) names that flag, not two.
        seen, out = set(), []
        for match in super()._get_option_tuples(option_string):
            if id(match[0]) not in seen:
                seen.add(id(match[0]))
                out.append(match)
        return out


def spellings(option: str) -> list[str]:
    """The other spellings of a long flag: ``--gpu_model`` -> ``--gpu-model``, and the reverse."""
    if not option.startswith("--"):
        return []
    body = option[2:]
    return sorted({"--" + body.replace("_", "-"), "--" + body.replace("-", "_")} - {option})


def accept_both_spellings(parser: argparse.ArgumentParser) -> None:
    """Every flag of ``parser`` and its commands is accepted with ``_`` or ``-`` between its words.
    The other spelling only parses: help, completion and errors show the documented one."""
    for action in parser._actions:
        for option in action.option_strings:
            for alias in spellings(option):
                parser._option_string_actions.setdefault(alias, action)
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                accept_both_spellings(sub)


def _options(parser: argparse.ArgumentParser) -> list[str]:
    """The documented flags of ``parser`` and of the commands loaded into it."""
    out = []
    for action in parser._actions:
        out += [o for o in action.option_strings if o.startswith("--")]
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                out += [o for a in sub._actions for o in a.option_strings if o.startswith("--")]
    return sorted(set(out))


def suggest(parser: argparse.ArgumentParser, message: str) -> str:
    """argparse's message, with "did you mean" for a mistyped command or flag."""
    import difflib
    import re

    command = re.match(r"argument COMMAND: invalid choice: '?([^'\s]*)'?", message)
    if command:
        close = difflib.get_close_matches(command.group(1), list(COMMANDS), n=1, cutoff=0.6)
        hint = f"; did you mean '{close[0]}'?" if close else f" ({parser.prog} --help lists the commands)"
        return f"unknown command '{command.group(1)}'{hint}"
    unknown = re.match(r"unrecognized arguments: (.*)", message)
    if unknown:
        flags = [w.split("=", 1)[0] for w in unknown.group(1).split() if w.startswith("--")]
        for flag in flags:
            close = difflib.get_close_matches(flag.replace("-", "_"), [o.replace("-", "_") for o in _options(parser)],
                                              n=1, cutoff=0.75)
            if close:
                documented = next(o for o in _options(parser) if o.replace("-", "_") == close[0])
                return f"{message}; did you mean {documented} (for {flag})?"
    return message


def output_of(argv: list[str]) -> str:
    """The --output format asked for, for errors raised before the arguments parse."""
    for i, arg in enumerate(argv):
        if arg == "--output" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--output="):
            return arg.split("=", 1)[1]
    return "text"


class _Quiet(argparse.ArgumentParser):
    """A parser that raises instead of printing: the full parser reports the error once."""

    def error(self, message):
        raise ValueError(message)


def command_of(argv: list[str]) -> str | None:
    """The command named in ``argv`` (global options may come first), or None."""
    pre = _Quiet(add_help=False)
    _global_options(pre, None)
    pre.add_argument("command", nargs="?")
    accept_both_spellings(pre)
    try:
        known, _ = pre.parse_known_args(argv)
    except (ValueError, SystemExit):   # a bad global option: the full parser says so
        return None
    return known.command if known.command in COMMANDS else None


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of ``command``'s arguments (every command's when None; others are listed only)."""
    main = Parser(prog="vhpc_toolkit",
                  description="Build and manage virtual HPC clusters on VMware vSphere")
    _global_options(main, None)
    main.add_argument("--version", action="version", version=f"vhpc_toolkit version {__version__}")
    sub = main.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name, summary in COMMANDS.items():
        # Global options are accepted after the command too (`cluster --create --file F --yes`).
        p = sub.add_parser(name, help=summary, description=summary, parents=[_AFTER],
                           formatter_class=argparse.RawTextHelpFormatter)
        p.set_defaults(run=runner(name), command=name)
        if command is None or command == name:
            load(name).arguments(p)
            if name in TASK_COMMANDS:
                task_timeout(p)
    accept_both_spellings(main)
    return main
