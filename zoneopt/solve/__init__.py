"""The optimisation loop: a feasible start, a search for good plans, and a proof on the exact problem.

:func:`optimize` is the one entry point the CLI, the notebooks, the frontier and the batch runner use.

Reproducible by design. Every phase does counted work (:class:`~zoneopt.solve.work.Budget`: solver
nodes, search steps, cut rounds), never a share of the wall clock, and no phase is stopped by another
one finishing; the time limit is a safety stop only, reported as ``stopped_by = "time_limit"``. The
proof (the exact phase) always starts from the first plan, so it gives the same answer whether it runs
in a worker process on the second core, in this process after the search, or in this process after
the worker died. The final plan is the best of the search's and the proof's plans that passes the
independent checker.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from contextlib import contextmanager
from typing import Any

import numpy as np

from ..bounds import BoundResult, bounds_by_source
from ..bounds.lp import root_lp_bound
from ..check import check_plan
from ..district import District
from ..errors import InfeasibleError, NoSolutionError, ZoneoptInputError
from ..model import build_model, eligible_pairs
from ..model.diagnose import diagnose_before_solving
from ..model.parts import part_findings
from ..scenario import Scenario
from ..tiers import tier_counts, uses_tiers, validate_ses_columns
from ..travel.walkzones import prepare_district, walk_zone_conflicts
from .anneal import anneal
from .backends import SolveResult, resolve_solver, solve
from .narrowed import CPSAT_FACTOR, CPSAT_WORK_SHARE, narrowed, repair_narrowed
from .narrowed import label as narrowed_label
from .proof import _Prover, _use_second_core, exact_phase, merge_proof, run_proof
from .search import large_neighbourhood_search, local_search
from .second_search import (
    merge_second_search,
    proof_is_hopeless,
    run_second_search,
    second_search_main,
)
from .state import SearchState, _lp_inline, lp_cut_rounds_here, objective_function
from .work import Budget, anneal_budget

#: Seconds at most for deciding the parts of the map that share no boundary with the rest
#: (zoneopt.model.parts): PART_QUICK_S before the search, PART_CHECK_S again when the repair found no
#: plan. A part proven impossible is quick (New York's Rockaway peninsula at 102% seats: 0.1 s); a
#: tight part with a plan can take the whole check undecided (Staten Island at 102%: 5 s), and
#: the repair then finds its plan anyway.
PART_QUICK_S = 1.0
PART_CHECK_S = 5.0
#: Branch-and-bound nodes of each round of the feasibility cut loop that runs when the search ends
#: with no plan and no proof (_Run.prove_until_found).
NO_PLAN_ROUND_NODES = 100_000

log = logging.getLogger("zoneopt")

def check_balance_defined(district: District, scenario: Scenario) -> None:
    """D is 0/0 without low-income students or without others: nothing to balance is bad input."""
    if scenario.objective.balance != "dissimilarity":
        return
    low, total = int(district.low_income.sum()), int(district.students.sum())
    if low == 0 or low == total:
        who = "no low-income students" if low == 0 else "only low-income students"
        raise ZoneoptInputError(
            f"the district has {who} ({low} of {total}), so the dissimilarity index is undefined "
            "(0/0); check the low_income column, or set [objective] balance = \"none\" to plan on "
            "distance and moves only",
            file=district.sources.get("units"), column="low_income",
        )


def optimize(
    district: District,
    scenario: Scenario | None = None,
    *,
    time_limit: float | None = None,
    solver: str | None = None,
    progress: bool = False,
    log_solver: bool = False,
    title: str | None = None,
    start: Any = None,
) -> Any:
    """Find a plan for ``district`` under ``scenario`` and report honestly how good it is.

    Parameters
    ----------
    district
        The units and schools.
    scenario
        The policy (defaults of CONTRACT.md when None).
    time_limit
        Safety stop in seconds for the whole search (overrides ``solver.time_limit_s``); the work
        itself is set by ``solver.work_budget``.
    solver
        ``"highs"`` (default), ``"cbc"`` or a PuLP solver name (overrides ``solver.name``).
    progress
        Show a progress bar with the best plan and bound so far.
    log_solver
        Show the MIP solver's own log.
    title
        Title of the report (overrides ``report.title``).
    start
        A plan to start from (``unit_id -> school_id`` Series or dict, or a :class:`Plan`), e.g. the
        plan of a neighbouring scenario; used when it satisfies this scenario, ignored otherwise.

    Returns
    -------
    zoneopt.plan.Plan
        ``status`` is ``optimal`` only when the gap to a bound valid for the exact problem is within
        ``solver.mip_gap``; otherwise ``feasible`` with the proven ``gap``. ``stopped_by`` says what
        ended the search.

    Raises
    ------
    InfeasibleError
        The scenario is proven impossible (``.diagnosis`` says why; ``.plan`` holds the summary).
    NoSolutionError
        The time ran out before any plan was found.
    ZoneoptInputError
        Bad input, e.g. a dissimilarity objective in a district with no low-income students.

    Examples
    --------
    >>> from zoneopt import District, Scenario, optimize  # doctest: +SKIP
    >>> plan = optimize(District.from_files("units.gpkg", "schools.csv"), Scenario(), time_limit=30)
    >>> plan.summary["dissimilarity_after"] < plan.summary["dissimilarity_before"]
    True
    """
    scenario = scenario or Scenario()
    overrides: dict[str, Any] = {}
    if time_limit is not None:
        overrides["solver.time_limit_s"] = float(time_limit)
    if solver is not None:
        overrides["solver.name"] = solver
    if title is not None:
        overrides["report.title"] = title
    if overrides:
        scenario = scenario.with_values(overrides)
    district = prepare_district(district, scenario)  # barriers, travel matrix, walk-zone locks
    check_balance_defined(district, scenario)
    if uses_tiers(scenario):
        tier_counts(district)  # bad or missing ses_tier: a clear input error before any solving
    from .feeders import needs_two_level, optimize_two_level, read_second_level

    read_second_level(district, scenario)  # bad middle-school/neighbourhood files fail before solving
    if needs_two_level(scenario):  # nested feeders or whole neighbourhoods: zoneopt.solve.feeders
        return optimize_two_level(district, scenario, start=start, log_solver=log_solver)
    return single_level(district, scenario, start=start, progress=progress, log_solver=log_solver)


def single_level(district: District, scenario: Scenario, *, start: Any = None,
                 progress: bool = False, log_solver: bool = False,
                 proof_plan_when_cut: bool = True, safety_s: float | None = None,
                 second_search: bool = True, lp_cuts: bool = True) -> Any:
    """The single-level search of :func:`optimize` on a prepared district (its inputs read and
    checked, no second level asked for).

    ``proof_plan_when_cut = False`` makes a proof that the clock cuts short give its bound only,
    never its plan (not even its checkpoint's): for a caller that uses the plan as a start (the
    two-level search's relaxation), so that the plan depends on counted work alone.
    ``safety_s`` (default ``solver.time_limit_s``) moves the wall-clock safety stop of the
    search, while its counted work still follows ``solver.time_limit_s``: a caller giving a longer
    one leaves a slower or busier machine room to finish the same work; a shorter one keeps the
    search within the caller's own deadline (a later step of a search whose earlier steps took
    their time), the clock then ending what does not fit, as reported. The proof after the
    search still ends at the time limit (at once when the search ran past it).
    ``second_search = False`` leaves out the second search with another seed that a district whose
    bound is near zero gets instead of the proof (:mod:`zoneopt.solve.second_search`): with one
    thread it runs after the first, doubling the search's time.
    ``lp_cuts = False`` leaves out the LP cut rounds of large districts (:func:`lp_cuts_pay`),
    for a caller that runs them itself beside its own steps (the two-level search: on one thread
    they ran after this search up to its safety stop, 22 s of a 60-s run at 2,000 units).
    """
    from ..plan import Plan

    solver_name, solver_note = resolve_solver(scenario.solver.name)
    if solver_note:
        log.warning("solver: %s", solver_note)
    limit_s = scenario.solver.time_limit_s
    t0 = time.perf_counter()
    deadline = t0 + (limit_s if safety_s is None else safety_s)

    validate_ses_columns(district, scenario)  # bad ses_tier / report_ columns: input errors now
    state = SearchState(t0=t0, objective_fn=objective_function(district, scenario),
                        district=district)
    eligible = eligible_pairs(district, scenario)
    # A part of the map that shares no boundary with the rest is decided alone, briefly here and
    # longer if the repair fails (zoneopt.model.parts): its "no" is a proof the whole search could
    # not give.
    findings = (walk_zone_conflicts(district, scenario, eligible)
                or diagnose_before_solving(district, scenario, eligible)
                or part_findings(district, scenario, eligible,
                                 time_limit=min(PART_QUICK_S, 0.1 * limit_s)))
    if findings:
        plan = Plan.failed(district, scenario, "infeasible", findings, time.perf_counter() - t0,
                           solver_name)
        raise InfeasibleError(findings, plan=plan)

    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=round(limit_s), unit="s", desc="zoneopt", leave=True)
        state.progress = bar
    if start is not None:
        positions = start.positions if hasattr(start, "positions") else (
            district.assignment_positions(start))
        if positions is not None and check_plan(district, scenario, positions).ok:
            state.offer(np.asarray(positions, dtype=np.int64), "given start")
    run = _Run(district, scenario, eligible, state, solver_name, deadline, log_solver, bar,
               Budget.for_problem(district, scenario, eligible))
    run.plan_when_cut = proof_plan_when_cut
    run.second_search_allowed = second_search
    run.lp_cuts_allowed = lp_cuts
    if safety_s is not None:
        run.proof_deadline = t0 + limit_s
    proven_infeasible = False
    try:
        with _interruptible(state):
            proven_infeasible = run.go()
    finally:
        if bar is not None:
            bar.n = min(bar.total, round(time.perf_counter() - t0))
            bar.close()
    seconds = time.perf_counter() - t0
    stopped_by = _stopped_by(state)
    if state.assign is None:
        if proven_infeasible:
            from ..model.elastic import explain_infeasibility

            findings = run.findings or explain_infeasibility(district, scenario, eligible,
                                                             time_limit=max(5.0, 0.2 * limit_s))
            plan = Plan.failed(district, scenario, "infeasible", findings, seconds, solver_name,
                               stopped_by="proof")
            raise InfeasibleError(findings, plan=plan)
        from .binding import binding_rules

        msg = (
            f"no plan satisfying the scenario was found within {limit_s:g} s"
            + (" (interrupted)" if state.interrupted else "")
            + "; allow more time (--time-limit) or relax the constraints. What binds: "
            + "; ".join(([run.band_note] if run.band_note else [])
                        + binding_rules(district, scenario, eligible))
        )
        plan = Plan.failed(district, scenario, "no_solution", [msg], seconds, solver_name,
                           stopped_by=stopped_by if stopped_by != "work_budget" else "time_limit")
        raise NoSolutionError(msg, plan=plan)
    plan = _checked_plan(district, scenario, state, solver_name, seconds, stopped_by)
    if solver_note:
        plan.summary["solver_note"] = solver_note
    plan.summary["bounds"] = bounds_by_source(state.trace)  # each source's best (zoneopt.bounds)
    if stopped_by == "time_limit":
        plan.summary["clock_ended"] = sorted(state.clock_ended)
    return plan


def _repair_start(district, scenario, eligible, state, solver_name, deadline, go_on=None,
                  second_core: bool = False) -> str:
    """Today's zones break the scenario: repair them (zoneopt.solve.repair) before any big MIP.

    Where the repair's elastic steps start, the whole district's feasibility MIP runs beside them
    and its plan counts first (zoneopt.solve.start_mip). With ``second_core`` it starts on the
    second core with the repair, so that its answer is in when the elastic steps start (the strict
    steps take 0.5-3 s, the worker 1-2 s to start); it is stopped, unused, when the strict steps
    mend the zones. Without, it runs here when the elastic steps start.

    The repair mends seats, not the bands (low-income, SES tiers): with a band it repairs the
    scenario without them (the band's rows only slowed its local MIPs: 7.9 s for no plan on a
    300-unit district), and the band repair (zoneopt.solve.band_repair) then anneals its plan into
    the bands. Returns, when that fails, a sentence saying how close it came (else "").
    """
    from .band_repair import band_repair_applies, band_repair_wanted, without_band
    from .repair import elastic_steps_wanted, repair_status_quo
    from .start_mip import StartMip, start_mip_applies

    banded = band_repair_wanted(scenario)
    mip = None
    if start_mip_applies(scenario) and elastic_steps_wanted(district):
        mip = StartMip.launch(district, scenario, eligible, solver_name, deadline,
                              worker=second_core)
    try:
        repaired = repair_status_quo(district, without_band(scenario) if banded else scenario,
                                     eligible, deadline=deadline, solver=solver_name, go_on=go_on,
                                     beside_elastic=None if mip is None else mip.begin)
        plan = mip.plan() if mip is not None and mip.begun else None
    finally:
        if mip is not None:
            mip.close()
    if plan is not None and check_plan(district, scenario, plan).ok:
        state.offer(plan, "feasibility MIP beside the repair")
    elif repaired is not None and check_plan(district, scenario, repaired).ok:
        state.offer(repaired, "repair")
    elif banded and band_repair_applies(district, scenario, repaired):
        return _into_band(district, scenario, eligible, state, repaired, deadline)
    return ""


def _into_band(district, scenario, eligible, state, repaired, deadline) -> str:
    """The band repair from the repair's plan (which keeps every rule but the band): its plan goes
    to the state; when it finds none, a sentence naming the schools it left outside the band."""
    from .band_repair import band_sentence, repair_band

    res = repair_band(district, scenario, eligible, repaired,
                      work_budget=scenario.solver.work_budget,
                      time_limit_s=scenario.solver.time_limit_s, seed=scenario.solver.seed,
                      deadline=deadline, should_stop=lambda: state.interrupted)
    if res.plan is not None:
        state.offer(res.plan, "band repair")
        return ""
    if res.timed_out and not state.interrupted:
        state.cut_short("search")
    return band_sentence(district, scenario, res)


def _stopped_by(state: SearchState) -> str:
    if state.interrupted:
        return "interrupted"
    if state.timed_out:
        return "time_limit"
    return "proof" if state.proved else "work_budget"


def _checked_plan(district, scenario, state, solver_name, seconds, stopped_by):
    """The best plan found that passes the independent checker, figures and all.

    A plan failing its check is a bug, never a user error: it is logged as an internal error with
    the checker's sentences, and the next best plan that passes is handed out instead.
    """
    from ..plan import Plan

    failures = []
    for value, assign, label in sorted(state.candidates, key=lambda c: c[0]):
        plan = Plan.from_assignment(
            district, scenario, assign, status="search", bound=min(state.bound, value),
            solver=solver_name, seconds=seconds, trace=state.trace, stopped_by=stopped_by,
            interrupted=state.interrupted,
        )
        report = check_plan(district, scenario, assign, summary=plan.summary)
        if report.ok:
            if failures:
                plan.summary["internal_errors"] = failures
            return plan
        msg = f"internal error: the plan from {label} failed its check: " + "; ".join(
            report.violations)
        log.error(msg)
        failures.append(msg)
    raise RuntimeError("internal error, no plan passed its check:\n" + "\n".join(failures))


def search_batch(district: District, scenario: Scenario, eligible: np.ndarray) -> int:
    """Groups of zones per batch of the neighbourhood search: more than one on large districts,
    whose second core then solves search steps instead of the proof. A function of the problem
    only, never of the machine."""
    from .. import settings
    from ..years import years_active

    pairs = int(eligible.sum())
    if (pairs > settings.PROOF_WORKER_MAX_PAIRS
            and (district.n_units >= settings.HELPER_MIN_UNITS
                 or pairs > settings.FEW_UNITS_MAX_PAIRS)
            and scenario.solver.contiguity_model == "auto"
            and not years_active(scenario)):
        return settings.LNS_BATCH
    return 1


def lp_cuts_pay(district: District, scenario: Scenario, eligible: np.ndarray) -> bool:
    """Whether the bound of a search of ``scenario`` includes the LP cut rounds
    (:mod:`zoneopt.bounds.lp_cuts`): large districts (search steps in batches, no proof worker)
    with contiguity whose LP is small enough to solve inline; at 5,000 units x 250 schools a
    round's LP takes 5-65 s for 0.1696 -> 0.1713."""
    return (search_batch(district, scenario, eligible) > 1 and scenario.constraints.contiguity
            and _lp_inline(eligible))


