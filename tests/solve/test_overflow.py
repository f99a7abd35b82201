"""Elastic local MIPs that lower the repair's overflow (zoneopt.solve.overflow)."""

import numpy as np
import pytest
from districts import grid_frames

from zoneopt import District, Scenario
from zoneopt.check import check_plan
from zoneopt.model import Neighbourhood, eligible_pairs
from zoneopt.solve import overflow
from zoneopt.solve.overflow import elastic_zones, shrink_overflow
from zoneopt.solve.repair import LOCAL_MIP_SAFETY_S, _Repair
from zoneopt.synthetic import synthetic_district


def _overfull(n, m, factor, seed):
    units, schools = synthetic_district(n, m, seed=seed)
    schools = schools.copy()
    schools["capacity"] = np.ceil(schools["capacity"] * factor).astype(int)
    district = District.from_frames(units, schools)
    scenario = Scenario.from_dict({"constraints": {"max_utilization": 1.0}})
    return district, scenario, eligible_pairs(district, scenario)


def _total_over(district, assign):
    enr = np.bincount(assign, weights=district.students, minlength=district.n_schools)
    return float(np.maximum(enr - district.capacity, 0).sum())


def test_elastic_steps_alone_turn_an_overfull_plan_into_a_verified_plan(monkeypatch):
    """120 units x 8 schools with 95% of today's seats: today's zones (kept and regrown, no chains,
    no strict local MIPs) are 3,591 students over; the elastic steps alone mend them, every accepted
    step lowering the total overflow or, at equal overflow, pushing it towards room."""
    district, scenario, eligible = _overfull(120, 8, 0.95, 0)
    repair = _Repair(district, scenario, eligible)
    assert repair.keep_and_regrow()
    before = _total_over(district, repair.assign)
    assert before > 3000
    seen = []
    real_step = overflow._step

    def step(r, j, *args):
        was = _total_over(district, r.assign)
        took, used = real_step(r, j, *args)
        seen.append((was, _total_over(district, r.assign), took))
        return took, used

    monkeypatch.setattr(overflow, "_step", step)
    shrink_overflow(repair, None, "highs", LOCAL_MIP_SAFETY_S)
    assert not len(repair.broken())
    assert check_plan(district, scenario, repair.assign).ok
    assert all(after <= was + 1e-9 for was, after, _ in seen)
    assert all(after == was for was, after, took in seen if not took)
    assert seen[-1][1] == 0


def test_elastic_steps_give_the_same_plan_every_run():
    district, scenario, eligible = _overfull(120, 8, 0.95, 0)
    plans = []
    for _ in range(2):
        repair = _Repair(district, scenario, eligible)
        repair.keep_and_regrow()
        shrink_overflow(repair, None, "highs", LOCAL_MIP_SAFETY_S)
        plans.append(repair.assign.copy())
    assert np.array_equal(plans[0], plans[1])
    assert check_plan(district, scenario, plans[0]).ok


def test_elastic_zones_report_the_overflow_of_the_connected_zones_they_return():
    """A 1 x 5 row of 100-student units between two schools of 250 and 260 seats: no connected
    split fits (each school gets a prefix or suffix of the row), and the fewest students over is 40
    (S1 takes three units). The elastic solve finds it, and its zones are connected."""
    units, schools = grid_frames(1, 5, [0, 4], students=np.full(5, 100), capacities=[250, 260])
    district = District.from_frames(units, schools)
    scenario = Scenario()
    eligible = eligible_pairs(district, scenario)
    part = Neighbourhood(units=np.arange(5), schools=np.arange(2),
                         base=np.zeros(5, dtype=np.int64))
    assign, over = elastic_zones(district, scenario, eligible, part, time_limit=30, node_limit=None)
    assert over is not None
    assert list(np.round(over)) == [0, 40]
    assert list(assign) == [0, 0, 1, 1, 1]
    enr = np.bincount(assign, weights=district.students, minlength=2)
    assert np.allclose(np.maximum(enr - district.capacity, 0), over)


