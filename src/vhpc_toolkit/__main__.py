"""`python -m vhpc_toolkit`: the command line."""
from vhpc_toolkit.cli.main import entry

entry()
