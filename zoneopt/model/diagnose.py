"""Why a scenario cannot be met: checks that need no solver, in a planner's words and numbers."""

from __future__ import annotations

import math

import numpy as np

from ..district import District
from ..scenario import Scenario


def diagnose_before_solving(
    district: District, scenario: Scenario, eligible: np.ndarray
) -> list[str]:
    """Findings that prove the scenario infeasible before any solve (empty list when none).

    Parameters
    ----------
    district, scenario
        The problem.
    eligible
        Mask from :func:`zoneopt.model.eligible_pairs`.

    Returns
    -------
    list of str
        One plain-language finding per problem, with the numbers.
    """
    c = scenario.constraints
    out: list[str] = []
    s = district.students
    total = int(s.sum())
    cap = district.capacity.astype(float)
    seats = float(np.floor(cap * c.max_utilization + 1e-6).sum())
    if seats < total:
        out.append(
            f"total capacity is too small: {total} students but {seats:.0f} seats at "
            f"max_utilization {c.max_utilization:g} (short by {total - seats:.0f}); raise "
            f"max_utilization to at least {total / cap.sum():.3f} or add capacity"
        )
    if c.min_utilization > 0:
        need = float(np.ceil(cap * c.min_utilization - 1e-6).sum())
        if need > total:
            out.append(
                f"min_utilization {c.min_utilization:g} needs {need:.0f} students in all but the "
                f"district has {total}; lower min_utilization to at most {total / cap.sum():.3f}"
            )
    none = np.flatnonzero(~eligible.any(axis=1))
    if len(none):
        out.append(_no_school_message(district, scenario, none))
    # Units with a single allowed school are forced there: their load alone may exceed a school.
    single = np.flatnonzero(eligible.sum(axis=1) == 1)
    if len(single):
        forced_school = np.argmax(eligible[single], axis=1)
        load = np.bincount(forced_school, weights=s[single], minlength=district.n_schools)
        limit = np.floor(cap * c.max_utilization + 1e-6)
        for j in np.flatnonzero(load > limit):
            out.append(
                f"school {district.school_ids[j]} must take {load[j]:.0f} students from units that "
                f"can go nowhere else (locks, home unit, distance limits) but has {limit[j]:.0f} "
                f"seats; it needs {load[j] - limit[j]:.0f} more seats, or unlock/relax those units"
            )
    for i in np.flatnonzero(district.locked >= 0):
        j = district.locked[i]
        if not eligible[i, j] and eligible[i].any() is False:
            continue
        if not eligible[i, j]:
            out.append(
                f"unit {district.unit_ids[i]} is locked to {district.school_ids[j]}, which the "
                f"distance limits or its home-unit rule do not allow ({district.dist_km[i, j]:.2f} km)"
            )
    if c.max_moved_share < 1:
        sq = district.status_quo
        must_move = ~eligible[np.arange(district.n_units), sq]
        forced = int(s[must_move].sum())
        budget = c.max_moved_share * total
        if forced > budget + 1e-6:
            out.append(
                f"{forced} students must change school because today's school is not allowed for "
                f"them (distance limits, locks), but max_moved_share {c.max_moved_share:g} allows "
                f"{budget:.0f}; raise max_moved_share to at least {forced / total:.4f}"
            )
    return out


def _no_school_message(district: District, scenario: Scenario, units: np.ndarray) -> str:
    c = scenario.constraints
    ids = district.unit_ids
    shown = ", ".join(
        f"{ids[i]} (nearest school {district.nearest_km[i]:.2f} km)"
        if math.isfinite(district.nearest_km[i]) else f"{ids[i]} (no school in the travel matrix)"
        for i in units[:10]
    )
    more = f" and {len(units) - 10} more" if len(units) > 10 else ""
    need = float(np.max(district.nearest_km[units])) if len(units) else 0.0
    hint = ""
    if math.isfinite(c.max_distance_km) and math.isfinite(need) and need > c.max_distance_km:
        hint = f"; raise max_distance_km to at least {need:.2f}"
    return f"{len(units)} unit(s) have no school allowed by the limits: {shown}{more}{hint}"
