"""The figures of summary.json, computed again, and the rules that tie status, bound and gap together."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .geometry import Geometry

#: Relative tolerance when comparing reported figures with the checker's own.
FIGURE_RTOL = 1e-7
#: Absolute tolerance for the same comparison (figures near 0).
FIGURE_ATOL = 1e-9

STATUSES = ("optimal", "feasible", "given", "infeasible", "no_solution")
STOPPED_BY = ("work_budget", "time_limit", "proof", "interrupted")


def _balance(geo: Geometry, pos: np.ndarray) -> tuple[float, float]:
    """Dissimilarity index and the largest |school share - district share| (schools with students)."""
    m = len(geo.school_ids)
    low = np.bincount(pos, weights=geo.low_income, minlength=m)
    enr = np.bincount(pos, weights=geo.students, minlength=m)
    other = enr - low
    big_l, big_n = low.sum(), other.sum()
    d = 0.0 if big_l == 0 or big_n == 0 else 0.5 * float(np.abs(low / big_l - other / big_n).sum())
    total = enr.sum()
    p = big_l / total if total else 0.0
    used = enr > 0
    gap = float(np.abs(low[used] / enr[used] - p).max()) if used.any() else 0.0
    return d, gap


def _mean_km(geo: Geometry, pos: np.ndarray) -> float:
    total = geo.students.sum()
    if not total:
        return 0.0
    return float((geo.students * geo.dist_km[np.arange(len(pos)), pos]).sum() / total)


def plan_figures(geo: Geometry, pos: np.ndarray, scenario, contiguous: bool) -> dict[str, Any]:
    """The checker's own value of every figure of summary.json it can re-derive."""
    m = len(geo.school_ids)
    total = geo.students.sum()
    sq = geo.status_quo
    sq_ok = bool((sq >= 0).all())
    d_after, gap_after = _balance(geo, pos)
    d_before, gap_before = _balance(geo, sq) if sq_ok else (None, None)
    moved = float(geo.students[pos != sq].sum())
    moved_share = moved / total if total else 0.0
    mean_after = _mean_km(geo, pos)
    enr = np.bincount(pos, weights=geo.students, minlength=m)
    o = scenario.objective
    objective = (d_after if o.balance == "dissimilarity" else 0.0)
    objective += o.distance_weight * mean_after + o.moved_weight * moved_share
    return {
        "dissimilarity_before": d_before,
        "dissimilarity_after": d_after,
        "max_share_gap_before": gap_before,
        "max_share_gap_after": gap_after,
        "students_moved": int(round(moved)),
        "moved_share": moved_share,
        "mean_distance_km_before": _mean_km(geo, sq) if sq_ok else None,
        "mean_distance_km_after": mean_after,
        "max_utilization_after": float(np.max(enr / geo.capacity)),
        "contiguous": contiguous,
        "islands": int(geo.islands.sum()),
        "n_units": len(geo.unit_ids),
        "n_schools": m,
        "district_share": float(geo.low_income.sum() / total) if total else 0.0,
        "distance_source": geo.distance_source,
        "objective": objective,
    }


def compare(summary: dict[str, Any], figures: dict[str, Any], scenario) -> list[str]:  # noqa: ARG001
    """Each reported figure that differs from the checker's, as a sentence."""
    problems = []
    for key, mine in figures.items():
        if key not in summary:
            problems.append(f"summary lacks '{key}' (checker finds {mine!r})")
            continue
        theirs = summary[key]
        if mine is None or theirs is None or isinstance(mine, str):
            if theirs != mine:
                problems.append(f"summary {key}={theirs!r}, checker finds {mine!r}")
        elif isinstance(mine, bool):
            if not isinstance(theirs, bool) or theirs != mine:
                problems.append(f"summary {key}={theirs!r}, checker finds {mine!r}")
        elif not isinstance(theirs, int | float) or not math.isclose(
                float(theirs), float(mine), rel_tol=FIGURE_RTOL, abs_tol=FIGURE_ATOL):
            problems.append(f"summary {key}={theirs!r}, checker finds {mine!r}")
    return problems


def status_rules(summary: dict[str, Any], scenario, rule_violations: list[str]) -> list[str]:
    """``status``, ``bound``, ``gap``, ``violations`` and ``stopped_by`` against CONTRACT.md.

    ``bound`` <= ``objective``; ``gap`` = (objective - bound) / objective (0 when both are 0);
    ``optimal`` only with that gap within ``mip_gap``; ``given`` carries exactly the rules broken;
    a searched plan breaks none.
    """
    out = []
    status = summary.get("status")
    if status not in STATUSES:
        out.append(f"summary status={status!r} is not one of {', '.join(STATUSES)}")
    objective, bound, gap = summary.get("objective"), summary.get("bound"), summary.get("gap")

    def number(v) -> bool:
        return isinstance(v, int | float) and not isinstance(v, bool)

    if status in ("optimal", "feasible", "given") and not all(map(number, (objective, bound, gap))):
        out.append(f"summary objective/bound/gap must be numbers, got {objective!r}/{bound!r}/{gap!r}")
    if number(objective) and number(bound):
        if not math.isfinite(bound) or bound > objective + 1e-9 * max(1.0, abs(objective)):
            out.append(f"summary bound {bound!r} is above the objective {objective!r} (or not finite)")
        want = 0.0 if objective <= 1e-12 else (objective - bound) / objective
        if number(gap) and not math.isclose(gap, want, rel_tol=1e-7, abs_tol=1e-9):
            out.append(f"summary gap={gap!r}, but (objective - bound) / objective = {want!r}")
        mip_gap = scenario.solver.mip_gap
        if status == "optimal" and want > mip_gap + 1e-9:
            out.append(f"summary status 'optimal' with gap {want:.6f} above mip_gap {mip_gap:g}")
    if status == "given":
        given = summary.get("violations")
        if not isinstance(given, list) or sorted(given) != sorted(rule_violations):
            out.append(f"summary violations={given!r} differ from the checker's {rule_violations!r}")
    elif "violations" in summary and summary["violations"]:
        out.append(f"summary of a searched plan lists violations {summary['violations']!r}")
    stopped = summary.get("stopped_by")
    if stopped is not None and stopped not in STOPPED_BY:
        out.append(f"summary stopped_by={stopped!r} is not one of {', '.join(STOPPED_BY)}")
    if status in ("optimal", "feasible") and stopped is None:
        out.append("summary of a searched plan lacks 'stopped_by'")
    return out
