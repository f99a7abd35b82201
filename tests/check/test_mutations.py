"""Mutation tests: corrupt each figure of a summary and break each rule of a plan; the checker must
name what was corrupted or broken."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from districts import grid_frames

from zoneopt import District, Plan, Scenario, check_plan

#: Every figure of summary.json the checker re-derives.
FIGURES = [
    "dissimilarity_before", "dissimilarity_after", "max_share_gap_before", "max_share_gap_after",
    "students_moved", "moved_share", "mean_distance_km_before", "mean_distance_km_after",
    "max_utilization_after", "contiguous", "islands", "n_units", "n_schools", "district_share",
    "distance_source", "objective",
]


@pytest.fixture(scope="module")
def strip():
    """1 x 6 strip, schools at both ends; plan 0 0 0 1 1 1 keeps every rule of the defaults."""
    units, schools = grid_frames(1, 6, [0, 5], students=np.full(6, 10),
                                 low_income=np.array([0, 0, 5, 5, 10, 10]), capacities=[40, 40])
    units["locked_school"] = [None, None, None, None, None, "S1"]
    district = District.from_frames(units, schools)
    plan = np.array([0, 0, 0, 1, 1, 1])
    scenario = Scenario.from_dict({"objective": {"distance_weight": 0.01, "moved_weight": 0.1}})
    searched = Plan.from_assignment(district, scenario, plan, status="search", bound=0.1,
                                    stopped_by="work_budget")
    return district, scenario, plan, searched.summary


def _corrupt(value):
    if isinstance(value, bool):
        return not value
    if isinstance(value, str):
        return value + "_x"
    if isinstance(value, int):
        return value + 1
    return value * 1.5 + 0.01


def test_the_unmutated_summary_passes(strip):
    district, scenario, plan, summary = strip
    report = check_plan(district, scenario, plan, summary=summary)
    assert report.ok, report.violations
    assert set(FIGURES) <= set(report.figures)


@pytest.mark.parametrize("key", FIGURES)
def test_each_corrupted_figure_is_named(strip, key):
    district, scenario, plan, summary = strip
    bad = copy.deepcopy(summary)
    bad[key] = _corrupt(bad[key])
    report = check_plan(district, scenario, plan, summary=bad)
    assert not report.ok
    assert any(key in v for v in report.violations), report.violations


@pytest.mark.parametrize("key", FIGURES)
def test_each_missing_figure_is_named(strip, key):
    district, scenario, plan, summary = strip
    bad = {k: v for k, v in summary.items() if k != key}
    assert any(key in v for v in check_plan(district, scenario, plan, summary=bad).violations)


@pytest.mark.parametrize(("change", "words"), [
    ({"bound": 10.0}, "bound"),
    ({"gap": 0.0}, "gap"),
    ({"status": "optimal"}, "optimal"),
    ({"status": "proven"}, "status"),
    ({"stopped_by": "luck"}, "stopped_by"),
    ({"stopped_by": None}, "stopped_by"),
    ({"violations": ["school S0 is full"]}, "violations"),
    ({"status": "given", "violations": ["school S0 is full"]}, "violations"),
])
def test_status_bound_and_gap_rules_are_checked(strip, change, words):
    district, scenario, plan, summary = strip
    bad = dict(summary, **change)
    report = check_plan(district, scenario, plan, summary=bad)
    assert any(words in v for v in report.violations), report.violations


def test_a_given_plan_must_list_exactly_its_broken_rules(strip):
    district, scenario, _, _ = strip
    tight = scenario.with_values({"constraints.max_utilization": 0.5})
    given = Plan.from_assignment(district, tight, np.array([0, 0, 0, 1, 1, 1]))
    assert given.summary["status"] == "given" and len(given.summary["violations"]) == 2
    assert check_plan(district, tight, given.positions, summary=given.summary).rule_violations \
        == given.summary["violations"]
    dropped = dict(given.summary, violations=given.summary["violations"][:1])
    assert not check_plan(district, tight, given.positions, summary=dropped).ok


@pytest.mark.parametrize(("constraints", "plan", "words"), [
    ({"max_utilization": 0.5}, [0, 0, 0, 1, 1, 1], ["school S0", "above 0.5 x capacity",
                                                     "by 10 student(s)"]),
    ({"min_utilization": 0.9}, [0, 0, 0, 1, 1, 1], ["school S0", "below 0.9 x capacity"]),
    ({"max_distance_km": 2.5}, [0, 0, 0, 0, 1, 1], ["unit U0003", "above max_distance_km 2.5"]),
    ({"max_extra_distance_km": 0.5}, [0, 0, 0, 0, 1, 1], ["unit U0003", "max_extra_distance_km"]),
    ({}, [0, 1, 0, 1, 1, 1], ["zone of school S0 is not connected", "1 unit(s) cut off",
                             "U0002"]),
    ({}, [0, 0, 0, 1, 1, 0], ["unit U0005 is locked to S1"]),
    ({}, [1, 0, 0, 1, 1, 1], ["home unit U0000 of school S0"]),
    ({"max_moved_share": 0.1}, [0, 0, 0, 0, 1, 1], ["students moved", "max_moved_share 0.1"]),
    ({"low_income_band": 0.05}, [0, 0, 0, 1, 1, 1], ["school S0", "low_income_band 0.05"]),
])
def test_each_broken_rule_is_named_with_school_or_unit_and_amount(strip, constraints, plan, words):
    district, scenario, _, _ = strip
    s = scenario.with_values({f"constraints.{k}": v for k, v in constraints.items()})
    report = check_plan(district, s, np.array(plan))
    assert not report.ok
    text = " | ".join(report.violations)
    for w in words:
        assert w in text, text
