"""The scenario's rules, checked one by one: each broken rule is a sentence naming who and by how much."""

from __future__ import annotations

import math

import numpy as np

from .geometry import Geometry, zone_pieces

#: Feasibility tolerance, in students: solvers work in floating point.
STUDENT_TOL = 1e-6
#: Tolerance on distances (km) and shares.
VALUE_TOL = 1e-9
#: Units named in one sentence at most (the count is always exact).
MAX_NAMED = 10


def _names(ids, positions) -> str:
    shown = [str(ids[i]) for i in positions[:MAX_NAMED]]
    more = len(positions) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def capacity(geo: Geometry, pos: np.ndarray, constraints) -> list[str]:
    """Enrollment within ``min_utilization`` .. ``max_utilization`` x capacity."""
    out = []
    m = len(geo.school_ids)
    enr = np.bincount(pos, weights=geo.students, minlength=m)
    for j in range(m):
        hi = geo.capacity[j] * constraints.max_utilization
        lo = geo.capacity[j] * constraints.min_utilization
        if enr[j] > hi + STUDENT_TOL:
            out.append(
                f"school {geo.school_ids[j]}: enrollment {enr[j]:.0f} is "
                f"{enr[j] / geo.capacity[j]:.1%} of capacity {geo.capacity[j]:.0f}, above "
                f"{constraints.max_utilization:g} x capacity by {enr[j] - hi:.0f} student(s)"
            )
        if enr[j] < lo - STUDENT_TOL:
            out.append(
                f"school {geo.school_ids[j]}: enrollment {enr[j]:.0f} is "
                f"{enr[j] / geo.capacity[j]:.1%} of capacity {geo.capacity[j]:.0f}, below "
                f"{constraints.min_utilization:g} x capacity by {lo - enr[j]:.0f} student(s)"
            )
    return out


def distance(geo: Geometry, pos: np.ndarray, constraints) -> list[str]:
    """Pairs left out of the travel matrix, ``max_distance_km`` and ``max_extra_distance_km``."""
    out = []
    n = len(pos)
    chosen = geo.dist_km[np.arange(n), pos]
    nearest = geo.dist_km.min(axis=1)
    ids, uids = geo.school_ids, geo.unit_ids
    for i in np.flatnonzero(~np.isfinite(chosen)):
        out.append(f"unit {uids[i]}: school {ids[pos[i]]} is not in the travel matrix "
                   "(the pair is not allowed)")
    ok = np.isfinite(chosen)
    for i in np.flatnonzero(ok & (chosen > constraints.max_distance_km + VALUE_TOL)):
        out.append(
            f"unit {uids[i]}: {chosen[i]:.3f} km to school {ids[pos[i]]}, above max_distance_km "
            f"{constraints.max_distance_km:g} by {chosen[i] - constraints.max_distance_km:.3f} km"
        )
    extra = chosen - nearest
    for i in np.flatnonzero(ok & (extra > constraints.max_extra_distance_km + VALUE_TOL)):
        out.append(
            f"unit {uids[i]}: school {ids[pos[i]]} is {extra[i]:.3f} km farther than its nearest "
            f"school, above max_extra_distance_km {constraints.max_extra_distance_km:g}"
        )
    return out


def locks_and_homes(geo: Geometry, pos: np.ndarray) -> list[str]:
    """Locked units keep their school; a home unit goes to (one of) the school(s) it holds."""
    out = []
    ids, uids = geo.school_ids, geo.unit_ids
    for i in np.flatnonzero(geo.locked != -1):
        if geo.locked[i] != pos[i]:
            want = ids[geo.locked[i]] if geo.locked[i] >= 0 else "an unknown school"
            out.append(f"unit {uids[i]} is locked to {want} but assigned to {ids[pos[i]]}")
    for h in np.unique(geo.home_unit[geo.home_unit >= 0]):
        sharing = np.flatnonzero(geo.home_unit == h)
        if pos[h] not in sharing:
            names = " or ".join(str(ids[j]) for j in sharing)
            out.append(f"home unit {uids[h]} of school {names} is assigned to {ids[pos[h]]}, "
                       f"not to {names}")
    return out


def moved_share(geo: Geometry, pos: np.ndarray, constraints) -> list[str]:
    """Students moved from the status quo within ``max_moved_share``."""
    total = geo.students.sum()
    if (geo.status_quo < 0).any() or not total:
        return []
    moved = geo.students[pos != geo.status_quo].sum()
    cap = constraints.max_moved_share * total
    if moved > cap + STUDENT_TOL:
        return [f"{moved:.0f} students moved ({moved / total:.4f} of all), above max_moved_share "
                f"{constraints.max_moved_share:g} by {moved - cap:.0f} student(s)"]
    return []


def band(geo: Geometry, pos: np.ndarray, constraints) -> list[str]:
    """Each school's low-income share within the district's +/- ``low_income_band``."""
    if not math.isfinite(constraints.low_income_band):
        return []
    out = []
    m = len(geo.school_ids)
    total = geo.students.sum()
    p = geo.low_income.sum() / total if total else 0.0
    enr = np.bincount(pos, weights=geo.students, minlength=m)
    low = np.bincount(pos, weights=geo.low_income, minlength=m)
    for j in np.flatnonzero(enr > 0):
        share = low[j] / enr[j]
        off = abs(share - p)
        if off > constraints.low_income_band + VALUE_TOL:
            out.append(
                f"school {geo.school_ids[j]}: low-income share {share:.4f} is {off:.4f} from the "
                f"district's {p:.4f}, above low_income_band {constraints.low_income_band:g} by "
                f"{off - constraints.low_income_band:.4f}"
            )
    return out


def contiguity(geo: Geometry, pos: np.ndarray) -> tuple[bool, list[str]]:
    """Whether every zone is one piece holding its home unit, and a sentence per zone in pieces."""
    pieces = zone_pieces(geo, pos)
    out = []
    for j, stray in pieces.items():
        out.append(
            f"zone of school {geo.school_ids[j]} is not connected to its home unit "
            f"{geo.unit_ids[geo.home_unit[j]]}: {len(stray)} unit(s) cut off "
            f"({_names(geo.unit_ids, stray)})"
        )
    return not pieces, out
