r"""The LP without contiguity rows, tightened by node-separator cuts: a bound for large districts.

Without contiguity the integer optimum sits at the LP bound (800 units x 40 schools: 0.0739 against
the LP's 0.0718), so what separates the LP from the plans (0.118) is contiguity. The exact
problem's contiguity rows are the node-separator inequalities
:math:`x_{aj} \le \sum_{k \in C} x_{kj}` (:mod:`zoneopt.model.root_cuts`): here they are separated
on the LP's fractional solution, round after round, on the LP *without* the neighbour rows. Those
rows make the LP about 70 times slower, which is why the exact phase's root cuts
(:func:`zoneopt.model.root_cuts.strengthen_root`) do not pay at this size. Each round drops the cuts
the last LP left slack (they stay valid; they just cost simplex time), so the LP stays as small as
the cuts that bind: without that, the 25th round's LP took 29 s on 800 x 40, with it 0.5 s.

Measured on ``synthetic_district(800, 40, seed=0)`` at 3 km extra distance, one core: 0.0718 (the
root LP) -> 0.0786 after 10 rounds (7.5 s) -> 0.0819 after 30 (30 s); at 2,000 x 100: 0.1395 ->
0.1449 after 7 rounds (about 16 s). Each LP value is a lower bound on the exact problem (the LP with some
of its valid rows), whatever round it comes from.

:func:`zoneopt.solve.optimize` runs the rounds on the step helper's idle time (the second core
solves search steps for 13 s of a 60-s run on 800 x 40): :class:`SeparatorRounds` can pause
between schools, so a step waits at most for one LP solve.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np
import scipy.sparse as sp

from ..district import District
from ..model import build_model
from ..model.root_cuts import fractional_separator_cuts
from ..scenario import Scenario
from . import BoundResult
from ._highs import add_rows, new_highs, pass_arrays, run_highs, slack_rows
from .lp import LP_SAFETY

#: LP rounds at most (each: solve the LP, drop the cuts it leaves slack, separate new cuts). On
#: 800 x 40 the stall rule below ends them at round 60 (0.0839, 89 s on one core).
ROUNDS = 60
#: The rounds stop after this many in a row that raised the best value by less than
#: MIN_RELATIVE_GAIN (relative): on 800 x 40 the 30th round still gains 0.13%.
STALL_ROUNDS = 5
MIN_RELATIVE_GAIN = 5e-4
#: A cut whose row activity is below -SLACK (the LP leaves it slack) and whose dual is zero is
#: dropped before the next separation.
SLACK = 1e-6
#: Schools separated between two checks for a pause (a chunk takes 0.05-0.2 s at 800-5,000 units).
CHUNKS = 12


class SeparatorRounds:
    """Rounds of the LP with separator cuts, resumable between chunks of schools.

    Parameters
    ----------
    district, scenario, eligible
        The problem and its eligible pairs (:func:`zoneopt.model.eligible_pairs`).
    rounds
        LP rounds at most (counted work: the same input gives the same sequence of values).
    threads
        HiGHS threads.

    Attributes
    ----------
    best : float
        The best LP value so far (``-inf`` before the first), already lowered by HiGHS's tolerance.
    rounds_done, cuts : int
        LPs solved to optimality, cuts separated in all.
    done : bool
        No more work: the rounds are spent or stalled, no cut was violated, an LP did not solve,
        or the scenario has no contiguity (then the first LP is the root LP and nothing follows).
    """

    def __init__(self, district: District, scenario: Scenario, eligible: np.ndarray, *,
                 rounds: int = ROUNDS, threads: int = 0) -> None:
        self.district = district
        self.model = build_model(district, scenario, eligible, contiguity="none")
        self.base_rows = self.model.rows.shape[0]
        self.h = new_highs(threads=threads)
        m = self.model
        pass_arrays(self.h, m.cost, m.lower, m.upper, m.rows, m.row_lower, m.row_upper,
                    offset=m.objective_offset)
        self.contiguity = bool(scenario.constraints.contiguity)
        schools = np.unique(m.pair_school)
        self.chunks = [c for c in np.array_split(schools, min(CHUNKS, max(1, len(schools))))
                       if len(c)]
        self.rounds = int(rounds)
        self.best, self.rounds_done, self.cuts, self.stall = -math.inf, 0, 0, 0
        self.done = m.n_pairs == 0
        self._values: np.ndarray | None = None  # the last LP's solution, while separating
        self._next = 0  # the next chunk of schools to separate
        self._pending: list[sp.csr_matrix] = []
        self._last_lp_s = 0.0  # seconds the last LP took (0 before the first)

    def can_start(self, deadline: float) -> bool:
        """Whether there is work and the next call of :meth:`work` should end by ``deadline``
        (a ``time.perf_counter()`` value): an LP cannot pause, so one is started only with twice
        the last LP's time left."""
        if self.done:
            return False
        need = 2 * self._last_lp_s if self._values is None else 0.0
        return time.perf_counter() + need < deadline

    def work(self, should_pause: Callable[[], bool] | None = None, *,
             deadline: float | None = None) -> float | None:
        """Work until an LP is solved or ``should_pause()`` says stop (polled between chunks).

        ``deadline`` (a ``time.perf_counter()`` value) is HiGHS's time limit for an LP: one that
        it ends is solved again by the next call (the rounds' values stay those of solved LPs).

        Returns
        -------
        float or None
            The LP value when this call solved one (a lower bound on the exact problem), else None.
        """
        import highspy

        if self.done:
            return None
        if self._values is None:
            t0 = time.perf_counter()
            # HiGHS's time limit counts the instance's run time over all its runs.
            self.h.setOptionValue("time_limit", math.inf if deadline is None else float(
                self.h.getRunTime() + max(0.01, deadline - t0)))
            run_highs(self.h)
            self._last_lp_s = time.perf_counter() - t0
            status = self.h.getModelStatus()
            if status == highspy.HighsModelStatus.kTimeLimit:
                return None
            if status != highspy.HighsModelStatus.kOptimal:
                self.done = True
                if status == highspy.HighsModelStatus.kInfeasible:
                    self.best = math.inf  # no plan at all: the bound of an infeasible problem
                    return math.inf
                return None
            value = float(self.h.getInfo().objective_function_value)
            value = max(value - LP_SAFETY * max(1.0, abs(value)), 0.0)
            gain = value - self.best if math.isfinite(self.best) else math.inf
            self.best = max(self.best, value)
            self.rounds_done += 1
            self.stall = self.stall + 1 if gain < MIN_RELATIVE_GAIN * max(value, 1e-9) else 0
            if (not self.contiguity or self.rounds_done >= self.rounds
                    or self.stall >= STALL_ROUNDS):
                self.done = True
                return value
            self._drop_slack_cuts()
            self._values = np.asarray(self.h.getSolution().col_value, dtype=float)
            self._next, self._pending = 0, []
            return value
        while self._next < len(self.chunks):
            if should_pause is not None and should_pause():
                return None
            rows, _, _ = fractional_separator_cuts(self.district, self.model, self._values,
                                                   schools=self.chunks[self._next])
            self._pending.append(rows)
            self._next += 1
        rows = sp.vstack(self._pending, format="csr")
        self._values, self._pending = None, []
        if rows.shape[0] == 0:
            self.done = True  # nothing violated: the LP value stands
            return None
        add_rows(self.h, rows, np.full(rows.shape[0], -np.inf), np.zeros(rows.shape[0]))
        self.cuts += rows.shape[0]
        return None

    def _drop_slack_cuts(self) -> None:
        n_rows = self.h.getNumRow()
        if n_rows <= self.base_rows:
            return
        drop = slack_rows(self.h, self.base_rows, 0.0, SLACK)  # every cut is "<= 0"
        if len(drop):
            self.h.deleteRows(len(drop), drop.astype(np.int32))


