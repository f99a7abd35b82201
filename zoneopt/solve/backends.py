"""Solver backends with honest statuses.

HiGHS is driven through highspy's matrix API (no Python object per variable); every other solver goes
through PuLP (:meth:`zoneopt.model.Model.to_pulp`), so CBC and commercial solvers work by name.

A backend answers with a :class:`SolveResult` whose ``status`` is one of ``optimal`` (proven within the
requested gap), ``feasible`` (a solution, stopped early), ``infeasible`` (proven), ``no_solution``
(stopped with nothing). PuLP's own status is not trusted to mean "proven": it reports "Optimal" for
CBC runs cut short by a time limit, so the solution status (``sol_status``) is used instead.
"""

from __future__ import annotations

import math
import os
import sys
import time
from dataclasses import dataclass

import numpy as np

from ..errors import ZoneoptInputError
from ..model import Model


@dataclass
class SolveResult:
    """What one solver run proved and found."""

    status: str
    values: np.ndarray | None
    objective: float | None
    bound: float
    seconds: float
    solver: str
    message: str = ""
    #: What ended the run early, if anything: "time" (the wall clock: not repeatable) or "work" (a
    #: node or iteration cap: repeatable); "" when the solver finished.
    limit: str = ""
    #: Branch-and-bound nodes the solver used (HiGHS; 0 when unknown): the work actually spent.
    nodes: int = 0
    #: Simplex iterations over the whole run (HiGHS; 0 when unknown): the same on every machine for
    #: the same model and options, so work counted in them gives the same plan at any speed.
    iterations: int = 0


def solver_label(name: str) -> str:
    """Canonical label of a solver name given by a user."""
    key = name.strip().lower()
    return {"highs": "highs", "cbc": "cbc"}.get(key, name.strip())


def available_solvers() -> list[str]:
    """Solver names that work on this machine (``highs``, ``cbc`` and PuLP's other names)."""
    import pulp

    names = ["highs"]
    others = pulp.listSolvers(onlyAvailable=True)
    if "PULP_CBC_CMD" in others:
        names.append("cbc")
    names.extend(s for s in others if s not in ("PULP_CBC_CMD", "HiGHS"))
    return names


def resolve_solver(name: str) -> tuple[str, str]:
    """The solver to use for ``name`` and a note when it had to fall back.

    An unknown name is bad input (a typo should not silently run another solver); a known solver
    that is not installed or not executable falls back to HiGHS (or CBC without highspy), and the
    note says why and how to install the one asked for.
    """
    try:
        return check_solver(name), ""
    except ZoneoptInputError as exc:
        if "not installed" not in str(exc) and "needs the highspy" not in str(exc):
            raise
        for fallback in ("highs", "cbc"):
            if fallback == solver_label(name):
                continue
            try:
                chosen = check_solver(fallback)
            except ZoneoptInputError:
                continue
            return chosen, f"{exc.detail}; fell back to {chosen}"
        raise


def check_solver(name: str) -> str:
    """Validate a solver name; raise a clear error naming the fix when it is missing."""
    label = solver_label(name)
    if label == "highs":
        try:
            import highspy  # noqa: F401
        except ImportError:
            raise ZoneoptInputError(
                "solver 'highs' needs the highspy package: pip install highspy "
                "(or choose --solver cbc)", column="solver.name"
            ) from None
        return label
    import pulp

    pulp_name = "PULP_CBC_CMD" if label == "cbc" else label
    if pulp_name not in pulp.listSolvers():
        raise ZoneoptInputError(
            f"unknown solver '{name}'; use highs, cbc or one of PuLP's solver names: "
            f"{', '.join(pulp.listSolvers())}", column="solver.name"
        )
    if pulp_name not in pulp.listSolvers(onlyAvailable=True):
        raise ZoneoptInputError(
            f"solver '{name}' is not installed or not executable on this machine; install it, or use "
            f"one of the available solvers: {', '.join(available_solvers())}",
            column="solver.name",
        )
    return label


def solve(
    model: Model,
    solver: str = "highs",
    *,
    time_limit: float,
    mip_gap: float,
    threads: int = 0,
    start: np.ndarray | None = None,
    node_limit: int | None = None,
    seed: int = 0,
    log: bool = False,
    relax: bool = False,
    abs_gap: float = 0.0,
) -> SolveResult:
    """Solve ``model`` with the named solver.

    Parameters
    ----------
    model
        The MIP.
    solver
        ``"highs"``, ``"cbc"`` or a PuLP solver name.
    time_limit
        Seconds (> 0).
    mip_gap
        Relative gap at which the solver may stop and call the result proven.
    threads
        0 lets the solver choose.
    start
        Column values of a feasible plan, passed as a warm start where the solver accepts one.
    node_limit
        Branch-and-bound node cap (HiGHS), which keeps repeated runs identical.
    seed
        Solver random seed.
    log
        Show the solver's log.
    relax
        Solve the linear relaxation instead.
    abs_gap
        Absolute gap at which HiGHS may stop (0: none; other solvers ignore it). The elastic repair
        steps use it to stop once no answer can be better by one student's overflow.

    Returns
    -------
    SolveResult
    """
    label = solver_label(solver)
    if label == "highs":
        return _solve_highs(model, time_limit=time_limit, mip_gap=mip_gap, threads=threads,
                            start=start, node_limit=node_limit, seed=seed, log=log, relax=relax,
                            abs_gap=abs_gap)
    return _verified(model, _solve_pulp(model, label, time_limit=time_limit, mip_gap=mip_gap,
                                        threads=threads, start=start, log=log), relax)


