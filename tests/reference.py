"""Where the original toolkit's files are: ``shared/reference`` beside the repository, or beside a
parent folder of it (a git worktree sits one level deeper than the main checkout)."""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _find() -> Path:
    for parent in ROOT.parents:
        candidate = parent / "shared" / "reference"
        if candidate.is_dir():
            return candidate
    return ROOT.parent / "shared" / "reference"


REFERENCE = _find()
CLUSTER_SCRIPTS = REFERENCE / "cluster-scripts"       # the 2021 README's seven example files
RELEASE_103 = REFERENCE / "vhpc-toolkit-1.0.3"        # the last release's documentation and examples
