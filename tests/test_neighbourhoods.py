"""Neighbourhood membership (majority of area) and split neighbourhoods, counted by hand."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from districts import CRS, grid_frames
from feeder_districts import District, scenario, write_hoods
from shapely.geometry import box

from zoneopt import Plan
from zoneopt.errors import ZoneoptInputError
from zoneopt.neighbourhoods import census_neighbourhoods, load_neighbourhoods, split_neighbourhoods


def test_split_neighbourhoods_counted_by_hand():
    member = np.array([0, 0, 1, 1, 1, -1, 2, 2])
    assign = np.array([0, 1, 2, 2, 2, 0, 1, 1])
    assert split_neighbourhoods(assign, member) == [0]
    assign[4] = 0
    assert split_neighbourhoods(assign, member) == [0, 1]


def test_membership_takes_the_neighbourhood_with_most_of_the_area(tmp_path):
    units, schools = grid_frames(1, 3, [0, 2])
    x0, y0 = units.geometry[0].bounds[:2]
    hoods = gpd.GeoDataFrame(
        {"name": ["West", "West", "Middle"]},
        geometry=[box(x0, y0, x0 + 1000, y0 + 1000),          # all of unit 0
                  box(x0 + 1000, y0, x0 + 1400, y0 + 1000),   # 40 % of unit 1: not a majority
                  box(x0 + 2000, y0, x0 + 2400, y0 + 1000)],  # 40 % of unit 2
        crs=CRS,
    )
    path = tmp_path / "h.gpkg"
    hoods.to_file(path)
    district = District.from_frames(units, schools)
    h = load_neighbourhoods(district, scenario(tmp_path, hoods=path))
    assert h.names == ["West"] and list(h.member) == [0, -1, -1]


def test_plan_reports_split_neighbourhoods_before_and_after(tmp_path):
    units, schools = grid_frames(2, 4, [0, 3, 5], seed=1, capacity_slack=2.0)
    district = District.from_frames(units, schools)
    path = write_hoods({"Oak Park": [1, 2], "Riverside": [6, 7], "Lone": [4]}, units,
                       tmp_path / "h.geojson")
    s = scenario(tmp_path, hoods=path)
    sq = district.status_quo
    plan = Plan.from_assignment(district, s, np.array([0, 0, 1, 1, 2, 2, 2, 1]))
    plan.check().raise_if_failed()
    expect_before = int(sq[1] != sq[2]) + int(sq[6] != sq[7])
    assert plan.summary["split_neighbourhoods_before"] == expect_before
    assert plan.summary["split_neighbourhoods_after"] == 2  # Oak Park (S0, S1), Riverside (S2, S1)
    assert plan.summary["split_neighbourhood_names"] == ["Oak Park", "Riverside"]


def test_neighbourhoods_without_names_are_bad_input(tmp_path):
    units, schools = grid_frames(1, 3, [0, 2])
    gpd.GeoDataFrame({"label": ["a"]}, geometry=[units.geometry[0]], crs=CRS).to_file(
        tmp_path / "h.gpkg")
    district = District.from_frames(units, schools)
    with pytest.raises(ZoneoptInputError) as err:
        load_neighbourhoods(district, scenario(tmp_path, hoods=tmp_path / "h.gpkg"))
    assert err.value.column == "name"


def test_census_places_become_neighbourhoods(tmp_path):
    units, _ = grid_frames(1, 3, [0, 2])
    tiger = gpd.GeoDataFrame(
        {"GEOID": ["0664000", "0699999"], "NAME": ["Sacramento", "Far"],
         "NAMELSAD": ["Sacramento city", "Far CDP"]},
        geometry=[units.geometry[0].buffer(10), box(0, 0, 10, 10)], crs=CRS,
    )
    tiger.to_file(tmp_path / "tl_2020_06_place.shp")
    out = census_neighbourhoods(tmp_path / "tl_2020_06_place.shp", clip_to=units)
    assert list(out["name"]) == ["Sacramento city"] and list(out["geoid"]) == ["0664000"]
