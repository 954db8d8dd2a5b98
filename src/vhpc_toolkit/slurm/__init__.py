"""Slurm on vSphere: the cluster file's nodes as Slurm sees them, and the programs Slurm runs.

Thin glue over the cluster engine (docs/slurm.md): ``hostlists`` (Slurm's compressed host lists),
``nodes`` (a VM as a slurm.conf node line), ``config`` (the files ``slurm config --write`` makes),
``scontrol`` (node state through Slurm's client), ``log`` (one line per action), ``claims`` and
``locks`` (resumes of one cluster side by side), ``power`` (resume, suspend, resume-fail).
"""
