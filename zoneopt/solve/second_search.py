"""A second, independent search where the proof cannot gain: another seed, the better plan kept.

On districts whose relaxations balance every school almost perfectly (no distance limit, or a loose
one: 279 county tracts with 24 schools; 200 units with 10 schools) the root LP and every cut bound
stay near zero, so a proof on the second core proves nothing, while the search's result depends on
its path (the county's 45-s plans over solver seeds 0-3: D = 0.088, 0.115, 0.091, 0.077). There the
second core runs the same search with the next seed from the same first plan, and the better of the
two plans is kept. Both searches count their work, so the pair gives the same plan on any machine
whenever both finish their budget; with one core the second search runs after the first, in the
same process, with the time left.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import numpy as np

from ..scenario import Scenario
from .state import SearchState, objective_function


def proof_is_hopeless(scenario: Scenario, bound: float, first_value: float, *, pairs: int) -> bool:
    """Whether a proof on the second core cannot gain: the root bound is near zero next to the first
    plan, on a problem large enough for a worker (a function of the problem only, never of the
    machine).

    Parameters
    ----------
    scenario
        The scenario (only contiguous, ``contiguity_model = "auto"`` problems qualify: without
        contiguity the MIP proves balanced plans quickly, and a chosen model is the planner's).
    bound
        The root LP bound (``SearchState.bound`` after the quick bounds).
    first_value
        The objective of the first plan.
    pairs
        Eligible pairs: below ``settings.PARALLEL_MIN_PAIRS`` the proof runs inline and closes
        small loose districts quickly (16 units with SES tiers: proven optimal), so it stays.
    """
    from .. import settings
    from ..years import years_active

    if pairs < settings.PARALLEL_MIN_PAIRS:
        return False
    if not scenario.constraints.contiguity or scenario.solver.contiguity_model != "auto":
        return False
    if years_active(scenario) or not np.isfinite(first_value) or first_value <= 0:
        return False
    return bound < settings.HOPELESS_BOUND_SHARE * first_value


def second_scenario(scenario: Scenario) -> Scenario:
    """The same scenario with the next solver seed: another search path, the same problem."""
    solver = dataclasses.replace(scenario.solver, seed=int(scenario.solver.seed) + 1)
    return dataclasses.replace(scenario, solver=solver)


def run_second_search(district, scenario, eligible, first, solver_name, deadline, budget,
                      should_stop=None) -> dict[str, Any]:
    """The search of :func:`zoneopt.optimize` with the next seed, from ``first``.

    ``should_stop`` is polled between search steps (the first search's Ctrl-C flag, in process).

    Returns
    -------
    dict
        ``assign`` (the best plan, or None), ``timed_out`` (the wall clock, not the work budget,
        ended it) and ``seed`` (the seed it searched with).
    """
    from . import _Run

    other = second_scenario(scenario)
    state = SearchState(t0=time.perf_counter(), objective_fn=objective_function(district, other),
                        district=district)
    state.offer(np.asarray(first, dtype=np.int64), "first plan")
    run = _Run(district, other, eligible, state, solver_name, deadline, False, None, budget)
    if should_stop is not None:
        run.should_stop = should_stop
    run.search()
    return {"assign": None if state.assign is None else state.assign.copy(),
            "timed_out": bool(state.timed_out), "seed": int(other.solver.seed)}


def merge_second_search(state: SearchState, result: dict[str, Any]) -> None:
    """Offer the second search's plan, unless only its wall clock (not the first search's) ended it.

    A plan of a second search cut short by the time limit depends on the machine's speed; it is used
    only when the first search was cut short too (its plan then depends on the speed already), so
    the plan stays reproducible whenever the first search finished its work. Either way a second
    search that the clock ended is the run's safety stop, reported as ``stopped_by = "time_limit"``.
    """
    cut_short = bool(result.get("timed_out"))
    if result.get("assign") is not None and (state.timed_out or not cut_short):
        state.offer(np.asarray(result["assign"], dtype=np.int64),
                    f"second search (seed {result.get('seed')})")
    if cut_short:
        state.cut_short("search")


def second_search_main(conn) -> None:
    """Worker process: receive the payload, search, send the result (or the error)."""
    from .processes import report_error, worker_pipe

    with worker_pipe(conn) as out:
        try:
            district, scenario, eligible, first, solver_name, seconds, budget = conn.recv()
            out.send(run_second_search(district, scenario, eligible, first, solver_name,
                                       time.perf_counter() + seconds, budget))
        except Exception as exc:  # noqa: BLE001 - reported to the parent, which searches in process
            report_error(out, exc)
