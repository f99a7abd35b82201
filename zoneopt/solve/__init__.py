"""The optimisation loop: a feasible start, large-neighbourhood search, then exact proof.

:func:`optimize` is the one entry point the CLI, the notebooks, the frontier and the batch runner use.
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
from ..errors import InfeasibleError, NoSolutionError
from ..model import build_model, eligible_pairs, separation_cuts
from ..model.diagnose import diagnose_before_solving
from ..scenario import Scenario
from ..settings import (
    CUT_ROUND_SHARE,
    FULL_MIP_MAX_PAIRS,
    FULL_MIP_SHARE,
    MAX_CUT_ROUNDS,
    SEARCH_SHARE_OF_BUDGET,
)
from .backends import SolveResult, resolve_solver, solve
from .search import large_neighbourhood_search, local_search

log = logging.getLogger("zoneopt")


@dataclass
class SearchState:
    """Best plan and proven bound so far, with the history of improvements."""

    t0: float
    objective_fn: Any
    district: District
    assign: np.ndarray | None = None
    value: float = math.inf
    bound: float = 0.0
    proven_optimal: bool = False
    interrupted: bool = False
    trace: list[dict[str, Any]] = field(default_factory=list)
    progress: Any = None

    def offer(self, assign: np.ndarray, label: str) -> bool:
        value = self.objective_fn(assign)
        if value < self.value - 1e-12:
            self.assign, self.value = assign.copy(), value
            self._record(label)
            return True
        return False

    def raise_bound(self, bound: float, label: str) -> None:
        if bound > self.bound + 1e-12 and math.isfinite(bound):
            self.bound = min(bound, self.value) if self.assign is not None else bound
            self._record(label)

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
        Seconds for the whole search (overrides ``solver.time_limit_s``).
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
        ``solver.mip_gap``; otherwise ``feasible`` with the proven ``gap``.

    Raises
    ------
    InfeasibleError
        The scenario is proven impossible (``.diagnosis`` says why; ``.plan`` holds the summary).
    NoSolutionError
        The time ran out before any plan was found.

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
    solver_name, solver_note = resolve_solver(scenario.solver.name)
    if solver_note:
        log.warning("solver: %s", solver_note)
    budget = scenario.solver.time_limit_s
    t0 = time.perf_counter()
    deadline = t0 + budget
    o = scenario.objective

    def objective_fn(assign: np.ndarray) -> float:
        return metrics.objective_value(
            assign, district.students, district.low_income, district.dist_km,
            district.status_quo, district.n_schools, balance=o.balance == "dissimilarity",
            distance_weight=o.distance_weight, moved_weight=o.moved_weight,
        )

    state = SearchState(t0=t0, objective_fn=objective_fn, district=district)
    eligible = eligible_pairs(district, scenario)
    findings = diagnose_before_solving(district, scenario, eligible)
    if findings:
        plan = Plan.failed(district, scenario, "infeasible", findings, time.perf_counter() - t0,
                           solver_name)
        raise InfeasibleError(findings, plan=plan)

    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=round(budget), unit="s", desc="zoneopt", leave=True)
        state.progress = bar
    if start is not None:
        positions = start.positions if hasattr(start, "positions") else (
            district.assignment_positions(start))
        if positions is not None and check_plan(district, scenario, positions).ok:
            state.offer(np.asarray(positions, dtype=np.int64), "given start")
    proven_infeasible = False
    try:
        with _interruptible(state):
            proven_infeasible = _run(district, scenario, eligible, state, solver_name, deadline,
                                     log_solver, bar)
    finally:
        if bar is not None:
            bar.n = min(bar.total, round(time.perf_counter() - t0))
            bar.close()
    seconds = time.perf_counter() - t0
    if state.assign is None:
        if proven_infeasible:
            from ..model.elastic import explain_infeasibility

            findings = explain_infeasibility(district, scenario, eligible,
                                             time_limit=max(5.0, 0.2 * budget))
            plan = Plan.failed(district, scenario, "infeasible", findings, seconds, solver_name)
            raise InfeasibleError(findings, plan=plan)
        from .repair import binding_rules

        msg = (
            f"no plan satisfying the scenario was found within {budget:g} s"
            + (" (interrupted)" if state.interrupted else "")
            + "; allow more time (--time-limit) or relax the constraints. What binds: "
            + "; ".join(binding_rules(district, scenario, eligible))
        )
        plan = Plan.failed(district, scenario, "no_solution", [msg], seconds, solver_name)
        raise NoSolutionError(msg, plan=plan)
    bound = min(state.bound, state.value)
    gap = 0.0 if state.value <= 1e-12 else max(0.0, (state.value - bound) / state.value)
    status = "optimal" if (state.proven_optimal or gap <= scenario.solver.mip_gap + 1e-9) else "feasible"
    plan = Plan.from_assignment(
        district, scenario, state.assign, status=status, objective=state.value, bound=bound,
        gap=gap, solver=solver_name, seconds=seconds, trace=state.trace,
        interrupted=state.interrupted,
    )
    if solver_note:
        plan.summary["solver_note"] = solver_note
    plan.summary["bounds"] = bounds_by_source(state.trace)
    report = check_plan(district, scenario, state.assign, summary=plan.summary)
    if not report.ok:  # a bug, never a user error: refuse to hand out an unchecked plan
        raise RuntimeError("internal error, the plan failed its check:\n" + "\n".join(report.violations))
    return plan


def _run(district, scenario, eligible, state, solver_name, deadline, log_solver, bar) -> bool:
    """The search; returns True when the scenario is proven infeasible."""
    mode = scenario.solver.contiguity_model
    contiguity = scenario.constraints.contiguity
    budget = deadline - state.t0
    search_deadline = state.t0 + SEARCH_SHARE_OF_BUDGET * budget

    def tick(label: str) -> None:
        if bar is not None:
            bar.n = min(bar.total, round(time.perf_counter() - state.t0))
            bar.refresh()

    # 1. A feasible start: today's plan if it satisfies the scenario, else any feasible plan (a pure
    #    feasibility MIP stops at its first solution: 2.4 s at 2,000 units where minimising students
    #    moved took 36 s; the search then improves the real objective).
    sq = district.status_quo.copy()
    if (sq >= 0).all() and check_plan(district, scenario, sq).ok:
        state.offer(sq, "status quo")
    elif state.assign is None:
        _repair_start(district, scenario, eligible, state, solver_name, search_deadline)
    if state.assign is None:
        model = build_model(district, scenario, eligible,
                            contiguity="closer" if contiguity else "none", objective="none")
        res = solve(model, solver_name, time_limit=max(0.05, search_deadline - time.perf_counter()),
                    mip_gap=0.05, seed=scenario.solver.seed, threads=scenario.solver.threads,
                    log=log_solver)
        if res.values is not None:
            state.offer(model.assignment_from(res.values, np.zeros(district.n_units, np.int64)),
                        "feasible start")
        elif res.status == "infeasible" and not contiguity:
            return True
    tick("start")
    if _lp_inline(eligible):
        _quick_bounds(district, scenario, eligible, state, deadline)
    if state.interrupted:
        return False
    # 2. Search, and 3. proof on the exact problem (cut-based contiguity: every bound it reports holds
    #    for the exact problem). With a second core the proof runs in a worker process alongside the
    #    search, from the first plan on; otherwise it follows the search.
    prover = None
    if state.assign is not None and mode == "auto" and _use_second_core(district, scenario,
                                                                        deadline, eligible):
        prover = _Prover.start(district, scenario, eligible, state.assign, solver_name, deadline)
    if state.assign is not None:
        if mode == "closer_neighbour" and contiguity:
            model = build_model(district, scenario, eligible, contiguity="closer")
            res = solve(model, solver_name, time_limit=max(0.05, search_deadline - time.perf_counter()),
                        mip_gap=scenario.solver.mip_gap, seed=scenario.solver.seed,
                        start=model.start_vector(state.assign, district, scenario),
                        threads=scenario.solver.threads, log=log_solver)
            if res.values is not None:
                state.offer(model.assignment_from(res.values, state.assign), "closer-neighbour MIP")
        elif mode == "auto":
            polished = local_search(district, scenario, eligible, state.assign,
                                    deadline=deadline if prover else search_deadline,
                                    should_stop=lambda: state.interrupted)
            state.offer(polished, "local search")
            tick("local search")
            if int(eligible.sum()) <= FULL_MIP_MAX_PAIRS and contiguity:
                # Small district: the whole closer-neighbour MIP, warm-started, often settles it
                # in seconds; the neighbourhood search then continues from its plan.
                end = deadline if prover else search_deadline
                model = build_model(district, scenario, eligible, contiguity="closer")
                res = solve(model, solver_name,
                            time_limit=max(0.05, FULL_MIP_SHARE * (end - time.perf_counter())),
                            mip_gap=scenario.solver.mip_gap, seed=scenario.solver.seed,
                            start=model.start_vector(state.assign, district, scenario),
                            threads=scenario.solver.threads, log=log_solver)
                if res.values is not None:
                    state.offer(model.assignment_from(res.values, state.assign),
                                "closer-neighbour MIP")
                tick("closer-neighbour MIP")
            large_neighbourhood_search(
                district, scenario, eligible, state.assign, state.objective_fn,
                deadline=deadline if prover else search_deadline, solver=solver_name,
                on_improve=lambda a, v, label: (state.offer(a, label), tick(label)),
                should_stop=lambda: state.interrupted or (prover is not None and prover.done()),
            )
    tick("search")
    if prover is not None:
        prover.merge_into(state, wait_until=deadline)
        return False
    if state.interrupted:
        return False
    if not _lp_inline(eligible):
        _quick_bounds(district, scenario, eligible, state, deadline)
    return _exact_phase(district, scenario, eligible, state, solver_name, deadline, log_solver, tick)


def _repair_start(district, scenario, eligible, state, solver_name, deadline) -> None:
    """Today's zones break the scenario: repair them (zoneopt.solve.repair) before any big MIP."""
    from .repair import repair_status_quo

    repaired = repair_status_quo(district, scenario, eligible, deadline=deadline, solver=solver_name)
    if repaired is not None and check_plan(district, scenario, repaired).ok:
        state.offer(repaired, "repair")


