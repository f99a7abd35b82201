"""The diagnosis's least stretch: LP bound, rounding and local search, against brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from districts import grid_frames
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zoneopt import District, Scenario
from zoneopt.model import elastic as elastic_module
from zoneopt.model import eligible_pairs
from zoneopt.model.elastic import elastic_solve
from zoneopt.model.elastic_search import ceil_bound, integral_rows, round_and_improve
from zoneopt.synthetic import synthetic_district


def _least_overflow_by_brute_force(district: District, eligible: np.ndarray, cap: np.ndarray,
                                   floor: np.ndarray | None = None):
    """The least total seats above ``cap`` (and students below ``floor``) over every whole-unit
    assignment (zones scattered)."""
    choices = [np.flatnonzero(eligible[i]) for i in range(district.n_units)]
    s = district.students.astype(float)
    low = np.zeros(district.n_schools) if floor is None else floor
    best = np.inf
    for combo in itertools.product(*choices):
        load = np.bincount(combo, weights=s, minlength=district.n_schools)
        best = min(best, float(np.maximum(0.0, load - cap).sum()
                               + np.maximum(0.0, low - load).sum()))
    return best


def _tiny(seed: int, tight: float) -> District:
    units, schools = grid_frames(2, 4, [0, 3, 6], seed=seed)
    schools = schools.assign(
        capacity=np.maximum(1, np.floor(schools["capacity"] * tight)).astype(int))
    return District.from_frames(units, schools)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), tight=st.sampled_from([0.5, 0.6, 0.7, 0.8]),
       km=st.sampled_from([1.0, 2.0, float("inf")]))
def test_the_least_seats_match_brute_force_and_the_bound_never_exceeds_them(seed, tight, km):
    district = _tiny(seed, tight)
    scenario = Scenario.from_dict({"constraints": {"max_extra_distance_km": km}})
    eligible = eligible_pairs(district, scenario)
    truth = _least_overflow_by_brute_force(district, eligible, district.capacity.astype(float))
    result = elastic_solve(district, scenario, eligible, ["capacity"], time_limit=30)
    assert result is not None
    assert result.least <= truth + 1e-6  # the bound is valid
    assert result.stretch >= truth - 1e-6  # the answer is a real assignment
    assert result.stretch == pytest.approx(float(result.over.sum()))
    # Its figures are those of its own assignment, re-derived here.
    load = np.bincount(result.assign, weights=district.students, minlength=district.n_schools)
    assert np.allclose(np.maximum(0.0, load - district.capacity), result.over)
    assert eligible[np.arange(district.n_units), result.assign].all()
    if result.proven:
        assert result.stretch == pytest.approx(truth)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), tight=st.sampled_from([0.6, 0.8]),
       floor=st.sampled_from([0.5, 0.8, 0.95]))
def test_seats_over_and_students_short_on_the_same_rows_match_brute_force(seed, tight, floor):
    """Both slacks of one school's row (over max_utilization, under min_utilization) at once."""
    district = _tiny(seed, tight)
    scenario = Scenario.from_dict({"constraints": {"max_extra_distance_km": 2.0,
                                                   "min_utilization": floor}})
    eligible = eligible_pairs(district, scenario)
    cap = district.capacity.astype(float)
    truth = _least_overflow_by_brute_force(district, eligible, np.floor(cap + 1e-6),
                                           np.ceil(floor * cap - 1e-6))
    result = elastic_solve(district, scenario, eligible, ["capacity", "min_utilization"],
                           time_limit=30)
    assert result is not None
    assert result.least <= truth + 1e-6 <= result.stretch + 2e-6
    assert result.stretch == pytest.approx(float(result.over.sum() + result.under.sum()))
    if result.proven:
        assert result.stretch == pytest.approx(truth)


def _tight_city():
    units, schools = synthetic_district(300, 15, seed=0)
    schools = schools.assign(capacity=np.floor(schools["capacity"] * 0.9).astype(int))
    return District.from_frames(units, schools)


def test_a_tight_city_gets_the_same_least_seats_whatever_the_time_and_proven_by_its_lp():
    district = _tight_city()
    scenario = Scenario.from_dict({"constraints": {"max_extra_distance_km": 1.5}})
    eligible = eligible_pairs(district, scenario)
    short = elastic_solve(district, scenario, eligible, ["capacity"], time_limit=2)
    long = elastic_solve(district, scenario, eligible, ["capacity"], time_limit=30)
    assert short is not None and long is not None
    assert short.proven and short.stretch == short.least
    assert np.array_equal(short.assign, long.assign)
    assert np.array_equal(short.over, long.over)


