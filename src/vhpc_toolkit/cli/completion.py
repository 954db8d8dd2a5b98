"""Shell completion (bash, zsh) through argcomplete, and VM names from the last inventory read.

Install once: ``eval "$(register-python-argcomplete vhpc_toolkit)"`` in ~/.bashrc
(zsh: after ``autoload -U bashcompinit && bashcompinit``). Commands and flags come
from the argument tree; ``--vm`` also offers the VM names the last ``view`` or
``cluster`` run saw (kept in ~/.cache/vhpc_toolkit/vm-names, names only).
"""
from __future__ import annotations

import os
from pathlib import Path

CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "vhpc_toolkit" / "vm-names"


def complete(build_parser) -> None:
    """When the shell asks for completions (argcomplete's environment), answer and exit."""
    if "_ARGCOMPLETE" not in os.environ:
        return
    import argcomplete

    parser = build_parser(None)
    for action in _vm_actions(parser):
        action.completer = vm_names
    argcomplete.autocomplete(parser)


def _vm_actions(parser):
    for action in parser._actions:
        if "--vm" in getattr(action, "option_strings", ()):
            yield action
        for sub in (getattr(action, "choices", None) or {}).values() if isinstance(
                getattr(action, "choices", None), dict) else ():
            yield from _vm_actions(sub)


def vm_names(prefix: str, **_) -> list[str]:
    try:
        names = CACHE.read_text().splitlines()
    except OSError:
        return []
    return [n for n in names if n.startswith(prefix)]


def remember_vm_names(names) -> None:
    """Keep the names for completion; best effort (a read-only home is no error)."""
    from vhpc_toolkit.output.files import replace_file

    try:
        CACHE.parent.mkdir(parents=True, exist_ok=True)
        replace_file(str(CACHE), "\n".join(sorted(set(names))) + "\n")   # never through a symlink
    except OSError:
        pass
