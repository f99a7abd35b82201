"""The baseline formulations of benchmarks/baselines.py on districts small enough to solve exactly."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely

from benchmarks.baselines import (
    check_assignment,
    dissimilarity,
    eligible_pairs,
    hop_distances,
    prepare,
    rook_neighbours,
    solve_cpsat,
    solve_pulp,
)
from zoneopt.synthetic import synthetic_district

EXTRA_KM = 3.0


@pytest.fixture(scope="module")
def small():
    units, schools = synthetic_district(30, 3, seed=0)
    return units, schools, prepare(units, schools)


def _grid(n: int = 3):
    """n x n one-kilometre squares in UTM 10N, ids row-major."""
    cells = [shapely.box(600_000 + 1000 * c, 4_270_000 + 1000 * r,
                         601_000 + 1000 * c, 4_271_000 + 1000 * r)
             for r in range(n) for c in range(n)]
    return gpd.GeoDataFrame({"unit_id": [f"{k:02d}" for k in range(n * n)],
                             "students": 100, "low_income": 10 * np.arange(n * n) % 100},
                            geometry=cells, crs="EPSG:32610")


def _zone_connected(inst, sch: np.ndarray, j: int) -> bool:
    g = nx.Graph()
    members = np.flatnonzero(sch == j)
    g.add_nodes_from(members.tolist())
    for i in members:
        g.add_edges_from((int(i), int(k)) for k in inst.neighbours[i] if sch[k] == j)
    return nx.is_connected(g) and int(inst.home[j]) in g


def test_rook_neighbours_ignore_corner_touches():
    grid = _grid(3)
    nb = rook_neighbours(grid.geometry.to_numpy())
    assert nb[4].tolist() == [1, 3, 5, 7]  # the centre: four sides, no corners
    assert nb[0].tolist() == [1, 3]


def test_hop_distances_count_steps_from_the_home_unit():
    grid = _grid(3)
    schools = gpd.GeoDataFrame({"school_id": ["A"], "capacity": [900]},
                               geometry=[shapely.Point(601_500, 4_271_500)], crs="EPSG:32610")
    inst = prepare(grid, schools)
    assert inst.home.tolist() == [4]
    assert hop_distances(inst)[0].reshape(3, 3).tolist() == [[2, 1, 2], [1, 0, 1], [2, 1, 2]]


def test_eligibility_follows_the_extra_distance_and_keeps_home_units(small):
    _, _, inst = small
    elig = eligible_pairs(inst, 0.0)
    nearest = inst.dist_km.argmin(axis=1)
    assert elig[np.arange(inst.n_units), nearest].all()
    assert elig[inst.home, np.arange(inst.n_schools)].all()
    assert elig.sum() < eligible_pairs(inst, EXTRA_KM).sum()


def test_status_quo_of_the_synthetic_city_breaks_capacity(small):
    # The checker must be able to fail: the status quo overcrowds some school by construction.
    units, _, inst = small
    sq = pd.Series(inst.school_ids[inst.status_quo], index=inst.unit_ids)
    assert any("over capacity" in v for v in check_assignment(inst, sq))


def test_checker_flags_a_zone_cut_in_two(small):
    _, _, inst = small
    sch = inst.status_quo.copy()
    # Move one unit, far from school 0 and not its home, into school 0's zone.
    far = [i for i in np.argsort(-inst.dist_km[:, 0]) if i not in set(inst.home.tolist())
           and not any(sch[k] == 0 for k in inst.neighbours[i])][0]
    sch[far] = 0
    plan = pd.Series(inst.school_ids[sch], index=inst.unit_ids)
    assert any("not contiguous" in v for v in check_assignment(inst, plan, max_utilization=9))


@pytest.mark.parametrize("method", ["cbc", "highs", "cpsat"])
def test_baseline_returns_a_capacity_feasible_contiguous_plan(small, method):
    units, schools, inst = small
    if method == "cpsat":
        res = solve_cpsat(units, schools, time_limit=20, max_extra_distance_km=EXTRA_KM)
    else:
        res = solve_pulp(units, schools, solver=method, time_limit=20,
                         max_extra_distance_km=EXTRA_KM)
    assert res.assignment is not None, res.status
    assert set(res.assignment.index) == set(units["unit_id"])
    assert check_assignment(inst, res.assignment, max_extra_distance_km=EXTRA_KM) == []
    sidx = {s: j for j, s in enumerate(inst.school_ids)}
    sch = np.array([sidx[res.assignment[u]] for u in inst.unit_ids])
    enrol = np.bincount(sch, weights=inst.students, minlength=inst.n_schools)
    assert (enrol <= inst.capacity).all()
    assert all(_zone_connected(inst, sch, j) for j in range(inst.n_schools))
    assert res.dissimilarity == pytest.approx(dissimilarity(inst, sch))
    assert res.dissimilarity < dissimilarity(inst, inst.status_quo)
    assert res.bound is not None and res.bound <= res.dissimilarity + 1e-6
    assert res.build_seconds >= 0 and res.solve_seconds >= 0 and res.n_variables > 0


def test_the_three_solvers_agree_on_the_optimum(small):
    units, schools, inst = small
    ds = [solve_pulp(units, schools, solver=s, time_limit=20, mip_gap=0.0, inst=inst).dissimilarity
          for s in ("cbc", "highs")]
    ds.append(solve_cpsat(units, schools, time_limit=20, mip_gap=0.0, inst=inst).dissimilarity)
    assert max(ds) - min(ds) < 1e-6


def test_solvers_report_no_plan_when_capacity_is_impossible(small):
    units, schools, inst = small
    tight = schools.copy()
    tight["capacity"] = 10  # far below every home unit's students
    res = solve_pulp(units, tight, solver="highs", time_limit=10)
    assert res.assignment is None and res.status in {"infeasible", "no_solution"}
    res = solve_cpsat(units, tight, time_limit=10)
    assert res.assignment is None and res.status == "infeasible"
