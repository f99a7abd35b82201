"""The annealed feeder map: valid maps, the brute-force optimum on tiny districts, the same every run."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from feeder_districts import synthetic_two_level_start
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zoneopt.feeders import dissimilarity
from zoneopt.model.feeders import middle_pieces
from zoneopt.solve import two_level_steps
from zoneopt.solve.feeder_map import anneal_feeder_map
from zoneopt.solve.feeder_repair import feeder_repair
from zoneopt.solve.nested_moves import middle_homes_apart
from zoneopt.solve.two_level_steps import _feeder_map, _soft_cost

_setup = synthetic_two_level_start


def _zones(tmp_path, n, m, seed, middle_seats=1.0):
    district, scenario, data, eligible, plan = _setup(tmp_path, n, m, seed,
                                                      middle_seats=middle_seats)
    apart, stuck = middle_homes_apart(district, scenario, eligible, data, plan)
    assert not stuck
    return district, scenario, data, eligible, apart


def _over(data, scenario, mid):
    """Middle students over the seats, from the units' middle schools (not the zones' sums)."""
    enr = np.bincount(mid, weights=data.students.astype(float), minlength=data.n_schools)
    cap = np.floor(data.capacity * scenario.feeders.middle_max_utilization + 1e-6)
    return float(np.maximum(enr - cap, 0).sum())


def _valid(district, data, assign, feeds) -> bool:
    """Each middle school's unit in a zone feeding it, and every middle zone connected."""
    mid = np.asarray(feeds)[assign]
    homes_ok = all(mid[data.home_unit[k]] == k for k in range(data.n_schools)
                   if int(data.home_owner[k]) == k)
    return homes_ok and not middle_pieces(district, data, mid)


def _objective(district, scenario, data, assign, feeds, over_cost):
    mid = np.asarray(feeds)[assign]
    middle_d = dissimilarity(mid, data.students, data.low_income, data.n_schools)
    return over_cost * _over(data, scenario, mid) + scenario.feeders.balance_weight * middle_d


def _brute_force(district, scenario, data, assign, over_cost, *, hard=False):
    """The least objective over every valid feeder map of the zones ``assign``."""
    forced = {int(assign[data.home_unit[k]]): k for k in range(data.n_schools)
              if int(data.home_owner[k]) == k}
    free = [j for j in range(district.n_schools) if j not in forced]
    owners = sorted(set(forced.values()))
    best = np.inf
    for choice in itertools.product(owners, repeat=len(free)):
        feeds = np.zeros(district.n_schools, dtype=np.int64)
        for j, k in forced.items():
            feeds[j] = k
        feeds[free] = choice
        if not _valid(district, data, assign, feeds):
            continue
        if hard and _over(data, scenario, feeds[assign]) > 0:
            continue
        best = min(best, _objective(district, scenario, data, assign, feeds, over_cost))
    return best


@pytest.mark.parametrize("n, m, seed, seats", [(60, 8, 0, 0.9), (60, 8, 1, 1.0), (70, 10, 2, 0.93),
                                               (70, 10, 4, 1.0), (80, 11, 5, 0.95)])
def test_the_annealed_map_is_the_brute_force_optimum_on_tiny_districts(tmp_path, n, m, seed, seats):
    """Every feeder map of the repair's zones enumerated (2-3 middle schools, up to 3^9 maps):
    the annealed map has the least objective (students over the seats, then the middle balance)
    and is a valid map."""
    district, scenario, data, _, assign = _zones(tmp_path, n, m, seed, seats)
    cost = _soft_cost(data)
    feeds = anneal_feeder_map(district, scenario, data, assign, over_cost=cost)
    assert _valid(district, data, assign, feeds)
    got = _objective(district, scenario, data, assign, feeds, cost)
    assert got == pytest.approx(_brute_force(district, scenario, data, assign, cost), abs=1e-9)


