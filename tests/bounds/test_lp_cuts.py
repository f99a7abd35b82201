"""The LP with separator cuts (zoneopt.bounds.lp_cuts): stronger than the root LP, never above the
exact optimum (tests/bounds/test_bounds.py checks that against brute force), the same values
whether its rounds pause or not, and run by the step helper between search steps."""

from __future__ import annotations

import math
import time

import pytest

from zoneopt import Scenario
from zoneopt.bounds.lp import root_lp_bound
from zoneopt.bounds.lp_cuts import SeparatorRounds, lp_cuts_bound
from zoneopt.model import eligible_pairs

THREE_KM = Scenario.from_dict({"constraints": {"max_extra_distance_km": 3.0}})


def test_cuts_raise_the_root_lp_where_zones_must_be_connected(grid_district):
    # On the segregated grid the LP mixes fractions of units far from a school's home; each
    # fraction needs the same share of every unit on a path home, which the cuts ask for.
    eligible = eligible_pairs(grid_district, THREE_KM)
    lp = root_lp_bound(grid_district, THREE_KM, eligible)
    res = lp_cuts_bound(grid_district, THREE_KM, eligible)
    assert res.source == "lp_cuts"
    assert res.value > lp.value + 0.01
    assert res.detail["rounds"] >= 2 and res.detail["cuts"] > 0


def test_the_first_round_is_the_root_lp(grid_district):
    eligible = eligible_pairs(grid_district, THREE_KM)
    first = lp_cuts_bound(grid_district, THREE_KM, eligible, 1)
    assert first.value == pytest.approx(root_lp_bound(grid_district, THREE_KM, eligible).value,
                                        abs=1e-9)
    assert first.detail["cuts"] == 0


def test_without_contiguity_there_is_nothing_to_cut(grid_district):
    scenario = THREE_KM.with_values({"constraints.contiguity": False})
    eligible = eligible_pairs(grid_district, scenario)
    rounds = SeparatorRounds(grid_district, scenario, eligible)
    value = rounds.work()
    assert rounds.done and rounds.cuts == 0
    assert value == pytest.approx(root_lp_bound(grid_district, scenario, eligible).value, abs=1e-9)


def test_pausing_between_schools_changes_no_value(grid_district):
    # The step helper pauses a round whenever a step arrives; the values must not depend on when.
    eligible = eligible_pairs(grid_district, THREE_KM)

    def values(pause_every: int) -> list[float]:
        rounds, out, calls = SeparatorRounds(grid_district, THREE_KM, eligible), [], [0]

        def pause() -> bool:
            calls[0] += 1
            return pause_every > 0 and calls[0] % pause_every == 0

        while not rounds.done:
            value = rounds.work(pause)
            if value is not None:
                out.append(value)
        return out

    straight = values(0)
    assert len(straight) >= 3
    assert values(2) == straight
    assert values(3) == straight


def test_slack_cuts_are_dropped(grid_district):
    eligible = eligible_pairs(grid_district, THREE_KM)
    rounds = SeparatorRounds(grid_district, THREE_KM, eligible)
    while not rounds.done:
        rounds.work()
    assert rounds.h.getNumRow() < rounds.base_rows + rounds.cuts


def test_a_deadline_stops_the_rounds_with_a_valid_bound(grid_district):
    eligible = eligible_pairs(grid_district, THREE_KM)
    res = lp_cuts_bound(grid_district, THREE_KM, eligible, deadline=time.perf_counter() - 1)
    assert res.value == -math.inf and not res.useful
    assert res.detail["rounds"] == 0


def test_an_lp_that_the_deadline_ends_is_not_counted_and_is_solved_again():
    """HiGHS's time limit ends an LP at the deadline (the LP of 2,000 x 100 takes about 0.3 s; its
    instance's earlier run time counts, so the limit is set on top of it): no value, no round;
    the next call without a deadline solves the same LP to the root LP's value."""
    from zoneopt import District
    from zoneopt.synthetic import synthetic_district

    district = District.from_frames(*synthetic_district(2000, 100, seed=0))
    eligible = eligible_pairs(district, THREE_KM)
    rounds = SeparatorRounds(district, THREE_KM, eligible)
    assert rounds.work(deadline=time.perf_counter() + 0.005) is None
    assert rounds.rounds_done == 0 and not rounds.done
    value = rounds.work()
    assert rounds.rounds_done == 1
    assert value == pytest.approx(root_lp_bound(district, THREE_KM, eligible).value, rel=1e-6)


@pytest.mark.slow
def test_an_idle_step_helper_sends_the_rounds_bounds(grid_district):
    # No step is asked of it: the helper spends its time on the rounds and sends each better
    # value, ending at what lp_cuts_bound proves alone.
    from zoneopt.solve.helper import StepHelper

    eligible = eligible_pairs(grid_district, THREE_KM)
    alone = lp_cuts_bound(grid_district, THREE_KM, eligible)
    helper = StepHelper.start(grid_district, THREE_KM, eligible, "highs", 120.0, with_lp=False,
                              with_cuts=True)
    try:
        assert helper.wait_for_cuts(time.perf_counter() + 120)
        assert not helper.failed and helper.ready
        assert {source for _, source in helper.bounds} == {"lp_cuts"}
        values = [value for value, _ in helper.bounds]
        assert values == sorted(values)
        assert values[-1] == pytest.approx(alone.value, abs=1e-12)
    finally:
        helper.close()
