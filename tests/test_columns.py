"""[columns]: the planner's own column names, school ids by name, schools_where; all problems at once."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from zoneopt.cli import main
from zoneopt.columns import apply_columns, select_schools
from zoneopt.district import District, district_for
from zoneopt.errors import ZoneoptInputError
from zoneopt.scenario import Columns, load_scenario
from zoneopt.validate import MAX_LISTED

SAMPLE = Path(__file__).parents[1] / "data" / "capacity_redraw"


def _own_names() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """A 3x3 district exported with a planner's own names; schools named, in a county file."""
    cells = [box(x * 1000, y * 1000, (x + 1) * 1000, (y + 1) * 1000)
             for y in range(3) for x in range(3)]
    units = gpd.GeoDataFrame(
        {
            "PBID": [f"PB{k:02d}" for k in range(9)],
            "K5LiveAtt": [100, 120, 90, 80, 150, 60, 70, 110, 95],
            "FRL": [10, 60, 5, 40, 20, 30, 7, 50, 9],
            "ES1516": ["Arbutus ES"] * 3 + ["Relay ES"] * 3 + ["Arbutus ES", "Relay ES", None],
            "LOCK": [None] * 8 + ["Relay ES"],
        },
        geometry=cells,
        crs="EPSG:32610",
    )
    schools = gpd.GeoDataFrame(
        {
            "NAME": ["Arbutus ES", "Relay ES", "Arbutus MS", "Far Away ES"],
            "TYPE": ["ES", "ES", "MS", "ES"],
            "DIST": ["here", "here", "here", "other"],
            "SEATS": [500, 500, 900, 400],
            "name": ["old label a", "old label b", "c", "d"],
        },
        geometry=gpd.points_from_xy([500, 2500, 1500, 90_000], [500, 2500, 1500, 90_000]),
        crs="EPSG:32610",
    )
    return units, schools


MAPPING = {
    "unit_id": "PBID",
    "students": "K5LiveAtt",
    "low_income": "FRL",
    "current_school": "ES1516",
    "locked_school": "LOCK",
    "school_id": "NAME",
    "school_name": "NAME",
    "capacity": "SEATS",
    "schools_where": "TYPE == 'ES' and DIST == 'here'",
}


def test_every_column_mapping_reaches_the_district():
    units, schools = _own_names()
    before = (units.copy(), schools.copy())
    d = District.from_frames(units, schools, columns=MAPPING)
    assert list(d.unit_ids) == list(units["PBID"])  # unit_id
    assert d.students.tolist() == units["K5LiveAtt"].tolist()  # students
    assert d.low_income.tolist() == units["FRL"].tolist()  # low_income
    assert list(d.school_ids) == ["Arbutus ES", "Relay ES"]  # school_id by name, schools_where
    assert d.schools["name"].tolist() == ["Arbutus ES", "Relay ES"]  # school_name
    assert d.capacity.tolist() == [500, 500]  # capacity
    # current_school holds names, matched as ids; the empty one falls back to the nearest school
    assert [d.school_ids[j] for j in d.status_quo] == [
        "Arbutus ES"] * 3 + ["Relay ES"] * 3 + ["Arbutus ES", "Relay ES", "Relay ES"]
    assert d.units["locked_school"].tolist()[-1] == "Relay ES"  # locked_school
    # the caller's frames are untouched
    pd.testing.assert_frame_equal(pd.DataFrame(units), pd.DataFrame(before[0]))
    pd.testing.assert_frame_equal(pd.DataFrame(schools), pd.DataFrame(before[1]))


def test_a_contract_name_already_in_the_file_steps_aside_for_the_mapped_column():
    units, schools = _own_names()
    _, mapped = apply_columns(units, schools, {"school_id": "NAME", "school_name": "NAME",
                                               "capacity": "SEATS"})
    assert mapped["name"].tolist()[:2] == ["Arbutus ES", "Relay ES"]
    assert mapped["name_original"].tolist()[:2] == ["old label a", "old label b"]


def test_schools_where_keeps_only_the_matching_rows_of_a_county_file():
    _, schools = _own_names()
    kept = select_schools(schools, "TYPE == 'ES' and NAME in ['Relay ES', 'Far Away ES']")
    assert kept["NAME"].tolist() == ["Relay ES", "Far Away ES"]
    assert len(select_schools(schools, "")) == 4
    with pytest.raises(ZoneoptInputError, match=r"keeps none of the 4 schools"):
        select_schools(schools, "TYPE == 'es'")
    with pytest.raises(ZoneoptInputError, match=r"TYPO.*did you mean 'TYPE'"):
        select_schools(schools, "TYPO == 'ES'")
    with pytest.raises(ZoneoptInputError, match="does not give true/false"):
        select_schools(schools, "SEATS + 1")


def test_a_mapped_column_missing_from_the_file_is_named_with_its_key():
    units, schools = _own_names()
    with pytest.raises(ZoneoptInputError) as info:
        District.from_frames(units, schools, columns={**MAPPING, "students": "K5LiveAt",
                                                      "capacity": "CAP"})
    text = str(info.value)
    assert "2 problems" in text
    assert "[columns] students = \"K5LiveAt\"" in text and "did you mean 'K5LiveAtt'" in text
    assert "[columns] capacity = \"CAP\"" in text


