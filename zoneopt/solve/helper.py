"""A second core for the neighbourhood search: a worker process that solves search steps.

On large districts the exact cut loop proves almost nothing within a run (at 2,000 units one cut
round does not finish; its bound stays far below the root LP's), while the search's plans still
improve at the time limit. There the second core solves search steps instead: the search takes its
steps in batches of groups of zones that share no school, each solved against the same plan
(:func:`zoneopt.solve.search.large_neighbourhood_search`), and the helper solves one group of each
batch while this process solves the other. Where a step is solved never changes its answer (the
same model, single-threaded and node-capped HiGHS), so the helper makes a batch faster and nothing
else: with it, without it, or after it died, the plan is the same.

The helper also computes the root LP bound first when it is too big to compute inline, and between
steps (it is idle most of the time: 13 s busy of a 60-s run on 800 units x 40 schools) it raises the
bound with rounds of separator cuts on that LP (:mod:`zoneopt.bounds.lp_cuts`). A round pauses
between chunks of schools when a step arrives, so a step waits at most for one LP solve; the
rounds never touch the plan.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

import numpy as np

from .processes import drain, report_error, send_payload_soon, spawn_worker, worker_pipe

log = logging.getLogger("zoneopt")


class StepHelper:
    """The parent's handle on the helper process."""

    def __init__(self, proc, conn) -> None:
        self.proc, self.conn = proc, conn
        self.started = time.monotonic()
        self.last_beat: float | None = None
        self.ready = False  # the LP (if any) is done and the helper waits for steps
        self.pending = False  # a step was sent and its answer not read yet
        self.failed = False
        self.bounds: list[tuple[float, str]] = []  # (value, source) as the helper proved them
        self.cuts_done = False  # the LP cut rounds (if asked for) are finished
        self._answer: Any = None

    @classmethod
    def start(cls, district, scenario, eligible, solver: str, seconds: float,
              with_lp: bool, with_cuts: bool = False, cut_rounds: int | None = None) -> StepHelper:
        """Spawn the helper; it reads the district from the pipe (sent from a thread, so that a
        helper that dies at start can never block this process). ``with_lp``: it first computes
        the root LP bound; ``with_cuts``: it runs the LP cut rounds between steps
        (:class:`zoneopt.bounds.lp_cuts.SeparatorRounds`), ``cut_rounds`` of them at most (None:
        that class's default)."""
        proc, parent = spawn_worker(_helper_main)
        payload = (district, scenario, eligible, solver, seconds, with_lp, with_cuts, cut_rounds)
        send_payload_soon(parent, payload)
        return cls(proc, parent)

    # ------------------------------------------------------------------ messages
    def poll(self) -> None:
        """Read what the helper sent (beats, bounds, readiness, an answer); notice its death."""
        if self.failed:
            return
        self.last_beat, failure = drain(self.conn, self.proc, self.started, self.last_beat,
                                        self._take)
        if failure:
            self._fail(f"the search helper {failure}")

    def _take(self, msg: dict) -> bool:
        if "bound" in msg:
            self.bounds.append((float(msg["bound"]), str(msg["source"])))
        elif "ready" in msg:
            self.ready = True
        elif "cuts_done" in msg:
            self.cuts_done = True
        elif "step" in msg:
            self._answer = msg["step"]
        return False  # read on: a bound may follow the answer

    def _fail(self, why: str) -> None:
        self.failed = True
        log.warning("%s; the search solves every step in this process", why)
        self.close()

    # ------------------------------------------------------------------ steps
    def available(self) -> bool:
        """Whether a step can be sent now (alive, done with its LP, not busy)."""
        self.poll()
        return not self.failed and self.ready and not self.pending

    def submit(self, group: list[int], current: np.ndarray, seconds: float,
               rules: tuple[str, ...] = ("hops",)) -> bool:
        """Send one step; False when the helper cannot take it (solve it here instead)."""
        if not self.available():
            return False
        try:
            self.conn.send(("step", list(group), current, float(seconds), tuple(rules)))
        except (OSError, ValueError):
            self._fail("the search helper exited")
            return False
        self.pending, self._answer = True, None
        return True

    def answer(self, deadline: float) -> tuple[np.ndarray | None, bool, str, int] | None:
        """The answer to the step sent, waiting for it; None when the helper died or hung (the
        caller then solves the step itself: the answer is the same)."""
        grace = 2.0
        while self._answer is None and not self.failed:
            if time.perf_counter() > deadline + grace:
                self._fail("the search helper did not answer by the time limit")
                break
            self.conn.poll(0.05)
            self.poll()
        self.pending = False
        got, self._answer = self._answer, None
        if got is None:
            return None
        cand, timed_out, rule, work = got
        return ((None if cand is None else np.asarray(cand, dtype=np.int64)), bool(timed_out),
                str(rule), int(work))

    def wait_until(self, finished, deadline: float) -> bool:
        """Read the helper's messages until ``finished()`` (True) or it died, hung or ``deadline``
        (a ``time.perf_counter()`` value) came (False)."""
        while not finished() and not self.failed and time.perf_counter() < deadline:
            self.conn.poll(0.05)
            self.poll()
        return finished()

    def wait_for_cuts(self, deadline: float) -> bool:
        """Wait until the helper has finished its cut rounds (True) or died, hung or reached
        ``deadline`` (False)."""
        return self.wait_until(lambda: self.cuts_done, deadline)

    def close(self) -> None:
        try:
            if self.proc.is_alive():
                self.conn.send(None)
        except (OSError, ValueError):
            pass
        self.proc.join(timeout=0.5)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join(timeout=2)


def _helper_main(conn) -> None:
    """The helper process: the root LP if asked, then one search step per request, and between
    requests rounds of separator cuts on the LP (zoneopt.bounds.lp_cuts) while they pay."""
    with worker_pipe(conn) as out:
        try:
            (district, scenario, eligible, solver, seconds, with_lp, with_cuts,
             cut_rounds) = conn.recv()
            deadline = time.perf_counter() + seconds
            rounds = None
            if with_lp:
                from ..bounds.lp import root_lp_bound

                lp = root_lp_bound(district, scenario, eligible, deadline=deadline)
                if lp.useful:
                    out.send({"bound": lp.value, "source": lp.source})
            if with_cuts:
                from ..bounds.lp_cuts import SeparatorRounds

                rounds = SeparatorRounds(district, scenario, eligible,
                                         **({} if cut_rounds is None else {"rounds": cut_rounds}),
                                         threads=scenario.solver.threads)
            out.send({"ready": True})
            from .search import improve_group
            from .state import objective_function

            objective = objective_function(district, scenario)
            sent = -math.inf
            while True:
                if rounds is not None and rounds.done:
                    out.send({"cuts_done": True})
                    rounds = None
                # No LP that would end past the deadline: a step sent meanwhile would wait for it
                # (2000 x 100: a late LP made a 60-s run end at 64 s).
                if rounds is not None and not conn.poll() and rounds.can_start(deadline):
                    value = rounds.work(conn.poll, deadline=deadline)
                    if value is not None and math.isfinite(value) and value > sent:
                        out.send({"bound": value, "source": "lp_cuts"})
                        sent = value
                    continue
                msg = conn.recv()
                if msg is None:
                    break
                _, group, current, step_s, rules = msg
                out.send({"step": improve_group(district, scenario, eligible, current, group,
                                                solver, time.perf_counter() + step_s, objective,
                                                rules)})
        except EOFError:
            pass  # the parent closed the pipe
        except Exception as exc:  # noqa: BLE001 - reported; the parent solves the steps itself
            report_error(out, exc)
