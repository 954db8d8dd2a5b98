"""One module per command, imported only when that command runs (pyVmomi is slow to import)."""
from __future__ import annotations

import importlib

from vhpc_toolkit.errors import NotImplementedCommand


def _lazy(name: str, module: str | None):
    def run(ctx, args):
        if module is None:
            raise NotImplementedCommand(f"`{name}` is not built yet in this version of vhpc_toolkit")
        return importlib.import_module(f"{__name__}.{module}").run(ctx, args)

    run.__name__ = name
    return run


view = _lazy("view", "view")
cluster = _lazy("cluster", "cluster")
clone = _lazy("clone", "clone")
destroy = _lazy("destroy", "destroy")
power = _lazy("power", "power")
cpumem = _lazy("cpumem", "cpumem")
network = _lazy("network", None)
network_cfg = _lazy("network_cfg", None)
post = _lazy("post", None)
passthru = _lazy("passthru", None)
sriov = _lazy("sriov", None)
pvrdma = _lazy("pvrdma", None)
vgpu = _lazy("vgpu", None)
svs = _lazy("svs", None)
dvs = _lazy("dvs", None)
latency = _lazy("latency", "latency")
