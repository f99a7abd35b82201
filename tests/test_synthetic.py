"""Invariants of the synthetic district generator (zoneopt.synthetic)."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from scipy.sparse.csgraph import connected_components

from zoneopt.district import District, rook_adjacency
from zoneopt.synthetic import synthetic_district


@pytest.fixture(scope="module")
def city():
    return synthetic_district(300, 15, seed=3)


def test_counts_and_unique_zero_padded_ids(city):
    units, schools = city
    assert len(units) == 300 and len(schools) == 15
    assert units["unit_id"].is_unique and schools["school_id"].is_unique
    assert units["unit_id"].str.len().nunique() == 1  # zero-padded: sorts as text
    assert set(units["current_school"]) <= set(schools["school_id"])


def test_counts_are_integers_in_realistic_ranges(city):
    units, _ = city
    assert units["students"].dtype.kind == "i" and units["low_income"].dtype.kind == "i"
    assert units["students"].between(50, 400).all()
    assert (units["low_income"] >= 0).all()
    assert (units["low_income"] <= units["students"]).all()
    share = units["low_income"] / units["students"]
    assert share.min() >= 0.04 and share.max() <= 0.91
    assert share.max() - share.min() > 0.4  # rich and poor neighbourhoods both exist


def test_low_income_share_is_spatially_correlated(city):
    # Neighbours' shares are far more alike than random pairs' (Moran-like check).
    units, _ = city
    share = (units["low_income"] / units["students"]).to_numpy()
    adj = rook_adjacency(units.geometry.to_numpy()).tocoo()
    neighbour_gap = np.abs(share[adj.row] - share[adj.col]).mean()
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, len(share), size=(2, 5000))
    assert neighbour_gap < 0.6 * np.abs(share[a] - share[b]).mean()


def test_projected_city_of_plausible_size(city):
    units, schools = city
    assert units.crs.to_epsg() == 32610 and schools.crs == units.crs
    minx, miny, maxx, maxy = units.total_bounds
    assert 10_000 < maxx - minx < 45_000 and 10_000 < maxy - miny < 45_000
    assert units.geometry.is_valid.all()
    assert set(units.geom_type) == {"Polygon"}


def test_units_tile_the_city_without_overlaps(city):
    units, _ = city
    geoms = units.geometry.to_numpy()
    union = shapely.union_all(geoms)
    assert union.area == pytest.approx(shapely.area(geoms).sum(), rel=1e-6)
    assert union.geom_type == "Polygon"


def test_rook_adjacency_graph_is_one_connected_component(city):
    units, _ = city
    adj = rook_adjacency(units.geometry.to_numpy())
    n_parts, _ = connected_components(adj, directed=False)
    assert n_parts == 1
    assert adj.sum(axis=1).min() >= 1


def test_each_school_sits_inside_exactly_one_unit_and_units_differ(city):
    units, schools = city
    geoms = units.geometry.to_numpy()
    homes = []
    for pt in schools.geometry:
        inside = np.flatnonzero(shapely.contains(geoms, pt))
        assert len(inside) == 1
        homes.append(int(inside[0]))
    assert len(set(homes)) == len(homes)


def test_status_quo_is_nearest_school_from_centroid(city):
    units, schools = city
    c = shapely.get_coordinates(units.geometry.centroid.to_numpy())
    s = shapely.get_coordinates(schools.geometry.to_numpy())
    nearest = ((c[:, None, :] - s[None, :, :]) ** 2).sum(axis=2).argmin(axis=1)
    homes = {int(np.flatnonzero(shapely.contains(units.geometry.to_numpy(), p))[0]): sid
             for p, sid in zip(schools.geometry, schools["school_id"], strict=True)}
    expected = schools["school_id"].to_numpy()[nearest]
    for i, sid in homes.items():
        expected[i] = sid  # a school's own unit attends it
    assert (units["current_school"].to_numpy() == expected).all()


def test_capacities_overcrowd_some_schools_and_leave_some_half_empty(city):
    units, schools = city
    enrol = units.groupby("current_school")["students"].sum()
    util = enrol.reindex(schools["school_id"]).fillna(0).to_numpy() / schools["capacity"]
    assert (util >= 1.2).any() and (util <= 1.4 + 1e-9).all()
    assert (util <= 0.6).any()
    assert schools["capacity"].dtype.kind == "i" and (schools["capacity"] > 0).all()
    assert schools["capacity"].sum() == pytest.approx(1.1 * units["students"].sum(), rel=0.05)


def test_same_seed_gives_the_same_district_and_another_seed_does_not():
    u1, s1 = synthetic_district(120, 6, seed=7)
    u2, s2 = synthetic_district(120, 6, seed=7)
    u3, _ = synthetic_district(120, 6, seed=8)
    assert u1.drop(columns="geometry").equals(u2.drop(columns="geometry"))
    assert s1.drop(columns="geometry").equals(s2.drop(columns="geometry"))
    assert (shapely.to_wkb(u1.geometry.to_numpy()) == shapely.to_wkb(u2.geometry.to_numpy())).all()
    assert (shapely.to_wkb(s1.geometry.to_numpy()) == shapely.to_wkb(s2.geometry.to_numpy())).all()
    assert not u1.geometry.geom_equals(u3.geometry).all()


def test_the_frames_are_valid_zoneopt_input():
    units, schools = synthetic_district(150, 8, seed=1)
    district = District.from_frames(units, schools)
    assert district.n_units == 150 and district.n_schools == 8
    assert len(set(np.asarray(district.home_unit).tolist())) == 8


def test_city_grows_with_the_number_of_units():
    small, _ = synthetic_district(60, 3, seed=0)
    large, _ = synthetic_district(2000, 100, seed=0)
    width = lambda u: u.total_bounds[2] - u.total_bounds[0]  # noqa: E731
    assert width(large) > 1.8 * width(small)


@pytest.mark.parametrize(("n_units", "n_schools"), [(1, 1), (10, 0), (10, 11)])
def test_impossible_counts_are_refused(n_units, n_schools):
    with pytest.raises(ValueError, match="n_"):
        synthetic_district(n_units, n_schools)


def test_school_names_are_distinct():
    _, schools = synthetic_district(400, 60, seed=2)
    assert schools["name"].is_unique
    assert schools["name"].str.len().min() > 5
