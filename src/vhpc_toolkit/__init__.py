"""vHPC toolkit: virtual HPC clusters on VMware vSphere."""

__version__ = "2.0.0.dev0"
