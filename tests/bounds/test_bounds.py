"""Every bound source is a lower bound on the exact optimum (brute force on tiny districts)."""

import math

import numpy as np
import pytest
from bruteforce import brute_force
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import districts

from zoneopt import Scenario
from zoneopt.bounds import BoundResult, bounds_by_source
from zoneopt.bounds.cuts import cut_loop_bound
from zoneopt.bounds.lagrangian import lagrangian_bound
from zoneopt.bounds.lp import root_lp_bound
from zoneopt.bounds.lp_cuts import lp_cuts_bound
from zoneopt.model import eligible_pairs


@st.composite
def tiny_cases(draw):
    district = draw(districts(min_units=4, max_units=8, max_schools=3))
    c = {
        "max_utilization": draw(st.sampled_from([1.0, 0.8])),
        "min_utilization": draw(st.sampled_from([0.0, 0.3])),
        "max_extra_distance_km": draw(st.sampled_from([math.inf, 1.2])),
        "max_moved_share": draw(st.sampled_from([1.0, 0.5])),
        "low_income_band": draw(st.sampled_from([math.inf, 0.2])),
    }
    o = {"distance_weight": draw(st.sampled_from([0.0, 0.02])),
         "moved_weight": draw(st.sampled_from([0.0, 0.1])),
         "balance": draw(st.sampled_from(["dissimilarity", "dissimilarity", "none"]))}
    return district, Scenario.from_dict({"constraints": c, "objective": o})


def _all_bounds(district, scenario):
    eligible = eligible_pairs(district, scenario)
    lp = root_lp_bound(district, scenario, eligible)
    lag = lagrangian_bound(district, scenario, eligible, 8, duals=lp.detail.get("duals"),
                           moved_dual=lp.detail.get("moved_dual", 0.0))
    cuts = cut_loop_bound(district, scenario, eligible, 4)
    lp_cuts = lp_cuts_bound(district, scenario, eligible, 6)
    return lp, lag, cuts, lp_cuts


@settings(max_examples=30)
@given(tiny_cases())
def test_no_bound_source_exceeds_the_brute_force_optimum(case):
    district, scenario = case
    best, _ = brute_force(district, scenario)
    lp, lag, cuts, lp_cuts = _all_bounds(district, scenario)
    for res in (lp, lag, cuts, lp_cuts):
        assert isinstance(res, BoundResult)
        if math.isinf(best):
            continue  # infeasible: every bound is valid
        assert res.value <= best + 1e-7, f"{res.source} bound {res.value} > optimum {best}"


@settings(max_examples=10)
@given(tiny_cases())
def test_lagrangian_from_lp_duals_is_at_least_the_lp_bound(case):
    # Started at the LP's duals, each school's pricing problem keeps the LP's rows and adds
    # integrality and connectivity, so the Lagrangian value can only be higher.
    district, scenario = case
    lp, lag, _, _ = _all_bounds(district, scenario)
    if lp.useful and math.isfinite(lag.value) and scenario.constraints.max_moved_share >= 1:
        assert lag.value >= lp.value - 1e-6


def test_lagrangian_beats_the_lp_where_zones_must_be_connected(grid_district):
    # On the 6 x 8 segregated grid the LP mixes fractions of far units; whole connected zones
    # cannot, which the Lagrangian's pricing problems see.
    scenario = Scenario.from_dict({"constraints": {"max_extra_distance_km": 2.0}})
    eligible = eligible_pairs(grid_district, scenario)
    lp = root_lp_bound(grid_district, scenario, eligible)
    lag = lagrangian_bound(grid_district, scenario, eligible, 15, duals=lp.detail["duals"])
    assert lag.value > lp.value + 1e-4
    assert lag.detail["iterations"] >= 1


def test_bounds_by_source_reads_the_trace():
    trace = [{"source": "status quo", "bound": 0.0}, {"source": "bound (root_lp)", "bound": 0.1},
             {"source": "bound (cut round 0)", "bound": 0.15},
             {"source": "bound (cut round 3)", "bound": 0.2}, {"source": "lns", "bound": 0.2},
             {"source": "bound (lp_cuts)", "bound": 0.12}]
    assert bounds_by_source(trace) == {"root_lp": 0.1, "cut_loop": 0.2, "lp_cuts": 0.12}


def test_root_lp_bound_stops_with_nothing_proven_when_out_of_iterations(grid_district):
    scenario = Scenario()
    res = root_lp_bound(grid_district, scenario, eligible_pairs(grid_district, scenario),
                        work_limit=1)
    assert res.value == -math.inf and not res.useful


def test_root_lp_duals_are_one_per_unit(grid_district):
    scenario = Scenario.from_dict({"constraints": {"max_extra_distance_km": 2.0}})
    res = root_lp_bound(grid_district, scenario, eligible_pairs(grid_district, scenario))
    assert res.detail["duals"].shape == (grid_district.n_units,)
    assert np.isfinite(res.detail["duals"]).all()
    assert res.value > 0


@pytest.mark.parametrize("rounds", [1, 3])
def test_cut_loop_bound_is_repeatable(grid_district, rounds):
    scenario = Scenario.from_dict({"constraints": {"max_extra_distance_km": 2.0}})
    eligible = eligible_pairs(grid_district, scenario)
    a = cut_loop_bound(grid_district, scenario, eligible, rounds)
    b = cut_loop_bound(grid_district, scenario, eligible, rounds)
    assert a.value == b.value
