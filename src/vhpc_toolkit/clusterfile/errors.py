"""The one exception the cluster-file parser raises."""
from __future__ import annotations

from typing import Iterable

from vhpc_toolkit.errors import InputError


class ClusterFileError(InputError):
    """The cluster file cannot be read or is wrong.

    ``problems`` lists every problem found, each ``FILE:LINE: message``
    (``FILE: message`` when the file itself cannot be read); ``str(exc)`` is
    those lines joined by newlines.
    """

    def __init__(self, problems: Iterable[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))
