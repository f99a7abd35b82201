"""Projections in, capacity by year, and enrollment per year and series with grandfathering."""

import numpy as np
import pandas as pd
import pytest
from districts import grid_frames
from years_districts import two_by_two_transition, write_projections

from zoneopt import District, Scenario
from zoneopt.cli import main
from zoneopt.errors import ZoneoptInputError
from zoneopt.years import capacity_by_year, enrollment, low_income_enrollment, years_data


@pytest.fixture
def tiny(tmp_path):
    units, schools = grid_frames(1, 3, [0, 2], students=np.array([10, 20, 30]),
                                 low_income=np.array([5, 4, 3]), capacities=[40, 40])
    district = District.from_frames(units, schools)
    path = write_projections(tmp_path / "p.csv", district.unit_ids,
                             [[[10, 20, 30], [11, 22, 33]], [[12, 24, 36], [13, 26, 39]]],
                             [[[5, 4, 3], [5, 4, 3]], [[6, 5, 4], [6, 5, 4]]],
                             (2027, 2028), ("mid", "high"))
    return district, path


def _scenario(path, **years):
    return Scenario.from_dict({"years": {"projections": str(path), "plan": [2027, 2028],
                                         "series": ["mid", "high"], **years}})


def _csv_error(district, path, edit):
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    table = edit(table)
    table.to_csv(path, index=False)
    with pytest.raises(ZoneoptInputError) as err:
        years_data(district, _scenario(path))
    return err.value


def test_enrollment_of_each_year_and_series_follows_the_plan(tiny):
    district, path = tiny
    data = years_data(district, _scenario(path))
    enr = enrollment(data, np.array([0, 0, 1]))
    assert enr.tolist() == [[[30, 30], [33, 33]], [[36, 36], [39, 39]]]
    assert low_income_enrollment(data, np.array([0, 1, 1]))[1, 0].tolist() == [6, 9]


@pytest.mark.parametrize("edit, column, text", [
    (lambda t: t.drop(columns="low_income"), "low_income", "need columns"),
    (lambda t: t.assign(unit_id=t["unit_id"].where(t.index != 3, "NOPE")), "unit_id", "not a unit"),
    (lambda t: t.assign(students=t["students"].where(t.index != 4, "-2")), "students", "-2"),
    (lambda t: t.assign(students=t["students"].where(t.index != 4, "2.5")), "students", "2.5"),
    (lambda t: t.assign(low_income=t["low_income"].where(t.index != 2, "31")), "low_income",
     "more than students"),
    (lambda t: t.assign(year=t["year"].where(t.index != 0, "20x7")), "year", "four-digit year"),
    (lambda t: t[t["year"] != "2028"], "year", "2028"),
    (lambda t: t[~((t["series"] == "high") & (t["unit_id"] == "U0001"))], "series", "U0001"),
    (lambda t: t[t["series"] != "high"], "series", "'high'"),
])
def test_each_bad_projection_names_file_line_and_column(tiny, edit, column, text):
    district, path = tiny
    err = _csv_error(district, path, edit)
    assert err.column == column and str(path) in str(err) and text in str(err)


def test_a_duplicate_row_is_named_by_its_line(tiny):
    district, path = tiny
    err = _csv_error(district, path, lambda t: pd.concat([t, t.iloc[[5]]], ignore_index=True))
    assert "appears twice" in str(err) and err.row == "line 14"


def test_grandfathering_needs_grades(tiny):
    district, path = tiny
    sc = Scenario.from_dict({"years": {"projections": str(path), "plan": [2027]},
                             "transition": {"start_year": 2027, "grandfather_grades": [5]}})
    with pytest.raises(ZoneoptInputError, match="grade column") as err:
        years_data(district, sc)
    assert err.value.column == "grade"


def test_plan_years_before_the_start_year_are_refused(tiny):
    district, path = tiny
    sc = _scenario(path).with_values({"transition.start_year": 2028})
    with pytest.raises(ZoneoptInputError, match="before transition.start_year"):
        years_data(district, sc)


def test_capacity_columns_apply_from_their_year_on_and_empty_means_no_change():
    schools = pd.DataFrame({"school_id": ["A", "B"], "capacity": [100, 200],
                            "capacity_2028": ["150", ""], "capacity_2030": ["", "0"]})
    caps = capacity_by_year(schools, [2027, 2028, 2029, 2030])
    assert caps.tolist() == [[100, 200], [150, 200], [150, 200], [150, 0]]


def test_a_bad_capacity_column_names_school_and_column():
    schools = pd.DataFrame({"school_id": ["A", "B"], "capacity": [100, 200],
                            "capacity_2028": ["150", "many"]})
    with pytest.raises(ZoneoptInputError) as err:
        capacity_by_year(schools, [2028], source="schools.csv")
    assert err.value.row == "B" and err.value.column == "capacity_2028"


def test_grandfathered_cohorts_count_at_today_s_school_until_they_pass_the_top_grade(tmp_path):
    units, schools, path = two_by_two_transition(tmp_path)
    district = District.from_frames(units, schools)
    sc = Scenario.from_dict({"years": {"projections": str(path), "plan": [2027, 2028]},
                             "transition": {"start_year": 2027, "grandfather_grades": [4, 5]}})
    data = years_data(district, sc)
    swap = np.array([0, 1, 0, 1])
    # 2027: U0001's grades 4, 5 (2 x 20) stay at S0; U0002's grades 4, 5 (2 x 10) stay at S1.
    # 2028: only the cohort in grade 5 (grade 4 in 2027) is still grandfathered.
    assert enrollment(data, swap)[:, 0].tolist() == [[120 + 40 + 40, 120 + 80 + 20],
                                                   [120 + 50 + 20, 120 + 100 + 10]]
    assert data.kept[1, 0].tolist() == [20, 20, 10, 20]


def test_the_cli_exits_2_naming_the_projections_file_line_and_column(grid_inputs, tmp_path, capsys):
    units, schools = grid_inputs
    district = District.from_files(units, schools)
    path = write_projections(tmp_path / "p.csv", district.unit_ids,
                             [[district.students]], [[district.low_income]], (2027,), ("mid",))
    table = pd.read_csv(path)
    table.loc[7, "low_income"] = table.loc[7, "students"] + 1
    table.to_csv(path, index=False)
    scenario = tmp_path / "s.toml"
    scenario.write_text(f'[years]\nprojections = "{path.name}"\nplan = [2027]\n')
    code = main(["optimize", "--units", str(units), "--schools", str(schools), "--scenario",
                 str(scenario), "--out", str(tmp_path / "out"), "--time-limit", "3"])
    err = capsys.readouterr().err
    assert code == 2
    assert "p.csv" in err and "line 9" in err and "'low_income'" in err
