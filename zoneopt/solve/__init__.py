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
import math
import signal
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import metrics
from ..bounds import bounds_by_source
from ..check import check_plan
from ..district import District
from ..errors import InfeasibleError, NoSolutionError, ZoneoptInputError
from ..model import build_model, eligible_pairs, separation_cuts
from ..model.diagnose import diagnose_before_solving
from ..scenario import Scenario
from ..tiers import tier_counts, tier_objective, uses_tiers, validate_ses_columns
from ..travel.walkzones import prepare_district, walk_zone_conflicts
from ..years import years_objective_fn
from .backends import SolveResult, resolve_solver, solve
from .processes import main_module_hidden, silence, worker_pipe
from .search import large_neighbourhood_search, local_search
from .work import Budget, counts_nodes, step_seconds

log = logging.getLogger("zoneopt")

#: Plans kept for the final check: if the best fails it (a bug), the next best that passes is used.
KEEP_CANDIDATES = 32


@dataclass
class SearchState:
    """Best plan and proven bound so far, with the history of improvements."""

    t0: float
    objective_fn: Any
    district: District
    assign: np.ndarray | None = None
    value: float = math.inf
    bound: float = 0.0
    proved: bool = False
    timed_out: bool = False
    interrupted: bool = False
    trace: list[dict[str, Any]] = field(default_factory=list)
    candidates: list[tuple[float, np.ndarray, str]] = field(default_factory=list)
    progress: Any = None

    def offer(self, assign: np.ndarray, label: str) -> bool:
        value = self.objective_fn(assign)
        if value < self.value - 1e-12:
            self.assign, self.value = assign.copy(), value
            self.candidates.append((value, self.assign, label))
            del self.candidates[:-KEEP_CANDIDATES]
            self._record(label)
            return True
        return False

    def raise_bound(self, bound: float, label: str) -> None:
        if bound > self.bound + 1e-12 and math.isfinite(bound):
            self.bound = bound
            self._record(label)

    def note(self, res: SolveResult) -> None:
        """Remember when the wall clock, not the work budget, ended a solve."""
        if res.limit == "time":
            self.timed_out = True

    def _record(self, label: str) -> None:
        d = self.district
        diss = (
            metrics.dissimilarity(self.assign, d.students, d.low_income, d.n_schools)
            if self.assign is not None else None
        )
        entry = {
            "seconds": time.perf_counter() - self.t0,
            "objective": None if self.assign is None else self.value,
            "dissimilarity": diss,
            "bound": self.bound,
            "source": label,
        }
        self.trace.append(entry)
        log.info("%.1fs %s: objective %s, bound %.6f", entry["seconds"], label,
                 "-" if entry["objective"] is None else f"{entry['objective']:.6f}", self.bound)
        if self.progress is not None:
            self.progress.set_postfix_str(
                f"{label}: D={diss:.4f} bound={self.bound:.4f}" if diss is not None else label
            )


def objective_function(district: District, scenario: Scenario):
    """The contract's objective of a plan (school position per unit)."""
    o = scenario.objective
    years_fn = years_objective_fn(district, scenario)  # None without [years] plan
    if years_fn is not None:
        return years_fn

    def value(assign: np.ndarray) -> float:
        return metrics.objective_value(
            assign, district.students, district.low_income, district.dist_km,
            district.status_quo, district.n_schools, balance=o.balance == "dissimilarity",
            distance_weight=o.distance_weight, moved_weight=o.moved_weight,
        ) + tier_objective(district, scenario, assign)

    return value


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
    from ..plan import Plan

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
    solver_name, solver_note = resolve_solver(scenario.solver.name)
    if solver_note:
        log.warning("solver: %s", solver_note)
    limit_s = scenario.solver.time_limit_s
    t0 = time.perf_counter()
    deadline = t0 + limit_s

    validate_ses_columns(district, scenario)  # bad ses_tier / report_ columns: input errors now
    state = SearchState(t0=t0, objective_fn=objective_function(district, scenario),
                        district=district)
    eligible = eligible_pairs(district, scenario)
    findings = (walk_zone_conflicts(district, scenario, eligible)
                or diagnose_before_solving(district, scenario, eligible))
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

            findings = explain_infeasibility(district, scenario, eligible,
                                             time_limit=max(5.0, 0.2 * limit_s))
            plan = Plan.failed(district, scenario, "infeasible", findings, seconds, solver_name,
                               stopped_by="proof")
            raise InfeasibleError(findings, plan=plan)
        from .repair import binding_rules

        msg = (
            f"no plan satisfying the scenario was found within {limit_s:g} s"
            + (" (interrupted)" if state.interrupted else "")
            + "; allow more time (--time-limit) or relax the constraints. What binds: "
            + "; ".join(binding_rules(district, scenario, eligible))
        )
        plan = Plan.failed(district, scenario, "no_solution", [msg], seconds, solver_name,
                           stopped_by=stopped_by if stopped_by != "work_budget" else "time_limit")
        raise NoSolutionError(msg, plan=plan)
    plan = _checked_plan(district, scenario, state, solver_name, seconds, stopped_by)
    if solver_note:
        plan.summary["solver_note"] = solver_note
    plan.summary["bounds"] = bounds_by_source(state.trace)  # each source's best (zoneopt.bounds)
    return plan


