"""Search steps: each closer-neighbour potential in turn; the zones' own potential keeps the plan
feasible, so its steps never return a worse plan, and they reach plans the hop potential cannot."""

import math

import numpy as np
import pytest

from zoneopt import District, Scenario, settings
from zoneopt.check import check_plan
from zoneopt.district import zone_adjacency
from zoneopt.model import eligible_pairs
from zoneopt.solve.repair import repair_status_quo
from zoneopt.solve.search import (
    improve_group,
    large_neighbourhood_search,
    neighbourhood,
    solve_group,
)
from zoneopt.solve.state import objective_function
from zoneopt.synthetic import synthetic_district

LOOSE = Scenario.from_dict({"constraints": {"max_extra_distance_km": math.inf}})


def _search_start(n_units: int, n_schools: int, seed: int):
    """A synthetic district under LOOSE, its eligible pairs, the repair's plan and the objective."""
    units, schools = synthetic_district(n_units, n_schools, seed=seed)
    district = District.from_frames(units, schools)
    eligible = eligible_pairs(district, LOOSE)
    first = repair_status_quo(district, LOOSE, eligible, deadline=math.inf)
    return district, eligible, first, objective_function(district, LOOSE)


@pytest.fixture(scope="module")
def searched():
    """A plan after a short search with hop potentials only (today's zones break the rows)."""
    district, eligible, first, objective = _search_start(100, 6, 0)
    saved = settings.LNS_STEP_POTENTIALS
    settings.LNS_STEP_POTENTIALS = ("hops",)
    try:
        plan = large_neighbourhood_search(district, LOOSE, eligible, first, objective,
                                          deadline=math.inf, max_steps=10).assign
    finally:
        settings.LNS_STEP_POTENTIALS = saved
    return district, eligible, plan, objective


def _groups(district, plan):
    adjacency = zone_adjacency(district, plan)
    rng = np.random.default_rng(0)
    return [neighbourhood(j, adjacency, 3, rng) for j in range(district.n_schools)]


def test_a_step_on_the_zones_potential_never_returns_a_worse_plan(searched):
    district, eligible, plan, objective = searched
    for group in _groups(district, plan):
        cand, timed_out, _ = solve_group(district, LOOSE, eligible, plan, group, "highs",
                                         math.inf, potential="zones")
        assert not timed_out and cand is not None
        assert objective(cand) <= objective(plan) + 1e-12
        assert check_plan(district, LOOSE, cand).ok


def test_the_zones_potential_reaches_plans_the_hop_potential_cannot(searched):
    district, eligible, plan, objective = searched
    gains = []
    for group in _groups(district, plan):
        hop, _, _ = solve_group(district, LOOSE, eligible, plan, group, "highs", math.inf)
        zones, _, _ = solve_group(district, LOOSE, eligible, plan, group, "highs", math.inf,
                                  potential="zones")
        hop_value = objective(hop) if hop is not None else math.inf
        gains.append(hop_value - objective(zones))
    assert max(gains) > 1e-6, gains


def test_a_step_tries_the_next_potential_only_when_the_first_does_not_improve(searched,
                                                                             monkeypatch):
    district, eligible, plan, objective = searched
    from zoneopt.solve import search

    tried = []

    def fake(district_, scenario_, eligible_, current, group, solver, deadline, potential="hops"):
        tried.append(potential)
        out = current.copy()
        if potential == "zones":  # only the second potential finds a better plan
            out[np.flatnonzero(current == group[0])[-1]] = group[1]
        return out, False, 0

    monkeypatch.setattr(search, "solve_group", fake)
    both = ("hops", "zones")
    cand, timed_out, rule, _ = improve_group(district, LOOSE, eligible, plan, [0, 1], "highs",
                                             math.inf, lambda a: -float((a != plan).sum()), both)
    assert tried == ["hops", "zones"] and rule == "zones" and not timed_out
    tried.clear()
    cand, _, rule, _ = improve_group(district, LOOSE, eligible, plan, [0, 1], "highs", math.inf,
                                     lambda a: 0.0, both)
    assert tried == ["hops", "zones"] and cand is None and rule == ""
    tried.clear()
    improve_group(district, LOOSE, eligible, plan, [0, 1], "highs", math.inf, lambda a: 0.0)
    assert tried == ["hops"]  # a search starts with the first potential only


