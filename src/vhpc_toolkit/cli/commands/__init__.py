"""One module per command, imported only when that command runs (pyVmomi is slow to import).

``MODULES`` maps each command to its module here, or None while it is not built.
"""
from __future__ import annotations

import importlib

from vhpc_toolkit.errors import NotImplementedCommand

MODULES: dict[str, str | None] = {
    "view": "view", "clone": "clone", "destroy": "destroy", "power": "power", "cpumem": "cpumem",
    "network": "network", "network_cfg": "network_cfg", "post": "post", "passthru": "passthru", "sriov": "sriov",
    "pvrdma": "pvrdma", "vgpu": "vgpu", "svs": "svs", "dvs": "dvs", "latency": "latency", "cluster": "cluster",
}


def runner(name: str):
    """The function the parser records for ``name``: imports the command's module when called."""
    def run(ctx, args):
        module = MODULES[name]
        if module is None:
            raise NotImplementedCommand(f"`{name}` is not built yet in this version of vhpc_toolkit")
        return importlib.import_module(f"{__name__}.{module}").run(ctx, args)

    run.__name__ = f"run_{name}"
    return run
