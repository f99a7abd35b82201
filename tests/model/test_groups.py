"""The multi-group balance family: D_T linearised exactly, and the binary balance as its two-group case."""

from __future__ import annotations

import numpy as np
import pytest
from districts import grid_frames

from zoneopt import District, Scenario
from zoneopt.model import build_model, eligible_pairs
from zoneopt.model.groups import binary_counts, multigroup
from zoneopt.tiers import multigroup_dissimilarity, tier_counts


def _all_or_nothing_district():
    """Units wholly low-income or wholly not, with tier 1 = low-income units, tier 2 = the rest."""
    units, schools = grid_frames(3, 4, [0, 11], seed=4)
    low = np.where(np.arange(12) % 3 == 0, units["students"], 0)
    units["low_income"] = low
    units["ses_tier"] = np.where(low > 0, 1, 2)
    return District.from_frames(units, schools)


def test_two_tiers_build_the_same_model_as_the_low_income_balance():
    d = _all_or_nothing_district()
    binary = Scenario()
    tiers = Scenario.from_dict({"objective": {"balance": "tiers"}})
    el = eligible_pairs(d, binary)
    a, b = build_model(d, binary, el), build_model(d, tiers, el)
    assert np.allclose(a.cost, b.cost)
    assert (a.rows != b.rows).nnz == 0
    assert np.array_equal(a.row_lower, b.row_lower) and np.array_equal(a.row_upper, b.row_upper)


def test_model_objective_at_a_plan_is_its_d_t():
    units, schools = grid_frames(3, 4, [0, 11], seed=4)
    units["ses_tier"] = [1, 2, 3, 4, 4, 3, 2, 1, 1, 1, 4, 2]
    d = District.from_frames(units, schools)
    s = Scenario.from_dict({"objective": {"balance": "tiers"}, "constraints": {"contiguity": False}})
    model = build_model(d, s, eligible_pairs(d, s))
    rng = np.random.default_rng(1)
    for _ in range(5):
        plan = rng.integers(0, 2, 12)
        plan[d.home_unit] = [0, 1]
        x = model.start_vector(plan, d, s)
        assert float(model.cost @ x) == pytest.approx(
            multigroup_dissimilarity(plan, tier_counts(d), 2))
        balance = (model.row_lower == 0) & np.isinf(model.row_upper)  # t_jk >= +/- deviation
        assert balance.sum() == 2 * 2 * 4
        assert ((model.rows @ x)[balance] >= -1e-7).all()
        assert model.balance_group is not None and len(model.balance_schools) == 2 * 4


def test_binary_family_coefficient_is_the_dissimilarity_scale():
    s = np.array([10, 20, 30])
    low = np.array([5, 0, 15])
    fam = multigroup(binary_counts(s, low))
    assert fam.n_groups == 1
    assert fam.scale == pytest.approx(60 / (2 * 20 * 40))
    assert np.allclose(fam.weights[:, 0], low - low.sum() / s.sum() * s)
