"""Whole neighbourhoods, searched on the contracted district (:mod:`zoneopt.solve.contracted`).

Where every neighbourhood is one connected piece (and the scenario's figures are sums over units),
the whole-neighbourhood problem *is* the plain single-level problem of the district whose
neighbourhoods are single units: the single-level search (:func:`zoneopt.solve.single_level`:
repair, neighbourhood search, proof) runs there on the whole time limit, and its plan, expanded to
the units, is checked by the independent checker against the original district and scenario. Its
bounds are bounds of the exact problem, its infeasibility proof a proof for it.

With nested feeders the nested search (:func:`zoneopt.solve.feeders.optimize_two_level`, feeder
repair included) runs on the contracted district instead. A neighbourhood in pieces makes the
contraction a relaxation; a restriction of it (:func:`zoneopt.solve.contracted.pieces_together`)
then gives the plans, and the relaxation's root LP the bound (``relaxation``).

Measured against the two-level search it replaces (2-core EPYC, 30 s; 1.5-km squares as
neighbourhoods, ``max_extra_distance_km = 3``; benchmarks/RESULTS.md, thirtieth session): 300 x
15 seed 90, objective 0.1699 -> 0.1685 and gap 13.1% -> 9.0%; 400 x 20 seed 95: 0.2152 -> 0.1880,
gap 26.2% -> 5.6%; 800 x 40 seed 68 (seats x 0.97): no plan in 30 s -> proven infeasible in
0.8 s; 1,000 x 50 seed 93 (60 s): no plan -> 0.2422, gap 13.1%, first plan at 1.4 s. Nested, 300
x 15 seed 71: no plan in 30 s -> a plan at 0.23 s.
"""

from __future__ import annotations

import math
import time
from typing import Any

from ..district import District
from ..errors import InfeasibleError, NoSolutionError
from ..scenario import Scenario
from .contracted import Contracted

#: Share of the time limit given to the contracted search (its counted work follows it): the
#: contraction before it (0.1-0.3 s up to 1,000 units) and the expanded plan's check after it
#: fit in the rest, so the run ends within the limit.
CONTRACTED_SHARE = 0.97
#: Seconds kept after the contracted search's safety stop for what follows it (the pieces' root
#: LP, the expanded plan's figures and check): this much plus this much per 1,000 units. 5,000 x
#: 250 at 60 s ended at 63.4 s without it (the reading and checks before the search took 1-2 s).
AFTER_S, AFTER_S_PER_1000_UNITS = 0.3, 0.6


#: Before the first finding of the contracted search: its "units" include whole neighbourhoods.
PREFIX = ("with every neighbourhood whole (set keep_neighbourhoods = false to allow splitting them; "
          "below, each neighbourhood is one unit named 'neighbourhood <name>'): ")


