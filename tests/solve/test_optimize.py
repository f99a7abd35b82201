import numpy as np
import pytest
from districts import grid_frames
from hypothesis import given, settings
from strategies import districts, scenarios

from zoneopt import District, InfeasibleError, NoSolutionError, Scenario, check_plan, optimize


@settings(max_examples=20)
@given(districts(), scenarios(time_limit=2.0))
def test_every_plan_passes_the_checker_and_reports_the_checkers_figures(district, scenario):
    try:
        plan = optimize(district, scenario)
    except (InfeasibleError, NoSolutionError) as exc:
        assert exc.plan is not None and exc.plan.positions is None
        return
    report = check_plan(district, scenario, plan.assignment, summary=plan.summary)
    assert report.ok, report.violations
    s = plan.summary
    assert 0 <= s["bound"] <= s["objective"] + 1e-12
    assert s["status"] in ("optimal", "feasible")
    if s["status"] == "optimal":
        assert s["gap"] <= scenario.solver.mip_gap + 1e-9


def test_plan_improves_balance_on_a_segregated_grid(grid_district):
    plan = optimize(grid_district, Scenario(), time_limit=4)
    s = plan.summary
    assert s["dissimilarity_after"] < 0.5 * s["dissimilarity_before"]
    assert plan.check().ok


def test_a_work_budget_too_small_to_prove_gives_feasible_with_its_gap():
    # One node, one cut round, one search step: not enough to prove 64 units and 5 schools, on
    # any machine (counted work, not seconds).
    units, schools = grid_frames(8, 8, [9, 14, 49, 54, 27], seed=7)
    district = District.from_frames(units, schools)
    plan = optimize(district, Scenario.from_dict({"solver": {"work_budget": 0.001}}), time_limit=60)
    assert plan.summary["stopped_by"] == "work_budget"
    assert plan.summary["status"] == "feasible"
    assert plan.summary["gap"] > 0.01
    assert plan.check().ok


def test_a_time_limit_that_ends_the_search_is_reported_as_such():
    units, schools = grid_frames(8, 8, [9, 14, 49, 54, 27], seed=7)
    district = District.from_frames(units, schools)
    plan = optimize(district, Scenario.from_dict({"solver": {"work_budget": 1000}}), time_limit=1.0)
    s = plan.summary
    assert s["stopped_by"] == "time_limit"
    assert s["solve_seconds"] < 10
    assert (s["status"] == "optimal") == (s["gap"] <= 0.01 + 1e-9)  # the one rule, either way
    assert plan.check().ok


def test_same_inputs_give_the_same_plan():
    units, schools = grid_frames(5, 6, [7, 22], seed=4)
    district = District.from_frames(units, schools)
    # A fifth of the default work: the plan balances the grid to D = 0.00003 over a bound of 0,
    # and the default proof spends 15 s of each run failing to close that gap.
    s = Scenario.from_dict({"solver": {"time_limit_s": 30, "mip_gap": 0.0, "work_budget": 0.2}})
    a = optimize(district, s).assignment
    b = optimize(District.from_frames(units, schools), s).assignment
    assert a.equals(b)


def test_capacity_shortfall_is_diagnosed_with_numbers():
    units, schools = grid_frames(3, 3, [0, 8], capacity_slack=0.8)
    with pytest.raises(InfeasibleError, match="short by") as info:
        optimize(District.from_frames(units, schools), Scenario(), time_limit=5)
    assert info.value.plan.summary["diagnosis"]


def test_unreachable_units_are_listed():
    units, schools = grid_frames(1, 6, [0, 1])
    s = Scenario.from_dict({"constraints": {"max_distance_km": 2.5}})
    with pytest.raises(InfeasibleError, match="U0004"):
        optimize(District.from_frames(units, schools), s, time_limit=5)


def test_cbc_solves_the_same_problem(grid_district):
    s = Scenario.from_dict({"solver": {"name": "cbc", "time_limit_s": 4}})
    plan = optimize(grid_district, s)
    assert plan.summary["solver"] == "cbc"
    assert plan.check().ok


def test_unknown_solver_names_the_fix(grid_district):
    from zoneopt import ZoneoptInputError

    with pytest.raises(ZoneoptInputError, match="unknown solver"):
        optimize(grid_district, Scenario(), solver="nosuchsolver")


def test_locked_units_stay_put(grid_district):
    units, schools = grid_frames(6, 8, [9, 14, 33, 38], seed=1)
    units["locked_school"] = [None] * 48
    units.loc[0, "locked_school"] = "S0"
    units.loc[47, "locked_school"] = "S3"
    district = District.from_frames(units, schools)
    plan = optimize(district, Scenario(), time_limit=5)
    assert plan.assignment["U0000"] == "S0" and plan.assignment["U0047"] == "S3"


def test_distance_weight_shortens_trips(grid_district):
    balance = optimize(grid_district, Scenario(), time_limit=5)
    short = optimize(grid_district, Scenario.from_dict({"objective": {"distance_weight": 1.0}}),
                     time_limit=5)
    assert short.summary["mean_distance_km_after"] <= balance.summary["mean_distance_km_after"] + 1e-9


