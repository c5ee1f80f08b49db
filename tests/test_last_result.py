"""LastResult: computed again only when asked about other objects."""

from __future__ import annotations

from zdlint.last_result import LastResult


def test_the_same_objects_reuse_the_result_and_other_objects_compute_again():
    calls: list[int] = []
    last: LastResult[int] = LastResult()
    settings, catalogue = {"select": 1}, {"rules": 2}

    def compute() -> int:
        calls.append(1)
        return len(calls)

    assert last.get((settings, catalogue), compute) == 1
    assert last.get((settings, catalogue), compute) == 1
    # equal but not the same object: asked again (inputs are compared by identity)
    assert last.get(({"select": 1}, catalogue), compute) == 2
    assert last.get((settings,), compute) == 3
    assert len(calls) == 3