#: Above this many eligible pairs the root LP takes seconds (about 65,000 pairs at 5,000 units): it
#: then runs in the proof worker, or after the search, instead of delaying the first search steps.
INLINE_LP_MAX_PAIRS = 30_000


def _lp_inline(eligible) -> bool:
    return int(eligible.sum()) <= INLINE_LP_MAX_PAIRS


def _quick_bounds(district, scenario, eligible, state, deadline) -> None:
    """Bounds that need no search (zoneopt.bounds): the root LP without contiguity rows."""
    from ..bounds.lp import root_lp_bound

    res = root_lp_bound(district, scenario, eligible, deadline=deadline)
    if res.useful:
        state.raise_bound(res.value, f"bound ({res.source})")


#: Problems smaller than this many eligible pairs are proven faster inline than a worker starts.
PARALLEL_MIN_PAIRS = 400
#: Nor is a worker worth starting for less time than this (seconds): it needs about 2 s to start.
PARALLEL_MIN_SECONDS = 8.0


def _use_second_core(district, scenario, deadline, eligible) -> bool:
    import multiprocessing as mp
    import os

    if scenario.solver.threads == 1 or (os.cpu_count() or 1) < 2:
        return False
    if mp.current_process().daemon:  # e.g. a Dask worker: daemonic processes cannot have children
        return False
    if os.environ.get("ZONEOPT_NO_WORKER"):
        return False
    return (deadline - time.perf_counter() >= PARALLEL_MIN_SECONDS
            and int(eligible.sum()) >= PARALLEL_MIN_PAIRS)


