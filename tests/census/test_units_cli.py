"""`zoneopt units` on the sample census files, then `zoneopt optimize` on what it wrote."""

from __future__ import annotations

import json
import warnings

import pandas as pd
import pytest

from zoneopt.census import CensusWarning, build_units, read_nces_schools, write_schools_csv
from zoneopt.check import check_plan
from zoneopt.cli import main
from zoneopt.district import District
from zoneopt.io import read_units
from zoneopt.scenario import load_scenario
from zoneopt.validate import validate_units


def _units_args(samples, out, *extra):
    return [
        "units",
        "--block-groups", str(samples["bg_zip"]),
        "--acs", str(samples["c17002_csv"]),
        "--acs", str(samples["b01001_json"]),
        "--acs", str(samples["b19013_csv"]),
        "--boundary", str(samples["boundary"]),
        *extra,
        "--out", str(out),
    ]


def test_units_command_writes_the_hand_checked_units(samples, tmp_path, capsys):
    out = tmp_path / "units.gpkg"
    with pytest.warns(CensusWarning, match="2 from the tract"):
        assert main(_units_args(samples, out, "--students-total", "1200")) == 0
    assert "wrote 11 units, 1200 students" in capsys.readouterr().out
    units = validate_units(read_units(out), source=str(out)).set_index("unit_id")
    # By hand (see zoneopt.census.units.build_units): 0001.01-1 gets 142 students, 28 low-income.
    assert units.loc["060670001011", "students"] == 142
    assert units.loc["060670001011", "low_income"] == 28
    assert "060670001026" not in units.index
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        direct = build_units(
            samples["bg_zip"],
            [samples["c17002_csv"], samples["b01001_json"], samples["b19013_csv"]],
            boundary=samples["boundary"],
            students_total=1200,
        ).set_index("unit_id")
    assert units["students"].tolist() == direct["students"].tolist()
    assert units["low_income"].tolist() == direct["low_income"].tolist()


def test_units_command_bad_input_exits_2(samples, tmp_path, capsys):
    args = _units_args(samples, tmp_path / "u.gpkg", "--students-total", "10")
    args[args.index(str(samples["c17002_csv"]))] = str(tmp_path / "missing.csv")
    assert main(args) == 2
    assert "missing.csv" in capsys.readouterr().err


def test_units_from_samples_optimize(samples, tmp_path):
    units_path = tmp_path / "units.gpkg"
    with (
        pytest.warns(UserWarning, match="69 of 400 student points fall in no unit"),
        pytest.warns(CensusWarning),
    ):
        assert main(_units_args(samples, units_path, "--students", str(samples["students"]))) == 0
    with pytest.warns(UserWarning, match="no capacity"):
        schools = read_nces_schools(
            samples["nces"], leaid="0699999", capacities=samples["capacity"]
        )
    schools_path = write_schools_csv(schools, tmp_path / "schools.csv")
    out = tmp_path / "plan"
    code = main(
        ["optimize", "--units", str(units_path), "--schools", str(schools_path),
         "--out", str(out), "--time-limit", "60", "--no-maps"]
    )
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["n_units"] == 11 and summary["n_schools"] == 3
    assignment = pd.read_csv(out / "assignment.csv", dtype=str)
    district = District.from_files(units_path, schools_path)
    report = check_plan(
        district, load_scenario(None),
        dict(zip(assignment["unit_id"], assignment["school_id"], strict=True)),
        summary=summary,
    )
    report.raise_if_failed()
