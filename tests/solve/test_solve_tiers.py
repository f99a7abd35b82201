"""balance = "tiers" and tier_band: brute force on tiny districts, the search's delta arithmetic, and
the monitored report_ columns that must play no part in any plan."""

from __future__ import annotations

import math

import numpy as np
import pytest
from bruteforce import brute_force
from districts import grid_frames
from hypothesis import given, settings
from hypothesis import strategies as st

from zoneopt import District, InfeasibleError, Scenario, optimize
from zoneopt.check import check_plan
from zoneopt.model import eligible_pairs
from zoneopt.solve.search import local_search
from zoneopt.tiers import multigroup_dissimilarity, tier_counts


def _tiny(seed, rows=2, cols=4, schools=(0, 7), k=3):
    rng = np.random.default_rng(seed)
    units, sch = grid_frames(rows, cols, list(schools), seed=seed, capacity_slack=1.4)
    units["ses_tier"] = rng.integers(1, k + 1, rows * cols)
    return District.from_frames(units, sch)


CASES = [
    (1, {}, {}),
    (2, {"tier_band": 0.25}, {}),
    (3, {"max_moved_share": 0.5}, {"distance_weight": 0.02}),
    (4, {"tier_band": 0.3, "low_income_band": 0.3}, {}),
]


@pytest.mark.parametrize("seed, constraints, objective", CASES)
def test_tiers_plan_matches_brute_force(seed, constraints, objective):
    d = _tiny(seed, schools=(0, 4, 7) if seed % 2 else (0, 7))
    s = Scenario.from_dict({
        "objective": {"balance": "tiers", **objective}, "constraints": constraints,
        "solver": {"time_limit_s": 15, "mip_gap": 0.0, "contiguity_model": "exact"}})
    best, _ = brute_force(d, s)
    try:
        plan = optimize(d, s)
    except InfeasibleError:
        assert math.isinf(best)
        return
    assert plan.check().ok
    assert plan.summary["objective"] == pytest.approx(best, abs=1e-9)
    assert plan.summary["status"] == "optimal"
    assert plan.summary["bound"] <= best + 1e-9
    assert plan.summary["tier_dissimilarity_after"] == pytest.approx(
        best - (plan.summary["objective"] - plan.summary["tier_dissimilarity_after"]))


def test_default_mode_is_honest_on_a_tiny_tiers_district():
    d = _tiny(5, schools=(0, 4, 7))
    s = Scenario.from_dict({"objective": {"balance": "tiers"}, "solver": {"time_limit_s": 8}})
    best, _ = brute_force(d, s)
    plan = optimize(d, s)
    assert plan.check().ok
    assert plan.summary["objective"] >= best - 1e-9
    assert plan.summary["bound"] <= best + 1e-9


def test_local_search_lowers_d_t_and_keeps_the_tier_band():
    units, schools = grid_frames(6, 6, [0, 5, 30, 35], seed=1)
    col = np.arange(36) % 6
    units["ses_tier"] = np.clip(1 + col // 2 + (np.arange(36) // 6) % 2, 1, 4)
    d = District.from_frames(units, schools)
    s = Scenario.from_dict({"objective": {"balance": "tiers"}, "constraints": {"tier_band": 0.4}})
    assert check_plan(d, s, d.status_quo).ok
    start = multigroup_dissimilarity(d.status_quo, tier_counts(d), 4)
    out = local_search(d, s, eligible_pairs(d, s), d.status_quo, deadline=math.inf)
    assert multigroup_dissimilarity(out, tier_counts(d), 4) < start - 0.05
    assert check_plan(d, s, out).ok


def test_permuting_report_columns_leaves_the_plan_unchanged():
    # Small enough that every search ends by proof, not by the clock: the plans are repeatable.
    units, schools = grid_frames(4, 4, [0, 3, 15], seed=3)
    units["ses_tier"] = 1 + (np.arange(16) % 4 + np.arange(16) // 4) % 3
    rng = np.random.default_rng(0)
    units["report_hispanic"] = (units["students"] * rng.uniform(0, 1, 16)).astype(int)
    units["report_black"] = ((units["students"] - units["report_hispanic"])
                             * rng.uniform(0, 1, 16)).astype(int)
    permuted = units.copy()
    order = rng.permutation(16)
    for col in ("report_hispanic", "report_black"):
        permuted[col] = units[col].to_numpy()[order]
    s = Scenario.from_dict({"objective": {"balance": "tiers"},
                            "solver": {"time_limit_s": 20, "threads": 1}})
    a = optimize(District.from_frames(units, schools), s)
    b = optimize(District.from_frames(permuted, schools), s)
    assert a.summary["status"] == b.summary["status"] == "optimal"
    assert a.check().ok and b.check().ok
    assert a.assignment.equals(b.assignment)
    assert a.summary["objective"] == b.summary["objective"]
    # The monitored figures do follow the permuted columns.
    assert a.summary["report_dissimilarity_after"] != b.summary["report_dissimilarity_after"]
    assert set(a.summary["report_dissimilarity_before"]) == {"hispanic", "black"}
    assert "report_black_share_after" in a.schools_table.columns


def test_bad_tier_or_report_column_is_an_input_error_before_solving():
    from zoneopt.errors import ZoneoptInputError

    units, schools = grid_frames(2, 3, [0, 5], seed=1)
    units["ses_tier"] = [1, 2, 2.5, 1, 2, 1]
    s = Scenario.from_dict({"objective": {"balance": "tiers"}})
    with pytest.raises(ZoneoptInputError, match="whole number"):
        optimize(District.from_frames(units, schools), s)
    units["ses_tier"] = [1, 2, 2, 1, 2, 1]
    units["report_group"] = [1, 2, -3, 0, 0, 0]
    with pytest.raises(ZoneoptInputError, match="report_group"):
        optimize(District.from_frames(units, schools), s)


@st.composite
def tiny_tier_cases(draw):
    rows, cols = draw(st.sampled_from([(2, 3), (2, 4), (3, 3)]))
    n = rows * cols
    seed = draw(st.integers(0, 10_000))
    rng = np.random.default_rng(seed)
    m = draw(st.integers(2, 3))
    cells = sorted(rng.choice(n, size=m, replace=False).tolist())
    units, schools = grid_frames(rows, cols, cells, seed=seed,
                                 students=rng.integers(0, 120, n),
                                 capacity_slack=draw(st.sampled_from([1.2, 1.6])))
    units["ses_tier"] = rng.integers(1, draw(st.integers(2, 4)) + 1, n)
    c = {"tier_band": draw(st.sampled_from([math.inf, 0.3])),
         "max_moved_share": draw(st.sampled_from([1.0, 0.6]))}
    o = {"balance": "tiers", "distance_weight": draw(st.sampled_from([0.0, 0.02]))}
    return District.from_frames(units, schools), c, o


@pytest.mark.slow
@settings(max_examples=12)
@given(tiny_tier_cases())
def test_random_tiny_tier_districts_match_brute_force(case):
    d, c, o = case
    s = Scenario.from_dict({"objective": o, "constraints": c,
                            "solver": {"time_limit_s": 15, "mip_gap": 0.0,
                                       "contiguity_model": "exact"}})
    best, _ = brute_force(d, s)
    try:
        plan = optimize(d, s)
    except InfeasibleError:
        assert math.isinf(best)
        return
    assert plan.check().ok
    assert plan.summary["objective"] == pytest.approx(best, abs=1e-9)
    assert plan.summary["status"] == "optimal"
    assert plan.summary["bound"] <= best + 1e-9
