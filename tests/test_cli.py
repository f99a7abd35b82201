"""The command line end to end: contract files, exit codes 0/2/3/4, inputs untouched."""

import hashlib
import json

import geopandas as gpd
import pandas as pd
import pytest

from zoneopt import District, Scenario, check_plan
from zoneopt.cli import main

CONTRACT_FILES = {"assignment.csv", "zones.geojson", "schools.csv", "summary.json", "map.html",
                  "report.html"}
SUMMARY_KEYS = {
    "status", "objective", "bound", "gap", "solver", "solve_seconds", "dissimilarity_before",
    "dissimilarity_after", "max_share_gap_before", "max_share_gap_after", "students_moved",
    "moved_share", "mean_distance_km_before", "mean_distance_km_after", "max_utilization_after",
    "contiguous", "islands", "n_units", "n_schools", "scenario",
}


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_optimize_writes_a_contract_folder_whose_plan_checks(grid_inputs, tmp_path, capsys):
    units, schools = grid_inputs
    hashes = {p: _digest(p) for p in (units, schools)}
    out = tmp_path / "out"
    code = main(["optimize", "--units", str(units), "--schools", str(schools), "--out", str(out),
                 "--time-limit", "8"])
    assert code == 0
    assert CONTRACT_FILES <= {p.name for p in out.iterdir()}
    summary = json.loads((out / "summary.json").read_text())
    assert SUMMARY_KEYS <= set(summary)
    assert summary["status"] in ("optimal", "feasible")
    assignment = pd.read_csv(out / "assignment.csv", dtype=str)
    assert list(assignment.columns) == ["unit_id", "school_id"]
    district = District.from_files(units, schools)
    report = check_plan(district, Scenario(), dict(zip(assignment.unit_id, assignment.school_id,
                                                       strict=True)), summary=summary)
    assert report.ok, report.violations
    zones = gpd.read_file(out / "zones.geojson")
    assert {"school_id", "name", "enrollment", "capacity", "utilization",
            "low_income_share"} <= set(zones.columns)
    assert zones.crs.to_epsg() == 4326
    table = pd.read_csv(out / "schools.csv")
    assert table["enrollment_after"].sum() == district.students.sum()
    assert {p: _digest(p) for p in (units, schools)} == hashes
    assert "dissimilarity" in capsys.readouterr().out


def test_scenario_file_and_overrides(grid_inputs, tmp_path):
    units, schools = grid_inputs
    scenario = tmp_path / "s.toml"
    scenario.write_text('[constraints]\nmax_extra_distance_km = 2.0\n[solver]\ntime_limit_s = 100\n')
    out = tmp_path / "out"
    assert main(["optimize", "--units", str(units), "--schools", str(schools), "--scenario",
                 str(scenario), "--out", str(out), "--time-limit", "3", "--no-maps"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["scenario"]["constraints"]["max_extra_distance_km"] == 2.0
    assert summary["scenario"]["solver"]["time_limit_s"] == 3.0
    assert summary["solve_seconds"] < 10


def test_bad_input_exits_2_and_names_file_and_column(grid_inputs, tmp_path, capsys):
    units, schools = grid_inputs
    bad = tmp_path / "schools_bad.csv"
    table = pd.read_csv(schools)
    table.rename(columns={"capacity": "capacty"}).to_csv(bad, index=False)
    code = main(["optimize", "--units", str(units), "--schools", str(bad), "--out",
                 str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2
    assert "schools_bad.csv" in err and "capacity" in err and "did you mean 'capacty'" in err
    assert not (tmp_path / "o").exists()


def test_infeasible_exits_3_with_diagnosis_in_summary(grid_inputs, tmp_path, capsys):
    units, schools = grid_inputs
    scenario = tmp_path / "s.toml"
    scenario.write_text("[constraints]\nmax_utilization = 0.5\n")
    out = tmp_path / "out"
    code = main(["optimize", "--units", str(units), "--schools", str(schools), "--scenario",
                 str(scenario), "--out", str(out)])
    assert code == 3
    assert "capacity" in capsys.readouterr().err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "infeasible" and summary["diagnosis"]


def test_no_plan_within_the_time_limit_exits_4(grid_inputs, tmp_path, monkeypatch):
    import zoneopt.solve as solve_module

    def nothing(*args, **kwargs):
        return False

    # Make every search step find nothing, as when the time runs out before the first plan.
    monkeypatch.setattr(solve_module._Run, "go", nothing)
    units, schools = grid_inputs
    out = tmp_path / "out"
    code = main(["optimize", "--units", str(units), "--schools", str(schools), "--out", str(out),
                 "--time-limit", "1"])
    assert code == 4
    assert json.loads((out / "summary.json").read_text())["status"] == "no_solution"


def test_the_time_limit_note_says_whether_the_plan_or_only_the_bound_depends_on_the_clock():
    from zoneopt.cli import time_limit_note

    for plan_cut in (None, [], ["search"], ["proof", "proof checkpoint"], ["bound", "search"]):
        assert time_limit_note(plan_cut).endswith("a longer --time-limit gives the reproducible plan")
    note = time_limit_note(["bound", "proof"])
    assert note.startswith("the time limit ended the bound and the proof before their work was "
                           "spent")
    assert "the plan is reproducible" in note and "only the proven bound and gap" in note


def test_existing_output_folder_is_replaced_whole(grid_inputs, tmp_path):
    units, schools = grid_inputs
    out = tmp_path / "out"
    out.mkdir()
    (out / "stale.txt").write_text("old")
    assert main(["optimize", "--units", str(units), "--schools", str(schools), "--out", str(out),
                 "--time-limit", "2", "--no-maps"]) == 0
    assert not (out / "stale.txt").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]


@pytest.mark.slow
def test_demo_writes_every_contract_file(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--time-limit", "15"]) == 0
    assert CONTRACT_FILES <= {p.name for p in out.iterdir()}
    summary = json.loads((out / "summary.json").read_text())
    from zoneopt import demo

    assert summary["n_units"] == demo.SUBAREA_TRACTS and summary["n_schools"] == 27
    assert summary["dissimilarity_after"] < summary["dissimilarity_before"]
    from zoneopt.demo import demo_district, demo_scenario

    assignment = pd.read_csv(out / "assignment.csv", dtype=str)
    report = check_plan(demo_district(), demo_scenario(),
                        dict(zip(assignment.unit_id, assignment.school_id, strict=True)),
                        summary=summary)
    assert report.ok, report.violations
