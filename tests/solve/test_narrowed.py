"""Plans under narrower distance limits (zoneopt.solve.narrowed): a restriction whose plans are
plans, tried where the repair under the scenario's own limits finds none."""

import math
import time

import numpy as np
import pytest

from zoneopt import District, Scenario, optimize, solve
from zoneopt.check import check_plan
from zoneopt.model import eligible_pairs
from zoneopt.solve.narrowed import (
    REFERENCE_SCHOOLS,
    label,
    narrowed,
    reference_extra_km,
    reference_pairs,
    repair_narrowed,
)
from zoneopt.solve.repair import repair_status_quo
from zoneopt.solve.state import SearchState, objective_function
from zoneopt.synthetic import synthetic_district


def _tight(n, m, seed, seats):
    units, schools = synthetic_district(n, m, seed=seed)
    schools = schools.copy()
    schools["capacity"] = np.ceil(schools["capacity"] * seats).astype(int)
    return District.from_frames(units, schools)


def _limits(km, **solver):
    return Scenario.from_dict({"constraints": {"max_extra_distance_km": km}, "solver": solver})


def test_narrower_limits_keep_a_subset_of_the_pairs_and_nothing_without_a_finite_limit():
    district = _tight(60, 4, 0, 1.0)
    wide = _limits(3.0)
    eligible = eligible_pairs(district, wide)
    narrow, pairs = narrowed(district, wide, eligible, 0.5)
    assert narrow.constraints.max_extra_distance_km == 1.5
    assert math.isinf(narrow.constraints.max_distance_km)  # an infinite limit stays infinite
    assert np.array_equal(pairs, eligible_pairs(district, _limits(1.5)) & eligible)
    assert pairs.sum() < eligible.sum() and not (pairs & ~eligible).any()
    # No finite limit and no more than REFERENCE_SCHOOLS (4) schools per unit, or a factor that
    # changes no pair: nothing to try.
    assert narrowed(district, Scenario(), eligible_pairs(district, Scenario()), 0.5) is None
    assert narrowed(district, wide, eligible, 1.0) is None


def test_without_a_finite_limit_the_narrowing_starts_from_the_districts_own_scale():
    """Four schools per unit on average within the reference extra distance, and no fewer."""
    district = _tight(200, 10, 0, 1.0)
    everything = eligible_pairs(district, Scenario())
    reference = reference_extra_km(district, everything)
    extra = district.dist_km - district.nearest_km[:, None]
    assert (extra[everything] <= reference).sum() >= REFERENCE_SCHOOLS * district.n_units
    assert (extra[everything] < reference).sum() < REFERENCE_SCHOOLS * district.n_units
    narrow, pairs = narrowed(district, Scenario(), everything, 0.5)
    assert narrow.constraints.max_extra_distance_km == pytest.approx(0.5 * reference)
    assert math.isinf(narrow.constraints.max_distance_km)
    assert np.array_equal(pairs, eligible_pairs(district, narrow))
    assert label(0.5, Scenario(), narrow) == f"extra distance {0.5 * reference:.2f} km"
    assert label(0.5, _limits(3.0), narrow) == "distance limits x0.5"


def test_the_repair_under_narrower_limits_mends_what_it_cannot_under_the_scenarios_own():
    """200 x 10, seats x0.92 (1.2% spare), 3 km: the repair fails at 3 km and finds a plan at
    1.5 km, which keeps the 3-km rules (the whole 30-s run ended without a plan before)."""
    district = _tight(200, 10, 0, 0.92)
    scenario = _limits(3.0)
    eligible = eligible_pairs(district, scenario)
    assert repair_status_quo(district, scenario, eligible) is None
    state = SearchState(time.perf_counter(), objective_function(district, scenario), district)
    assert repair_narrowed(district, scenario, eligible, state, "highs", math.inf)
    assert state.trace[0]["source"] == "repair (distance limits x0.5)"
    assert check_plan(district, scenario, state.assign).ok


