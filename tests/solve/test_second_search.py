"""The second search: where the root bound is near zero, the second core searches again with the
next seed and the better plan is kept; the plan does not depend on where that search runs."""

import dataclasses
import logging
import signal
import time

import numpy as np
import pytest
from workers import signal_first_worker

import zoneopt
from zoneopt import District, Scenario, settings
from zoneopt.check import check_plan
from zoneopt.model import eligible_pairs
from zoneopt.solve import SearchState, objective_function
from zoneopt.solve.repair import repair_status_quo
from zoneopt.solve.second_search import (
    merge_second_search,
    proof_is_hopeless,
    run_second_search,
    second_scenario,
)
from zoneopt.solve.work import Budget
from zoneopt.synthetic import synthetic_district

# No distance limit: the root LP balances every school (bound 0), the proof cannot gain.
LOOSE = Scenario.from_dict({"solver": {"work_budget": 0.05, "time_limit_s": 120}})


@pytest.fixture(scope="module", autouse=True)
def without_annealing():
    """These tests are about the second search's plumbing, on a district chosen because the
    first seed's search (before simulated annealing) ends worse than the second seed's. With the
    annealing both searches balance it perfectly (D = 0), and neither plan beats the other."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(settings, "ANNEAL_PROPOSALS_PER_UNIT", 0)
        yield


@pytest.fixture(scope="module")
def loose_district():
    # Seed 6: since the search no longer solves a group twice on one plan, the first seed's search
    # on seed 2 goes further and reaches a plan the second seed's does not beat.
    units, schools = synthetic_district(60, 4, seed=6)
    return District.from_frames(units, schools)


def _first_plan(district):
    """The first plan optimize starts both searches from: today's zones break the capacity rule
    here, so their repair."""
    eligible = eligible_pairs(district, LOOSE)
    assert not check_plan(district, LOOSE, district.status_quo).ok
    first = repair_status_quo(district, LOOSE, eligible, deadline=time.perf_counter() + 60)
    assert check_plan(district, LOOSE, first).ok
    return eligible, first


def test_the_proof_is_hopeless_only_for_a_near_zero_bound_on_a_contiguous_auto_problem():
    assert proof_is_hopeless(LOOSE, 0.0, 0.2, pairs=400)
    assert proof_is_hopeless(LOOSE, 0.009, 0.2, pairs=400)
    assert not proof_is_hopeless(LOOSE, 0.011, 0.2, pairs=400)  # 5.5% of the first plan: the proof may gain
    assert not proof_is_hopeless(LOOSE, 0.0, 0.0, pairs=400)  # nothing left to improve
    flat = Scenario.from_dict({"constraints": {"contiguity": False}})
    assert not proof_is_hopeless(flat, 0.0, 0.2, pairs=400)  # without contiguity the MIP proves balance
    chosen = Scenario.from_dict({"solver": {"contiguity_model": "closer_neighbour"}})
    assert not proof_is_hopeless(chosen, 0.0, 0.2, pairs=400)


def test_the_second_scenario_differs_only_in_its_seed():
    other = second_scenario(LOOSE)
    assert other.solver.seed == LOOSE.solver.seed + 1
    assert dataclasses.replace(other.solver, seed=LOOSE.solver.seed) == LOOSE.solver
    assert other.constraints == LOOSE.constraints and other.objective == LOOSE.objective


def _state(district, plan, timed_out=False):
    state = SearchState(t0=time.perf_counter(), objective_fn=objective_function(district, LOOSE),
                        district=district)
    state.offer(plan, "search")
    state.timed_out = timed_out
    return state


def test_a_second_plan_cut_short_by_the_clock_counts_only_when_the_first_was_cut_short_too(
        loose_district):
    eligible, sq = _first_plan(loose_district)
    result = run_second_search(loose_district, LOOSE, eligible, sq, "highs",
                               time.perf_counter() + 60, Budget.for_problem(loose_district, LOOSE,
                                                                            eligible))
    better = result["assign"]
    assert check_plan(loose_district, LOOSE, better).ok
    value = objective_function(loose_district, LOOSE)
    assert value(better) < value(sq) - 1e-9

    state = _state(loose_district, sq)
    merge_second_search(state, {**result, "timed_out": True})
    assert np.array_equal(state.assign, sq)  # would depend on the machine's speed: not used
    assert state.timed_out  # the clock ended the run's counted work: stopped_by = "time_limit"
    assert state.clock_ended == {"search"}

    state = _state(loose_district, sq, timed_out=True)
    merge_second_search(state, {**result, "timed_out": True})
    assert np.array_equal(state.assign, better)

    state = _state(loose_district, sq)
    merge_second_search(state, result)
    assert np.array_equal(state.assign, better)
    assert not state.timed_out
    assert state.trace[-1]["source"] == f"second search (seed {LOOSE.solver.seed + 1})"


@pytest.fixture(scope="module")
def runs(loose_district):
    """optimize on the loose district with the second search on a worker, and in this process."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(settings, "PARALLEL_MIN_PAIRS", 0)  # this small district counts as large
        mp.setattr(settings, "PARALLEL_MIN_SECONDS", 0.0)
        mp.delenv("ZONEOPT_NO_WORKER", raising=False)
        on_worker = zoneopt.optimize(loose_district, LOOSE)
        mp.setenv("ZONEOPT_NO_WORKER", "1")
        in_process = zoneopt.optimize(loose_district, LOOSE)
    return on_worker, in_process