class _Run:
    """One search: the phases in order, each doing its counted share of the work budget."""

    def __init__(self, district, scenario, eligible, state, solver_name, deadline, log_solver,
                 bar, budget) -> None:
        self.district, self.scenario, self.eligible = district, scenario, eligible
        self.state, self.solver, self.deadline = state, solver_name, deadline
        self.log_solver, self.bar, self.budget = log_solver, bar, budget

        self.prover: _Prover | None = None
        self.helper = None  # the step helper of large districts, while the search runs
        self._lns_work = 0  # counted work of the neighbourhood search's steps so far
        self._helper_bounds = 0  # how many of the helper's bounds are merged into the state
        self._helper_polled = 0.0
        #: Sentences proving the scenario infeasible, found during the run (a part of the map).
        self.findings: list[str] = []
        #: With a low-income band the band repair could not meet: how close it came (a sentence).
        self.band_note = ""
        self._root_lp: BoundResult | None = None
        #: Whether a proof run here that the clock cuts short may still give its plan (see
        #: :func:`single_level`'s ``proof_plan_when_cut``).
        self.plan_when_cut = True
        #: Whether a district whose bound is near zero gets a second search (``single_level``).
        self.second_search_allowed = True
        #: Whether the LP cut rounds of large districts run in this search (``single_level``).
        self.lp_cuts_allowed = True
        #: When the proof after the search must end, if before the safety stop (``single_level``'s
        #: ``safety_s``).
        self.proof_deadline: float | None = None

    def left(self) -> float:
        return self.deadline - time.perf_counter()

    def root_lp(self) -> BoundResult:
        """The LP relaxation without contiguity rows (zoneopt.bounds.lp), solved once per run; its
        bound enters the trace."""
        if self._root_lp is None:
            self._root_lp = root_lp_bound(self.district, self.scenario, self.eligible,
                                          deadline=self.deadline)
            if self._root_lp.useful:
                self.state.raise_bound(self._root_lp.value, f"bound ({self._root_lp.source})")
        return self._root_lp

    def lp_proves_infeasible(self) -> bool:
        """Whether the LP relaxation without contiguity has no solution, so that no plan exists.

        Only where the LP runs inline (a few tenths of a second up to INLINE_LP_MAX_PAIRS pairs).
        Asked when the repair's strict steps fail: on tight districts whose seats are out of reach
        it ends the run in a second with the proof (800 units x 40 schools, seats x0.91-0.95,
        1.5 km: 6 districts, each proven in 0.02-0.06 s), where the exact phase took 9-15 s.
        """
        if not _lp_inline(self.eligible) or self.state.interrupted:
            return False
        return self.root_lp().proves_infeasible

    def should_stop(self) -> bool:
        """Polled between search steps: Ctrl-C, and the worker's messages read as they come (its
        pipe must not fill up with heartbeats while the search runs)."""
        if self.prover is not None:
            self.prover.done()
        if self.helper is not None and time.perf_counter() - self._helper_polled > 0.5:
            self._helper_polled = time.perf_counter()
            self.helper.poll()
            self.merge_helper_bounds()
        return self.state.interrupted

    def merge_helper_bounds(self) -> None:
        """The bounds the helper sent since the last merge, in the trace when they arrive (the
        search never reads the bound, so when they arrive changes no plan)."""
        helper = self.helper
        if helper is None:
            return
        for value, source in helper.bounds[self._helper_bounds:]:
            self.state.raise_bound(value, f"bound ({source})")
        self._helper_bounds = len(helper.bounds)

    def tick(self, label: str = "") -> None:
        if self.bar is not None:
            self.bar.n = min(self.bar.total, round(time.perf_counter() - self.state.t0))
            self.bar.refresh()

    def solve(self, model, **kw) -> SolveResult:
        s = self.scenario.solver
        kw.setdefault("mip_gap", s.mip_gap)
        res = solve(model, self.solver, time_limit=max(0.05, self.left()), seed=s.seed,
                    threads=s.threads, log=self.log_solver, **kw)
        self.state.note(res)
        return res

    def go(self) -> bool:
        """The search; True when the scenario is proven infeasible."""
        state = self.state
        proven_infeasible = self.first_plan()
        self.tick("start")
        if _lp_inline(self.eligible) and not state.interrupted:
            self.root_lp()
        if proven_infeasible or state.interrupted or state.assign is None:
            if state.assign is None and not proven_infeasible and not state.interrupted:
                # No plan yet (the start MIP was cut short): the exact phase may still find one.
                return self.prove_until_found()
            return proven_infeasible
        first = state.assign.copy()
        helper = None
        # Where the root bound is near zero next to the first plan, a proof cannot gain: the
        # second core searches again with another seed instead (zoneopt.solve.second_search).
        rival = self.batch() == 1 and self.second_search_allowed and proof_is_hopeless(
            self.scenario, state.bound, state.value, pairs=int(self.eligible.sum()))
        if self.batch() > 1:  # large: the second core solves search steps, not the proof
            helper = self.helper = self.start_helper()
        else:
            self.prover = _Prover.maybe_start(self, first,
                                              target=second_search_main if rival else None)
        try:
            self.search(helper)
        finally:
            if helper is not None:
                helper.poll()
                if self.lp_cuts_wanted() and not state.interrupted and not state.timed_out:
                    helper.wait_for_cuts(self.deadline)  # it has no more steps to solve
                helper.close()
                self.merge_helper_bounds()
                self.helper = None
        if self.lp_cuts_wanted():
            self.finish_lp_cuts(helper)
        self.tick("search")
        if self.proof_deadline is not None:
            self.deadline = min(self.deadline, max(self.proof_deadline, time.perf_counter()))
        if rival:
            self.second_search(first)
            if state.interrupted or state.timed_out or self.left() <= 0:
                return False
            # Both searches finished their work with time to spare: the proof gets what is left
            # (its bound is near zero on these districts, but a small one may still be proven).
            return self.prove(first, plan_when_cut=False)
        if self.batch() > 1:
            # Large: the cut loop would take minutes to add little to the root LP (800 units x 40
            # schools: 0.0768 against 0.0718 after 500 s), so the bound is the root LP's.
            if not (helper is not None and helper.bounds) and not _lp_inline(self.eligible):
                self.root_lp()
            return False
        prover = self.prover
        if prover is not None and prover.merge_into(state, self.deadline):
            return False
        # No worker, or it died or failed: the proof runs here, from the same first plan.
        return self.prove(first, plan_when_cut=self.plan_when_cut)

    def second_search(self, first: np.ndarray) -> None:
        """The second search's plan: from the worker, or (no worker, or it failed) run here with
        the time left."""
        state, worker = self.state, self.prover
        self.prover = None
        if worker is not None:
            hung = worker.wait(state, self.deadline)
            result = worker.result
            if hung is None and (state.interrupted or result is None
                                 or not result.get("error")):
                if result is not None:
                    merge_second_search(state, result)
                elif not state.interrupted:
                    state.cut_short("search")  # still searching at the time limit
                return
            why = f"sent nothing for {hung:.0f} s (hung)" if hung is not None else (
                f"failed ({result.get('error')})")
            log.warning("the second search's worker %s; searching in this process with the time "
                        "left", why)
        if state.interrupted or time.perf_counter() >= self.deadline:
            if not state.interrupted:
                state.cut_short("search")
            return
        merge_second_search(state, run_second_search(
            self.district, self.scenario, self.eligible, first, self.solver, self.deadline,
            self.budget, should_stop=lambda: state.interrupted))
        self.tick("second search")

    def batch(self) -> int:
        """Groups per search batch: a function of the problem only, never of the machine."""
        return search_batch(self.district, self.scenario, self.eligible)

    def start_helper(self):
        """The step helper on the second core (None with one core, threads = 1, in a Dask worker)."""
        if not _use_second_core(self):
            return None
        from .helper import StepHelper

        return StepHelper.start(self.district, self.scenario, self.eligible, self.solver,
                                max(0.5, self.left() - 1.5), with_lp=not _lp_inline(self.eligible),
                                with_cuts=self.lp_cuts_wanted(),
                                cut_rounds=self.budget.lp_cut_rounds)

    def lp_cuts_wanted(self) -> bool:
        """Whether this run's bound includes the LP cut rounds (see :func:`lp_cuts_pay`)."""
        return self.lp_cuts_allowed and lp_cuts_pay(self.district, self.scenario, self.eligible)

    def finish_lp_cuts(self, helper) -> None:
        """The LP cut rounds that the helper did not finish (no helper, or it died or hung), run
        here with the time left.

        The rounds are counted work whose values do not depend on where or when they run, so the
        bound, like the plan, is the same with the helper or without it whenever the time limit
        does not end the run first.
        """
        state = self.state
        if helper is not None and helper.cuts_done:
            return
        if state.interrupted or state.timed_out:
            return
        lp_cut_rounds_here(self.district, self.scenario, self.eligible, state,
                           self.budget.lp_cut_rounds, self.deadline, "bound (lp_cuts)")

    # ------------------------------------------------------------------ phases
    def first_plan(self) -> bool:
        """Today's plan if it satisfies the scenario, else any feasible plan; True if infeasible.

        A pure feasibility MIP stops at its first solution (2.4 s at 2,000 units, where minimising
        students moved took 36 s); the search then improves the real objective.
        """
        district, scenario, state = self.district, self.scenario, self.state
        sq = district.status_quo.copy()
        if (sq >= 0).all() and check_plan(district, scenario, sq).ok:
            state.offer(sq, "status quo")
            return False
        if state.assign is not None:
            return False
        self.band_note = _repair_start(district, scenario, self.eligible, state, self.solver,
                                       self.deadline, go_on=lambda: not self.lp_proves_infeasible(),
                                       second_core=_use_second_core(self))
        if state.assign is not None:
            return False
        if self.lp_proves_infeasible():
            return True
        if repair_narrowed(district, scenario, self.eligible, state, self.solver, self.deadline):
            return False
        self.findings = part_findings(
            district, scenario, self.eligible,
            time_limit=min(PART_CHECK_S, 0.1 * (self.deadline - state.t0), self.left()))
        if self.findings:
            return True
        answer = self.cpsat_start()
        if answer == "no":
            return True
        if state.assign is not None:
            return False
        contiguity = scenario.constraints.contiguity
        model = build_model(district, scenario, self.eligible,
                            contiguity="closer" if contiguity else "none", objective="none")
        res = self.solve(model, mip_gap=0.05, node_limit=self.budget.start_nodes)
        if res.values is not None:
            state.offer(model.assignment_from(res.values, np.zeros(district.n_units, np.int64)),
                        "feasible start")
        return res.status == "infeasible" and not contiguity

    def cpsat_start(self) -> str:
        """Small district, no plan from the repair: CP-SAT on the exact rules (zoneopt.model.cpsat)
        gives a plan, the proof that none exists, or "unknown" when its counted work runs out."""
        from ..model.cpsat import WORK, cpsat_applies, cpsat_checked

        district, scenario, state = self.district, self.scenario, self.state
        if not cpsat_applies(district, scenario, self.eligible) or self.left() <= 0.1:
            return "unknown"
        work = WORK * scenario.solver.work_budget
        # Narrower distance limits first: a plan under them is a plan, and where they leave none
        # CP-SAT says so in a fraction of a second (zoneopt.solve.narrowed).
        problem = narrowed(district, scenario, self.eligible, CPSAT_FACTOR)
        if problem is not None:
            narrow, pairs = problem
            answer, plan = cpsat_checked(district, narrow, pairs, rules=scenario,
                                         work=CPSAT_WORK_SHARE * work, time_limit=self.left())
            if answer == "yes":
                label = narrowed_label(CPSAT_FACTOR, scenario, narrow)
                state.offer(plan, f"CP-SAT feasibility ({label})")
                return "yes"
            if answer == "unknown" and self.left() <= 0.05:
                state.cut_short("search")
                return answer
        answer, plan = cpsat_checked(district, scenario, self.eligible, work=work,
                                     time_limit=self.left())
        if answer == "yes":
            state.offer(plan, "CP-SAT feasibility")
        elif answer == "no":
            log.info("CP-SAT: no plan meets the rules (proven on the exact model)")
        elif self.left() <= 0.05:
            state.cut_short("search")  # the safety stop, not the counted work, ended it
        return answer

    def search(self, helper=None) -> None:
        """Good plans fast: local moves, annealing, then LNS (``contiguity_model =
        "closer_neighbour"``: the one closer-neighbour MIP instead)."""
        district, scenario, state, budget = self.district, self.scenario, self.state, self.budget
        mode = scenario.solver.contiguity_model
        contiguity = scenario.constraints.contiguity
        if mode == "exact" or state.interrupted:
            return
        if mode == "closer_neighbour" and contiguity:
            model = build_model(district, scenario, self.eligible, contiguity="closer")
            res = self.solve(model, start=model.start_vector(state.assign, district, scenario),
                             node_limit=budget.full_mip_nodes)
            if res.values is not None:
                state.offer(model.assignment_from(res.values, state.assign), "closer-neighbour MIP")
            return
        polished = local_search(district, scenario, self.eligible, state.assign,
                                deadline=self.deadline, should_stop=self.should_stop)
        state.offer(polished, "local search")
        self.tick("local search")
        self.anneal()
        # No whole-district closer-neighbour MIP after the steps: on eleven districts of 200-300
        # units (benchmarks/RESULTS.md, twenty-sixth session) it improved no plan, and its root
        # (6-10 s at 300 units, 3 km) ran into its share of the clock.
        self.neighbourhood_search(budget.lns_steps, helper)

    def anneal(self) -> None:
        """Simulated annealing from the best plan (zoneopt.solve.anneal).

        A ``work_budget`` above 1 anneals twice: the default budget's anneal first, then the
        proposals beyond it from the best plan with the next seed. One long anneal is a different
        schedule, not a continuation, and may end worse (300 x 15 seed 5, 3 km: one anneal of 60
        million proposals ended at D 0.0453, the 12 million of a default 60-s run at 0.0425); this
        way a larger budget starts from the default's annealed plan.
        """
        state = self.state
        if state.assign is None or state.interrupted:
            return
        total = self.budget.anneal_proposals
        first = min(total, anneal_budget(self.district.n_units,
                                         self.scenario.solver.time_limit_s, 1.0))
        for run, proposals in enumerate((first, total - first)):
            if proposals <= 0 or state.interrupted:
                break
            result = anneal(self.district, self.scenario, self.eligible, state.assign, proposals,
                            seed=self.scenario.solver.seed + run, deadline=self.deadline,
                            should_stop=self.should_stop,
                            on_improve=lambda plan: state.offer(plan, "annealing (so far)"))
            if result.improved:
                state.offer(result.assign, "annealing")
            if result.timed_out and not state.interrupted:
                state.cut_short("search")
                break
        self.tick("annealing")

    def neighbourhood_search(self, max_steps: int, helper) -> int | None:
        """LNS from the best plan with at most ``max_steps`` steps; the steps taken, None when the
        time limit or Ctrl-C ended it (or came first)."""
        state = self.state
        if state.interrupted:
            return None  # Ctrl-C: no new phase starts
        if time.perf_counter() >= self.deadline:
            state.cut_short("search")
            return None
        if max_steps <= 0:
            return 0
        result = large_neighbourhood_search(
            self.district, self.scenario, self.eligible, state.assign, state.objective_fn,
            deadline=self.deadline, solver=self.solver, max_steps=max_steps,
            max_work=self.budget.lns_work - self._lns_work,
            on_improve=lambda a, v, label: (state.offer(a, label), self.tick(label)),
            should_stop=self.should_stop, batch=self.batch(), helper=helper,
        )
        self._lns_work += result.work
        if result.timed_out:
            state.cut_short("search")
            return None
        return result.steps

    def prove(self, first: np.ndarray | None, plan_when_cut: bool = True) -> bool:
        """The exact phase in this process, from ``first``; True when proven infeasible.

        ``plan_when_cut = False``: a proof that the clock cuts short gives its bound only, not its
        plan (not even its checkpoint's). After both searches of a district whose bound is near
        zero the proof has only the time they left, which differs by machine: on the county's 279
        tracts it reached 2 of the 6 rounds of its checkpoint, and a faster machine reaching them
        could take another plan.
        """
        if self.state.interrupted:
            return False
        result = run_proof(self.district, self.scenario, self.eligible, self.solver,
                           self.deadline, self.log_solver, self.budget, first, self.tick)
        if not plan_when_cut and result.get("timed_out"):
            result = {**result, "assign": None, "checkpoint": None, "checkpoint_reached": True}
        merge_proof(self.state, result, "exact MIP")
        return bool(result.get("infeasible")) and self.state.assign is None

    def prove_until_found(self) -> bool:
        """No plan yet: the exact phase, then a feasibility cut loop for the time left; True when
        proven infeasible.

        The exact phase minimises the objective and stops when its work is spent; a district
        without a plan may then be left with time and no answer (a 200-unit district ended "no
        plan" after 21 s of 60). The feasibility cut loop (:func:`zoneopt.model.elastic.find_plan`)
        asks only for a plan: its first connected solution is a plan, its infeasibility a proof.
        Each round's MIP is capped in nodes, so what it finds it finds on any machine; the time
        limit is its safety stop.
        """
        from ..model.elastic import find_plan

        proven = self.prove(None)
        state = self.state
        if proven or state.assign is not None or state.interrupted or self.left() <= 0.05:
            return proven
        answer, plan = find_plan(self.district, self.scenario, time_limit=self.left(),
                                 node_limit=NO_PLAN_ROUND_NODES)
        if answer == "no":
            return True
        if plan is not None and check_plan(self.district, self.scenario, plan).ok:
            state.offer(plan, "feasibility cut loop")
        elif self.left() <= 0.05:
            state.cut_short("search")
        return False


@contextmanager
def _interruptible(state: SearchState):
    """Ctrl-C during a solve: stop searching and keep the best plan found so far."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):  # noqa: ARG001
        if state.interrupted:
            raise KeyboardInterrupt
        state.interrupted = True
        log.warning("interrupted: finishing with the best plan found so far (Ctrl-C again to abort)")

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


__all__ = ["optimize", "SolveResult", "exact_phase", "run_proof", "merge_proof",
           "check_balance_defined", "objective_function"]