def _repair_start(district, scenario, eligible, state, solver_name, deadline) -> None:
    """Today's zones break the scenario: repair them (zoneopt.solve.repair) before any big MIP."""
    from .repair import repair_status_quo

    repaired = repair_status_quo(district, scenario, eligible, deadline=deadline, solver=solver_name)
    if repaired is not None and check_plan(district, scenario, repaired).ok:
        state.offer(repaired, "repair")


#: Above this many eligible pairs the root LP takes seconds (about 65,000 pairs at 5,000 units): it
#: then runs with the proof (in the worker, or after the search) instead of delaying the search.
INLINE_LP_MAX_PAIRS = 30_000


def _lp_inline(eligible) -> bool:
    return int(eligible.sum()) <= INLINE_LP_MAX_PAIRS


def _quick_bounds(district, scenario, eligible, state, deadline) -> None:
    """Bounds that need no search (zoneopt.bounds): the root LP without contiguity rows."""
    from ..bounds.lp import root_lp_bound

    res = root_lp_bound(district, scenario, eligible, deadline=deadline)
    if res.useful:
        state.raise_bound(res.value, f"bound ({res.source})")


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


class _Run:
    """One search: the phases in order, each doing its counted share of the work budget."""

    def __init__(self, district, scenario, eligible, state, solver_name, deadline, log_solver,
                 bar, budget) -> None:
        self.district, self.scenario, self.eligible = district, scenario, eligible
        self.state, self.solver, self.deadline = state, solver_name, deadline
        self.log_solver, self.bar, self.budget = log_solver, bar, budget

        self.prover: _Prover | None = None

    def left(self) -> float:
        return self.deadline - time.perf_counter()

    def should_stop(self) -> bool:
        """Polled between search steps: Ctrl-C, and the worker's messages read as they come (its
        pipe must not fill up with heartbeats while the search runs)."""
        if self.prover is not None:
            self.prover.done()
        return self.state.interrupted

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
            _quick_bounds(self.district, self.scenario, self.eligible, state, self.deadline)
        if proven_infeasible or state.interrupted or state.assign is None:
            if state.assign is None and not proven_infeasible and not state.interrupted:
                # No plan yet (the start MIP was cut short): the exact phase may still find one.
                return self.prove(None)
            return proven_infeasible
        first = state.assign.copy()
        helper = None
        if self.batch() > 1:  # large: the second core solves search steps, not the proof
            helper = self.start_helper()
        else:
            self.prover = _Prover.maybe_start(self, first)
        try:
            self.search(helper)
        finally:
            if helper is not None:
                helper.poll()
                helper.close()
                for value, source in helper.bounds:
                    state.raise_bound(value, f"bound ({source})")
        self.tick("search")
        if self.batch() > 1:
            # Large: the cut loop would take minutes to add little to the root LP (800 units x 40
            # schools: 0.0768 against 0.0718 after 500 s), so the bound is the root LP's.
            if not (helper is not None and helper.bounds) and not _lp_inline(self.eligible):
                _quick_bounds(self.district, self.scenario, self.eligible, state, self.deadline)
            return False
        prover = self.prover
        if prover is not None and prover.merge_into(state, self.deadline):
            return False
        # No worker, or it died or failed: the proof runs here, from the same first plan.
        return self.prove(first)

    def batch(self) -> int:
        """Groups per search batch: a function of the problem only, never of the machine."""
        from .. import settings
        from ..years import years_active

        if (int(self.eligible.sum()) > settings.PROOF_WORKER_MAX_PAIRS
                and self.district.n_units >= settings.HELPER_MIN_UNITS
                and self.scenario.solver.contiguity_model == "auto"
                and not years_active(self.scenario)):
            return settings.LNS_BATCH
        return 1

    def start_helper(self):
        """The step helper on the second core (None with one core, threads = 1, in a Dask worker)."""
        if not _use_second_core(self):
            return None
        from .helper import StepHelper

        return StepHelper.start(self.district, self.scenario, self.eligible, self.solver,
                                max(0.5, self.left() - 1.5), with_lp=not _lp_inline(self.eligible))

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
        _repair_start(district, scenario, self.eligible, state, self.solver, self.deadline)
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

    def search(self, helper=None) -> None:
        """Good plans fast: local moves, the closer-neighbour MIP on small districts, then LNS."""
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
        # The neighbourhood search first (good plans within seconds), then on small districts the
        # whole closer-neighbour MIP warm-started from its plan, then the search again from the
        # MIP's plan with the steps left.
        steps = self.neighbourhood_search(budget.lns_steps, helper)
        if steps is None:
            return
        if budget.full_mip_nodes and contiguity and self.full_mip():
            self.neighbourhood_search(budget.lns_steps - steps, helper)

    def neighbourhood_search(self, max_steps: int, helper) -> int | None:
        """LNS from the best plan with at most ``max_steps`` steps; the steps taken, None when the
        time limit ended it."""
        state = self.state
        if time.perf_counter() >= self.deadline:
            state.timed_out = True
            return None
        if max_steps <= 0:
            return 0
        result = large_neighbourhood_search(
            self.district, self.scenario, self.eligible, state.assign, state.objective_fn,
            deadline=self.deadline, solver=self.solver, max_steps=max_steps,
            on_improve=lambda a, v, label: (state.offer(a, label), self.tick(label)),
            should_stop=self.should_stop, batch=self.batch(), helper=helper,
        )
        if result.timed_out:
            state.timed_out = True
            return None
        return result.steps

    def full_mip(self) -> bool:
        """Small district: the whole closer-neighbour MIP, warm-started; True when it improved."""
        from .. import settings

        district, scenario, state = self.district, self.scenario, self.state
        model = build_model(district, scenario, self.eligible, contiguity="closer")
        # Its root alone can take minutes on a slow machine: a safety share of the time keeps
        # the search going (and is reported: stopped_by = "time_limit").
        res = solve(model, self.solver, start=model.start_vector(state.assign, district, scenario),
                    node_limit=self.budget.full_mip_nodes, mip_gap=scenario.solver.mip_gap,
                    time_limit=max(0.05, settings.FULL_MIP_SAFETY_SHARE * self.left()),
                    seed=scenario.solver.seed, threads=scenario.solver.threads,
                    log=self.log_solver)
        state.note(res)
        self.tick("closer-neighbour MIP")
        if res.values is None:
            return False
        return state.offer(model.assignment_from(res.values, state.assign), "closer-neighbour MIP")

    def prove(self, first: np.ndarray | None) -> bool:
        """The exact phase in this process, from ``first``; True when proven infeasible."""
        if self.state.interrupted:
            return False
        result = run_proof(self.district, self.scenario, self.eligible, self.solver,
                           self.deadline, self.log_solver, self.budget, first, self.tick)
        merge_proof(self.state, result, "exact MIP")
        return bool(result.get("infeasible")) and self.state.assign is None