def _verified(model: Model, res: SolveResult, relax: bool = False) -> SolveResult:
    """``res`` when its answer satisfies the model's rows and objective; else nothing, no bound."""
    if res.values is None or consistent(model, res.values, res.objective, integral=not relax):
        return res
    return SolveResult("no_solution", None, None, -math.inf, res.seconds, res.solver,
                       "solver answer failed verification against the model's rows and objective",
                       res.limit)


_BANNER_SHOWN = False


def _new_highs():
    """A Highs instance; the first one prints a banner on stdout, which is kept out of our output."""
    global _BANNER_SHOWN
    import highspy

    if _BANNER_SHOWN:
        return highspy.Highs()
    _BANNER_SHOWN = True
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
            h = highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    return h


_THREADS_IN_USE: int | None = None


def _set_threads(h, threads: int) -> None:
    """HiGHS keeps one thread scheduler per process: a new thread count needs it reset first,
    otherwise the next run fails without saying why (model status "Not Set")."""
    global _THREADS_IN_USE
    import highspy

    # "Automatic" (0) is one thread per solve: zoneopt's parallelism is its processes (the proof
    # worker, the step helper), each on a core of its own, and a fixed thread count keeps HiGHS's
    # answers the same on machines with any number of cores.
    wanted = int(threads) if threads else 1
    if _THREADS_IN_USE is not None and wanted != _THREADS_IN_USE:
        highspy.Highs.resetGlobalScheduler(True)
    h.setOptionValue("threads", wanted)
    _THREADS_IN_USE = wanted  # as far as zoneopt knows: see run_highs


def run_highs(h) -> None:
    """``h.run()``, once more after a reset when other code started HiGHS's scheduler differently.

    HiGHS keeps one thread scheduler per process. Code outside zoneopt in the same process (PuLP's
    HiGHS, a notebook cell, the benchmark's baselines) may start it with HiGHS's automatic thread
    count; a run asking for another count then fails with model status "Not Set". The scheduler is
    reset and the run repeated, which gives the same answer as a first run.
    """
    global _THREADS_IN_USE
    import highspy

    status = h.run()
    if status == highspy.HighsStatus.kError and (
            h.getModelStatus() == highspy.HighsModelStatus.kNotset):
        highspy.Highs.resetGlobalScheduler(True)
        _THREADS_IN_USE = None
        h.run()


#: Tolerance when checking a solver's answer against the model (rows, objective).
ANSWER_TOL = 1e-6


def consistent(model: Model, values: np.ndarray, objective: float | None, *,
               integral: bool = True) -> bool:
    """Whether ``values`` satisfy every row and bound of ``model`` and give ``objective``.

    HiGHS 1.16 can answer a warm-started MIP with the start vector while reporting another
    (lower) objective and "optimal"; answers are therefore never taken on trust, from any solver.
    """
    if objective is None or values.shape != model.cost.shape or not np.isfinite(values).all():
        return False
    act = model.rows @ values
    scale = 1.0 + np.abs(act)
    if np.any(model.row_lower - act > ANSWER_TOL * scale) or np.any(act - model.row_upper > ANSWER_TOL * scale):
        return False
    if np.any(values < model.lower - ANSWER_TOL) or np.any(values > model.upper + ANSWER_TOL):
        return False
    k = model.n_pairs
    if integral and np.any(np.abs(values[:k] - np.round(values[:k])) > 1e-5):
        return False
    own = float(model.cost @ values + model.objective_offset)
    return abs(own - objective) <= ANSWER_TOL * max(1.0, abs(objective))


