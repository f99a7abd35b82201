"""The nested two-level search and whole neighbourhoods against brute force on tiny districts; its
plan repeats under load, and what the clock cuts is reported."""

from __future__ import annotations

import numpy as np
import pytest
from bruteforce import brute_force_two_level
from feeder_districts import (
    District,
    scenario,
    synthetic_hoods,
    synthetic_two_level,
    two_level_frames,
    write_hoods,
    write_middle,
)
from load import busy_thread

from zoneopt.check import check_plan
from zoneopt.errors import InfeasibleError
from zoneopt.solve import optimize
from zoneopt.solve.state import plan_may_differ


def _tiny(tmp_path, seed, **kw):
    units, schools, middle = two_level_frames(2, 4, [0, 3, 5], [1, 6], seed=seed, capacity_slack=1.6, **kw)
    district = District.from_frames(units, schools)
    mpath = write_middle(middle, tmp_path / "middle.csv")
    return district, units, middle, mpath


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_nested_optimum_matches_brute_force_and_no_bound_above_it(tmp_path, seed):
    district, units, middle, mpath = _tiny(tmp_path, seed)
    s = scenario(tmp_path, middle=mpath, feeders={"mode": "nested", "balance_weight": 1.0},
                 solver={"time_limit_s": 20, "mip_gap": 0.0})
    best, _ = brute_force_two_level(district, s, list(middle.geometry), list(middle["capacity"]),
                                    units["middle_students"], units["middle_low_income"])
    plan = optimize(district, s)
    check_plan(district, s, plan.positions, summary=plan.summary).raise_if_failed()
    assert plan.summary["objective"] == pytest.approx(best, abs=1e-7)
    assert plan.summary["bound"] <= best + 1e-7
    assert plan.status == "optimal"
    assert plan.summary["split_feeders_after"] == 0


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_the_relaxations_lp_cut_rounds_never_bound_above_the_brute_force_optimum(
        tmp_path, monkeypatch, seed):
    """The nested bound from the relaxation's LP cut rounds (run on the second core beside the
    two-level steps) plus the middle relaxation's, without the exact proof (as on districts too
    large for it; the sizes at which the rounds start are lowered here): never above the optimum
    that brute force finds on a tiny district."""
    from zoneopt import settings
    from zoneopt.solve import two_level_bound
    from zoneopt.solve.helper import StepHelper
    from zoneopt.solve.proof import second_core_allowed

    monkeypatch.setattr(settings, "PROOF_WORKER_MAX_PAIRS", 0)
    monkeypatch.setattr(settings, "HELPER_MIN_UNITS", 0)
    monkeypatch.setattr(two_level_bound, "PROOF_MAX_LINKS", 0)
    district, units, middle, mpath = _tiny(tmp_path, seed)
    s = scenario(tmp_path, middle=mpath, feeders={"mode": "nested", "balance_weight": 1.0},
                 solver={"time_limit_s": 12, "mip_gap": 0.0})
    best, _ = brute_force_two_level(district, s, list(middle.geometry), list(middle["capacity"]),
                                    units["middle_students"], units["middle_low_income"])
    started = []
    start = StepHelper.start.__func__

    def recorded(cls, *args, **kw):
        started.append(kw.get("with_cuts"))
        return start(cls, *args, **kw)

    monkeypatch.setattr(StepHelper, "start", classmethod(recorded))
    plan = optimize(district, s)
    check_plan(district, s, plan.positions, summary=plan.summary).raise_if_failed()
    # The rounds ran on the second core (where there is one; else here, after the steps).
    assert started == ([True] if second_core_allowed(s) else [])
    assert plan.summary["bound"] <= best + 1e-7
    assert plan.summary["objective"] >= best - 1e-7