def run_proof(district, scenario, eligible, solver_name, deadline, log_solver, budget, first,
              tick=lambda label: None, on_state=None, on_checkpoint=None) -> dict[str, Any]:
    """The exact phase from ``first`` on a state of its own: what it found, as a dict to merge.

    The same function runs in the worker process and in this one, so where it runs never changes
    what it finds. After ``budget.plan_rounds`` rounds its best plan so far is the checkpoint
    (``on_checkpoint`` gets it at once; None when it is no better than ``first``).
    """
    proof = SearchState(t0=time.perf_counter(), objective_fn=objective_function(district, scenario),
                        district=district)
    if first is not None:
        proof.offer(np.asarray(first, dtype=np.int64), "start")
    if on_state is not None:
        on_state(proof)  # e.g. the worker sends each bound as soon as it is proven
    if not _lp_inline(eligible):  # the large root LP runs here, out of the search's way
        _quick_bounds(district, scenario, eligible, proof, deadline)
    start_value = proof.value
    checkpoint: dict[str, Any] = {}

    def on_round(done: int) -> None:
        if done == budget.plan_rounds and "assign" not in checkpoint and not proof.timed_out:
            plan = proof.assign.copy() if proof.value < start_value - 1e-12 else None
            checkpoint["assign"] = plan
            if on_checkpoint is not None:
                on_checkpoint(plan)

    infeasible = exact_phase(district, scenario, eligible, proof, solver_name, deadline, log_solver,
                             budget, first, tick, on_round=on_round)
    improved = proof.value < start_value - 1e-12
    return {"assign": proof.assign if improved else None, "bound": proof.bound,
            "bounds": bounds_by_source(proof.trace), "proved": proof.proved,
            "timed_out": proof.timed_out, "infeasible": infeasible,
            "checkpoint": checkpoint.get("assign")}