def _solve_highs(model, *, time_limit, mip_gap, threads, start, node_limit, seed, log, relax,
                 abs_gap=0.0):
    first = _solve_highs_once(model, time_limit=time_limit, mip_gap=mip_gap, threads=threads,
                              start=start, node_limit=node_limit, seed=seed, log=log, relax=relax,
                              abs_gap=abs_gap)
    if first.values is None or consistent(model, first.values, first.objective, integral=not relax):
        return first
    if relax:
        return _verified(model, first, relax=True)
    # The answer does not match the model: solve again without the warm start.
    remaining = max(0.05, time_limit - first.seconds)
    second = _solve_highs_once(model, time_limit=remaining, mip_gap=mip_gap, threads=threads,
                               start=None, node_limit=node_limit, seed=seed, log=log, relax=False,
                               abs_gap=abs_gap)
    second.seconds += first.seconds
    second.iterations += first.iterations
    if second.values is not None and not consistent(model, second.values, second.objective):
        # Keep nothing we cannot verify; the bound of a run we doubt is not used either.
        return SolveResult("no_solution", None, None, -math.inf, second.seconds, "highs",
                           "solver answer failed verification", second.limit)
    return second


def _solve_highs_once(model, *, time_limit, mip_gap, threads, start, node_limit, seed, log, relax,
                      abs_gap=0.0):
    import highspy

    t0 = time.perf_counter()
    # HiGHS's default absolute gap (1e-6) stops tiny objectives "optimal" far above mip_gap.
    h = _loaded_highs(model, time_limit=time_limit, mip_gap=mip_gap, seed=seed, threads=threads,
                      log=log, abs_gap=abs_gap, node_limit=node_limit, relax=relax)
    if start is not None and not relax:
        sol = highspy.HighsSolution()
        sol.col_value = list(map(float, start))
        sol.value_valid = True
        h.setSolution(sol)
    run_highs(h)
    status = h.getModelStatus()
    info = h.getInfo()
    used = max(1, int(getattr(info, "mip_node_count", 0) or 0))
    iterations = max(0, int(getattr(info, "simplex_iteration_count", 0) or 0))
    seconds = time.perf_counter() - t0
    ms = highspy.HighsModelStatus
    has_sol = info.primal_solution_status == highspy.SolutionStatus.kSolutionStatusFeasible
    values = np.asarray(h.getSolution().col_value, dtype=float) if has_sol else None
    objective = float(info.objective_function_value) if has_sol else None
    if relax:
        bound = objective if status == ms.kOptimal and objective is not None else 0.0
    else:
        bound = float(info.mip_dual_bound)
        if not math.isfinite(bound):
            bound = -math.inf
    limit = "time" if status == ms.kTimeLimit else (
        "work" if status in (ms.kSolutionLimit, ms.kIterationLimit) or (
            node_limit is not None and status == ms.kInterrupt) else "")
    if status == ms.kInfeasible:
        return SolveResult("infeasible", None, None, math.inf, seconds, "highs", "proven infeasible",
                           iterations=iterations)
    if status == ms.kOptimal and has_sol:
        # HiGHS stops at kOptimal once its gap is within mip_rel_gap: proven within the gap.
        return SolveResult("optimal", values, objective, bound if not relax else objective,
                           seconds, "highs", "optimal within gap", nodes=used,
                           iterations=iterations)
    if not has_sol:
        bound = -math.inf  # a bound is used only with an answer that verifies
    if has_sol:
        return SolveResult("feasible", values, objective, bound, seconds, "highs",
                           h.modelStatusToString(status), limit, nodes=used,
                           iterations=iterations)
    return SolveResult("no_solution", None, None, bound, seconds, "highs",
                       h.modelStatusToString(status), limit, nodes=used, iterations=iterations)


def _loaded_highs(model: Model, *, time_limit: float, mip_gap: float, seed: int, threads: int,
                  log: bool = False, abs_gap: float | None = None, node_limit: int | None = None,
                  relax: bool = False):
    """A Highs instance holding ``model``, with the limits every zoneopt solve sets (``abs_gap``
    None: HiGHS's default)."""
    h = _new_highs()
    h.setOptionValue("output_flag", bool(log))
    h.setOptionValue("time_limit", float(max(time_limit, 0.01)))
    h.setOptionValue("mip_rel_gap", float(mip_gap))
    if abs_gap is not None:
        h.setOptionValue("mip_abs_gap", float(abs_gap))
    h.setOptionValue("random_seed", int(seed))
    _set_threads(h, threads)
    if node_limit is not None:
        h.setOptionValue("mip_max_nodes", int(node_limit))
    _pass_model(h, model, relax=relax)
    return h


def _pass_model(h, model: Model, *, relax: bool = False) -> None:
    """Hand ``model`` to the Highs instance ``h`` (its integrality dropped when ``relax``)."""
    from ..bounds._highs import pass_arrays

    pass_arrays(h, model.cost, model.lower, model.upper, model.rows, model.row_lower,
                model.row_upper, integer=None if relax else model.integer,
                offset=model.objective_offset)


