"""Addresses: reading with clear errors, normalising, locating, and the registrar's table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely

from zoneopt.desk.addresses import (
    addresses_table,
    normalize_address,
    read_addresses,
    synthetic_addresses,
)
from zoneopt.errors import ZoneoptInputError


@pytest.mark.parametrize("a, b", [
    ("12 North Main Street", "12 n main st"),
    ("12 N. Main St., Apt. 4", "12 n main st apt 4"),
    ("12 N Main St #4", "12 North Main Street Apartment 4"),
    ("400 Martin-Luther King Jr Boulevard", "400 martin luther king jr blvd"),
])
def test_normalisation_ignores_case_punctuation_and_abbreviations(a, b):
    assert normalize_address(a) == normalize_address(b)


def test_different_houses_stay_different():
    assert normalize_address("12 Main St") != normalize_address("12 Main Ave")
    assert normalize_address("12 Main St") != normalize_address("120 Main St")


def test_read_addresses_names_file_line_and_column_of_bad_rows(tmp_path):
    good = tmp_path / "a.csv"
    good.write_text("address,lon,lat\n1 Main St,-121.5,38.5\n", encoding="utf-8")
    assert read_addresses(good)["address"].tolist() == ["1 Main St"]
    bad = tmp_path / "b.csv"
    bad.write_text("address,lon,lat\n1 Main St,-121.5,38.5\n2 Main St,west,38.5\n", encoding="utf-8")
    with pytest.raises(ZoneoptInputError) as err:
        read_addresses(bad)
    text = str(err.value)
    assert "b.csv" in text and "line 3" in text and "lon" in text
    missing = tmp_path / "c.csv"
    missing.write_text("address,x,y\n1 Main St,1,2\n", encoding="utf-8")
    with pytest.raises(ZoneoptInputError, match="no column 'lon'"):
        read_addresses(missing)


def test_registrar_table_gives_each_address_todays_and_the_proposed_school(grid_plan):
    d = grid_plan.district
    addresses = synthetic_addresses(d, 300, seed=2)
    outside = pd.DataFrame({"address": ["1 Faraway Rd"], "lon": [0.0], "lat": [0.0]})
    table = addresses_table(grid_plan, pd.concat([addresses, outside], ignore_index=True))
    assert len(table) == 301 and pd.isna(table["unit_id"].iat[-1])
    # Independent point-in-polygon on the raw units (WGS84, shapely, no zoneopt code).
    units = d.units.to_crs(4326)
    for k in range(0, 300, 7):
        pt = shapely.Point(addresses["lon"].iat[k], addresses["lat"].iat[k])
        hits = np.flatnonzero(units.geometry.contains(pt).to_numpy())
        assert len(hits) == 1
        u = int(hits[0])
        assert table["unit_id"].iat[k] == d.unit_ids[u]
        assert table["school_id_today"].iat[k] == d.school_ids[d.status_quo[u]]
        assert table["school_id_proposed"].iat[k] == grid_plan.assignment.iat[u]
        assert table["changes"].iat[k] == (d.status_quo[u] != grid_plan.positions[u])
