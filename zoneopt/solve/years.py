"""Incremental multi-year figures for the local search: does a move fit every year, what does it gain.

The local search moves one unit at a time; with ``[years] plan`` a move must keep every school within
its limits in every plan year and listed series (grandfathered students stay where they are), and its
gain in balance is the change of the mean dissimilarity over the balance years. This object keeps the
per-school loads of all (year, series) pairs and updates them in O(years x series) per move.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..years import YearsData, years_active, years_data


def _columns(data: YearsData) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every (year, series) pair as one column, year-major: ``(n_units, Y*S)`` students who follow
    the plan, and ``(n_schools, Y*S)`` grandfathered students, most and fewest students allowed."""
    ny, ns, n = data.movable.shape
    hi, lo = data.limits()
    # Units by rows: one contiguous row per unit, so a move touches one row.
    return (np.ascontiguousarray(data.movable.reshape(ny * ns, n).T),
            data.fixed.reshape(ny * ns, data.n_schools).T,
            np.repeat(hi.T, ns, axis=1), np.repeat(lo.T, ns, axis=1))


class YearLoads:
    """Per-school enrollment of every plan year and series, kept in step with a plan.

    Parameters
    ----------
    data
        The plan years' arrays.
    assign
        The current plan (school position per unit).
    balance
        Whether the objective's balance term is the dissimilarity index.
    """

    def __init__(self, data: YearsData, assign: np.ndarray, *, balance: bool) -> None:
        m = data.n_schools
        self.w, fixed, hi, lo = _columns(data)
        self.enr = np.zeros((m, self.w.shape[1]))
        for j in range(m):
            self.enr[j] = self.w[assign == j].sum(axis=0)
        self.enr += fixed
        self.hi = hi + 1e-6
        self.lo = lo - 1e-6
        scale, a, g = data.balance_weights()
        self.balances = balance and bool(np.any(scale > 0))
        self.scale = scale
        self.a = np.ascontiguousarray(a.T)  # (n, B)
        self.dev = np.zeros((m, len(scale)))
        for j in range(m):
            self.dev[j] = self.a[assign == j].sum(axis=0)
        self.dev += g.T

    def fits(self, i: int, a: int, b: int) -> bool:
        """True when moving unit i from school a to school b keeps both within every year's limits."""
        w = self.w[i]
        return bool(np.all(self.enr[b] + w <= self.hi[b]) and np.all(self.enr[a] - w >= self.lo[a]))

    def gain(self, i: int, a: int, b: int) -> float:
        """Decrease of the balance term (mean D over the balance years) when unit i moves a -> b."""
        if not self.balances:
            return 0.0
        ai = self.a[i]
        da, db = self.dev[a], self.dev[b]
        return float(self.scale @ (np.abs(da) + np.abs(db) - np.abs(da - ai) - np.abs(db + ai)))

    def move(self, i: int, a: int, b: int) -> None:
        """Record that unit i moved from school a to school b."""
        self.enr[a] -= self.w[i]
        self.enr[b] += self.w[i]
        self.dev[a] -= self.a[i]
        self.dev[b] += self.a[i]


class RepairSeats(NamedTuple):
    """What the repair of a ``[years]`` plan counts (see :func:`repair_seats`)."""

    #: ``(n_units, Y*S)``: each unit's students who follow the plan, per plan year and series.
    loads: np.ndarray
    #: ``(n_schools, Y*S)``: each school's free seats (its limit less the grandfathered students it
    #: keeps), per plan year and series.
    free: np.ndarray

    def pooled(self) -> tuple[np.ndarray, np.ndarray]:
        """Per unit its most students and per school its fewest free seats over the years and
        series: zones that fit these fit every year (a sum of maxima is at least the maximum of
        the sums)."""
        return self.loads.max(axis=1), self.free.min(axis=1)


def repair_seats(district, scenario) -> RepairSeats | None:
    """Students per unit and free seats per school, in every plan year and series, for the repair
    of a ``[years]`` plan. None without a plan of years, or with a minimum enrolment (the repair
    then counts today's students: a minimum would need the opposite rounding of the pooled counts,
    so it is left to today's counts and the checker).
    """
    if not years_active(scenario) or scenario.constraints.min_utilization > 0:
        return None
    data = years_data(district, scenario)
    w, fixed, hi, _ = _columns(data)
    return RepairSeats(w.astype(float), (hi - fixed).astype(float))


def year_loads(district, scenario, assign: np.ndarray) -> YearLoads | None:
    """The local search's multi-year loads, or None when the scenario plans one year only."""
    if not years_active(scenario):
        return None
    return YearLoads(years_data(district, scenario), assign,
                     balance=scenario.objective.balance == "dissimilarity")


__all__ = ["RepairSeats", "YearLoads", "repair_seats", "year_loads"]
