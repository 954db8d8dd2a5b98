"""The runner's waves: round-robin over keys within the limits, in file order per key."""
from collections import Counter

from vhpc_toolkit.ops.results import VMResult
from vhpc_toolkit.ops.runner import Job, _Waiting


def jobs(spec: str) -> list[Job]:
    """'aab' -> jobs a1, a2, b1 keyed a, a, b."""
    seen: Counter = Counter()
    out = []
    for key in spec:
        seen[key] += 1
        out.append(Job(result=VMResult(f"{key}{seen[key]}"), start=lambda: None, key=key))
    return out


def names(wave: list[Job]) -> list[str]:
    return [j.result.vm for j in wave]


def test_round_robin_over_keys_in_file_order():
    waiting, per = _Waiting(jobs("aaaabbc")), Counter()
    assert names(waiting.take(5, per, None)) == ["a1", "b1", "c1", "a2", "b2"]
    assert names(waiting.take(5, per, None)) == ["a3", "a4"]
    assert not waiting


def test_per_key_limit_holds_until_a_slot_frees():
    waiting, per = _Waiting(jobs("aaab")), Counter()
    assert names(waiting.take(10, per, 2)) == ["a1", "b1", "a2"]
    assert names(waiting.take(10, per, 2)) == []      # a is full, b has nothing left
    per["a"] -= 1                                     # a1 ended
    assert names(waiting.take(10, per, 2)) == ["a3"]
    assert not waiting


def test_total_limit():
    waiting, per = _Waiting(jobs("ab" * 50)), Counter()
    assert len(waiting.take(32, per, 8)) == 16        # 8 per key, 2 keys
    assert len(waiting.take(0, per, None)) == 0
