"""`post --script S... [--guest_username] [--guest_password] [--wait] (--vm | --file)`."""
from __future__ import annotations

import getpass

from vhpc_toolkit.cli.parser import vm_or_file
from vhpc_toolkit.ops.post import PostReport, guest_password, run_scripts
from vhpc_toolkit.ops.vms.targets import target_names


def arguments(p) -> None:
    vm_or_file(p, "to run the script(s) in")
    p.add_argument("--script", required=True, nargs="+", help="Local script(s) to upload and run")
    p.add_argument("--guest_username", default="root", help="Guest OS user (default: %(default)s)")
    p.add_argument("--guest_password",
                   help="Guest OS password. Better kept out of the command line: set\n"
                        "VHPC_GUEST_PASSWORD, keep it in Vault, or answer the prompt.")
    p.add_argument("--wait", action="store_true", help="Wait for the scripts to finish and report")


def run(ctx, args) -> PostReport:
    names = [name for name, _ in target_names(args.vm, args.file)]
    prompt = (lambda msg: getpass.getpass(msg)) if ctx.interactive else None
    password = guest_password(args.guest_password, ctx.env, prompt,
                              what=f"{args.guest_username} in the guest OS")
    ctx.protected.update({script: "a script to run" for script in args.script})
    # With --wait each VM records the scripts that ended, as a cluster file's steps are recorded.
    return run_scripts(ctx.session(), [(name, list(args.script)) for name in names],
                       username=args.guest_username, password=password, wait=args.wait, record=True)