def merge_proof(state: SearchState, result: dict[str, Any], label: str) -> None:
    """Take the proof's bound, and its plan when the proof spent its whole budget.

    A plan found by a proof that the wall clock cut short depends on the machine's speed; it is
    used only when there is no other plan, so that assignment.csv stays reproducible whenever the
    search itself finished its work. Its bound is always valid and always taken.
    """
    timed_out = bool(result.get("timed_out"))
    if result.get("assign") is not None:
        if not timed_out or state.assign is None:
            state.offer(np.asarray(result["assign"], dtype=np.int64), label)
        else:
            if result.get("checkpoint") is not None:  # the same work gives it on any machine
                state.offer(np.asarray(result["checkpoint"], dtype=np.int64),
                            f"{label}, checkpoint")
            log.info("%s: a plan found after the time limit cut the proof short is not used "
                     "(it would depend on the machine's speed)", label)
    for source, value in sorted((result.get("bounds") or {}).items()):
        state.raise_bound(float(value), f"bound ({source})")
    if result.get("bound") is not None:
        state.raise_bound(float(result["bound"]), f"bound ({label})")
    state.proved = state.proved or (bool(result.get("proved")) and not timed_out)
    state.timed_out = state.timed_out or timed_out
    state._record(f"proof done ({label})")


def exact_phase(district, scenario, eligible, state, solver_name, deadline, log_solver, budget,
                first, tick=lambda label: None, on_round=None) -> bool:
    """Prove on the exact problem: the neighbour relaxation plus separation cuts, round by round.

    Every bound it reports holds for the exact problem (the cut rows are valid for it). Each round is
    capped in solver nodes, and the total in nodes and rounds (``budget``), so the same start gives
    the same rounds on any machine; the deadline is a safety stop. Returns True when proven
    infeasible.
    """
    contiguity = scenario.constraints.contiguity
    model = build_model(district, scenario, eligible,
                        contiguity="neighbour" if contiguity else "none")
    s = scenario.solver
    if contiguity and model.n_pairs:
        _root_cuts(district, model, state, deadline, s.threads)
        tick("root cuts")
    nodes, spent = budget.round_nodes, 0
    incumbent = None if first is None else np.asarray(first, dtype=np.int64)
    for round_ in range(budget.cut_rounds):
        if on_round is not None:
            on_round(round_)  # rounds completed so far
        if deadline - time.perf_counter() < 0.05:
            state.timed_out = True
            return False
        if state.interrupted:
            return False
        nodes = min(nodes, budget.exact_nodes - spent)
        if nodes <= 0:
            return False
        start = (model.start_vector(incumbent, district, scenario)
                 if incumbent is not None else None)
        res: SolveResult = solve(model, solver_name,
                                 time_limit=step_seconds(solver_name, deadline - time.perf_counter()),
                                 mip_gap=s.mip_gap, start=start, seed=s.seed, threads=s.threads,
                                 log=log_solver, node_limit=nodes)
        state.note(res)
        # The nodes the round used (HiGHS counts them deterministically), else its whole cap: a
        # small district's rounds end far below their cap and must not use up the budget.
        spent += min(nodes, res.nodes) if res.nodes else nodes
        # With HiGHS a time limit here is the deadline; a PuLP solver's rounds are time slices.
        clock = res.limit == "time" and counts_nodes(solver_name)
        if res.status == "infeasible":
            return state.assign is None
        if res.values is None:
            if clock:
                return False
            nodes = 2 * nodes  # nothing found within the cap: the next round gets more nodes
            continue
        state.raise_bound(max(res.bound, 0.0), f"bound (cut round {round_})")
        base = incumbent if incumbent is not None else np.zeros(district.n_units, np.int64)
        cand = model.assignment_from(res.values, base)
        pieces = 0
        if contiguity:
            cuts, lo, hi, pieces = separation_cuts(district, model, cand)
        if pieces > 0:
            _repair_round_plan(district, scenario, eligible, state, cand, solver_name, deadline)
        if pieces == 0:
            state.offer(cand, "exact MIP")
            incumbent = cand
            if res.status == "optimal":
                # The relaxation's optimum (within mip_gap) is contiguous: proven for the exact problem.
                state.proved = True
                return False
            if clock:
                return False
            nodes = 2 * nodes  # no new cut: the next round needs more nodes to close the gap
            continue
        model.add_rows(cuts, lo, hi)
        tick(f"cuts {round_}")
    return False