def test_the_second_search_plan_is_taken_wherever_that_search_runs(loose_district, runs):
    on_worker, in_process = runs
    eligible, first = _first_plan(loose_district)
    value = objective_function(loose_district, LOOSE)
    second = run_second_search(loose_district, LOOSE, eligible, first, "highs",
                               time.perf_counter() + 60,
                               Budget.for_problem(loose_district, LOOSE, eligible))["assign"]
    label = f"second search (seed {LOOSE.solver.seed + 1})"
    for plan in (on_worker, in_process):
        assert plan.summary["stopped_by"] in ("work_budget", "proof")
        assert check_plan(loose_district, LOOSE, plan.positions, summary=plan.summary).ok
        # On this district the second seed's search beats the first: its plan was taken (the
        # proof, run with the time left, may improve on it).
        assert any(t["source"] == label for t in plan.trace)
        assert value(plan.positions) <= value(second) + 1e-12
    assert np.array_equal(on_worker.positions, in_process.positions)
    assert on_worker.summary["bound"] == in_process.summary["bound"]


@pytest.mark.parametrize("sig, words", [(signal.SIGKILL, "failed"), (signal.SIGSTOP, "hung")])
def test_a_killed_or_hung_second_worker_changes_nothing_but_where_the_search_ran(
        loose_district, runs, monkeypatch, caplog, sig, words):
    monkeypatch.setattr(settings, "PARALLEL_MIN_PAIRS", 0)
    monkeypatch.setattr(settings, "PARALLEL_MIN_SECONDS", 0.0)
    # Stopped while it starts (before its first beat): the start grace is what notices it.
    monkeypatch.setattr(settings, "WORKER_START_GRACE_S", 5.0)
    monkeypatch.delenv("ZONEOPT_NO_WORKER", raising=False)
    caplog.set_level(logging.WARNING, logger="zoneopt")
    signaller, signalled = signal_first_worker(sig, after_s=0.5)
    plan = zoneopt.optimize(loose_district, LOOSE)
    signaller.join()
    assert signalled, "the worker never started"
    assert "searching in this process" in caplog.text and words in caplog.text
    reference = runs[1]
    assert np.array_equal(plan.positions, reference.positions)
    assert plan.summary["stopped_by"] == reference.summary["stopped_by"]


def test_the_proof_after_both_searches_gives_only_its_bound_when_the_clock_ends_it(
        loose_district, monkeypatch):
    # It has only the time the two searches left, which differs by machine: a plan it found by
    # then (even at its checkpoint) would make the run's plan differ too.
    import zoneopt.solve as solve_module

    monkeypatch.setattr(settings, "PARALLEL_MIN_PAIRS", 0)  # this small district counts as large
    monkeypatch.setenv("ZONEOPT_NO_WORKER", "1")
    real_proof, real_merge, merged = solve_module.run_proof, solve_module.merge_proof, []

    def cut_short(*args, **kwargs):
        result = real_proof(*args, **kwargs)
        some_plan = np.asarray(args[7], dtype=np.int64)  # the first plan
        return {**result, "timed_out": True, "assign": some_plan, "checkpoint": some_plan,
                "checkpoint_reached": True, "bound": 1e-5}

    def merge(state, result, label):
        merged.append(result)
        return real_merge(state, result, label)

    monkeypatch.setattr(solve_module, "run_proof", cut_short)
    monkeypatch.setattr(solve_module, "merge_proof", merge)
    plan = zoneopt.optimize(loose_district, LOOSE)
    assert len(merged) == 1
    assert merged[0]["assign"] is None and merged[0]["checkpoint"] is None
    assert plan.summary["bound"] >= 1e-5  # its bound still counts
    assert plan.summary["stopped_by"] == "time_limit" and plan.summary["clock_ended"] == ["proof"]
    assert check_plan(loose_district, LOOSE, plan.positions, summary=plan.summary).ok
