"""One rule for status, and no solver answer taken on trust."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
from districts import grid_frames

from zoneopt import District, Plan, Scenario
from zoneopt.model import Model, build_model, eligible_pairs
from zoneopt.solve import backends
from zoneopt.solve.backends import solve


@pytest.fixture
def model():
    units, schools = grid_frames(3, 4, [0, 5, 11], seed=11)
    d = District.from_frames(units, schools)
    s = Scenario.from_dict({"constraints": {"contiguity": False, "max_utilization": 0.9}})
    return build_model(d, s, eligible_pairs(d, s), contiguity="none")


def test_a_cbc_answer_that_breaks_the_models_rows_is_not_used(model, monkeypatch):
    real = Model.to_pulp

    def without_capacity(self, name="zoneopt"):
        # What a solver (or an interface) getting the problem wrong looks like: CBC solves a
        # problem without the rows' upper limits (capacity among them) and answers "Optimal".
        loose = copy.copy(self)
        loose.row_upper = np.where(self.row_lower == self.row_upper, self.row_upper, np.inf)
        return real(loose, name)

    honest = solve(model, "cbc", time_limit=20, mip_gap=0.0)
    assert honest.status == "optimal" and backends.consistent(model, honest.values,
                                                               honest.objective)
    monkeypatch.setattr(Model, "to_pulp", without_capacity)
    res = solve(model, "cbc", time_limit=20, mip_gap=0.0)
    assert res.status == "no_solution" and res.values is None
    assert res.bound == -math.inf  # no bound from an answer that did not verify
    assert "verification" in res.message


def test_highs_runs_with_no_absolute_gap(model, monkeypatch):
    seen = []
    real = backends._new_highs

    def spy():
        h = real()
        seen.append(h)
        return h

    monkeypatch.setattr(backends, "_new_highs", spy)
    solve(model, "highs", time_limit=10, mip_gap=0.01)
    value = seen[-1].getOptionValue("mip_abs_gap")
    assert (value[1] if isinstance(value, tuple) else value) == 0.0


@pytest.mark.parametrize(("bound_share", "status"), [(0.995, "optimal"), (0.98, "feasible")])
def test_status_is_the_gap_against_mip_gap_and_nothing_else(bound_share, status):
    d = District.from_frames(*grid_frames(3, 4, [0, 11], seed=3))
    s = Scenario()
    objective = Plan.from_assignment(d, s, d.status_quo).summary["objective"]
    plan = Plan.from_assignment(d, s, d.status_quo, status="optimal",
                                bound=bound_share * objective)
    assert plan.summary["status"] == status  # the caller's word is not taken either
    assert plan.summary["gap"] == pytest.approx(1 - bound_share)
    assert plan.check().ok


def test_a_scored_plan_is_given_with_a_trivial_bound():
    d = District.from_frames(*grid_frames(3, 4, [0, 11], seed=3))
    plan = Plan.from_assignment(d, Scenario(), d.status_quo)
    s = plan.summary
    assert s["status"] == "given" and s["bound"] == 0.0 and s["stopped_by"] is None
    assert s["violations"] == [] and np.isclose(s["gap"], 1.0)
