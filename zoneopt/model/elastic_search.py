r"""The least stretch of the limits, found by rounding the LP and a local search (counted work).

The diagnosis's elastic re-solve (:func:`zoneopt.model.elastic.elastic_solve`) minimises the total
slack that the capacity, band, moved-share and tier rows need when zones may be scattered. Its LP
relaxation is nearly integral and solved in a tenth of a second; the MIP's trouble is finding a
good whole-unit answer: on ``synthetic_district(1000, 50, seed=0)`` with seats x0.93 (truncated) and
1.5 km, the LP proves 1,478 seats while HiGHS's MIP held 3,215 after 1 s, 2,165 after 4 s and
1,527 after 20 s, so the figures the planner read depended on the machine's speed.

This module starts from the LP's answer, gives each unit the school with its largest share (ties
to the first pair) and improves the whole-unit answer by local search: single moves; swaps of two
units between two schools; and chains, where a unit leaves a school whose rows need slack and a
unit of the school it joins moves on to a third. Every step tried is counted and the search stops
at a count (``settings.ELASTIC_SEARCH_STEPS``), so the answer depends on the inputs only. Same
district: 1,478 seats, the LP's bound, after 0.5 s. Where the search stops above the bound (800 x
40, seed 2: 161 against 63), a node-capped MIP warm-started from it follows (:func:`least_stretch`).

The search works on the elastic model's rows, whatever families they hold: a row with a slack
column may be broken at one per student; a row without one is hard, and each student of its
violation weighs a million students of slack, so the search only breaks it where its start did.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import scipy.sparse as sp

from .. import settings

if TYPE_CHECKING:
    from ..scenario import Scenario
    from . import Model

#: Slack below this (students) is solver noise, not a stretch.
SLACK_TOL = 1e-4

#: Weight of one student of a hard row's violation: far above any slack the search can trade.
_HARD = 1e6


def round_and_improve(
    rows: sp.csr_matrix,
    row_lower: np.ndarray,
    row_upper: np.ndarray,
    pair_unit: np.ndarray,
    pair_school: np.ndarray,
    share: np.ndarray,
    slack_rows: list[tuple[int, float]],
    n_assignment_rows: int,
    *,
    sweeps: int = 30,
    chains: bool = True,
    evaluations: int = 500_000,
) -> tuple[np.ndarray, float, bool] | None:
    """A whole-unit answer of the elastic model from its LP answer, improved by local search.

    Parameters
    ----------
    rows, row_lower, row_upper
        The model's pair columns only (``rows[:, :k]``) and the row limits. The first
        ``n_assignment_rows`` rows are the assignment rows (every unit exactly one school), which
        the search keeps by construction.
    pair_unit, pair_school
        Unit and school position of each pair column.
    share
        The LP's value of each pair column.
    slack_rows
        ``(row, coefficient)`` of every slack column: coefficient -1 lets the row exceed its upper
        limit, +1 lets it fall below its lower limit, at one per student.
    n_assignment_rows
        Number of leading assignment rows.
    sweeps
        Sweeps over all units at most.
    chains
        Also try chains: a unit leaves a school whose rows need slack, and a unit of the school it
        joins moves on to a third one (tried when moves and swaps gain nothing).
    evaluations
        Steps evaluated at most (the counted work, with ``sweeps``).

    Returns
    -------
    (numpy.ndarray, float, bool) or None
        Chosen pair column per unit, the total slack it needs, and whether every hard row holds;
        None when a unit has no pair.
    """
    n_pairs = len(pair_unit)
    n_units = int(pair_unit.max()) + 1 if n_pairs else 0
    order = np.lexsort((pair_school, pair_unit))
    starts = np.searchsorted(pair_unit[order], np.arange(n_units + 1))
    if np.any(np.diff(starts) == 0):
        return None
    search = _Search(rows, row_lower, row_upper, pair_unit, pair_school, share, slack_rows,
                     n_assignment_rows, [order[starts[i]:starts[i + 1]].tolist()
                                         for i in range(n_units)], evaluations)
    for _ in range(sweeps):
        improved = search.sweep(search.moves, costly_only=False)
        improved = search.sweep(search.swaps, costly_only=True) or improved
        if not improved and chains:
            improved = search.sweep(search.chains, costly_only=True)
        if not improved or search.spent():
            break
    total, hard_ok = search.totals()
    return np.asarray(search.choice, dtype=np.int64), total, hard_ok


Step = list[tuple[int, int]]


class _Search:
    """The state of :func:`round_and_improve`: each unit's pair, each row's activity, the units at
    each school, and the count of steps evaluated."""

    #: A step must gain more than this: float sums of student counts are exact far below it.
    GAIN = 1e-7

    def __init__(self, rows, row_lower, row_upper, pair_unit, pair_school, share, slack_rows,
                 n_assignment_rows, unit_pairs, evaluations):
        n_rows = rows.shape[0]
        self.n_assignment_rows = n_assignment_rows
        self.w_hi = [_HARD] * n_rows
        self.w_lo = [_HARD] * n_rows
        for r, coef in slack_rows:
            if coef < 0:
                self.w_hi[r] = 1.0
            else:
                self.w_lo[r] = 1.0
        for r in range(n_assignment_rows):  # kept by construction: every unit has one pair
            self.w_hi[r] = self.w_lo[r] = 0.0
        self.lo = row_lower.astype(float).tolist()
        self.hi = row_upper.astype(float).tolist()
        csc = rows.tocsc()
        self.col = [
            list(zip(csc.indices[csc.indptr[p]:csc.indptr[p + 1]].tolist(),
                     csc.data[csc.indptr[p]:csc.indptr[p + 1]].tolist(), strict=True))
            for p in range(len(pair_unit))
        ]
        self.unit = pair_unit.tolist()
        self.school = pair_school.tolist()
        self.unit_pairs = unit_pairs
        self.pair_of = {(u, j): p for p, (u, j) in enumerate(zip(self.unit, self.school,
                                                                 strict=True))}
        # Largest LP share first; ties go to the first pair in (unit, school) order, so the start
        # is the same on every machine.
        self.choice = [max(ps, key=lambda p: (share[p], -p)) for ps in unit_pairs]
        x = np.zeros(len(pair_unit))
        x[self.choice] = 1.0
        self.act = (csc @ x).tolist()
        self.school_units: dict[int, set[int]] = {j: set() for j in set(self.school)}
        for i, p in enumerate(self.choice):
            self.school_units[self.school[p]].add(i)
        self.evaluated = 0
        self.evaluations = evaluations

    def spent(self) -> bool:
        return self.evaluated >= self.evaluations

    def cost(self, r: int, a: float) -> float:
        if a > self.hi[r]:
            return (a - self.hi[r]) * self.w_hi[r]
        if a < self.lo[r]:
            return (self.lo[r] - a) * self.w_lo[r]
        return 0.0

    def delta(self, step: Step) -> tuple[float, dict[int, float]]:
        """The change of the total cost if ``step`` (pairs p -> q) were made, and of each row."""
        self.evaluated += 1
        change: dict[int, float] = {}
        for p, q in step:
            for r, v in self.col[p]:
                change[r] = change.get(r, 0.0) - v
            for r, v in self.col[q]:
                change[r] = change.get(r, 0.0) + v
        act = self.act
        d = 0.0
        for r, v in change.items():
            d += self.cost(r, act[r] + v) - self.cost(r, act[r])
        return d, change

    def sweep(self, steps_of, *, costly_only: bool) -> bool:
        """Each unit in turn (only those whose rows need slack, with ``costly_only``) makes the
        best step of ``steps_of`` that gains; whether any did."""
        improved = False
        for i in range(len(self.choice)):
            if self.spent():
                break
            p = self.choice[i]
            if costly_only and sum(self.cost(r, self.act[r]) for r, _ in self.col[p]) <= 0:
                continue
            best = None
            for step in steps_of(i, p):
                d, change = self.delta(step)
                if d < -self.GAIN and (best is None or d < best[0]):
                    best = (d, step, change)
            if best is not None:
                for q_from, q in best[1]:
                    self.school_units[self.school[q_from]].discard(self.unit[q_from])
                    self.school_units[self.school[q]].add(self.unit[q])
                    self.choice[self.unit[q]] = q
                for r, v in best[2].items():
                    self.act[r] += v
                improved = True
        return improved

    def moves(self, i: int, p: int):
        """Unit ``i`` to another school."""
        for q in self.unit_pairs[i]:
            if q != p:
                yield [(p, q)]

    def _joined(self, i: int, p: int):
        """(pair to school b, b, units at b) for every other school b that unit ``i`` may join."""
        for q in self.unit_pairs[i]:
            b = self.school[q]
            if b != self.school[p]:
                yield q, b, sorted(self.school_units[b])

    def swaps(self, i: int, p: int):
        """Unit ``i`` and a unit of the school it joins change places."""
        a = self.school[p]
        for q, _b, units in self._joined(i, p):
            for j in units:
                back = self.pair_of.get((j, a))
                if back is not None:
                    yield [(p, q), (self.choice[j], back)]

    def chains(self, i: int, p: int):
        """Unit ``i`` joins school b, and a unit of b moves on to a third school."""
        a = self.school[p]
        for q, b, units in self._joined(i, p):
            for j in units:
                pj = self.choice[j]
                for r in self.unit_pairs[j]:
                    if self.school[r] not in (a, b):
                        yield [(p, q), (pj, r)]

    def totals(self) -> tuple[float, bool]:
        """Total slack of the rows that may stretch, and whether every hard row holds."""
        total, hard_ok = 0.0, True
        for r in range(self.n_assignment_rows, len(self.act)):
            a = self.act[r]
            if (a > self.hi[r] + 1e-6 and self.w_hi[r] == _HARD) or (
                    a < self.lo[r] - 1e-6 and self.w_lo[r] == _HARD):
                hard_ok = False
            else:
                total += self.cost(r, a)
        return total, hard_ok


def slack_values(
    rows: sp.csr_matrix,
    row_lower: np.ndarray,
    row_upper: np.ndarray,
    x: np.ndarray,
    slack_rows: list[tuple[int, float]],
) -> np.ndarray:
    """The least value of every slack column for the pair values ``x``."""
    act = rows @ x
    out = np.zeros(len(slack_rows))
    for idx, (r, coef) in enumerate(slack_rows):
        out[idx] = max(0.0, act[r] - row_upper[r]) if coef < 0 else max(0.0, row_lower[r] - act[r])
    return out


def integral_rows(rows: sp.csr_matrix, row_lower: np.ndarray, row_upper: np.ndarray,
                  which: list[int]) -> bool:
    """Whether the rows ``which`` have whole coefficients and limits (then every whole-unit
    answer's slack in them is whole, and an LP bound can be rounded up)."""
    if not which:
        return True
    sub = rows[which]
    vals = np.concatenate([sub.data, row_lower[which], row_upper[which]])
    vals = vals[np.isfinite(vals)]
    return bool(np.all(np.abs(vals - np.round(vals)) < 1e-9))


def ceil_bound(value: float, whole: bool) -> float:
    """``value`` rounded up to a whole number when every answer's objective is whole."""
    return float(math.ceil(value - 1e-6)) if whole else value


def not_least_note(what: str, least: float, clock: bool) -> str:
    """The sentence a diagnosis adds when its figures stop above the proven least: ``what`` says
    how much they stretch ("they total 161")."""
    return (f"(the figures above may not be the least: {what}, and at least {least:.0f} is proven "
            f"necessary"
            + ("; the re-solve that could lower them stopped at its time limit: allow more time "
               "(--time-limit) to let it finish)" if clock else ")"))


class Stretch(NamedTuple):
    """What :func:`least_stretch` found."""

    #: Every column's value (pairs, then slacks).
    values: np.ndarray
    #: Their total slack.
    total: float
    #: A proven lower bound on the least total slack.
    least: float
    #: The MIP after the search was stopped by its safety clock (its answer was not used).
    clock: bool


def least_stretch(model: Model, n_units: int, time_limit: float,
                  scenario: Scenario) -> Stretch | None:
    """The least total slack of an elastic model: its answer, the slack it needs, and a bound.

    Parameters
    ----------
    model
        A MIP whose pair columns (``0..n_pairs-1``, the first ``n_units`` rows assigning each unit
        once) are followed by slack columns, each priced 1 and in one row only (its coefficient
        -1 lets the row exceed its upper limit, +1 fall below its lower one).
    n_units
        Units (the leading assignment rows).
    time_limit
        Seconds at most: a safety stop.
    scenario
        For ``solver.threads`` and ``solver.work_budget``.

    Returns
    -------
    Stretch or None
        None when the model has no answer (or none was found before the safety stop).

    Notes
    -----
    The LP relaxation gives the bound; the answer is its rounding improved by a counted local
    search (:mod:`zoneopt.model.elastic_search`), then, when that does not reach the bound, the MIP
    warm-started from it with ``settings.ELASTIC_NODES`` nodes. A MIP stopped by the clock is not
    used (its answer would depend on the machine), so the same inputs give the same figures
    unless that MIP would have finished on a faster machine (``Stretch.clock`` says so).
    """
    from ..solve.backends import solve

    t_end = time.perf_counter() + max(0.05, time_limit)
    k = model.n_pairs
    csc = model.rows.tocsc()
    slack_rows = [(int(csc.indices[csc.indptr[c]]), float(csc.data[csc.indptr[c]]))
                  for c in range(k, csc.shape[1])]
    threads = scenario.solver.threads
    lp = solve(model, "highs", time_limit=max(0.05, time_limit), mip_gap=1e-6, relax=True,
               threads=threads)
    if lp.values is None:
        return None
    pairs = model.rows[:, :k]
    whole = integral_rows(model.rows, model.row_lower, model.row_upper, [r for r, _ in slack_rows])
    least = ceil_bound(float(lp.objective), whole) if lp.status == "optimal" else 0.0
    best_vals, best, clock = None, math.inf, False
    found = round_and_improve(
        pairs, model.row_lower, model.row_upper, model.pair_unit, model.pair_school,
        lp.values[:k], slack_rows, n_units, sweeps=settings.ELASTIC_SEARCH_SWEEPS,
        evaluations=max(1, round(settings.ELASTIC_SEARCH_STEPS * scenario.solver.work_budget)))
    if found is not None and found[2]:
        x = np.zeros(k)
        x[found[0]] = 1.0
        best_vals = np.concatenate(
            [x, slack_values(pairs, model.row_lower, model.row_upper, x, slack_rows)])
        best = found[1]
    if best > least + SLACK_TOL:
        nodes = max(1, round(settings.ELASTIC_NODES * scenario.solver.work_budget))
        res = solve(model, "highs", time_limit=max(0.05, t_end - time.perf_counter()),
                    mip_gap=1e-6, threads=threads, start=best_vals, node_limit=nodes)
        clock = res.limit == "time"
        if not clock:
            if res.values is not None and res.objective < best - SLACK_TOL:
                best_vals, best = res.values, float(res.objective)
            if math.isfinite(res.bound):
                least = max(least, ceil_bound(float(res.bound), whole))
    if best_vals is None:
        return None
    return Stretch(best_vals, best, min(least, best), clock)
