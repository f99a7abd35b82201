"""Finding good plans fast: status-quo repair and large-neighbourhood search (LNS).

The LNS re-optimises a few adjacent zones at a time with the MIP while the rest of the district stays
fixed, and keeps every improvement. Each step is a small MIP (a few hundred binaries) with a node cap,
so the search is repeatable: the same inputs give the same plan when it finishes within its time.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..district import District, zone_adjacency
from ..model import Neighbourhood, build_model, reachable
from ..model.potential import zone_potential
from ..scenario import Scenario
from .backends import solve
from .groups import seed_deviations, tier_imbalance, tier_moves
from .moves import seat_limits, unit_costs
from .work import step_seconds
from .years import year_loads


def neighbourhood(
    seed_school: int, adjacency: list[set[int]], size: int, rng: np.random.Generator
) -> list[int]:
    """Up to ``size`` schools around ``seed_school``, breadth first, ties broken by ``rng``."""
    chosen = [seed_school]
    frontier = [seed_school]
    while frontier and len(chosen) < size:
        nxt = []
        for j in frontier:
            cand = sorted(adjacency[j] - set(chosen))
            rng.shuffle(cand)
            for k in cand:
                if len(chosen) < size:
                    chosen.append(k)
                    nxt.append(k)
        frontier = nxt
    return sorted(chosen)


def chain(
    seed_school: int, adjacency: list[set[int]], dev: np.ndarray, max_len: int
) -> list[int]:
    """Zones on a shortest path from ``seed_school`` to the nearest zone whose imbalance has the
    opposite sign (ties: the largest opposite imbalance).

    Balancing moves low-income students out of zones with too many, into zones with too few; when
    those zones are not neighbours, the students must shift along a chain of zones, which a group of
    adjacent zones around one seed cannot do.
    """
    sign = np.sign(dev[seed_school])
    if sign == 0:
        return [seed_school]
    parent = {seed_school: -1}
    frontier = [seed_school]
    depth = 0
    while frontier and depth < max_len - 1:
        nxt = []
        for j in frontier:
            for k in sorted(adjacency[j]):
                if k not in parent:
                    parent[k] = j
                    nxt.append(k)
        depth += 1
        opposite = [k for k in nxt if np.sign(dev[k]) == -sign]
        if opposite:
            target = max(opposite, key=lambda k: (abs(dev[k]), -k))
            path = [target]
            while parent[path[-1]] != -1:
                path.append(parent[path[-1]])
            return sorted(path)
        frontier = nxt
    return [seed_school]


def _deviations(district: District, assign: np.ndarray) -> np.ndarray:
    """L_j - p S_j per school: positive where the school has more than its share of low-income."""
    s = district.students.astype(float)
    low = district.low_income.astype(float)
    p = low.sum() / s.sum() if s.sum() else 0.0
    return np.bincount(assign, weights=low - p * s, minlength=district.n_schools)


def _seed_order(district: District, assign: np.ndarray, rng: np.random.Generator,
                tiers: bool = False) -> list[int]:
    """Schools by decreasing imbalance |L_j - p S_j| (or over tiers; ties by rng): most to gain first."""
    dev = tier_imbalance(district, assign) if tiers else np.abs(_deviations(district, assign))
    noise = rng.random(district.n_schools) * 1e-9
    return [int(j) for j in np.argsort(-(dev + noise), kind="stable")]


def solve_group(district, scenario, eligible, current, group, solver, deadline,
                potential: str = "hops"):
    """Re-optimise the zones of ``group`` with the rest fixed (closer-neighbour contiguity inside it).

    ``potential`` names the rows' potential: ``"hops"`` (hop distance from each home unit through
    the group's units) or ``"zones"`` (anchored on ``current``'s zones,
    :func:`zoneopt.model.potential.zone_potential`, so that ``current`` satisfies the rows).

    Returns the plan found, whether the wall clock (rather than the node cap) ended the step, and
    the step's counted work (:func:`step_work`).
    """
    from .. import settings

    free = np.flatnonzero(np.isin(current, group))
    contiguous = scenario.constraints.contiguity
    pot = zone_potential(district, current, group, free) if (
        contiguous and potential == "zones") else None
    model = build_model(
        district, scenario, eligible,
        contiguity="closer" if contiguous else "none",
        part=Neighbourhood(units=free, schools=np.asarray(group), base=current),
        potential=pot,
    )
    res = solve(
        model, solver, time_limit=step_seconds(solver, deadline - time.perf_counter()),
        mip_gap=1e-4, start=model.start_vector(current, district, scenario),
        node_limit=settings.LNS_NODE_LIMIT, seed=scenario.solver.seed,
        threads=scenario.solver.threads,
    )
    work = step_work(res)
    if res.values is None:
        return None, res.limit == "time", work
    return model.assignment_from(res.values, current), res.limit == "time", work


def step_work(res) -> int:
    """The counted work of one search step's solve: its simplex iterations plus
    ``settings.LNS_SOLVE_WORK`` for building and presolving the model. The same on every machine
    (HiGHS follows the same path for the same model and options), unlike its seconds."""
    from .. import settings

    return int(res.iterations) + int(settings.LNS_SOLVE_WORK)


def improve_group(district, scenario, eligible, current, group, solver, deadline, objective,
                  rules=("hops",)):
    """One search step: :func:`solve_group` under each potential of ``rules`` in turn, until one
    improves on ``current``.

    The potentials reach different zones: hop distances let a step redraw the zones from scratch
    but forbid the detours today's zones often take; the zones' own potential keeps every zone
    feasible and lets it grow and shrink at its edges.

    Returns
    -------
    tuple
        The improved plan (None when no potential improved), whether the wall clock ended a solve,
        the potential that improved ("" when none did) and the counted work of the solves.
    """
    value = objective(current)
    if not scenario.constraints.contiguity:
        rules = ("hops",)  # without contiguity rows the potential plays no part
    work = 0
    for rule in rules:
        cand, timed_out, used = solve_group(district, scenario, eligible, current, group, solver,
                                            deadline, potential=rule)
        work += used
        if timed_out:
            return cand, True, rule, work
        if cand is not None and objective(cand) < value - 1e-12:
            return cand, False, rule, work
    return None, False, "", work


@dataclass
class SearchResult:
    """What a large-neighbourhood search ended with."""

    assign: np.ndarray
    steps: int
    #: True when the wall clock, not the step budget or convergence, ended it.
    timed_out: bool
    #: Counted work of its steps (zoneopt.solve.search.step_work).
    work: int = 0
    #: Groups not solved again: solved without gain on the same plan with the same potentials.
    skipped: int = 0


def large_neighbourhood_search(
    district: District,
    scenario: Scenario,
    eligible: np.ndarray,
    assign: np.ndarray,
    objective: Callable[[np.ndarray], float],
    *,
    deadline: float,
    solver: str = "highs",
    max_steps: int | None = None,
    max_work: float | None = None,
    on_improve: Callable[[np.ndarray, float, str], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    batch: int = 1,
    helper: Any = None,
) -> SearchResult:
    """Improve ``assign`` by re-optimising groups of adjacent zones until no group improves.

    The search is counted in steps (one node-capped sub-MIP each) and ends after ``max_steps`` or
    when no group improves, so it gives the same plan at any speed; ``deadline`` is a safety stop.

    Parameters
    ----------
    district, scenario, eligible
        The problem and its eligible pairs.
    assign
        A feasible plan (school position per unit).
    objective
        The full objective of a plan.
    deadline
        ``time.perf_counter()`` value at which to stop (safety stop).
    solver
        Solver for the sub-problems.
    max_steps
        Sub-MIP steps allowed (None: until no group improves).
    max_work
        Counted work allowed (:func:`step_work`, summed over the steps; None: no cap): no step
        starts once it is spent. A time limit's work, counted instead of timed, so that the search
        ends on the same step on any machine.
    on_improve
        Called with (plan, objective, label) after each improvement.
    should_stop
        Polled between steps (e.g. a Ctrl-C flag).
    batch
        Groups per batch: up to this many groups that share no school are each solved against the
        same plan and their improvements combined (zones of different groups never interact except
        through the moved-students budget, which the combination is checked against). The plan
        depends on ``batch``, never on where the groups are solved.
    helper
        A :class:`zoneopt.solve.helper.StepHelper` that solves one group of each batch on another
        core (None: every group is solved here).

    Returns
    -------
    SearchResult
        The best plan found (feasible by construction), the steps taken and whether time ran out.
    """
    m = district.n_schools
    if m < 2:
        return SearchResult(assign, 0, False)
    rng = np.random.default_rng(scenario.solver.seed)
    search = _Batches(district, scenario, eligible, assign.copy(), objective, deadline, solver,
                      helper, on_improve)
    from .. import settings

    size = min(settings.LNS_ZONES_PER_STEP, m)
    stale_passes = 0
    tiers = scenario.objective.balance == "tiers"
    limit = math.inf if max_steps is None else max_steps
    work_limit = math.inf if max_work is None else max_work
    batch = max(1, int(batch))

    def flush() -> bool:
        """Solve the pending groups; True when the wall clock ended a step."""
        return search.run() if search.pending else False

    while True:
        adjacency = zone_adjacency(district, search.current)
        improved_before = search.improvements
        for j in _seed_order(district, search.current, rng, tiers):
            if should_stop and should_stop():
                flush()
                return search.result(False)
            if search.steps + len(search.pending) >= limit or search.work >= work_limit:
                timed_out = flush()
                return search.result(timed_out)
            if time.perf_counter() >= deadline:
                return search.result(True)
            cur = search.current
            dev = seed_deviations(district, cur, j) if tiers else _deviations(district, cur)
            group = chain(int(j), adjacency, dev, max_len=2 * size)
            if len(group) < size:
                extra = neighbourhood(int(j), adjacency, size, rng)
                group = sorted(set(group) | set(extra[: max(0, size - len(group))]) | set(group))
            if len(group) < 2:
                continue
            if search.overlaps(group):  # a group must not share a school with the batch's others
                changed = search.improvements
                if flush():
                    return search.result(True)
                if search.improvements != changed:
                    adjacency = zone_adjacency(district, search.current)
                    continue  # this seed's group was drawn on the plan before the batch
            if search.tried_before(group):
                search.skipped += 1
                continue
            search.pending.append(group)
            if len(search.pending) >= batch:
                changed = search.improvements
                if flush():
                    return search.result(True)
                if search.improvements != changed:
                    adjacency = zone_adjacency(district, search.current)
        if flush():
            return search.result(True)
        if search.improvements != improved_before:
            stale_passes = 0
            continue
        stale_passes += 1
        if search.rules != tuple(settings.LNS_STEP_POTENTIALS):
            # A pass found nothing under the first potential: from now on a step that finds
            # nothing tries the next one too, before the groups widen.
            search.rules, stale_passes = tuple(settings.LNS_STEP_POTENTIALS), 0
            continue
        if size >= m or stale_passes > 1:
            break
        size = min(m, size * 2)  # a wider neighbourhood escapes what the narrow one cannot
    return search.result(False)


def first_rules(district: District) -> tuple[str, ...]:
    """The potentials a search's steps try from its start: all of ``settings.LNS_STEP_POTENTIALS``
    up to ``settings.LNS_ALL_POTENTIALS_MAX_UNITS`` units, else the first until a pass finds nothing
    with it (a function of the district alone, so the plan does not depend on the machine)."""
    from .. import settings

    rules = tuple(settings.LNS_STEP_POTENTIALS)
    return rules if district.n_units <= settings.LNS_ALL_POTENTIALS_MAX_UNITS else rules[:1]


class _Batches:
    """The search's plan and its pending batch of groups, solved here or on the helper."""

    def __init__(self, district, scenario, eligible, current, objective, deadline, solver, helper,
                 on_improve) -> None:
        self.district, self.scenario, self.eligible = district, scenario, eligible
        self.current, self.objective = current, objective
        self.value = objective(current)
        self.deadline, self.solver, self.helper = deadline, solver, helper
        self.on_improve = on_improve
        self.pending: list[list[int]] = []
        self.steps = 0
        #: Counted work of the steps solved (zoneopt.solve.search.step_work).
        self.work = 0
        self.improvements = 0
        #: The potentials each step tries (zoneopt.solve.search.improve_group).
        self.rules: tuple[str, ...] = first_rules(district)
        #: The groups (with the potentials they tried) solved without gain since the plan last
        #: changed. A step is a function of its group, the plan and the potentials, so solving
        #: one again finds nothing again: on a district of 7 schools every seed's group is the
        #: whole district once the groups have widened, and each solve took 3-11 s of the same MIP.
        self.tried: set[tuple[frozenset[int], tuple[str, ...]]] = set()
        #: Groups not solved again for that reason (no step, no work).
        self.skipped = 0

    def result(self, timed_out: bool) -> SearchResult:
        return SearchResult(self.current, self.steps, timed_out, self.work, self.skipped)

    def tried_before(self, group: list[int]) -> bool:
        """Whether ``group`` was solved without gain, with these potentials, on this plan."""
        return (frozenset(group), self.rules) in self.tried

    def overlaps(self, group: list[int]) -> bool:
        taken = {k for g in self.pending for k in g}
        return bool(taken & set(group))

    def _solve(self, group: list[int]):
        return improve_group(self.district, self.scenario, self.eligible, self.current, group,
                             self.solver, self.deadline, self.objective, self.rules)

    def run(self) -> bool:
        """Solve every pending group against the current plan and keep what improves it; True when
        the wall clock ended a step (the batch is then not used)."""
        groups, self.pending = self.pending, []
        sent = None
        helper = self.helper
        if helper is not None and len(groups) > 1:
            seconds = step_seconds(self.solver, self.deadline - time.perf_counter())
            if helper.submit(groups[-1], self.current, seconds, self.rules):
                sent = len(groups) - 1
        answers: list[tuple[np.ndarray | None, bool, str, int] | None] = [None] * len(groups)
        for k, group in enumerate(groups):
            if k != sent:
                answers[k] = self._solve(group)
        if sent is not None:
            answers[sent] = helper.answer(self.deadline) or self._solve(groups[sent])
        self.steps += len(groups)
        self.work += sum(work for *_, work in answers)
        if any(timed_out for _, timed_out, *_ in answers):
            return True
        better = []
        for k, (cand, *_) in enumerate(answers):
            if cand is not None:
                v = self.objective(cand)
                if v < self.value - 1e-12:
                    better.append((v, k, cand))
        if not better:
            self.tried.update((frozenset(g), self.rules) for g in groups)
            return False
        self.tried.clear()  # the plan changes: every group may find something again
        best_v, best_k, best = min(better, key=lambda b: (b[0], b[1]))
        kind = ", anchored" if answers[best_k][2] == "zones" else ""
        label = f"lns({len(groups[best_k])} zones{kind})"
        if len(better) > 1:
            combined = self.current.copy()
            for _, k, cand in better:
                zone = np.isin(self.current, groups[k])
                combined[zone] = cand[zone]
            v = self.objective(combined)
            if v < best_v - 1e-12 and self._moves_fit(combined):
                best_v, best = v, combined
                label = f"lns({sum(len(groups[k]) for _, k, _ in better)} zones, " \
                        f"{len(better)} groups)"
        self.current, self.value = best, best_v
        self.improvements += 1
        if self.on_improve:
            self.on_improve(self.current, self.value, label)
        return False

    def _moves_fit(self, plan: np.ndarray) -> bool:
        """The one rule that couples zones of different groups: students moved within budget."""
        c = self.scenario.constraints
        if c.max_moved_share >= 1:
            return True
        s = self.district.students.astype(float)
        moved = float(s[plan != self.district.status_quo].sum())
        return moved <= c.max_moved_share * s.sum() + 1e-6


