"""The contracted district of whole neighbourhoods: the same problem as the original (each plan's
objective and rules, the brute-force optimum), a relaxation when a neighbourhood is in pieces, and
a reason where it would be neither."""

from __future__ import annotations

import numpy as np
import pytest
from bruteforce import _feasible_plans, brute_force_two_level
from feeder_districts import (
    District,
    scenario,
    synthetic_hoods,
    synthetic_two_level,
    two_level_frames,
    write_hoods,
    write_middle,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zoneopt import metrics
from zoneopt.bounds import bounds_by_source
from zoneopt.check import check_plan
from zoneopt.errors import InfeasibleError
from zoneopt.model import eligible_pairs
from zoneopt.neighbourhoods import load_neighbourhoods
from zoneopt.solve import optimize
from zoneopt.solve.contracted import contract, why_not
from zoneopt.solve.feeders import _whole_eligibility
from zoneopt.solve.whole import PREFIX


def _contracted(district, s):
    hoods = load_neighbourhoods(district, s)
    groups = [g for g in hoods.groups() if len(g) > 1]
    names = [hoods.names[int(hoods.member[g[0]])] for g in groups]
    eligible = _whole_eligibility(eligible_pairs(district, s), groups)
    con, why = contract(district, s, groups, eligible, names)
    return con, why, groups


def _objective(district, s, assign):
    o = s.objective
    return metrics.objective_value(assign, district.students, district.low_income,
                                   district.dist_km, district.status_quo, district.n_schools,
                                   distance_weight=o.distance_weight, moved_weight=o.moved_weight)


@pytest.fixture(scope="module")
def hoods300(tmp_path_factory):
    """300 x 15 seed 90 with 1.5-km squares, the distance in the objective: contracted, with the
    contracted search's plan."""
    tmp = tmp_path_factory.mktemp("hoods300")
    district, s = synthetic_hoods(tmp, 300, 15, 90, objective={"distance_weight": 0.02},
                                  solver={"time_limit_s": 6})
    con, why, groups = _contracted(district, s)
    assert con is not None and con.exact, why
    plan = optimize(district, s)
    return district, s, con, groups, plan


def test_each_neighbourhood_is_one_unit_with_the_sums_of_its_units(hoods300):
    district, _, con, groups, _ = hoods300
    small = con.district
    assert small.n_units == district.n_units - sum(len(g) - 1 for g in groups)
    assert small.students.sum() == district.students.sum()
    for g in groups:
        k = int(con.of_unit[g[0]])
        assert (con.of_unit[g] == k).all()
        assert small.students[k] == district.students[g].sum()
        assert small.low_income[k] == district.low_income[g].sum()
        assert str(small.unit_ids[k]).startswith("neighbourhood H")


def test_the_search_runs_on_the_contracted_district_and_its_plan_passes_the_checker(hoods300):
    district, s, con, groups, plan = hoods300
    assert plan.trace[0]["source"].startswith("whole neighbourhoods: 300 units searched as")
    check_plan(district, s, plan.positions, summary=plan.summary).raise_if_failed()
    assert all(len(set(plan.positions[g].tolist())) == 1 for g in groups)
    assert plan.summary["split_neighbourhoods_after"] == 0
    assert plan.summary["bound"] <= plan.summary["objective"] + 1e-9
    assert plan.summary["bounds"], "each bound's source, as the single-level search reports them"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(0, 2**31 - 1))
def test_a_contracted_plan_and_its_expansion_agree_on_every_rule_and_the_objective(hoods300, seed):
    """Plans a few moves from the search's: the checker's verdict on the contracted district (its
    scenario) is the verdict on the original (whole neighbourhoods, distance limits), and the
    objectives are equal."""
    district, s, con, _, plan = hoods300
    small = con.district
    x = con.contract_plan(plan.positions).copy()
    rng = np.random.default_rng(seed)
    finite = np.isfinite(small.dist_km)
    for _ in range(int(rng.integers(1, 4))):
        i = int(rng.integers(small.n_units))
        x[i] = int(rng.choice(np.flatnonzero(finite[i])))
    fine = con.expand(x)
    assert check_plan(small, con.scenario, x).ok == check_plan(district, s, fine).ok
    assert _objective(small, con.scenario, x) == pytest.approx(_objective(district, s, fine),
                                                               abs=1e-12)


