"""The travel matrix against an independent computation on real OpenStreetMap extracts."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
import shapely
from independent import road_km
from osm_districts import HELSINKI, OAKLAND

from zoneopt import District
from zoneopt.travel import TravelWarning, grid_network, matrix
from zoneopt.travel.network import WALK_KMH


def _as_grid(table: pd.DataFrame, district: District) -> np.ndarray:
    out = np.full((district.n_units, district.n_schools), np.inf)
    ui = pd.Index(district.unit_ids).get_indexer(table["unit_id"])
    sj = pd.Index(district.school_ids).get_indexer(table["school_id"])
    out[ui, sj] = table["distance_km"].to_numpy()
    return out


def _compare(frames, extract, mode):
    units, schools = frames
    district = District.from_frames(units, schools)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TravelWarning)
        table = matrix(units, schools, extract, mode=mode)
    ours = _as_grid(table, district)
    uxy = shapely.get_coordinates(shapely.centroid(district.units.geometry.to_numpy()))
    sxy = shapely.get_coordinates(district.schools.geometry.to_numpy())
    theirs = road_km(extract, mode, uxy, sxy, district.crs)
    return district, table, ours, theirs


@pytest.mark.parametrize("mode", ["walk", "drive"])
def test_helsinki_distances_match_networkx_within_3_percent(helsinki_frames, mode):
    district, table, ours, theirs = _compare(helsinki_frames, HELSINKI, mode)
    # Same pairs reachable (unreachable ones left out of the table), same lengths within 3%.
    assert np.array_equal(np.isfinite(ours), np.isfinite(theirs))
    ok = np.isfinite(ours)
    assert ok.sum() >= 0.8 * ours.size
    rel = np.abs(ours[ok] - theirs[ok]) / theirs[ok]
    assert rel.max() < 0.03, rel.max()
    # Never shorter than the straight line the district uses.
    assert (ours[ok] >= district.dist_km[ok] - 1e-12).all()
    assert np.median(ours[ok] / district.dist_km[ok]) > 1.05  # streets are not straight lines


def test_oakland_xml_distances_match_networkx(oakland_frames):
    district, table, ours, theirs = _compare(oakland_frames, OAKLAND, "walk")
    assert np.array_equal(np.isfinite(ours), np.isfinite(theirs))
    ok = np.isfinite(ours)
    assert np.abs(ours[ok] - theirs[ok]).max() / theirs[ok].min() < 0.03
    assert (ours[ok] >= district.dist_km[ok] - 1e-12).all()
    # Walking minutes are the distance at 4.8 km/h.
    assert np.allclose(table["minutes"], table["distance_km"] / WALK_KMH * 60)


def test_drive_minutes_follow_the_route_at_street_speeds(helsinki_frames):
    units, schools = helsinki_frames
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TravelWarning)
        drive = matrix(units, schools, HELSINKI, mode="drive")
    speed = drive["distance_km"] / (drive["minutes"] / 60)
    # Between walking (the off-network legs) and the fastest street of central Helsinki (50 km/h).
    far = drive["distance_km"] > 0.3
    assert (speed[far] > WALK_KMH).all() and (speed <= 50 + 1e-9).all()


def test_max_km_leaves_out_longer_pairs(helsinki_frames):
    units, schools = helsinki_frames
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TravelWarning)
        full = matrix(units, schools, HELSINKI, mode="walk")
        short = matrix(units, schools, HELSINKI, mode="walk", max_km=0.8)
    assert (short["distance_km"] <= 0.8).all()
    expected = full[full["distance_km"] <= 0.8].reset_index(drop=True)
    pd.testing.assert_frame_equal(short.reset_index(drop=True), expected, check_exact=False)
    assert len(short) < len(full)


def test_unit_far_from_any_street_is_named_in_a_warning():
    net = grid_network(5, 5, spacing_m=100.0)
    import geopandas as gpd
    from shapely.geometry import box

    pts = gpd.GeoSeries(gpd.points_from_xy(net.lonlat[:, 0], net.lonlat[:, 1]), crs=4326)
    utm = pts.estimate_utm_crs()
    (x0, y0), (x1, y1) = (shapely.get_coordinates(pts.to_crs(utm).to_numpy()).min(0),
                          shapely.get_coordinates(pts.to_crs(utm).to_numpy()).max(0))
    units = gpd.GeoDataFrame(
        {"unit_id": ["near", "far"], "students": [10, 10], "low_income": [5, 5]},
        geometry=[box(x0, y0, x1, y1), box(x1, y0, x1 + 3000, y1)], crs=utm)
    school = gpd.GeoDataFrame({"school_id": ["A"], "capacity": [100]},
                              geometry=gpd.points_from_xy([x0 + 200], [y0 + 200]), crs=utm)
    with pytest.warns(TravelWarning, match=r"1 unit\(s\) more than 1 km .*far \(1\.\d\d km\)"):
        table = matrix(units, school, net)
    assert list(table["unit_id"]) == ["near", "far"]
    far = table.set_index("unit_id").loc["far", "distance_km"]
    assert far >= math.hypot(1500 + 0, 0) / 1000  # includes the straight leg to the grid


def test_unreachable_pairs_are_left_out_and_named():
    """Two street grids with no street between them: units on the second reach no school."""
    import geopandas as gpd
    from shapely.geometry import box

    from zoneopt.travel.network import Network

    a = grid_network(3, 3, spacing_m=100.0, origin=(-121.5, 38.5))
    b = grid_network(3, 3, spacing_m=100.0, origin=(-121.49, 38.5))
    net = Network(mode="walk", lonlat=np.vstack([a.lonlat, b.lonlat]),
                  node_ids=np.arange(18), tail=np.concatenate([a.tail, b.tail + 9]),
                  head=np.concatenate([a.head, b.head + 9]),
                  speed_kmh=np.concatenate([a.speed_kmh, b.speed_kmh]))
    pts = gpd.GeoSeries(gpd.points_from_xy(net.lonlat[:, 0], net.lonlat[:, 1]), crs=4326)
    utm = pts.estimate_utm_crs()
    xy = shapely.get_coordinates(pts.to_crs(utm).to_numpy())
    left = box(*(xy[:9].min(0) - 10), *(xy[:9].max(0) + 10))
    right = box(*(xy[9:].min(0) - 10), *(xy[9:].max(0) + 10))
    units = gpd.GeoDataFrame({"unit_id": ["L", "R"], "students": [10, 10], "low_income": [1, 1]},
                             geometry=[left, right], crs=utm)
    school = gpd.GeoDataFrame({"school_id": ["A"], "capacity": [100]},
                              geometry=[shapely.Point(xy[4])], crs=utm)
    with pytest.warns(TravelWarning, match="1 unit.*reach no school.*R"):
        table = matrix(units, school, net)
    assert list(table["unit_id"]) == ["L"]


def test_matrix_leaves_caller_frames_unchanged(oakland_frames):
    units, schools = oakland_frames
    before_u, before_s = units.copy(), schools.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TravelWarning)
        matrix(units, schools, OAKLAND, mode="drive")
    pd.testing.assert_frame_equal(units, before_u)
    pd.testing.assert_frame_equal(schools, before_s)


def test_two_worker_processes_give_the_same_matrix(oakland_frames):
    units, schools = oakland_frames
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TravelWarning)
        one = matrix(units, schools, OAKLAND, mode="drive", workers=1)
        two = matrix(units, schools, OAKLAND, mode="drive", workers=2)
    pd.testing.assert_frame_equal(one, two, check_exact=True)


def test_packed_drive_search_agrees_with_minutes_added_along_the_tree():
    """The one-search driving route (km and minutes packed in one number) against the float search
    with minutes summed along its shortest-path tree."""
    import importlib

    from zoneopt.travel import read_network

    m = importlib.import_module("zoneopt.travel.matrix")  # the module; the package's name is the function

    net = read_network(HELSINKI, "drive")
    g_km, g_min = net.graph(net.project("EPSG:32635"))
    search = g_km.T.tocsr()
    targets = np.arange(0, net.n_nodes, 7)
    m._init_worker(search, g_min, targets)
    try:
        assert m._WORKER["packed"] is not None
        _, km_packed, min_packed = m._search_one((0, 5, np.inf))
        m._WORKER["packed"] = None
        _, km_tree, min_tree = m._search_one((0, 5, np.inf))
    finally:
        m._WORKER.clear()
    ok = np.isfinite(km_tree)
    assert np.array_equal(ok, np.isfinite(km_packed)) and ok.sum() > 100
    assert (km_packed[ok] >= km_tree[ok] - 1e-12).all()  # arcs rounded up to whole millimetres
    assert np.abs(km_packed[ok] - km_tree[ok]).max() < 1e-3  # ... by less than a metre per route
    assert np.abs(min_packed[ok] - min_tree[ok]).max() < 0.05  # minutes within 3 seconds
