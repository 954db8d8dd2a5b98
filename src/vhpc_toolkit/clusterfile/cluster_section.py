"""The ``[_CLUSTER_]`` section: the cluster's name (its identity on vCenter, see marks.py).

    [_CLUSTER_]
    name: hpc-prod

Without the section (or without ``name:``), the name is the file's stem.
"""
from __future__ import annotations

from typing import Optional, Tuple

from vhpc_toolkit.marks import name_of_path, name_problem

from .syntax import _did_you_mean, _Problems, _Section

CLUSTER = "_CLUSTER_"
KEYS = ("name",)


def read_cluster_section(section: Optional[_Section], file: str, problems: _Problems) -> Tuple[str, int]:
    """The cluster's name and the line that gives it (0: the file's stem)."""
    name, line = None, 0
    for pair in section.pairs if section is not None else []:
        if pair.key not in KEYS:
            problems.add(pair.line, "[%s] %s: unknown key%s (the section takes name: NAME)"
                         % (CLUSTER, pair.key, _did_you_mean(pair.key, KEYS)))
        elif line:
            problems.add(pair.line, "[%s] name is given twice (first on line %d)" % (CLUSTER, line))
        else:
            name, line = pair.value, pair.line
            problem = name_problem(name)
            if problem:
                problems.add(line, "[%s] %s" % (CLUSTER, problem))
    return (name, line) if name is not None else (name_of_path(file), 0)