def optimize_contracted(district: District, scenario: Scenario, con: Contracted, *, t0: float,
                        solver_name: str, start: Any = None, log_solver: bool = False,
                        relaxation: Contracted | None = None,
                        time_limit_s: float | None = None) -> Any:
    """The plan of a whole-neighbourhood scenario whose contraction is exact (``con.exact``):
    the single-level search, or with nested feeders the nested search
    (:func:`zoneopt.solve.feeders.optimize_two_level`), on the contracted district.

    Parameters
    ----------
    district, scenario
        The original problem (``keep_neighbourhoods``).
    con
        Its contraction (:func:`zoneopt.solve.contracted.contract`).
    t0
        When the run started (``time.perf_counter()``).
    solver_name
        The MIP solver resolved for the run.
    start, log_solver
        As for :func:`zoneopt.solve.optimize`; a start that splits a neighbourhood is not used.
    relaxation
        With ``con`` a restriction (``con.together``: neighbourhoods in pieces sent to one school),
        the contraction of the pieces, whose root LP gives the plan's bound (the restriction's
        bounds are not the problem's).
    time_limit_s
        The contracted search's time limit (default ``CONTRACTED_SHARE`` of the scenario's).

    Returns
    -------
    zoneopt.plan.Plan
        On the original district, checked; its bound (and so its status) is the contracted
        search's, valid for the exact problem.

    Raises
    ------
    InfeasibleError
        The contracted search proved that no plan keeps every neighbourhood whole.
    NoSolutionError
        No plan within the time limit.
    """
    from ..check import check_plan
    from ..plan import Plan
    from . import single_level

    assert con.exact or con.together, "a relaxation's plan may split a neighbourhood"
    budget = scenario.solver.time_limit_s
    limit = CONTRACTED_SHARE * budget if time_limit_s is None else time_limit_s
    small_scenario = con.scenario.with_values({"solver.time_limit_s": max(1.0, limit)})
    offset = time.perf_counter() - t0
    note = (f"whole neighbourhoods: {district.n_units} units searched as "
            f"{con.district.n_units} (each neighbourhood one unit)")
    nested = scenario.feeders.mode == "nested"
    small_start = con.start_of(district, start)
    try:
        if nested:  # the nested search, on the contracted district (its feeder map as it is)
            from .feeders import optimize_two_level

            got = optimize_two_level(con.district, small_scenario, start=small_start,
                                     log_solver=log_solver)
        else:
            # The safety stop keeps the whole run within the time limit; the counted work
            # still follows the contracted search's own limit (the same plan at any load).
            after = AFTER_S + AFTER_S_PER_1000_UNITS * district.n_units / 1000
            got = single_level(con.district, small_scenario, start=small_start,
                               log_solver=log_solver,
                               safety_s=max(0.1, t0 + budget - after - time.perf_counter()))
    except InfeasibleError as exc:
        findings = [PREFIX + f for f in exc.diagnosis[:1]] + list(exc.diagnosis[1:])
        plan = Plan.failed(district, scenario, "infeasible", findings, time.perf_counter() - t0,
                           solver_name, stopped_by="proof")
        raise InfeasibleError(findings, plan=plan) from None
    except NoSolutionError as exc:
        msg = PREFIX + str(exc)
        prior = exc.plan.summary.get("stopped_by") if exc.plan is not None else None
        plan = Plan.failed(district, scenario, "no_solution", [msg], time.perf_counter() - t0,
                           solver_name, stopped_by=prior or "time_limit")
        raise NoSolutionError(msg, plan=plan) from None
    sm = got.summary
    trace = [{"seconds": offset, "objective": None, "dissimilarity": None, "bound": 0.0,
              "source": note}]
    trace += [_restricted(e) if con.together else e for e in
              ({**e, "seconds": e["seconds"] + offset} for e in got.trace)]
    bound, bounds = float(sm["bound"]), sm.get("bounds")
    if con.together:
        bound = _pieces_bound(relaxation)
        bounds = {"root_lp": bound}
        trace.append({"seconds": time.perf_counter() - t0, "objective": None,
                      "dissimilarity": None, "bound": bound,
                      "source": "bound (root_lp) of the neighbourhoods' pieces"})
    fine = con.expand(got.positions)
    stopped_by = sm.get("stopped_by")
    if con.together and stopped_by == "proof":
        stopped_by = "work_budget"  # the proof was the restriction's, not the problem's
    plan = Plan.from_assignment(district, scenario, fine, status="search",
                                bound=min(bound, float(sm["objective"])),
                                solver=solver_name, seconds=time.perf_counter() - t0, trace=trace,
                                stopped_by=stopped_by,
                                interrupted=bool(sm.get("interrupted")), feeds=got.feeds)
    for key in ("clock_ended", "solver_note", "internal_errors"):
        if key in sm:
            plan.summary[key] = sm[key]
    if bounds:
        plan.summary["bounds"] = bounds
    report = check_plan(district, scenario, fine, summary=plan.summary)
    if not report.ok:
        raise RuntimeError("internal error, the contracted plan failed its check:\n"
                           + "\n".join(report.violations))
    return plan


def _restricted(entry: dict[str, Any]) -> dict[str, Any]:
    """A trace entry of the restricted search (neighbourhoods in pieces sent to one school): its
    bounds are not the problem's, so the entry carries 0 (always valid) and its bound sources are
    renamed, out of ``summary.json``'s ``bounds``."""
    label = str(entry.get("source", ""))
    if label.startswith(("bound", "proven", "proof")):
        label = f"restricted search, not a bound of the problem: {label}"
    return {**entry, "bound": 0.0, "source": label}


def _pieces_bound(relaxation: Contracted | None) -> float:
    """The root LP of the contracted pieces without contiguity, feeders or middle schools: a
    relaxation of the problem (the pieces may split, the middle dissimilarity >= 0), so a valid
    bound (0 without one)."""
    if relaxation is None:
        return 0.0
    from ..bounds.lp import root_lp_bound
    from ..model import eligible_pairs

    single = relaxation.scenario.with_values({"feeders.mode": "none",
                                              "feeders.middle_schools": ""})
    got = root_lp_bound(relaxation.district, single,
                        eligible_pairs(relaxation.district, single))
    return got.value if math.isfinite(got.value) else 0.0


__all__ = ["CONTRACTED_SHARE", "PREFIX", "optimize_contracted"]
