"""The steps of the two-level search (:func:`zoneopt.solve.feeders.optimize_two_level`): the
feeder map for fixed elementary zones (a MIP on the graph of zones, or annealed on it above
``FEEDER_MAP_MIP_PAIRS`` zone-school pairs), elementary zones fitted to a fixed feeder map, the
whole district's two-level closer-neighbour MIP for a first plan, and the neighbourhood search
that re-optimises a few adjacent zones with their feeder choices.

Every step is capped in nodes, proposals or counted simplex work, so that it ends on the same
step on any machine; each reports to the search's state (``best``) what the clock cut.
"""

from __future__ import annotations

import logging
import time

import numpy as np

from ..feeders import FeederData
from ..model import Neighbourhood
from ..model.feeders import build_two_level, middle_cuts, zone_feeder_model
from ..scenario import Scenario
from ..settings import LNS_NODE_LIMIT
from .backends import solve
from .feeder_map import anneal_feeder_map
from .search import neighbourhood, step_work, zone_adjacency
from .work import step_seconds

log = logging.getLogger("zoneopt")

#: Node cap of one feeder-map MIP: this work in variable-nodes (zones x middle schools x nodes),
#: between FEEDER_MAP_NODES_MIN and _MAX, since a node costs about its model's size. 2,000 x 100
#: with 20 middle schools: about 200 nodes, 3 s (2,000 nodes took 16.5 s there); 800 x 40: 1,900.
FEEDER_MAP_WORK = 600_000
FEEDER_MAP_NODES_MIN = 50
FEEDER_MAP_NODES_MAX = 2_000
#: Above this many zone-school pairs (elementary x middle schools) the feeder map is annealed on
#: the zone graph (:mod:`zoneopt.solve.feeder_map`), not solved by a MIP. At 5,000 x 250 with 71
#: middle schools (17,750 pairs) the MIP's 50 nodes took 15-32 s, the annealing 2 s (no nested plan
#: in 120 s before, one at 11 s now); at 2,000 x 100 with 29 (2,900 pairs), 6.4 s against 0.8 s
#: (first plan 8.0 -> 1.75 s, objective at 60 s 0.4232 -> 0.4143). Below, the MIP's maps gave the
#: better plans: with the annealing at every size, 4 of the 7 smaller sweep districts ended worse
#: (800 x 40: 0.2062 -> 0.2345, 0.3209 -> 0.3342; 500 x 25: 0.0898 -> 0.0985), 1 better.
FEEDER_MAP_MIP_PAIRS = 1_000
#: Elementary zones re-optimised together in one two-level step.
ZONES_PER_STEP = 4
#: Middle-contiguity cut rounds of the zones fitted to a fixed feeder map.
FIT_ROUNDS = 20
#: Rounds of the whole two-level closer-neighbour MIP (each 4x the last one's node cap).
CLOSER_MIP_ROUNDS = 4


def _feeder_map(district, scenario, data: FeederData, assign, solver_name, deadline, best=None,
                soft=0.0, rules=(True, False), spent=None, current=None):
    """The best feeder map for fixed elementary zones: first under the closer-neighbour rule on
    the zone graph (fast), else with exact zone-graph contiguity (a flow); None when neither finds
    one within its node cap. ``soft`` > 0 lets middle capacity be exceeded at that cost per
    student; ``rules`` = ``(True,)`` tries the closer-neighbour rule alone; ``spent`` (a one-item
    list), when given, gets the solves' counted work added.

    Above ``FEEDER_MAP_MIP_PAIRS`` zone-school pairs the map is annealed on the zone graph
    (:func:`zoneopt.solve.feeder_map.anneal_feeder_map`) instead: from ``current`` (a map that
    keeps the seats for these zones) when given, else from the map that overfills the middle
    schools least."""
    if district.n_schools * data.n_schools > FEEDER_MAP_MIP_PAIRS:
        return _annealed_map(district, scenario, data, assign, deadline, best, soft, current)
    for closer in rules:
        built = zone_feeder_model(district, scenario, data, assign, closer=closer, soft_capacity=soft)
        if built is None:
            return None
        model, y = built
        res = solve(model, solver_name, mip_gap=1e-3, seed=scenario.solver.seed,
                    time_limit=step_seconds(solver_name, deadline - time.perf_counter()),
                    node_limit=_scaled(_map_nodes(y.size), scenario), threads=scenario.solver.threads)
        log.info("feeder map (%s rule%s): %s after %d nodes, %.1f s%s", "closer-neighbour"
                 if closer else "exact", ", soft capacity" if soft else "", res.status, res.nodes,
                 res.seconds, ", ended by the clock" if res.limit == "time" else "")
        if best is not None:
            best.note(res)
        if spent is not None:
            spent[0] += step_work(res)
        if res.values is not None:
            return np.argmax(res.values[y], axis=1).astype(np.int64)
        log.info("no feeder map for these zones (%s rule on the zone graph: %s)",
                 "closer-neighbour" if closer else "exact", res.status)
    return None


