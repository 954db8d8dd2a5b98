"""`completion bash|zsh [--script]`: the line that turns on shell completion, or the shell code
that line runs (argcomplete's, for vhpc_toolkit and vhpc)."""
from __future__ import annotations

from vhpc_toolkit.results import Document

START_FILES = {"bash": "~/.bashrc", "zsh": "~/.zshrc (after `autoload -U compinit && compinit`)"}


def arguments(p) -> None:
    p.add_argument("shell", choices=sorted(START_FILES), help="your shell")
    p.add_argument("--script", action="store_true",
                   help="print the completion code itself (what the line evaluates)")


def run(ctx, args) -> Document:
    from vhpc_toolkit.cli.completion import cache_path, shell_line, shell_script

    if args.script:
        return Document("raw", {"text": shell_script(args.shell)})
    line = shell_line(args.shell)
    return Document("message", {
        "message": f"# Add this line to {START_FILES[args.shell]}, then open a new shell:\n{line}\n"
                   f"# VM, host, template, port group and device names complete from the last `view` "
                   f"(kept in {cache_path()}); completing never calls vCenter.",
        "shell": args.shell, "line": line, "start_file": START_FILES[args.shell].split()[0]})
