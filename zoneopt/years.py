r"""Plans that hold for years: projections in, capacity by year, and enrollment per year and series.

CONTRACT.md (Additions) defines **enrollment in year y, series s**: the students of that year and
series in the units assigned to the school; with a transition, the students of a grandfathered cohort
(grade g in ``start_year`` is grade :math:`g + (y - \text{start\_year})` in year y, until it passes
``top_grade``) count at their status-quo school instead.

Everything downstream works on the arrays of :class:`YearsData`. For unit :math:`i`, plan year
:math:`y`, series :math:`s` let :math:`w_{ysi}` be its students who follow the plan (not
grandfathered) and :math:`g_{ysi}` those who are grandfathered. Then

.. math::

    E_{ysj}(x) = \sum_i w_{ysi} x_{ij} + F_{ysj}, \qquad F_{ysj} = \sum_{i: q_i = j} g_{ysi},

so a school's enrollment is linear in the plan plus a constant: the capacity rules of every year and
series are just more capacity rows, and the balance of year y is the dissimilarity index of
:math:`E_{y s_1 j}` and its low-income counterpart.

``capacity_YYYY`` columns of the schools file replace ``capacity`` from that year on (an addition that
opens in 2028 is still there in 2029), until a later ``capacity_YYYY`` column that is filled in for
the school. An empty cell means "no change that year".

Only grades 0 (kindergarten) to ``[transition] top_grade`` count as these schools' students; rows of
higher grades in a projections file (for instance a K-12 file) are ignored.
"""

from __future__ import annotations

import math
import os
import re
import weakref
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import ZoneoptInputError

#: Series used when the projections file has no ``series`` column.
DEFAULT_SERIES = "mid"
#: Highest grade a projections file may hold (grade 12).
MAX_GRADE = 12
_CAPACITY_COLUMN = re.compile(r"^capacity_(\d{4})$")


def years_active(scenario: Any) -> bool:
    """True when the scenario plans for years (``[years] plan`` is set)."""
    return bool(scenario.years.plan)


