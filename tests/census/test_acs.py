"""ACS readers (data.census.gov CSV, Census API JSON) and the Census Bureau's MOE arithmetic.

Expected figures are computed by hand from the numbers written in data/samples/make_samples.py.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from zoneopt.census import acs
from zoneopt.errors import ZoneoptInputError

BG1 = "060670001011"  # C17002 _002.._006 = 45, 60, 38, 52, 41 (MOE 28, 35, 24, 31, 27); _001 1210 (164)


def test_data_census_gov_csv_skips_the_label_row_and_keeps_leading_zero(samples):
    table = acs.read_acs_table(samples["c17002_csv"])
    assert len(table) == 12
    assert table.index[0] == BG1  # '1500000US060670001011' -> leading zero kept
    assert table.loc[BG1, "C17002_001E"] == 1210
    assert table.loc[BG1, "C17002_001M"] == 164
    assert table.loc[BG1, "C17002_006E"] == 41
    assert not any(str(c).startswith("Unnamed") for c in table.columns)


def test_csv_annotations_are_missing_never_zero(samples):
    table = acs.read_acs_table(samples["c17002_csv"])
    # Block group 0001.02-3 is all "-" / "**" in the sample.
    assert table.loc["060670001023"].isna().all()
    # A real zero stays zero.
    assert table.loc["060670001022", "C17002_001E"] == 0


def test_api_json_builds_geoid_from_state_county_tract_block_group(samples):
    table = acs.read_acs_table(samples["b01001_json"])
    assert table.index[0] == BG1
    assert table.loc[BG1, "B01001_004E"] == 62
    # -666666666 estimate and -222222222 margin: missing.
    assert math.isnan(table.loc["060670001012", "B01001_005E"])
    assert math.isnan(table.loc["060670001012", "B01001_005M"])


def test_both_formats_of_the_same_table_read_identically(samples, to_api_json, tmp_path):
    from_csv = acs.read_acs_table(samples["c17002_csv"])
    from_json = acs.read_acs_table(to_api_json(samples["c17002_csv"], tmp_path / "c17002.json"))
    pd.testing.assert_frame_equal(from_csv.sort_index(), from_json.sort_index())


def test_top_coded_median_and_controlled_margin(samples):
    table = acs.read_acs_table(samples["b19013_csv"])
    assert table.loc["060670001015", "B19013_001E"] == 250001  # "250,000+", as the API gives it
    assert math.isnan(table.loc["060670001015", "B19013_001M"])  # "***"
    income = acs.income_measures(table)
    assert income.loc["060670001015", "median_household_income_note"] == "top-coded"
    assert income.loc["060670001022", "median_household_income_note"] == "missing"


@pytest.mark.parametrize(
    ("cell", "margin", "expected"),
    [
        ("1,234", False, 1234.0),
        ("-666666666", False, math.nan),
        ("-999999999", True, math.nan),
        ("-555555555", True, 0.0),
        ("*****", True, 0.0),
        ("*****", False, math.nan),
        ("-", False, math.nan),
        ("N", False, math.nan),
        ("(X)", True, math.nan),
        ("null", False, math.nan),
        ("", False, math.nan),
        (None, False, math.nan),
        ("+/-35", True, 35.0),
        ("2,500-", False, 2499.0),
        ("250,000+", False, 250001.0),
        ("0", False, 0.0),
    ],
)
def test_parse_acs_value(cell, margin, expected):
    got = acs.parse_acs_value(cell, margin=margin)
    assert (math.isnan(got) and math.isnan(expected)) or got == expected


def test_csv_without_label_row_and_with_annotation_columns(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text(
        "\ufeffGEO_ID,NAME,C17002_001E,C17002_001EA,C17002_001M,C17002_001MA\n"
        "1500000US010010201001,x,100,,null,*****\n"
        "1500000US010010201002,y,null,-666666666,null,-222222222\n",
        encoding="utf-8",
    )
    table = acs.read_acs_table(path)
    assert list(table.index) == ["010010201001", "010010201002"]
    assert table.loc["010010201001", "C17002_001M"] == 0.0  # controlled: exact
    assert table.loc["010010201002"].isna().all()
    assert "C17002_001EA" not in table.columns


def test_api_json_with_geo_id_and_codes_that_lost_their_zeros(tmp_path):
    path = tmp_path / "t.json"
    path.write_text(
        json.dumps(
            [
                ["C17002_001E", "state", "county", "tract", "block group"],
                ["50", "6", "67", "101", "1"],
                [None, "06", "067", "000101", "2"],
            ]
        )
    )
    table = acs.read_acs_table(path)
    assert list(table.index) == ["060670001011", "060670001012"]
    assert math.isnan(table.loc["060670001012", "C17002_001E"])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"a": 1}', "array of arrays"),
        ("[[1, 2]", "not valid JSON"),
        ('[["C17002_001E"], ["1"]]', "no geography column"),
        ('[["NAME", "state"], ["x", "06"]]', "no ACS estimate columns"),
        ('[["C17002_001E", "state"], ["1"]]', "has 1 values"),
    ],
)
def test_bad_api_json_is_a_clear_input_error(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(ZoneoptInputError, match=message) as err:
        acs.read_acs_table(path)
    assert err.value.file == str(path)


def test_bad_geo_id_names_the_line(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("GEO_ID,C17002_001E\n1500000US060670001011,5\nsomewhere,6\n")
    with pytest.raises(ZoneoptInputError, match="line 3"):
        acs.read_acs_table(path)


def test_read_acs_joins_tables_and_rejects_contradictions(samples, tmp_path):
    joined = acs.read_acs([samples["c17002_csv"], samples["b01001_json"]])
    assert {"C17002_001E", "B01001_004E"} <= set(joined.columns)
    assert len(joined) == 12
    other = tmp_path / "other.json"
    other.write_text(
        json.dumps(
            [
                ["C17002_001E", "state", "county", "tract", "block group"],
                ["999", "06", "067", "000101", "1"],
            ]
        )
    )
    with pytest.raises(ZoneoptInputError, match="C17002_001E of GEOID 060670001011"):
        acs.read_acs([samples["c17002_csv"], other])


def test_moe_of_a_sum_counts_only_the_largest_zero_estimate_margin():
    # Block group 0001.01-5: 15, 0, 0, 20, 35 with margins 17, 13, 13, 19, 26.
    got = acs.moe_sum(np.array([[15, 0, 0, 20, 35]]), np.array([[17, 13, 13, 19, 26]]))
    assert got[0] == pytest.approx(math.sqrt(17**2 + 13**2 + 19**2 + 26**2))  # 38.665
    assert got[0] != pytest.approx(math.sqrt(17**2 + 2 * 13**2 + 19**2 + 26**2))
    both_zero = acs.moe_sum(np.array([[0, 0]]), np.array([[13, 20]]))
    assert both_zero[0] == pytest.approx(20.0)
    assert math.isnan(acs.moe_sum(np.array([[1, 2]]), np.array([[3, np.nan]]))[0])


def test_moe_of_a_proportion_and_the_ratio_fallback():
    got = acs.moe_proportion(np.array([200.0]), np.array([1000.0]), [50.0], [100.0])
    assert got[0] == pytest.approx(math.sqrt(50**2 - 0.2**2 * 100**2) / 1000)
    # Under the root negative (90 of 100, margins 5 and 50): the ratio formula.
    got = acs.moe_proportion(np.array([90.0]), np.array([100.0]), [5.0], [50.0])
    assert got[0] == pytest.approx(math.sqrt(5**2 + 0.9**2 * 50**2) / 100)
    assert math.isnan(acs.moe_proportion(np.array([0.0]), np.array([0.0]), [1.0], [1.0])[0])


def test_low_income_share_and_margins_match_hand_computation(samples):
    m = acs.low_income_measures(acs.read_acs_table(samples["c17002_csv"]))
    row = m.loc[BG1]
    assert row["low_income_count"] == 45 + 60 + 38 + 52 + 41  # 236
    count_moe = math.sqrt(28**2 + 35**2 + 24**2 + 31**2 + 27**2)  # 65.38
    assert row["low_income_count_moe"] == pytest.approx(count_moe)
    share = 236 / 1210
    assert row["low_income_share"] == pytest.approx(0.195041, abs=1e-6)
    share_moe = math.sqrt(count_moe**2 - share**2 * 164**2) / 1210
    assert row["low_income_share_moe"] == pytest.approx(0.047128, abs=1e-6)
    assert row["low_income_share_moe"] == pytest.approx(share_moe)
    assert row["low_income_share_cv"] == pytest.approx(share_moe / 1.645 / share)
    # Universe 0 (nobody lives there) and suppressed block groups have no share.
    assert math.isnan(m.loc["060670001022", "low_income_share"])
    assert math.isnan(m.loc["060670001023", "low_income_share"])


def test_children_5_to_10_match_hand_computation(samples):
    m = acs.age_measures(acs.read_acs_table(samples["b01001_json"]))
    # 62 + 55 boys and girls 5-9, plus a fifth of 70 + 66 aged 10-14.
    assert m.loc[BG1, "age_5_10"] == pytest.approx(62 + 55 + (70 + 66) / 5)  # 144.2
    expected_moe = math.sqrt(25**2 + 22**2 + (28**2 + 26**2) / 25)  # 34.17
    assert m.loc[BG1, "age_5_10_moe"] == pytest.approx(expected_moe)
    assert m.loc[BG1, "population"] == 1850
    assert math.isnan(m.loc["060670001012", "age_5_10"])  # one band is -666666666


def test_missing_table_names_the_table_to_download(samples):
    table = acs.read_acs_table(samples["b01001_json"])
    with pytest.raises(ZoneoptInputError, match="C17002"):
        acs.low_income_measures(table)


def test_reliability_categories():
    cv = np.array([0.05, 0.2, 0.5, np.nan, np.nan, np.nan])
    est = np.array([10, 10, 10, 0, 0, 5.0])
    moe = np.array([1, 1, 1, 13, 0, np.nan])
    assert acs.reliability(cv, est, moe).tolist() == [
        "high", "medium", "low", "low", "high", "unknown"
    ]
