"""The proof's plan checkpoint: its plan after a fixed number of exact rounds counts for the plan
even when the time limit cuts the proof short later, because the same work gives it anywhere."""

import dataclasses
import time

import numpy as np

from zoneopt import Scenario
from zoneopt.check import check_plan
from zoneopt.metrics import dissimilarity
from zoneopt.model import eligible_pairs
from zoneopt.solve import SearchState, merge_proof, objective_function, run_proof
from zoneopt.solve.repair import repair_status_quo
from zoneopt.solve.search import local_search
from zoneopt.solve.work import Budget

SCENARIO = Scenario.from_dict({"constraints": {"max_extra_distance_km": 2.0}})


def _state(district):
    return SearchState(t0=time.perf_counter(), objective_fn=objective_function(district, SCENARIO),
                       district=district)


def test_a_timed_out_proof_gives_its_checkpoint_plan_not_its_last(grid_district):
    eligible = eligible_pairs(grid_district, SCENARIO)
    first = repair_status_quo(grid_district, SCENARIO, eligible)
    later = local_search(grid_district, SCENARIO, eligible, first, deadline=time.perf_counter() + 30)
    value = objective_function(grid_district, SCENARIO)
    assert value(later) < value(first) - 1e-9

    def merged(checkpoint):
        state = _state(grid_district)
        state.offer(first, "search")
        merge_proof(state, {"assign": later, "checkpoint": checkpoint, "timed_out": True,
                            "bound": 0.0, "bounds": {}, "proved": False}, "exact MIP")
        return state

    # Found after the cut-off, the better plan would depend on the machine's speed: not used.
    assert np.array_equal(merged(None).assign, first)
    assert np.array_equal(merged(first).assign, first)
    # Found by the checkpoint's fixed work, it is.
    state = merged(later)
    assert np.array_equal(state.assign, later)
    assert "exact MIP, checkpoint" in [t["source"] for t in state.trace]


def test_run_proof_reports_the_same_checkpoint_every_time(grid_district):
    eligible = eligible_pairs(grid_district, SCENARIO)
    first = repair_status_quo(grid_district, SCENARIO, eligible)
    budget = dataclasses.replace(Budget.for_problem(grid_district, SCENARIO, eligible),
                                 plan_rounds=1, cut_rounds=4)
    seen = []
    runs = [run_proof(grid_district, SCENARIO, eligible, "highs", time.perf_counter() + 120, False,
                      budget, first, on_checkpoint=seen.append) for _ in range(2)]
    a, b = runs
    assert len(seen) == 2  # once per run, after its first round
    for got, res in zip(seen, runs, strict=True):
        assert (got is None and res["checkpoint"] is None) or np.array_equal(got, res["checkpoint"])
    assert a["checkpoint"] is not None, "an exact round improves the repaired status quo"
    assert np.array_equal(a["checkpoint"], b["checkpoint"])
    check_plan(grid_district, SCENARIO, a["checkpoint"]).raise_if_failed()
    d = dissimilarity(a["checkpoint"], grid_district.students, grid_district.low_income,
                      grid_district.n_schools)
    d0 = dissimilarity(first, grid_district.students, grid_district.low_income,
                       grid_district.n_schools)
    assert d < d0
    assert a["bound"] == b["bound"]
    assert a["checkpoint_reached"] and b["checkpoint_reached"]


def test_a_proof_cut_short_after_its_checkpoint_leaves_the_plan_reproducible(grid_district):
    # clock_ended says what the time limit cut short: the proof alone changes only the bound; a
    # proof cut before its checkpoint, or a proof plan taken because there was no other, the plan.
    eligible = eligible_pairs(grid_district, SCENARIO)
    first = repair_status_quo(grid_district, SCENARIO, eligible)
    result = {"assign": None, "checkpoint": None, "timed_out": True, "bound": 0.01, "bounds": {},
              "proved": False}

    def ended(with_plan, **extra):
        state = _state(grid_district)
        if with_plan:
            state.offer(first, "search")
        merge_proof(state, {**result, **extra}, "exact MIP")
        return state.timed_out, state.clock_ended

    assert ended(True, checkpoint_reached=True) == (True, {"proof"})
    assert ended(True, checkpoint_reached=False) == (True, {"proof", "proof checkpoint"})
    assert ended(False, assign=first, checkpoint_reached=True) == (True, {"proof", "search"})
    state = _state(grid_district)
    merge_proof(state, {**result, "timed_out": False}, "exact MIP")
    assert not state.timed_out and state.clock_ended == set()


def test_the_proof_says_why_its_rounds_ended(grid_district):
    eligible = eligible_pairs(grid_district, SCENARIO)
    first = repair_status_quo(grid_district, SCENARIO, eligible)
    budget = dataclasses.replace(Budget.for_problem(grid_district, SCENARIO, eligible), cut_rounds=2)
    result = run_proof(grid_district, SCENARIO, eligible, "highs", time.perf_counter() + 120, False,
                       budget, first)
    assert result["ending"]["why"] in ("rounds", "proven", "node budget")
    assert 1 <= result["ending"]["rounds"] <= 2
    state = _state(grid_district)
    state.offer(first, "search")
    merge_proof(state, result, "exact MIP")
    sources = [t["source"] for t in state.trace]
    assert sources[-2] == (f"proof ended (exact MIP): {result['ending']['why']} after "
                           f"{result['ending']['rounds']} rounds")


def test_a_round_said_infeasible_beside_a_plan_ends_the_proof_aloud(grid_district, monkeypatch,
                                                                     caplog):
    # Every row of the exact relaxation holds for a plan that satisfies the scenario, so a round
    # "infeasible" beside one is the solver's error: the proof stops, says so, and claims nothing.
    import zoneopt.solve.proof as proof_module
    from zoneopt.solve.backends import SolveResult

    eligible = eligible_pairs(grid_district, SCENARIO)
    first = repair_status_quo(grid_district, SCENARIO, eligible)
    monkeypatch.setattr(proof_module, "solve", lambda *a, **k: SolveResult(
        "infeasible", None, None, float("inf"), 0.1, "highs", "proven infeasible"))
    caplog.set_level("WARNING", logger="zoneopt")
    result = run_proof(grid_district, SCENARIO, eligible, "highs", time.perf_counter() + 60, False,
                       Budget.for_problem(grid_district, SCENARIO, eligible), first)
    assert result["ending"] == {"why": "infeasible round", "rounds": 1}
    assert not result["infeasible"] and not result["proved"]
    assert "reported infeasible although a plan satisfies it" in caplog.text
