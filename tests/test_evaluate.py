"""Scoring a hand-drawn plan: status given, the checker's violations, exit 0 or 5 (or 2)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from districts import grid_frames, schools_csv_frame

from zoneopt import District, Scenario, ZoneoptInputError, check_plan, evaluate
from zoneopt.cli import main


@pytest.fixture
def strip_files(tmp_path):
    """A 1 x 6 strip with schools at both ends, as the contract's input files."""
    units, schools = grid_frames(1, 6, [0, 5], students=np.full(6, 10),
                                 low_income=np.array([0, 0, 5, 5, 10, 10]), capacities=[40, 40])
    upath, spath = tmp_path / "units.gpkg", tmp_path / "schools.csv"
    units.to_file(upath, driver="GPKG")
    schools_csv_frame(schools).to_csv(spath, index=False)
    return upath, spath


def _plan_csv(path, schools):
    pd.DataFrame({"unit_id": [f"U{i:04d}" for i in range(len(schools))],
                  "school_id": schools}).to_csv(path, index=False)
    return path


def _evaluate(tmp_path, files, schools, name="plan", scenario=None):
    upath, spath = files
    plan = _plan_csv(tmp_path / f"{name}.csv", schools)
    out = tmp_path / name
    extra = []
    if scenario:
        (tmp_path / "s.toml").write_text(scenario)
        extra = ["--scenario", str(tmp_path / "s.toml")]
    code = main(["evaluate", "--units", str(upath), "--schools", str(spath), "--assignment",
                 str(plan), "--out", str(out), "--no-maps", *extra])
    return code, out


def test_a_plan_that_overfills_a_school_and_cuts_a_zone_exits_5_and_names_both(
        tmp_path, strip_files, capsys):
    # S0 gets units 0, 1, 3, 4 (40 students, 36 seats at 90%); unit 3 is cut off from S0 by unit 2.
    code, out = _evaluate(tmp_path, strip_files, ["S0", "S0", "S1", "S0", "S0", "S1"],
                          scenario="[constraints]\nmax_utilization = 0.9\n")
    captured = capsys.readouterr()
    assert code == 5
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "given"
    violations = summary["violations"]
    assert ("school S0: enrollment 40 is 100.0% of capacity 40, above 0.9 x capacity by 4 "
            "student(s)") in violations
    assert any("zone of school S0 is not connected" in v and "2 unit(s) cut off (U0003, U0004)" in v
               for v in violations), violations
    assert any("zone of school S1 is not connected" in v and "U0002" in v for v in violations)
    assert len(violations) == 3
    for sentence in violations:
        assert sentence in captured.err
    assert "given plan: 3 rule(s) broken" in captured.out
    assert "feasible" not in captured.out and "time limit" not in captured.out
    assert (out / "assignment.csv").exists() and (out / "schools.csv").exists()


def test_overfilled_school_is_named_with_its_excess(tmp_path, strip_files, capsys):
    code, out = _evaluate(tmp_path, strip_files, ["S0", "S0", "S0", "S0", "S0", "S1"])
    assert code == 5
    violations = json.loads((out / "summary.json").read_text())["violations"]
    assert violations == ["school S0: enrollment 50 is 125.0% of capacity 40, above 1 x capacity "
                          "by 10 student(s)"]
    assert "given plan: 1 rule(s) broken" in capsys.readouterr().out


def test_a_plan_keeping_every_rule_exits_0_with_no_violations(tmp_path, strip_files, capsys):
    code, out = _evaluate(tmp_path, strip_files, ["S0", "S0", "S0", "S1", "S1", "S1"])
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "given" and summary["violations"] == []
    assert summary["stopped_by"] is None and summary["distance_source"] == "straight_line"
    assert "feasible" not in capsys.readouterr().out


@pytest.mark.parametrize(("schools", "words"), [
    (["S0", "S0", "S0", "S1", "S1"], "have no row"),
    (["S0", "S0", "S0", "S1", "S1", "S9"], "school 'S9'"),
])
def test_a_missing_unit_or_an_unknown_school_is_bad_input(tmp_path, strip_files, capsys, schools,
                                                           words):
    upath, spath = strip_files
    plan = _plan_csv(tmp_path / "p.csv", schools)
    code = main(["evaluate", "--units", str(upath), "--schools", str(spath), "--assignment",
                 str(plan), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2
    assert words in err and "p.csv" in err


def test_evaluate_is_plan_from_assignment_and_passes_its_own_check(tmp_path, strip_files):
    upath, spath = strip_files
    d = District.from_files(upath, spath)
    plan = evaluate(d, Scenario(), {f"U{i:04d}": s for i, s in enumerate("S0 S0 S1 S0 S0 S1".split())})
    assert plan.summary["status"] == "given" and plan.summary["violations"]
    report = check_plan(d, Scenario(), plan.positions, summary=plan.summary)
    # every figure matches: the only findings are the rules the plan breaks, as the summary says
    assert report.violations == report.rule_violations == plan.summary["violations"]
    with pytest.raises(ZoneoptInputError):
        evaluate(d, Scenario(), {"U0000": "S0"})


def test_the_report_of_a_given_plan_says_given_and_names_the_broken_rules(tmp_path, strip_files):
    from zoneopt.viz.report import report_html

    upath, spath = strip_files
    d = District.from_files(upath, spath)
    plan = evaluate(d, Scenario(), {f"U{i:04d}": s for i, s in enumerate("S0 S0 S0 S0 S0 S1".split())})
    page = report_html(plan)
    assert "Given plan (scored, not searched): breaks 1 rule(s)" in page
    assert "above 1 x capacity by 10 student(s)" in page
    assert "time limit" not in page and "Feasible" not in page