@pytest.mark.parametrize("start", [[0, 0, 0, 1, 1], [0, 1, 1, 1, 1]])
def test_a_warm_started_elastic_solve_never_ends_above_its_start(start):
    units, schools = grid_frames(1, 5, [0, 4], students=np.full(5, 100), capacities=[250, 260])
    district = District.from_frames(units, schools)
    scenario = Scenario()
    eligible = eligible_pairs(district, scenario)
    start = np.array(start, dtype=np.int64)
    part = Neighbourhood(units=np.arange(5), schools=np.arange(2), base=start)
    assign, over = elastic_zones(district, scenario, eligible, part, start=start, time_limit=30,
                                 node_limit=None)
    assert _total_over(district, assign) <= _total_over(district, start)
    assert over.sum() == pytest.approx(40)


def test_chains_after_an_elastic_step_keep_their_zones_only_when_they_finish():
    # With seats short overall (x0.8 of today's) the chains cannot finish: the zones go back as they
    # were, exactly. With 95% of today's seats they can: every school fits and the plan checks.
    district, scenario, eligible = _overfull(120, 8, 0.8, 0)
    assert district.capacity.sum() < district.students.sum()
    repair = _Repair(district, scenario, eligible)
    assert repair.keep_and_regrow()
    before = repair.assign.copy()
    assert not overflow._chains_finish(repair, None)
    assert np.array_equal(repair.assign, before)

    district, scenario, eligible = _overfull(120, 8, 0.95, 0)
    repair = _Repair(district, scenario, eligible)
    assert repair.keep_and_regrow() and len(repair.broken())
    assert overflow._chains_finish(repair, None)
    assert not len(repair.broken())
    assert check_plan(district, scenario, repair.assign).ok


def _one_overfull_school():
    district, scenario, eligible = _overfull(120, 8, 0.95, 0)
    repair = _Repair(district, scenario, eligible)
    assert repair.keep_and_regrow() and len(repair.broken())
    return repair, int(np.argmax(repair._excess()))


@pytest.mark.parametrize("timed_out", [False, True])
def test_an_elastic_mip_that_did_not_help_is_solved_again_only_after_a_safety_stop(monkeypatch,
                                                                                   timed_out):
    """A school's step whose MIPs gave no better zones, asked again with nothing changed, solves
    nothing and spends none of the step's MIPs; an answer cut short by the clock is not trusted."""
    repair, j = _one_overfull_school()
    solved = []

    def no_gain(mip, solver, *, time_limit, node_limit=None):
        solved.append(mip.key())
        return mip.base.copy(), None, timed_out  # today's zones again: no step

    monkeypatch.setattr(overflow.ElasticMip, "solve", no_gain)
    before = repair.assign.copy()
    took, used = overflow._step(repair, j, None, "highs", 10.0, 99)
    assert (took, used) == (False, len(solved)) and used >= 1
    assert len(set(solved)) == used  # one MIP per group size
    again = overflow._step(repair, j, None, "highs", 10.0, 99)
    assert np.array_equal(repair.assign, before)
    if timed_out:
        assert again == (False, used) and solved[used:] == solved[:used]
    else:
        assert again == (False, 0) and len(solved) == used


def test_the_elastic_mips_digest_follows_what_the_solver_is_given():
    repair, j = _one_overfull_school()
    zadj = overflow.zone_adjacency(repair.d, repair.assign)
    h = overflow._hops_to_room(repair, zadj)
    group = overflow._group(j, 4, zadj, h)
    key = overflow._elastic_mip(repair, group, h).key()
    assert overflow._elastic_mip(repair, group, h).key() == key
    assert overflow._elastic_mip(repair, group, h + 1.0).key() != key  # other prices
    assert overflow._elastic_mip(repair, group[:-1], h).key() != key  # another group
