"""Small-count suppression: counts below N read "<N", shares that would reveal them are hidden."""

from __future__ import annotations

import pandas as pd

from zoneopt.desk import suppress


def test_counts_below_the_threshold_read_less_than_n_and_others_are_exact():
    assert suppress.count_text(9, 10) == "<10"
    assert suppress.count_text(0, 10) == "<10"
    assert suppress.count_text(10, 10) == "10"
    assert suppress.count_text(12345, 10) == "12,345"
    assert suppress.count_text(3, 0) == "3"
    assert suppress.count_text(None, 10) == "–"


def test_a_share_is_hidden_when_its_part_its_whole_or_the_rest_is_small():
    assert suppress.share_hidden(4, 500, 10)
    assert suppress.share_hidden(495, 500, 10)  # 5 students are not low-income
    assert suppress.share_hidden(3, 6, 10)
    assert not suppress.share_hidden(100, 500, 10)
    assert not suppress.share_hidden(4, 500, 0)


def test_schools_table_is_masked_without_touching_the_input():
    table = pd.DataFrame({
        "school_id": ["A", "B"], "capacity": [100, 600],
        "enrollment_before": [8, 500], "enrollment_after": [300, 208],
        "low_income_before": [2, 100], "low_income_after": [150, 204],
        "low_income_share_before": [0.25, 0.2], "low_income_share_after": [0.5, 204 / 208],
        "utilization_before": [0.08, 0.83], "utilization_after": [3.0, 0.35],
        "mean_distance_km_before": [0.5, 1.0], "mean_distance_km_after": [1.5, 1.1],
        "students_gained": [292, 0], "students_lost": [0, 292],
    })
    before = table.copy()
    out = suppress.mask_schools_table(table, 10)
    pd.testing.assert_frame_equal(table, before)
    a, b = out.iloc[0], out.iloc[1]
    assert a["enrollment_before"] == "<10" and a["low_income_before"] == "<10"
    assert a["low_income_share_before"] == suppress.HIDDEN
    assert a["utilization_before"] == suppress.HIDDEN
    assert a["mean_distance_km_before"] == suppress.HIDDEN
    assert a["enrollment_after"] == 300 and a["low_income_share_after"] == 0.5
    assert b["low_income_share_after"] == suppress.HIDDEN  # 4 students not low-income
    assert b["students_gained"] == "<10" and b["students_lost"] == 292
    assert b["capacity"] == 600  # seats are not students


def test_unit_display_marks_small_units_and_their_shares():
    shown, hidden = suppress.unit_display([5, 50, 50], [1, 25, 48], 10)
    assert shown == ["<10", 50, 50]
    assert hidden == [True, False, True]


def test_a_single_small_count_in_a_column_withholds_the_next_smallest_too():
    table = pd.DataFrame({
        "school_id": list("ABCD"), "enrollment_after": [7, 400, 300, 500],
        "low_income_after": [3, 200, 120, 250],
        "low_income_share_after": [3 / 7, 0.5, 0.4, 0.5],
        "utilization_after": [0.01, 0.8, 0.6, 1.0],
        "students_gained": [4, 0, 50, 60], "students_lost": [20, 30, 40, 50],
    })
    out = suppress.mask_schools_table(table, 10)
    # C's 300 would be the district total minus A's 7 and the others: withheld, and what it gives
    assert out["enrollment_after"].tolist() == ["<10", 400, suppress.SECONDARY, 500]
    assert out["utilization_after"].tolist()[2] == suppress.HIDDEN
    assert out["low_income_share_after"].tolist() == [suppress.HIDDEN, 0.5, suppress.HIDDEN, 0.5]
    # two small cells in a column already hide each other; a column with none is left alone
    assert out["students_gained"].tolist() == ["<10", "<10", 50, 60]
    assert out["students_lost"].tolist() == [20, 30, 40, 50]
    assert suppress.mask_schools_table(table, 10, complementary=False)[
        "enrollment_after"].tolist() == ["<10", 400, 300, 500]