def jump_start(model: Model, *, seed: int, time_limit: float, threads: int = 0,
               ) -> tuple[np.ndarray | None, bool]:
    """A solution from HiGHS's presolve and the primal heuristics it runs before the root LP
    (feasibility jump, trivial heuristics); the root LP and everything after are not run.

    Feasibility jump is a weighted local search whose work is capped in effort, not seconds, and
    whose path follows ``random_seed``. On the repair's whole-district feasibility MIP of tight
    districts it either finds a plan in 0.1-1 s or not at all, seed by seed (1000 x 50, seats
    x0.93, 1.5 km: seeds 3, 4, 6 and 7 of 0-7 in 0.3-0.9 s each, where the 100-node MIP of seed 0
    ran 9.6 s and found none); a few seeds are cheaper than one MIP's root.

    HiGHS offers no option to stop before the root LP, so the callback that HiGHS calls at the
    start of the root's evaluation (its second request for a user solution) shrinks the time limit
    to nothing, and the next limit check interrupts the run: what is found by then depends on the
    seed and the model only.

    Parameters
    ----------
    model
        The MIP.
    seed
        HiGHS's random seed.
    time_limit
        Safety stop in seconds (presolve and the heuristics take 0.1-2 s at 1,000-2,000 units).
    threads
        HiGHS threads (0: one, as :func:`solve`).

    Returns
    -------
    (numpy.ndarray or None, bool)
        The solution (verified against the model's rows) or None, and whether the safety stop
        ended the run before the heuristics did.
    """
    import highspy

    h = _loaded_highs(model, time_limit=time_limit, mip_gap=1.0, seed=seed, threads=threads)
    state = {"calls": 0, "root": False, "found": False}

    def at_root(event) -> None:
        # HiGHS asks for a user solution after its setup (before the heuristics), then when it
        # starts evaluating the root node (after them, before the root LP).
        state["calls"] += 1
        if state["calls"] == 2:
            state["root"] = True
            state["found"] = math.isfinite(event.data_out.mip_primal_bound)
            h.setOptionValue("time_limit", 1e-6)

    def check_limits(event) -> None:
        if state["root"]:
            event.interrupt()

    h.cbMipUserSolution.subscribe(at_root)
    h.cbMipInterrupt.subscribe(check_limits)
    run_highs(h)
    info = h.getInfo()
    has_sol = info.primal_solution_status == highspy.SolutionStatus.kSolutionStatusFeasible
    # A solution counts only when the heuristics had found it by the root (a run whose root LP
    # finished before the next limit check might find one more, depending on the machine).
    if not has_sol or (state["root"] and not state["found"]):
        return None, not state["root"] and h.getModelStatus() == highspy.HighsModelStatus.kTimeLimit
    values = np.asarray(h.getSolution().col_value, dtype=float)
    if not consistent(model, values, float(info.objective_function_value)):
        return None, False
    return values, False


def _solve_pulp(model, label, *, time_limit, mip_gap, threads, start, log):
    import pulp

    t0 = time.perf_counter()
    prob, cols = model.to_pulp()
    if start is not None:
        for var, val in zip(cols, start, strict=True):
            var.setInitialValue(float(round(val)) if var.cat != pulp.LpContinuous else float(val))
    kwargs = {"msg": bool(log), "timeLimit": float(max(time_limit, 1.0)), "gapRel": float(mip_gap)}
    if threads:
        kwargs["threads"] = int(threads)
    if start is not None:
        kwargs["warmStart"] = True
    name = "PULP_CBC_CMD" if label == "cbc" else label
    try:
        solver = pulp.getSolver(name, **kwargs)
    except TypeError:
        solver = pulp.getSolver(name, msg=bool(log), timeLimit=float(max(time_limit, 1.0)))
    prob.solve(solver)
    seconds = time.perf_counter() - t0
    sol_status = prob.sol_status
    if prob.status == pulp.LpStatusInfeasible or sol_status == pulp.LpSolutionInfeasible:
        return SolveResult("infeasible", None, None, math.inf, seconds, label, "proven infeasible")
    values = np.array([v.varValue if v.varValue is not None else np.nan for v in cols], dtype=float)
    if sol_status in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible) and not np.isnan(
        values
    ).any():
        objective = float(pulp.value(prob.objective) or 0.0)
        if sol_status == pulp.LpSolutionOptimal:
            # The solver reports its relative gap (best bound vs incumbent) within gapRel: the
            # bound it reports is therefore at least objective x (1 - mip_gap). It is used only
            # once the answer has verified (_verified).
            bound = objective * (1.0 - mip_gap) if objective > 0 else objective
            return SolveResult("optimal", values, objective, bound, seconds, label,
                               "optimal within gap")
        return SolveResult("feasible", values, objective, -math.inf, seconds, label,
                           "stopped before proving (time limit)", "time")
    return SolveResult("no_solution", None, None, -math.inf, seconds, label, pulp.LpStatus[prob.status])
