"""TIGER/Line readers (zip, unzipped, 2020 suffixes, CB names, blocks) and boundary clipping."""

from __future__ import annotations

import zipfile

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from zoneopt.census import clip_to_boundary, read_block_groups
from zoneopt.errors import ZoneoptInputError


def _unzip(path, folder):
    with zipfile.ZipFile(path) as z:
        z.extractall(folder)
    return next(folder.glob("*.shp"))


def test_reads_2020_fields_straight_from_the_zip(samples):
    bg = read_block_groups(samples["bg_zip"])
    assert list(bg.columns) == ["GEOID", "geometry", "ALAND", "AWATER", "POP"]
    assert len(bg) == 12
    assert bg["GEOID"].iloc[0] == "060670001011"  # text, leading zero kept
    assert bg.crs.to_epsg() == 4269
    row = bg.set_index("GEOID").loc["060670001015"]
    assert row["AWATER"] == 40000  # AWATER20
    assert row["ALAND"] > 700000  # ALAND20, square metres


def test_unzipped_shapefile_reads_the_same(samples, tmp_path):
    from_zip = read_block_groups(samples["bg_zip"])
    from_shp = read_block_groups(_unzip(samples["bg_zip"], tmp_path))
    pd.testing.assert_frame_equal(
        pd.DataFrame(from_zip.drop(columns="geometry")),
        pd.DataFrame(from_shp.drop(columns="geometry")),
    )
    assert from_zip.geometry.geom_equals(from_shp.geometry).all()


def _frame(samples):
    raw = gpd.read_file(samples["bg_zip"])
    assert raw["GEOID20"].iloc[0] == "060670001011"
    return raw


def test_cartographic_boundary_names_and_gpkg(samples, tmp_path):
    raw = _frame(samples)
    cb = raw.rename(columns=lambda c: c.removesuffix("20"))[["GEOID", "ALAND", "AWATER", "geometry"]]
    cb["AFFGEOID"] = "1500000US" + cb["GEOID"]
    path = tmp_path / "cb_2022_06_bg_500k.gpkg"
    cb.to_file(path)
    bg = read_block_groups(path)
    assert bg["GEOID"].tolist() == raw["GEOID20"].tolist()
    assert bg["ALAND"].tolist() == raw["ALAND20"].astype(float).tolist()


def test_fully_qualified_geoid_when_there_is_no_plain_one(samples, tmp_path):
    raw = _frame(samples)
    fq = raw[["geometry"]].copy()
    fq["GEOIDFQ"] = "1500000US" + raw["GEOID20"]
    path = tmp_path / "fq.gpkg"
    fq.to_file(path)
    assert read_block_groups(path)["GEOID"].iloc[0] == "060670001011"


def test_numeric_geoid_is_rebuilt_from_the_code_fields(samples):
    raw = _frame(samples)
    broken = raw.copy()
    broken["GEOID20"] = broken["GEOID20"].astype(np.int64)  # 60670001011: zero lost
    broken["STATEFP20"] = broken["STATEFP20"].astype(int)
    before = broken.copy()
    bg = read_block_groups(broken)
    assert bg["GEOID"].tolist() == raw["GEOID20"].tolist()
    pd.testing.assert_frame_equal(broken, before)  # the caller's frame is untouched


def test_numeric_geoid_without_code_fields_is_refused(samples):
    raw = _frame(samples)[["GEOID20", "geometry"]].copy()
    raw["GEOID20"] = raw["GEOID20"].astype(np.int64)
    with pytest.raises(ZoneoptInputError, match="leading"):
        read_block_groups(raw)


def test_tracts_and_blocks_work_and_mixed_lengths_do_not(samples):
    raw = _frame(samples)
    tracts = raw.dissolve(by="TRACTCE20", as_index=False)[["TRACTCE20", "geometry"]]
    tracts["GEOID"] = "06067" + tracts["TRACTCE20"]
    tracts = tracts.set_crs(raw.crs, allow_override=True)
    assert read_block_groups(tracts)["GEOID"].str.len().eq(11).all()
    blocks = raw[["geometry"]].copy()
    blocks["GEOID20"] = raw["GEOID20"] + "000"
    blocks["POP20"] = 7
    bl = read_block_groups(blocks)
    assert bl["GEOID"].str.len().eq(15).all() and (bl["POP"] == 7).all()
    mixed = raw[["GEOID20", "geometry"]].copy()
    mixed.loc[0, "GEOID20"] = "06067000101"
    with pytest.raises(ZoneoptInputError, match="block groups"):
        read_block_groups(mixed)