@settings(max_examples=6, deadline=None)
@given(st.integers(0, 10**6), st.sampled_from([900.0, 1500.0, 2500.0]),
       st.sampled_from([2.0, 3.0, float("inf")]))
def test_on_generated_districts_every_contracted_plan_is_a_checked_whole_plan(tmp_path_factory,
                                                                              seed, step, km):
    """80 x 5 districts with squares of 0.9-2.5 km as neighbourhoods: where ``contract`` accepts,
    the contracted search's plan (or its proof that none exists) holds on the units: the checker
    passes it with the original scenario, at the same objective."""
    from zoneopt.errors import NoSolutionError
    from zoneopt.solve import single_level

    tmp = tmp_path_factory.mktemp("generated")
    district, s = synthetic_hoods(tmp, 80, 5, seed, step_m=step,
                                  constraints={"max_extra_distance_km": km},
                                  solver={"time_limit_s": 2})
    con, why, groups = _contracted(district, s)
    if con is None or not con.exact:
        assert why or (con is not None and not con.exact)
        return
    try:
        got = single_level(con.district, con.scenario)
    except (InfeasibleError, NoSolutionError):
        return
    fine = con.expand(got.positions)
    check_plan(district, s, fine).raise_if_failed()
    assert all(len(set(fine[g].tolist())) == 1 for g in groups)
    assert _objective(district, s, fine) == pytest.approx(got.summary["objective"], abs=1e-12)


def _tiny(tmp_path, cells_by_name, **sections):
    units, schools, _ = two_level_frames(2, 4, [0, 3, 5], [1, 6], seed=4, capacity_slack=1.6)
    district = District.from_frames(units, schools)
    hoods = write_hoods(cells_by_name, units, tmp_path / "h.geojson")
    data = {"constraints": {"keep_neighbourhoods": True},
            "solver": {"time_limit_s": 20, "mip_gap": 0.0}}
    for key, values in sections.items():
        data.setdefault(key, {}).update(values)
    return district, scenario(tmp_path, hoods=hoods, **data)


def _whole_optimum(district, s, groups):
    return min((v for a, v in _feasible_plans(district, s)
                if all(len(set(a[g].tolist())) == 1 for g in groups)), default=np.inf)


# 2 x 4 grid, schools in cells 0, 3, 5: neighbourhoods of adjacent cells (one piece each).
_CONNECTED = [[1, 2], [6, 7], [2, 6], [1, 2, 6], [4, 5], [2, 3, 7], [0, 4], [6, 7, 3]]


@settings(max_examples=8, deadline=None)
@given(st.sampled_from(_CONNECTED), st.sampled_from([0.0, 0.05]))
def test_the_contracted_optimum_is_the_brute_force_optimum(tmp_path_factory, cells, km_weight):
    tmp = tmp_path_factory.mktemp("tiny")
    district, s = _tiny(tmp, {"Oak Park": cells}, objective={"distance_weight": km_weight})
    con, why, groups = _contracted(district, s)
    assert con is not None and con.exact, why
    best = _whole_optimum(district, s, groups)
    if not np.isfinite(best):
        with pytest.raises(Exception, match="neighbourhood"):
            optimize(district, s)
        return
    plan = optimize(district, s)
    check_plan(district, s, plan.positions, summary=plan.summary).raise_if_failed()
    assert plan.summary["objective"] == pytest.approx(best, abs=1e-7)
    assert plan.summary["bound"] <= best + 1e-7
    assert plan.summary["status"] == "optimal"


def _tiny_nested(tmp_path, seed, cells_by_name):
    """The 2 x 4 grid with two middle schools, nested feeders and these neighbourhoods kept whole:
    the district, the scenario, and the frames brute force reads."""
    units, schools, middle = two_level_frames(2, 4, [0, 3, 5], [1, 6], seed=seed,
                                              capacity_slack=1.6)
    district = District.from_frames(units, schools)
    mpath = write_middle(middle, tmp_path / "middle.csv")
    hoods = write_hoods(cells_by_name, units, tmp_path / "h.geojson")
    s = scenario(tmp_path, middle=mpath, hoods=hoods, constraints={"keep_neighbourhoods": True},
                 feeders={"mode": "nested"}, solver={"time_limit_s": 20, "mip_gap": 0.0})
    return district, s, units, middle


