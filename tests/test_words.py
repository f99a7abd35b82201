"""Words true for the scenario used: the CLI's headline, and D undefined as bad input."""

from __future__ import annotations

import numpy as np
import pytest
from districts import grid_frames

from zoneopt import District, Plan, Scenario, ZoneoptInputError, optimize
from zoneopt.cli import headline


@pytest.fixture(scope="module")
def district():
    return District.from_frames(*grid_frames(3, 4, [0, 11], seed=3))


def test_balance_none_makes_no_dissimilarity_claim_and_labels_the_bound_as_the_objectives(district):
    s = Scenario.from_dict({"objective": {"balance": "none", "distance_weight": 1.0},
                            "solver": {"time_limit_s": 20}})
    line = headline(optimize(district, s).summary)
    assert "dissimilarity" not in line
    assert "objective (1 x the average distance from home to school (km))" in line
    assert "proven bound on it" in line


def test_the_default_objective_names_the_dissimilarity_index(district):
    line = headline(optimize(district, Scenario(), time_limit=20).summary)
    assert line.split(":")[0] in ("optimal", "feasible")
    assert "objective (the dissimilarity index (0 to 1))" in line and "dissimilarity " in line
    assert "stopped by " in line


def test_a_feasible_plan_says_how_far_above_the_best_possible_it_can_at_most_be(district):
    summary = dict(optimize(district, Scenario(), time_limit=20).summary)
    summary.update(status="feasible", objective=0.0172, bound=0.0, gap=1.0)
    assert "gap 100.0% (at most 0.0172 above the best possible)" in headline(summary)
    summary.update(status="optimal", objective=0.0172, bound=0.0171, gap=0.0058)
    assert "above the best possible" not in headline(summary)


def test_a_given_plan_never_says_feasible_or_time_limit(district):
    line = headline(Plan.from_assignment(district, Scenario(), district.status_quo).summary)
    assert line.startswith("given plan: ")
    assert "feasible" not in line and "time limit" not in line and "bound" not in line


@pytest.mark.parametrize("low", ["none", "all"])
def test_an_undefined_dissimilarity_index_is_bad_input_that_names_balance_none(low):
    units, schools = grid_frames(3, 4, [0, 11], seed=3)
    units["low_income"] = 0 if low == "none" else units["students"]
    d = District.from_frames(units, schools)
    with pytest.raises(ZoneoptInputError, match='balance = "none"') as err:
        optimize(d, Scenario(), time_limit=5)
    assert "low_income" in str(err.value) and "undefined" in str(err.value)
    # the same district plans fine on distance alone
    plan = optimize(d, Scenario.from_dict({"objective": {"balance": "none",
                                                         "distance_weight": 1.0}}), time_limit=10)
    assert plan.check().ok and np.isfinite(plan.summary["objective"])
