"""The checker's second level finds broken nesting, middle contiguity, capacity and split
neighbourhoods, re-deriving them from the files."""

from __future__ import annotations

import numpy as np
from feeder_districts import District, scenario, two_level_frames, write_hoods, write_middle

from zoneopt import Plan
from zoneopt.check import check_plan


def _setup(tmp_path, **feeders):
    units, schools, middle = two_level_frames(2, 4, [0, 3, 5], [1, 6], seed=0, capacity_slack=2.5)
    district = District.from_frames(units, schools)
    path = write_middle(middle, tmp_path / "middle.csv")
    return district, scenario(tmp_path, middle=path, feeders={"mode": "nested", **feeders})


def test_a_nested_plan_that_nests_passes_and_its_figures_match(tmp_path):
    district, s = _setup(tmp_path, middle_max_utilization=2.0)
    plan = Plan.from_assignment(district, s, np.array([0, 0, 0, 1, 2, 2, 2, 2]),
                                feeds=np.array([0, 1, 1]))
    report = check_plan(district, s, plan.positions, summary=plan.summary)
    report.raise_if_failed()
    assert report.figures["split_feeders_after"] == 0


def test_split_feeder_and_cut_off_middle_zone_are_violations(tmp_path):
    district, s = _setup(tmp_path, middle_max_utilization=2.0)
    plan = Plan.from_assignment(district, s, np.array([0, 0, 0, 1, 2, 2, 2, 2]),
                                feeds=np.array([1, 0, 1]))
    report = check_plan(district, s, plan.positions, summary=plan.summary)
    text = "\n".join(report.violations)
    assert "M0's own unit" in text  # M0 sits in unit 1, in S0's zone, which feeds M1
    # the feeder map as summary.json gives it is what the checker reads
    summary = dict(plan.summary, feeder_map={"S0": "M0", "S1": "M0", "S2": "M0"})
    text = "\n".join(check_plan(district, s, plan.positions, summary=summary).violations)
    assert "M1's own unit U0006 is in the zone of M0" in text


def test_middle_capacity_is_checked(tmp_path):
    district, s = _setup(tmp_path, middle_max_utilization=0.3)
    plan = Plan.from_assignment(district, s, np.array([0, 0, 0, 1, 2, 2, 2, 2]),
                                feeds=np.array([0, 1, 1]))
    text = "\n".join(check_plan(district, s, plan.positions, summary=plan.summary).violations)
    assert "middle school M1: enrollment" in text


def test_kept_neighbourhood_split_is_a_violation(tmp_path):
    units, schools, _ = two_level_frames(2, 4, [0, 3, 5], [1, 6], seed=0, capacity_slack=2.0)
    district = District.from_frames(units, schools)
    hoods = write_hoods({"Oak Park": [1, 2]}, units, tmp_path / "h.geojson")
    s = scenario(tmp_path, hoods=hoods, constraints={"keep_neighbourhoods": True})
    report = check_plan(district, s, np.array([0, 0, 1, 1, 2, 2, 2, 1]))
    assert any("neighbourhood 'Oak Park' is split between schools S0, S1" in v
               for v in report.violations)


def test_a_middle_zone_in_two_pieces_is_a_violation(tmp_path):
    # A strip of five units: elementary schools in units 0, 2, 4; middle schools in 0 and 2. With
    # S0 and S2 feeding M0 and S1 feeding M1, M0's zone is units 0, 1 and 3, 4: two pieces.
    units, schools, middle = two_level_frames(1, 5, [0, 2, 4], [0, 2], seed=0, capacity_slack=3.0)
    district = District.from_frames(units, schools)
    s = scenario(tmp_path, middle=write_middle(middle, tmp_path / "m.csv"),
                 feeders={"mode": "nested", "middle_max_utilization": 3.0})
    plan = Plan.from_assignment(district, s, np.array([0, 0, 1, 2, 2]), feeds=np.array([0, 1, 0]))
    report = check_plan(district, s, plan.positions, summary=plan.summary)
    assert any("middle zone of M0 is not connected to its school: 2 unit(s) cut off, e.g. U0003" in v
               for v in report.violations), report.violations