def test_low_income_may_be_missing_only_when_nothing_is_balanced():
    units, schools = _own_names()
    units = units.drop(columns="FRL")
    mapping = {k: v for k, v in MAPPING.items() if k != "low_income"}
    d = District.from_frames(units, schools, columns=mapping, require_low_income=False)
    assert d.low_income.tolist() == [0] * 9
    with pytest.raises(ZoneoptInputError, match=r"need a 'low_income' column.*\[columns\]"):
        District.from_frames(units, schools, columns=mapping)


def test_every_problem_of_a_file_is_reported_at_once_naming_row_column_and_fix():
    units, schools = _own_names()
    units = units.astype({"K5LiveAtt": object, "FRL": object})
    units.loc[1, "K5LiveAtt"] = "n/a"          # not a number
    units.loc[2, "K5LiveAtt"] = -4             # negative
    units.loc[3, "FRL"] = 500                  # more than the students
    units.loc[4, "PBID"] = "PB00"              # duplicate id
    units.loc[5, "ES1516"] = "Relay Elementary"  # unknown school
    schools = schools.astype({"SEATS": object})
    schools.loc[0, "SEATS"] = ""               # empty capacity
    with pytest.raises(ZoneoptInputError) as info:
        District.from_frames(units, schools, columns=MAPPING,
                             sources={"units": "blocks.geojson", "schools": "county.csv"})
    err = info.value
    found = {(p.file, str(p.row), p.column) for p in err.problems}
    assert found == {
        ("blocks.geojson", "PB01", "students"),
        ("blocks.geojson", "PB02", "students"),
        ("blocks.geojson", "PB03", "low_income"),
        ("blocks.geojson", "PB00", "unit_id"),
        ("county.csv", "Arbutus ES", "capacity"),
    }
    lines = str(err).splitlines()
    assert lines[0] == "5 problems to fix:"
    assert [line.split(".")[0].strip() for line in lines[1:]] == ["1", "2", "3", "4", "5"]
    assert "blocks.geojson, row/id PB01, column 'students': 'n/a' is not a number" in str(err)
    assert "must be 0 or more" in str(err) and "appears 2 times" in str(err)
    assert "county.csv, row/id Arbutus ES, column 'capacity': is empty" in str(err)


def test_unknown_school_names_are_all_listed_with_exact_counts():
    units, schools = _own_names()
    units.loc[[0, 1, 2], "ES1516"] = "Arbutus Elementary"
    units.loc[3, "ES1516"] = "relay es"
    with pytest.raises(ZoneoptInputError) as info:
        District.from_frames(units, schools, columns=MAPPING)
    text = str(info.value)
    assert "current_school 'Arbutus Elementary' is not a school_id" in text
    assert "(3 unit(s) affected)" in text
    assert "'relay es'" in text and "did you mean 'Relay ES'?" in text and "(1 unit(s)" in text


def test_a_long_list_of_problems_is_capped_with_a_count():
    units, schools = _own_names()
    many = pd.concat([units] * 6, ignore_index=True)
    many["PBID"] = [f"B{k}" for k in range(len(many))]
    many["K5LiveAtt"] = "x"
    with pytest.raises(ZoneoptInputError) as info:
        District.from_frames(many, schools, columns=MAPPING)
    lines = str(info.value).splitlines()
    assert lines[0] == f"units: {len(many)} problems to fix:"
    assert len(lines) == 1 + MAX_LISTED + 1
    assert lines[-1].strip() == f"... and {len(many) - MAX_LISTED} more problem(s) of the same kinds"


def test_sample_files_run_through_optimize_with_only_a_columns_section(tmp_path, capsys):
    scenario = load_scenario(SAMPLE / "scenario.toml")
    assert scenario.columns == Columns(
        unit_id="PBID", students="K5LiveAtt", current_school="ES1516", school_id="NAME",
        capacity="SEATS", schools_where="TYPE == 'ES' and DISTRICT == 'Eastern'")
    district = district_for(SAMPLE / "planning_blocks.geojson", SAMPLE / "county_schools.csv",
                            scenario)
    assert district.n_schools == 27 and district.low_income.sum() == 0
    out = tmp_path / "out"
    assert main(["optimize", "--units", str(SAMPLE / "planning_blocks.geojson"),
                 "--schools", str(SAMPLE / "county_schools.csv"),
                 "--scenario", str(SAMPLE / "scenario.toml"), "--out", str(out),
                 "--time-limit", "10", "--no-maps"]) == 0
    said = capsys.readouterr().out
    assert "dissimilarity" not in said and "share of students who change school" in said
    table = pd.read_csv(out / "schools.csv")
    assert (table["enrollment_after"] <= table["capacity"]).all()
    assert set(pd.read_csv(out / "assignment.csv")["unit_id"]) == set(district.unit_ids)
    assert np.isclose(table["enrollment_after"].sum(), district.students.sum())


def test_an_empty_column_name_in_the_scenario_is_bad_input():
    from zoneopt.scenario import Scenario

    with pytest.raises(ZoneoptInputError, match="columns.students cannot be empty"):
        Scenario.from_dict({"columns": {"students": " "}})


def test_without_schools_where_every_school_outside_the_district_is_listed():
    units, schools = _own_names()
    far = schools.iloc[[3]].assign(NAME="Farther ES")
    far = far.set_geometry(gpd.points_from_xy([-50_000], [0], crs=schools.crs))
    county = pd.concat([schools, far], ignore_index=True)
    with pytest.raises(ZoneoptInputError) as info:
        District.from_frames(units, county, columns={**MAPPING, "schools_where": ""})
    outside = [p.row for p in info.value.problems]
    assert outside == ["Far Away ES", "Farther ES"]
    assert "outside the district's area" in str(info.value)
