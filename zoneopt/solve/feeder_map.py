r"""A feeder map for fixed elementary zones by annealing on the graph of zones.

With ``[feeders] mode = "nested"`` each elementary zone feeds one middle school; for fixed zones
the feeder map is a partition of the zone graph into one connected group per middle school, each
holding its school's zone, within the middle seats. :func:`zoneopt.solve.feeders._feeder_map`
finds it with a MIP (:func:`zoneopt.model.feeders.zone_feeder_model`), whose maps give the better
plans up to 1,000 zone-school pairs (``FEEDER_MAP_MIP_PAIRS``). At 5,000 units x 250 schools with
71 middle schools (17,750 pairs) that MIP took 32 s of a 120-s run for its 50 nodes, and its map
left 12,298 middle students over the seats after the feeder repair's fitting.

Here the map is annealed instead: a *flip* sends one zone on a group's edge to a touching group,
a *swap* exchanges two touching zones between their groups (the packing moves: zones of about
1,800 middle students into schools with a few hundred spare seats). Each move keeps every group
connected on the zone graph and each middle school's own zone in its group (zones of the middle
level's islands are exempt from contiguity, as in the MIP); the objective is the MIP's: students
over the seats at :func:`zoneopt.solve.feeders._soft_cost` each, plus ``balance_weight`` times
the middle dissimilarity. The work is counted in proposals (``PROPOSALS_PER_ZONE`` a zone, seeded
by ``solver.seed``), so the map is the same on any machine.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable

import numpy as np

from .. import settings
from ..district import District, zone_adjacency
from ..model import RHS_EPS
from ..model.feeders import middle_scale
from ..scenario import Scenario

#: Proposals per elementary zone (250 zones: 1,000,000 proposals, about 2 s).
PROPOSALS_PER_ZONE = 4_000
#: Proposals between two looks at the clock.
CHECK_EVERY = 10_000
#: Share of the proposals that are swaps (the rest are flips).
SWAP_SHARE = 0.5


def anneal_feeder_map(district: District, scenario: Scenario, data, assign: np.ndarray, *,
                      over_cost: float = 0.0, start: np.ndarray | None = None,
                      proposals: int | None = None, seed: int = 0,
                      deadline: float | None = None,
                      on_clock: Callable[[], None] | None = None) -> np.ndarray | None:
    """The feeder map of the fixed zones ``assign`` with the least objective found (see the
    module docstring), or None when none exists (two middle schools' units in one zone, or a zone
    that reaches no middle school's zone on the zone graph).

    Parameters
    ----------
    district, scenario, data
        The two-level problem and its middle schools (:class:`zoneopt.feeders.FeederData`).
    assign
        Elementary school (position) of each unit; every zone connected.
    over_cost
        Cost of one middle student over the seats; 0 makes the seats a rule of every move (then
        ``start`` must keep them: the balance alone is annealed).
    start
        The map to start from (default: each middle school's group grown from its own zone, the
        least full taking the next touching zone).
    proposals
        The counted work (default ``PROPOSALS_PER_ZONE`` per zone, times ``solver.work_budget``).
    seed
        Seed of the proposals.
    deadline, on_clock
        A safety stop (``time.perf_counter()`` value), and what is called when it ended the run
        before its counted work (the map may then differ on another machine).

    Returns
    -------
    numpy.ndarray or None
        Middle school (position) fed by each elementary school.
    """
    m, kk = district.n_schools, data.n_schools
    assign = np.asarray(assign, dtype=np.int64)
    enr_z = np.bincount(assign, weights=data.students.astype(float), minlength=m)
    low = data.low_income.astype(float)
    share = float(low.sum()) / max(1.0, float(data.students.sum()))
    dev_z = np.bincount(assign, weights=low - share * data.students, minlength=m)
    cap = np.floor(data.capacity * scenario.feeders.middle_max_utilization + RHS_EPS)
    graph = [sorted(g) for g in zone_adjacency(district, assign)]
    root = np.full(kk, -1, dtype=np.int64)
    forced: dict[int, int] = {}
    for k in range(kk):
        if int(data.home_owner[k]) != k:
            continue
        j = int(assign[data.home_unit[k]])
        if j in forced:
            return None
        forced[j] = k
        root[k] = j
    has_units = np.bincount(assign, minlength=m) > 0
    exempt = [not has_units[j] or bool(data.islands[assign == j].all()) for j in range(m)]
    contiguous = bool(scenario.constraints.contiguity)
    f = (_grown(graph, forced, exempt, enr_z, m, district, assign, data) if start is None
         else np.asarray(start, dtype=np.int64).copy())
    if f is None:
        return None
    hard = over_cost <= 0
    scale = scenario.feeders.balance_weight * middle_scale(data)
    enr = np.bincount(f, weights=enr_z, minlength=kk).tolist()
    dev = np.bincount(f, weights=dev_z, minlength=kk).tolist()
    capl, ez, dz = cap.tolist(), enr_z.tolist(), dev_z.tolist()

    def over(k: int, e: float) -> float:
        return max(0.0, e - capl[k])

    if hard and any(e > c + 1e-9 for e, c in zip(enr, capl, strict=True)):
        return None

    def move_delta(moves: list[tuple[int, int, int]]) -> float | None:
        """Objective change of moving zones (zone, from, to), applied together; None when the
        seats are a rule and the move breaks them."""
        de: dict[int, float] = {}
        dd: dict[int, float] = {}
        for j, a, b in moves:
            de[a] = de.get(a, 0.0) - ez[j]
            de[b] = de.get(b, 0.0) + ez[j]
            dd[a] = dd.get(a, 0.0) - dz[j]
            dd[b] = dd.get(b, 0.0) + dz[j]
        delta = 0.0
        for k, d in de.items():
            if hard:
                if enr[k] + d > capl[k] + 1e-9 and d > 0:
                    return None
            else:
                delta += over_cost * (over(k, enr[k] + d) - over(k, enr[k]))
            delta += scale * (abs(dev[k] + dd[k]) - abs(dev[k]))
        return delta

    fl = f.tolist()
    members: list[set[int]] = [set() for _ in range(kk)]
    for j, k in enumerate(fl):
        members[k].add(j)

    def connected(k: int) -> bool:
        """Group ``k``'s zones (exempt ones aside) connected to its own zone."""
        if not contiguous:
            return True
        need = [j for j in members[k] if not exempt[j]]
        if not need:
            return True
        start = int(root[k]) if root[k] >= 0 else need[0]
        seen = {start}
        stack = [start]
        while stack:
            u = stack.pop()
            for v in graph[u]:
                if v not in seen and fl[v] == k and not exempt[v]:
                    seen.add(v)
                    stack.append(v)
        return len(seen) == len(need)

    def apply(moves: list[tuple[int, int, int]]) -> None:
        for j, a, b in moves:
            fl[j] = b
            members[a].discard(j)
            members[b].add(j)
            enr[a] -= ez[j]
            enr[b] += ez[j]
            dev[a] -= dz[j]
            dev[b] += dz[j]

    free = [j for j in range(m) if j not in forced and has_units[j]]
    if not free:
        return np.asarray(fl, dtype=np.int64)
    if proposals is None:
        proposals = max(1, round(float(scenario.solver.work_budget) * PROPOSALS_PER_ZONE * m))
    rng = random.Random(int(seed))
    uniform = rng.random

    def propose() -> list[tuple[int, int, int]] | None:
        j = free[int(uniform() * len(free))]
        a = fl[j]
        if exempt[j] or not graph[j]:
            b = int(uniform() * kk)
            return None if b == a or root[b] < 0 else [(j, a, b)]
        v = graph[j][int(uniform() * len(graph[j]))]
        b = fl[v]
        if b == a:
            return None
        if uniform() < SWAP_SHARE and v not in forced and has_units[v]:
            return [(j, a, b), (v, b, a)]
        return [(j, a, b)]

    deltas = [move_delta(mv) for mv in (propose() for _ in range(200)) if mv is not None]
    typical = [abs(t) for t in deltas if t is not None and t != 0]
    t0 = float(np.mean(typical)) if typical else 0.0
    value = best = 0.0
    best_f = list(fl)
    if t0 > 0:
        log_ratio = math.log(settings.ANNEAL_FINAL_RATIO)
        for done in range(proposals):
            if done % CHECK_EVERY == 0 and deadline is not None and time.perf_counter() >= deadline:
                if on_clock is not None:
                    on_clock()
                break
            mv = propose()
            if mv is None:
                continue
            delta = move_delta(mv)
            if delta is None:
                continue
            if delta > 0 and uniform() >= math.exp(-delta * math.exp(-log_ratio * done / proposals)
                                                   / t0):
                continue
            apply(mv)
            groups = {a for _, a, _ in mv} | {b for _, _, b in mv}
            if not all(connected(k) for k in groups):
                apply([(j, b, a) for j, a, b in reversed(mv)])
                continue
            value += delta
            if value < best - 1e-12:
                best = value
                best_f = list(fl)
    return np.asarray(best_f, dtype=np.int64)


def _grown(graph: list[list[int]], forced: dict[int, int], exempt: list[bool], enr_z: np.ndarray,
           m: int, district: District, assign: np.ndarray, data) -> np.ndarray | None:
    """A first map: each middle school's group grown from its own zone over the zone graph, the
    least full group (middle students) taking the next touching zone; zones of the middle level's
    islands to the middle school nearest their students. None when a zone reaches no group."""
    kk = data.n_schools
    f = np.full(m, -1, dtype=np.int64)
    load = np.zeros(kk)
    for j, k in forced.items():
        f[j] = k
        load[k] += enr_z[j]
    has_units = np.bincount(assign, minlength=m) > 0
    left = {j for j in range(m) if f[j] < 0 and has_units[j] and not exempt[j]}
    while left:
        order = np.argsort(load / np.maximum(data.capacity, 1.0), kind="stable")
        for k in order.tolist():
            reach = sorted({v for j in np.flatnonzero(f == k).tolist() for v in graph[j]} & left)
            if reach:
                j = reach[0]
                f[j] = k
                load[k] += enr_z[j]
                left.discard(j)
                break
        else:
            return None  # the zones left touch no group: no connected map
    if (f < 0).any():
        from ..feeders import _middle_distances_km

        owners = np.asarray(sorted(set(forced.values())), dtype=np.int64)
        dist = _middle_distances_km(district, data)[:, owners]
        for j in np.flatnonzero(f < 0).tolist():
            units = np.flatnonzero(assign == j)
            f[j] = int(owners[np.argmin(dist[units].mean(axis=0))]) if len(units) else int(owners[0])
    return f


__all__ = ["PROPOSALS_PER_ZONE", "anneal_feeder_map"]
