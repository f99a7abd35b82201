"""End to end on a district the code has never seen: history -> `zoneopt project` -> `zoneopt
optimize` with five plan years, three series, a two-grade phase-in and an addition; every figure of
years.csv recomputed independently; the report shows the years."""

import json

import numpy as np
import pandas as pd
from districts import grid_frames, schools_csv_frame

from zoneopt import District, Scenario, check_plan
from zoneopt.check.years import check_years_csv
from zoneopt.cli import main


def _history(district, rng):
    rows = []
    pace = rng.uniform(0.97, 1.06, size=district.n_units)
    for i, uid in enumerate(district.unit_ids):
        per = district.students[i] / 6
        share = district.low_income[i] / max(district.students[i], 1)
        for k, year in enumerate((2024, 2025, 2026)):
            for g in range(6):
                st = int(round(per * pace[i] ** (k + g / 3)))
                rows.append((uid, year, g, st, int(round(st * share))))
    return pd.DataFrame(rows, columns=["unit_id", "year", "grade", "students", "low_income"])


def test_project_then_optimize_five_years_three_series_and_a_phase_in(tmp_path, capsys):
    units, schools = grid_frames(5, 6, [7, 10, 19, 22], seed=11, capacity_slack=1.35)
    district = District.from_frames(units, schools)
    _history(district, np.random.default_rng(5)).to_csv(tmp_path / "history.csv", index=False)
    assert main(["project", "--history", str(tmp_path / "history.csv"), "--years", "5",
                 "--out", str(tmp_path / "projections.csv")]) == 0
    units.to_file(tmp_path / "units.gpkg", driver="GPKG")
    table = schools_csv_frame(schools)
    table["capacity_2029"] = ["", str(int(table["capacity"].iloc[1]) + 100), "", ""]
    table.to_csv(tmp_path / "schools.csv", index=False)
    (tmp_path / "scenario.toml").write_text(
        '[years]\nprojections = "projections.csv"\nplan = [2027, 2028, 2029, 2030, 2031]\n'
        'series = ["mid", "low", "high"]\n\n[transition]\nstart_year = 2027\n'
        'grandfather_grades = [4, 5]\n')
    out = tmp_path / "out"
    code = main(["optimize", "--units", str(tmp_path / "units.gpkg"), "--schools",
                 str(tmp_path / "schools.csv"), "--scenario", str(tmp_path / "scenario.toml"),
                 "--out", str(out), "--time-limit", "3"])
    assert code == 0, capsys.readouterr().err
    district = District.from_files(tmp_path / "units.gpkg", tmp_path / "schools.csv")
    scenario = Scenario.from_toml(tmp_path / "scenario.toml")
    assignment = pd.read_csv(out / "assignment.csv", dtype=str)
    positions = district.assignment_positions(dict(zip(assignment["unit_id"],
                                                       assignment["school_id"], strict=True)))
    summary = json.loads((out / "summary.json").read_text())
    check_plan(district, scenario, positions, summary=summary).raise_if_failed()
    years = pd.read_csv(out / "years.csv", dtype={"school_id": str})
    assert check_years_csv(district, scenario, positions, years) == []
    proposed = years[years["plan"] == "proposed"]
    assert len(proposed) == 4 * 5 * 3 and (proposed["utilization"] <= 1 + 1e-9).all()
    assert set(summary["years"]) == {str(y) for y in range(2027, 2032)}
    page = (out / "report.html").read_text()
    assert 'id="years"' in page and page.count('class="panel"') == 4
    assert "grade(s) 4, 5" in page
