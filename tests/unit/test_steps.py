"""Pure parts of converging guest setup: step digests and records, which steps run, the verdict,
the progress lines, and the cluster file's `script:`/`check:` arguments."""
from __future__ import annotations

import io
import re
import time

import pytest
from rich.console import Console

from vhpc_toolkit.cluster.guests.scripts import StepState, _phases, step_states, steps_of
from vhpc_toolkit.cluster.state.result import Stray, VMOutcome
from vhpc_toolkit.cluster.state.verdict import judge
from vhpc_toolkit.clusterfile import ClusterFileError, parse_cluster_text
from vhpc_toolkit.ops.post.steps import MAX_DONE, MAX_VALUE, Failure, StepRecord, step_digest
from vhpc_toolkit.output.progress import LinePhases
from vhpc_toolkit.phases import duration


def test_a_digest_changes_with_content_arguments_user_and_barrier():
    base = step_digest(b"echo hi\n", (), "root", None)
    others = [step_digest(b"echo hi!\n", (), "root", None), step_digest(b"echo hi\n", ("x",), "root", None),
              step_digest(b"echo hi\n", (), "hpc", None), step_digest(b"echo hi\n", (), "root", 0),
              step_digest(b"echo hi\n", ("a b",), "root", None), step_digest(b"echo hi\n", ("a", "b"), "root", None)]
    assert len({base, *others}) == 7 and base == step_digest(b"echo hi\n", [], "root", None)
    assert re.fullmatch(r"[0-9a-f]{12}", base)


def test_a_record_round_trips_and_says_each_steps_state():
    record = StepRecord().updated(["a1", "b2"], {"c3": Failure(3, ["x" * 500, "last"])})
    again = StepRecord.parse(record.to_value())
    assert again == record and again.failed["c3"].exit_code == 3
    assert [again.state(d) for d in ("a1", "c3", "d4")] == ["done", "failed", "pending"]
    assert len(again.failed["c3"].tail[0]) == 120 and again.failed["c3"].tail[-1] == "last"
    # A step that succeeds after failing is done, and one that fails after succeeding is not.
    later = again.updated(["c3"], {"a1": Failure(1, [])})
    assert later.state("c3") == "done" and later.state("a1") == "failed" and later.done == ["b2", "c3"]


@pytest.mark.parametrize("text", [None, "", "not json", '{"done": 5}', '{"failed": {"x": 1}}', "[1]"])
def test_an_unreadable_or_missing_record_is_empty(text):
    record = StepRecord.parse(text)
    assert record.done == [] and record.failed == {} and record.unreadable == bool(text)


def test_a_record_stays_small_and_keeps_the_files_steps_first():
    old = [f"{i:012x}" for i in range(200)]
    record = StepRecord().updated(old)
    assert record.done == old[-MAX_DONE:]
    ours = old[:3]   # the file's steps, recorded long ago
    kept = StepRecord(done=list(old)).updated(["f" * 12], keep=ours + ["f" * 12])
    assert set(ours) <= set(kept.done) and "f" * 12 in kept.done and len(kept.done) == MAX_DONE
    noisy = StepRecord().updated([], {f"{i:012x}": Failure(1, ["y" * 200] * 5) for i in range(30)})
    assert len(noisy.to_value()) < MAX_VALUE and len(noisy.failed) <= 8


def spec_of(text, tmp_path):
    for name in ("a.sh", "b.sh", "c.sh"):
        (tmp_path / name).write_text(f"echo {name}\n")
    return parse_cluster_text(text.replace("DIR", str(tmp_path)), str(tmp_path / "c.conf"))


def test_steps_to_run_keep_the_barrier_order_across_the_cluster(tmp_path):
    spec = spec_of("[B]\ntemplate: t\n[_VMS_]\nn{1:2}: B script: DIR/b.sh barrier: 2 script: DIR/a.sh "
                   "script: DIR/c.sh barrier: 1\n", tmp_path)
    contents = {p: open(p, "rb").read() for p in {s.path for vm in spec.vms for s in vm.scripts}}
    n1, n2 = spec.vms
    done = StepRecord().updated([d for s, d in steps_of(n1, contents)])   # n1 finished all
    half = StepRecord().updated([steps_of(n2, contents)[0][1]])           # n2 only its first (a.sh)
    states = {"n1": step_states(n1, done, contents), "n2": step_states(n2, half, contents)}
    phases = _phases(spec, states, rerun=False)
    assert [(b, [(vm.name, s.source.rsplit("/", 1)[-1]) for vm, s in pairs]) for b, pairs in phases] == [
        (1, [("n2", "c.sh")]), (2, [("n2", "b.sh")])]
    assert [len(pairs) for _, pairs in _phases(spec, states, rerun=True)] == [4, 2]
    assert _phases(spec, {"n1": states["n1"]}, rerun=False) == []