@dataclass(frozen=True, eq=False)
class YearsData:
    """Projected counts and capacities of the plan years, as arrays.

    Attributes
    ----------
    years : tuple of int
        The plan years, ascending.
    series : tuple of str
        The listed series, in the scenario's order (the first one is the balance series).
    students, low : numpy.ndarray
        ``(n_years, n_series, n_units)`` all students (grades 0..top_grade) of each unit, and the
        low-income ones.
    kept, kept_low : numpy.ndarray
        Same shape: the grandfathered students (and low-income ones), who stay at the status quo.
    capacity : numpy.ndarray
        ``(n_years, n_schools)`` seats in each plan year.
    status_quo : numpy.ndarray
        Each unit's status-quo school position.
    balance_years : numpy.ndarray
        Positions (in ``years``) whose dissimilarity the balance objective averages.
    """

    years: tuple[int, ...]
    series: tuple[str, ...]
    students: np.ndarray
    low: np.ndarray
    kept: np.ndarray
    kept_low: np.ndarray
    capacity: np.ndarray
    status_quo: np.ndarray
    balance_years: np.ndarray
    max_utilization: float
    min_utilization: float

    @property
    def n_years(self) -> int:
        """Number of plan years."""
        return len(self.years)

    @property
    def n_series(self) -> int:
        """Number of listed series."""
        return len(self.series)

    @property
    def n_schools(self) -> int:
        """Number of schools."""
        return self.capacity.shape[1]

    @cached_property
    def movable(self) -> np.ndarray:
        """``(Y, S, n)`` students who follow the plan (not grandfathered)."""
        return self.students - self.kept

    @cached_property
    def movable_low(self) -> np.ndarray:
        """``(Y, S, n)`` low-income students who follow the plan."""
        return self.low - self.kept_low

    @cached_property
    def fixed(self) -> np.ndarray:
        """``(Y, S, m)`` grandfathered students counted at each school whatever the plan."""
        return _by_school(self.status_quo, self.kept, self.n_schools)

    @cached_property
    def fixed_low(self) -> np.ndarray:
        """``(Y, S, m)`` grandfathered low-income students at each school."""
        return _by_school(self.status_quo, self.kept_low, self.n_schools)

    def limits(self) -> tuple[np.ndarray, np.ndarray]:
        """``(Y, m)`` most and fewest students allowed per school and year (before grandfathering).

        Integers: ``floor(capacity x max_utilization)`` and ``ceil(capacity x min_utilization)``.
        """
        hi = np.floor(self.capacity * self.max_utilization + 1e-6)
        lo = (np.ceil(self.capacity * self.min_utilization - 1e-6) if self.min_utilization > 0
              else np.zeros_like(self.capacity))
        return hi, lo

    def balance_weights(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        r"""Per balance year b: the factor :math:`c_b`, weights :math:`a_{bi}` and offsets :math:`G_{bj}`.

        :math:`D_b = c_b \sum_j |\sum_i a_{bi} x_{ij} + G_{bj}|` with :math:`a_{bi} = l_{bi} - p_b
        s_{bi}` over students who follow the plan, :math:`G_{bj}` the same sum over the students kept
        at school j, :math:`p_b = L_b / S_b` and :math:`c_b = S_b / (2 L_b N_b)` (0 when nothing to
        balance). Scaled by ``1 / len(balance_years)`` so the sum over b is the objective's mean.
        """
        return self._balance_weights

    @cached_property
    def _balance_weights(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Cached :meth:`balance_weights`."""
        yb = self.balance_years
        s_all = self.students[yb, 0].astype(float)
        l_all = self.low[yb, 0].astype(float)
        tot, lows = s_all.sum(axis=1), l_all.sum(axis=1)
        p = np.divide(lows, tot, out=np.zeros_like(tot), where=tot > 0)
        others = tot - lows
        ok = (lows > 0) & (others > 0)
        scale = np.where(ok, tot / np.where(ok, 2.0 * lows * others, 1.0), 0.0) / len(yb)
        w = self.movable[yb, 0].astype(float)
        wl = self.movable_low[yb, 0].astype(float)
        a = wl - p[:, None] * w
        g = self.fixed_low[yb, 0] - p[:, None] * self.fixed[yb, 0]
        return scale, a, g


def _by_school(positions: np.ndarray, counts: np.ndarray, m: int) -> np.ndarray:
    """Sum ``counts[..., i]`` by ``positions[i]``: ``(..., m)``."""
    flat = counts.reshape(-1, counts.shape[-1]).astype(float)
    out = np.zeros((flat.shape[0], m))
    for r in range(flat.shape[0]):
        out[r] = np.bincount(positions, weights=flat[r], minlength=m)
    return out.reshape(*counts.shape[:-1], m)


# ------------------------------------------------------------------------------ figures of a plan


def enrollment(data: YearsData, assign: np.ndarray) -> np.ndarray:
    """``(Y, S, m)`` enrollment of each school, year and series under ``assign`` (with transition)."""
    return _by_school(np.asarray(assign, dtype=np.int64), data.movable, data.n_schools) + data.fixed


def low_income_enrollment(data: YearsData, assign: np.ndarray) -> np.ndarray:
    """``(Y, S, m)`` low-income students of each school, year and series."""
    return (_by_school(np.asarray(assign, dtype=np.int64), data.movable_low, data.n_schools)
            + data.fixed_low)


def dissimilarity(enr: np.ndarray, low: np.ndarray) -> np.ndarray:
    """Dissimilarity index over the last axis (schools) of enrollment and low-income arrays."""
    other = enr - low
    big_l = low.sum(axis=-1, keepdims=True)
    big_n = other.sum(axis=-1, keepdims=True)
    ok = (big_l > 0) & (big_n > 0)
    d = 0.5 * np.abs(low / np.where(ok, big_l, 1) - other / np.where(ok, big_n, 1)).sum(axis=-1)
    return np.where(ok[..., 0], d, 0.0)


def balance_value(data: YearsData, assign: np.ndarray) -> float:
    """The balance term of the objective: the mean D of the balance years (first series)."""
    d = dissimilarity(enrollment(data, assign), low_income_enrollment(data, assign))
    return float(d[data.balance_years, 0].mean())


def years_objective_fn(district: Any, scenario: Any):
    """The full objective with the balance term of ``[years] balance_year``, or None without years.

    Returns
    -------
    callable or None
        ``f(assign) -> float``: mean (or one year's) D + distance and moved terms on today's counts.
    """
    if not years_active(scenario) or scenario.objective.balance != "dissimilarity":
        return None
    from . import metrics

    data = years_data(district, scenario)
    o = scenario.objective

    def objective(assign: np.ndarray) -> float:
        rest = metrics.objective_value(
            assign, district.students, district.low_income, district.dist_km, district.status_quo,
            district.n_schools, balance=False, distance_weight=o.distance_weight,
            moved_weight=o.moved_weight,
        )
        return balance_value(data, assign) + rest

    return objective


def years_frame(district: Any, data: YearsData, assign: np.ndarray, plan: str) -> pd.DataFrame:
    """years.csv rows of one plan: school, year, series, enrollment, capacity, utilization, share."""
    enr = enrollment(data, assign)
    low = low_income_enrollment(data, assign)
    rows = []
    ids = district.school_ids
    for y, year in enumerate(data.years):
        for s, series in enumerate(data.series):
            for j in range(data.n_schools):
                cap = float(data.capacity[y, j])
                e = float(enr[y, s, j])
                rows.append({
                    "plan": plan,
                    "school_id": ids[j],
                    "year": int(year),
                    "series": series,
                    "enrollment": int(round(e)),
                    "capacity": int(round(cap)),
                    "utilization": e / cap if cap > 0 else (math.inf if e > 0 else 0.0),
                    "low_income_share": float(low[y, s, j]) / e if e > 0 else math.nan,
                })
    return pd.DataFrame(rows, columns=["plan", "school_id", "year", "series", "enrollment",
                                       "capacity", "utilization", "low_income_share"])


def years_table(plan: Any) -> pd.DataFrame:
    """Per school, year and series, today's zones and the plan: the content of years.csv.

    Parameters
    ----------
    plan
        A :class:`zoneopt.plan.Plan` whose scenario sets ``[years] plan``.

    Returns
    -------
    pandas.DataFrame
        Columns ``plan`` (``today`` or ``proposed``), ``school_id``, ``year``, ``series``,
        ``enrollment``, ``capacity``, ``utilization``, ``low_income_share``; empty without years.
    """
    if not years_active(plan.scenario):
        return pd.DataFrame(columns=["plan", "school_id", "year", "series", "enrollment",
                                     "capacity", "utilization", "low_income_share"])
    data = years_data(plan.district, plan.scenario)
    parts = [years_frame(plan.district, data, plan.district.status_quo, "today")]
    if plan.positions is not None:
        parts.append(years_frame(plan.district, data, plan.positions, "proposed"))
    return pd.concat(parts, ignore_index=True)


def years_figures(district: Any, scenario: Any, assign: np.ndarray | None) -> dict[str, Any]:
    """Summary keys of a multi-year plan: ``years`` and ``years_warnings`` (empty dict without years).

    ``years`` maps each plan year (text) to ``max_utilization`` (largest over schools and listed
    series), ``dissimilarity`` (first series), the same for today's zones (``..._before``), and the
    largest utilization of each series.
    """
    if not years_active(scenario):
        return {}
    data = years_data(district, scenario)
    sq = district.status_quo
    before_enr, before_low = enrollment(data, sq), low_income_enrollment(data, sq)
    util_b = _utilization(before_enr, data.capacity)
    d_b = dissimilarity(before_enr, before_low)
    out: dict[str, Any] = {}
    util_a = d_a = None
    if assign is not None:
        after_enr, after_low = enrollment(data, assign), low_income_enrollment(data, assign)
        util_a = _utilization(after_enr, data.capacity)
        d_a = dissimilarity(after_enr, after_low)
    for y, year in enumerate(data.years):
        entry: dict[str, Any] = {
            "max_utilization_before": float(util_b[y].max()),
            "dissimilarity_before": float(d_b[y, 0]),
        }
        if util_a is not None:
            s, j = np.unravel_index(int(np.argmax(util_a[y])), util_a[y].shape)
            entry.update({
                "max_utilization": float(util_a[y].max()),
                "dissimilarity": float(d_a[y, 0]),
                "max_utilization_school": str(district.school_ids[j]),
                "max_utilization_series": data.series[s],
                "max_utilization_by_series": {
                    ser: float(util_a[y, k].max()) for k, ser in enumerate(data.series)
                },
                "dissimilarity_by_series": {
                    ser: float(d_a[y, k]) for k, ser in enumerate(data.series)
                },
            })
        out[str(year)] = entry
    return {"years": out, "years_warnings": overfill_warnings(district, data, sq, assign)}


def _utilization(enr: np.ndarray, capacity: np.ndarray) -> np.ndarray:
    cap = capacity[:, None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(cap > 0, enr / np.where(cap > 0, cap, 1), np.where(enr > 0, np.inf, 0.0))


def overfill_warnings(
    district: Any, data: YearsData, status_quo: np.ndarray, assign: np.ndarray | None
) -> list[str]:
    """Plain-words sentences for each school, year and series over capacity (today's zones, the plan).

    A school above 100% of its seats is over capacity even where ``max_utilization`` allows it.
    """
    out = []
    plans = [("today's zones", status_quo)] + ([("the plan", assign)] if assign is not None else [])
    ids = district.school_ids
    for label, a in plans:
        enr = enrollment(data, a)
        for y, year in enumerate(data.years):
            for s, series in enumerate(data.series):
                for j in range(data.n_schools):
                    cap = data.capacity[y, j]
                    e = enr[y, s, j]
                    if e > cap + 1e-9:
                        out.append(
                            f"with {label}, school {ids[j]} is over capacity in {year} under the "
                            f"{series} series: {e:.0f} students for {cap:.0f} seats "
                            f"({e / cap:.0%})" if cap > 0 else
                            f"with {label}, school {ids[j]} has {e:.0f} students in {year} under "
                            f"the {series} series but no seats (closed)"
                        )
    return out


# ------------------------------------------------------------------------------ reading


_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def years_data(district: Any, scenario: Any) -> YearsData:
    """The validated projections and capacities of ``scenario``'s plan years for ``district``.

    Read once per district and years settings (cached).

    Raises
    ------
    ZoneoptInputError
        Bad projections or capacity_YYYY values (the message names file, row and column).
    """
    y, t, c = scenario.years, scenario.transition, scenario.constraints
    stamp = os.path.getmtime(y.projections) if os.path.exists(y.projections) else None
    key = (y.projections, stamp, tuple(y.plan), tuple(y.series), str(y.balance_year), t.start_year,
           tuple(t.grandfather_grades), t.top_grade, c.max_utilization, c.min_utilization)
    per = _CACHE.setdefault(district, {})
    if key not in per:
        table = read_projections(y.projections)
        per[key] = build_years_data(district, scenario, table, source=y.projections)
    return per[key]


def read_projections(path: str | Path) -> pd.DataFrame:
    """Read a projections CSV as text (validation follows in :func:`validate_projections`)."""
    path = Path(path)
    if not path.exists():
        raise ZoneoptInputError(
            "the projections file does not exist; check [years] projections (a path relative to "
            "the scenario file)", file=path)
    if path.is_file() and path.stat().st_size == 0:
        raise ZoneoptInputError("the projections file is empty", file=path)
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except Exception as exc:  # noqa: BLE001 - any reader failure is a bad file for the user
        raise ZoneoptInputError(
            f"could not read the projections CSV ({type(exc).__name__}: {exc}); save it as CSV "
            "with a header row unit_id,year,students,low_income[,series][,grade]", file=path
        ) from None
    table.columns = [str(col).strip() for col in table.columns]
    table.attrs["source"] = str(path)
    return table


def _whole(table: pd.DataFrame, col: str, source: str, *, low: int | None = 0,
           high: int | None = None, what: str = "a whole number") -> np.ndarray:
    raw = table[col].astype(str).str.strip()
    num = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(num) | (np.abs(num - np.round(num)) > 1e-9)
    if low is not None:
        bad |= num < low
    if high is not None:
        bad |= num > high
    if bad.any():
        r = int(np.flatnonzero(bad)[0])
        shown = raw.iloc[r]
        problem = "is empty" if not shown else f"'{shown}' is not allowed"
        raise ZoneoptInputError(f"{problem}; {col} must be {what}", file=source,
                                row=f"line {r + 2}", column=col)
    return np.round(num).astype(np.int64)


def validate_projections(
    table: pd.DataFrame, unit_ids: np.ndarray, scenario: Any, *, source: str
) -> pd.DataFrame:
    """Check a projections table and return it typed: unit_id, year, series, grade, students, low.

    Every problem is a :class:`ZoneoptInputError` naming the file, the line and the column: missing
    columns, unknown units, non-integer or negative counts, low_income above students, grades outside
    0..12, duplicate rows, plan years the file does not hold, and units or series missing in a plan
    year.
    """
    for col in ("unit_id", "year", "students", "low_income"):
        if col not in table.columns:
            raise ZoneoptInputError(
                "the projections need columns unit_id, year, students, low_income (optional: "
                f"series, grade); found: {', '.join(table.columns)}", file=source, column=col)
    if len(table) == 0:
        raise ZoneoptInputError("the projections file has no rows", file=source)
    t = scenario.transition
    has_grade = "grade" in table.columns
    if t.grandfather_grades and not has_grade:
        raise ZoneoptInputError(
            "transition.grandfather_grades needs a grade column in the projections (grade 0 = "
            "kindergarten) to follow each cohort", file=source, column="grade")
    ids = table["unit_id"].astype(str).str.strip()
    empty = (ids == "").to_numpy()
    if empty.any():
        r = int(np.flatnonzero(empty)[0])
        raise ZoneoptInputError("the unit_id is empty; fill it in or drop the line", file=source,
                                row=f"line {r + 2}", column="unit_id")
    known = set(map(str, unit_ids))
    unknown = ~ids.isin(known).to_numpy()
    if unknown.any():
        r = int(np.flatnonzero(unknown)[0])
        raise ZoneoptInputError(
            f"unit_id '{ids.iloc[r]}' is not a unit of the units file; fix the id or drop the line",
            file=source, row=f"line {r + 2}", column="unit_id")
    year = _whole(table, "year", source, low=1000, high=9999, what="a four-digit year")
    students = _whole(table, "students", source, what="a whole number of students (0 or more)")
    low = _whole(table, "low_income", source, what="a whole number of students (0 or more)")
    over = low > students
    if over.any():
        r = int(np.flatnonzero(over)[0])
        raise ZoneoptInputError(
            f"low_income {low[r]} is more than students {students[r]}; low_income counts some "
            "of the students", file=source, row=f"line {r + 2}", column="low_income")
    grade = (_whole(table, "grade", source, high=MAX_GRADE, what="a grade from 0 (kindergarten) "
                    "to 12") if has_grade else np.full(len(table), -1, dtype=np.int64))
    if "series" in table.columns:
        series = table["series"].astype(str).str.strip().to_numpy(dtype=object)
        blank = series == ""
        if blank.any():
            r = int(np.flatnonzero(blank)[0])
            raise ZoneoptInputError("the series is empty; name it (e.g. low, mid, high)",
                                    file=source, row=f"line {r + 2}", column="series")
    else:
        series = np.full(len(table), DEFAULT_SERIES, dtype=object)
    typed = pd.DataFrame({"unit_id": ids.to_numpy(dtype=object), "year": year, "series": series,
                          "grade": grade, "students": students, "low_income": low})
    dup = typed.duplicated(["unit_id", "year", "series", "grade"])
    if dup.any():
        r = int(np.flatnonzero(dup.to_numpy())[0])
        what = f", grade {grade[r]}" if has_grade else ""
        raise ZoneoptInputError(
            f"unit {ids.iloc[r]}, year {year[r]}, series {series[r]}{what} appears twice; keep "
            "one row per unit, year and series" + (" and grade" if has_grade else ""),
            file=source, row=f"line {r + 2}")
    plan = list(scenario.years.plan)
    have_years = sorted(set(year.tolist()))
    for y in plan:
        if y not in have_years:
            raise ZoneoptInputError(
                f"years.plan has {y} but the projections hold only years "
                f"{_span(have_years)}; add the year's rows or remove it from years.plan",
                file=source, column="year")
    have_series = set(series.tolist())
    for s in scenario.years.series:
        if s not in have_series:
            raise ZoneoptInputError(
                f"years.series lists '{s}' but the projections have only "
                f"{', '.join(sorted(have_series))}" + ("" if "series" in table.columns else
                                                       " (no series column means 'mid')"),
                file=source, column="series")
    inplan = typed[typed["year"].isin(plan) & typed["series"].isin(scenario.years.series)]
    cells = set(zip(inplan["unit_id"], inplan["year"], inplan["series"], strict=True))
    for y in plan:
        for s in scenario.years.series:
            for uid in unit_ids:
                if (str(uid), y, s) not in cells:
                    raise ZoneoptInputError(
                        f"unit {uid} has no row for year {y}, series {s}; every unit needs one "
                        "in each plan year and listed series (write 0 students where none)",
                        file=source, row=uid, column="series")
    return typed


def _span(years: list[int]) -> str:
    if not years:
        return "(none)"
    if years == list(range(years[0], years[-1] + 1)):
        return f"{years[0]}-{years[-1]}" if len(years) > 1 else str(years[0])
    return ", ".join(map(str, years))


def capacity_by_year(schools: pd.DataFrame, years: list[int] | tuple[int, ...], *,
                     source: str = "schools") -> np.ndarray:
    """``(len(years), n_schools)`` seats: ``capacity``, replaced from year YYYY on by ``capacity_YYYY``.

    Raises
    ------
    ZoneoptInputError
        A ``capacity_YYYY`` value that is not a whole number >= 0 (0 closes the school).
    """
    base = schools["capacity"].to_numpy(dtype=float)
    changes = sorted(
        (int(mt.group(1)), col) for col in schools.columns
        if isinstance(col, str) and (mt := _CAPACITY_COLUMN.match(col))
    )
    ids = schools["school_id"].to_numpy(dtype=object)
    values = {}
    for yr, col in changes:
        raw = schools[col]
        text = raw.astype(str).str.strip()
        blank = raw.isna().to_numpy() | text.isin(["", "nan", "None", "<NA>"]).to_numpy()
        num = pd.to_numeric(text.where(~blank, "0"), errors="coerce").to_numpy(dtype=float)
        bad = ~blank & (~np.isfinite(num) | (num < 0) | (np.abs(num - np.round(num)) > 1e-9))
        if bad.any():
            r = int(np.flatnonzero(bad)[0])
            raise ZoneoptInputError(
                f"'{text.iloc[r]}' is not allowed; {col} must be a whole number of seats (0 or "
                f"more; 0 closes the school from {yr}; leave it empty for no change)",
                file=source, row=ids[r], column=col)
        values[yr] = (blank, num)
    out = np.empty((len(years), len(base)))
    for k, y in enumerate(years):
        cap = base.copy()
        for yr, (blank, num) in values.items():
            if yr <= y:
                cap = np.where(blank, cap, num)
        out[k] = cap
    return out


def build_years_data(district: Any, scenario: Any, table: pd.DataFrame, *, source: str) -> YearsData:
    """Validate ``table`` and turn it into the :class:`YearsData` of ``scenario`` for ``district``."""
    typed = validate_projections(table, district.unit_ids, scenario, source=source)
    y, t = scenario.years, scenario.transition
    if t.start_year and any(yr < t.start_year for yr in y.plan):
        early = [yr for yr in y.plan if yr < t.start_year]
        raise ZoneoptInputError(
            f"years.plan has {early} before transition.start_year {t.start_year}, when the new "
            "zones are not yet in force; plan from the start year on", file=scenario.source or
            "scenario", column="years.plan")
    years = tuple(sorted(y.plan))
    series = tuple(y.series)
    uidx = {str(u): i for i, u in enumerate(district.unit_ids)}
    n = district.n_units
    shape = (len(years), len(series), n)
    students = np.zeros(shape)
    low = np.zeros(shape)
    kept = np.zeros(shape)
    kept_low = np.zeros(shape)
    yidx = {yr: k for k, yr in enumerate(years)}
    sidx = {s: k for k, s in enumerate(series)}
    rows = typed[typed["year"].isin(years) & typed["series"].isin(series)
                 & (typed["grade"] <= t.top_grade)]
    gf = set(t.grandfather_grades)
    for uid, yr, ser, grade, st, lo in rows.itertuples(index=False, name=None):
        a, b, i = yidx[yr], sidx[ser], uidx[uid]
        students[a, b, i] += st
        low[a, b, i] += lo
        # The cohort in this grade in year yr was in grade - (yr - start) in the start year.
        if gf and grade >= 0 and grade - (yr - t.start_year) in gf:
            kept[a, b, i] += st
            kept_low[a, b, i] += lo
    capacity = capacity_by_year(district.schools, years,
                                source=district.sources.get("schools", "schools"))
    if y.balance_year == "mean":
        bal = np.arange(len(years))
    else:
        bal = np.array([years.index(int(y.balance_year))])
    return YearsData(years, series, students, low, kept, kept_low, capacity,
                     np.asarray(district.status_quo, dtype=np.int64), bal,
                     scenario.constraints.max_utilization, scenario.constraints.min_utilization)


__all__ = [
    "YearsData", "years_active", "years_data", "read_projections", "validate_projections",
    "capacity_by_year", "enrollment", "low_income_enrollment", "dissimilarity", "balance_value",
    "years_objective_fn", "years_table", "years_figures", "overfill_warnings",
]
