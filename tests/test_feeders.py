"""Middle schools in (validation), feeder patterns, split feeders and the report-mode outputs."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from feeder_districts import District, scenario, two_level_frames, write_middle

from zoneopt import Plan
from zoneopt.errors import ZoneoptInputError
from zoneopt.feeders import load_feeders, split_feeders


@pytest.fixture
def tiny(tmp_path):
    units, schools, middle = two_level_frames(2, 4, [0, 3, 5], [1, 6], seed=0, capacity_slack=1.6)
    return units, schools, middle, tmp_path


def _load(units, schools, middle, tmp_path, **feeders):
    district = District.from_frames(units, schools, sources={"units": "units.gpkg"})
    path = write_middle(middle, tmp_path / "middle.csv")
    s = scenario(tmp_path, middle=path, feeders={"mode": "report", **feeders})
    return district, s, load_feeders(district, s)


def test_split_feeders_counted_by_hand():
    elem = np.array([0, 0, 0, 1, 1, 2, 2, 2])
    mid = np.array([0, 0, 1, 1, 1, 1, 0, 1])
    students = np.array([5, 5, 5, 5, 5, 0, 5, 5])
    # school 0 -> middle 0 and 1 (split); school 1 -> 1 only; school 2: its unit going to 0 has
    # students, so 2 is split; with that unit empty it would not be.
    assert split_feeders(elem, mid, students) == [0, 2]
    students[6] = 0
    assert split_feeders(elem, mid, students) == [0]


def test_report_mode_outputs_today_and_proposed_feeders(tiny):
    units, schools, middle, tmp_path = tiny
    units["current_middle_school"] = ["M0", "M0", "M0", "M1", "M1", "M1", "M1", "M1"]
    district, s, data = _load(units, schools, middle, tmp_path)
    assert list(data.status_quo) == [0, 0, 0, 1, 1, 1, 1, 1]
    plan = Plan.from_assignment(district, s, np.array([0, 0, 1, 1, 2, 2, 2, 1]))
    plan.check().raise_if_failed()
    # today: S0 = units 0,1,2 (nearest) -> all M0; the plan sends unit 2 to S1 (M0) with 3 (M1).
    assert plan.summary["split_feeders_after"] == 1
    out = plan.save(tmp_path / "out", maps=False)
    feeders = pd.read_csv(out / "feeders.csv", dtype={"school_id": str})
    assert set(feeders["plan"]) == {"today", "proposed"}
    prop = feeders[feeders["plan"] == "proposed"]
    s1 = prop[prop["school_id"] == "S1"].set_index("middle_school_id")["students"]
    assert s1["M0"] == units["students"][2] and s1["M1"] == units["students"][[3, 7]].sum()
    middle_csv = pd.read_csv(out / "middle_schools.csv")
    assert list(middle_csv["enrollment_before"]) == list(middle_csv["enrollment_after"])
    zones = json.loads((out / "middle_zones.geojson").read_text())
    assert {f["properties"]["school_id"] for f in zones["features"]} == {"M0", "M1"}


@pytest.mark.parametrize(
    ("edit", "column", "row"),
    [
        (lambda u, m: u.drop(columns="middle_students"), "middle_students", None),
        (lambda u, m: u.assign(middle_students=["x"] + [3] * 7), "middle_students", "U0000"),
        (lambda u, m: u.assign(middle_students=[-1] + [3] * 7), "middle_students", "U0000"),
        (lambda u, m: u.assign(middle_students=[2.5] + [3] * 7), "middle_students", "U0000"),
        (lambda u, m: u.assign(middle_low_income=[99] + [0] * 7), "middle_low_income", "U0000"),
        (lambda u, m: u.assign(current_middle_school=["M9"] + [None] * 7), "current_middle_school",
         "U0000"),
    ],
)
def test_bad_middle_columns_of_the_units_name_row_and_column(tiny, edit, column, row):
    units, schools, middle, tmp_path = tiny
    with pytest.raises(ZoneoptInputError) as err:
        _load(edit(units, middle), schools, middle, tmp_path)
    assert err.value.column == column and err.value.file == "units.gpkg"
    assert err.value.row == row


@pytest.mark.parametrize(
    ("edit", "column"),
    [
        (lambda m: m.assign(capacity=[0, 100]), "capacity"),
        (lambda m: m.assign(capacity=["lots", 100]), "capacity"),
        (lambda m: m.drop(columns="capacity"), "capacity"),
        (lambda m: m.assign(school_id=["M0", "M0"]), "school_id"),
        (lambda m: m.assign(school_id=["S0", "M1"]), "school_id"),
    ],
)
def test_bad_middle_schools_file_names_file_row_and_column(tiny, edit, column):
    units, schools, middle, tmp_path = tiny
    with pytest.raises(ZoneoptInputError) as err:
        _load(units, schools, edit(middle), tmp_path)
    assert err.value.column == column
    assert err.value.file.endswith("middle.csv")


def test_a_middle_school_outside_the_district_is_bad_input(tiny):
    from shapely.geometry import Point

    units, schools, middle, tmp_path = tiny
    middle = middle.copy()
    middle.loc[0, "geometry"] = Point(600_000, 4_200_000)
    with pytest.raises(ZoneoptInputError) as err:
        _load(units, schools, middle, tmp_path)
    assert err.value.row == "M0" and "outside" in str(err.value)


def test_missing_middle_schools_file_is_bad_input(tiny):
    units, schools, _, tmp_path = tiny
    district = District.from_frames(units, schools)
    s = scenario(tmp_path, middle=tmp_path / "nope.csv", feeders={"mode": "report"})
    with pytest.raises(ZoneoptInputError, match="does not exist"):
        load_feeders(district, s)
