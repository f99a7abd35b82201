"""Barriers cut unit adjacency: the District's rule, the checker's own rule, and plans."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from districts import CRS, X0, Y0, grid_frames
from shapely.geometry import LineString

from zoneopt import District, Scenario, optimize
from zoneopt.check import check_plan
from zoneopt.check.travel import barrier_blocked_pairs
from zoneopt.travel.barriers import BARRIER_TOLERANCE_M, blocked_by_barriers


def _lines(*coords) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"kind": ["motorway"] * len(coords)},
                            geometry=[LineString(c) for c in coords], crs=CRS)


def _pairs(district: District) -> set[tuple[int, int]]:
    a = district.adjacency.tocoo()
    return {(int(i), int(j)) for i, j in zip(a.row, a.col, strict=True) if i < j}


def test_freeway_along_a_column_boundary_cuts_those_neighbours_only():
    units, schools = grid_frames(4, 4, [0, 15], seed=0)
    x = X0 + 2000.0 + 5.0  # 5 m off the boundary between columns 1 and 2, as mapped centre lines are
    plain = District.from_frames(units, schools)
    cut = District.from_frames(units, schools, barriers=_lines([(x, Y0 - 100), (x, Y0 + 4100)]))
    across = {(r * 4 + 1, r * 4 + 2) for r in range(4)}
    assert set(cut.barrier_pairs) == across
    assert _pairs(plain) - _pairs(cut) == across
    # The checker's own measurement finds the same pairs.
    geoms = cut.units.geometry.to_numpy()
    assert barrier_blocked_pairs(geoms, cut.barriers.geometry.to_numpy()) == across


@pytest.mark.parametrize(("offset_m", "blocked"), [(BARRIER_TOLERANCE_M - 5, True),
                                                   (BARRIER_TOLERANCE_M + 20, False)])
def test_along_means_within_the_documented_tolerance(offset_m, blocked):
    units, schools = grid_frames(1, 2, [0], seed=0)
    x = X0 + 1000.0 + offset_m
    lines = _lines([(x, Y0 - 50), (x, Y0 + 1050)])
    d = District.from_frames(units, schools, barriers=lines)
    assert bool(d.barrier_pairs) is blocked
    own = barrier_blocked_pairs(d.units.geometry.to_numpy(), d.barriers.geometry.to_numpy())
    assert bool(own) is blocked


@pytest.mark.parametrize(("share", "blocked"), [(0.4, False), (0.6, True), (0.0, False)])
def test_most_of_the_length_means_more_than_half(share, blocked):
    units, schools = grid_frames(1, 2, [0], seed=0)
    x = X0 + 1000.0
    # A river along the lower part of the shared edge, then turning away east.
    y_turn = Y0 + 1000.0 * share
    lines = _lines([(x, Y0 - 200), (x, y_turn), (x + 800, y_turn)] if share else
                   [(x - 500, Y0 + 500), (x + 500, Y0 + 500)])  # 0: a road crossing it
    d = District.from_frames(units, schools, barriers=lines)
    assert bool(d.barrier_pairs) is blocked
    own = barrier_blocked_pairs(d.units.geometry.to_numpy(), d.barriers.geometry.to_numpy())
    assert bool(own) is blocked


def test_no_zone_is_joined_only_across_the_barrier(tmp_path):
    """A river splits the district; a school's zone may not reach across it."""
    units, schools = grid_frames(3, 4, [0, 3, 8, 11], seed=2)
    x = X0 + 2000.0
    path = tmp_path / "river.geojson"
    _lines([(x, Y0 - 100), (x, Y0 + 3100)]).to_crs(4326).to_file(path)
    d = District.from_frames(units, schools)  # the scenario's barriers are applied by optimize
    scenario = Scenario.from_dict({"travel": {"barriers": str(path)},
                                   "constraints": {"max_utilization": 1.0},
                                   "solver": {"time_limit_s": 4}})
    plan = optimize(d, scenario)
    assert plan.district.barrier_pairs
    check_plan(plan.district, scenario, plan.positions, summary=plan.summary).raise_if_failed()
    west = np.array([i % 4 < 2 for i in range(12)])
    for j in range(4):
        members = west[plan.positions == j]
        assert members.all() or not members.any(), "a zone spans the river"
    # A plan joining units across the river breaks the rule the checker derives from the file.
    bad = plan.positions.copy()
    bad[1] = 1  # the unit west of the river at the bottom row, given to school 1 (east side)
    bad[2] = 1
    report = check_plan(plan.district, scenario, bad)
    assert any("barrier" in v or "not connected" in v for v in report.violations)


def test_barriers_file_from_the_osm_extract(helsinki_files):
    lines = gpd.read_file(helsinki_files / "barriers.geojson")
    assert len(lines) > 10 and set(lines["kind"]) <= {"motorway", "trunk", "rail", "light_rail",
                                                      "narrow_gauge", "river", "canal"}
    assert "rail" in set(lines["kind"])  # the tracks into Helsinki's central station
    d = District.from_files(helsinki_files / "units.gpkg", helsinki_files / "schools.csv",
                            barriers=helsinki_files / "barriers.geojson")
    assert d.sources["barriers"].endswith("barriers.geojson")
    geoms = d.units.geometry.to_numpy()
    assert set(d.barrier_pairs) == barrier_blocked_pairs(geoms, d.barriers.geometry.to_numpy())


def test_blocked_by_barriers_with_no_barrier_is_empty():
    units, schools = grid_frames(2, 2, [0], seed=0)
    d = District.from_frames(units, schools)
    assert blocked_by_barriers(d.units.geometry.to_numpy(), d.adjacency, np.zeros(0, object)) == []
