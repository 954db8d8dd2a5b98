"""Fixtures shared by the cluster tests."""
from __future__ import annotations

import uuid

import pytest


@pytest.fixture
def cluster_file(tmp_path, cli):
    """Write a cluster file whose VM names start with a unique prefix; destroy its VMs afterwards."""
    made = []

    def write(body: str, name="c.conf"):
        prefix = f"c{uuid.uuid4().hex[:6]}"
        path = tmp_path / name
        path.write_text(body.replace("PFX", prefix))
        made.append(path)
        return path, prefix

    yield write
    for path in made:
        cli("cluster", "--destroy", "--file", path)
