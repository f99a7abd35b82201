import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from districts import CRS, grid_frames
from shapely.geometry import Point, box

from zoneopt import District, ZoneoptInputError
from zoneopt.district import rook_adjacency, zone_adjacency


def test_rook_adjacency_ignores_corner_contact_and_keeps_shared_edges():
    geoms = np.array([box(0, 0, 1, 1), box(1, 0, 2, 1), box(1, 1, 2, 2), box(5, 5, 6, 6)])
    adj = rook_adjacency(geoms).toarray()
    assert adj[0, 1] == 1 and adj[1, 2] == 1
    assert adj[0, 2] == 0  # corner only
    assert adj[3].sum() == 0


def test_rook_adjacency_needs_a_centimetre_of_shared_boundary():
    a = box(0, 0, 1, 1)
    b = box(1, 0.995, 2, 2)  # shares 0.5 cm of edge with a
    c = box(1, 0.98, 2, 0.99)  # shares 1 cm: y from 0.98 to 0.99
    assert rook_adjacency(np.array([a, b])).toarray()[0, 1] == 0
    assert rook_adjacency(np.array([a, c])).toarray()[0, 1] == 1


def test_distances_are_centroid_to_school_in_km(grid_district):
    d = grid_district
    # school S0 sits at the centre of cell 9 (row 1, col 1); cell 10 is 1 km east
    assert d.dist_km[9, 0] == pytest.approx(0.0, abs=1e-6)
    assert d.dist_km[10, 0] == pytest.approx(1.0, abs=1e-3)
    assert d.crs.to_epsg() == 32610


def test_zone_adjacency_joins_zones_that_share_a_unit_boundary(grid_district):
    # quadrants of the 6 x 8 grid: zones touch across edges, not across the centre's corner
    row, col = np.divmod(np.arange(48), 8)
    plan = (row >= 3) * 2 + (col >= 4)
    assert zone_adjacency(grid_district, plan) == [{1, 2}, {0, 3}, {0, 3}, {1, 2}]
    # a unit without a school (-1, as during a repair's regrowth) joins no zone to another
    plan[[3, 4]] = [-1, 1]  # zone 0's only unit touching zone 1 in the top row is unassigned
    adjacency = zone_adjacency(grid_district, plan)
    assert all(j >= 0 for near in adjacency for j in near)
    assert adjacency[0] == {1, 2}  # still touching zone 1 in rows 1 and 2


def test_home_units_status_quo_and_nearest(grid_district):
    d = grid_district
    assert list(d.home_unit) == [9, 14, 33, 38]
    assert (d.status_quo == d.nearest).all()
    assert d.status_quo[9] == 0


def test_current_school_sets_status_quo_and_frames_are_not_modified():
    units, schools = grid_frames(3, 3, [0, 8])
    units["current_school"] = ["S1"] + [None] * 8
    before_u, before_s = units.copy(), schools.copy()
    d = District.from_frames(units, schools)
    assert d.status_quo[0] == 1
    pd.testing.assert_frame_equal(units, before_u)
    pd.testing.assert_frame_equal(schools, before_s)


def test_islands_are_units_in_parts_without_a_school():
    units, schools = grid_frames(2, 2, [0])
    far = gpd.GeoDataFrame({"unit_id": ["FAR"], "students": [10], "low_income": [3]},
                           geometry=[box(700_000, 4_300_000, 701_000, 4_301_000)], crs=CRS)
    d = District.from_frames(pd.concat([units, far], ignore_index=True), schools)
    assert d.islands.tolist() == [False, False, False, False, True]


def test_two_schools_in_one_unit_share_it_and_the_first_owns_it():
    units, schools = grid_frames(3, 3, [4, 4])
    schools.loc[1, "geometry"] = Point(schools.geometry.iloc[0].x + 10, schools.geometry.iloc[0].y)
    d = District.from_frames(units, schools)
    assert list(d.home_unit) == [4, 4]
    assert list(d.home_owner) == [0, 0]


def test_school_outside_every_unit_is_bad_input():
    units, schools = grid_frames(2, 2, [0])
    schools.loc[0, "geometry"] = Point(0, 0)
    with pytest.raises(ZoneoptInputError, match="falls in no unit"):
        District.from_frames(units, schools)


def test_travel_matrix_replaces_distances_and_missing_pairs_are_not_allowed():
    units, schools = grid_frames(1, 3, [0, 2])
    matrix = pd.DataFrame({"unit_id": ["U0000", "U0001", "U0001", "U0002"],
                           "school_id": ["S0", "S0", "S1", "S1"],
                           "distance_km": [0.5, 2.0, 3.0, 0.1]})
    d = District.from_frames(units, schools, travel_matrix=matrix)
    assert d.dist_km[1, 1] == 3.0 and np.isinf(d.dist_km[0, 1])
    assert list(d.nearest) == [0, 0, 1]


def test_graph_export_carries_unit_attributes(grid_district):
    g = grid_district.to_graph()
    assert g.number_of_nodes() == 48 and g.nodes[0]["unit_id"] == "U0000"
    assert g.number_of_edges() == 6 * 7 + 8 * 5
