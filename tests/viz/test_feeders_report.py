"""The report's feeder and neighbourhood section and the map's middle-zone layer."""

from __future__ import annotations

import numpy as np
from feeder_districts import District, scenario, two_level_frames, write_hoods, write_middle

from zoneopt import Plan


def test_report_and_map_show_middle_zones_feeders_and_split_neighbourhoods(tmp_path):
    units, schools, middle = two_level_frames(2, 4, [0, 3, 5], [1, 6], seed=0, capacity_slack=2.5)
    district = District.from_frames(units, schools)
    s = scenario(tmp_path, middle=write_middle(middle, tmp_path / "m.csv"),
                 hoods=write_hoods({"Oak Park": [2, 3]}, units, tmp_path / "h.geojson"),
                 feeders={"mode": "nested", "middle_max_utilization": 2.0})
    plan = Plan.from_assignment(district, s, np.array([0, 0, 0, 1, 2, 2, 2, 2]),
                                feeds=np.array([0, 1, 1]))
    plan.check().raise_if_failed()
    from zoneopt.viz.report import report_html

    report = report_html(plan)  # the map is embedded in it
    assert "Middle schools and feeder patterns" in report
    assert "Middle 0" in report and "Middle 1" in report
    assert "Oak Park" in report  # units 2 (S0) and 3 (S1): split, so listed
    assert "Middle-school zones (proposed)" in report
