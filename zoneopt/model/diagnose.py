"""Why a scenario cannot be met: checks that need no solver, in a planner's words and numbers.

Every check here is a *proof*: it only reports what no plan can satisfy (so a scenario that passes may
still be infeasible; the solver and :mod:`zoneopt.model.elastic` take it from there).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.sparse.csgraph import connected_components

from ..district import District
from ..scenario import Scenario
from ..years import years_active
from .years import diagnose_years


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
    by_year = years_active(scenario)  # then every plan year's capacity rules replace today's
    if seats < total and not by_year:
        out.append(
            f"total capacity is too small: {total} students but {seats:.0f} seats at "
            f"max_utilization {c.max_utilization:g} (short by {total - seats:.0f}); raise "
            f"max_utilization to at least {total / cap.sum():.3f} or add capacity"
        )
    if c.min_utilization > 0 and not by_year:
        need = float(np.ceil(cap * c.min_utilization - 1e-6).sum())
        if need > total:
            out.append(
                f"min_utilization {c.min_utilization:g} needs {need:.0f} students in all but the "
                f"district has {total}; lower min_utilization to at most {total / cap.sum():.3f}"
            )
    none = np.flatnonzero(~eligible.any(axis=1))
    if len(none):
        out.append(_no_school_message(district, scenario, none))
    for i in np.flatnonzero(district.locked >= 0):
        j = district.locked[i]
        if not eligible[i, j]:
            out.append(
                f"unit {district.unit_ids[i]} is locked to {district.school_ids[j]}, which "
                f"{_why_not_allowed(district, scenario, i, j)}; remove the lock or relax that limit"
            )
    if c.contiguity:
        reach = _reachable(district, eligible)
        out.extend(_unreachable_messages(district, eligible, reach))
        # From here on, a pair the contiguity rule cannot use is as good as not allowed.
        eligible = eligible & (reach | district.islands[:, None])
    # Units with a single allowed school are forced there: their load alone may exceed a school.
    single = np.flatnonzero(eligible.sum(axis=1) == 1)
    if by_year:
        out.extend(diagnose_years(district, scenario, eligible))
    if len(single) and not by_year:
        forced_school = np.argmax(eligible[single], axis=1)
        load = np.bincount(forced_school, weights=s[single], minlength=district.n_schools)
        n_locked = np.bincount(
            forced_school, weights=(district.locked[single] >= 0), minlength=district.n_schools
        )
        limit = np.floor(cap * c.max_utilization + 1e-6)
        for j in np.flatnonzero(load > limit):
            locks = f", {int(n_locked[j])} of them locked" if n_locked[j] else ""
            out.append(
                f"school {district.school_ids[j]} must take {load[j]:.0f} students from "
                f"{int((forced_school == j).sum())} units that can go nowhere else (locks, home unit, "
                f"distance limits{locks}) but has {limit[j]:.0f} seats at max_utilization "
                f"{c.max_utilization:g}; it needs {load[j] - limit[j]:.0f} more seats, or "
                f"unlock/relax those units"
            )
    if c.min_utilization > 0 and not by_year:
        reachable_load = (eligible * s[:, None]).sum(axis=0)
        need = np.ceil(cap * c.min_utilization - 1e-6)
        for j in np.flatnonzero(reachable_load < need):
            out.append(
                f"school {district.school_ids[j]} can get at most {reachable_load[j]:.0f} students "
                f"(all units allowed to attend it) but min_utilization {c.min_utilization:g} of "
                f"capacity {cap[j]:.0f} needs {need[j]:.0f}; lower min_utilization or relax the "
                "distance limits"
            )
    if c.max_moved_share < 1:
        sq = district.status_quo
        must_move = ~eligible[np.arange(district.n_units), sq]
        forced = int(s[must_move].sum())
        budget = c.max_moved_share * total
        if forced > budget + 1e-6:
            out.append(
                f"{forced} students must change school because today's school is not allowed for "
                f"them (distance limits, locks, zone contiguity), but max_moved_share "
                f"{c.max_moved_share:g} allows {budget:.0f}; raise max_moved_share to at least "
                f"{math.ceil(forced / total * 1e4) / 1e4:.4f}"
            )
    return out


def _why_not_allowed(district: District, scenario: Scenario, i: int, j: int) -> str:
    """The first rule that forbids unit i at school j, in words."""
    c = scenario.constraints
    d = float(district.dist_km[i, j])
    if not math.isfinite(d):
        return "the travel matrix gives no distance for that pair"
    if d > c.max_distance_km + 1e-9:
        return f"is {d:.2f} km away, beyond max_distance_km {c.max_distance_km:g}"
    extra = d - float(district.nearest_km[i])
    if extra > c.max_extra_distance_km + 1e-9:
        return (
            f"is {extra:.2f} km farther than its nearest school, beyond max_extra_distance_km "
            f"{c.max_extra_distance_km:g}"
        )
    homes = np.flatnonzero(district.home_unit == i)
    if len(homes) and district.home_owner[homes[0]] != j:
        owner = district.school_ids[district.home_owner[homes[0]]]
        return f"cannot take it: the unit contains school {owner}, so it always goes to {owner}"
    if c.contiguity and district.component[i] != district.component[district.home_unit[j]]:
        return "lies in a part of the map not connected to that school (contiguity is on)"
    return "the limits do not allow"


def _reachable(district: District, eligible: np.ndarray) -> np.ndarray:
    """``reach[i, j]``: unit i can join school j's zone through units that may also go to j.

    A connected zone links each unit to the school's home unit through units of the same zone, so a
    pair is usable only if such a path exists among units allowed to attend j. The home unit itself
    counts as a link even when another school holds it (zones sharing a home unit touch it).
    """
    n, m = district.n_units, district.n_schools
    reach = np.zeros((n, m), dtype=bool)
    adj = district.adjacency
    for j in range(m):
        root = int(district.home_unit[j])
        allowed = eligible[:, j].copy()
        allowed[root] = True
        idx = np.flatnonzero(allowed)
        sub = adj[idx][:, idx]
        _, labels = connected_components(sub, directed=False)
        pos = int(np.searchsorted(idx, root))
        reach[idx[labels == labels[pos]], j] = True
    return reach & eligible


def _unreachable_messages(district: District, eligible: np.ndarray, reach: np.ndarray) -> list[str]:
    out = []
    islands = district.islands
    usable = eligible & (reach | islands[:, None])
    lost = np.flatnonzero(eligible.any(axis=1) & ~usable.any(axis=1))
    locked_lost = [i for i in lost if district.locked[i] >= 0]
    for i in locked_lost[:10]:
        j = district.locked[i]
        out.append(
            f"unit {district.unit_ids[i]} is locked to {district.school_ids[j]}, but that zone "
            f"cannot reach it as one connected piece: every path from the school passes through units "
            f"that may not attend {district.school_ids[j]} (distance limits, locks or another "
            "school's home unit); remove the lock, relax the distance limits or turn contiguity off"
        )
    other = [i for i in lost if district.locked[i] < 0]
    if other:
        ids = district.unit_ids
        shown = ", ".join(
            f"{ids[i]} (allowed: {', '.join(district.school_ids[np.flatnonzero(eligible[i])])})"
            for i in other[:10]
        )
        more = f" and {len(other) - 10} more" if len(other) > 10 else ""
        out.append(
            f"{len(other)} unit(s) cannot be joined to any allowed school by a connected zone: "
            f"{shown}{more}; each path to those schools crosses units that may not attend them "
            "(distance limits, locks or home units); relax the distance limits or turn contiguity off"
        )
    return out


def _no_school_message(district: District, scenario: Scenario, units: np.ndarray) -> str:
    c = scenario.constraints
    ids = district.unit_ids
    shown = ", ".join(
        f"{ids[i]} (nearest school {district.nearest_km[i]:.2f} km)"
        if math.isfinite(district.nearest_km[i])
        else f"{ids[i]} (no school in the travel matrix)"
        for i in units[:10]
    )
    more = f" and {len(units) - 10} more" if len(units) > 10 else ""
    need = float(np.max(district.nearest_km[units])) if len(units) else 0.0
    hint = ""
    if math.isfinite(c.max_distance_km) and math.isfinite(need) and need > c.max_distance_km:
        hint = f"; raise max_distance_km to at least {need:.2f}"
    return f"{len(units)} unit(s) have no school allowed by the limits: {shown}{more}{hint}"
