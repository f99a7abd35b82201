"""Separator cuts on the fractional LP: valid for every contiguous plan, and they raise the bound."""

import itertools
import math

import numpy as np
import pytest
from bruteforce import _contiguous, brute_force
from districts import grid_frames
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import districts

from zoneopt import District, Scenario
from zoneopt.bounds._highs import new_highs, pass_arrays, run_highs
from zoneopt.bounds.lp import root_lp_bound
from zoneopt.model import build_model, eligible_pairs
from zoneopt.model.root_cuts import fractional_separator_cuts, strengthen_root


def _lp_solution(model):
    h = new_highs()
    pass_arrays(h, model.cost, model.lower, model.upper, model.rows, model.row_lower,
                model.row_upper)
    run_highs(h)
    return np.asarray(h.getSolution().col_value)


def _pair_vector(model, assign):
    """The model's x for a plan (balance columns left at 0: the cuts do not use them)."""
    x = np.zeros(len(model.cost))
    x[: model.n_pairs] = (assign[model.pair_unit] == model.pair_school).astype(float)
    return x


def _contiguous_plans(district, model):
    """Every plan over the model's pairs whose zones are all connected to their home units."""
    n = district.n_units
    options = [sorted(model.pair_school[model.pair_unit == i].tolist()) for i in range(n)]
    adj = district.adjacency
    nbrs = [adj.indices[adj.indptr[i]:adj.indptr[i + 1]] for i in range(n)]
    for combo in itertools.product(*options):
        a = np.array(combo)
        if _contiguous(a, district, nbrs, district.islands):
            yield a


@st.composite
def tiny(draw):
    district = draw(districts(min_units=4, max_units=8, max_schools=3))
    extra = draw(st.sampled_from([math.inf, 1.2]))
    return district, Scenario.from_dict({"constraints": {"max_extra_distance_km": extra}})


@settings(max_examples=25, deadline=None)
@given(tiny())
def test_every_cut_holds_for_every_contiguous_plan(case):
    district, scenario = case
    eligible = eligible_pairs(district, scenario)
    model = build_model(district, scenario, eligible, contiguity="neighbour")
    if not model.n_pairs:
        return
    strengthen_root(district, model, rounds=5)
    x = _lp_solution(model)
    rows, _, upper = fractional_separator_cuts(district, model, x, min_violation=1e-6)
    rows = rows.tocsr()
    # The model's "<= 0" rows: its neighbour rows and every cut strengthen_root appended.
    appended = np.isneginf(model.row_lower) & (model.row_upper == 0)
    for plan in _contiguous_plans(district, model):
        v = _pair_vector(model, plan)
        assert (rows @ v <= upper + 1e-9).all()
        assert ((model.rows @ v)[appended] <= 1e-9).all()


@settings(max_examples=25, deadline=None)
@given(tiny())
def test_strengthened_lp_never_exceeds_the_brute_force_optimum(case):
    district, scenario = case
    best, _ = brute_force(district, scenario)
    eligible = eligible_pairs(district, scenario)
    model = build_model(district, scenario, eligible, contiguity="neighbour")
    if not model.n_pairs or math.isinf(best):
        return
    value, _, _ = strengthen_root(district, model)
    assert value <= best + 1e-7


def test_each_cut_is_violated_by_the_solution_it_was_separated_from(grid_district):
    scenario = Scenario.from_dict({"constraints": {"max_extra_distance_km": 2.0}})
    eligible = eligible_pairs(grid_district, scenario)
    model = build_model(grid_district, scenario, eligible, contiguity="neighbour")
    x = _lp_solution(model)
    rows, _, _ = fractional_separator_cuts(grid_district, model, x)
    assert rows.shape[0] > 0
    assert (rows @ x > 1e-3 - 1e-9).all()


def test_rounds_raise_the_bound_on_a_segregated_grid(grid_district):
    # West to east segregation: the LP mixes fractions of far units into a zone without paying
    # for the units in between; the cuts make it pay in seats.
    scenario = Scenario.from_dict({"constraints": {"max_extra_distance_km": 2.0}})
    eligible = eligible_pairs(grid_district, scenario)
    lp = root_lp_bound(grid_district, scenario, eligible)
    model = build_model(grid_district, scenario, eligible, contiguity="neighbour")
    before = model.rows.shape[0]
    value, added, rounds = strengthen_root(grid_district, model)
    assert added == model.rows.shape[0] - before > 0
    assert rounds >= 2
    assert value > lp.value + 1e-4


def test_the_same_model_gets_the_same_cuts(grid_district):
    scenario = Scenario.from_dict({"constraints": {"max_extra_distance_km": 2.0}})
    eligible = eligible_pairs(grid_district, scenario)
    a = build_model(grid_district, scenario, eligible, contiguity="neighbour")
    b = build_model(grid_district, scenario, eligible, contiguity="neighbour")
    ra, rb = strengthen_root(grid_district, a), strengthen_root(grid_district, b)
    assert ra == rb
    assert (a.rows != b.rows).nnz == 0


@pytest.mark.parametrize("seed", [0, 1, 3])
def test_cuts_stay_valid_when_two_schools_share_a_home_unit(seed):
    # School 1 shares school 0's home unit: its zone must touch that unit, not contain it.
    units, schools = grid_frames(2, 4, [1, 1, 6], seed=seed)
    district = District.from_frames(units, schools)
    assert district.home_owner[1] == 0
    scenario = Scenario.from_dict({})
    best, _ = brute_force(district, scenario)
    model = build_model(district, scenario, eligible_pairs(district, scenario),
                        contiguity="neighbour")
    value, _, _ = strengthen_root(district, model)
    assert value <= best + 1e-7
    appended = np.isneginf(model.row_lower) & (model.row_upper == 0)
    for plan in _contiguous_plans(district, model):
        assert ((model.rows @ _pair_vector(model, plan))[appended] <= 1e-9).all()


def test_the_cuts_left_slack_are_dropped_and_the_lp_value_stands(grid_district, monkeypatch):
    # The rounds separate more cuts than the last LP needs; the slack ones only slow every node's
    # LP, so they leave the model, and the LP over what stays has the same optimum.
    import zoneopt.model.root_cuts as root_cuts

    scenario = Scenario.from_dict({"constraints": {"max_extra_distance_km": 2.0}})
    eligible = eligible_pairs(grid_district, scenario)
    model = build_model(grid_district, scenario, eligible, contiguity="neighbour")
    before = model.rows.shape[0]
    separated = []

    def counting(*args, **kwargs):
        rows = fractional_separator_cuts(*args, **kwargs)
        separated.append(rows[0].shape[0])
        return rows

    monkeypatch.setattr(root_cuts, "fractional_separator_cuts", counting)
    value, kept, _ = strengthen_root(grid_district, model)
    assert kept == model.rows.shape[0] - before
    assert 0 < kept < sum(separated)
    h = new_highs()
    pass_arrays(h, model.cost, model.lower, model.upper, model.rows, model.row_lower,
                model.row_upper)
    run_highs(h)
    assert h.getInfo().objective_function_value == pytest.approx(value, abs=1e-7)