def test_nested_respects_a_tight_middle_capacity(tmp_path):
    units, schools, middle = two_level_frames(2, 4, [0, 3, 5], [1, 6], seed=1, capacity_slack=1.6)
    total = int(units["middle_students"].sum())
    middle["capacity"] = [int(total * 0.62), int(total * 0.62)]
    district = District.from_frames(units, schools)
    mpath = write_middle(middle, tmp_path / "middle.csv")
    s = scenario(tmp_path, middle=mpath, feeders={"mode": "nested"},
                 solver={"time_limit_s": 20, "mip_gap": 0.0})
    best, _ = brute_force_two_level(district, s, list(middle.geometry), list(middle["capacity"]),
                                    units["middle_students"], units["middle_low_income"])
    plan = optimize(district, s)
    check_plan(district, s, plan.positions, summary=plan.summary).raise_if_failed()
    assert plan.summary["objective"] == pytest.approx(best, abs=1e-7)
    mid = plan.feeds[plan.positions]
    enr = np.bincount(mid, weights=units["middle_students"], minlength=2)
    assert (enr <= middle["capacity"].to_numpy()).all()


def test_keep_neighbourhoods_matches_brute_force(tmp_path):
    from bruteforce import _feasible_plans

    units, schools, _ = two_level_frames(2, 4, [0, 3, 5], [1, 6], seed=4, capacity_slack=1.6)
    district = District.from_frames(units, schools)
    hoods = write_hoods({"Oak Park": [1, 2], "Riverside": [6, 7]}, units, tmp_path / "h.geojson")
    s = scenario(tmp_path, hoods=hoods, constraints={"keep_neighbourhoods": True},
                 solver={"time_limit_s": 20, "mip_gap": 0.0})
    groups = [np.array([1, 2]), np.array([6, 7])]
    best = min(v for a, v in _feasible_plans(district, s)
               if all(len(set(a[g].tolist())) == 1 for g in groups))
    plan = optimize(district, s)
    check_plan(district, s, plan.positions, summary=plan.summary).raise_if_failed()
    assert plan.summary["objective"] == pytest.approx(best, abs=1e-7)
    assert plan.summary["split_neighbourhoods_after"] == 0
    assert plan.summary["bound"] <= best + 1e-7


def test_a_neighbourhood_holding_two_schools_is_named_as_impossible(tmp_path):
    units, schools, _ = two_level_frames(2, 4, [0, 3, 5], [1, 6], seed=4, capacity_slack=1.6)
    district = District.from_frames(units, schools)
    hoods = write_hoods({"Midtown": [0, 1, 5]}, units, tmp_path / "h.geojson")
    s = scenario(tmp_path, hoods=hoods, constraints={"keep_neighbourhoods": True},
                 solver={"time_limit_s": 5})
    with pytest.raises(InfeasibleError) as err:
        optimize(district, s)
    text = str(err.value)
    assert "Midtown" in text and "S0" in text and "S2" in text


def test_a_neighbourhood_too_big_for_any_school_is_named(tmp_path):
    units, schools, _ = two_level_frames(3, 3, [0, 2, 6, 8], [1, 7], seed=4, capacity_slack=1.05)
    district = District.from_frames(units, schools)
    hoods = write_hoods({"Big Estate": [1, 3, 4, 5, 7]}, units, tmp_path / "h.geojson")
    s = scenario(tmp_path, hoods=hoods, constraints={"keep_neighbourhoods": True},
                 solver={"time_limit_s": 5})
    with pytest.raises(InfeasibleError) as err:
        optimize(district, s)
    assert "Big Estate" in str(err.value) and "students" in str(err.value)


def test_two_middle_schools_forced_into_one_zone_are_named(tmp_path):
    units, schools, middle = two_level_frames(2, 4, [0, 3, 5], [0, 4], seed=2)
    units["locked_school"] = [None, None, None, None, "S0", None, None, None]
    district = District.from_frames(units, schools)
    mpath = write_middle(middle, tmp_path / "middle.csv")
    s = scenario(tmp_path, middle=mpath, feeders={"mode": "nested"}, solver={"time_limit_s": 5})
    with pytest.raises(InfeasibleError) as err:
        optimize(district, s)
    assert "M0" in str(err.value) and "M1" in str(err.value) and "S0" in str(err.value)



