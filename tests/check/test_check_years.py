"""The checker's own multi-year arithmetic: it re-reads the projections and catches what is wrong."""

import json

import numpy as np
import pandas as pd
import pytest
from districts import grid_frames
from years_districts import growing_projection, two_by_two_transition

from zoneopt import District, Scenario, check_plan
from zoneopt.check.years import check_years, check_years_csv
from zoneopt.solve import optimize


@pytest.fixture(scope="module")
def solved(tmp_path_factory):
    """An unseen district: 5 plan years x 3 series, a two-grade phase-in, an addition in 2029."""
    tmp = tmp_path_factory.mktemp("years")
    units, schools = grid_frames(5, 6, [7, 10, 19, 22], seed=7, capacity_slack=1.3)
    schools["capacity_2029"] = [None, schools["capacity"].iloc[1] + 150, None, None]
    district = District.from_frames(units, schools)
    path = growing_projection(district, tmp / "p.csv", years=(2027, 2028, 2029, 2030, 2031),
                              series=("mid", "low", "high"), growth=0.02, seed=3, grades=6)
    scenario = Scenario.from_dict({
        "years": {"projections": str(path), "plan": [2027, 2028, 2029, 2030, 2031],
                  "series": ["mid", "low", "high"]},
        "transition": {"start_year": 2027, "grandfather_grades": [4, 5]},
        "solver": {"time_limit_s": 3}})
    plan = optimize(district, scenario)
    plan.save(tmp / "out", maps=False)
    return district, scenario, plan, tmp / "out"


def test_every_figure_of_years_csv_matches_the_checker(solved):
    district, scenario, plan, out = solved
    frame = pd.read_csv(out / "years.csv", dtype={"school_id": str})
    assert list(frame.columns) == ["plan", "school_id", "year", "series", "enrollment", "capacity",
                                   "utilization", "low_income_share"]
    assert len(frame) == 2 * 4 * 5 * 3
    assert check_years_csv(district, scenario, plan.positions, frame) == []
    assert (frame.loc[frame["school_id"] == "S1", "capacity"].iloc[2:].nunique()) == 2


def test_no_school_exceeds_its_limit_in_any_plan_year_or_series(solved):
    district, scenario, plan, out = solved
    frame = pd.read_csv(out / "years.csv", dtype={"school_id": str})
    proposed = frame[frame["plan"] == "proposed"]
    assert (proposed["utilization"] <= 1.0 + 1e-9).all()
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["years"]) == {"2027", "2028", "2029", "2030", "2031"}
    check_plan(district, scenario, plan.positions, summary=summary).raise_if_failed()


def test_a_wrong_reported_year_figure_is_caught(solved):
    district, scenario, plan, _ = solved
    summary = json.loads(json.dumps(plan.summary))
    summary["years"]["2030"]["max_utilization"] += 0.01
    report = check_plan(district, scenario, plan.positions, summary=summary)
    assert any("years[2030].max_utilization" in v for v in report.violations)


def test_a_wrong_years_csv_cell_is_caught(solved):
    district, scenario, plan, out = solved
    frame = pd.read_csv(out / "years.csv", dtype={"school_id": str})
    frame.loc[17, "enrollment"] += 1
    assert len(check_years_csv(district, scenario, plan.positions, frame)) == 1


def test_the_checker_counts_grandfathered_cohorts_at_today_s_school(tmp_path):
    units, schools, path = two_by_two_transition(tmp_path)
    district = District.from_frames(units, schools)
    scenario = Scenario.from_dict({"years": {"projections": str(path), "plan": [2027, 2028]},
                                   "transition": {"start_year": 2027, "grandfather_grades": [4, 5]}})
    found = check_years(district, scenario, np.array([0, 1, 0, 1]))
    rows = found.rows.set_index(["school_id", "year"])
    assert rows.loc[("S0", 2027), "enrollment"] == 200 and rows.loc[("S0", 2028), "enrollment"] == 190
    assert found.violations == [
        "in 2027, mid series, school S0 has 200 students, above 1 x its 190 seats (by 10)"]
    # without the phase-in the same plan fits
    plain = scenario.with_values({"transition.grandfather_grades": [], "transition.start_year": 0})
    assert check_years(district, plain, np.array([0, 1, 0, 1])).violations == []
