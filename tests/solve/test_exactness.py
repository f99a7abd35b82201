"""On tiny districts, brute force gives the true optimum: zoneopt must match or stay honest."""

import math

import pytest
from bruteforce import brute_force
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import districts

from zoneopt import InfeasibleError, NoSolutionError, Scenario, optimize


@st.composite
def tiny_cases(draw):
    district = draw(districts(min_units=4, max_units=8, max_schools=3))
    c = {
        "max_utilization": draw(st.sampled_from([1.0, 0.8])),
        "max_extra_distance_km": draw(st.sampled_from([math.inf, 1.2])),
        "max_moved_share": draw(st.sampled_from([1.0, 0.5])),
        "low_income_band": draw(st.sampled_from([math.inf, 0.2])),
    }
    o = {"distance_weight": draw(st.sampled_from([0.0, 0.02]))}
    return district, c, o


def _run(district, scenario):
    try:
        return optimize(district, scenario)
    except InfeasibleError:
        return None


@pytest.mark.slow
@settings(max_examples=30)
@given(tiny_cases())
def test_exact_mode_matches_brute_force_and_default_mode_is_honest(case):
    district, c, o = case
    exact = Scenario.from_dict({"constraints": c, "objective": o,
                                "solver": {"time_limit_s": 60, "mip_gap": 0.0,
                                           "contiguity_model": "exact"}})
    best, _ = brute_force(district, exact)
    plan = _run(district, exact)
    if math.isinf(best):
        assert plan is None, "brute force finds no feasible plan, zoneopt must say infeasible"
        return
    assert plan is not None
    assert plan.check().ok
    assert plan.summary["objective"] == pytest.approx(best, abs=1e-9)
    assert plan.summary["status"] == "optimal"
    assert plan.summary["bound"] <= best + 1e-9

    # Honesty holds at any budget; a tenth of it spares the annealing 45,000 proposals a unit here.
    default = exact.with_values({"solver.contiguity_model": "auto", "solver.mip_gap": 0.01,
                                 "solver.work_budget": 0.1})
    try:
        plan = optimize(district, default)
    except NoSolutionError:
        return
    assert plan.check().ok
    assert plan.summary["objective"] >= best - 1e-9
    assert plan.summary["bound"] <= best + 1e-9
    if plan.summary["status"] == "optimal":
        assert plan.summary["objective"] <= best / (1 - 0.01) + 1e-9
