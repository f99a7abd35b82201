"""The demo's projection: the cohort arithmetic by hand, and the shipped file equals the derivation."""

import numpy as np
import pandas as pd

from zoneopt.census.demo_projection import (
    age_structure_projection,
    demo_projections,
    demo_under5,
    even_grades,
    projections_path,
)
from zoneopt.demo import demo_frames


def test_even_grades_spread_the_remainder_over_the_lowest_grades():
    assert even_grades(np.array([14, 6, 0]), 6).tolist() == [
        [3, 3, 2, 2, 2, 2], [1, 1, 1, 1, 1, 1], [0, 0, 0, 0, 0, 0]]


def test_cohorts_age_one_grade_a_year_and_under_fives_enter_kindergarten():
    units = pd.DataFrame({"unit_id": ["A"], "students": [12], "low_income": [6]})
    out = age_structure_projection(units, np.array([50.0]), base_year=2026, years=(2027, 2029),
                                   migration={"mid": 0.0, "high": 0.1}, top_grade=2)
    mid = out[out["series"] == "mid"].set_index(["year", "grade"])["students"]
    assert [mid[(2026, g)] for g in range(3)] == [4, 4, 4]
    assert [mid[(2027, g)] for g in range(3)] == [10, 4, 4]   # 50 under-5s: 10 a year
    assert [mid[(2029, g)] for g in range(3)] == [10, 10, 10]
    high = out[out["series"] == "high"].set_index(["year", "grade"])["students"]
    assert [high[(2027, g)] for g in range(3)] == [11, 4, 4]  # 10 x 1.1, 4 x 1.1 = 4.4
    assert [high[(2029, g)] for g in range(3)] == [round(10 * 1.1**3)] * 3
    assert (out["low_income"] * 2 - out["students"]).abs().max() <= 1


def test_the_under_fives_keep_the_county_total_of_five_sixteenths_of_the_under_sixteens():
    units, _ = demo_frames()
    under5 = demo_under5(units)
    assert (under5 >= 0).all()
    # students = POP_16 x 6/16, so POP_16 x 5/16 is about students x 5/6 county-wide
    assert abs(under5.sum() - units["students"].sum() * 5 / 6) < 0.01 * under5.sum()


def test_the_shipped_demo_projections_equal_the_derivation():
    units, _ = demo_frames()
    shipped = pd.read_csv(projections_path(), dtype={"unit_id": str})
    derived = demo_projections(units)
    pd.testing.assert_frame_equal(shipped, derived, check_dtype=False)
