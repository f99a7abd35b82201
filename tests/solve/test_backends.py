import pytest
from districts import grid_frames

from zoneopt import District, Scenario
from zoneopt.model import build_model, eligible_pairs
from zoneopt.solve.backends import check_solver, consistent, solve


@pytest.fixture
def model_and_district():
    units, schools = grid_frames(3, 4, [0, 5, 11], seed=11)
    d = District.from_frames(units, schools)
    s = Scenario.from_dict({"constraints": {"contiguity": False}})
    return build_model(d, s, eligible_pairs(d, s), contiguity="none"), d, s


def test_answers_are_verified_against_rows_and_objective(model_and_district):
    model, d, s = model_and_district
    res = solve(model, "highs", time_limit=10, mip_gap=0.0)
    assert consistent(model, res.values, res.objective)
    assert not consistent(model, res.values, res.objective - 0.05)
    broken = res.values.copy()
    broken[: model.n_pairs] = 0  # no unit assigned: every assignment row fails
    assert not consistent(model, broken, float(model.cost @ broken))


def test_warm_start_with_its_true_objective_is_accepted(model_and_district):
    model, d, s = model_and_district
    start = model.start_vector(d.status_quo, d, s)
    res = solve(model, "highs", time_limit=10, mip_gap=0.0, start=start)
    assert res.status == "optimal"
    assert consistent(model, res.values, res.objective)
    assert res.objective <= float(model.cost @ start) + 1e-9


def test_relaxation_bound_is_below_the_mip_optimum(model_and_district):
    model, _, _ = model_and_district
    lp = solve(model, "highs", time_limit=10, mip_gap=0.0, relax=True)
    mip = solve(model, "highs", time_limit=10, mip_gap=0.0)
    assert lp.status == "optimal"
    assert lp.bound == pytest.approx(lp.objective)  # the LP's own optimum, not a placeholder
    assert lp.bound <= mip.objective + 1e-9


def test_check_solver_names_the_choices():
    assert check_solver("HiGHS") == "highs"
    assert check_solver("cbc") == "cbc"


def test_changing_the_thread_count_between_solves_still_solves(model_and_district):
    model, _, _ = model_and_district
    assert solve(model, "highs", time_limit=10, mip_gap=0.0).status == "optimal"
    assert solve(model, "highs", time_limit=10, mip_gap=0.0, threads=1).status == "optimal"
    assert solve(model, "highs", time_limit=10, mip_gap=0.0, threads=2).status == "optimal"


def test_a_scheduler_started_by_other_code_does_not_break_zoneopts_solves(model_and_district):
    """Other code in the process (PuLP's HiGHS, a notebook) may start HiGHS's one scheduler with its
    automatic thread count; zoneopt's single-threaded runs then fail ("Not Set") unless reset."""
    import highspy

    from zoneopt.bounds.lp import root_lp_bound

    model, d, s = model_and_district
    assert solve(model, "highs", time_limit=10, mip_gap=0.0).status == "optimal"
    highspy.Highs.resetGlobalScheduler(True)
    other = highspy.Highs()  # as PuLP's HiGHS does: no thread option, automatic
    other.setOptionValue("output_flag", False)
    other.addVar(0, 1)
    assert other.run() == highspy.HighsStatus.kOk
    assert solve(model, "highs", time_limit=10, mip_gap=0.0).status == "optimal"
    highspy.Highs.resetGlobalScheduler(True)
    other.run()
    assert root_lp_bound(d, s, eligible_pairs(d, s)).useful


def test_an_unavailable_solver_falls_back_and_says_so(monkeypatch):
    import pulp

    from zoneopt.solve.backends import resolve_solver

    def fake(onlyAvailable=False):  # GUROBI_CMD known to PuLP but not installed, on any machine
        return ["PULP_CBC_CMD"] if onlyAvailable else ["PULP_CBC_CMD", "GUROBI_CMD", "HiGHS"]

    monkeypatch.setattr(pulp, "listSolvers", fake)
    chosen, note = resolve_solver("GUROBI_CMD")
    assert chosen == "highs"
    assert "not installed" in note and "fell back to highs" in note


def test_a_jump_start_answer_verifies_and_follows_its_seed(model_and_district):
    """HiGHS's heuristics before the root LP: what they find satisfies every row, and the same
    seed finds the same answer."""
    import numpy as np

    from zoneopt.solve.backends import jump_start

    _, district, scenario = model_and_district
    model = build_model(district, scenario, eligible_pairs(district, scenario),
                        contiguity="closer", objective="none")
    answers = [jump_start(model, seed=s, time_limit=30) for s in (0, 0, 1)]
    for values, timed_out in answers:
        assert not timed_out
        if values is not None:
            assert consistent(model, values, float(model.cost @ values + model.objective_offset))
    first, again = answers[0][0], answers[1][0]
    assert (first is None) == (again is None)
    assert first is None or np.array_equal(first, again)


def test_a_jump_start_on_a_district_without_seats_finds_nothing():
    from zoneopt.solve.backends import jump_start

    units, schools = grid_frames(4, 4, [0, 15], capacities=[10, 10])
    district = District.from_frames(units, schools)
    scenario = Scenario.from_dict({"constraints": {"max_utilization": 1.0}})
    model = build_model(district, scenario, eligible_pairs(district, scenario),
                        contiguity="closer", objective="none")
    assert jump_start(model, seed=0, time_limit=30) == (None, False)