class _Prover:
    """The exact phase in a worker process (spawned: HiGHS's thread pool does not survive a fork).

    Nothing large goes through ``Process(args=...)``: CPython writes those before closing its copy
    of the child's pipe end, so a child that dies early would block the parent forever. The payload
    goes through our own pipe from a background thread instead, and a dead worker is noticed.
    """

    def __init__(self, proc, conn) -> None:
        self.proc, self.conn, self.result = proc, conn, None
        self.early_bounds: dict[str, float] = {}  # sent as soon as proven (zoneopt.bounds)

    @classmethod
    def start(cls, district, scenario, eligible, assign, solver_name, deadline) -> _Prover:
        import multiprocessing as mp

        ctx = mp.get_context("spawn")
        parent, child = ctx.Pipe(duplex=True)
        seconds = max(0.5, deadline - time.perf_counter() - 1.5)  # margin: reporting back
        proc = ctx.Process(target=_prover_main, args=(child,), daemon=True)
        proc.start()
        child.close()
        payload = (district, scenario, eligible, assign, solver_name, seconds)

        def send() -> None:
            try:
                parent.send(payload)
            except (OSError, ValueError):
                pass  # the worker died; done() sees EOF and the parent keeps its own plan

        threading.Thread(target=send, daemon=True).start()
        return cls(proc, parent)

    def done(self) -> bool:
        while self.result is None and self.conn.poll():
            try:
                msg = self.conn.recv()
            except (EOFError, OSError):
                break
            if not msg.get("early"):
                self.result = msg
            else:
                self.early_bounds.update(msg.get("bounds") or {})
        if self.result is None and (self.conn.poll() or not self.proc.is_alive()):
            try:
                self.result = self.conn.recv() if self.conn.poll() else {"error": "worker exited"}
            except (EOFError, OSError):
                self.result = {"error": "worker exited"}
        return self.result is not None

    def merge_into(self, state: SearchState, wait_until: float) -> None:
        grace = 1.0  # the worker stops 1.5 s before the deadline; allow it to report
        while not self.done() and not state.interrupted:
            if time.perf_counter() > wait_until + grace:
                break
            self.conn.poll(0.05)
        if self.proc.is_alive():
            self.proc.terminate()
        self.proc.join(timeout=2)
        result = self.result or {}
        if result.get("assign") is not None:
            state.offer(np.asarray(result["assign"], dtype=np.int64), "exact MIP (worker)")
        for source, value in sorted({**self.early_bounds, **(result.get("bounds") or {})}.items()):
            state.raise_bound(float(value), f"bound ({source})")
        if result.get("bound") is not None:
            state.raise_bound(float(result["bound"]), "bound (worker)")
        if result.get("error"):
            log.warning("the proof worker failed (%s); the bound is the trivial 0", result["error"])


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
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    try:
        district, scenario, eligible, assign, solver_name, seconds = conn.recv()
        o = scenario.objective
        t0 = time.perf_counter()

        def objective_fn(a):
            return metrics.objective_value(
                a, district.students, district.low_income, district.dist_km, district.status_quo,
                district.n_schools, balance=o.balance == "dissimilarity",
                distance_weight=o.distance_weight, moved_weight=o.moved_weight)

        state = SearchState(t0=t0, objective_fn=objective_fn, district=district)
        state.offer(np.asarray(assign, dtype=np.int64), "start")
        start_value = state.value
        _send_bounds_early(state, conn)
        if not _lp_inline(eligible):
            _quick_bounds(district, scenario, eligible, state, t0 + seconds)
        _exact_phase(district, scenario, eligible, state, solver_name, t0 + seconds, False,
                     lambda label: None)
        improved = state.value < start_value - 1e-12
        conn.send({"assign": state.assign if improved else None, "bound": state.bound,
                   "bounds": bounds_by_source(state.trace)})
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which keeps its own plan
        conn.send({"error": f"{type(exc).__name__}: {exc}"})
    finally:
        conn.close()


