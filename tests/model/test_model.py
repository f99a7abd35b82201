import numpy as np
import pytest
from districts import grid_frames

from zoneopt import District, Scenario, check_plan
from zoneopt.model import build_model, eligible_pairs, separation_cuts
from zoneopt.solve.backends import solve


@pytest.fixture
def district():
    units, schools = grid_frames(5, 5, [0, 12, 24], seed=3)
    return District.from_frames(units, schools)


def test_eligibility_applies_distance_limits_locks_and_home_units(district):
    s = Scenario.from_dict({"constraints": {"max_extra_distance_km": 1.0}})
    e = eligible_pairs(district, s)
    extra = district.dist_km - district.nearest_km[:, None]
    assert not e[extra > 1.0 + 1e-9].any()
    assert e[np.arange(25), district.nearest].all()
    for j, h in enumerate(district.home_unit):
        assert e[h].tolist() == [k == j for k in range(3)]


def test_closer_neighbour_model_only_admits_contiguous_plans(district):
    s = Scenario.from_dict({"constraints": {"max_utilization": 0.9}})
    e = eligible_pairs(district, s)
    model = build_model(district, s, e, contiguity="closer")
    res = solve(model, "highs", time_limit=20, mip_gap=0.0)
    assert res.status == "optimal"
    plan = model.assignment_from(res.values, np.zeros(25, dtype=np.int64))
    assert check_plan(district, s, plan).ok


def test_model_objective_equals_the_dissimilarity_of_its_solution(district):
    from zoneopt import metrics

    s = Scenario.from_dict({"constraints": {"contiguity": False}})
    e = eligible_pairs(district, s)
    model = build_model(district, s, e, contiguity="none")
    # Any solution will do (not the optimum: that took 20 s to the time limit): a node cap ends it.
    res = solve(model, "highs", time_limit=20, mip_gap=0.0, node_limit=50)
    plan = model.assignment_from(res.values, np.zeros(25, dtype=np.int64))
    d = metrics.dissimilarity(plan, district.students, district.low_income, 3)
    assert res.objective == pytest.approx(d, abs=1e-7)


def test_separation_cuts_cut_off_a_disconnected_plan(district):
    s = Scenario()
    e = eligible_pairs(district, s)
    model = build_model(district, s, e, contiguity="none")
    plan = district.nearest.copy()
    plan[4] = 2  # top-right corner unit of row 0 given to the school at the far corner... disconnected
    cuts, lo, hi, pieces = separation_cuts(district, model, plan)
    assert pieces >= 1
    x = model.start_vector(plan, district, s)
    assert (cuts @ x > hi + 1e-9).any()
    good = model.start_vector(district.nearest, district, s)
    assert (cuts @ good <= hi + 1e-9).all()


def test_pulp_export_has_the_same_optimum(district):
    # a distance objective, which CBC proves in well under a second (balance can take it minutes)
    s = Scenario.from_dict({"constraints": {"contiguity": False, "max_utilization": 0.9},
                            "objective": {"balance": "none", "distance_weight": 1.0}})
    e = eligible_pairs(district, s)
    model = build_model(district, s, e, contiguity="none")
    highs = solve(model, "highs", time_limit=20, mip_gap=0.0)
    cbc = solve(model, "cbc", time_limit=20, mip_gap=0.0)
    assert cbc.status == "optimal"
    assert cbc.objective == pytest.approx(highs.objective, abs=1e-6)


def test_keep_rows_drops_appended_rows_and_keeps_the_capacity_rows_pointing_at_capacity(district):
    s = Scenario.from_dict({"constraints": {"max_utilization": 0.9}})
    model = build_model(district, s, eligible_pairs(district, s), contiguity="neighbour")
    n_rows = model.rows.shape[0]
    capacity = model.rows[model.capacity_rows].toarray()
    extra = model.rows[:2].copy()
    model.add_rows(extra, np.full(2, -np.inf), np.zeros(2))
    keep = np.ones(n_rows + 2, dtype=bool)
    keep[0] = False  # a row before the capacity rows: their positions shift by one
    keep[n_rows] = False
    model.keep_rows(keep)
    assert model.rows.shape[0] == len(model.row_lower) == len(model.row_upper) == n_rows
    assert np.array_equal(model.rows[model.capacity_rows].toarray(), capacity)
    assert np.array_equal(model.rows[-1].toarray(), extra[1].toarray())
