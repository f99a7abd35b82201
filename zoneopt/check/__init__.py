"""The independent plan checker.

Given a :class:`~zoneopt.district.District`, a :class:`~zoneopt.scenario.Scenario` and an assignment, it
re-derives every constraint and every reported figure from scratch. It deliberately imports neither the
model, the search, nor :mod:`zoneopt.metrics`: the figures are recomputed here with plain pandas, so a
bug in the code that made a plan cannot also hide in the code that checks it.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..district import District
from ..scenario import Scenario
from ..settings import CHECK_TOLERANCE
from .ses import check_ses
from .years import check_years

#: Relative tolerance when comparing reported figures with the checker's own.
FIGURE_RTOL = 1e-7


@dataclass
class CheckReport:
    """What the checker found.

    Attributes
    ----------
    ok : bool
        True when no constraint is violated and (if a summary was given) every figure matches.
    violations : list of str
        One sentence per violated constraint or mismatched figure.
    figures : dict
        The checker's own figures (the keys of summary.json it can re-derive).
    """

    ok: bool
    violations: list[str] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return self.ok

    def raise_if_failed(self) -> None:
        """Raise ``AssertionError`` listing the violations, if any."""
        if not self.ok:
            raise AssertionError("plan check failed:\n- " + "\n- ".join(self.violations))


def check_plan(
    district: District,
    scenario: Scenario,
    assignment: pd.Series | dict | np.ndarray,
    *,
    summary: dict[str, Any] | None = None,
) -> CheckReport:
    """Check a plan against the scenario and, optionally, its reported figures.

    Parameters
    ----------
    district
        The district the plan is for.
    scenario
        The policy the plan must satisfy.
    assignment
        ``unit_id -> school_id`` (Series or dict) or school positions by unit position.
    summary
        The plan's reported summary (summary.json); each figure the checker re-derives is compared.

    Returns
    -------
    CheckReport
    """
    violations: list[str] = []
    n, m = district.n_units, district.n_schools
    units = pd.DataFrame(
        {
            "unit_id": district.unit_ids,
            "students": district.students.astype(float),
            "low": district.low_income.astype(float),
        }
    )
    # ------------------------------------------------------------------ the assignment itself
    if isinstance(assignment, np.ndarray):
        pos = np.asarray(assignment, dtype=np.int64)
        if pos.shape != (n,) or (pos < 0).any() or (pos >= m).any():
            return CheckReport(False, ["assignment array has the wrong shape or school positions"])
    else:
        mapping = {str(k): str(v) for k, v in dict(assignment).items()}
        extra = set(mapping) - set(units["unit_id"])
        if extra:
            violations.append(f"assignment names {len(extra)} unknown unit(s), e.g. {sorted(extra)[0]}")
        pos = np.full(n, -1, dtype=np.int64)
        sidx = {sid: j for j, sid in enumerate(district.school_ids)}
        for i, uid in enumerate(units["unit_id"]):
            sid = mapping.get(uid)
            if sid is None:
                violations.append(f"unit {uid} has no school")
            elif sid not in sidx:
                violations.append(f"unit {uid} is assigned to unknown school {sid}")
            else:
                pos[i] = sidx[sid]
        if (pos < 0).any():
            return CheckReport(False, violations)
    units["school"] = pos
    sq = np.asarray(district.status_quo)
    units["sq"] = sq
    c = scenario.constraints
    ids = district.school_ids
    uids = district.unit_ids

    # ------------------------------------------------------------------ capacity
    cap = district.schools["capacity"].to_numpy(dtype=float)
    enr = units.groupby("school")["students"].sum().reindex(range(m), fill_value=0.0).to_numpy()
    for j in range(m) if not scenario.years.plan else ():  # [years]: every year's rule instead
        if enr[j] > cap[j] * c.max_utilization + CHECK_TOLERANCE:
            violations.append(
                f"school {ids[j]}: enrollment {enr[j]:.0f} above {c.max_utilization:g} x capacity "
                f"{cap[j]:.0f}"
            )
        if enr[j] < cap[j] * c.min_utilization - CHECK_TOLERANCE:
            violations.append(
                f"school {ids[j]}: enrollment {enr[j]:.0f} below {c.min_utilization:g} x capacity "
                f"{cap[j]:.0f}"
            )
    # ------------------------------------------------------------------ distances, locks, homes
    d = district.dist_km
    chosen = d[np.arange(n), pos]
    nearest = d.min(axis=1)
    for i in np.flatnonzero(~np.isfinite(chosen)):
        violations.append(f"unit {uids[i]}: school {ids[pos[i]]} is not in the travel matrix")
    for i in np.flatnonzero(np.isfinite(chosen) & (chosen > c.max_distance_km + 1e-9)):
        violations.append(
            f"unit {uids[i]}: {chosen[i]:.3f} km to school {ids[pos[i]]}, above max_distance_km "
            f"{c.max_distance_km:g}"
        )
    extra_km = chosen - nearest
    for i in np.flatnonzero(np.isfinite(chosen) & (extra_km > c.max_extra_distance_km + 1e-9)):
        violations.append(
            f"unit {uids[i]}: {extra_km[i]:.3f} km farther than its nearest school, above "
            f"max_extra_distance_km {c.max_extra_distance_km:g}"
        )
    locked = district.units["locked_school"].to_numpy(dtype=object)
    for i in range(n):
        if locked[i] is not None and ids[pos[i]] != locked[i]:
            violations.append(f"unit {uids[i]} is locked to {locked[i]} but assigned to {ids[pos[i]]}")
    for j in range(m):
        h, owner = district.home_unit[j], district.home_owner[j]
        if pos[h] != owner:
            violations.append(
                f"home unit {uids[h]} of school {ids[j]} is assigned to {ids[pos[h]]}, "
                f"not to {ids[owner]}"
            )
    # ------------------------------------------------------------------ moved, band
    total = units["students"].sum()
    moved = float(units.loc[units["school"] != units["sq"], "students"].sum())
    moved_share = moved / total if total else 0.0
    if moved > c.max_moved_share * total + CHECK_TOLERANCE:
        violations.append(
            f"{moved:.0f} students moved ({moved_share:.4f} of all), above max_moved_share "
            f"{c.max_moved_share:g}"
        )
    low_j = units.groupby("school")["low"].sum().reindex(range(m), fill_value=0.0).to_numpy()
    share_all = units["low"].sum() / total if total else 0.0
    if math.isfinite(c.low_income_band):
        for j in range(m):
            if enr[j] > 0:
                gap = abs(low_j[j] / enr[j] - share_all)
                if gap > c.low_income_band + 1e-9:
                    violations.append(
                        f"school {ids[j]}: low-income share {low_j[j] / enr[j]:.4f} is "
                        f"{gap:.4f} from the district's {share_all:.4f}, above low_income_band "
                        f"{c.low_income_band:g}"
                    )
    # ------------------------------------------------------------------ contiguity
    pieces = _disconnected_units(district, pos)
    contiguous = not pieces
    if c.contiguity and pieces:
        for j, stray in pieces.items():
            violations.append(
                f"zone of school {ids[j]} is not connected to its home unit: "
                f"{len(stray)} unit(s) cut off, e.g. {uids[stray[0]]}"
            )
    # ------------------------------------------------------------------ figures
    other_j = enr - low_j
    big_l, big_n = low_j.sum(), other_j.sum()
    diss = 0.0 if big_l == 0 or big_n == 0 else 0.5 * float(np.abs(low_j / big_l - other_j / big_n).sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = np.where(enr > 0, low_j / np.where(enr > 0, enr, 1), np.nan)
    valid = shares[~np.isnan(shares)]
    gap_max = float(np.max(np.abs(valid - share_all))) if len(valid) else 0.0
    mean_km = float((units["students"] * chosen).sum() / total) if total else 0.0
    o = scenario.objective
    objective = (diss if o.balance == "dissimilarity" else 0.0) + o.distance_weight * mean_km + (
        o.moved_weight * moved_share
    )
    years_check = check_years(district, scenario, pos, summary)  # None without [years] plan
    if years_check is not None:
        violations.extend(years_check.violations)
        if o.balance == "dissimilarity":
            objective += years_check.balance - diss
    figures = {
        "dissimilarity_after": diss,
        "max_share_gap_after": gap_max,
        "students_moved": int(round(moved)),
        "moved_share": moved_share,
        "mean_distance_km_after": mean_km,
        "max_utilization_after": float(np.max(enr / cap)),
        "contiguous": contiguous,
        "islands": int(district.islands.sum()),
        "n_units": n,
        "n_schools": m,
        "objective": objective,
    }
    # ------------------------------------------------------------------ travel (check/travel.py)
    from .travel import check_travel

    travel_violations, travel_figures = check_travel(district, scenario, pos)
    violations.extend(travel_violations)
    if "walk_zone_units" in travel_figures:
        figures["walk_zone_units"] = travel_figures["walk_zone_units"]
    if summary is not None and summary.get("distance_source", travel_figures["distance_source"]) \
            != travel_figures["distance_source"]:
        violations.append(f"summary distance_source={summary['distance_source']}, checker finds "
                          f"{travel_figures['distance_source']}")
    from .feeders import check_second_level  # middle zones, nesting, neighbourhoods

    second = check_second_level(district, scenario, pos, summary)
    violations.extend(second.violations)
    figures.update(second.figures)
    objective += second.objective
    ses = check_ses(district, scenario, pos, summary)  # SES tiers and monitored groups
    violations.extend(ses.violations)
    figures.update(ses.figures)
    objective += ses.objective_term
    figures["objective"] = objective
    if summary is not None:
        violations.extend(_compare(summary, figures))
        bound = summary.get("bound")
        if isinstance(bound, int | float) and math.isfinite(bound) and bound > objective + 1e-7:
            violations.append(f"reported bound {bound} is above the plan's objective {objective}")
    return CheckReport(not violations, violations, figures)


def _disconnected_units(district: District, pos: np.ndarray) -> dict[int, list[int]]:
    """Per school, the non-island units of its zone not connected (inside the zone) to its home unit.

    A school whose home unit is held by another school (several schools in one unit) counts that unit
    as part of its zone for connectivity: its zone must touch it (CONTRACT.md).
    """
    adj = district.adjacency
    islands = district.islands
    out: dict[int, list[int]] = {}
    for j in range(district.n_schools):
        zone = set(np.flatnonzero((pos == j) & ~islands).tolist())
        if not zone:
            continue
        root = int(district.home_unit[j])
        seen = {root}
        queue = deque([root])
        while queue:
            u = queue.popleft()
            for v in adj.indices[adj.indptr[u] : adj.indptr[u + 1]]:
                v = int(v)
                if v in zone and v not in seen:
                    seen.add(v)
                    queue.append(v)
        stray = sorted(zone - seen)
        if stray:
            out[j] = stray
    return out


def _compare(summary: dict[str, Any], figures: dict[str, Any]) -> list[str]:
    problems = []
    for key, mine in figures.items():
        if key not in summary:
            problems.append(f"summary lacks '{key}'")
            continue
        theirs = summary[key]
        if isinstance(mine, bool):
            if bool(theirs) != mine:
                problems.append(f"summary {key}={theirs}, checker finds {mine}")
        elif not math.isclose(float(theirs), float(mine), rel_tol=FIGURE_RTOL, abs_tol=1e-9):
            problems.append(f"summary {key}={theirs}, checker finds {mine}")
    return problems
