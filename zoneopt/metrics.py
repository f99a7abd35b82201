r"""Figures of a plan as pure functions on arrays (CONTRACT.md's definitions).

All functions take ``assign``: the school position of each unit, and per-unit ``students`` and
``low_income`` counts.
"""

from __future__ import annotations

import numpy as np


def enrollment(assign: np.ndarray, students: np.ndarray, n_schools: int) -> np.ndarray:
    """Students assigned to each school."""
    return np.bincount(assign, weights=students, minlength=n_schools).astype(np.int64)


def dissimilarity(
    assign: np.ndarray, students: np.ndarray, low_income: np.ndarray, n_schools: int
) -> float:
    r"""Dissimilarity index of low-income versus other students.

    .. math:: D = \tfrac12 \sum_j \left| \frac{L_j}{L} - \frac{N_j}{N} \right|

    Returns 0 when the district has no low-income or no other students (nothing to balance).
    """
    low = np.bincount(assign, weights=low_income, minlength=n_schools)
    other = np.bincount(assign, weights=students - low_income, minlength=n_schools)
    big_l, big_n = low.sum(), other.sum()
    if big_l == 0 or big_n == 0:
        return 0.0
    return float(0.5 * np.abs(low / big_l - other / big_n).sum())


def dissimilarity_scale(students: np.ndarray, low_income: np.ndarray) -> float:
    r"""Factor :math:`S / (2 L N)` turning :math:`\sum_j |L_j - \bar p S_j|` into :math:`D`.

    Since :math:`L_j/L - N_j/N = S (L_j - \bar p S_j) / (L N)` with :math:`\bar p = L/S`.
    """
    s, big_l = float(students.sum()), float(low_income.sum())
    big_n = s - big_l
    if big_l == 0 or big_n == 0:
        return 0.0
    return s / (2.0 * big_l * big_n)


def low_income_shares(
    assign: np.ndarray, students: np.ndarray, low_income: np.ndarray, n_schools: int
) -> np.ndarray:
    """Each school's low-income share (NaN for a school with no students)."""
    low = np.bincount(assign, weights=low_income, minlength=n_schools)
    tot = np.bincount(assign, weights=students, minlength=n_schools)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(tot > 0, low / np.where(tot > 0, tot, 1), np.nan)


def district_share(students: np.ndarray, low_income: np.ndarray) -> float:
    """The district's low-income share (0 for a district with no students)."""
    s = float(students.sum())
    return float(low_income.sum()) / s if s else 0.0


def max_share_gap(
    assign: np.ndarray, students: np.ndarray, low_income: np.ndarray, n_schools: int
) -> float:
    """Largest distance, over schools with students, between a school's share and the district's."""
    shares = low_income_shares(assign, students, low_income, n_schools)
    shares = shares[~np.isnan(shares)]
    if len(shares) == 0:
        return 0.0
    return float(np.max(np.abs(shares - district_share(students, low_income))))


def unit_distances(assign: np.ndarray, dist_km: np.ndarray) -> np.ndarray:
    """Distance of each unit to its assigned school."""
    return dist_km[np.arange(len(assign)), assign]


def mean_distance_km(assign: np.ndarray, students: np.ndarray, dist_km: np.ndarray) -> float:
    """Student-weighted mean distance to the assigned school."""
    s = students.sum()
    if s == 0:
        return 0.0
    return float((students * unit_distances(assign, dist_km)).sum() / s)


def school_mean_distance_km(
    assign: np.ndarray, students: np.ndarray, dist_km: np.ndarray, n_schools: int
) -> np.ndarray:
    """Student-weighted mean distance per school (NaN for a school with no students)."""
    d = unit_distances(assign, dist_km) * students
    tot = np.bincount(assign, weights=students, minlength=n_schools)
    num = np.bincount(assign, weights=d, minlength=n_schools)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(tot > 0, num / np.where(tot > 0, tot, 1), np.nan)


def students_moved(assign: np.ndarray, status_quo: np.ndarray, students: np.ndarray) -> int:
    """Students in units whose school differs from the status quo."""
    return int(students[assign != status_quo].sum())


def objective_value(
    assign: np.ndarray,
    students: np.ndarray,
    low_income: np.ndarray,
    dist_km: np.ndarray,
    status_quo: np.ndarray,
    n_schools: int,
    *,
    balance: bool = True,
    distance_weight: float = 0.0,
    moved_weight: float = 0.0,
) -> float:
    """The contract's objective: D + distance_weight x mean km + moved_weight x moved share."""
    total = float(students.sum())
    value = dissimilarity(assign, students, low_income, n_schools) if balance else 0.0
    if distance_weight:
        value += distance_weight * mean_distance_km(assign, students, dist_km)
    if moved_weight and total:
        value += moved_weight * students_moved(assign, status_quo, students) / total
    return value


def disconnected_units(
    assign: np.ndarray, adjacency, home_unit: np.ndarray, islands: np.ndarray, n_schools: int
) -> dict[int, np.ndarray]:
    """Per school, the non-island units of its zone not connected (inside the zone) to its home unit.

    A school whose home unit is held by another school (several schools in one unit) counts that
    unit as part of its zone: its zone must touch it (CONTRACT.md).
    """
    from scipy.sparse.csgraph import connected_components

    out: dict[int, np.ndarray] = {}
    for j in range(n_schools):
        members = np.flatnonzero((assign == j) & ~islands)
        if not len(members):
            continue
        h = int(home_unit[j])
        nodes = np.union1d(members, [h])
        _, label = connected_components(adjacency[nodes][:, nodes], directed=False)
        stray = nodes[label != label[np.searchsorted(nodes, h)]]
        if len(stray):
            out[j] = stray
    return out
