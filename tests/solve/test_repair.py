"""The status-quo repair: overfull districts get a verified plan fast, close to today's zones."""

import math

import numpy as np
import pytest
from districts import grid_frames
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import districts

from zoneopt import District, Scenario, optimize
from zoneopt.check import check_plan
from zoneopt.model import eligible_pairs
from zoneopt.solve.binding import binding_rules
from zoneopt.solve.repair import repair_status_quo
from zoneopt.synthetic import synthetic_district


def _overfull_synthetic(n, m, factor, seed=0):
    units, schools = synthetic_district(n, m, seed=seed)
    schools = schools.copy()
    schools["capacity"] = np.ceil(schools["capacity"] * factor).astype(int)
    return District.from_frames(units, schools)


def _growing_synthetic(tmp_path, n, m, growth, solver=None):
    """A synthetic district whose units grow by ``growth`` a year (east faster) and a scenario
    planning 2027-2029 (series mid and high) at ``max_utilization`` 1.1 within 3 km."""
    from years_districts import growing_projection

    district = _overfull_synthetic(n, m, 1.0)
    path = growing_projection(district, tmp_path / "p.csv", growth=growth)
    return district, Scenario.from_dict({
        "years": {"projections": str(path), "plan": [2027, 2028, 2029], "series": ["mid", "high"]},
        "constraints": {"max_utilization": 1.1, "max_extra_distance_km": 3.0},
        "solver": solver or {}})


def _after_both_chains(district, scenario, eligible):
    """The first road of a multi-year repair up to its local MIPs: pooled chains, then chains that
    count each year and series."""
    from zoneopt.solve.repair import _Repair

    chains = _Repair(district, scenario, eligible)
    chains.keep_and_regrow()
    chains.eject(None)
    chains.count_every_year()
    chains.eject(None)
    return chains


def _enrolment(district, assign):
    return np.bincount(assign, weights=district.students, minlength=district.n_schools)


@pytest.mark.parametrize("n,m,factor,seed", [(300, 15, 1.0, 0), (300, 15, 0.93, 0),
                                             (200, 10, 0.95, 3)])
def test_repair_turns_an_overfull_status_quo_into_a_verified_plan(n, m, factor, seed):
    district = _overfull_synthetic(n, m, factor, seed)
    scenario = Scenario.from_dict({"constraints": {"max_extra_distance_km": 3.0}})
    eligible = eligible_pairs(district, scenario)
    today = _enrolment(district, district.status_quo)
    assert (today > district.capacity).any(), "the case must start overfull"
    assign = repair_status_quo(district, scenario, eligible)
    assert assign is not None
    check_plan(district, scenario, assign).raise_if_failed()
    # A repair, not a redraw: most units keep today's school.
    assert (assign == district.status_quo).mean() > 0.6


def test_chains_that_count_only_sizeable_room_repair_what_the_first_chains_leave():
    """100 units x 5 schools at 95% seats (seed 5): the first chains stall 41 students over (a
    school with a few free seats makes its neighbours look one hop from room); counting as room
    only schools that can take a sizeable unit, the chains alone end within every seat, zones
    connected, and the plan passes the checker."""
    from zoneopt.solve.repair import _Repair

    district = _overfull_synthetic(100, 5, 0.95, seed=5)
    scenario = Scenario()
    chains = _Repair(district, scenario, eligible_pairs(district, scenario))
    chains.keep_and_regrow()
    chains.eject(None)
    assert chains.violation() == 41
    chains.eject_to_real_room(None)
    assert chains.violation() == 0
    check_plan(district, scenario, chains.assign).raise_if_failed()


@settings(max_examples=25, deadline=None)
@given(districts(min_units=6, max_units=40, max_schools=4), st.sampled_from([0.8, 0.95, 1.0]))
def test_chains_to_sizeable_room_never_leave_more_overflow(district, max_util):
    """Generated districts: the second chains' runs are undone when they do not lower the
    overflow, so the step never ends above where it started."""
    from zoneopt.solve.repair import _Repair

    scenario = Scenario.from_dict({"constraints": {"max_utilization": max_util}})
    chains = _Repair(district, scenario, eligible_pairs(district, scenario))
    if not chains.keep_and_regrow():
        return
    chains.eject(None)
    before = chains.violation()
    chains.eject_to_real_room(None)
    assert chains.violation() <= before