def _annealed_map(district, scenario, data, assign, deadline, best, soft, current):
    """``_feeder_map`` by annealing (see there); the map and how it ended are logged."""
    def clock() -> None:
        if best is not None:
            best.cut_short("search")

    t = time.perf_counter()
    stops = {"seed": scenario.solver.seed, "deadline": deadline, "on_clock": clock}
    feeds = None if soft or current is None else anneal_feeder_map(
        district, scenario, data, assign, start=current, **stops)
    if feeds is None:
        feeds = anneal_feeder_map(district, scenario, data, assign,
                                  over_cost=soft or _soft_cost(data), **stops)
        if feeds is not None and not soft:  # the seats a rule: anneal the balance within them
            feeds = anneal_feeder_map(district, scenario, data, assign, start=feeds, **stops)
    log.info("feeder map (annealed on the zone graph%s): %s, %.1f s", ", soft capacity"
             if soft else "", "none" if feeds is None else "found", time.perf_counter() - t)
    return feeds


def _map_nodes(variables: int) -> int:
    """Node cap of a feeder-map MIP with this many feeder variables (``FEEDER_MAP_WORK``)."""
    return int(min(FEEDER_MAP_NODES_MAX, max(FEEDER_MAP_NODES_MIN,
                                             FEEDER_MAP_WORK // max(1, variables))))


def _scaled(nodes: int, scenario: Scenario) -> int:
    """A node cap scaled by ``solver.work_budget`` (as :class:`zoneopt.solve.work.Budget`)."""
    return max(1, round(float(scenario.solver.work_budget) * nodes))


def _fit_zones(district, scenario, eligible, data, groups, feeds, base, solver_name, end, best,
               nodes):
    """Elementary zones for a fixed feeder map: the district's MIP with the middle rows (nesting,
    capacity, balance are linear once the map is fixed; middle contiguity by cut rounds, at most
    ``FIT_ROUNDS``, each capped at ``nodes``)."""
    tl = build_two_level(district, scenario, eligible, data, groups, contiguity="closer",
                         objective="none", fixed_feeds=feeds, middle_contiguity=False)
    for _ in range(FIT_ROUNDS):
        if time.perf_counter() >= end:
            best.cut_short("search")
            return None
        res = solve(tl.model, solver_name, time_limit=step_seconds(solver_name, end - time.perf_counter()),
                    mip_gap=0.05, seed=scenario.solver.seed, threads=scenario.solver.threads,
                    node_limit=nodes)
        best.note(res)
        if res.values is None:
            return None
        a, f = tl.plan_from(res.values, base, feeds)
        if not scenario.constraints.contiguity:
            return a, f
        cuts, lo, hi, pieces = middle_cuts(district, data, tl, f[a])
        if pieces == 0:
            return a, f
        tl.model.add_rows(cuts, lo, hi)
    return None


def _closer_mip(district, scenario, eligible, data, groups, best, solver_name, end, nodes,
                log_solver, feasible, start_from) -> None:
    """A first plan from the whole two-level closer-neighbour MIP (feasibility only: it comes much
    sooner so): rounds of ``nodes``, then 4x as many, ..., ``CLOSER_MIP_ROUNDS`` at most, each from
    scratch, so that the plan a round finds is the same on any machine that reaches it."""
    tl = build_two_level(district, scenario, eligible, data, groups, contiguity="closer",
                         objective="none")
    nested = data is not None
    for _ in range(CLOSER_MIP_ROUNDS):
        if time.perf_counter() >= end or best.interrupted:
            best.cut_short("search")
            return
        res = solve(tl.model, solver_name, time_limit=step_seconds(solver_name, end - time.perf_counter()),
                    mip_gap=0.05, seed=scenario.solver.seed, node_limit=nodes,
                    threads=scenario.solver.threads, log=log_solver)
        best.note(res)
        if res.values is not None:
            a, f = tl.plan_from(res.values, np.zeros(district.n_units, np.int64),
                                np.zeros(district.n_schools, np.int64) if nested else None)
            if feasible(a, f):
                start_from(a, f, "two-level closer-neighbour MIP")
            return
        if res.status == "infeasible" or res.limit != "work":
            return
        nodes *= 4


def _soft_cost(data: FeederData) -> float:
    """Cost per student over middle capacity in a soft feeder map: 1 % of the middle students over
    costs 1, far more than any dissimilarity (at most 1)."""
    return 100.0 / max(1.0, float(data.students.sum()))


def _two_level_search(district, scenario, eligible, data, groups, best, solver_name, end, feasible,
                      work_cap, steps):
    """Passes over the schools, each step a node-capped two-level sub-MIP on a few adjacent zones;
    it ends when two passes improve nothing, after ``steps`` steps (``Budget.lns_steps``: scaled
    by ``solver.work_budget``) or when the steps' counted work
    (:func:`zoneopt.solve.search.step_work`) reaches ``work_cap``: on the same step on any machine.
    ``end`` is a safety stop (reported)."""
    m = district.n_schools
    if m < 2:
        return
    spent = [0, 0]  # counted work, steps
    t = time.perf_counter()
    try:
        _search_passes(district, scenario, eligible, data, groups, best, solver_name, end, feasible,
                       work_cap, steps, spent)
    finally:
        log.info("two-level search: %d of %d steps, counted work %d of %.0f, in %.1f s",
                 spent[1], steps, spent[0], work_cap, time.perf_counter() - t)


def _search_passes(district, scenario, eligible, data, groups, best, solver_name, end, feasible,
                   work_cap, steps, spent):
    m = district.n_schools
    rng = np.random.default_rng(scenario.solver.seed)
    size = min(ZONES_PER_STEP, m)
    stale = 0

    def stop() -> bool:
        if best.interrupted:
            return True
        if time.perf_counter() >= end:
            best.cut_short("search")
            return True
        return spent[0] >= work_cap or spent[1] >= steps

    while not stop():
        improved = False
        if data is not None:
            # The best feeder map for the zones as they are now (the steps only re-map a few).
            remap = _feeder_map(district, scenario, data, best.assign, solver_name, end, best,
                                spent=spent, current=best.feeds)
            if remap is not None and fn_better(best, best.assign, remap) and feasible(best.assign,
                                                                                      remap):
                improved |= best.offer(best.assign, remap, "feeder map re-optimised")
        order = rng.permutation(m)
        for j in order.tolist():
            if stop():
                return
            cur, feeds = best.assign, best.feeds
            adj = zone_adjacency(district, cur)
            group = neighbourhood(int(j), adj, size, rng)
            if len(group) < 2:
                continue
            free = np.flatnonzero(np.isin(cur, group))
            cands = None
            if data is not None:
                near = set(group)
                for g in group:
                    near |= adj[g]
                cands = sorted({int(feeds[g]) for g in near})
            tl = build_two_level(
                district, scenario, eligible, data, groups, contiguity="closer",
                part=Neighbourhood(units=free, schools=np.asarray(group), base=cur),
                feeds=feeds, cands=cands,
            )
            res = solve(tl.model, solver_name,
                        time_limit=step_seconds(solver_name, end - time.perf_counter()),
                        mip_gap=1e-4, start=tl.start_vector(district, scenario, data, cur, feeds),
                        node_limit=LNS_NODE_LIMIT, seed=scenario.solver.seed,
                        threads=scenario.solver.threads)
            best.note(res)
            spent[0] += step_work(res)
            spent[1] += 1
            if res.values is None:
                continue
            a, f = tl.plan_from(res.values, cur, feeds)
            if fn_better(best, a, f) and feasible(a, f):
                improved |= best.offer(a, f, f"two-level lns({len(group)} zones)")
        if improved:
            stale = 0
            continue
        stale += 1
        if size >= m or stale > 1:
            return
        size = min(m, size * 2)


def fn_better(best, a, f) -> bool:
    """Whether a candidate improves the objective (checked before its feasibility, which costs more)."""
    return best.fn(a, f) < best.value - 1e-12