@pytest.mark.parametrize("n, m, seed", [(60, 8, 1), (70, 10, 0), (70, 10, 3), (80, 11, 1)])
def test_with_the_seats_a_rule_the_map_keeps_them_and_balances_within_them(tmp_path, n, m, seed):
    """From a map that keeps the seats, the annealing of the balance alone never leaves them and
    reaches the best balance of the maps that keep them."""
    district, scenario, data, _, assign = _zones(tmp_path, n, m, seed)
    start = anneal_feeder_map(district, scenario, data, assign, over_cost=_soft_cost(data))
    assert _over(data, scenario, start[assign]) == 0, "the case must start within the seats"
    feeds = anneal_feeder_map(district, scenario, data, assign, start=start)
    assert _valid(district, data, assign, feeds)
    assert _over(data, scenario, feeds[assign]) == 0
    got = _objective(district, scenario, data, assign, feeds, 0.0)
    assert got <= _objective(district, scenario, data, assign, start, 0.0) + 1e-12
    assert got == pytest.approx(_brute_force(district, scenario, data, assign, 0.0, hard=True),
                                abs=1e-9)


def test_a_start_over_the_seats_gives_no_map_when_the_seats_are_a_rule(tmp_path):
    district, scenario, data, _, assign = _zones(tmp_path, 60, 8, 0, 0.9)
    over = anneal_feeder_map(district, scenario, data, assign, over_cost=_soft_cost(data))
    assert _over(data, scenario, over[assign]) > 0, "the case must have no map within the seats"
    assert anneal_feeder_map(district, scenario, data, assign, start=over) is None


def test_two_middle_schools_in_one_zone_admit_no_map(tmp_path):
    district, scenario, data, _, assign = _zones(tmp_path, 70, 10, 2)
    shared = assign.copy()
    shared[shared == shared[data.home_unit[1]]] = shared[data.home_unit[0]]
    assert anneal_feeder_map(district, scenario, data, shared, over_cost=1.0) is None


def test_the_same_zones_give_the_same_map(tmp_path):
    district, scenario, data, _, assign = _zones(tmp_path, 80, 11, 5, 0.95)
    maps = [anneal_feeder_map(district, scenario, data, assign, over_cost=_soft_cost(data))
            for _ in range(2)]
    assert np.array_equal(*maps)


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), n=st.integers(80, 160), m=st.integers(8, 16),
       seats=st.sampled_from([0.9, 0.97, 1.0]))
def test_every_annealed_map_of_a_generated_district_is_valid(tmp_path_factory, seed, n, m, seats):
    """Generated districts: the map keeps each middle school's unit in its group and every middle
    zone connected (checked on the units), and the map with the seats a rule is None or keeps
    them."""
    tmp = tmp_path_factory.mktemp("map")
    district, scenario, data, eligible, plan = _setup(tmp, n, m, seed, middle_seats=seats)
    if plan is None:
        return
    assign, stuck = middle_homes_apart(district, scenario, eligible, data, plan)
    if stuck:
        return
    soft = anneal_feeder_map(district, scenario, data, assign, over_cost=_soft_cost(data),
                             proposals=20_000, seed=seed)
    assert _valid(district, data, assign, soft)
    hard = anneal_feeder_map(district, scenario, data, assign, start=soft, proposals=20_000)
    assert hard is None or (_valid(district, data, assign, hard)
                            and _over(data, scenario, hard[assign]) == 0)


def test_large_districts_get_the_annealed_map_and_the_feeder_repair_plan_passes_the_checker(
        tmp_path, monkeypatch):
    """Above FEEDER_MAP_MIP_PAIRS the feeder map is annealed (here the threshold is lowered): the
    feeder repair's plan keeps every rule of both levels."""
    from zoneopt import Plan
    from zoneopt.check import check_plan

    district, scenario, data, eligible, plan = _setup(tmp_path, 120, 6, 1, middle_seats=0.95)
    monkeypatch.setattr(two_level_steps, "FEEDER_MAP_MIP_PAIRS", 0)
    soft = lambda a: _feeder_map(district, scenario, data, a, "highs", np.inf,  # noqa: E731
                                 soft=_soft_cost(data))
    got = feeder_repair(district, scenario, eligible, data, plan, soft, work=200_000, seed=0)
    assert got is not None
    assign, feeds = got
    summary = Plan.from_assignment(district, scenario, assign, feeds=feeds).summary
    check_plan(district, scenario, assign, summary=summary).raise_if_failed()
    remap = _feeder_map(district, scenario, data, assign, "highs", np.inf, current=feeds)
    assert _valid(district, data, assign, remap) and _over(data, scenario, remap[assign]) == 0
