r"""Balance of several student groups at once: one family of rows for the low-income share and tiers.

For groups :math:`g` with counts :math:`c_{ig}` per unit, district shares :math:`P_g` and
:math:`a_{ig} = c_{ig} - P_g s_i`, a school's deviation in group :math:`g` is
:math:`\sum_i a_{ig} x_{ij} = S_{jg} - P_g S_j`. The objective
:math:`c \sum_j \sum_g t_{jg}` with :math:`t_{jg} \ge \pm \sum_i a_{ig} x_{ij}` is, at the optimum,
exactly :math:`c \sum_{j,g} |S_{jg} - P_g S_j|`: with :math:`c = 1/(2SI)` the multi-group
dissimilarity :math:`D_T` of CONTRACT.md (no relaxation: every bound of this model holds for the
exact problem).

Two groups (low-income :math:`L` and others :math:`N`) have opposite deviations, so one group's
columns carry them both: :math:`c = 2/(2SI) = S/(2LN)` on :math:`|L_j - \bar p S_j|`, the
dissimilarity index :math:`D`. :func:`reduce_two_groups` makes that step, so the binary balance and
two SES tiers build the same model.

Bands: a school's share of group :math:`g` within :math:`P_g \pm b` is linear in the counts,
:math:`\sum_i (c_{ig} - (P_g \pm b) s_i) x_{ij} \lessgtr 0` (rows only for schools with students).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..tiers import tier_counts


@dataclass(frozen=True)
class GroupBalance:
    """The weights :math:`a_{ig}` (``(n_units, G)``) and the objective coefficient of the family."""

    weights: np.ndarray
    scale: float

    @property
    def n_groups(self) -> int:
        """Number of groups with balance columns."""
        return int(self.weights.shape[1])


def multigroup(counts: np.ndarray) -> GroupBalance:
    """The family for groups with these counts per unit (``(n_units, G)``, rows sum to students)."""
    c = np.asarray(counts, dtype=float)
    s = c.sum(axis=1)
    total = s.sum()
    if total <= 0:
        return GroupBalance(np.zeros((len(c), 0)), 0.0)
    p = c.sum(axis=0) / total
    index = float((p * (1 - p)).sum())
    if index <= 0:
        return GroupBalance(np.zeros((len(c), 0)), 0.0)
    present = p > 0  # a group nobody belongs to deviates nowhere
    weights = (c - p[None, :] * s[:, None])[:, present]
    return reduce_two_groups(GroupBalance(weights, 1.0 / (2.0 * total * index)))


def reduce_two_groups(balance: GroupBalance) -> GroupBalance:
    """Two groups deviate by opposite amounts: keep the first, with twice the coefficient."""
    if balance.n_groups == 2:
        return GroupBalance(balance.weights[:, :1].copy(), 2.0 * balance.scale)
    return balance


def binary_counts(students: np.ndarray, low_income: np.ndarray) -> np.ndarray:
    """Low-income and other students per unit, as two groups."""
    s, low = np.asarray(students, dtype=float), np.asarray(low_income, dtype=float)
    return np.column_stack([low, s - low])


def scenario_balance(district, scenario) -> GroupBalance | None:
    """The balance family of the scenario's objective, or None (``balance = "none"``)."""
    balance = scenario.objective.balance
    if balance == "dissimilarity":
        return multigroup(binary_counts(district.students, district.low_income))
    if balance == "tiers":
        return multigroup(tier_counts(district))
    return None


def balance_rows(rows, weights: np.ndarray, pu, ps, schools: np.ndarray, first_col: int) -> None:
    r"""Rows :math:`t_{jg} \ge \pm \sum_i a_{ig} x_{ij}`; column ``first_col + idx * G + g``."""
    n_groups = weights.shape[1]
    for idx, j in enumerate(schools):
        cols = np.flatnonzero(ps == j)
        for g in range(n_groups):
            a = weights[pu[cols], g]
            tcol = np.array([first_col + idx * n_groups + g])
            allc = np.concatenate([cols, tcol])
            rows.add(allc, np.concatenate([-a, [1.0]]), 0.0, np.inf)
            rows.add(allc, np.concatenate([a, [1.0]]), 0.0, np.inf)


def band_rows(rows, counts: np.ndarray, students: np.ndarray, band: float, pu, ps, schools,
              eps: float) -> None:
    """Each school's share of every group within the district's share +/- ``band``."""
    if not math.isfinite(band):
        return
    c = np.asarray(counts, dtype=float)
    s = np.asarray(students, dtype=float)
    total = s.sum()
    p = c.sum(axis=0) / total if total else np.zeros(c.shape[1])
    for j in schools:
        cols = np.flatnonzero(ps == j)
        i = pu[cols]
        for g in range(c.shape[1]):
            rows.add(cols, c[i, g] - (p[g] + band) * s[i], -np.inf, eps)
            rows.add(cols, c[i, g] - (p[g] - band) * s[i], -eps, np.inf)