def local_search(
    district: District,
    scenario: Scenario,
    eligible: np.ndarray,
    assign: np.ndarray,
    *,
    deadline: float,
    should_stop: Callable[[], bool] | None = None,
) -> np.ndarray:
    """Move single boundary units to a neighbouring zone while the objective improves.

    Every move keeps the plan feasible: the unit is eligible for its new school, capacities, band and
    moved budget hold, the unit touches its new zone and its old zone stays connected to its home
    unit. Changes of the objective are computed incrementally, so thousands of moves per second are
    tried; the MIP steps of :func:`large_neighbourhood_search` then escape what single moves cannot.

    Returns
    -------
    numpy.ndarray
        The improved plan (a copy).
    """
    c, o = scenario.constraints, scenario.objective
    n, m = district.n_units, district.n_schools
    s = district.students.astype(float)
    low = district.low_income.astype(float)
    total = s.sum()
    if total == 0 or m < 2:
        return assign.copy()
    p = low.sum() / total
    a_i = low - p * s
    from ..metrics import dissimilarity_scale

    scale = dissimilarity_scale(district.students, district.low_income) if o.balance == "dissimilarity" else 0.0
    sq = district.status_quo
    cap_hi, cap_lo = seat_limits(district, scenario)
    band = c.low_income_band
    budget = c.max_moved_share * total + 1e-6
    movable = np.ones(n, dtype=bool)
    movable[district.locked >= 0] = False
    movable[district.home_unit] = False
    islands = district.islands
    nbrs = district.neighbors
    roots = district.home_unit

    cur = assign.copy()
    tiers = tier_moves(district, scenario, cur)  # None unless the scenario uses SES tiers
    enr = np.bincount(cur, weights=s, minlength=m)
    dev = np.bincount(cur, weights=a_i, minlength=m)
    lowj = np.bincount(cur, weights=low, minlength=m)
    moved = float(s[cur != sq].sum())
    unit_cost = unit_costs(district, scenario)
    rng = np.random.default_rng(scenario.solver.seed)
    members: list[set[int]] = [set() for _ in range(m)]
    for i, j in enumerate(cur.tolist()):
        members[j].add(i)
    loads = year_loads(district, scenario, cur)  # [years] plan: every year's limits and balance

    def band_ok(j: int, new_low: float, new_enr: float) -> bool:
        if not np.isfinite(band) or new_enr <= 0:
            return True
        return abs(new_low / new_enr - p) <= band + 1e-9

    def stays_connected(j: int, removed: int) -> bool:
        if not c.contiguity:
            return True
        zone = members[j]
        root = int(roots[j])
        keep = {u for u in zone if u != removed and not islands[u]}
        if not keep:
            return True
        return keep <= reachable(district.adjacency, {root}, keep | {root})

    improved = True
    while improved and time.perf_counter() < deadline:
        improved = False
        for i in rng.permutation(n).tolist():
            if not movable[i] or (loads is None and s[i] == 0
                                  and (scale > 0 or tiers is not None) and not unit_cost[i].any()):
                continue
            a = int(cur[i])
            targets = {int(cur[k]) for k in nbrs[i]} - {a} if not islands[i] else set(
                np.flatnonzero(eligible[i]).tolist()) - {a}
            best_gain, best_b = 1e-12, -1
            for b in sorted(targets):
                if loads is not None:
                    if not eligible[i, b] or not loads.fits(i, a, b):
                        continue
                    gain = loads.gain(i, a, b)
                elif not eligible[i, b] or enr[b] + s[i] > cap_hi[b] or enr[a] - s[i] < cap_lo[a]:
                    continue
                else:
                    gain = scale * (abs(dev[a]) + abs(dev[b]) - abs(dev[a] - a_i[i])
                                    - abs(dev[b] + a_i[i]))
                gain += unit_cost[i, a] - unit_cost[i, b]
                if tiers is not None:
                    gain += tiers.gain(i, a, b)
                if gain <= best_gain:
                    continue
                new_moved = moved + (s[i] if a == sq[i] else 0.0) - (s[i] if b == sq[i] else 0.0)
                if new_moved > budget:
                    continue
                if not band_ok(a, lowj[a] - low[i], enr[a] - s[i]) or not band_ok(
                        b, lowj[b] + low[i], enr[b] + s[i]):
                    continue
                if tiers is not None and not tiers.band_ok(i, a, b):
                    continue
                best_gain, best_b = gain, b
            if best_b < 0 or (not islands[i] and not stays_connected(a, i)):
                continue
            b = best_b
            moved += (s[i] if a == sq[i] else 0.0) - (s[i] if b == sq[i] else 0.0)
            enr[a] -= s[i]
            enr[b] += s[i]
            dev[a] -= a_i[i]
            dev[b] += a_i[i]
            lowj[a] -= low[i]
            lowj[b] += low[i]
            if tiers is not None:
                tiers.move(i, a, b)
            members[a].discard(i)
            members[b].add(i)
            cur[i] = b
            if loads is not None:
                loads.move(i, a, b)
            improved = True
        if should_stop and should_stop():
            break
    return cur
