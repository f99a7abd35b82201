"""Faults never lose a checked plan: a candidate failing its check falls back to the next best."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from districts import grid_frames

import zoneopt.solve as solve_module
from zoneopt import District, Scenario, check_plan, optimize


def test_a_best_plan_failing_its_check_falls_back_to_the_best_checked_plan(monkeypatch, caplog):
    caplog.set_level(logging.ERROR, logger="zoneopt")
    units, schools = grid_frames(4, 6, [7, 16], seed=2)
    district = District.from_frames(units, schools)
    quick = Scenario.from_dict({"solver": {"work_budget": 0.1}})
    honest = optimize(district, quick, time_limit=20)
    best = honest.positions.copy()
    real = solve_module.check_plan

    def flaky(d, s, assignment, summary=None):
        report = real(d, s, assignment, summary=summary)
        if summary is not None and np.array_equal(np.asarray(assignment), best):
            report.ok = False
            report.violations.append("school S0: enrollment 999 above 1 x capacity (injected)")
        return report

    monkeypatch.setattr(solve_module, "check_plan", flaky)
    plan = optimize(district, quick, time_limit=20)
    assert not np.array_equal(plan.positions, best)
    assert plan.summary["objective"] >= honest.summary["objective"]
    assert check_plan(district, quick, plan.positions, summary=plan.summary).ok
    assert "internal error" in caplog.text and "(injected)" in caplog.text
    assert any("(injected)" in e for e in plan.summary["internal_errors"])


def test_no_checked_plan_at_all_is_an_internal_error(monkeypatch):
    units, schools = grid_frames(3, 4, [0, 11], seed=2)
    district = District.from_frames(units, schools)
    real = solve_module.check_plan

    def never(d, s, assignment, summary=None):
        report = real(d, s, assignment, summary=summary)
        if summary is not None:
            report.ok = False
            report.violations.append("injected")
        return report

    monkeypatch.setattr(solve_module, "check_plan", never)
    with pytest.raises(RuntimeError, match="no plan passed its check"):
        optimize(district, Scenario.from_dict({"solver": {"work_budget": 0.1}}), time_limit=10)
