"""The checker's own geometry agrees with CONTRACT.md and catches a wrong model geometry."""

from __future__ import annotations

import dataclasses

import numpy as np
import scipy.sparse as sp
import shapely
from districts import grid_frames

from zoneopt import District, Plan, Scenario, check_plan
from zoneopt.check.geometry import derive


def test_own_adjacency_distances_homes_and_islands_match_the_definitions():
    units, schools = grid_frames(3, 4, [0, 11], seed=1)
    units = units.drop(index=[5]).reset_index(drop=True)  # a hole
    d = District.from_frames(units, schools)
    geo = derive(d)
    assert (geo.adjacency != d.adjacency).nnz == 0
    assert np.allclose(geo.dist_km, d.dist_km)
    assert list(geo.home_unit) == list(d.home_unit)
    assert list(geo.islands) == list(d.islands)
    assert list(geo.status_quo) == list(d.status_quo)


def test_corner_contact_is_not_adjacency_but_a_one_centimetre_edge_is():
    units, schools = grid_frames(2, 2, [0, 3])
    # unit 0 (0,0) and unit 3 (1,1) touch at one corner only
    geo = derive(District.from_frames(units, schools))
    assert geo.adjacency[0, 3] == 0 and geo.adjacency[0, 1] == 1


def test_a_bug_in_the_models_adjacency_is_caught_by_the_checker():
    # A one-row strip where the model's adjacency wrongly joins units 1-3 and 2-4: a plan that the
    # model calls contiguous cuts a zone in two; the checker, with its own adjacency, says so.
    units, schools = grid_frames(1, 6, [0, 5])
    good = District.from_frames(units, schools)
    adj = good.adjacency.tolil()
    adj[1, 3] = adj[3, 1] = adj[2, 4] = adj[4, 2] = 1
    bad = dataclasses.replace(good, adjacency=sp.csr_matrix(adj))
    fake = Plan.from_assignment(bad, Scenario(), np.array([0, 0, 1, 0, 1, 1]))
    assert fake.summary["contiguous"] is True  # what the model-side figure believes
    plan = np.array([0, 0, 1, 0, 1, 1])  # unit 3 of S0 separated from S0 by unit 2 of S1
    report = check_plan(bad, Scenario(), plan)
    assert any("zone of school S0 is not connected" in v for v in report.violations)


def test_a_school_on_a_shared_boundary_gets_the_lowest_unit_as_home():
    units, schools = grid_frames(1, 2, [0, 1])
    # move school S0 onto the shared edge of units 0 and 1
    edge = shapely.get_coordinates(units.geometry.iloc[0].boundary)[:, 0].max()
    pts = schools.geometry.to_numpy().copy()
    pts[0] = shapely.Point(edge, pts[0].y)
    schools = schools.set_geometry(list(pts), crs=schools.crs)
    d = District.from_frames(units, schools)
    geo = derive(d)
    assert geo.home_unit[0] == 0 and list(geo.home[0]) == [0, 1]
    plan = Plan.from_assignment(d, Scenario(), d.status_quo)
    assert check_plan(d, Scenario(), plan.positions, summary=plan.summary).figures["n_units"] == 2


def _pieces_one_zone_at_a_time(geo, pos):
    """The per-school flood fill that zone_pieces replaces (the reference)."""
    from scipy.sparse.csgraph import connected_components

    out = {}
    for j in range(len(geo.school_ids)):
        members = np.flatnonzero((pos == j) & ~geo.islands)
        h = int(geo.home_unit[j])
        if not len(members) or h < 0:
            continue
        nodes = np.union1d(members, [h])
        _, label = connected_components(geo.adjacency[nodes][:, nodes], directed=False)
        stray = nodes[label != label[np.searchsorted(nodes, h)]]
        if len(stray):
            out[j] = stray
    return out


def test_zone_pieces_in_one_pass_equal_a_flood_fill_per_zone():
    # (Used by the editor after every move.) Random plans on a grid with a hole (islands) and two
    # schools sharing one home unit.
    from zoneopt.check.geometry import zone_pieces

    units, schools = grid_frames(5, 6, [0, 7, 7, 22, 29], seed=3)
    units = units.drop(index=[4, 11]).reset_index(drop=True)  # cell 5 becomes an island
    geo = derive(District.from_frames(units, schools))
    assert geo.islands.sum() == 1 and geo.home_unit[1] == geo.home_unit[2]
    rng = np.random.default_rng(0)
    for _ in range(200):
        pos = rng.integers(0, len(geo.school_ids), size=len(geo.unit_ids))
        mine, ref = zone_pieces(geo, pos), _pieces_one_zone_at_a_time(geo, pos)
        assert mine.keys() == ref.keys()
        for j in ref:
            assert np.array_equal(mine[j], ref[j])
