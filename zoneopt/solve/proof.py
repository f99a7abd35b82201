"""The proof on the exact problem: cut rounds from the first plan, in a worker on the second core or
in this process, and how their plan and bounds join the search's.

The exact phase relaxes only contiguity (neighbour rows, then node-separator cuts: on the fractional
LP first, then on each round's plan) and caps every round in solver nodes, so the same first plan
gives the same rounds, bounds and plans wherever it runs. Its plans count when it spends its whole
budget, or when they were found by its first ``Budget.plan_rounds`` rounds (the checkpoint).
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

import numpy as np

from ..bounds import bounds_by_source
from ..check import check_plan
from ..model import build_model, separation_cuts
from .backends import SolveResult, solve
from .processes import report_error, send_payload_soon, silence, spawn_worker, worker_pipe
from .search import local_search
from .state import SearchState, _lp_inline, _quick_bounds, objective_function
from .work import counts_nodes, step_seconds

log = logging.getLogger("zoneopt")


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

    ending: dict[str, Any] = {}
    infeasible = exact_phase(district, scenario, eligible, proof, solver_name, deadline, log_solver,
                             budget, first, tick, on_round=on_round, ending=ending)
    improved = proof.value < start_value - 1e-12
    return {"assign": proof.assign if improved else None, "bound": proof.bound,
            "bounds": bounds_by_source(proof.trace), "proved": proof.proved,
            "timed_out": proof.timed_out, "infeasible": infeasible,
            "checkpoint": checkpoint.get("assign"), "checkpoint_reached": "assign" in checkpoint,
            "ending": ending}


def merge_proof(state: SearchState, result: dict[str, Any], label: str) -> None:
    """Take the proof's bound, and its plan when the proof spent its whole budget.

    A plan found by a proof that the wall clock cut short depends on the machine's speed; it is
    used only when there is no other plan, so that assignment.csv stays reproducible whenever the
    search itself finished its work. The plan of the proof's checkpoint (its first
    ``Budget.plan_rounds`` rounds) is the exception: the same work gives it on any machine. Its
    bound is always valid and always taken.
    """
    timed_out = bool(result.get("timed_out"))
    if result.get("assign") is not None:
        if not timed_out or state.assign is None:
            if timed_out:
                state.cut_short("search")  # the run's only plan, found by a proof cut short
            state.offer(np.asarray(result["assign"], dtype=np.int64), label)
        else:
            checkpoint = result.get("checkpoint")
            if checkpoint is not None:  # the same work gives it on any machine
                state.offer(np.asarray(checkpoint, dtype=np.int64), f"{label}, checkpoint")
            log.info("%s: a plan found after the checkpoint, by a proof the time limit cut short, "
                     "is not used (it would depend on the machine's speed)", label)
    for source, value in sorted((result.get("bounds") or {}).items()):
        state.raise_bound(float(value), f"bound ({source})")
    if result.get("bound") is not None:
        state.raise_bound(float(result["bound"]), f"bound ({label})")
    state.proved = state.proved or (bool(result.get("proved")) and not timed_out)
    if timed_out:
        _proof_cut_short(state, bool(result.get("checkpoint_reached")))
    ending = result.get("ending") or {}
    if ending:  # why its rounds ended, in the trace: a proof that ends early says so
        state._record(f"proof ended ({label}): {ending.get('why')} after {ending.get('rounds')} "
                      "rounds")
    state._record(f"proof done ({label})")


def _proof_cut_short(state: SearchState, checkpoint_reached: bool) -> None:
    """The clock ended the proof: its bound depends on the machine; so may the plan when the proof
    had not reached its checkpoint (a machine that reaches it may take its plan)."""
    state.cut_short("proof")
    if not checkpoint_reached:
        state.cut_short("proof checkpoint")


def exact_phase(district, scenario, eligible, state, solver_name, deadline, log_solver, budget,
                first, tick=lambda label: None, on_round=None, ending=None) -> bool:
    """Prove on the exact problem: the neighbour relaxation plus separation cuts, round by round.

    Every bound it reports holds for the exact problem (the cut rows are valid for it). Each round is
    capped in solver nodes, and the total in nodes and rounds (``budget``), so the same start gives
    the same rounds on any machine; the deadline is a safety stop. Returns True when proven
    infeasible. ``ending`` (a dict), when given, gets why the rounds ended (``why``: "clock",
    "interrupted", "node budget", "infeasible round", "proven" or "rounds") and ``rounds``, the
    rounds solved.
    """
    ending = {} if ending is None else ending

    def end(why: str, rounds: int, result: bool = False) -> bool:
        ending.update(why=why, rounds=rounds)
        return result

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
            state.cut_short("proof")
            return end("clock", round_)
        if state.interrupted:
            return end("interrupted", round_)
        nodes = min(nodes, budget.exact_nodes - spent)
        if nodes <= 0:
            return end("node budget", round_)
        start = (model.start_vector(incumbent, district, scenario)
                 if incumbent is not None else None)
        res: SolveResult = solve(model, solver_name,
                                 time_limit=step_seconds(solver_name, deadline - time.perf_counter()),
                                 mip_gap=s.mip_gap, start=start, seed=s.seed, threads=s.threads,
                                 log=log_solver, node_limit=nodes)
        state.note(res, "proof")
        # The nodes the round used (HiGHS counts them deterministically), else its whole cap: a
        # small district's rounds end far below their cap and must not use up the budget.
        spent += min(nodes, res.nodes) if res.nodes else nodes
        # With HiGHS a time limit here is the deadline; a PuLP solver's rounds are time slices.
        clock = res.limit == "time" and counts_nodes(solver_name)
        if res.status == "infeasible":
            if state.assign is not None:
                # Every row is valid for the plan the proof holds: the solver erred. Said aloud,
                # since the proof stops here with the bound it has.
                log.warning("exact round %d was reported infeasible although a plan satisfies "
                            "it; the proof stops with its bound so far", round_)
            return end("infeasible round", round_ + 1, state.assign is None)
        if res.values is None:
            if clock:
                return end("clock", round_ + 1)
            nodes = 2 * nodes  # nothing found within the cap: the next round gets more nodes
            continue
        state.raise_bound(max(res.bound, 0.0), f"bound (cut round {round_})")
        base = incumbent if incumbent is not None else np.zeros(district.n_units, np.int64)
        cand = model.assignment_from(res.values, base)
        pieces = 0
        if contiguity:
            cuts, lo, hi, pieces = separation_cuts(district, model, cand)
        if pieces == 0:
            state.offer(cand, "exact MIP")
            incumbent = cand
            if res.status == "optimal":
                # The relaxation's optimum (within mip_gap) is contiguous: proven for the exact problem.
                state.proved = True
                return end("proven", round_ + 1)
            if clock:
                return end("clock", round_ + 1)
            nodes = 2 * nodes  # no new cut: the next round needs more nodes to close the gap
            continue
        _repair_round_plan(district, scenario, eligible, state, cand, solver_name, deadline)
        model.add_rows(cuts, lo, hi)
        tick(f"cuts {round_}")
    return end("rounds", budget.cut_rounds)


def _root_cuts(district, model, state, deadline, threads) -> None:
    """Separator cuts on the fractional LP (zoneopt.model.root_cuts) before the first round; their
    LP value is a bound on the exact problem ("bound (root_cuts)")."""
    from ..model.root_cuts import strengthen_root

    def stop() -> bool:
        if time.perf_counter() >= deadline - 0.05:
            state.cut_short("proof")  # fewer rounds than the budget: a safety stop, reported
            return True
        return state.interrupted

    value, added, rounds = strengthen_root(district, model, threads=threads, should_stop=stop)
    log.info("root cuts: %d rows in %d LP rounds, LP %.6f", added, rounds, value)
    if math.isfinite(value):
        state.raise_bound(max(value, 0.0), "bound (root_cuts)")


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
def second_core_allowed(scenario) -> bool:
    """Whether a run of ``scenario`` may start a worker process on a second core."""
    import multiprocessing as mp
    import os

    if scenario.solver.threads == 1 or (os.cpu_count() or 1) < 2:
        return False
    if mp.current_process().daemon:  # e.g. a Dask worker: daemonic processes cannot have children
        return False
    return not os.environ.get("ZONEOPT_NO_WORKER")


def _use_second_core(run) -> bool:
    from .. import settings

    if not second_core_allowed(run.scenario):
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
        self.checkpoint_reached = False
        self.started = time.monotonic()
        #: time.monotonic() of the worker's last heartbeat (the clock is system-wide, so the
        #: worker's stamp says when it was last alive even if the pipe is read much later).
        self.last_beat: float | None = None

    @classmethod
    def maybe_start(cls, run, first: np.ndarray, target=None) -> _Prover | None:
        """The worker on the second core (None where it does not pay); ``target`` is its main
        function (default: the proof; :mod:`zoneopt.solve.second_search` passes its own)."""
        if not _use_second_core(run):
            return None
        seconds = max(0.5, run.left() - 1.5)  # margin: reporting back
        proc, parent = spawn_worker(target or _prover_main)
        payload = (run.district, run.scenario, run.eligible, first, run.solver, seconds, run.budget)
        send_payload_soon(parent, payload)
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
                self.checkpoint, self.checkpoint_reached = msg["checkpoint"], True
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
        hung = self.wait(state, deadline)
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
            _proof_cut_short(state, self.checkpoint_reached)
            return True
        result = self.result
        if result.get("error"):
            log.warning("the proof worker failed (%s); proving in this process with the time left",
                        result["error"])
            return False
        merge_proof(state, result, "exact MIP (worker)")
        return True


    def wait(self, state: SearchState, deadline: float) -> float | None:
        """Wait for the worker's result until the deadline, then stop it; the seconds it was
        silent when it hung, else None."""
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
        return hung

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
            report_error(out, exc)


__all__ = ["run_proof", "merge_proof", "exact_phase"]
