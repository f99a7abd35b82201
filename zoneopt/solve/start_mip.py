"""The whole district's feasibility MIP beside the repair's elastic steps, on the second core.

When the repair's strict steps leave schools over on a large tight district, its elastic local MIPs
lower the overflow step by step (:mod:`zoneopt.solve.overflow`): a plan in 1-5 s on some districts,
none after 30 s on others. The whole district's feasibility MIP (closer-neighbour contiguity, no
objective, ``settings.START_MIP_NODES`` nodes) finds a plan on many of the latter within 1.5 s
(1000 x 50 with 3-7% spare seats: 0.4-1.4 s, where the elastic steps took 14.7-30 s or found none)
and stalls for a minute on others. So both run at once: the MIP on the second core while the
repair goes on here, and the repair stops as soon as the MIP's plan is in. Before its nodes, HiGHS's
heuristics before the root LP run alone with ``settings.START_JUMP_SEEDS`` seeds
(:func:`zoneopt.solve.backends.jump_start`): which seeds find a plan is luck, each costs 0.1-1 s, and
on 1000 x 50 one of eight found the plan where the MIP's own seed ran 100 nodes for nothing.

What decides the plan is a rule, not which one finishes first: **the MIP's plan when one of its
seeds or its nodes find one, else the repair's**. When the repair ends first, the MIP is waited for
(at most the seeds' and its own safety stops, ``settings.START_JUMP_SAFETY_S`` and
``settings.START_MIP_SAFETY_S`` seconds). So the plan is
the same on any machine and at any load whenever the MIP ends before its safety stop, and the
same whether the MIP ran in a worker or here: with one core (or ``threads = 1``, or inside a Dask
worker) it runs here before the elastic steps, and a worker that dies or hangs is replaced by the
same MIP run here.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np

from .processes import drain, report_error, send_payload_soon, spawn_worker, worker_pipe

log = logging.getLogger("zoneopt")


def start_mip_plan(district, scenario, eligible, solver: str, deadline: float,
                   ) -> tuple[np.ndarray | None, bool]:
    """The feasibility MIP's plan (None when it found none) and whether a safety stop ended it.

    The model is :func:`zoneopt.model.build_model` with closer-neighbour contiguity and no
    objective. With HiGHS, its heuristics before the root LP run first with
    ``settings.START_JUMP_SEEDS`` seeds, the scenario's first (:func:`zoneopt.solve.backends.
    jump_start`): the first seed that finds a plan gives it. Then the MIP stops at its first plan:
    single-threaded, capped at ``settings.START_MIP_NODES`` nodes, seeded with the scenario's seed.
    Every step's work is counted, so the same district gives the same answer wherever it runs.
    ``deadline`` (a ``time.perf_counter()`` value) is the run's; each seed stops
    ``settings.START_JUMP_SAFETY_S`` and the MIP ``settings.START_MIP_SAFETY_S`` seconds after it
    starts at the latest.
    """
    from .. import settings
    from ..model import build_model
    from .backends import jump_start, solve, solver_label

    model = build_model(district, scenario, eligible, contiguity="closer", objective="none")
    seed = int(scenario.solver.seed)
    none = np.zeros(district.n_units, np.int64)
    if solver_label(solver) == "highs":
        for k in range(settings.START_JUMP_SEEDS):
            limit = min(settings.START_JUMP_SAFETY_S, deadline - time.perf_counter())
            if limit <= 0.05:
                return None, True
            values, timed_out = jump_start(model, seed=(seed + k) % 2_147_483_647, time_limit=limit)
            if values is not None:
                return model.assignment_from(values, none), False
            if timed_out:
                break  # a safety stop: the MIP below still has its own
    limit = min(settings.START_MIP_SAFETY_S, deadline - time.perf_counter())
    if limit <= 0.05:
        return None, True
    res = solve(model, solver, time_limit=limit, mip_gap=0.05, threads=1,
                node_limit=settings.START_MIP_NODES, seed=seed)
    if res.values is None:
        return None, res.limit == "time"
    return model.assignment_from(res.values, none), False


class StartMip:
    """The feasibility MIP of one repair: in a worker (spawned: HiGHS's thread pool does not
    survive a fork), or here when the elastic steps start (:meth:`begin`)."""

    def __init__(self, args: tuple, proc=None, conn=None) -> None:
        self.args = args  # (district, scenario, eligible, solver, deadline) to solve it here
        self.proc, self.conn = proc, conn
        self.started = time.monotonic()
        self.last_beat: float | None = None
        self.solving_since: float | None = None  # time.monotonic() when the worker began the MIP
        self.answer: tuple[np.ndarray | None, bool] | None = None
        self.failed = ""
        self.begun = False  # the elastic steps started: the MIP's plan counts first

    @classmethod
    def launch(cls, district, scenario, eligible, solver: str, deadline: float, *,
               worker: bool) -> StartMip:
        """The MIP of a repair that starts now: already solving in a worker when ``worker``,
        else solved here by :meth:`begin`."""
        args = (district, scenario, eligible, solver, deadline)
        if not worker:
            return cls(args)
        proc, parent = spawn_worker(_start_mip_main)
        # The worker's deadline: the same seconds left as here (perf_counter is per process).
        send_payload_soon(parent, (district, scenario, eligible, solver,
                                   deadline - time.perf_counter()))
        return cls(args, proc, parent)

    def begin(self):
        """The elastic steps start: from now on the MIP's plan counts first. Solves it here (no
        worker), or gives the worker its head start; returns :meth:`has_plan`, the predicate the
        elastic steps ask before each of their MIPs."""
        from .. import settings

        self.begun = True
        if self.conn is None:
            self.answer = start_mip_plan(*self.args)
        else:
            self.head_start(settings.START_MIP_HEAD_S, self.args[-1])
        return self.has_plan

    def poll(self) -> None:
        """Read what the worker sent; notice its death or silence."""
        if self.answer is not None or self.failed or self.conn is None:
            return
        self.last_beat, self.failed = drain(self.conn, self.proc, self.started, self.last_beat,
                                            self._take)

    def _take(self, msg: dict) -> bool:
        if "solving" in msg:
            self.solving_since = float(msg["solving"])
        elif "answer" in msg:
            assign, timed_out = msg["answer"]
            self.answer = (None if assign is None else np.asarray(assign, np.int64),
                           bool(timed_out))
            return True
        return False

    def head_start(self, seconds: float, deadline: float) -> None:
        """Wait until the answer is in, or the worker has spent ``seconds`` on the MIP itself.

        Its plans come within 1.5 s of solving, but the worker needs 1-2 s to start, often more
        than the repair's strict steps: without this wait, the first elastic MIP (1-7 s) would
        run before the answer is read. Waiting never changes the plan, only when it comes, so a
        worker slow to start (a loaded machine) is waited for ``seconds`` more at most.
        """
        until = min(deadline, time.perf_counter() + 2 * seconds)
        while (self.answer is None and not self.failed and self.conn is not None
               and time.perf_counter() < until
               and (self.solving_since is None or time.monotonic() - self.solving_since < seconds)):
            self.conn.poll(0.02)
            self.poll()

    def has_plan(self) -> bool:
        """Whether the MIP's plan is in (the repair's elastic steps then stop)."""
        self.poll()
        return self.answer is not None and self.answer[0] is not None

    def plan(self) -> np.ndarray | None:
        """The MIP's plan, waiting for the worker; solved here when the worker died or hung."""
        deadline = self.args[-1]
        while self.answer is None and not self.failed:
            if time.perf_counter() > deadline + 2.0:  # the MIP's own limit ends by the deadline
                self.failed = "did not answer by the time limit"
                break
            self.conn.poll(0.05)
            self.poll()
        if self.answer is None:
            log.warning("the feasibility MIP's worker %s; solving it in this process", self.failed)
            self.answer = start_mip_plan(*self.args)
        self.close()
        assign, timed_out = self.answer
        if timed_out:
            log.info("the feasibility MIP beside the repair stopped at its safety stop without a "
                     "plan")
        return assign

    def close(self) -> None:
        if self.proc is None:
            return
        try:
            self.conn.close()
        except OSError:
            pass
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join(timeout=2)
        self.proc = None


def _start_mip_main(conn) -> None:
    """Worker process: receive the district, solve the feasibility MIP, send its answer."""
    with worker_pipe(conn) as out:
        try:
            district, scenario, eligible, solver, seconds = conn.recv()
            out.send({"solving": time.monotonic()})
            assign, timed_out = start_mip_plan(district, scenario, eligible, solver,
                                               time.perf_counter() + seconds)
            out.send({"answer": (None if assign is None else assign.tolist(), timed_out)})
        except EOFError:
            pass  # the parent closed the pipe: its repair ended first and it needs no answer
        except Exception as exc:  # noqa: BLE001 - reported; the parent solves it itself
            report_error(out, exc)


def start_mip_applies(scenario: Any) -> bool:
    """Whether the repair's elastic steps get the MIP beside them: single-year plans with
    contiguity and the automatic contiguity model (a chosen model is the planner's to run)."""
    from ..years import years_active

    return (bool(scenario.constraints.contiguity) and not years_active(scenario)
            and scenario.solver.contiguity_model == "auto")