@pytest.mark.slow
def test_nested_plan_is_the_same_under_a_busy_thread_and_another_time_limit(tmp_path):
    district, s = synthetic_two_level(tmp_path, 120, 6, 1, solver={"work_budget": 0.02})
    calm = optimize(district, s, time_limit=120)
    with busy_thread():
        loaded = optimize(district, s, time_limit=90)
    for plan in (calm, loaded):
        check_plan(district, s, plan.positions, summary=plan.summary).raise_if_failed()
        # Ended by its counted work; the clock may have cut a bound, never what makes the plan.
        assert not (plan.summary["stopped_by"] == "time_limit"
                    and plan_may_differ(plan.summary.get("clock_ended"))), plan.summary
    assert np.array_equal(calm.positions, loaded.positions)
    assert np.array_equal(calm.feeds, loaded.feeds)
    assert calm.summary["objective"] == loaded.summary["objective"]


def test_a_nested_search_the_clock_ends_says_which_work_it_cut(tmp_path):
    district, s = synthetic_two_level(tmp_path, 300, 15, 65)
    plan = optimize(district, s, time_limit=3)
    check_plan(district, s, plan.positions, summary=plan.summary).raise_if_failed()
    assert plan.summary["stopped_by"] == "time_limit"
    assert "search" in plan.summary["clock_ended"], plan.summary["clock_ended"]
    assert plan_may_differ(plan.summary["clock_ended"])


def test_whole_neighbourhoods_proven_impossible_name_only_the_rules_the_scenario_has(tmp_path):
    """300 x 15 seed 94 with 2-km squares: no plan keeps every neighbourhood whole; the message
    named middle_max_utilization, which a scenario without middle schools does not have. (Moved
    students in the objective, with neighbourhoods split today, keep this on the two-level search:
    the contracted search's message is tested in test_contracted.)"""
    district, s = synthetic_hoods(tmp_path, 300, 15, 94, step_m=2000.0,
                                  solver={"time_limit_s": 30}, objective={"moved_weight": 0.01})
    with pytest.raises(InfeasibleError) as err:
        optimize(district, s)
    text = " ".join(err.value.diagnosis)
    assert "no plan with whole neighbourhoods exists" in text, text
    assert "middle_max_utilization" not in text
    assert "relax the capacities or the distance limits, or set keep_neighbourhoods = false" in text


def test_the_relaxations_lp_cut_rounds_raise_the_nested_bound_and_leave_the_plan(
        tmp_path, monkeypatch):
    """On a district large enough for LP cut rounds (made so here by lowering the size at which
    they start), the nested search runs the relaxation's rounds beside its steps on the second
    core, or after them with one thread: the bound names them and stays below the plan, which
    passes the checker and is the same either way."""
    from zoneopt import settings
    from zoneopt.solve import two_level_bound

    monkeypatch.setattr(settings, "PROOF_WORKER_MAX_PAIRS", 0)
    monkeypatch.setattr(settings, "HELPER_MIN_UNITS", 0)
    # No two-level proof, whose bound would pass them, as on the districts large enough.
    monkeypatch.setattr(two_level_bound, "PROOF_MAX_LINKS", 0)
    plans = []
    for threads in (0, 1):
        district, scen = synthetic_two_level(tmp_path, 120, 6, 1,
                                             constraints={"max_extra_distance_km": 1.0},
                                             solver={"time_limit_s": 10, "threads": threads})
        plan = optimize(district, scen)
        sources = [row["source"] for row in plan.trace if row.get("source")]
        assert any(s.startswith("bound (lp_cuts of the single-level relaxation")
                   for s in sources), sources
        assert plan.summary["bound"] <= plan.summary["objective"] + 1e-9
        assert check_plan(district, scen, plan.positions, summary=plan.summary).ok
        assert "search" not in plan.summary.get("clock_ended", [])
        plans.append(plan.positions)
    assert np.array_equal(plans[0], plans[1])
