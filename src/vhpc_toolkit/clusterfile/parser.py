"""Read a cluster file into a :class:`ClusterSpec`.

Two passes: the text is split into sections and definition lines (syntax.py;
syntax problems are collected), then every ``_VMS_``/``_SVS_``/``_DVS_`` line is
resolved (resolve.py): sections spliced in, values typed and checked, ranges
expanded. Every problem found is collected; if there is any, one
ClusterFileError carrying all of them is raised at the end.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Dict, List, Optional, Tuple, Union

from vhpc_toolkit.errors import InputError
from vhpc_toolkit.files import read_text

from vhpc_toolkit.marks import svs_mark_problem

from .cluster_section import CLUSTER, read_cluster_section
from .errors import ClusterFileError
from .model import ClusterSpec, SwitchSpec, VMSpec
from .requests import request_problems
from .resolve import MAX_NAME, _Resolver
from .slurm import read_slurm_section, slurm_problems
from .syntax import SLURM, SPECIAL_SECTIONS, SVS, VMS, _Problems, _read_structure
from .unique import unique_problems

__all__ = ["MAX_NAME", "SPECIAL_SECTIONS", "parse_cluster_file", "parse_cluster_text"]

PathLike = Union[str, "os.PathLike[str]"]


def parse_cluster_text(
    text: str,
    path: PathLike = "<string>",
    *,
    base_dir: Optional[PathLike] = None,
    check_scripts: bool = True,
) -> ClusterSpec:
    """Parse cluster-file ``text``; ``path`` names it in errors.

    Relative ``script`` paths resolve against ``base_dir`` (default: the
    folder of ``path``, or the working directory for "<string>"). With
    ``check_scripts=False`` a script that does not exist is not a problem.
    Raises ClusterFileError listing every problem found.
    """
    file = os.fspath(path)
    if base_dir is None:
        base_dir = os.getcwd() if file == "<string>" else os.path.dirname(os.path.abspath(file))
    base = Path(os.path.abspath(os.fspath(base_dir)))
    problems, notes = _Problems(file), _Problems(file)
    if text.startswith("\ufeff"):
        text = text[1:]
    sections, definitions = _read_structure(text, problems)
    name, name_line = read_cluster_section(sections.pop(CLUSTER, None), file, problems)
    slurm_section = sections.pop(SLURM, None)   # settings of the whole cluster, not a VM section
    slurm = read_slurm_section(slurm_section, problems)
    resolver = _Resolver(file, base, check_scripts, sections, problems, notes)

    vms: List[VMSpec] = []
    svs: List[SwitchSpec] = []
    dvs: List[SwitchSpec] = []
    vm_lines: Dict[str, int] = {}
    switch_lines: Dict[Tuple[str, str], int] = {}
    for d in definitions:
        if d.section == VMS:
            resolved = resolver.vms(d)
            for vm in resolved:
                first = vm_lines.setdefault(vm.name, d.line)
                if first != d.line:
                    problems.add(d.line, "VM %r: name %r is already used at %s:%d" % (d.name, vm.name, file, first))
                elif vm is resolved[0]:   # the keys are the same for every VM of a line: once per line
                    for problem in request_problems(vm):
                        problems.add(d.line, problem)
                vms.append(vm)
        else:
            first = switch_lines.setdefault((d.section, d.name), d.line)
            if first != d.line:
                problems.add(d.line, "%s %r is defined twice (first on line %d)"
                             % (d.section.strip("_"), d.name, first))
            switch = resolver.switch(d)
            if switch is not None:
                (svs if d.section == SVS else dvs).append(switch)
            if switch is not None and d.section == SVS and svs_mark_problem(name, switch.name):
                problems.add(d.line, svs_mark_problem(name, switch.name))
    slurm = slurm_problems(slurm, vms, problems, slurm_section is not None)
    if not definitions and not problems:
        problems.add(0, "defines no VMs and no switches (add a [_VMS_] section)")
    unique_problems(file, vms, problems)
    if problems:
        raise ClusterFileError(problems.lines())
    return ClusterSpec(path=file, vms=vms, svs=svs, dvs=dvs, name=name, name_line=name_line, notes=notes.lines(),
                       slurm=slurm)


def parse_cluster_file(path: PathLike, *, check_scripts: bool = True) -> ClusterSpec:
    """Read and parse a cluster file (UTF-8). Raises ClusterFileError."""
    file = os.fspath(path)
    try:
        text = read_text(file, "cluster file")
    except InputError as exc:
        raise ClusterFileError([str(exc)]) from None
    return parse_cluster_text(text, file, check_scripts=check_scripts)