@pytest.mark.parametrize("km, narrowed_repair, source", [
    (3.0, True, "repair (distance limits x0.75)"),
    (6.0, False, "CP-SAT feasibility (distance limits x0.5)"),
])
def test_optimize_takes_its_first_plan_from_narrower_limits_when_the_repair_finds_none(
        monkeypatch, km, narrowed_repair, source):
    district = _tight(40, 3, 1, 0.9)
    scenario = _limits(km, work_budget=0.1)
    monkeypatch.setattr(solve, "_repair_start", lambda *args, **kwargs: None)
    if not narrowed_repair:
        monkeypatch.setattr(solve, "repair_narrowed", lambda *args, **kwargs: False)
    plan = optimize(district, scenario, time_limit=60)
    assert plan.check().ok
    first = next(t for t in plan.trace if t["objective"] is not None)
    assert first["source"] == source


def test_a_scenario_without_a_distance_limit_gets_a_repair_under_narrower_ones():
    """40 x 6, seats x0.95, no limit: the repair at three quarters of the reference (2.87 km)."""
    district = _tight(40, 6, 1, 0.95)
    eligible = eligible_pairs(district, Scenario())
    state = SearchState(time.perf_counter(), objective_function(district, Scenario()), district)
    assert repair_narrowed(district, Scenario(), eligible, state, "highs", math.inf)
    assert state.trace[0]["source"] == "repair (extra distance 2.15 km)"
    assert check_plan(district, Scenario(), state.assign).ok


def test_a_scenario_without_a_distance_limit_takes_cpsats_plan_under_narrower_ones(monkeypatch):
    """The same district with the repair left out: CP-SAT's plan at half the reference."""
    district = _tight(40, 6, 1, 0.95)
    scenario = Scenario.from_dict({"solver": {"work_budget": 0.02}})
    monkeypatch.setattr(solve, "_repair_start", lambda *args, **kwargs: None)
    monkeypatch.setattr(solve, "repair_narrowed", lambda *args, **kwargs: False)
    plan = optimize(district, scenario, time_limit=60)
    assert plan.check().ok
    first = next(t for t in plan.trace if t["objective"] is not None)
    assert first["source"] == "CP-SAT feasibility (extra distance 1.43 km)"


def test_reference_pairs_are_eligible_pairs_within_the_reference_distance_keeping_locks():
    district = _tight(200, 10, 0, 1.0)
    everything = eligible_pairs(district, Scenario())
    reference = reference_extra_km(district, everything)
    pairs = reference_pairs(district, Scenario(), everything)
    assert not (pairs & ~everything).any() and pairs.any(axis=1).all()
    extra = district.dist_km - district.nearest_km[:, None]
    free = np.ones(district.n_units, dtype=bool)
    free[district.home_unit] = False
    assert (extra[free][pairs[free]] <= reference + 1e-9).all()
    assert (pairs[free] == (everything & (extra <= reference + 1e-9))[free]).all()
    # A unit locked to a school beyond the reference distance keeps its pair.
    far = int(np.flatnonzero(free)[0])
    school = int(np.argmax(np.where(everything[far], extra[far], -1)))
    assert extra[far, school] > reference
    units, schools = synthetic_district(200, 10, seed=0)
    units = units.copy()
    units["locked_school"] = None
    units.loc[units.index[far], "locked_school"] = district.schools["school_id"].iloc[school]
    locked = District.from_frames(units, schools)
    locked_pairs = eligible_pairs(locked, Scenario())
    kept = reference_pairs(locked, Scenario(), locked_pairs)
    assert kept[far, school] and kept[far].sum() == 1
    # The scenario's own extra distance is the narrower: nothing to narrow.
    tight = _limits(0.5 * reference)
    tight_pairs = eligible_pairs(district, tight)
    assert reference_pairs(district, tight, tight_pairs) is tight_pairs