def test_repair_keeps_locks_home_units_and_distance_limits():
    units, schools = grid_frames(5, 6, [0, 5, 27], seed=2, capacity_slack=1.1)
    # Today everybody attends S0: two schools' worth of students over its seats.
    units["current_school"] = "S0"
    units.loc[units.index[[5, 27]], "current_school"] = ["S1", "S2"]
    units["locked_school"] = None
    units.loc[units.index[1], "locked_school"] = "S0"
    district = District.from_frames(units, schools)
    scenario = Scenario.from_dict({"constraints": {"max_distance_km": 4.5}})
    eligible = eligible_pairs(district, scenario)
    assign = repair_status_quo(district, scenario, eligible)
    assert assign is not None
    check_plan(district, scenario, assign).raise_if_failed()
    assert assign[1] == 0
    assert all(assign[district.home_unit[j]] == district.home_owner[j] for j in range(3))


def test_repair_gives_up_cleanly_when_there_are_no_seats_to_reach():
    # S0's students may not travel far enough to reach another school with room.
    units, schools = grid_frames(3, 6, [0, 17], seed=1, capacity_slack=1.0)
    units["current_school"] = "S0"
    units.loc[units.index[17], "current_school"] = "S1"
    schools = schools.copy()
    schools.loc[0, "capacity"] = int(units["students"].sum() * 0.3)
    schools.loc[1, "capacity"] = int(units["students"].sum())
    district = District.from_frames(units, schools)
    scenario = Scenario.from_dict({"constraints": {"max_distance_km": 1.5}})
    eligible = eligible_pairs(district, scenario)
    assert repair_status_quo(district, scenario, eligible) is None
    rules = " ".join(binding_rules(district, scenario, eligible))
    assert "S0" in rules and "short" in rules
    assert "can reach no school with room" in rules


def test_optimize_starts_from_the_repair_and_its_plan_passes_the_checker(monkeypatch):
    monkeypatch.setenv("ZONEOPT_NO_WORKER", "1")
    district = _overfull_synthetic(300, 15, 0.93)
    scenario = Scenario.from_dict({"constraints": {"max_extra_distance_km": 3.0}})
    plan = optimize(district, scenario, time_limit=6)
    assert plan.trace[0]["source"] == "repair"
    assert plan.trace[0]["seconds"] < 6
    assert plan.check().ok
    assert "root_lp" in plan.summary["bounds"]
    assert plan.summary["bound"] <= plan.summary["objective"]


@settings(max_examples=25)
@given(districts(min_units=6, max_units=40, max_schools=4), st.sampled_from([0.8, 1.0]),
       st.sampled_from([math.inf, 2.0]), st.sampled_from([0.0, 0.3]), st.booleans())
def test_a_repaired_plan_keeps_every_rule_the_repair_promises(district, max_util, extra, min_util,
                                                              contiguity):
    scenario = Scenario.from_dict({"constraints": {
        "max_utilization": max_util, "max_extra_distance_km": extra, "min_utilization": min_util,
        "contiguity": contiguity}})
    eligible = eligible_pairs(district, scenario)
    assign = repair_status_quo(district, scenario, eligible)
    if assign is None:
        return  # nothing promised: the feasibility MIP takes over
    # No band or moved budget in these scenarios: the repaired plan must pass the whole check.
    check_plan(district, scenario, assign).raise_if_failed()


def test_repair_from_a_plan_whose_zones_fell_into_pieces():
    # An exact round's plan: near-optimal but with zone pieces cut off from their home units.
    units, schools = synthetic_district(120, 6, seed=2)
    district = District.from_frames(units, schools)
    scenario = Scenario.from_dict({"constraints": {"max_extra_distance_km": 3.0}})
    eligible = eligible_pairs(district, scenario)
    plan = optimize(district, Scenario.from_dict({
        "constraints": {"max_extra_distance_km": 3.0},
        "solver": {"time_limit_s": 5, "work_budget": 0.05}})).positions
    broken = plan.copy()
    home = set(district.home_unit.tolist())
    # Give zone 0 a far unit of another zone: a piece of zone 0 that does not reach its home unit.
    far = [i for i in np.argsort(-district.dist_km[:, 0]) if i not in home and eligible[i, 0]
           and plan[i] != 0]
    broken[far[0]] = 0
    assert not check_plan(district, scenario, broken).ok
    fixed = repair_status_quo(district, scenario, eligible, start=broken)
    assert fixed is not None
    check_plan(district, scenario, fixed).raise_if_failed()
    # The repair stays close to the plan it was given, not to today's zones.
    assert (fixed == broken).mean() > 0.9
    assert (fixed == broken).mean() > (fixed == district.status_quo).mean()


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_a_multi_year_plan_is_repaired_against_every_years_seats(tmp_path, seed):
    from years_districts import growing_grid

    # growth in the centre overfills S2 in the plan years under today's zones
    district, scenario = growing_grid(tmp_path, seed, capacity_slack=1.25)
    assert not check_plan(district, scenario, district.status_quo).ok
    assign = repair_status_quo(district, scenario, eligible_pairs(district, scenario))
    assert assign is not None
    report = check_plan(district, scenario, assign)
    assert report.ok, report.violations[:3]