def test_missing_crs_and_duplicates_are_input_errors(samples):
    raw = _frame(samples)
    with pytest.raises(ZoneoptInputError, match="coordinate reference system"):
        read_block_groups(raw.set_crs(None, allow_override=True))
    dup = pd.concat([raw, raw.iloc[[0]]], ignore_index=True)
    with pytest.raises(ZoneoptInputError, match="appears twice"):
        read_block_groups(gpd.GeoDataFrame(dup, crs=raw.crs))


def test_clipping_keeps_the_inside_share_and_drops_units_outside(samples):
    bg = read_block_groups(samples["bg_zip"])
    clipped = clip_to_boundary(bg, samples["boundary"]).set_index("GEOID")
    # The boundary takes whole columns 0-2, half of column 3 in rows 0-1, none of the top right.
    assert "060670001026" not in clipped.index
    assert len(clipped) == 11
    assert clipped.loc["060670001022", "inside_fraction"] == pytest.approx(0.5, abs=1e-4)
    assert clipped.loc["060670001024", "inside_fraction"] == pytest.approx(0.5, abs=1e-4)
    assert clipped.loc["060670001011", "inside_fraction"] == 1.0
    whole = bg.set_index("GEOID").geometry
    assert clipped.geometry["060670001011"].equals(whole["060670001011"])
    half = clipped.geometry["060670001022"]
    assert half.area == pytest.approx(whole["060670001022"].area / 2, rel=1e-6)
    assert clipped.crs == bg.crs
    assert "inside_fraction" not in bg.columns  # input untouched


def test_water_layer_makes_the_share_one_of_land(samples):
    bg = read_block_groups(samples["bg_zip"])
    cell = bg.set_index("GEOID").geometry["060670001022"]
    x0, y0, x1, y1 = cell.bounds
    mid = (x0 + x1) / 2
    # A lake over the west half of the cell: the inside (west) half then holds no land at all...
    lake = gpd.GeoDataFrame(geometry=[shapely.box(x0, y0, mid, y1)], crs=bg.crs)
    west = gpd.GeoDataFrame(geometry=[shapely.box(x0 - 1, y0 - 1, mid, y1 + 1)], crs=bg.crs)
    out = clip_to_boundary(bg, west, water=lake).set_index("GEOID")
    assert "060670001022" not in out.index
    # ...and over the east half, all the cell's land is inside.
    lake_east = gpd.GeoDataFrame(geometry=[shapely.box(mid, y0, x1, y1)], crs=bg.crs)
    out = clip_to_boundary(bg, west, water=lake_east).set_index("GEOID")
    assert out.loc["060670001022", "inside_fraction"] == 1.0


def test_boundary_slivers_are_neither_units_nor_cuts(samples):
    bg = read_block_groups(samples["bg_zip"])
    minx, miny, maxx, maxy = bg.total_bounds
    # A boundary 0.1 % of a cell narrower than the grid on the east and 0.1 % wider on the west.
    eps = 0.01 * 0.001
    b = gpd.GeoSeries([shapely.box(minx - eps, miny, maxx - eps, maxy)], crs=bg.crs)
    out = clip_to_boundary(bg, b)
    assert len(out) == 12 and (out["inside_fraction"] == 1.0).all()
    b = gpd.GeoSeries([shapely.box(minx + 0.01 - eps, miny, maxx, maxy)], crs=bg.crs)
    out = clip_to_boundary(bg, b)
    assert len(out) == 9  # the west column is gone, not kept as slivers


def test_boundary_in_another_crs_and_one_that_misses(samples):
    bg = read_block_groups(samples["bg_zip"])
    b = gpd.read_file(samples["boundary"]).to_crs(32610)
    out = clip_to_boundary(bg, b)
    assert len(out) == 11
    far = gpd.GeoSeries([shapely.box(0, 0, 1, 1)], crs=4326)
    with pytest.raises(ZoneoptInputError, match="no unit overlaps"):
        clip_to_boundary(bg, far)