def test_script_and_check_take_arguments_and_a_path_with_spaces_stays_a_path(tmp_path):
    (tmp_path / "with space.sh").write_text("true\n")
    spec = spec_of("[B]\ntemplate: t\nscript: DIR/a.sh --cuda 12.4 'two words'\nscript: DIR/with space.sh\n"
                   "check: DIR/b.sh 2\n[_VMS_]\nn1: B\n", tmp_path)
    (vm,) = spec.vms
    assert [(s.path.rsplit("/", 1)[-1], s.args) for s in vm.scripts] == [
        ("a.sh", ("--cuda", "12.4", "two words")), ("with space.sh", ())]
    assert [(c.path.rsplit("/", 1)[-1], c.args, c.barrier) for c in vm.checks] == [("b.sh", ("2",), None)]
    assert vm.scripts[0].shown.endswith("a.sh --cuda 12.4 'two words'")
    assert vm.to_dict()["check"] == [{"path": str(tmp_path / "b.sh"), "args": ["2"]}]


@pytest.mark.parametrize("line,message", [
    ("check: DIR/none.sh 2", "'DIR/none.sh' not found"),
    ("script: DIR/a.sh 'open", "cannot read \"DIR/a.sh 'open\": No closing quotation"),
])
def test_a_bad_script_or_check_is_refused_with_its_line(tmp_path, line, message):
    with pytest.raises(ClusterFileError) as exc:
        spec_of(f"[B]\ntemplate: t\n{line}\n[_VMS_]\nn1: B\n", tmp_path)
    assert f"c.conf:3: [B] {line.split(':')[0]}: " + message.replace("DIR", str(tmp_path)) in str(exc.value)


def outcome(name, **kw):
    return VMOutcome(name=name, **kw)


def test_one_verdict_names_each_reason_once():
    done = StepState(step=None, digest="a", state="done")
    failed = StepState(step=None, digest="b", state="failed", exit_code=3)
    vms = [outcome("a", steps=[done]), outcome("b", steps=[done, failed]), outcome("c", status="drift", drift=["x"]),
           outcome("d", checks=[{"status": "failed"}]), outcome("e", status="absent"),
           outcome("f", status="failed")]
    verdict = judge(vms, strays=[Stray("g", None, None)])
    assert verdict.reasons() == [
        "1 failed (f)", "1 to create or change (e; cluster --create does it)",
        "1 VM differs from the file (c; --allow-drift accepts it)",
        "1 VM not in the file (g; cluster --create --prune destroys those it made)",
        "scripts not finished on 1 VM (b; cluster --create runs them)", "checks failing on 1 VM (d)"]
    assert not judge(vms[2:3], allow_drift=True).reasons() and judge([vms[0]]).ok


def test_off_a_terminal_a_phase_writes_its_start_its_end_and_a_heartbeat():
    out = io.StringIO()
    shown = LinePhases(Console(file=out, width=200), heartbeat=0.05)
    try:
        with shown.phase("cloning", 3) as phase:
            phase.done()
            time.sleep(0.3)
            phase.done(type("R", (), {"failed": True, "name": "n2", "detail": "InsufficientResourcesFault"})())
            phase.done()
    finally:
        shown.close()
    lines = out.getvalue().splitlines()
    assert lines[0] == "cloning: started (3)" and lines[-1] == "cloning: ended 3/3, 1 failed, 0s"
    assert "cloning 1/3, 0 failed, 0s" in lines and "cloning: failed: n2: InsufficientResourcesFault" in lines


def test_the_heartbeat_says_how_many_tasks_vcenter_holds_in_its_queue():
    """A phase is told its tasks' states (ops.runner.TaskStates); off a terminal the heartbeat says them
    (no wake-up per task start: lines come every so often), on a terminal the bar does at once."""
    from vhpc_toolkit.ops.runner import TaskStates

    out = io.StringIO()
    shown = LinePhases(Console(file=out, width=200), heartbeat=0.05)
    try:
        with shown.phase("cloning", 256) as phase:
            assert phase.live is False
            phase.states(TaskStates(waiting=236, queued=12, running=8))
            time.sleep(0.2)
    finally:
        shown.close()
    lines = out.getvalue().splitlines()
    assert "cloning 0/256, 0 failed, 0s (8 running, 12 queued in vCenter, 236 waiting)" in lines, lines
    assert lines[-1] == "cloning: ended 0/256, 0 failed, 0s"   # an ended phase has nothing in flight


@pytest.mark.parametrize("seconds,text", [(5, "5s"), (190, "3m10s"), (3725, "1h02m")])
def test_durations_read_like_a_clock(seconds, text):
    assert duration(seconds) == text


def test_status_without_a_guest_password_for_its_checks_says_how_to_skip_them(run_cli, tmp_path, monkeypatch):
    monkeypatch.delenv("VHPC_GUEST_PASSWORD", raising=False)
    monkeypatch.delenv("VHPC_GUEST_VAULT_PATH", raising=False)
    (tmp_path / "ok.sh").write_text("true\n")
    conf = tmp_path / "c.conf"
    conf.write_text(f"[B]\ntemplate: t\ncheck: {tmp_path}/ok.sh\n[_VMS_]\nn1: B\n")
    code, out, err = run_cli("--yes", "--vcenter-conf", tmp_path / "none.conf", "cluster", "--status", "--file", conf)
    assert code == 2 and "no password for the guest OS" in err and "--no-checks skips the checks" in err