def test_chains_that_count_each_year_repair_what_the_pooled_counts_leave_over(tmp_path):
    from zoneopt.solve.repair import _Repair

    district, scenario = _growing_synthetic(tmp_path, 800, 40, 0.06)
    eligible = eligible_pairs(district, scenario)
    # the pooled counts need 99.7% of the pooled seats: their chains leave schools over
    chains = _Repair(district, scenario, eligible)
    assert chains.keep_and_regrow()
    chains.eject(None)
    assert len(chains.broken()) > 0
    # counting each year and series on its own, the chains go on to a plan that fits every year
    assert chains.count_every_year() and not chains.count_every_year()
    chains.eject(None)
    assert len(chains.broken()) == 0
    assign = repair_status_quo(district, scenario, eligible)
    assert assign is not None
    report = check_plan(district, scenario, assign)
    assert report.ok, report.violations[:3]
    # and the restore step brings units back to today's schools where every year has room
    assert (assign == district.status_quo).mean() >= (chains.assign == district.status_quo).mean()
    # a plan that fits every year comes back unchanged, though it breaks the pooled counts
    students, fewest = chains.years.pooled()
    assert (np.bincount(assign, weights=students, minlength=district.n_schools) > fewest).any()
    again = repair_status_quo(district, scenario, eligible, start=assign)
    assert again is not None and (again == assign).all()


def test_a_multi_year_repair_gives_up_before_any_local_mip_when_one_school_has_no_room_near(
        tmp_path, monkeypatch):
    import zoneopt.solve.repair as repair

    district, scenario = _growing_synthetic(tmp_path, 2000, 100, 0.05)
    eligible = eligible_pairs(district, scenario)
    chains = _after_both_chains(district, scenario, eligible)
    bad = chains.broken()
    roomy = [chains._roomy_group(int(j)) for j in bad]
    # the chains leave 3 schools over: one has a group of zones with 5% spare seats in every
    # year, two have none (they would end the repair after the first one's local MIP)
    assert len(bad) == 3 and roomy.count(True) == 1
    built = []
    monkeypatch.setattr(repair, "build_model", lambda *a, **k: built.append(1) or 1 / 0)
    chains.local_mips(None, "highs")
    assert not built and len(chains.broken()) == 3


def test_a_second_road_repairs_a_multi_year_plan_the_first_leaves_over(tmp_path):
    import zoneopt.solve.repair as repair

    # 6% growth a year: the tightest plan year and series takes 96% of its seats
    district, scenario = _growing_synthetic(tmp_path, 2000, 100, 0.06)
    eligible = eligible_pairs(district, scenario)
    first = _after_both_chains(district, scenario, eligible)
    first.local_mips(None, "highs")
    assert len(first.broken()) > 0  # the first road leaves schools over (9 here)
    assign = repair.repair_status_quo(district, scenario, eligible)
    assert assign is not None
    report = check_plan(district, scenario, assign)
    assert report.ok, report.violations[:3]


def test_optimize_starts_a_multi_year_plan_from_the_repair(tmp_path, monkeypatch):
    monkeypatch.setenv("ZONEOPT_NO_WORKER", "1")
    # today's zones overfill some schools in the plan years; the repair takes 0.04 s here
    district, scenario = _growing_synthetic(tmp_path, 300, 15, 0.03, {"work_budget": 0.1})
    # The search after the repair runs into the safety stop here: 5 s are enough for the test.
    plan = optimize(district, scenario, time_limit=5)
    assert plan.trace[0]["source"] == "repair"
    assert plan.check().ok


