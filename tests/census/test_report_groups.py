"""Monitored race and ethnicity groups from ACS B03002 (report_ columns), on the samples."""

from __future__ import annotations

import doctest
import warnings
from pathlib import Path

import pytest

import zoneopt.census.groups as groups_mod
from zoneopt.census import CensusWarning, build_units
from zoneopt.census.groups import race_report_columns
from zoneopt.cli import main
from zoneopt.errors import ZoneoptInputError
from zoneopt.io import read_units

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"


@pytest.fixture(scope="module")
def units():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return build_units(
            SAMPLES / "tl_2020_06_bg_sample.zip",
            [SAMPLES / "ACSDT5Y2022.C17002-Data_sample.csv",
             SAMPLES / "acs2022_B01001_api_sample.json"],
            boundary=SAMPLES / "district_boundary_sample.geojson", students_total=1200)


def test_students_are_spread_over_the_groups_by_hand(units):
    out = race_report_columns(units, [SAMPLES / "ACSDT5Y2022.B03002-Data_sample.csv"])
    row = out.set_index("unit_id").loc["060670001011"]
    # 142 students over residents 500 Hispanic, 900 white, 120 Black, 240 Asian, 90 other of 1850:
    # quotas 38.38, 69.08, 9.21, 18.42, 6.91; floors 140, the two left go to other and Asian.
    assert [row[f"report_{g}"] for g in ("hispanic", "white", "black", "asian", "other")] == [
        38, 69, 9, 19, 7]
    cols = [f"report_{g}" for g in groups_mod.B03002_GROUPS]
    known = ~out["flag_report_missing"] & (out["students"] > 0)
    assert (out.loc[known, cols].sum(axis=1) == out.loc[known, "students"]).all()
    again = race_report_columns(units, [SAMPLES / "acs2022_B03002_api_sample.json"])
    assert again[cols].fillna(-1).equals(out[cols].fillna(-1))


def test_missing_table_is_named(units):
    with pytest.raises(ZoneoptInputError, match="B03002"):
        race_report_columns(units, [SAMPLES / "ACSDT5Y2022.B25003-Data_sample.csv"])


def test_units_command_writes_report_columns(tmp_path, capsys):
    out = tmp_path / "u.gpkg"
    args = ["units", "--block-groups", str(SAMPLES / "tl_2020_06_bg_sample.zip"),
            "--acs", str(SAMPLES / "ACSDT5Y2022.C17002-Data_sample.csv"),
            "--acs", str(SAMPLES / "acs2022_B01001_api_sample.json"),
            "--acs", str(SAMPLES / "acs2022_B03002_api_sample.json"),
            "--students-total", "1200", "--report-race", "--out", str(out)]
    with pytest.warns(CensusWarning, match="imputed"):
        assert main(args) == 0
    assert "monitored, never used" in capsys.readouterr().out
    assert "report_hispanic" in read_units(out).columns


def test_docstring_examples():
    result = doctest.testmod(groups_mod)
    assert result.attempted > 0 and result.failed == 0
