"""Post scripts in guests: results (results.py), the guest password (credentials.py), the runs (engine.py)."""
from vhpc_toolkit.ops.post.credentials import PASSWORD_ENV, guest_password, password_source
from vhpc_toolkit.ops.post.engine import guest_paths, read_scripts, run_barriers, run_scripts, tail
from vhpc_toolkit.ops.post.results import PhaseResult, PostReport, ScriptRun

__all__ = ["PASSWORD_ENV", "PhaseResult", "PostReport", "ScriptRun", "guest_password", "guest_paths",
           "password_source", "read_scripts", "run_barriers", "run_scripts", "tail"]
