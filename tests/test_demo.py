"""The demo district: derived as documented, and the shipped CLI inputs match the derivation."""

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from zoneopt.demo import demo_district, demo_frames

DATA = Path(__file__).parents[1] / "data" / "sacramento"


def test_demo_is_sacramento_county_with_24_schools_in_distinct_tracts():
    d = demo_district()
    assert d.n_units == 279 and d.n_schools == 24
    assert all(u.startswith("06067") for u in d.unit_ids)
    assert len(set(d.home_unit)) == 24
    assert d.islands.sum() == 0
    assert (d.low_income <= d.students).all()


def test_demo_is_deterministic_and_some_schools_are_overcrowded_today():
    a_units, a_schools = demo_frames()
    b_units, b_schools = demo_frames()
    pd.testing.assert_frame_equal(pd.DataFrame(a_schools), pd.DataFrame(b_schools))
    d = demo_district()
    enrollment = np.bincount(d.status_quo, weights=d.students, minlength=24)
    util = enrollment / d.capacity
    assert (util > 1.1).any() and (util < 0.8).any()


def test_shipped_cli_inputs_equal_the_derivation():
    units, schools = demo_frames()
    shipped = gpd.read_file(DATA / "units.gpkg")
    assert list(shipped["unit_id"]) == list(units["unit_id"])
    assert (shipped["students"].to_numpy() == units["students"].to_numpy()).all()
    assert (shipped["low_income"].to_numpy() == units["low_income"].to_numpy()).all()
    table = pd.read_csv(DATA / "schools.csv", dtype={"school_id": str})
    assert list(table["school_id"]) == list(schools["school_id"])
    assert (table["capacity"].to_numpy() == schools["capacity"].to_numpy()).all()
    assert np.allclose(table["lon"], schools.geometry.x, atol=1e-6)


def test_loading_the_demo_changes_no_gdal_setting_of_the_process():
    import os

    before = {k: v for k, v in os.environ.items() if k.startswith(("SHAPE_", "OGR_", "GDAL_"))}
    demo_frames()
    after = {k: v for k, v in os.environ.items() if k.startswith(("SHAPE_", "OGR_", "GDAL_"))}
    # SHAPE_RESTORE_SHX=YES once leaked from here and made GDAL rewrite zipped shapefiles read later
    assert after == before