def _exact_phase(district, scenario, eligible, state, solver_name, deadline, log_solver, tick) -> bool:
    contiguity = scenario.constraints.contiguity
    model = build_model(district, scenario, eligible,
                        contiguity="neighbour" if contiguity else "none")
    gap = scenario.solver.mip_gap
    share = CUT_ROUND_SHARE
    for round_ in range(MAX_CUT_ROUNDS):
        remaining = deadline - time.perf_counter()
        if remaining < 0.05 or state.interrupted:
            return False
        start = (model.start_vector(state.assign, district, scenario)
                 if state.assign is not None else None)
        # Any dual bound is valid, so many short rounds (each adding cuts) beat one long round.
        slice_s = remaining if not contiguity else min(remaining, max(2.0, share * remaining))
        res: SolveResult = solve(model, solver_name, time_limit=slice_s, mip_gap=gap, start=start,
                                 seed=scenario.solver.seed, threads=scenario.solver.threads,
                                 log=log_solver)
        if res.status == "infeasible":
            return state.assign is None
        state.raise_bound(max(res.bound, 0.0), f"bound (cut round {round_})")
        if res.values is None:
            if slice_s < remaining:
                share = 1.0  # nothing found in a slice: give the next round all the time left
                continue
            return False
        base = state.assign if state.assign is not None else np.zeros(district.n_units, np.int64)
        cand = model.assignment_from(res.values, base)
        if not contiguity:
            state.offer(cand, "MIP")
            if res.status == "optimal":
                state.proven_optimal = True
            return False
        cuts, lo, hi, pieces = separation_cuts(district, model, cand)
        if pieces == 0:
            state.offer(cand, "exact MIP")
            if res.status == "optimal":
                # The relaxation's optimum is contiguous: it is optimal for the exact problem.
                state.proven_optimal = state.value <= res.objective + 1e-9
                state.raise_bound(res.bound, "proven")
                return False
            share = min(1.0, 2 * share)  # no new cut to add: the next round needs more time
            continue
        model.add_rows(cuts, lo, hi)
        tick(f"cuts {round_}")
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


__all__ = ["optimize", "SolveResult"]
