"""The cut loop as a bound source: the whole MIP with neighbour rows, plus contiguity cuts.

The neighbour rows (each unit of a zone other than its home unit has a neighbour in the zone) and the
node-separator cuts (on the fractional LP first, :mod:`zoneopt.model.root_cuts`, then on the
pieces of each round's plan, :func:`zoneopt.model.separation_cuts`) hold for every exactly
contiguous plan,
so the MIP's dual bound after any round is a lower bound on the exact problem. Each round solves the
MIP with a node cap, cuts off the disconnected pieces of the plan it found, and solves again. It is
the strongest source on small districts (it closes the demo's gap to a few percent) and the slowest
on large ones, where its root LP alone takes longer than the whole search (the neighbour rows make
the LP about 70 times slower).
"""

from __future__ import annotations

import math
import time

import numpy as np

from ..district import District
from ..model import build_model, separation_cuts
from ..model.root_cuts import strengthen_root
from ..scenario import Scenario
from . import BoundResult

#: Branch-and-bound nodes of the first round; each round without a new cut doubles them.
ROUND_NODES = 200


def cut_loop_bound(
    district: District,
    scenario: Scenario,
    eligible: np.ndarray,
    work_limit: int = 10,
    *,
    start: np.ndarray | None = None,
    deadline: float | None = None,
    solver: str = "highs",
) -> BoundResult:
    """The best dual bound of ``work_limit`` rounds of the exact-contiguity cut loop.

    Parameters
    ----------
    district, scenario, eligible
        The problem and its eligible pairs.
    work_limit
        Rounds (each one node-capped MIP solve).
    start
        A feasible plan (school position per unit) to warm-start the MIP.
    deadline
        ``time.perf_counter()`` value at which to stop (the bound so far stays valid).
    solver
        The MIP solver.

    Returns
    -------
    BoundResult
        ``detail``: rounds, cuts added, whether the bound is the exact optimum (``proven``).
    """
    from ..solve.backends import solve

    t0 = time.perf_counter()
    contiguity = scenario.constraints.contiguity
    model = build_model(district, scenario, eligible,
                        contiguity="neighbour" if contiguity else "none")
    best, nodes, n_cuts, proven, rounds = -math.inf, ROUND_NODES, 0, False, 0
    if contiguity and model.n_pairs:
        # Separator cuts on the fractional LP first (zoneopt.model.root_cuts): their LP value is
        # already a bound, and every round's branch and bound starts from the stronger root.
        best, n_cuts, _ = strengthen_root(
            district, model, threads=scenario.solver.threads,
            should_stop=None if deadline is None else lambda: time.perf_counter() >= deadline)
    incumbent = None if start is None else np.asarray(start, dtype=np.int64)
    for round_ in range(int(work_limit)):
        left = math.inf if deadline is None else deadline - time.perf_counter()
        if left <= 0.05:
            break
        rounds = round_ + 1
        res = solve(model, solver, time_limit=min(left, 3600.0), mip_gap=scenario.solver.mip_gap,
                    node_limit=nodes, seed=scenario.solver.seed, threads=scenario.solver.threads,
                    start=None if incumbent is None else model.start_vector(incumbent, district,
                                                                             scenario))
        if res.status == "infeasible":
            return BoundResult(math.inf, "cut_loop", {"rounds": rounds, "cuts": n_cuts})
        if math.isfinite(res.bound):
            best = max(best, res.bound)
        if res.values is None:
            nodes *= 2
            continue
        cand = model.assignment_from(res.values, incumbent if incumbent is not None
                                     else np.zeros(district.n_units, np.int64))
        pieces = 0
        if contiguity:
            cuts, lo, hi, pieces = separation_cuts(district, model, cand)
        if pieces == 0:
            incumbent = cand
            if res.status == "optimal":
                proven = True
                break
            nodes *= 2
            continue
        model.add_rows(cuts, lo, hi)
        n_cuts += cuts.shape[0]
    return BoundResult(best, "cut_loop", {"rounds": rounds, "cuts": n_cuts, "proven": proven,
                                          "seconds": time.perf_counter() - t0})
