"""The two-level search's bounds: the single-level relaxation's LP work run beside its steps (on
the second core) or after them (here), against the same work run alone."""

from __future__ import annotations

import time

import pytest
from feeder_districts import synthetic_two_level


def _relaxation(tmp_path):
    from zoneopt.model import eligible_pairs

    district, scen = synthetic_two_level(tmp_path, 120, 6, 1,
                                         constraints={"max_extra_distance_km": 1.0})
    relaxed = scen.with_values({"feeders.mode": "none", "solver.threads": 1})
    return district, relaxed, eligible_pairs(district, relaxed)


class _Silent:
    """A worker still on its first LP: nothing sent yet."""

    bounds: list = []
    failed = cuts_done = ready = False

    def poll(self):
        pass

    def wait_until(self, finished, deadline):
        time.sleep(max(0.0, deadline - time.perf_counter()))
        return finished()

    def close(self):
        pass


def test_the_root_lp_from_the_second_core_raises_the_relaxations_bound(tmp_path):
    """Where the relaxation left its root LP no time, a worker solves it (here started as the
    search starts it, on a small district): its value is the inline root LP's; a worker that sent
    nothing by the deadline leaves the bound and says the clock cut it."""
    import time

    from zoneopt.bounds.lp import root_lp_bound
    from zoneopt.solve.feeders import _Best
    from zoneopt.solve.helper import StepHelper
    from zoneopt.solve.two_level_bound import _helper_bound

    district, relaxed, plain = _relaxation(tmp_path)
    expected = root_lp_bound(district, relaxed, plain).value
    helper = StepHelper.start(district, relaxed, plain, "highs", 60.0, with_lp=True)
    best = _Best(lambda assign, feeds: 0.0)
    got = _helper_bound(helper, best, 0.0, time.perf_counter() + 60, cuts=False)
    assert got == pytest.approx(expected, rel=1e-9) and got > 0
    assert not helper.proc.is_alive() and best.clock_ended == set()

    best = _Best(lambda assign, feeds: 0.0)
    assert _helper_bound(_Silent(), best, 0.05, time.perf_counter() + 0.2, cuts=False) == 0.05
    assert best.clock_ended == {"bound"} and best.trace == []


def test_the_relaxations_lp_cut_rounds_give_one_bound_on_either_core(tmp_path):
    """The relaxation's LP cut rounds, run on the second core beside the two-level steps or here
    when there is none, are counted work: both give the bound of the same rounds run alone, above
    the root LP; rounds the deadline stops say that the clock cut the bound."""
    import time

    from zoneopt.bounds.lp import root_lp_bound
    from zoneopt.bounds.lp_cuts import lp_cuts_bound
    from zoneopt.solve.feeders import _Best
    from zoneopt.solve.helper import StepHelper
    from zoneopt.solve.two_level_bound import _cut_rounds_here, _helper_bound

    district, relaxed, plain = _relaxation(tmp_path)
    root = root_lp_bound(district, relaxed, plain).value
    alone = lp_cuts_bound(district, relaxed, plain, work_limit=6)
    assert alone.detail["finished"] and alone.value > root

    helper = StepHelper.start(district, relaxed, plain, "highs", 60.0, with_lp=False,
                              with_cuts=True, cut_rounds=6)
    best = _Best(lambda assign, feeds: 1.0)
    got = _helper_bound(helper, best, root, time.perf_counter() + 60, cuts=True)
    assert got == pytest.approx(alone.value, rel=1e-9)
    assert best.clock_ended == set() and not helper.proc.is_alive()

    best = _Best(lambda assign, feeds: 1.0)
    here = _cut_rounds_here(district, relaxed, plain, best, root, 6, time.perf_counter() + 60)
    assert here == pytest.approx(alone.value, rel=1e-9)
    assert best.trace[-1]["source"] == "bound (lp_cuts of the single-level relaxation)"

    best = _Best(lambda assign, feeds: 1.0)
    assert _cut_rounds_here(district, relaxed, plain, best, root, 6, time.perf_counter()) == root
    assert best.clock_ended == {"bound"}
    best = _Best(lambda assign, feeds: 1.0)
    assert _helper_bound(_Silent(), best, root, time.perf_counter() + 0.2, cuts=True) == root
    assert best.clock_ended == {"bound"}
