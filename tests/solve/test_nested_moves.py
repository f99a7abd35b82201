"""The annealer's two-level moves: every rule kept at every move, running totals that match a
recount, and middle schools' own units moved apart."""

from __future__ import annotations

import numpy as np
import pytest
from feeder_districts import synthetic_two_level_start
from hypothesis import given, settings
from hypothesis import strategies as st

from zoneopt import Plan
from zoneopt.check import check_plan
from zoneopt.solve.anneal import anneal
from zoneopt.solve.feeder_repair import feeder_repair
from zoneopt.solve.feeders import _two_level_ok
from zoneopt.solve.nested_moves import NestedMoves, middle_homes_apart
from zoneopt.solve.two_level_steps import _feeder_map, _soft_cost

_setup = synthetic_two_level_start


def _two_level_start(district, scenario, data, eligible, plan):
    return feeder_repair(
        district, scenario, eligible, data, plan,
        lambda a: _feeder_map(district, scenario, data, a, "highs", np.inf, soft=_soft_cost(data)),
        work=200_000, seed=0)


def _checked(district, scenario, assign, feeds):
    plan = Plan.from_assignment(district, scenario, assign, feeds=feeds)
    return check_plan(district, scenario, assign, summary=plan.summary)


def test_a_second_middle_school_in_one_zone_is_moved_out_with_a_path_of_units(tmp_path):
    """160 x 8 seed 0: the repair's zones put two middle schools' units in one elementary zone
    (no feeder map can serve it); afterwards every zone holds at most one, by moves that keep every
    elementary rule."""
    district, scenario, data, eligible, plan = _setup(tmp_path, 160, 8, 0)
    zones = plan[data.home_unit]
    assert len(set(zones.tolist())) < len(zones), "the case must start with a shared zone"
    apart, stuck = middle_homes_apart(district, scenario, eligible, data, plan)
    assert stuck == []
    zones = apart[data.home_unit]
    assert len(set(zones.tolist())) == len(zones)
    single = scenario.with_values({"feeders.mode": "none"})
    check_plan(district, single, apart).raise_if_failed()
    assert (apart != plan).sum() >= 1


@pytest.mark.parametrize("n,m,seed", [(120, 6, 0), (160, 8, 3), (200, 10, 4)])
def test_two_level_annealing_keeps_every_rule_and_its_totals_match_a_recount(tmp_path, n, m, seed):
    district, scenario, data, eligible, plan = _setup(tmp_path, n, m, seed)
    assign, feeds = _two_level_start(district, scenario, data, eligible, plan)
    moves = NestedMoves(district, scenario, eligible, assign, data, feeds)
    res = anneal(district, scenario, eligible, assign, 300_000, seed=1, moves=moves)
    assert res.accepted > 0
    mid = feeds[np.asarray(moves.z)]
    s, low = data.students.astype(float), data.low_income.astype(float)
    p = low.sum() / s.sum()
    assert np.allclose(moves.menr, np.bincount(mid, weights=s, minlength=data.n_schools))
    assert np.allclose(moves.mdev, np.bincount(mid, weights=low - p * s, minlength=data.n_schools))
    assert np.array_equal(moves.mz, np.where(data.islands, -1, mid))
    # the last plan and the best one both keep every rule, by the independent checker
    for z in (np.asarray(moves.z), res.assign):
        _checked(district, scenario, z, feeds).raise_if_failed()


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 40), shape=st.sampled_from([(100, 5), (120, 6), (150, 7)]),
       middle_seats=st.sampled_from([1.0, 0.95]))
def test_every_plan_of_the_feeder_repair_and_the_annealing_passes_the_checker(
        tmp_path_factory, seed, shape, middle_seats):
    tmp_path = tmp_path_factory.mktemp("nested")
    district, scenario, data, eligible, plan = _setup(tmp_path, *shape, seed, middle_seats)
    if plan is None:
        return
    got = _two_level_start(district, scenario, data, eligible, plan)
    if got is None:
        return
    assign, feeds = got
    _checked(district, scenario, assign, feeds).raise_if_failed()
    better = anneal(district, scenario, eligible, assign, 100_000, seed=seed,
                    moves=NestedMoves(district, scenario, eligible, assign, data, feeds)).assign
    _checked(district, scenario, better, feeds).raise_if_failed()
    assert _two_level_ok(district, scenario, data, None, eligible, better, feeds)