def test_a_search_adds_the_second_potential_after_a_pass_that_finds_nothing(searched, monkeypatch):
    district, eligible, plan, objective = searched
    from zoneopt.solve import search

    tried = []

    def nothing_better(district_, scenario_, eligible_, current, group, solver, deadline,
                       potential="hops"):
        tried.append(potential)
        return current.copy(), False, 0

    monkeypatch.setattr(search, "solve_group", nothing_better)
    monkeypatch.setattr(settings, "LNS_ALL_POTENTIALS_MAX_UNITS", district.n_units - 1)
    large_neighbourhood_search(district, LOOSE, eligible, plan, objective, deadline=math.inf)
    first = tried.index("zones")
    assert first >= district.n_schools - 1 and set(tried[:first]) == {"hops"}
    assert tried[first - 1: first + 3] == ["hops", "zones", "hops", "zones"]
    # A district of up to LNS_ALL_POTENTIALS_MAX_UNITS units tries both from the first step.
    tried.clear()
    monkeypatch.setattr(settings, "LNS_ALL_POTENTIALS_MAX_UNITS", district.n_units)
    large_neighbourhood_search(district, LOOSE, eligible, plan, objective, deadline=math.inf)
    assert tried[:4] == ["hops", "zones", "hops", "zones"]


def test_a_steps_work_is_its_simplex_iterations_and_the_same_on_every_solve(searched):
    district, eligible, plan, _ = searched
    group = _groups(district, plan)[0]
    works = set()
    for _ in range(3):
        cand, _, work = solve_group(district, LOOSE, eligible, plan, group, "highs", math.inf)
        assert cand is None or check_plan(district, LOOSE, cand).ok
        works.add(work)
    (work,) = works  # the same count on every solve of the same step
    assert work > settings.LNS_SOLVE_WORK  # iterations were counted, not only the fixed part


def test_the_search_ends_on_its_counted_work_on_the_same_step_at_any_speed(monkeypatch):
    import time

    from zoneopt.solve import search

    district, eligible, first, objective = _search_start(100, 6, 0)

    def run(max_work):
        return large_neighbourhood_search(district, LOOSE, eligible, first, objective,
                                          deadline=math.inf, max_steps=6, max_work=max_work)

    free = run(None)
    assert free.steps == 6
    capped = run(free.work / 3)
    assert 0 < capped.steps < free.steps and free.work / 3 <= capped.work < free.work
    real = search.solve_group

    def slow(*args, **kwargs):  # a loaded machine: every step takes longer, counts the same
        time.sleep(0.02)
        return real(*args, **kwargs)

    monkeypatch.setattr(search, "solve_group", slow)
    again = run(free.work / 3)
    assert (again.steps, again.work) == (capped.steps, capped.work)
    assert np.array_equal(again.assign, capped.assign)
    assert check_plan(district, LOOSE, capped.assign).ok
    assert check_plan(district, LOOSE, free.assign).ok


def test_a_group_solved_without_gain_is_not_solved_again_on_the_same_plan(monkeypatch):
    """A step is a function of its group, the plan and the potentials: solving it again finds
    nothing again. With 4 schools every group is the whole district, so every seed's group is the
    same; without the memory each was the same MIP again (on 150 x 7 seed 522, 3-11 s each, and
    the clock cut the search on an idle machine)."""
    from zoneopt.solve import search

    district, eligible, first, objective = _search_start(40, 4, 3)
    real = search.solve_group
    calls: list[tuple[frozenset[int], bytes, str]] = []

    def counted(district_, scenario, eligible_, current, group, *args, **kwargs):
        calls.append((frozenset(group), current.tobytes(), kwargs.get("potential", "hops")))
        return real(district_, scenario, eligible_, current, group, *args, **kwargs)

    monkeypatch.setattr(search, "solve_group", counted)

    def run():
        calls.clear()
        result = large_neighbourhood_search(district, LOOSE, eligible, first, objective,
                                            deadline=math.inf, max_steps=10_000)
        return result, list(calls)

    remembered, solves = run()
    assert remembered.skipped > 0
    assert len(set(solves)) == len(solves)  # no group solved twice on the same plan
    # Without the memory: the same path, the same plan, only the repeated solves more.
    monkeypatch.setattr(search._Batches, "tried_before", lambda self, group: False)
    forgetful, again = run()
    assert np.array_equal(forgetful.assign, remembered.assign)
    assert forgetful.steps == remembered.steps + remembered.skipped
    assert len(again) > len(solves) and set(again) == set(solves)
    assert check_plan(district, LOOSE, remembered.assign).ok
