"""The checker's SES module re-derives tier figures and the tier band from the raw columns."""

from __future__ import annotations

import numpy as np
import pytest
from districts import grid_frames

from zoneopt import District, Scenario
from zoneopt.check import check_plan
from zoneopt.plan import Plan


def _district(with_report=True):
    units, schools = grid_frames(3, 4, [0, 11], seed=2)
    units["ses_tier"] = [1, 1, 2, 3, 1, 2, 3, 3, 2, 2, 3, 1]
    if with_report:
        units["report_asian"] = units["students"] // 4
    return District.from_frames(units, schools)


def test_tier_band_violation_names_school_tier_and_amount():
    d = _district()
    s = Scenario.from_dict({"constraints": {"tier_band": 0.05, "contiguity": False}})
    report = check_plan(d, s, np.array([0] * 6 + [1] * 6))
    assert not report.ok
    assert any("share of SES tier" in v and "above tier_band 0.05" in v
               for v in report.violations)


def test_tier_figures_agree_with_the_plan_and_catch_a_wrong_one():
    d = _district()
    s = Scenario.from_dict({"objective": {"balance": "tiers"}, "constraints": {"contiguity": False}})
    pos = np.array([0, 1] * 6)
    pos[d.home_unit] = [0, 1]
    plan = Plan.from_assignment(d, s, pos)
    report = check_plan(d, s, pos, summary=plan.summary)
    assert report.ok, report.violations
    assert report.figures["objective"] == pytest.approx(plan.summary["tier_dissimilarity_after"])
    bad = dict(plan.summary, tier_dissimilarity_after=0.01)
    assert any("tier_dissimilarity_after" in v for v in check_plan(d, s, pos, summary=bad).violations)
    bad = dict(plan.summary, report_dissimilarity_after={"asian": 0.5})
    assert any("report_dissimilarity_after[asian]" in v
               for v in check_plan(d, s, pos, summary=bad).violations)


def test_tiers_scenario_without_tiers_is_a_violation():
    units, schools = grid_frames(3, 4, [0, 11], seed=2)
    d = District.from_frames(units, schools)
    s = Scenario.from_dict({"objective": {"balance": "tiers"}})
    assert any("no ses_tier" in v for v in check_plan(d, s, d.status_quo).violations)
