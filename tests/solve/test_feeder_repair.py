"""The feeder repair: two-level plans from single-level ones, fast, checked, the same every run."""

from __future__ import annotations

import numpy as np
from feeder_districts import synthetic_two_level, synthetic_two_level_start

from zoneopt import Plan, optimize
from zoneopt.check import check_plan
from zoneopt.solve.feeder_repair import feeder_repair, fit_round_work, improve_work
from zoneopt.solve.nested_moves import NestedMoves, middle_homes_apart
from zoneopt.solve.two_level_steps import _feeder_map, _soft_cost

_setup = synthetic_two_level_start


def _soft_map(district, scenario, data):
    return lambda a: _feeder_map(district, scenario, data, a, "highs", np.inf, soft=_soft_cost(data))


def _repair(district, scenario, data, eligible, plan):
    return feeder_repair(district, scenario, eligible, data, plan,
                         _soft_map(district, scenario, data), work=200_000, seed=0)


def _check(district, scenario, assign, feeds):
    plan = Plan.from_assignment(district, scenario, assign, feeds=feeds)
    check_plan(district, scenario, assign, summary=plan.summary).raise_if_failed()


def test_overfull_middle_schools_are_brought_within_their_seats(tmp_path):
    """120 x 6 seed 1 with middle seats x0.95: under the feeder map that overfills the middle
    schools least, the repair's zones leave 364 middle students over; the feeder repair's plan
    keeps every rule of both levels."""
    district, scenario, data, eligible, plan = _setup(tmp_path, 120, 6, 1, middle_seats=0.95)
    apart, stuck = middle_homes_apart(district, scenario, eligible, data, plan)
    assert stuck == []
    feeds = _soft_map(district, scenario, data)(apart)
    over = NestedMoves(district, scenario, eligible, apart, data, feeds, into_fit=True).outside
    assert over > 100, "the case must start with middle schools over their seats"
    assign, feeds = _repair(district, scenario, data, eligible, plan)
    _check(district, scenario, assign, feeds)
    enr = np.bincount(feeds[assign], weights=data.students, minlength=data.n_schools)
    assert (enr <= data.capacity * scenario.feeders.middle_max_utilization).all()


def test_a_middle_school_stuck_in_a_shared_zone_is_locked_apart_by_the_repair(tmp_path):
    """120 x 6 seed 3: no path of single moves takes the second middle school's unit out of the
    zone it shares (its touching zones are full); the repair with that unit locked to a touching
    school mends the seats, and the plan passes the checker without the lock."""
    district, scenario, data, eligible, plan = _setup(tmp_path, 120, 6, 3)
    _, stuck = middle_homes_apart(district, scenario, eligible, data, plan)
    assert stuck, "the case must need the locked repair"
    assign, feeds = _repair(district, scenario, data, eligible, plan)
    zones = assign[data.home_unit]
    assert len(set(zones.tolist())) == len(zones)
    _check(district, scenario, assign, feeds)
    assert district.locked[stuck].max() < 0  # the district's own locks are untouched


def test_the_same_input_gives_the_same_two_level_plan(tmp_path):
    district, scenario, data, eligible, plan = _setup(tmp_path, 160, 8, 0, middle_seats=0.95)
    first = _repair(district, scenario, data, eligible, plan)
    again = _repair(district, scenario, data, eligible, plan)
    assert first is not None
    assert np.array_equal(first[0], again[0]) and np.array_equal(first[1], again[1])


def test_optimize_starts_a_nested_plan_from_the_feeder_repair(tmp_path):
    """Before, the first two-level plan waited for the single-level relaxation's share of the
    time limit (300 x 15 seed 65: 11.0 s of 30); now the repair's zones give it."""
    district, scenario = synthetic_two_level(tmp_path, 120, 6, 1, middle_seats=0.95,
                                             solver={"time_limit_s": 8})
    plan = optimize(district, scenario)
    firsts = [r for r in plan.trace if r.get("objective") is not None]
    assert firsts[0]["source"] == "repair + feeder repair"
    check_plan(district, scenario, plan.positions, summary=plan.summary).raise_if_failed()
    assert plan.summary["objective"] <= firsts[0]["objective"]


def test_the_repair_work_scales_with_the_work_budget_within_the_time_limit_share():
    assert fit_round_work(300, 60, 2.0) == 2 * fit_round_work(300, 60, 1.0)
    assert improve_work(200, 60, 1.0) == 20_000 * 200
    # 2,000 units at 60 s: capped by the time limit's share (0.2 x 60 s at 400,000 a second)
    assert improve_work(2000, 60, 1.0) == round(0.2 * 60 * 400_000)


def test_where_the_feeder_repair_fails_it_says_how_close_it_came(tmp_path):
    """150 x 7 seed 16 with middle seats x0.95 (2.7% spare): from the repair's zones no round gets
    M01 within its seats; the note names it, and the no-plan message adds the middle seats."""
    from zoneopt.solve.feeders import _two_level_binds

    district, scenario, data, eligible, plan = _setup(tmp_path, 150, 7, 16, middle_seats=0.95)
    notes: list[str] = []
    got = feeder_repair(district, scenario, eligible, data, plan,
                        _soft_map(district, scenario, data), work=200_000, seed=0, notes=notes)
    assert got is None
    assert len(notes) == 1 and "middle students over the middle schools' seats (M01" in notes[0]
    binds = _two_level_binds(district, scenario, data, True, notes)
    assert binds[0] == notes[0]
    assert binds[-1].startswith("the middle schools have 14107 seats at middle_max_utilization 1 "
                                "for 13738 middle students (2.7% spare)")
