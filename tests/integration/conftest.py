"""Fixtures shared by the cluster tests."""
from __future__ import annotations

import uuid

import pytest


@pytest.fixture
def cluster_file(tmp_path, cli):
    """Write a cluster file, PFX in it replaced by a unique prefix (or `pfx`); `cluster --destroy`
    every file written once the test ends."""
    made = []

    def write(body: str, name: str | None = None, pfx: str | None = None):
        pfx = pfx or f"c{uuid.uuid4().hex[:6]}"
        path = tmp_path / (name or f"{pfx}.conf")
        path.write_text(body.replace("PFX", pfx))
        made.append(path)
        return path, pfx

    yield write
    for path in made:
        cli("cluster", "--destroy", "--file", path)
