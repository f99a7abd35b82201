"""The whole district's feasibility MIP beside the repair's elastic steps (zoneopt.solve.start_mip)."""

import os
import signal
import time

import numpy as np
import pytest

from zoneopt import District, Scenario, optimize, settings
from zoneopt.check import check_plan
from zoneopt.model import eligible_pairs
from zoneopt.solve import _repair_start, overflow, start_mip
from zoneopt.solve.repair import elastic_steps_wanted
from zoneopt.solve.start_mip import StartMip, start_mip_applies
from zoneopt.solve.state import SearchState, objective_function
from zoneopt.synthetic import synthetic_district

SCENARIO = Scenario.from_dict({"constraints": {"max_extra_distance_km": 3.0,
                                               "max_utilization": 1.0},
                               "solver": {"work_budget": 0.1}})


@pytest.fixture(autouse=True)
def no_seats_annealing(monkeypatch):
    """The seats' annealing (zoneopt.solve.seat_moves) fits this district's seats before the
    elastic steps start, so the MIP beside them would never be asked: switched off here, where the
    MIP's own rules are tested."""
    from zoneopt.solve import seat_moves

    monkeypatch.setattr(seat_moves, "PROPOSALS_PER_UNIT", 0)


@pytest.fixture(scope="module")
def tight():
    """800 units x 40 schools with 95% of the generator's seats (4.5% spare), 3 km: the repair's
    strict steps leave schools over, so its elastic steps start, and the feasibility MIP finds a
    plan in under a second."""
    units, schools = synthetic_district(800, 40, seed=0)
    schools = schools.copy()
    schools["capacity"] = np.ceil(schools["capacity"] * 0.95).astype(int)
    district = District.from_frames(units, schools)
    assert elastic_steps_wanted(district) and start_mip_applies(SCENARIO)
    return district, eligible_pairs(district, SCENARIO)


def _first_plan(district, eligible, second_core: bool):
    state = SearchState(t0=0.0, objective_fn=objective_function(district, SCENARIO),
                        district=district)
    _repair_start(district, SCENARIO, eligible, state, "highs", time.perf_counter() + 60,
                  second_core=second_core)
    return state


def test_the_mips_plan_counts_first_and_passes_the_checker(tight):
    district, eligible = tight
    state = _first_plan(district, eligible, second_core=False)
    assert state.assign is not None
    assert state.trace[-1]["source"] == "feasibility MIP beside the repair"
    report = check_plan(district, SCENARIO, state.assign)
    assert report.ok, report.violations


def test_the_plan_is_the_same_in_a_worker_here_and_after_the_worker_died_or_hung(tight, monkeypatch,
                                                                               caplog):
    district, eligible = tight
    here = _first_plan(district, eligible, second_core=False).assign
    in_worker = _first_plan(district, eligible, second_core=True).assign
    assert np.array_equal(here, in_worker)

    for sig in (signal.SIGKILL, signal.SIGSTOP):
        monkeypatch.setattr(settings, "WORKER_START_GRACE_S", 1.0)
        mip = StartMip.launch(district, SCENARIO, eligible, "highs", time.perf_counter() + 60,
                              worker=True)
        os.kill(mip.proc.pid, sig)
        with caplog.at_level("WARNING", logger="zoneopt"):
            plan = mip.plan()
        assert "solving it in this process" in caplog.text
        assert mip.proc is None  # the worker is gone, stopped or not
        assert np.array_equal(plan, here)


def test_the_repairs_plan_is_used_when_the_mip_finds_none(tight, monkeypatch):
    district, eligible = tight
    monkeypatch.setattr(start_mip, "start_mip_plan", lambda *a, **k: (None, False))
    state = _first_plan(district, eligible, second_core=False)
    assert state.assign is not None
    assert state.trace[-1]["source"] == "repair"
    assert check_plan(district, SCENARIO, state.assign).ok


def test_elastic_steps_stop_as_soon_as_the_mip_has_a_plan(tight, monkeypatch):
    district, eligible = tight
    steps = []
    real_step = overflow._step

    def step(*args):
        steps.append(args[1])
        return real_step(*args)

    monkeypatch.setattr(overflow, "_step", step)
    _first_plan(district, eligible, second_core=False)
    assert steps == []  # the MIP ran first, here, and its plan stopped them before the first


@pytest.mark.parametrize("seed", [0, 5])
def test_the_jump_seeds_run_in_order_from_the_scenarios_and_a_plan_ends_them(tight, monkeypatch,
                                                                            seed):
    """HiGHS's heuristics before the root run with the scenario's seed, then the next ones, until
    one finds a plan; the 100-node MIP runs only when none did."""
    from zoneopt.solve import backends

    district, eligible = tight
    scenario = SCENARIO.with_values({"solver.seed": seed})
    seeds, found, mips = [], [], []
    real_jump, real_solve = backends.jump_start, backends.solve

    def jump(model, *, seed, time_limit, threads=0):
        seeds.append(seed)
        values, timed_out = real_jump(model, seed=seed, time_limit=time_limit, threads=threads)
        found.append(values is not None)
        return values, timed_out

    def solve(*args, **kwargs):
        mips.append(kwargs["node_limit"])
        return real_solve(*args, **kwargs)

    monkeypatch.setattr(backends, "jump_start", jump)
    monkeypatch.setattr(backends, "solve", solve)
    plan, timed_out = start_mip.start_mip_plan(district, scenario, eligible, "highs",
                                               time.perf_counter() + 60)
    assert seeds == list(range(seed, seed + len(seeds)))
    assert not any(found[:-1])  # every seed before the last found nothing
    if found[-1]:
        assert mips == []
    else:
        assert len(seeds) == settings.START_JUMP_SEEDS and mips == [settings.START_MIP_NODES]
    assert plan is not None and not timed_out
    assert check_plan(district, scenario, plan).ok
    again, _ = start_mip.start_mip_plan(district, scenario, eligible, "highs",
                                        time.perf_counter() + 60)
    assert np.array_equal(plan, again)


def test_optimize_starts_from_the_mip_and_its_plan_passes_the_checker(tight):
    """Through optimize (5 s: too short for a worker, so the MIP runs in process; the worker's
    road is the test above)."""
    district, _ = tight
    plan = optimize(district, SCENARIO, time_limit=5)
    sources = [e["source"] for e in plan.trace if e.get("objective") is not None]
    assert sources[0] == "feasibility MIP beside the repair"
    assert plan.check().ok
    assert plan.summary["dissimilarity_after"] < plan.summary["dissimilarity_before"]
