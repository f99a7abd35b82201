"""Closer-neighbour rows over a plan's own zone potential: the plan passes them, and every plan that
passes them is contiguous."""

import itertools

import numpy as np
from bruteforce import _contiguous
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import districts

from zoneopt import Scenario
from zoneopt.model import Neighbourhood, build_model, eligible_pairs
from zoneopt.model.potential import zone_potential

SCENARIO = Scenario.from_dict({"constraints": {"max_utilization": 5.0}})


def _contiguous_plan(district, eligible, nbrs):
    options = [np.flatnonzero(eligible[i]).tolist() for i in range(district.n_units)]
    for combo in itertools.islice(itertools.product(*options), 3000):
        plan = np.array(combo)
        if _contiguous(plan, district, nbrs, district.islands):
            return plan
    return None


def _passes(model, plan, district):
    v = model.rows @ model.start_vector(plan, district, SCENARIO)
    return bool((v <= model.row_upper + 1e-9).all() and (v >= model.row_lower - 1e-9).all())


@st.composite
def cases(draw):
    district = draw(districts(min_units=4, max_units=8, max_schools=3))
    eligible = eligible_pairs(district, SCENARIO)
    nbrs = district.neighbors
    plan = _contiguous_plan(district, eligible, nbrs)
    k = draw(st.integers(2, district.n_schools))
    group = sorted(draw(st.permutations(range(district.n_schools)))[:k])
    return district, eligible, nbrs, plan, np.array(group)


@settings(max_examples=40, deadline=None)
@given(cases())
def test_the_plan_passes_and_every_plan_that_passes_is_contiguous(case):
    district, eligible, nbrs, plan, group = case
    if plan is None:
        return
    free = np.flatnonzero(np.isin(plan, group))
    pot = zone_potential(district, plan, group, free)
    model = build_model(district, SCENARIO, eligible, contiguity="closer", potential=pot,
                        part=Neighbourhood(units=free, schools=group, base=plan))
    assert _passes(model, plan, district)
    options = [sorted(model.pair_school[model.pair_unit == i].tolist()) for i in free.tolist()]
    for combo in itertools.islice(itertools.product(*options), 2000):
        other = plan.copy()
        other[free] = combo
        if _passes(model, other, district):
            assert _contiguous(other, district, nbrs, district.islands)


def test_zone_units_sit_one_level_below_a_zone_neighbour(grid_district):
    plan = grid_district.status_quo.copy()
    group = np.arange(grid_district.n_schools)
    pot = zone_potential(grid_district, plan, group, np.arange(grid_district.n_units))
    nbrs = grid_district.neighbors
    for j in group.tolist():
        home = int(grid_district.home_unit[j])
        assert pot[home, j] == 0
        for u in np.flatnonzero(plan == j).tolist():
            if u != home and not grid_district.islands[u]:
                assert any(plan[w] == j and pot[w, j] == pot[u, j] - 1 for w in nbrs[u])
        outside = np.flatnonzero(plan != j)
        assert (pot[outside, j] > pot[plan == j, j].max()).all()
