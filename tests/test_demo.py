"""The demo district: derived as documented, and the shipped CLI inputs match the derivation."""

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

import zoneopt
from zoneopt import demo
from zoneopt.check import check_plan
from zoneopt.demo import county_district, demo_district, demo_frames

DATA = Path(__file__).parents[1] / "data" / "sacramento"


def test_demo_is_a_connected_subarea_of_sacramento_county_with_schools_in_distinct_tracts():
    d = demo_district()
    assert d.n_units == demo.SUBAREA_TRACTS
    assert all(u.startswith("06067") for u in d.unit_ids)
    assert len(set(d.home_unit)) == d.n_schools
    assert d.islands.sum() == 0  # one connected piece of the county
    assert (d.low_income <= d.students).all()
    # elementary-sized: one school per about 550 to 900 students, seats within the documented range
    assert 300 * d.n_schools <= d.students.sum() <= 900 * d.n_schools
    assert d.capacity.min() >= demo.MIN_SEATS and d.capacity.max() <= demo.MAX_SEATS


def test_demo_is_deterministic_and_some_schools_are_overcrowded_today():
    a_units, a_schools = demo_frames()
    b_units, b_schools = demo_frames()
    pd.testing.assert_frame_equal(pd.DataFrame(a_schools), pd.DataFrame(b_schools))
    d = demo_district()
    enrollment = np.bincount(d.status_quo, weights=d.students, minlength=d.n_schools)
    util = enrollment / d.capacity
    assert (util > 1.1).any() and (util < 0.8).any()


def test_demo_plan_serves_300_to_900_students_per_school_above_the_minimum_utilization():
    scenario = demo.demo_scenario()
    assert scenario.constraints.min_utilization > 0
    # 303 students at the smallest school's seats: the minimum utilization alone keeps 300.
    assert scenario.constraints.min_utilization * demo.MIN_SEATS >= 300
    district = demo_district()
    plan = zoneopt.optimize(district, scenario, time_limit=20.0)
    assert plan.ok
    check_plan(district, scenario, plan.assignment, summary=plan.summary).raise_if_failed()
    table = plan.schools_table
    assert table["enrollment_after"].between(300, 900).all(), table["enrollment_after"].tolist()
    assert (table["utilization_after"] >= scenario.constraints.min_utilization - 1e-9).all()
    assert (table["utilization_after"] <= 1 + 1e-9).all()


def test_county_scale_example_keeps_the_whole_county_with_24_schools():
    d = county_district()
    assert d.n_units == 279 and d.n_schools == 24
    assert d.islands.sum() == 0


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