def _nested_optimum(district, s, units, middle, groups):
    best, _ = brute_force_two_level(district, s, list(middle.geometry), list(middle["capacity"]),
                                    units["middle_students"], units["middle_low_income"],
                                    groups=groups)
    return best


@pytest.mark.parametrize(("seed", "cells"), [(0, [1, 2]), (1, [6, 7]), (2, [2, 6]),
                                             (0, [2, 3, 7])])
def test_nested_feeders_with_whole_neighbourhoods_reach_the_brute_force_optimum(tmp_path, seed,
                                                                                cells):
    """Nested feeders searched on the contracted district: its middle counts are sums, its middle
    schools' units the contraction of theirs."""
    district, s, units, middle = _tiny_nested(tmp_path, seed, {"Oak Park": cells})
    con, why, groups = _contracted(district, s)
    assert con is not None and con.exact, why
    best = _nested_optimum(district, s, units, middle, groups)
    plan = optimize(district, s)
    assert plan.trace[0]["source"].startswith("whole neighbourhoods")
    check_plan(district, s, plan.positions, summary=plan.summary).raise_if_failed()
    assert plan.summary["objective"] == pytest.approx(best, abs=1e-7)
    assert plan.summary["bound"] <= best + 1e-7
    assert plan.summary["split_neighbourhoods_after"] == 0
    assert plan.summary["split_feeders_after"] == 0


def test_nested_feeders_with_whole_neighbourhoods_get_a_plan_in_seconds(tmp_path):
    """300 x 15 seed 71, nested feeders and 1.5-km squares kept whole: no plan in 30 s before
    (neither the feeder repair nor the whole-neighbourhood repair applied to both); on the
    contracted district the feeder repair's plan comes at 0.26 s."""
    district, s = synthetic_two_level(tmp_path, 300, 15, 71, solver={"time_limit_s": 10})
    import geopandas as gpd
    from shapely.geometry import box

    x0, y0, x1, y1 = district.units.total_bounds
    cells = [box(x, y, x + 1500.0, y + 1500.0) for x in np.arange(x0, x1, 1500.0)
             for y in np.arange(y0, y1, 1500.0)]
    path = tmp_path / "hoods.geojson"
    gpd.GeoDataFrame({"name": [f"H{i}" for i in range(len(cells))]}, geometry=cells,
                     crs=district.crs).to_file(path, driver="GeoJSON")
    s = s.with_values({"constraints.neighbourhoods": str(path),
                       "constraints.keep_neighbourhoods": True})
    plan = optimize(district, s)
    check_plan(district, s, plan.positions, summary=plan.summary).raise_if_failed()
    first = next(r for r in plan.trace if r.get("objective") is not None)
    assert first["seconds"] < 5.0, first
    assert plan.summary["split_neighbourhoods_after"] == 0
    assert plan.summary["split_feeders_after"] == 0


def test_a_neighbourhood_in_pieces_is_a_relaxation_whose_bound_stays_below_the_optimum(tmp_path):
    """Cells 1 and 7 share no boundary: the neighbourhood is two pieces, each one unit of the
    contracted district (a relaxation); the contracted search sends both to one school, and the
    pieces' root LP is the bound."""
    district, s = _tiny(tmp_path, {"Far Ends": [1, 7]})
    con, _, groups = _contracted(district, s)
    assert con is not None and not con.exact
    assert con.district.n_units == district.n_units
    best = _whole_optimum(district, s, groups)
    plan = optimize(district, s)
    check_plan(district, s, plan.positions, summary=plan.summary).raise_if_failed()
    assert plan.summary["objective"] == pytest.approx(best, abs=1e-7)
    assert plan.summary["bound"] <= best + 1e-7
    # The restricted search proved its own optimum, which is no proof for the problem.
    assert plan.summary["stopped_by"] != "proof"


