"""Brute force on tiny districts for the cases the exactness test does not draw: the closer-neighbour
mode's bound, two schools sharing a home unit, and contiguity = false."""

from __future__ import annotations

import math

import numpy as np
import pytest
from bruteforce import brute_force
from districts import grid_frames
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point
from strategies import districts

from zoneopt import District, InfeasibleError, NoSolutionError, Scenario, optimize

EXACT = {"time_limit_s": 20, "mip_gap": 0.0}


def _optimize(district, scenario):
    try:
        return optimize(district, scenario)
    except (InfeasibleError, NoSolutionError):
        return None


def _assert_honest(plan, best, mip_gap):
    assert plan.check().ok
    assert plan.summary["bound"] <= best + 1e-9, "the bound must hold for the exact problem"
    assert plan.summary["objective"] >= best - 1e-9
    if plan.summary["status"] == "optimal":  # within mip_gap of the true optimum
        assert plan.summary["objective"] * (1 - mip_gap) <= best + 1e-9


@pytest.mark.slow
@settings(max_examples=12)
@given(districts(min_units=4, max_units=8, max_schools=3),
       st.sampled_from([math.inf, 0.5]))
def test_closer_neighbour_mode_reports_a_bound_valid_for_the_exact_problem(district, moved):
    scenario = Scenario.from_dict({"constraints": {"max_moved_share": min(moved, 1.0)},
                                   "solver": {**EXACT, "contiguity_model": "closer_neighbour"}})
    best, _ = brute_force(district, scenario)
    plan = _optimize(district, scenario)
    if plan is None:
        return
    _assert_honest(plan, best, 0.0)
    if plan.summary["status"] == "optimal":
        assert plan.summary["objective"] == pytest.approx(best, abs=1e-9)


@pytest.mark.slow
@settings(max_examples=12)
@given(districts(min_units=4, max_units=8, max_schools=3), st.sampled_from(["exact", "auto"]))
def test_contiguity_false_matches_brute_force(district, mode):
    scenario = Scenario.from_dict({"constraints": {"contiguity": False, "max_utilization": 0.9},
                                   "solver": {**EXACT, "contiguity_model": mode}})
    best, _ = brute_force(district, scenario)
    plan = _optimize(district, scenario)
    if math.isinf(best):
        assert plan is None
        return
    assert plan is not None
    _assert_honest(plan, best, 0.0)
    assert plan.summary["status"] == "optimal"
    assert plan.summary["objective"] == pytest.approx(best, abs=1e-9)


def _shared_home(seed: int, locked_second: bool):
    units, schools = grid_frames(2, 4, [0, 7], seed=seed)
    # a third school in unit 0 too, 200 m from S0: two schools share a home unit
    third = schools.iloc[[0]].copy()
    third["school_id"] = "S2"
    third["name"] = "School 2"
    p = third.geometry.iloc[0]
    third = third.set_geometry([Point(p.x + 200, p.y + 200)], crs=schools.crs)
    import pandas as pd

    schools = pd.concat([schools, third], ignore_index=True)
    schools["capacity"] = int(units["students"].sum() * 0.5)
    if locked_second:
        units["locked_school"] = ["S2"] + [None] * (len(units) - 1)
    return District.from_frames(units, schools)


@pytest.mark.parametrize(("seed", "locked_second"), [(1, False), (2, False), (3, True)])
def test_two_schools_sharing_a_home_unit_match_brute_force(seed, locked_second):
    district = _shared_home(seed, locked_second)
    assert district.home_unit[0] == district.home_unit[2]
    scenario = Scenario.from_dict({"solver": {**EXACT, "contiguity_model": "exact"}})
    best, best_plan = brute_force(district, scenario)
    assert math.isfinite(best)
    plan = optimize(district, scenario)
    _assert_honest(plan, best, 0.0)
    assert plan.summary["status"] == "optimal"
    assert plan.summary["objective"] == pytest.approx(best, abs=1e-9)
    home = district.home_unit[0]
    assert district.school_ids[plan.positions[home]] == ("S2" if locked_second else "S0")
    # the sharing school's zone touches the shared home unit
    other = 0 if locked_second else 2
    members = np.flatnonzero(plan.positions == other)
    if len(members):
        assert any(district.adjacency[home, i] for i in members)