def test_closer_neighbour_mode_returns_a_checked_plan(grid_district):
    s = Scenario.from_dict({"objective": {"distance_weight": 0.1},
                            "solver": {"contiguity_model": "closer_neighbour", "time_limit_s": 20,
                                       "work_budget": 0.05}})
    plan = optimize(grid_district, s)
    assert plan.check().ok
    # the bound comes from the exact problem's cut loop (it ran), not the restricted model's solve;
    # with a distance term the relaxation's bound is positive
    assert any(t["source"] == "proof done (exact MIP)" for t in plan.trace)
    assert 0 < plan.summary["bound"] <= plan.summary["objective"]


def test_a_given_start_plan_is_used_and_never_made_worse(grid_district):
    first = optimize(grid_district, Scenario(), time_limit=3)
    again = optimize(grid_district, Scenario(), time_limit=1, start=first)
    assert again.trace[0]["source"] == "given start"
    assert again.summary["objective"] <= first.summary["objective"] + 1e-12


def _run_without_a_plan(district, scenario):
    """The optimisation loop of ``optimize`` for ``district``, before any plan is found."""
    import time

    from zoneopt.model import eligible_pairs
    from zoneopt.solve import _Run
    from zoneopt.solve.state import SearchState, objective_function
    from zoneopt.solve.work import Budget

    eligible = eligible_pairs(district, scenario)
    state = SearchState(t0=time.perf_counter(), objective_fn=objective_function(district, scenario),
                        district=district)
    return _Run(district, scenario, eligible, state, "highs", time.perf_counter() + 60, False,
                None, Budget.for_problem(district, scenario, eligible))


def test_without_a_plan_a_feasibility_cut_loop_uses_the_time_left(monkeypatch):
    """The exact phase ends with no plan and no proof: the feasibility cut loop then finds a plan
    (kept, and it passes the checker), or proves that none exists (brute force agrees)."""
    from bruteforce import brute_force

    import zoneopt.solve as solve_module

    def nothing(*args):
        return {"assign": None, "bound": 0.0, "infeasible": False}

    monkeypatch.setattr(solve_module, "run_proof", nothing)
    units, schools = grid_frames(3, 4, [0, 11], students=np.full(12, 100), capacities=[600, 700])
    district = District.from_frames(units, schools)
    run = _run_without_a_plan(district, Scenario())
    assert run.prove_until_found() is False
    assert run.state.assign is not None
    check_plan(district, Scenario(), run.state.assign).raise_if_failed()
    # 1,200 students, 1,250 seats, but no connected split fits them.
    row_units, row_schools = grid_frames(1, 5, [0, 4], students=np.full(5, 100),
                                         capacities=[250, 260])
    row = District.from_frames(row_units, row_schools)
    assert brute_force(row, Scenario())[1] is None
    assert _run_without_a_plan(row, Scenario()).prove_until_found() is True


def test_a_district_whose_lp_relaxation_has_no_solution_is_proven_infeasible_at_once(monkeypatch):
    """500 units x 25 schools, seats x0.93, 1.5 km: the strict repair fails, and the LP relaxation
    without contiguity has no solution, so no plan exists: the run ends with the proof and its
    diagnosis instead of spending its time on the elastic steps, the feasibility MIP and the exact
    phase (which took 9-15 s to the same proof on 800 x 40)."""
    import numpy as np

    import zoneopt.solve as solve_module
    from zoneopt.model import elastic as elastic_module
    from zoneopt.solve import repair as repair_module
    from zoneopt.synthetic import synthetic_district

    searching = [True]

    def never(what, real=None):
        def call(*args, **kwargs):
            if searching[0] or real is None:
                raise AssertionError(f"{what} ran")
            return real(*args, **kwargs)
        return call

    # Only the run before its proof is watched: the diagnosis that follows may repair the zones
    # under wider distance limits (its distance finding), elastic steps included.
    explain = elastic_module.explain_infeasibility

    def diagnosis(*args, **kwargs):
        searching[0] = False
        return explain(*args, **kwargs)

    monkeypatch.setattr(elastic_module, "explain_infeasibility", diagnosis)
    monkeypatch.setattr(repair_module, "shrink_overflow",
                        never("the elastic steps", repair_module.shrink_overflow))
    monkeypatch.setattr(solve_module, "run_proof", never("the exact phase"))
    units, schools = synthetic_district(500, 25, seed=0)
    schools = schools.copy()
    schools["capacity"] = np.ceil(schools["capacity"] * 0.93).astype(int)
    district = District.from_frames(units, schools)
    scenario = Scenario.from_dict({"constraints": {"max_extra_distance_km": 1.5},
                                   "solver": {"time_limit_s": 10}})
    with pytest.raises(InfeasibleError, match="more seats") as info:
        optimize(district, scenario)
    assert info.value.plan.summary["stopped_by"] == "proof"