def test_a_neighbourhood_in_pieces_that_fits_no_school_whole_is_proven_impossible(tmp_path):
    """A street of five units, schools at both ends (150 seats each), one neighbourhood of units 1
    and 3: split, the plan exists (the relaxation finds it); whole at either school, that zone
    holds four units (200 students). Both cases proven: no plan."""
    from districts import grid_frames

    units, schools = grid_frames(1, 5, [0, 4], students=np.full(5, 50),
                                 low_income=np.array([5, 10, 25, 40, 45]), capacities=[150, 150])
    district = District.from_frames(units, schools)
    hoods = write_hoods({"Two Halves": [1, 3]}, units, tmp_path / "h.geojson")
    s = scenario(tmp_path, hoods=hoods, constraints={"keep_neighbourhoods": True},
                 solver={"time_limit_s": 10})
    con, _, groups = _contracted(district, s)
    assert con is not None and not con.exact
    assert not np.isfinite(_whole_optimum(district, s, groups))
    with pytest.raises(InfeasibleError) as err:
        optimize(district, s)
    text = " ".join(err.value.diagnosis)
    assert "'Two Halves' lies in pieces" in text and "(S0, S1)" in text, text


@pytest.mark.parametrize(("seed", "cells"), [(0, [2, 7]), (2, [1, 7]), (1, [2, 7])])
def test_nested_feeders_with_a_neighbourhood_in_pieces_keep_it_whole(tmp_path, seed, cells):
    """The nested search on the contraction with the pieces sent to one school; the bound is the
    pieces' root LP, never above the brute-force optimum; where brute force finds no plan (seed
    1), every school is proven impossible."""
    district, s, units, middle = _tiny_nested(tmp_path, seed, {"Far Ends": cells})
    con, _, groups = _contracted(district, s)
    assert con is not None and not con.exact
    best = _nested_optimum(district, s, units, middle, groups)
    if not np.isfinite(best):
        with pytest.raises(InfeasibleError, match="'Far Ends' lies in pieces"):
            optimize(district, s)
        return
    plan = optimize(district, s)
    check_plan(district, s, plan.positions, summary=plan.summary).raise_if_failed()
    assert plan.summary["split_neighbourhoods_after"] == 0
    assert plan.summary["objective"] >= best - 1e-7
    assert plan.summary["bound"] <= best + 1e-7
    assert plan.summary["bounds"] == {"root_lp": pytest.approx(plan.summary["bound"])}
    # The restricted search's own bounds are not the problem's: none is left in the trace.
    assert bounds_by_source(plan.trace) == {"root_lp": pytest.approx(plan.summary["bound"])}
    assert all(r["bound"] <= plan.summary["bound"] + 1e-12 for r in plan.trace)


def test_a_start_that_splits_a_neighbourhood_is_not_carried_over(hoods300):
    district, _, con, groups, plan = hoods300
    assert np.array_equal(con.start_of(district, plan), con.contract_plan(plan.positions))
    split = plan.positions.copy()
    g = groups[0]
    split[g[0]] = (split[g[0]] + 1) % district.n_schools
    assert con.start_of(district, split) is None
    assert con.start_of(district, None) is None


@pytest.mark.parametrize(("sections", "reason"), [
    ({"objective": {"balance": "tiers"}}, "SES tiers"),
    ({"objective": {"moved_weight": 0.5}}, "students moved"),
    ({"constraints": {"max_moved_share": 0.2}}, "students moved"),
    ({"constraints": {"walk_zone_km": 0.5}}, "walk zones"),
])
def test_where_the_contracted_problem_would_be_another_one_it_says_why(tmp_path, sections, reason):
    """Tiers and projections differ unit by unit, and moved students only sum where a whole
    neighbourhood has one school today (not so in the 2-cell neighbourhood across zones here)."""
    district, s = _tiny(tmp_path, {"Oak Park": [2, 6]}, **sections)
    groups = [g for g in load_neighbourhoods(district, s).groups() if len(g) > 1]
    assert len(np.unique(district.status_quo[groups[0]])) > 1, "the case needs a split status quo"
    assert reason in why_not(district, s, groups)


def test_whole_neighbourhoods_proven_impossible_name_the_school_short_of_seats(tmp_path):
    """300 x 15 seed 94 with 2-km squares: the contracted search proves at once that no plan keeps
    every neighbourhood whole, naming the school and its seats (the two-level search took 10.7 s
    to say the model was infeasible)."""
    district, s = synthetic_hoods(tmp_path, 300, 15, 94, step_m=2000.0,
                                  solver={"time_limit_s": 30})
    with pytest.raises(InfeasibleError) as err:
        optimize(district, s)
    text = " ".join(err.value.diagnosis)
    assert text.startswith(PREFIX)
    assert "more seats" in text and "middle_max_utilization" not in text
    assert err.value.plan.summary["status"] == "infeasible"