def _root_cuts(district, model, state, deadline, threads) -> None:
    """Separator cuts on the fractional LP (zoneopt.model.root_cuts) before the first round; their
    LP value is a bound on the exact problem ("bound (root cuts)")."""
    from ..model.root_cuts import strengthen_root

    def stop() -> bool:
        if time.perf_counter() >= deadline - 0.05:
            state.timed_out = True  # fewer rounds than the budget: a safety stop, reported
            return True
        return state.interrupted

    value, added, rounds = strengthen_root(district, model, threads=threads, should_stop=stop)
    log.info("root cuts: %d rows in %d LP rounds, LP %.6f", added, rounds, value)
    if math.isfinite(value):
        state.raise_bound(max(value, 0.0), "bound (root cuts)")


def _repair_round_plan(district, scenario, eligible, state, cand, solver_name, deadline) -> bool:
    """An exact round's plan whose zones fell into pieces, repaired into a plan that satisfies the
    scenario (the pieces join neighbouring zones; zoneopt.solve.repair), then polished by single
    moves. The round's plan is near the relaxation's optimum, so the repaired one often beats the
    search's; it is checked like every other plan before it is offered. True when it was better."""
    from .repair import repair_status_quo

    fixed = repair_status_quo(district, scenario, eligible, deadline=deadline, solver=solver_name,
                              start=cand)
    if fixed is None or not check_plan(district, scenario, fixed).ok:
        return False
    polished = local_search(district, scenario, eligible, fixed, deadline=deadline)
    if check_plan(district, scenario, polished).ok:
        fixed = polished
    return state.offer(fixed, "exact MIP (repaired)")


# ---------------------------------------------------------------------------------- the worker
def _use_second_core(run: _Run) -> bool:
    import multiprocessing as mp
    import os

    from .. import settings

    if run.scenario.solver.threads == 1 or (os.cpu_count() or 1) < 2:
        return False
    if mp.current_process().daemon:  # e.g. a Dask worker: daemonic processes cannot have children
        return False
    if os.environ.get("ZONEOPT_NO_WORKER"):
        return False
    if run.scenario.solver.contiguity_model != "auto":
        return False
    # Only where it pays: the choice changes where the proof runs, never its result.
    return (run.left() >= settings.PARALLEL_MIN_SECONDS
            and int(run.eligible.sum()) >= settings.PARALLEL_MIN_PAIRS)