def test_a_part_of_the_district_with_its_own_schools_is_re_solved_whole_when_it_cannot_widen():
    """Two separate grids, each with two schools. In the second, today's zones overfill one school,
    and the part has fewer spare seats than a local MIP's group asks for (2.5% < GROUP_SLACK, and
    less than one unit). Its group of zones stops at the part's two schools: it cannot widen, so
    the local MIP solves it whatever its spare seats (before, it was skipped and the repair failed).
    """
    import geopandas as gpd
    import pandas as pd
    from shapely import affinity

    from zoneopt.solve.repair import GROUP_SLACK, _Repair

    students = np.full(8, 100)
    units, schools = grid_frames(2, 4, [0, 7], students=students, capacities=[500, 500])
    far_units, far_schools = grid_frames(2, 4, [0, 7], students=students, capacities=[420, 400])
    far_units["unit_id"] = [f"V{k:04d}" for k in range(8)]
    far_units["geometry"] = far_units.geometry.apply(affinity.translate, xoff=20_000.0)
    far_schools["school_id"] = ["S2", "S3"]
    far_schools["geometry"] = far_schools.geometry.apply(affinity.translate, xoff=20_000.0)
    units["current_school"] = ["S0", "S0", "S1", "S1", "S0", "S0", "S1", "S1"]
    # S2 takes five of the second grid's units today (500 students for 420 seats).
    far_units["current_school"] = ["S2", "S2", "S2", "S3", "S2", "S2", "S3", "S3"]
    all_units = gpd.GeoDataFrame(pd.concat([units, far_units], ignore_index=True), crs=units.crs)
    all_schools = gpd.GeoDataFrame(pd.concat([schools, far_schools], ignore_index=True),
                                   crs=schools.crs)
    district = District.from_frames(all_units, all_schools)
    scenario = Scenario.from_dict({"constraints": {"max_utilization": 1.0}})
    eligible = eligible_pairs(district, scenario)
    assert 820 - 800 < GROUP_SLACK * 800
    repair = _Repair(district, scenario, eligible)
    assert repair.keep_and_regrow()
    assert list(repair.broken()) == [2]
    repair.local_mips(None, "highs")  # no chains first: the local MIP alone must mend the part
    assert not len(repair.broken())
    assert check_plan(district, scenario, repair.assign).ok


def test_a_district_of_25_schools_gets_its_plan_from_the_elastic_steps_when_the_strict_ones_fail(
        monkeypatch):
    """500 units x 25 schools, seats x0.95, 1.5 km: the chains and the strict local MIPs (the whole
    district among their groups) leave schools over; the elastic local MIPs, once kept to districts
    of more than 64 schools, mend them (the seats' annealing, which comes first and mends them too,
    is switched off here: tests/solve/test_seat_moves.py)."""
    from zoneopt.solve import repair as repair_module
    from zoneopt.solve import seat_moves

    monkeypatch.setattr(seat_moves, "PROPOSALS_PER_UNIT", 0)
    district = _overfull_synthetic(500, 25, 0.95, seed=2)
    scenario = Scenario.from_dict({"constraints": {"max_extra_distance_km": 1.5}})
    eligible = eligible_pairs(district, scenario)
    assert district.n_schools > repair_module.ELASTIC_MIN_SCHOOLS
    monkeypatch.setattr(repair_module, "ELASTIC_MIN_SCHOOLS", 10**6)
    assert repair_status_quo(district, scenario, eligible) is None
    monkeypatch.undo()
    monkeypatch.setattr(seat_moves, "PROPOSALS_PER_UNIT", 0)
    plan = repair_status_quo(district, scenario, eligible)
    assert plan is not None
    assert check_plan(district, scenario, plan).ok


def test_a_repair_told_that_no_plan_exists_stops_before_its_elastic_steps(monkeypatch):
    """(The seats' annealing, whose first round comes before the question and fits this district,
    is switched off here.)"""
    from zoneopt.solve import repair as repair_module
    from zoneopt.solve import seat_moves

    monkeypatch.setattr(seat_moves, "PROPOSALS_PER_UNIT", 0)

    def no_elastic(*args, **kwargs):
        raise AssertionError("the elastic steps ran")

    district = _overfull_synthetic(500, 25, 0.95, seed=2)
    scenario = Scenario.from_dict({"constraints": {"max_extra_distance_km": 1.5}})
    eligible = eligible_pairs(district, scenario)
    asked = []
    monkeypatch.setattr(repair_module, "shrink_overflow", no_elastic)
    assert repair_status_quo(district, scenario, eligible,
                             go_on=lambda: asked.append(1) or False) is None
    assert asked == [1]


