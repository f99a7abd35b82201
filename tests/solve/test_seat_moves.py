"""The seats' annealing: connected zones that overfill some schools, annealed until every one fits."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from strategies import districts, scenarios

from zoneopt import District, Scenario
from zoneopt.check import check_plan
from zoneopt.model import eligible_pairs
from zoneopt.solve import seat_moves
from zoneopt.solve.anneal import anneal
from zoneopt.solve.repair import _Repair, repair_status_quo
from zoneopt.solve.seat_moves import SeatAnnealing, SeatMoves, anneal_into_seats
from zoneopt.synthetic import synthetic_district


def _overfull_synthetic(n, m, factor, seed=0):
    units, schools = synthetic_district(n, m, seed=seed)
    schools = schools.copy()
    schools["capacity"] = np.ceil(schools["capacity"] * factor).astype(int)
    return District.from_frames(units, schools)


def _seats_only(scenario):
    """The rules the seats' annealing keeps: the scenario without the low-income band and the
    moved budget, which the steps after the repair aim at."""
    return scenario.with_values({"constraints.low_income_band": float("inf"),
                                 "constraints.max_moved_share": 1.0})


def _regrown(district, scenario, eligible):
    """Today's zones made connected and eligible (the repair's first two steps), seats not mended;
    None when some unit can join no zone."""
    repair = _Repair(district, scenario, eligible)
    return repair.assign.copy() if repair.keep_and_regrow() else None


def _tight(km):
    """300 units x 15 schools with seats x0.93, today's zones made connected: schools over."""
    district = _overfull_synthetic(300, 15, 0.93)
    scenario = Scenario.from_dict({"constraints": {"max_extra_distance_km": km}})
    eligible = eligible_pairs(district, scenario)
    return district, scenario, eligible, _regrown(district, scenario, eligible)


def _over(district, scenario, assign):
    """Students over or under the seat limits, summed over the schools (the checker's numbers)."""
    c = scenario.constraints
    enr = np.bincount(assign, weights=district.students, minlength=district.n_schools)
    hi = np.floor(district.capacity * c.max_utilization + 1e-9)
    lo = np.ceil(district.capacity * c.min_utilization - 1e-9)
    return float(np.maximum(enr - hi, 0).sum() + np.maximum(lo - enr, 0).sum())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(district=districts(min_units=20), scenario=scenarios())
def test_the_seats_annealing_gives_plans_the_checker_passes_and_leaves_its_start_alone(
        district, scenario):
    scenario = _seats_only(scenario.with_values({"constraints.contiguity": True}))
    eligible = eligible_pairs(district, scenario)
    start = _regrown(district, scenario, eligible)
    if start is None:
        return
    before = start.copy()
    plan = anneal_into_seats(district, scenario, eligible, start)
    assert (start == before).all()
    if plan is not None:
        assert check_plan(district, scenario, plan).ok
        if _over(district, scenario, start) == 0:
            assert (plan == start).all()  # nothing to mend: the start itself


def test_an_overfull_status_quo_fits_its_seats_after_the_annealing_and_passes_the_checker():
    """300 units x 15 schools, seats x0.93: today's zones, made connected, leave schools over by
    hundreds of students."""
    district = _overfull_synthetic(300, 15, 0.93)
    scenario = Scenario.from_dict({"constraints": {"max_extra_distance_km": 3.0}})
    eligible = eligible_pairs(district, scenario)
    start = _regrown(district, scenario, eligible)
    assert start is not None and _over(district, scenario, start) > 0
    plan = anneal_into_seats(district, scenario, eligible, start)
    assert plan is not None
    assert check_plan(district, scenario, plan).ok
    assert _over(district, scenario, plan) == 0
    # counted work: the same plan every run
    assert (anneal_into_seats(district, scenario, eligible, start) == plan).all()


