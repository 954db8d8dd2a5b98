"""The cluster file: parsed into desired state (VMSpec, SwitchSpec).

    from vhpc_toolkit.clusterfile import parse_cluster_file
    spec = parse_cluster_file("cluster.conf")
    for vm in spec.vms: ...

See docs/cluster-file.md for the format, the rules and the errors.
"""
from .errors import ClusterFileError
from .model import ClusterSpec, ScriptStep, SlurmSpec, SriovSpec, SwitchSpec, VMSpec, group_scripts
from .parser import parse_cluster_file, parse_cluster_text

__all__ = [
    "ClusterFileError",
    "ClusterSpec",
    "ScriptStep",
    "SlurmSpec",
    "SriovSpec",
    "SwitchSpec",
    "VMSpec",
    "group_scripts",
    "parse_cluster_file",
    "parse_cluster_text",
]
