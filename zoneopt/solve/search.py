"""Finding good plans fast: status-quo repair and large-neighbourhood search (LNS).

The LNS re-optimises a few adjacent zones at a time with the MIP while the rest of the district stays
fixed, and keeps every improvement. Each step is a small MIP (a few hundred binaries) with a node cap,
so the search is repeatable: the same inputs give the same plan when it finishes within its time.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from ..district import District
from ..model import Neighbourhood, build_model
from ..scenario import Scenario
from ..settings import LNS_NODE_LIMIT, LNS_ZONES_PER_STEP
from .backends import solve

#: Time cap of one LNS step; the node cap usually ends it much sooner.
STEP_SECONDS = 3.0


def zone_adjacency(district: District, assign: np.ndarray) -> list[set[int]]:
    """Schools whose zones share a boundary, per school."""
    a = district.adjacency.tocoo()
    za, zb = assign[a.row], assign[a.col]
    diff = za != zb
    out: list[set[int]] = [set() for _ in range(district.n_schools)]
    for x, y in zip(za[diff].tolist(), zb[diff].tolist(), strict=True):
        out[x].add(y)
    return out


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


def large_neighbourhood_search(
    district: District,
    scenario: Scenario,
    eligible: np.ndarray,
    assign: np.ndarray,
    objective: Callable[[np.ndarray], float],
    *,
    deadline: float,
    solver: str = "highs",
    on_improve: Callable[[np.ndarray, float, str], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> np.ndarray:
    """Improve ``assign`` by re-optimising groups of adjacent zones until no group improves.

    Parameters
    ----------
    district, scenario, eligible
        The problem and its eligible pairs.
    assign
        A feasible plan (school position per unit).
    objective
        The full objective of a plan.
    deadline
        ``time.perf_counter()`` value at which to stop.
    solver
        Solver for the sub-problems.
    on_improve
        Called with (plan, objective, label) after each improvement.
    should_stop
        Polled between steps (e.g. a Ctrl-C flag).

    Returns
    -------
    numpy.ndarray
        The best plan found (feasible by construction).
    """
    m = district.n_schools
    if m < 2:
        return assign
    rng = np.random.default_rng(scenario.solver.seed)
    current = assign.copy()
    value = objective(current)
    size = min(LNS_ZONES_PER_STEP, m)
    stale_passes = 0
    while time.perf_counter() < deadline:
        adjacency = zone_adjacency(district, current)
        improved = False
        for j in rng.permutation(m):
            if time.perf_counter() >= deadline or (should_stop and should_stop()):
                return current
            group = neighbourhood(int(j), adjacency, size, rng)
            if len(group) < 2:
                continue
            free = np.flatnonzero(np.isin(current, group))
            model = build_model(
                district, scenario, eligible, contiguity="closer",
                part=Neighbourhood(units=free, schools=np.asarray(group), base=current),
            )
            start = model.start_vector(current, district, scenario)
            res = solve(
                model, solver, time_limit=min(STEP_SECONDS, deadline - time.perf_counter()),
                mip_gap=1e-4, start=start, node_limit=LNS_NODE_LIMIT, seed=scenario.solver.seed,
                threads=scenario.solver.threads,
            )
            if res.values is None:
                continue
            cand = model.assignment_from(res.values, current)
            cand_value = objective(cand)
            if cand_value < value - 1e-12:
                current, value = cand, cand_value
                improved = True
                adjacency = zone_adjacency(district, current)
                if on_improve:
                    on_improve(current, value, f"lns({len(group)} zones)")
        if improved:
            stale_passes = 0
            continue
        stale_passes += 1
        if size >= m or stale_passes > 1:
            break
        size = min(m, size * 2)  # a wider neighbourhood escapes what the narrow one cannot
    return current
