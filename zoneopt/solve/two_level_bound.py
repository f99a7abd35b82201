"""What the two-level search (:func:`zoneopt.solve.feeders.optimize_two_level`) proves: the
single-level relaxation's LP work run beside the search's steps (its root LP or its LP cut
rounds), a bound on the middle dissimilarity from the middle schools' own single-level problem,
and the exact two-level model's cut rounds where that model is small enough.

Each bound is valid for the two-level problem: every two-level plan is a plan of the single-level
problem, and its middle zones a plan of the middle problem, so the sum of their proven bounds
holds (the minimum of a sum is at least the sum of the minima).
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

import numpy as np

from ..district import District
from ..errors import InfeasibleError, NoSolutionError
from ..feeders import FeederData
from ..model import separation_cuts
from ..model.feeders import build_two_level, middle_cuts
from ..scenario import Scenario
from .backends import solve
from .state import lp_cut_rounds_here
from .work import Budget, step_seconds

if TYPE_CHECKING:
    from .feeders import _Best

log = logging.getLogger("zoneopt")

#: The exact two-level proof runs when its model has at most this many nesting rows (pairs x middle).
PROOF_MAX_LINKS = 150_000


def _helper_bound(helper, best: _Best, rel_bound: float, until: float, cuts: bool) -> float:
    """The single-level relaxation's bound raised by what ``helper`` proved on its LP (see
    ``optimize_two_level``): its LP cut rounds (``cuts``) or else its root LP, waited for until
    ``until`` (a ``time.perf_counter()`` value); the helper is closed. When that work is not
    finished by then, the clock cut the bound."""
    def finished() -> bool:
        # After its root LP the helper says it is ready, with the LP's bound sent first if useful.
        return helper.cuts_done if cuts else helper.ready

    helper.wait_until(finished, until)
    helper.poll()
    if not finished():
        best.cut_short("bound")
    values = [value for value, _ in helper.bounds]
    helper.close()
    return max([rel_bound, *values])


def _cut_rounds_here(district, relaxed, eligible, best: _Best, rel_bound: float, rounds: int,
                     deadline: float) -> float:
    """The relaxation's bound raised by its LP cut rounds run in this process until ``deadline``
    (when no second core runs them)."""
    got = lp_cut_rounds_here(district, relaxed, eligible, best, rounds, deadline,
                             "bound (lp_cuts of the single-level relaxation)")
    return rel_bound if got is None else max(rel_bound, got)


def _middle_bound(district: District, scenario: Scenario, data: FeederData, seconds: float,
                  best: _Best) -> float:
    """A proven lower bound on the middle dissimilarity of any nested plan.

    The middle zones of a nested plan are a plan of the single-level problem whose units carry the
    middle counts and whose schools are the middle schools (contiguous zones holding their school,
    within middle capacity), so that problem's proven bound holds; with the elementary bound, the
    sum bounds the two-level objective (min of a sum >= sum of the minima).
    """
    from . import optimize

    if middle_scale_of(data) == 0 or scenario.feeders.balance_weight == 0:
        return 0.0
    units = district.units[["unit_id", "geometry"]].copy()
    units["students"] = data.students
    units["low_income"] = data.low_income
    try:
        middle = District.from_frames(units, data.schools, sources={"units": "middle counts",
                                                                     "schools": data.source})
        scen = Scenario.from_dict({
            "constraints": {"max_utilization": scenario.feeders.middle_max_utilization,
                            "contiguity": scenario.constraints.contiguity},
            "solver": {"time_limit_s": max(1.0, seconds), "mip_gap": scenario.solver.mip_gap,
                       "name": scenario.solver.name, "seed": scenario.solver.seed,
                       "threads": scenario.solver.threads,
                       "work_budget": scenario.solver.work_budget},
        })
        plan = optimize(middle, scen)
    except (NoSolutionError, InfeasibleError):
        # Nothing proven in the time (a nested plan exists, so the middle problem is feasible).
        best.cut_short("bound")
        return 0.0
    if plan.summary.get("stopped_by") == "time_limit":
        best.cut_short("bound")
    return max(0.0, float(plan.summary["bound"]))


def middle_scale_of(data: FeederData) -> float:
    """Zero when the middle counts have nothing to balance (no low-income or no other students)."""
    low = float(data.low_income.sum())
    return 0.0 if low == 0 or low == float(data.students.sum()) else 1.0


def _proof(district, scenario, eligible, data, groups, best, solver_name, deadline, log_solver,
           feasible, work: Budget) -> bool:
    """Raise the bound with the exact two-level model; True when it proves that no plan exists.

    Rounds of the neighbour relaxation plus cut rows on both levels, each capped in nodes (doubled
    after a round that adds no cut) and all of them in rounds and nodes (``work``, as the
    single-level proof). It runs on the time the search left, which differs by machine, so its
    plans count only when it spends its counted work or proves its optimum (then any machine that
    gets there finds them); a proof the clock cuts gives its bound only. The exception is a run
    without any other plan: its first plan is taken at once (and reported as one the clock may
    change when the proof is then cut).
    """
    contiguity = scenario.constraints.contiguity
    # Counted before the model is built (2.4 s at 2,000 x 100): each eligible pair nests in every
    # middle school.
    links = int(eligible.sum()) * (data.n_schools if data is not None else 0)
    if links > PROOF_MAX_LINKS:
        log.info("two-level proof skipped (%d nesting rows); the bound is the relaxation's", links)
        return False
    if deadline - time.perf_counter() < 0.1:
        best.cut_short("proof")
        return False
    tl = build_two_level(district, scenario, eligible, data, groups,
                         contiguity="neighbour" if contiguity else "none")
    zeros_f = np.zeros(district.n_schools, np.int64) if data is not None else None
    nodes, spent = work.round_nodes, 0
    held: list[tuple[np.ndarray, np.ndarray | None]] = []
    only_plan = [False]

    def clock(round_: int) -> bool:
        log.info("two-level proof: the clock ended it in round %d; %d plans of its rounds unused",
                 round_, len(held))
        best.cut_short("proof")
        if only_plan[0]:
            best.cut_short("search")
        return False

    for round_ in range(work.cut_rounds):
        remaining = deadline - time.perf_counter()
        if remaining < 0.1:
            return clock(round_)
        if best.interrupted:
            return False
        nodes = min(nodes, work.exact_nodes - spent)
        if nodes <= 0:
            break
        start = (tl.start_vector(district, scenario, data, best.assign, best.feeds)
                 if best.assign is not None else None)
        res = solve(tl.model, solver_name, time_limit=step_seconds(solver_name, remaining),
                    mip_gap=scenario.solver.mip_gap, start=start, seed=scenario.solver.seed,
                    threads=scenario.solver.threads, log=log_solver, node_limit=nodes)
        spent += min(nodes, res.nodes) if res.nodes else nodes
        timed = res.limit == "time"
        if res.status == "infeasible":
            return best.assign is None
        best.raise_bound(max(res.bound, 0.0), f"bound (two-level cut round {round_})")
        if res.values is None:
            if timed:
                return clock(round_)
            nodes *= 2
            continue
        base = best.assign if best.assign is not None else np.zeros(district.n_units, np.int64)
        a, f = tl.plan_from(res.values, base, zeros_f if data is not None else None)
        cuts, lo, hi, pieces = separation_cuts(district, tl.model, a) if contiguity else (None, 0, 0, 0)
        mpieces = 0
        if data is not None and contiguity:
            mcuts, mlo, mhi, mpieces = middle_cuts(district, data, tl, f[a])
        if pieces == 0 and mpieces == 0:
            if feasible(a, f):
                if best.assign is None:
                    only_plan[0] = True
                    best.offer(a, f, "exact two-level MIP")
                else:
                    held.append((a, f))
            if res.status == "optimal" and not timed:
                _offer_held(best, held)
                best.proven = best.value <= res.objective + 1e-9
                best.raise_bound(res.bound, "proven")
                return False
            if timed:
                return clock(round_)
            nodes *= 2
            continue
        if timed:
            return clock(round_)
        if pieces:
            tl.model.add_rows(cuts, lo, hi)
        if mpieces:
            tl.model.add_rows(mcuts, mlo, mhi)
    _offer_held(best, held)  # the proof spent its counted work: its plans are the same anywhere
    return False


def _offer_held(best, held) -> None:
    for a, f in held:
        best.offer(a, f, "exact two-level MIP")
