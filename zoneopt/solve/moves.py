"""What one unit's move must respect and what it costs, shared by the moves of the local search,
the annealing and the repair: each school's seat limits and each unit's cost at each school."""

from __future__ import annotations

import numpy as np

from ..district import District
from ..model import RHS_EPS
from ..scenario import Scenario


def seat_limits(district: District, scenario: Scenario) -> tuple[np.ndarray, np.ndarray]:
    """Each school's most and fewest students: ``(hi, lo)``, whole seats.

    ``hi`` is capacity x ``max_utilization`` rounded down, ``lo`` capacity x ``min_utilization``
    rounded up (0 without a minimum); the slack absorbs floating point (students are integers).
    """
    c = scenario.constraints
    hi = np.floor(district.capacity * c.max_utilization + RHS_EPS)
    lo = (np.ceil(district.capacity * c.min_utilization - RHS_EPS) if c.min_utilization > 0
          else np.zeros(district.n_schools))
    return hi, lo


def unit_costs(district: District, scenario: Scenario) -> np.ndarray:
    """``(n_units, n_schools)``: the objective's distance and moved terms of each unit at each
    school (the weighted student-km and students moved, per student of the district)."""
    o = scenario.objective
    s = district.students.astype(float)
    total = float(s.sum())
    cost = np.zeros((district.n_units, district.n_schools))
    if total <= 0:
        return cost
    if o.distance_weight:
        dist = district.dist_km
        cost += o.distance_weight * s[:, None] * np.where(np.isfinite(dist), dist, 0) / total
    if o.moved_weight:
        cost += o.moved_weight * s[:, None] * (
            np.arange(district.n_schools)[None, :] != district.status_quo[:, None]) / total
    return cost