@pytest.mark.parametrize("m,whole", [(25, True), (40, False)])
def test_the_whole_district_is_a_local_mip_group_only_up_to_32_schools(m, whole):
    """Above LOCAL_MIP_MAX_ZONES schools the whole district is the caller's feasibility MIP: on
    800 units x 40 schools the strict local MIP on it stopped at its 10-s safety stop every time."""
    from zoneopt.solve.repair import LOCAL_MIP_MAX_ZONES, _Repair

    district = _overfull_synthetic(20 * m, m, 1.0)
    scenario = Scenario.from_dict({"constraints": {"max_extra_distance_km": 3.0}})
    repair = _Repair(district, scenario, eligible_pairs(district, scenario))
    assert repair.keep_and_regrow()
    sizes = [len(group) for group in repair._groups(0)]
    assert sizes == sorted(sizes) and sizes[0] == 2
    assert (max(sizes) == m) is whole
    assert max(sizes) <= max(LOCAL_MIP_MAX_ZONES, m if whole else 0)


def test_a_strict_local_mip_that_found_nothing_is_not_solved_again(monkeypatch):
    """500 units x 25 schools, seats x0.95, 1.5 km: the whole district's strict local MIP finds
    nothing after the chains (at 100 nodes; 400 find its plan); after eject_to_real_room the same
    model (the same units and schools, nothing outside) would find nothing again, so it is not
    solved a second time."""
    from zoneopt.solve import backends
    from zoneopt.solve import repair as repair_module
    from zoneopt.solve.repair import _Repair

    monkeypatch.setattr(repair_module, "WHOLE_MIP_NODES", repair_module.LOCAL_MIP_NODES)

    district = _overfull_synthetic(500, 25, 0.95, seed=0)
    scenario = Scenario.from_dict({"constraints": {"max_extra_distance_km": 1.5}})
    repair = _Repair(district, scenario, eligible_pairs(district, scenario))
    assert repair.keep_and_regrow()
    repair.chains(None)
    assert len(repair.broken())
    solves = []
    real_solve = backends.solve

    def counted(*args, **kwargs):
        solves.append(1)
        return real_solve(*args, **kwargs)

    backends.solve = counted
    try:
        repair.local_mips(None, "highs")
        first = len(solves)
        assert first >= 1 and len(repair.failed_mips) == first and len(repair.broken())
        repair.eject_to_real_room(None)
        repair.local_mips(None, "highs")
    finally:
        backends.solve = real_solve
    assert len(solves) == first


def test_a_strict_local_mips_key_names_its_units_schools_and_every_unit_outside():
    from zoneopt.solve.repair import _Repair

    district = _overfull_synthetic(200, 10, 1.0)
    scenario = Scenario.from_dict({"constraints": {"max_extra_distance_km": 3.0}})
    repair = _Repair(district, scenario, eligible_pairs(district, scenario))
    assert repair.keep_and_regrow()
    group = np.array([0, 1])
    units = np.flatnonzero(np.isin(repair.assign, group))
    key = repair._model_key(units, group)
    outside = np.flatnonzero(~np.isin(repair.assign, group) & ~repair.fixed)
    inside = units[~repair.fixed[units]]
    repair.assign[inside[0]] = 1 - repair.assign[inside[0]]  # within the group: the same model
    assert repair._model_key(units, group) == key
    repair.assign[outside[0]] = (repair.assign[outside[0]] + 1) % district.n_schools
    assert repair._model_key(units, group) != key
    assert repair._model_key(units, np.array([0, 2])) != key


def _node_limits(monkeypatch):
    """Per local MIP the repair solves: how many schools it re-zones, and its node limit."""
    from zoneopt.solve import backends

    asked = []
    real_solve = backends.solve

    def spy(model, *args, **kwargs):
        asked.append((len(np.unique(model.pair_school)), kwargs["node_limit"]))
        return real_solve(model, *args, **kwargs)

    monkeypatch.setattr(backends, "solve", spy)
    return asked


