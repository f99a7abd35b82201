"""The cohort-survival projector against hand-computed values, and its input errors."""

import pandas as pd
import pytest

from zoneopt.census.project import Method, project
from zoneopt.cli import main
from zoneopt.errors import ZoneoptInputError

# One unit, grades K-2: K 100, 110, 120; grade 1 120, 90, 100; grade 2 110, 120, 90 (2023-2025).
HISTORY = pd.DataFrame({
    "unit_id": ["A"] * 9,
    "year": [2023] * 3 + [2024] * 3 + [2025] * 3,
    "grade": [0, 1, 2] * 3,
    "students": [100, 120, 110, 110, 90, 120, 120, 100, 90],
    "low_income": [20, 24, 22, 22, 18, 24, 24, 20, 22],
})
EXACT = Method(shrink=0, top_grade=2)


def _grades(out, year, series, col="students"):
    part = out[(out["year"] == year) & (out["series"] == series)].sort_values("grade")
    return part[col].tolist()


def test_grade_progression_and_kindergarten_ratios_by_hand():
    out = project(HISTORY, years=2, method=EXACT)
    # grade 1: (90 + 100) / (100 + 110); grade 2: (120 + 90) / (120 + 90); K: (110 + 120) / (100 + 110)
    assert _grades(out, 2025, "mid") == [120, 100, 90]
    assert _grades(out, 2026, "mid") == [round(120 * 230 / 210), round(120 * 190 / 210), 100]
    k26 = 120 * 230 / 210
    assert _grades(out, 2027, "mid") == [round(k26 * 230 / 210), round(k26 * 190 / 210),
                                         round(120 * 190 / 210)]


def test_low_and_high_series_use_the_lowest_and_highest_yearly_ratio():
    out = project(HISTORY, years=1, method=EXACT)
    # yearly K ratios 110/100 and 120/110; grade 1 ratios 90/100 and 100/110
    assert _grades(out, 2026, "low") == [round(120 * 120 / 110), round(120 * 0.9), 100]
    assert _grades(out, 2026, "high") == [round(120 * 1.1), round(120 * 100 / 110), 100]


def test_low_income_keeps_the_unit_share_of_the_last_year():
    out = project(HISTORY, years=1, method=EXACT)
    share = 66 / 310
    assert _grades(out, 2026, "mid", "low_income") == [
        round(s * share) for s in _grades(out, 2026, "mid")]


def test_births_drive_kindergarten_five_years_later():
    births = pd.DataFrame({"unit_id": ["A"] * 4, "year": [2018, 2019, 2020, 2021],
                           "births": [100, 100, 110, 120]})
    out = project(HISTORY, years=2, births=births, method=EXACT)
    ratio = (100 + 110 + 120) / (100 + 100 + 110)
    assert _grades(out, 2026, "mid")[0] == round(120 * ratio)
    # births of 2022 are not known: the mean of the last three known years
    assert _grades(out, 2027, "mid")[0] == round(110 * ratio)


def test_new_housing_adds_its_yield_spread_over_the_grades_and_ages_with_the_cohort():
    housing = pd.DataFrame({"unit_id": ["A"], "year": [2026], "housing_units": [30]})
    out = project(HISTORY, years=2, housing=housing, method=EXACT)
    plain = project(HISTORY, years=2, method=EXACT)
    extra = 30 * 0.3 / 3
    assert _grades(out, 2026, "mid") == [round(120 * 230 / 210 + extra),
                                         round(120 * 190 / 210 + extra), round(100 + extra)]
    assert _grades(out, 2026, "low")[2] == round(100 + 0.5 * extra)
    assert _grades(out, 2027, "mid")[1] == round((120 * 230 / 210 + extra) * 190 / 210)
    assert _grades(out, 2027, "mid")[1] > _grades(plain, 2027, "mid")[1]


def test_a_small_unit_leans_on_the_district_ratio():
    small = HISTORY.assign(unit_id="B", students=HISTORY["students"] // 10,
                           low_income=HISTORY["low_income"] // 10)
    small.loc[small["grade"] == 1, "students"] = [12, 18, 20]  # grows fast, few students
    both = pd.concat([HISTORY, small], ignore_index=True)
    out = project(both, years=1, method=Method(shrink=50, top_grade=2))
    num_b, den_b = 18 + 20, 10 + 11
    num_all, den_all = 90 + 100 + num_b, 100 + 110 + den_b
    r_b = (num_b + 50 * num_all / den_all) / (den_b + 50)
    b26 = out[(out["unit_id"] == "B") & (out["year"] == 2026) & (out["series"] == "mid")]
    assert b26.sort_values("grade")["students"].iloc[1] == round(12 * r_b)
    assert 1 < r_b < num_b / den_b


@pytest.mark.parametrize("edit, column, text", [
    (lambda t: t.drop(columns="grade"), "grade", "need columns"),
    (lambda t: t[t["year"] != 2024], "year", "gap"),
    (lambda t: t[t["year"] == 2024], "year", "at least two"),
    (lambda t: t.assign(students=t["students"].where(t.index != 4, -1)), "students", "-1"),
    (lambda t: t.assign(low_income=t["students"] + 1), "low_income", "more than students"),
])
def test_bad_history_is_named_by_column(edit, column, text):
    with pytest.raises(ZoneoptInputError) as err:
        project(edit(HISTORY.copy()), years=1, method=EXACT)
    assert err.value.column == column and text in str(err.value)


def test_the_project_command_writes_the_projections_csv(tmp_path, capsys):
    HISTORY.to_csv(tmp_path / "history.csv", index=False)
    code = main(["project", "--history", str(tmp_path / "history.csv"), "--years", "3",
                 "--top-grade", "2", "--shrink", "0", "--out", str(tmp_path / "p.csv")])
    assert code == 0
    out = pd.read_csv(tmp_path / "p.csv")
    assert list(out.columns) == ["unit_id", "year", "series", "grade", "students", "low_income"]
    assert sorted(out["year"].unique()) == [2025, 2026, 2027, 2028]
    assert "wrote" in capsys.readouterr().out
    assert main(["project", "--history", str(tmp_path / "nope.csv"), "--out",
                 str(tmp_path / "q.csv")]) == 2
