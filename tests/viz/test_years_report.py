"""The report's plan-years section: plain-words overfill warnings, the table and the small multiples."""

import numpy as np
from districts import grid_frames
from years_districts import write_projections

from zoneopt import District, Scenario, check_plan
from zoneopt.plan import Plan
from zoneopt.viz.report import report_html
from zoneopt.viz.years import years_report_table


def _plan(tmp_path):
    units, schools = grid_frames(2, 3, [0, 5], students=np.full(6, 50),
                                 low_income=np.array([30, 20, 10, 10, 5, 0]),
                                 capacities=[200, 200])
    district = District.from_frames(units, schools)
    grow = [50, 50, 50, 50, 70, 90]  # S1's zone (U0002, U0004, U0005) reaches 210
    path = write_projections(tmp_path / "p.csv", district.unit_ids,
                             [[np.full(6, 50)] * 2, [np.full(6, 50), grow],
                              [np.full(6, 50), grow]],
                             [[np.full(6, 10)] * 2] * 3, (2027, 2028, 2029), ("mid", "high"))
    scenario = Scenario.from_dict({"years": {"projections": str(path), "plan": [2027, 2028, 2029],
                                             "series": ["mid", "high"]}})
    return Plan.from_assignment(district, scenario, district.status_quo)


def test_a_plan_that_overfills_a_school_in_a_later_year_says_so_in_plain_words(tmp_path):
    plan = _plan(tmp_path)
    warnings = [w for w in plan.summary["years_warnings"] if w.startswith("with the plan")]
    assert warnings == [
        "with the plan, school S1 is over capacity in 2028 under the high series: 210 students "
        "for 200 seats (105%)",
        "with the plan, school S1 is over capacity in 2029 under the high series: 210 students "
        "for 200 seats (105%)"]
    found = check_plan(plan.district, plan.scenario, plan.positions, summary=plan.summary)
    assert [v[:37] for v in found.violations] == ["in 2028, high series, school S1 has 2",
                                                  "in 2029, high series, school S1 has 2"]
    page = report_html(plan)
    assert "Over capacity under this plan" in page and warnings[0] in page
    assert page.count('class="panel"') == 2 and "S1 (over)" in page


def test_the_per_year_table_names_the_fullest_series(tmp_path):
    table = years_report_table(_plan(tmp_path)).set_index(["school_id", "year"])
    assert table.loc[("S1", 2029), "series_max"] == "high"
    assert table.loc[("S1", 2029), "utilization_max"] == 210 / 200
    assert table.loc[("S1", 2029), "enrollment_proposed"] == 150
