"""Jobs that can never start are not started, with the cause said: a source that was not made is
not vCenter's admission limits."""
from __future__ import annotations

from vhpc_toolkit.ops.runner import Job, run_batch
from vhpc_toolkit.results import NOT_STARTED, TargetResult


def test_a_job_whose_source_was_not_made_says_so(session):
    result = TargetResult("node1")
    run_batch(session, [Job(result=result, key="host-1", start=lambda: None, ready=lambda: False)])
    assert result.status == NOT_STARTED
    assert "the copy it is cloned from was not made" in result.detail and "admission" not in result.detail