def test_the_whole_districts_strict_mip_gets_more_nodes_where_elastic_steps_would_follow(
        monkeypatch):
    """500 units x 25 schools, seats x0.95, 1.5 km, seed 0: after 100 nodes the whole district's
    strict MIP has no plan and the elastic steps took 14 s to find one; after 400 it has one (about
    5 s), and no elastic step runs."""
    from zoneopt.solve import repair as repair_module

    def no_elastic(*args, **kwargs):
        raise AssertionError("the elastic steps ran")

    district = _overfull_synthetic(500, 25, 0.95, seed=0)
    scenario = Scenario.from_dict({"constraints": {"max_extra_distance_km": 1.5}})
    eligible = eligible_pairs(district, scenario)
    assert repair_module.elastic_steps_wanted(district)
    monkeypatch.setattr(repair_module, "shrink_overflow", no_elastic)
    asked = _node_limits(monkeypatch)
    plan = repair_status_quo(district, scenario, eligible)
    assert plan is not None and check_plan(district, scenario, plan).ok
    assert (25, repair_module.WHOLE_MIP_NODES) in asked
    assert all(nodes == repair_module.LOCAL_MIP_NODES for schools, nodes in asked if schools < 25)


def test_below_500_units_the_whole_districts_strict_mip_keeps_100_nodes(monkeypatch):
    """200 units x 10 schools (seats x0.91, 1.5 km): the caller's exact steps follow a failed
    repair, so more nodes here would only delay them."""
    from zoneopt.solve import repair as repair_module

    district = _overfull_synthetic(200, 10, 0.91, seed=0)
    scenario = Scenario.from_dict({"constraints": {"max_extra_distance_km": 1.5}})
    eligible = eligible_pairs(district, scenario)
    assert not repair_module.elastic_steps_wanted(district)
    asked = _node_limits(monkeypatch)
    assert repair_status_quo(district, scenario, eligible) is None
    assert (10, repair_module.LOCAL_MIP_NODES) in asked
    assert {nodes for _, nodes in asked} == {repair_module.LOCAL_MIP_NODES}


def _pairs_asked(monkeypatch):
    """(schools, pairs) of every strict local MIP the repair builds."""
    from zoneopt.solve import backends

    asked = []
    real_solve = backends.solve

    def spy(model, *args, **kwargs):
        asked.append((len(np.unique(model.pair_school)), int(model.n_pairs)))
        return real_solve(model, *args, **kwargs)

    monkeypatch.setattr(backends, "solve", spy)
    return asked


def test_a_small_districts_whole_mip_keeps_the_pairs_within_the_reference_distance(monkeypatch):
    """200 units x 20 schools, seats x0.93, no distance limit, seed 1: with all 3,620 pairs the
    whole district's strict MIP stopped at its 10-s safety stop without a plan (and the 30-s run
    ended with none); with the 800 pairs within the reference extra distance it finds one."""
    from zoneopt.solve.narrowed import reference_pairs

    district = _overfull_synthetic(200, 20, 0.93, seed=1)
    scenario = Scenario()
    eligible = eligible_pairs(district, scenario)
    reference = reference_pairs(district, scenario, eligible)
    asked = _pairs_asked(monkeypatch)
    plan = repair_status_quo(district, scenario, eligible)
    assert plan is not None
    check_plan(district, scenario, plan).raise_if_failed()
    whole = [pairs for schools, pairs in asked if schools == 20]
    assert whole and max(whole) <= reference.sum() + district.n_units < eligible.sum()
    # A plan's unit may still sit at a school outside the reference distance (its own today).
    assert (plan == district.status_quo).mean() > 0.5


def test_the_whole_mip_keeps_every_pair_where_the_reference_removes_few(monkeypatch):
    """300 x 15, seats x0.93, 3 km: the reference distance keeps 86% of the pairs, and the MIP with
    all of them is the quicker (0.1 s against 1.9 s)."""
    from zoneopt.solve import repair as repair_module

    district = _overfull_synthetic(300, 15, 0.93, seed=0)
    scenario = Scenario.from_dict({"constraints": {"max_extra_distance_km": 3.0}})
    eligible = eligible_pairs(district, scenario)
    asked = _pairs_asked(monkeypatch)
    plan = repair_status_quo(district, scenario, eligible)
    assert plan is not None
    check_plan(district, scenario, plan).raise_if_failed()
    whole = [pairs for schools, pairs in asked if schools == 15]
    assert whole and all(
        pairs > repair_module.WHOLE_PAIRS_SHARE * eligible.sum() for pairs in whole)