class _Prover:
    """The exact phase in a worker process (spawned: HiGHS's thread pool does not survive a fork).

    Nothing large goes through ``Process(args=...)``: CPython writes those before closing its copy
    of the child's pipe end, so a child that dies early would block the parent forever. The payload
    goes through our own pipe from a background thread instead, and a dead worker is noticed.
    """

    def __init__(self, proc, conn) -> None:
        self.proc, self.conn, self.result = proc, conn, None
        self.early_bounds: dict[str, float] = {}  # sent as soon as proven (zoneopt.bounds)
        self.checkpoint = None  # the proof's plan after budget.plan_rounds rounds (run_proof)
        self.started = time.monotonic()
        #: time.monotonic() of the worker's last heartbeat (the clock is system-wide, so the
        #: worker's stamp says when it was last alive even if the pipe is read much later).
        self.last_beat: float | None = None

    @classmethod
    def maybe_start(cls, run: _Run, first: np.ndarray) -> _Prover | None:
        if not _use_second_core(run):
            return None
        import multiprocessing as mp

        ctx = mp.get_context("spawn")
        parent, child = ctx.Pipe(duplex=True)
        seconds = max(0.5, run.left() - 1.5)  # margin: reporting back
        proc = ctx.Process(target=_prover_main, args=(child,), daemon=True)
        with main_module_hidden():
            proc.start()
        child.close()
        payload = (run.district, run.scenario, run.eligible, first, run.solver, seconds, run.budget)

        def send() -> None:
            try:
                parent.send(payload)
            except (OSError, ValueError):
                pass  # the worker died; done() sees EOF and the parent proves in process

        threading.Thread(target=send, daemon=True).start()
        return cls(proc, parent)

    def done(self) -> bool:
        while self.result is None and self.conn.poll():
            try:
                msg = self.conn.recv()
            except (EOFError, OSError):
                break
            if "heartbeat" in msg:
                self.last_beat = max(self.last_beat or 0.0, float(msg["heartbeat"]))
            elif not msg.get("early"):
                self.result = msg
            elif "checkpoint" in msg:
                self.checkpoint = msg["checkpoint"]
            else:
                self.early_bounds.update(msg.get("bounds") or {})
        if self.result is None and (self.conn.poll() or not self.proc.is_alive()):
            try:
                self.result = self.conn.recv() if self.conn.poll() else {"error": "worker exited"}
            except (EOFError, OSError):
                self.result = {"error": "worker exited"}
        return self.result is not None

    def merge_into(self, state: SearchState, deadline: float) -> bool:
        """Wait for the worker until the deadline; True when its proof was merged.

        False when it died, failed or hung: the caller then proves in process with the time left.
        """
        grace = 1.0  # the worker stops 1.5 s before the deadline; allow it to report
        hung = None
        while not self.done() and not state.interrupted:
            if time.perf_counter() > deadline + grace:
                break
            hung = self.silence()
            if hung is not None:
                break
            self.conn.poll(0.05)
        if self.proc.is_alive():
            # kill, not terminate: a stopped (SIGSTOP) process holds SIGTERM until it resumes
            self.proc.kill() if hung is not None else self.proc.terminate()
        self.proc.join(timeout=2)
        if state.interrupted and self.result is None:
            return True  # Ctrl-C: nothing to merge, and no proof to run in its place
        for source, value in sorted(self.early_bounds.items()):  # valid whatever became of it
            state.raise_bound(float(value), f"bound ({source})")
        if hung is not None:
            log.warning("the proof worker sent nothing for %.0f s (hung); proving in this process "
                        "with the time left", hung)
            return False
        if self.result is None:
            # Still proving at the time limit: its proof was cut short, and no time is left for
            # another one here; the bounds it sent on the way are kept.
            log.warning("the proof worker was still proving at the time limit; the bound is what "
                        "the search and the worker proved so far")
            if self.checkpoint is not None:
                state.offer(np.asarray(self.checkpoint, dtype=np.int64),
                            "exact MIP (worker), checkpoint")
            state.timed_out = True
            return True
        result = self.result
        if result.get("error"):
            log.warning("the proof worker failed (%s); proving in this process with the time left",
                        result["error"])
            return False
        merge_proof(state, result, "exact MIP (worker)")
        return True


    def silence(self) -> float | None:
        """Seconds the worker has been silent when that means it hung, else None."""
        return silence(self.started, self.last_beat)


def _send_bounds_early(state: SearchState, conn) -> None:
    """Send every bound the worker proves at once, so a worker stopped at the deadline keeps them."""
    raise_bound = state.raise_bound

    def raise_and_send(bound: float, label: str) -> None:
        before = state.bound
        raise_bound(bound, label)
        if state.bound > before:
            conn.send({"early": True, "bounds": bounds_by_source(state.trace)})

    state.raise_bound = raise_and_send


def _prover_main(conn) -> None:
    with worker_pipe(conn) as out:
        try:
            district, scenario, eligible, first, solver_name, seconds, budget = conn.recv()
            out.send(run_proof(district, scenario, eligible, solver_name,
                               time.perf_counter() + seconds, False, budget, first,
                               on_state=lambda state: _send_bounds_early(state, out),
                               on_checkpoint=lambda plan: out.send({"early": True,
                                                                    "checkpoint": plan})))
        except Exception as exc:  # noqa: BLE001 - reported to the parent, which proves in process
            out.send({"error": f"{type(exc).__name__}: {exc}"})


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