def lp_cuts_bound(
    district: District,
    scenario: Scenario,
    eligible: np.ndarray,
    work_limit: int = ROUNDS,
    *,
    deadline: float | None = None,
) -> BoundResult:
    """The best LP value of ``work_limit`` rounds of separator cuts on the LP without contiguity.

    Parameters
    ----------
    district, scenario, eligible
        The problem and its eligible pairs.
    work_limit
        LP rounds at most (the first is the root LP itself).
    deadline
        ``time.perf_counter()`` value at which to stop (the bound so far stays valid).

    Returns
    -------
    BoundResult
        Source ``"lp_cuts"``; ``detail``: ``rounds``, ``cuts``, ``seconds``, ``finished`` (False
        when the deadline stopped the rounds).
    """
    t0 = time.perf_counter()
    rounds = SeparatorRounds(district, scenario, eligible, rounds=work_limit,
                             threads=scenario.solver.threads)

    def late() -> bool:
        return deadline is not None and time.perf_counter() >= deadline

    while not rounds.done and not late():
        rounds.work(late, deadline=deadline)
    return BoundResult(rounds.best, "lp_cuts", {"rounds": rounds.rounds_done, "cuts": rounds.cuts,
                                                "seconds": time.perf_counter() - t0,
                                                "finished": rounds.done})


__all__ = ["SeparatorRounds", "lp_cuts_bound"]
