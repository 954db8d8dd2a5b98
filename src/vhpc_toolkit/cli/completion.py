"""Shell completion (bash, zsh) through argcomplete, with names from the last inventory read.

`vhpc_toolkit completion bash` (or zsh) prints the line to add to the shell's start file.
Commands and flags come from the argument tree. Values come from a cache that `view` and
`cluster --create/--status` write after they have read vCenter (``$XDG_CACHE_HOME/vhpc_toolkit/
inventory.json``: names only, no secrets): VM names, templates, hosts, port groups, device
addresses. Completing never calls vCenter: a shell must not wait on the network at every tab.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterable

# flag -> the cache list its values come from
VALUE_FLAGS = {
    "--vm": "vms", "--template": "templates", "--host": "hosts", "--destination": "hosts",
    "--port_group": "port_groups", "--sriov_port_group": "port_groups", "--pvrdma_port_group": "port_groups",
    "--device": "devices", "--pf": "devices", "--profile": "vgpu_profiles", "--cluster": "clusters",
    "--datacenter": "datacenters", "--dvs_name": "switches",
}
KINDS = ("vms", "templates", "hosts", "port_groups", "devices", "vgpu_profiles", "clusters", "datacenters",
         "switches")


def cache_path() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "vhpc_toolkit" / "inventory.json"


def complete(build_parser) -> None:
    """When the shell asks for completions (argcomplete's environment), answer and exit."""
    if "_ARGCOMPLETE" not in os.environ:
        return
    import argcomplete

    parser = build_parser(None)
    for action in _actions(parser):
        wanted = [VALUE_FLAGS[o] for o in action.option_strings if o in VALUE_FLAGS]
        if wanted:
            action.completer = _from_cache(wanted[0])
        elif "--export" in action.option_strings:
            action.completer = export_kinds
    argcomplete.autocomplete(parser)


def _actions(parser):
    for action in parser._actions:
        yield action
        choices = getattr(action, "choices", None)
        if isinstance(choices, dict):
            for sub in choices.values():
                yield from _actions(sub)


def _from_cache(kind: str):
    def completer(prefix: str, action=None, parsed_args=None, **_) -> list[str]:
        given = getattr(parsed_args, getattr(action, "dest", ""), None) if parsed_args is not None else None
        given = set(given) if isinstance(given, list) else set()    # `--vm a b c`: each name once
        return [n for n in cached(kind) if n.startswith(prefix) and n not in given]

    completer.__name__ = f"complete_{kind}"
    return completer


def export_kinds(prefix: str, **_) -> list[str]:
    """``--export KIND=PATH``: the kinds, then files after the ``=``."""
    from vhpc_toolkit.output.cluster.exports import KINDS as EXPORTS

    if "=" not in prefix:
        return [f"{k}=" for k in EXPORTS if k.startswith(prefix)]
    kind, _, path = prefix.partition("=")
    import argcomplete

    return [f"{kind}={p}" for p in argcomplete.completers.FilesCompleter()(path)]


def cached(kind: str) -> list[str]:
    try:
        data = json.loads(cache_path().read_text())
    except (OSError, ValueError):
        return []
    values = data.get(kind) if isinstance(data, dict) else None
    return [str(v) for v in values] if isinstance(values, list) else []


def remember(**names: Iterable[str]) -> None:
    """Keep the names a command read (``vms=[...]``, ``hosts=[...]``...), replacing those lists;
    best effort (a read-only home is no error)."""
    from vhpc_toolkit.output.files import replace_file

    path = cache_path()
    try:
        data = json.loads(path.read_text())
        data = data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        data = {}
    for kind, values in names.items():
        data[kind] = sorted({str(v) for v in values if v})
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # whole, never through a symlink: a shell completing meanwhile reads the old file or the new one
        replace_file(str(path), json.dumps(data, indent=0) + "\n")
    except OSError:
        pass


def remember_vm_names(names: Iterable[str]) -> None:
    """Add VM names a cluster run saw to the remembered ones (the rest of the cache stays)."""
    remember(vms=set(cached("vms")) | set(names))


def shell_line(shell: str, program: str = "vhpc_toolkit") -> str:
    """The line that turns completion on, for ``~/.bashrc`` or ``~/.zshrc``."""
    return f'eval "$({program} completion {shell} --script)"'


def shell_script(shell: str) -> str:
    """argcomplete's shell code for both names of the program."""
    import argcomplete

    return argcomplete.shellcode(["vhpc_toolkit", "vhpc"], shell=shell)