def test_the_running_overflow_follows_every_accepted_move():
    district, scenario, eligible, start = _tight(3.0)
    moves = SeatMoves(district, scenario, eligible, start)
    assert moves.aiming and moves.outside == _over(district, scenario, start)
    res = anneal(district, scenario, eligible, start, 20_000, seed=3, moves=moves)
    assert res.accepted > 0
    now = np.array(moves.z, dtype=np.int64)
    assert abs(moves.outside - _over(district, scenario, now)) < 1e-6
    if res.improved:
        assert moves.outside == 0


def test_moves_may_overfill_a_school_but_never_leave_the_eligible_pairs():
    district, scenario, eligible, start = _tight(1.5)
    moves = SeatMoves(district, scenario, eligible, start)
    full = [j for j in range(district.n_schools) if moves.enr[j] >= moves.cap_hi[j]]
    assert full
    seen_full = seen_ineligible = False
    for i in moves.movable:
        a = moves.z[i]
        for b in {moves.z[k] for k in moves.nb[i]} - {a}:
            delta = moves.change(i, a, b)
            if not eligible[i, b]:
                assert delta is None
                seen_ineligible = True
            else:
                assert delta is not None
                seen_full |= b in full
    assert seen_full and seen_ineligible


def test_the_repair_anneals_into_the_seats_before_any_local_mip(monkeypatch):
    """1,000 units x 50 schools with 4% spare seats, 3 km: the chains leave 13 schools over and a
    strict local MIP that finds nothing took 14 s; the first round of the seats' annealing fits
    them, so no local MIP, strict or elastic, starts."""
    from zoneopt.solve import repair as repair_module

    def no_elastic(*args, **kwargs):
        raise AssertionError("the elastic steps ran")

    def no_local_mips(*args, **kwargs):
        raise AssertionError("a strict local MIP ran")

    monkeypatch.setattr(repair_module._Repair, "local_mips", no_local_mips)

    units, schools = synthetic_district(1000, 50, seed=301)
    spare = 1.04 * units["students"].sum() / schools["capacity"].sum()
    district = _overfull_synthetic(1000, 50, spare, seed=301)
    scenario = Scenario.from_dict({"constraints": {"max_extra_distance_km": 3.0}})
    eligible = eligible_pairs(district, scenario)
    monkeypatch.setattr(repair_module, "shrink_overflow", no_elastic)
    asked = []
    plan = repair_status_quo(district, scenario, eligible, go_on=lambda: asked.append(1) or True)
    assert plan is not None
    assert check_plan(district, scenario, plan).ok
    # its first round fits every school: the question whether a plan exists (the LP) is not asked
    assert asked == []


def test_a_repair_whose_seats_annealing_finds_nothing_keeps_its_plan(monkeypatch):
    monkeypatch.setattr(seat_moves, "PROPOSALS_PER_UNIT", 0)
    district = _overfull_synthetic(300, 15, 0.93)
    scenario = Scenario.from_dict({"constraints": {"max_extra_distance_km": 3.0}})
    repair = _Repair(district, scenario, eligible_pairs(district, scenario))
    assert repair.keep_and_regrow()
    before = repair.assign.copy()
    repair.anneal_into_seats(None, rounds=3)
    assert (repair.assign == before).all()


def test_rounds_run_a_few_at_a_time_reach_the_plan_of_the_rounds_run_at_once(monkeypatch):
    """The repair runs the first round before the LP's question and the rest after it: the split
    changes nothing (each round starts from the last one's best with the next seed)."""
    monkeypatch.setattr(seat_moves, "PROPOSALS_PER_UNIT", 1)  # too few for a round to fit
    district, scenario, eligible, start = _tight(3.0)
    at_once = SeatAnnealing(district, scenario, eligible, start)
    at_once.run(seat_moves.ROUNDS)
    split = SeatAnnealing(district, scenario, eligible, start)
    split.run(1)
    split.run(5)  # never more than ROUNDS in all
    assert at_once.rounds_done == split.rounds_done == seat_moves.ROUNDS
    assert np.array_equal(at_once.assign, split.assign)
    assert not np.array_equal(at_once.assign, start)
