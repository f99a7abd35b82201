"""The checker's own multi-year arithmetic: every plan year's enrollment, utilization and share.

Independent of :mod:`zoneopt.years` on purpose (it re-reads the projections CSV with its own code and
follows each row to its school: the plan's, or the status quo's for a grandfathered cohort), so a
mistake in the code that builds the plan cannot hide here too. It applies CONTRACT.md's definition of
enrollment in year y and series s row by row, and the capacity of a year from the schools' raw
``capacity`` / ``capacity_YYYY`` columns (the latest filled-in ``capacity_YYYY`` with YYYY <= y).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..settings import CHECK_TOLERANCE

FIGURE_RTOL = 1e-7


@dataclass
class YearsCheck:
    """What the multi-year check found.

    Attributes
    ----------
    violations : list of str
        Broken capacity rules ("in 2029, high series, school S4 has 412 students, above ...") and
        reported figures that do not match.
    rows : pandas.DataFrame
        The checker's own ``school_id, year, series, enrollment, capacity, utilization,
        low_income_share``.
    balance : float
        The balance term of the objective (mean D of the balance years, first series).
    figures : dict
        Per plan year: ``max_utilization`` and ``dissimilarity`` (first series).
    """

    violations: list[str] = field(default_factory=list)
    rows: pd.DataFrame | None = None
    balance: float = 0.0
    figures: dict[str, Any] = field(default_factory=dict)


def _projection_rows(path: str) -> pd.DataFrame:
    table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    table.columns = [c.strip() for c in table.columns]
    out = pd.DataFrame({
        "unit_id": table["unit_id"].str.strip(),
        "year": table["year"].astype(float).astype(int),
        "students": table["students"].astype(float),
        "low": table["low_income"].astype(float),
    })
    out["series"] = table["series"].str.strip() if "series" in table.columns else "mid"
    out["grade"] = table["grade"].astype(float).astype(int) if "grade" in table.columns else -1
    return out


def _seats(schools: pd.DataFrame, year: int) -> pd.Series:
    """Seats of every school in ``year``: capacity, replaced by capacity_YYYY from YYYY on."""
    seats = schools["capacity"].astype(float).copy()
    changes = sorted((int(c[9:]), c) for c in schools.columns
                     if isinstance(c, str) and re.fullmatch(r"capacity_\d{4}", c))
    for yr, col in changes:
        if yr > year:
            break
        vals = pd.to_numeric(schools[col].astype(str).str.strip(), errors="coerce")
        seats = seats.where(vals.isna(), vals)
    seats.index = schools["school_id"].to_numpy()
    return seats


def _rows_for(district, scenario, school_of_unit: np.ndarray, proj: pd.DataFrame) -> pd.DataFrame:
    """Enrollment, low-income and seats per school, plan year and series for one plan."""
    y, t = scenario.years, scenario.transition
    ids = list(district.school_ids)
    sel = proj[proj["year"].isin(list(y.plan)) & proj["series"].isin(list(y.series))]
    if (sel["grade"] >= 0).any():
        sel = sel[sel["grade"] <= t.top_grade]
    uid_school = dict(zip(map(str, district.unit_ids), school_of_unit, strict=True))
    uid_today = dict(zip(map(str, district.unit_ids), _own_status_quo(district), strict=True))
    kept_grades = set(t.grandfather_grades)
    schools = []
    for uid, year, grade in zip(sel["unit_id"], sel["year"], sel["grade"], strict=True):
        cohort_start_grade = grade - (year - t.start_year)
        stays = bool(kept_grades) and grade >= 0 and cohort_start_grade in kept_grades
        schools.append(ids[uid_today[uid]] if stays else ids[uid_school[uid]])
    sel = sel.assign(school_id=schools)
    sums = sel.groupby(["year", "series", "school_id"])[["students", "low"]].sum()
    full = pd.MultiIndex.from_product([sorted(y.plan), list(y.series), ids],
                                      names=["year", "series", "school_id"])
    out = sums.reindex(full, fill_value=0.0).reset_index().rename(
        columns={"students": "enrollment"})
    seats = {year: _seats(district.schools, year) for year in sorted(y.plan)}
    out["capacity"] = [float(seats[yr][sid]) for yr, sid in zip(out["year"], out["school_id"],
                                                               strict=True)]
    e, cap, low = out["enrollment"].to_numpy(float), out["capacity"].to_numpy(float), \
        out["low"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["utilization"] = np.where(cap > 0, e / np.where(cap > 0, cap, 1),
                                      np.where(e > 0, math.inf, 0.0))
        out["low_income_share"] = np.where(e > 0, low / np.where(e > 0, e, 1), math.nan)
    out["enrollment"] = e
    out["year"] = out["year"].astype(int)
    return out[["school_id", "year", "series", "enrollment", "low", "capacity", "utilization",
                "low_income_share"]]


def _dissimilarity(group: pd.DataFrame) -> float:
    low = group["low"].to_numpy()
    other = group["enrollment"].to_numpy() - low
    if low.sum() == 0 or other.sum() == 0:
        return 0.0
    return 0.5 * float(np.abs(low / low.sum() - other / other.sum()).sum())


def check_years(district, scenario, positions: np.ndarray,
                summary: dict[str, Any] | None = None) -> YearsCheck | None:
    """Re-derive and check every plan year and series of a plan (None without ``[years] plan``).

    Parameters
    ----------
    district, scenario
        The problem.
    positions
        School position of each unit.
    summary
        The plan's summary.json; its ``years`` figures are compared with the checker's.

    Returns
    -------
    YearsCheck or None
    """
    y, c = scenario.years, scenario.constraints
    if not y.plan:
        return None
    proj = _projection_rows(y.projections)
    rows = _rows_for(district, scenario, np.asarray(positions), proj)
    before = _rows_for(district, scenario, np.asarray(_own_status_quo(district)), proj)
    report = YearsCheck(rows=rows.drop(columns="low"))
    for r in rows.itertuples(index=False):
        if r.enrollment > r.capacity * c.max_utilization + CHECK_TOLERANCE:
            report.violations.append(
                f"in {r.year}, {r.series} series, school {r.school_id} has {r.enrollment:.0f} "
                f"students, above {c.max_utilization:g} x its {r.capacity:.0f} seats (by "
                f"{r.enrollment - r.capacity * c.max_utilization:.0f})")
        if r.enrollment < r.capacity * c.min_utilization - CHECK_TOLERANCE:
            report.violations.append(
                f"in {r.year}, {r.series} series, school {r.school_id} has {r.enrollment:.0f} "
                f"students, below {c.min_utilization:g} x its {r.capacity:.0f} seats")
    first = y.series[0]
    d_by_year = {yr: _dissimilarity(g) for yr, g in rows[rows["series"] == first].groupby("year")}
    d_before = {yr: _dissimilarity(g) for yr, g in before[before["series"] == first].groupby("year")}
    balance_years = sorted(y.plan) if y.balance_year == "mean" else [int(y.balance_year)]
    report.balance = float(np.mean([d_by_year[yr] for yr in balance_years]))
    for yr in sorted(y.plan):
        report.figures[str(yr)] = {
            "max_utilization": float(rows.loc[rows["year"] == yr, "utilization"].max()),
            "dissimilarity": d_by_year[yr],
            "max_utilization_before": float(before.loc[before["year"] == yr, "utilization"].max()),
            "dissimilarity_before": d_before[yr],
        }
    if summary is not None and "years" in summary:
        report.violations.extend(_compare(summary["years"], report.figures))
    return report


def _compare(reported: dict[str, Any], mine: dict[str, Any]) -> list[str]:
    out = []
    for year, figs in mine.items():
        theirs = reported.get(year)
        if theirs is None:
            out.append(f"summary years lacks {year}")
            continue
        for key, value in figs.items():
            if key not in theirs:
                if key.endswith("_before"):
                    continue
                out.append(f"summary years[{year}] lacks '{key}'")
            elif not math.isclose(float(theirs[key]), value, rel_tol=FIGURE_RTOL, abs_tol=1e-9):
                out.append(f"summary years[{year}].{key}={theirs[key]}, checker finds {value}")
    return out


def check_years_csv(district, scenario, positions: np.ndarray, frame: pd.DataFrame) -> list[str]:
    """Compare a written years.csv (both plans) with the checker's own figures.

    Returns
    -------
    list of str
        One sentence per missing row or mismatched figure (empty when all match).
    """
    proj = _projection_rows(scenario.years.projections)
    problems = []
    for label, pos in (("today", _own_status_quo(district)), ("proposed", positions)):
        mine = _rows_for(district, scenario, np.asarray(pos), proj)
        theirs = frame[frame["plan"] == label].set_index(["school_id", "year", "series"])
        if len(theirs) != len(mine):
            problems.append(f"years.csv has {len(theirs)} {label} rows, checker finds {len(mine)}")
        for r in mine.itertuples(index=False):
            key = (r.school_id, r.year, r.series)
            if key not in theirs.index:
                problems.append(f"years.csv lacks {label} {key}")
                continue
            got = theirs.loc[key]
            for col in ("enrollment", "capacity", "utilization", "low_income_share"):
                a, b = float(got[col]), float(getattr(r, col))
                if not (math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
                        or (math.isnan(a) and math.isnan(b))):
                    problems.append(f"years.csv {label} {key} {col}={a}, checker finds {b}")
    return problems


__all__ = ["YearsCheck", "check_years", "check_years_csv"]


def _own_status_quo(district) -> np.ndarray:
    """Today's school per unit as the checker derives it from the files (check/geometry.py)."""
    from .geometry import derive

    return derive(district).status_quo