def test_a_mip_stopped_by_the_clock_is_not_used(monkeypatch):
    """Only counted work decides the figures: a better answer from a MIP that ran out of time
    would make them depend on the machine."""
    district = _tight_city()
    scenario = Scenario.from_dict({"constraints": {"max_extra_distance_km": 1.5}})
    eligible = eligible_pairs(district, scenario)
    from zoneopt.solve import backends

    real = backends.solve
    calls = []

    def clock_stopped(model, *args, **kwargs):
        res = real(model, *args, **kwargs)
        if kwargs.get("relax"):
            # A weaker LP bound, so the search's answer is not proven and the MIP runs.
            return backends.SolveResult("optimal", res.values, res.objective - 50,
                                        res.objective - 50, res.seconds, res.solver)
        calls.append(kwargs.get("node_limit"))
        return backends.SolveResult("feasible", res.values, res.objective - 10, -np.inf,
                                    res.seconds, res.solver, limit="time")

    monkeypatch.setattr(backends, "solve", clock_stopped)
    result = elastic_solve(district, scenario, eligible, ["capacity"], time_limit=30)
    assert calls and calls[0] is not None  # the MIP ran, with a node cap
    monkeypatch.setattr(backends, "solve", real)
    honest = elastic_solve(district, scenario, eligible, ["capacity"], time_limit=30)
    assert result is not None and not result.proven and result.clock and not honest.clock
    assert result.stretch == pytest.approx(honest.stretch)  # the search's answer, not the MIP's
    assert np.array_equal(result.assign, honest.assign)


def test_the_search_never_breaks_a_hard_row_it_was_given_whole():
    # Two units, two schools; the second school's row is hard (no slack column) and full.
    rows = np.array([[1, 1, 0, 0], [0, 0, 1, 1], [10, 0, 20, 0], [0, 10, 0, 20]], dtype=float)
    import scipy.sparse as sp

    a = sp.csr_matrix(rows)
    lo = np.array([1, 1, -np.inf, -np.inf])
    hi = np.array([1, 1, 15, 10])
    unit = np.array([0, 0, 1, 1])
    school = np.array([0, 1, 0, 1])
    share = np.array([0.0, 1.0, 1.0, 0.0])  # unit 0 starts at school 1 (full), unit 1 at school 0
    choice, total, hard_ok = round_and_improve(a, lo, hi, unit, school, share, [(2, -1.0)], 2)
    assert hard_ok
    assert choice.tolist() == [1, 2]  # the only way: unit 0 fills school 1, unit 1 over at school 0
    assert total == pytest.approx(5.0)


def test_whole_rows_round_the_bound_up_and_fractional_ones_do_not():
    import scipy.sparse as sp

    a = sp.csr_matrix(np.array([[1.0, 2.0], [0.5, 1.0]]))
    lo, hi = np.array([0.0, 0.0]), np.array([3.0, 1.5])
    assert integral_rows(a, lo, hi, [0]) and not integral_rows(a, lo, hi, [0, 1])
    assert ceil_bound(1477.2, True) == 1478.0 and ceil_bound(1478.0000001, True) == 1478.0
    assert ceil_bound(1477.2, False) == 1477.2


@pytest.mark.parametrize("clock", [False, True])
def test_the_diagnosis_says_how_far_its_figures_may_be_from_the_least(monkeypatch, clock):
    district = _tight_city()
    scenario = Scenario.from_dict({"constraints": {"max_extra_distance_km": 1.5}})
    eligible = eligible_pairs(district, scenario)
    honest = elastic_solve(district, scenario, eligible, ["capacity"], time_limit=30)
    weaker = elastic_module.ElasticResult(**{**honest.__dict__, "proven": False,
                                             "least": honest.stretch - 40, "clock": clock})
    monkeypatch.setattr(elastic_module, "elastic_solve", lambda *a, **k: weaker)
    monkeypatch.setattr(elastic_module, "distance_finding", lambda *a, **k: "")
    findings = elastic_module.explain_infeasibility(district, scenario, eligible, time_limit=5)
    line = (f"they stretch the limits by {honest.stretch:.0f} students in all, and at least "
            f"{honest.stretch - 40:.0f} is proven necessary")
    assert any(line in f for f in findings), findings
    assert any("stopped at its time limit" in f for f in findings) == clock
