"""The search for two-level plans (``[feeders] mode = "nested"``) and whole neighbourhoods.

Whole neighbourhoods are first contracted, each neighbourhood one unit
(:mod:`zoneopt.solve.contracted`): where that is the same problem, the single-level search (or,
with nested feeders, this search without neighbourhoods) solves it there
(:func:`zoneopt.solve.whole.optimize_contracted`) and none of the steps below runs. A
neighbourhood in pieces is sent whole to one school at a time, the contracted search running on
that restriction and the pieces' contraction (a relaxation) giving the bound. The steps below run
where the contraction does not apply (SES tiers, ``[years]``, walk zones, moved students with
neighbourhoods split today).

0. **Feeder repair** (nested feeders without whole neighbourhoods): the repair's zones become a
   two-level plan by :func:`zoneopt.solve.feeder_repair.feeder_repair` (a feeder map fixed, the
   annealer's two-level moves until every middle school fits), in seconds; every two-level start
   found here or below is then annealed under its feeder map before it is compared. With whole
   neighbourhoods (without nested feeders) the repair's zones go through the whole-neighbourhood
   repair instead (:func:`zoneopt.solve.hood_repair.hood_repair`).
1. **Relaxation.** The single-level problem (no second level, neighbourhoods free) is solved by
   :func:`zoneopt.solve.single_level` on a share of the budget. Every two-level plan is a plan of that
   problem and the middle dissimilarity is >= 0, so its proven bound is a valid bound here, and its
   plan a good elementary start.
2. **Feeder map.** For those elementary zones, a small MIP on the graph of zones picks the middle
   school each zone feeds (middle zones contiguous, holding their school, within capacity, balanced);
   above ``FEEDER_MAP_MIP_PAIRS`` zone-school pairs the map is annealed on the zone graph instead
   (:mod:`zoneopt.solve.feeder_map`).
   When that is impossible (two middle schools in one zone, whole neighbourhoods) the two-level
   closer-neighbour MIP of the whole district is solved instead.
3. **Two-level neighbourhood search.** A few adjacent elementary zones at a time are re-optimised
   together with the feeder choices of those zones (the middle schools they and their neighbours feed);
   a candidate is kept only when its middle zones stay contiguous and the objective improves.
4. **Proof.** Where the two-level model is small enough, the exact model (neighbour rows and cut
   rows on both levels) raises the bound; every bound it reports is valid for the two-level problem.

Every step counts its work (proposals, node caps, simplex iterations, rounds), so the plan is the
same at any load; the clock is a safety stop, and ``clock_ended`` names what it cut.

This module runs the steps in order; the steps themselves are in
:mod:`zoneopt.solve.two_level_steps`, the bounds (the relaxation's LP work beside the steps, the
middle relaxation, the proof) in :mod:`zoneopt.solve.two_level_bound`.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

import numpy as np

from .. import metrics
from ..district import District
from ..errors import InfeasibleError, NoSolutionError
from ..feeders import FeederData, load_feeders, objective_term
from ..model import eligible_pairs
from ..model.diagnose import diagnose_before_solving
from ..model.feeders import middle_pieces
from ..neighbourhoods import load_neighbourhoods
from ..scenario import Scenario
from .backends import resolve_solver
from .contracted import contract, pieces, pieces_together
from .feeder_repair import anneal_two_level, feeder_repair, fit_round_work, improve_work
from .hood_repair import hood_repair, improve_whole, split_note
from .proof import second_core_allowed
from .repair import repair_status_quo
from .state import _lp_inline, plan_may_differ
from .two_level_bound import _cut_rounds_here, _helper_bound, _middle_bound, _proof
from .two_level_steps import (
    _closer_mip,
    _feeder_map,
    _fit_zones,
    _soft_cost,
    _two_level_search,
)
from .whole import AFTER_S, AFTER_S_PER_1000_UNITS, CONTRACTED_SHARE, optimize_contracted
from .work import Budget, time_share

log = logging.getLogger("zoneopt")

#: Share of the budget whose counted work the single-level relaxation does (its time limit, which
#: its proof keeps to) ...
RELAXATION_SHARE = 0.35
#: ... and the safety stop of its search, so that a slower or busier machine finishes the same
#: work: with 0.35 for both, beside two busy processes on two cores, 300 x 15's relaxation was cut
#: in its neighbourhood search and the nested plan changed (objective 0.1373 against 0.1165).
RELAXATION_SAFETY_SHARE = 0.55
#: Share of the budget the middle-level relaxation (a bound on the middle dissimilarity) may use.
MIDDLE_RELAXATION_SHARE = 0.1
#: ... when that share is at least this long (s): a shorter middle search rarely proves anything.
MIDDLE_MIN_SECONDS = 5.0
#: Seconds before the deadline at which every step stops (a safety stop: the steps end on their
#: counted work), leaving the last check its time.
SAFETY_MARGIN_S = 0.5
#: ... or this many seconds per 1,000 units where that is more (the plan's figures and check: about
#: 1 s at 5,000 units, where a 120-s run ended at 125.2 s with 0.5 s kept).
SAFETY_S_PER_1000_UNITS = 0.25
#: The two-level steps' counted work (:func:`zoneopt.solve.search.step_work`) at most: what
#: TWO_LEVEL_WORK_SHARE of the time limit holds at this nominal rate a second, so that the search
#: ends on the same step on any machine. Measured on the 2-core EPYC, idle, 2026-12-07: 17,500 a
#: second on 800 x 40, 20,000-23,000 on 300 x 15; the nominal rate is 80% of the slower. The
#: search starts after the first plans and the relaxation (35% of the time limit at least): the
#: share leaves a slower or busier machine room to finish the same steps before the deadline.
TWO_LEVEL_WORK_RATE = 14_000
TWO_LEVEL_WORK_SHARE = 0.2
#: Seconds left at least for the root LP's worker after the relaxation (the LP takes 8-10 s on one
#: core at 5,000 units) ...
LP_HELPER_MIN_S = 20.0
#: ... and for a worker running its LP cut rounds (a round takes 0.1-2 s at 800-2,000 units; the
#: worker's start about 1 s).
CUTS_HELPER_MIN_S = 5.0
#: Schools tried for the pieces of a neighbourhood in pieces, each proven impossible before the
#: next (a proof takes 0.1-1.4 s on 500 x 25).
TOGETHER_CHOICES = 12


def needs_two_level(scenario: Scenario) -> bool:
    """Whether ``scenario`` asks for this search (nested feeders or whole neighbourhoods)."""
    return scenario.feeders.mode == "nested" or bool(scenario.constraints.keep_neighbourhoods)


def read_second_level(district: District, scenario: Scenario) -> None:
    """Read (and so validate) the middle schools and neighbourhoods files the scenario names.

    Raises
    ------
    ZoneoptInputError
        Naming the file, the row and the column, before any time is spent searching.
    """
    if scenario.feeders.mode != "none":
        load_feeders(district, scenario)
    load_neighbourhoods(district, scenario)


class _Best:
    def __init__(self, fn) -> None:
        self.fn = fn
        self.assign: np.ndarray | None = None
        self.feeds: np.ndarray | None = None
        self.value = math.inf
        self.bound = 0.0
        self.proven = False
        self.interrupted = False
        #: What the wall clock cut short (as ``SearchState.clock_ended``): "search" when the plan may
        #: differ on another machine, "proof" or "bound" when only the bound may.
        self.clock_ended: set[str] = set()
        self.trace: list[dict[str, Any]] = []
        self.t0 = time.perf_counter()

    def cut_short(self, phase: str) -> None:
        """The wall clock, not the counted work, ended ``phase``."""
        log.info("the clock ended the %s", phase)
        self.clock_ended.add(phase)

    def note(self, res, phase: str = "search") -> None:
        """Remember when the wall clock, not a node cap, ended a solve of ``phase``."""
        if res.limit == "time":
            self.cut_short(phase)

    def offer(self, assign, feeds, label) -> bool:
        v = self.fn(assign, feeds)
        if v < self.value - 1e-12:
            self.assign, self.value = assign.copy(), v
            self.feeds = None if feeds is None else np.asarray(feeds, np.int64).copy()
            self._record(label)
            return True
        return False

    def raise_bound(self, b, label) -> None:
        if math.isfinite(b) and b > self.bound + 1e-12:
            self.bound = b
            self._record(label)

    def _record(self, label) -> None:
        entry = {"seconds": time.perf_counter() - self.t0,
                 "objective": None if self.assign is None else self.value,
                 "bound": self.bound, "source": label}
        self.trace.append(entry)
        log.info("%.1fs %s: objective %s, bound %.6f", entry["seconds"], label,
                 entry["objective"], self.bound)


def optimize_two_level(district: District, scenario: Scenario, *, start: Any = None,
                       log_solver: bool = False) -> Any:
    """Find a two-level plan (see the module docstring); called by :func:`zoneopt.solve.optimize`.

    Returns
    -------
    zoneopt.plan.Plan
        With ``feeds`` (the feeder map) in nested mode; ``status`` optimal only when the gap to a bound
        valid for the two-level problem is within ``solver.mip_gap``.
    """
    from ..check import check_plan
    from ..plan import Plan
    from . import lp_cuts_pay, single_level

    t0 = time.perf_counter()
    budget = scenario.solver.time_limit_s
    deadline = t0 + budget
    solver_name, _ = resolve_solver(scenario.solver.name)
    nested = scenario.feeders.mode == "nested"
    data = load_feeders(district, scenario) if nested else None
    hoods = load_neighbourhoods(district, scenario) if scenario.constraints.keep_neighbourhoods else None
    groups = [g for g in hoods.groups() if len(g) > 1] if hoods is not None else None
    names = [hoods.names[int(hoods.member[g[0]])] for g in groups] if groups else []
    plain = eligible_pairs(district, scenario)
    eligible = _whole_eligibility(plain, groups) if groups else plain
    # Node caps and counted work throughout, as in the single-level search: the same plan at any
    # load; the clock is a safety stop, reported in ``clock_ended``.
    work = Budget.for_problem(district, scenario, plain)
    o = scenario.objective

    def fn(assign, feeds):
        return metrics.objective_value(
            assign, district.students, district.low_income, district.dist_km, district.status_quo,
            district.n_schools, balance=o.balance == "dissimilarity",
            distance_weight=o.distance_weight, moved_weight=o.moved_weight,
        ) + objective_term(district, scenario, assign, feeds)

    from ..model.diagnose_two_level import two_level_findings

    findings = two_level_findings(district, scenario, eligible, data, hoods, plain)
    findings = findings or diagnose_before_solving(district, scenario, plain)
    if findings:
        plan = Plan.failed(district, scenario, "infeasible", findings, time.perf_counter() - t0,
                           solver_name)
        raise InfeasibleError(findings, plan=plan)
    # Whole neighbourhoods: each neighbourhood one unit of a contracted district
    # (zoneopt.solve.contracted). Exact there, its own search solves it outright.
    if groups:
        con, why = contract(district, scenario, groups, eligible, names)
        if con is not None and con.exact:
            return optimize_contracted(district, scenario, con, t0=t0, solver_name=solver_name,
                                       start=start, log_solver=log_solver)
        if con is not None:
            return _pieces_kept_together(district, scenario, groups, eligible, names, con,
                                         t0=t0, solver_name=solver_name, start=start,
                                         log_solver=log_solver)
        log.info("whole neighbourhoods, not contracted: %s", why)
    best = _Best(fn)
    best.t0 = t0

    def feasible(assign, feeds) -> bool:
        return _two_level_ok(district, scenario, data, groups, eligible, assign, feeds)

    # 0. a quick two-level plan: the repair's zones, then the feeder repair (zoneopt.solve.feeder_repair)
    repairs = nested and not groups
    safety = deadline - max(SAFETY_MARGIN_S, SAFETY_S_PER_1000_UNITS * district.n_units / 1000)
    repair_notes: list[str] = []  # how far the feeder repair got, for the no-plan message

    def search_clock() -> None:
        best.cut_short("search")

    improve = improve_work(district.n_units, budget, scenario.solver.work_budget)

    def start_from(assign, feeds, label):
        """Offer a two-level plan, then the annealing's from it: (nested, without whole
        neighbourhoods) the two-level moves under its feeder map, or (whole neighbourhoods alone)
        the group moves. Each start is annealed before it is compared."""
        best.offer(assign, feeds, label)
        if best.interrupted or not (repairs or (groups and not nested)):
            return
        stops = {"seed": scenario.solver.seed, "deadline": safety,
                 "should_stop": lambda: best.interrupted, "on_clock": search_clock}
        if repairs:
            better = anneal_two_level(district, scenario, eligible, data, assign, feeds,
                                      proposals=improve, **stops)
        else:
            better = improve_whole(district, scenario, eligible, groups, assign, improve, **stops)
        if better is not None and feasible(better, feeds):
            best.offer(better, feeds, f"{label}, annealed")

    def repaired(elem, label, origin):
        if best.interrupted:
            return
        notes: list[str] = []
        got = feeder_repair(
            district, scenario, eligible, data, elem,
            lambda a: _feeder_map(district, scenario, data, a, solver_name, safety, best,
                                  soft=_soft_cost(data)),
            work=fit_round_work(district.n_units, budget, scenario.solver.work_budget),
            seed=scenario.solver.seed, deadline=safety, should_stop=lambda: best.interrupted,
            notes=notes, on_clock=search_clock)
        repair_notes.extend(f"from {origin}, {note}" for note in notes)
        if got is not None and feasible(*got):
            start_from(*got, label)

    from . import _interruptible  # the same Ctrl-C rule as the single-level search

    elementary = False  # a plan of the elementary rules alone was found (for the no-plan message)
    def made_whole(elem, label, origin) -> None:
        """Whole neighbourhoods without nested feeders: the whole-neighbourhood repair."""
        if best.interrupted or best.assign is not None:
            return
        closest: list[np.ndarray] = []
        got = hood_repair(district, scenario, eligible, groups, elem, seed=scenario.solver.seed,
                          deadline=safety, should_stop=lambda: best.interrupted,
                          on_clock=search_clock, closest=closest)
        if got is not None and feasible(got, None):
            start_from(got, None, label)
        elif closest:
            repair_notes.append(f"from {origin}, {split_note(district, names, groups, closest[0])}")

    if repairs or (groups and not nested):
        with _interruptible(best):
            single = scenario.with_values({"feeders.mode": "none",
                                           "constraints.keep_neighbourhoods": False})
            # With whole neighbourhoods, each unit only where its whole neighbourhood may go.
            quick = repair_status_quo(district, single, plain if repairs else eligible,
                                      solver=solver_name, deadline=t0 + RELAXATION_SHARE * budget)
            if quick is not None:
                elementary = True
                if repairs:
                    repaired(quick, "repair + feeder repair", "the repair's zones")
                else:
                    made_whole(quick, "repair + whole-neighbourhood repair", "the repair's zones")

    # 1. the relaxation
    def relaxation_safety() -> float:
        # Its share, within this search's own deadline when the first plans took their time.
        return max(0.1, min(RELAXATION_SAFETY_SHARE * budget, safety - time.perf_counter()))

    relaxed = scenario.with_values({
        "feeders.mode": "none", "constraints.keep_neighbourhoods": False,
        "solver.time_limit_s": max(1.0, RELAXATION_SHARE * budget),
        # One thread keeps the relaxation's proof inline: its bound is what this step is for, and
        # the proof worker's bound was seen lost when the worker is stopped at the deadline.
        "solver.threads": 1,
    })
    rel_assign, rel_bound, rel_sources = None, 0.0, {}
    try:
        # Its plan is this search's start: a proof the clock cuts gives its bound only, so that
        # the plan depends on counted work alone.
        # No second search: on one thread it would double the relaxation's time (800 x 40 at 30 s:
        # 17 s instead of 10.5), leaving the two-level search none.
        # Nor its LP cut rounds: they raise the bound only, so they run beside the two-level
        # steps below (on one thread they ran after its search up to its safety stop: 2,000 x 100
        # at 60 s started the two-level search at 50 s, and the clock ended it).
        rel = single_level(district, relaxed, start=start, proof_plan_when_cut=False,
                           safety_s=relaxation_safety(), second_search=False, lp_cuts=False)
        rel_assign = rel.positions
        rel_bound = float(rel.summary["bound"])
        rel_sources = rel.summary.get("bounds") or {}
        best.raise_bound(rel_bound, "bound (single-level relaxation)")
        if rel.summary.get("stopped_by") == "time_limit":
            # Its plan is this search's start: a cut that may change it changes this plan too.
            best.cut_short("search" if plan_may_differ(rel.summary.get("clock_ended"))
                           else "bound")
        best.interrupted = bool(rel.summary.get("interrupted"))  # Ctrl-C in the relaxation
    except InfeasibleError as exc:
        plan = Plan.failed(district, scenario, "infeasible", exc.diagnosis,
                           time.perf_counter() - t0, solver_name)
        raise InfeasibleError(exc.diagnosis, plan=plan) from None
    except NoSolutionError:
        pass
    # The relaxation's bound work, on the second core while the steps below run here (only the
    # bound depends on when it ends): its LP cut rounds, or its root LP where its search left it
    # no time (too big to solve inline: 5,000 x 250 seed 86 ended with no bound, gap 100%).
    cuts = rel_assign is not None and lp_cuts_pay(district, relaxed, plain)
    root = rel_assign is not None and "root_lp" not in rel_sources and not _lp_inline(plain)
    lp_helper = None
    if (cuts or root) and second_core_allowed(scenario) and (
            safety - time.perf_counter() >= (LP_HELPER_MIN_S if root else CUTS_HELPER_MIN_S)):
        from .helper import StepHelper

        lp_helper = StepHelper.start(district, relaxed, plain, solver_name,
                                     safety - time.perf_counter(), with_lp=root, with_cuts=cuts,
                                     cut_rounds=work.lp_cut_rounds)
    infeasible = False
    with _interruptible(best):
        # 2. a two-level start
        if rel_assign is not None:
            if nested:
                for elem, label in ((rel_assign, "single-level plan"), (district.status_quo, "today's zones")):
                    if (best.assign is None or elem is rel_assign) and (elem >= 0).all() and (
                            _single_level_ok(district, scenario, groups, elem)):
                        feeds = _feeder_map(district, scenario, data, elem, solver_name, safety,
                                            best, rules=(True,) if repairs else (True, False))
                        if feeds is not None and feasible(elem, feeds):
                            start_from(elem, feeds, f"{label} + feeder map")
                        elif elem is rel_assign and repairs:
                            repaired(elem, "single-level plan + feeder repair",
                                     "the single-level plan's zones")
            elif feasible(rel_assign, None):
                start_from(rel_assign, None, "single-level plan")
            if groups and best.assign is None:
                whole = _whole_by_majority(district, rel_assign, groups)
                feeds = (_feeder_map(district, scenario, data, whole, solver_name, safety, best)
                         if nested else None)
                if (feeds is not None or not nested) and feasible(whole, feeds):
                    start_from(whole, feeds, "single-level plan, neighbourhoods made whole")
                elif not nested and eligible[np.arange(district.n_units), rel_assign].all():
                    made_whole(rel_assign, "single-level plan + whole-neighbourhood repair",
                               "the single-level plan's zones")
        if best.assign is None and nested and rel_assign is not None:
            # No feeder map fits these zones within middle capacity: take the map that exceeds it
            # least, fix it, and let the whole district's zones move to fit it (with the feeder map
            # fixed, nesting, middle capacity and middle contiguity are linear rows on the zones).
            feeds = _feeder_map(district, scenario, data, rel_assign, solver_name, safety, best,
                                soft=_soft_cost(data))
            if feeds is not None:
                fitted = _fit_zones(district, scenario, eligible, data, groups, feeds, rel_assign,
                                    solver_name, safety, best, work.start_nodes)
                if fitted is not None and feasible(*fitted):
                    start_from(*fitted, "zones fitted to a fixed feeder map")
        if best.assign is None:
            # Feasibility first: a first plan of the whole two-level model comes much sooner so.
            _closer_mip(district, scenario, eligible, data, groups, best, solver_name,
                        safety, work.start_nodes, log_solver, feasible, start_from)
        # 3. search, on counted work (then the middle relaxation's bound, when there is time)
        if best.assign is not None:
            _two_level_search(district, scenario, eligible, data, groups, best, solver_name,
                              safety, feasible,
                              time_share(TWO_LEVEL_WORK_RATE, TWO_LEVEL_WORK_SHARE, budget),
                              work.lns_steps)
        # Its district's build and its plan's check come on top of its time limit (2.4 s at
        # 5,000 units, where a 9.9-s limit ended 12.4 s later).
        reserve = AFTER_S + AFTER_S_PER_1000_UNITS * district.n_units / 1000
        middle = (nested and MIDDLE_RELAXATION_SHARE * budget >= MIDDLE_MIN_SECONDS
                  and best.assign is not None)
        if cuts and lp_helper is None and best.assign is not None and not best.interrupted:
            # No second core: the rounds run here, leaving the middle relaxation its share.
            rel_bound = _cut_rounds_here(district, relaxed, plain, best, rel_bound,
                                         work.lp_cut_rounds, safety - reserve - (
                                             MIDDLE_RELAXATION_SHARE * budget if middle else 0.0))
        mid_bound = 0.0
        middle_s = min(MIDDLE_RELAXATION_SHARE * budget, safety - time.perf_counter() - reserve)
        if middle and not best.interrupted:
            if middle_s < MIDDLE_MIN_SECONDS:
                best.cut_short("bound")  # the search left it too little time
            else:
                mid_bound = _middle_bound(district, scenario, data, middle_s, best)
            best.raise_bound(rel_bound + scenario.feeders.balance_weight * mid_bound,
                             "bound (+ middle relaxation)")
        # 4. proof (without a plan it may still prove that none exists)
        infeasible = _proof(district, scenario, eligible, data, groups, best, solver_name, safety,
                            log_solver, feasible, work)
        if lp_helper is not None and best.assign is not None and not best.interrupted:
            # Its rounds until they end or the safety stop (the steps here are done), then the
            # relaxation's bound with them, plus the middle relaxation's.
            got = _helper_bound(lp_helper, best, rel_bound, safety, cuts)
            lp_helper = None
            if got > rel_bound:
                rel_bound = got
                best.raise_bound(rel_bound + scenario.feeders.balance_weight * mid_bound,
                                 f"bound ({'lp_cuts' if cuts else 'root_lp'} of the single-level "
                                 f"relaxation{' + middle relaxation' if middle else ''})")
    if lp_helper is not None:  # the steps above ended early (Ctrl-C) or found no plan
        lp_helper.close()
    seconds = time.perf_counter() - t0
    if best.assign is None and infeasible:
        what = "nested feeders" if nested else "whole neighbourhoods"
        # Only the rules the scenario has: middle seats with nested feeders alone.
        relax = (["middle_max_utilization"] if nested else []) + ["the capacities",
                                                                 "the distance limits"]
        findings = [f"no plan with {what} exists: the exact two-level model is infeasible (every "
                    f"rule of the scenario together); relax {', '.join(relax[:-1])} or {relax[-1]}"
                    + (", or set keep_neighbourhoods = false" if groups else "")]
        plan = Plan.failed(district, scenario, "infeasible", findings, seconds, solver_name)
        raise InfeasibleError(findings, plan=plan)
    if best.assign is None:
        msg = (f"no plan with {'nested feeders' if nested else 'whole neighbourhoods'} was found "
               f"within {budget:g} s; allow more time (--time-limit) or relax the constraints")
        binds = _two_level_binds(district, scenario, data, elementary or rel_assign is not None,
                                 repair_notes)
        if binds:
            msg += ". What binds: " + "; ".join(binds)
        plan = Plan.failed(district, scenario, "no_solution", [msg], seconds, solver_name)
        raise NoSolutionError(msg, plan=plan)
    # One rule for the status (CONTRACT.md): Plan derives it from the gap to the proven bound.
    stopped_by = ("time_limit" if best.clock_ended else "proof" if best.proven
                  else "work_budget")
    plan = Plan.from_assignment(district, scenario, best.assign, status="search",
                                bound=min(best.bound, best.value), solver=solver_name,
                                seconds=seconds, trace=best.trace, feeds=best.feeds,
                                interrupted=best.interrupted, stopped_by=stopped_by)
    if stopped_by == "time_limit":
        plan.summary["clock_ended"] = sorted(best.clock_ended)
    report = check_plan(district, scenario, best.assign, summary=plan.summary)
    if not report.ok:
        raise RuntimeError("internal error, the plan failed its check:\n" + "\n".join(report.violations))
    return plan


def _pieces_kept_together(district, scenario, groups, eligible, names, con, *, t0,
                          solver_name, start, log_solver) -> Any:
    """A neighbourhood in pieces (``con`` contracts the pieces, a relaxation): the contracted
    search (:func:`zoneopt.solve.whole.optimize_contracted`) with each such neighbourhood's pieces
    sent to one school (:func:`zoneopt.solve.contracted.pieces_together`; today's school of most
    of it first), the next school when one is proven impossible, up to TOGETHER_CHOICES; the
    pieces' root LP gives the bound. Every school proven impossible for the one neighbourhood in
    pieces proves that no plan exists; when the choices or the time run out otherwise, the
    message says how many schools were proven impossible.

    The first choice gets the contracted search's share of the time limit; after a proof, the
    next gets the time left (so its plan depends on when the proof ended: rare, the proofs come
    before solving or within a second; the clock then may end its search, as reported).
    500 x 25 seed 91 (1.5-km squares, a neighbourhood of two units apart): no answer in 30 s
    before, proven impossible in 7 choices (4.1 s). 5,000 x 250 with 0.7-km squares: a first
    plan at 4.3 s.
    """
    from ..plan import Plan

    budget = scenario.solver.time_limit_s
    split = [name for g, name in zip(groups, names, strict=True)
             if len(pieces(district, scenario, g)) > 1]
    impossible: list[str] = []
    restricted = None
    for choice in range(TOGETHER_CHOICES):
        restricted, chosen = pieces_together(district, scenario, groups, eligible, names,
                                             district.status_quo, choice)
        left = CONTRACTED_SHARE * budget - (time.perf_counter() - t0)
        if restricted is None or (choice > 0 and left < 1.0):
            break
        log.info("neighbourhoods in pieces kept together at %s",
                 ", ".join(str(district.school_ids[j]) for j in chosen))
        try:
            return optimize_contracted(district, scenario, restricted, t0=t0,
                                       solver_name=solver_name, start=start,
                                       log_solver=log_solver, relaxation=con,
                                       time_limit_s=None if choice == 0 else left)
        except InfeasibleError:
            impossible.append(str(district.school_ids[chosen[0]]))
    apart = _apart(split, impossible, restricted is None and len(impossible) > 0)
    if apart:
        plan = Plan.failed(district, scenario, "infeasible", apart, time.perf_counter() - t0,
                           solver_name, stopped_by="proof")
        raise InfeasibleError(apart, plan=plan)
    msg = (f"no plan with whole neighbourhoods was found within {budget:g} s: the neighbourhoods "
           f"in pieces ({', '.join(split)}) were sent whole to one school at a time, and "
           f"{len(impossible)} such choice{'s were' if len(impossible) != 1 else ' was'} proven "
           "impossible before the time or the choices tried ran out; allow more time "
           "(--time-limit) or set keep_neighbourhoods = false")
    plan = Plan.failed(district, scenario, "no_solution", [msg], time.perf_counter() - t0,
                       solver_name, stopped_by="time_limit")
    raise NoSolutionError(msg, plan=plan)


def _apart(split: list[str], impossible: list[str], every: bool) -> list[str]:
    """The finding that no plan exists when the one neighbourhood in pieces (``split`` names the
    neighbourhoods in pieces) was proven unable to go whole to ``every`` school it may go to
    (``impossible``, in order); else none."""
    if not (every and len(split) == 1):
        return []
    return [f"no plan keeps every neighbourhood whole: neighbourhood '{split[0]}' lies in pieces "
            f"that share no boundary, and with all its pieces at any one school it may go to "
            f"({', '.join(impossible)}) each case was proven impossible; relax the capacities or "
            "the distance limits, or set keep_neighbourhoods = false"]


def _two_level_binds(district: District, scenario: Scenario, data: FeederData | None,
                     elementary_plan: bool, notes: list[str]) -> list[str]:
    """Sentences for a two-level search that found no plan: whether the elementary rules alone
    have one, how far the feeder repair got, and the middle seats against the middle students."""
    out = [] if elementary_plan else ["neither the repair nor the single-level search found a plan "
                                      "of the elementary rules alone in its share of the time"]
    out += list(dict.fromkeys(notes))
    if data is not None:
        mu = scenario.feeders.middle_max_utilization
        seats = float(np.floor(data.capacity * mu + 1e-9).sum())
        students = float(data.students.sum())
        out.append(f"the middle schools have {seats:.0f} seats at middle_max_utilization {mu:g} "
                   f"for {students:.0f} middle students ({(seats - students) / max(students, 1):.1%}"
                   " spare)")
    return out


def _whole_by_majority(district: District, assign: np.ndarray, groups: list[np.ndarray]) -> np.ndarray:
    """Each neighbourhood moved whole to the school holding most of its students (a quick repair)."""
    out = assign.copy()
    s = district.students.astype(float)
    for g in groups:
        weights = np.bincount(assign[g], weights=s[g] + 1e-9, minlength=district.n_schools)
        home = [j for j in set(assign[g].tolist()) if district.home_unit[j] in set(g.tolist())]
        out[g] = home[0] if home else int(np.argmax(weights))
    return out


def _whole_eligibility(eligible: np.ndarray, groups: list[np.ndarray]) -> np.ndarray:
    """A neighbourhood goes whole to one school: only schools every unit of it may go to."""
    out = eligible.copy()
    for g in groups:
        both = out[g].all(axis=0)
        out[g] = both[None, :]
    return out


def _single_level_ok(district, scenario, groups, assign) -> bool:
    """The elementary rules (by the checker) and whole neighbourhoods."""
    from ..check import check_plan

    single = scenario.with_values({"feeders.mode": "none", "constraints.keep_neighbourhoods": False,
                                   "constraints.neighbourhoods": ""})
    if not check_plan(district, single, assign).ok:
        return False
    return not groups or all(len(set(assign[g].tolist())) == 1 for g in groups)


def _two_level_ok(district, scenario, data, groups, eligible, assign, feeds) -> bool:
    """Feasible for the two-level problem (elementary rules by the checker, then the second level)."""
    if not _single_level_ok(district, scenario, groups, assign):
        return False
    if data is None:
        return True
    mid = np.asarray(feeds)[assign]
    for k in range(data.n_schools):
        if int(data.home_owner[k]) == k and mid[data.home_unit[k]] != k:
            return False
    enr = np.bincount(mid, weights=data.students.astype(float), minlength=data.n_schools)
    if (enr > data.capacity * scenario.feeders.middle_max_utilization + 1e-6).any():
        return False
    return not scenario.constraints.contiguity or not middle_pieces(district, data, mid)


__all__ = ["needs_two_level", "optimize_two_level", "read_second_level"]
