"""Incremental tier arithmetic for the local search and the seeds of the neighbourhood search.

:class:`TierMoves` keeps each school's deviation :math:`S_{jk} - P_k S_j` per SES tier and its tier
counts, so moving one unit changes :math:`D_T` and the tier band by a few array operations instead
of a full recount. Only used with ``balance = "tiers"`` or a finite ``tier_band``.
"""

from __future__ import annotations

import math

import numpy as np

from ..tiers import tier_counts, uses_tiers


class TierMoves:
    """Tier deviations and counts of a plan, updated move by move.

    Parameters
    ----------
    district, scenario
        The problem (``ses_tier`` required).
    assign
        The plan to start from.
    """

    def __init__(self, district, scenario, assign: np.ndarray) -> None:
        counts = tier_counts(district).astype(float)
        m = district.n_schools
        self.counts = counts
        self.s = district.students.astype(float)
        total = self.s.sum()
        self.p = counts.sum(axis=0) / total if total else np.zeros(counts.shape[1])
        index = float((self.p * (1 - self.p)).sum())
        # Every tier's column, not the model's two-group reduction: D_T = sum |dev| / (2 S I).
        self.scale = 1.0 / (2.0 * total * index) if total and index > 0 else 0.0
        self.weighted = scenario.objective.balance == "tiers" and self.scale > 0
        self.a = counts - self.p[None, :] * self.s[:, None]
        self.dev = np.zeros((m, counts.shape[1]))
        np.add.at(self.dev, assign, self.a)
        self.cnt = np.zeros((m, counts.shape[1]))
        np.add.at(self.cnt, assign, counts)
        self.enr = np.bincount(assign, weights=self.s, minlength=m)
        self.band = scenario.constraints.tier_band

    def gain(self, i: int, a: int, b: int) -> float:
        """Decrease of the D_T term when unit ``i`` moves from school ``a`` to ``b``."""
        if not self.weighted:
            return 0.0
        ai = self.a[i]
        before = np.abs(self.dev[a]).sum() + np.abs(self.dev[b]).sum()
        after = np.abs(self.dev[a] - ai).sum() + np.abs(self.dev[b] + ai).sum()
        return self.scale * float(before - after)

    def band_ok(self, i: int, a: int, b: int) -> bool:
        """Both schools keep every tier share within the band after the move."""
        if not math.isfinite(self.band):
            return True
        for j, sign in ((a, -1.0), (b, 1.0)):
            enr = self.enr[j] + sign * self.s[i]
            if enr <= 0:
                continue
            shares = (self.cnt[j] + sign * self.counts[i]) / enr
            if (np.abs(shares - self.p) > self.band + 1e-9).any():
                return False
        return True

    def move(self, i: int, a: int, b: int) -> None:
        """Record that unit ``i`` moved from ``a`` to ``b``."""
        self.dev[a] -= self.a[i]
        self.dev[b] += self.a[i]
        self.cnt[a] -= self.counts[i]
        self.cnt[b] += self.counts[i]
        self.enr[a] -= self.s[i]
        self.enr[b] += self.s[i]


def tier_moves(district, scenario, assign: np.ndarray) -> TierMoves | None:
    """A :class:`TierMoves` when the scenario uses tiers, else None."""
    return TierMoves(district, scenario, assign) if uses_tiers(scenario) else None


def tier_deviations(district, assign: np.ndarray) -> np.ndarray:
    """``(n_schools, K)`` deviations S_jk - P_k S_j of a plan."""
    counts = tier_counts(district).astype(float)
    s = district.students.astype(float)
    total = s.sum()
    p = counts.sum(axis=0) / total if total else np.zeros(counts.shape[1])
    dev = np.zeros((district.n_schools, counts.shape[1]))
    np.add.at(dev, assign, counts - p[None, :] * s[:, None])
    return dev


def seed_deviations(district, assign: np.ndarray, seed: int) -> np.ndarray:
    """Per school, the deviation in the tier where school ``seed`` is most out of balance.

    The neighbourhood search chains zones of opposite sign in one signed quantity; for tiers that
    quantity is the seed's worst tier (students of it must shift along the chain).
    """
    dev = tier_deviations(district, assign)
    return dev[:, int(np.argmax(np.abs(dev[seed])))]


def tier_imbalance(district, assign: np.ndarray) -> np.ndarray:
    """Per school, sum over tiers of |S_jk - P_k S_j| (the school's part of D_T, unscaled)."""
    return np.abs(tier_deviations(district, assign)).sum(axis=1)
