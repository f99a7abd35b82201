r"""Enrollment projections by cohort survival, for districts that have no demographer's forecast.

The method is the grade-progression (cohort-survival) method that school-district demographers use
(e.g. the "cohort survival" of NCES's *Projections of Education Statistics* and of most planning
firms' enrollment reports), applied unit by unit:

1. **Grade progression ratios.** For grade g >= 1 and each pair of consecutive history years,
   :math:`R_g(t) = \sum_i S_{i,g,t+1} / \sum_i S_{i,g-1,t}`: how many students reach grade g for every
   student in grade g-1 the year before (below 1 where families move out, above 1 where they move in).
   The district's *mid* ratio pools every transition, :math:`R_g = \sum_t \sum_i S_{i,g,t+1} /
   \sum_t \sum_i S_{i,g-1,t}`; each unit's own ratio is shrunk towards it,
   :math:`r_{ig} = (\text{num}_{ig} + k R_g) / (\text{den}_{ig} + k)` with :math:`k` = ``shrink``
   students (50 by default), so a unit with a handful of children follows the district while a
   large growing unit keeps its own trend.
2. **Kindergarten.** With a births file (``unit_id,year,births``): the kindergarten-to-births ratio
   five years earlier, pooled and shrunk in the same way, times the births of year T-5 (births not yet
   known are the mean of the unit's last three known years). Without births: the ratio of each
   year's kindergarten to the prior year's kindergarten (the same pooling and shrinkage).
3. **New housing** (optional ``unit_id,year,housing_units``): each housing unit completed in year T
   adds ``yield_per_unit`` students in year T, spread evenly over grades 0..``top_grade``; from then
   on they progress with their cohorts.
4. **Low-income students**: each unit keeps the low-income share of its last history year (the
   district's share where the unit had no students).
5. **Series.** ``mid`` uses the pooled ratios. ``low`` uses, for every grade, the lowest district
   ratio observed in any single history transition, and ``high`` the highest (each unit's ratio is
   scaled by the same factor); with a single transition, ``low``/``high`` are the mid ratios -/+
   ``band`` (2%). New housing counts ``housing_low`` (0.5) and ``housing_high`` (1.5) times the yield
   in the low and high series: slower or faster building than announced.

Cohorts are carried unrounded; the output rounds each unit's grade count to whole students. The last
history year is written too (identical in every series), so ``years.csv`` can show today's year.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import ZoneoptInputError

SERIES = ("low", "mid", "high")


@dataclass(frozen=True)
class Method:
    """The projector's settings (see the module docstring)."""

    shrink: float = 50.0
    band: float = 0.02
    yield_per_unit: float = 0.3
    housing_low: float = 0.5
    housing_high: float = 1.5
    top_grade: int = 5


# ------------------------------------------------------------------------------ inputs


def _read(path_or_frame, what: str, columns: list[str], optional: tuple[str, ...] = ()
          ) -> tuple[pd.DataFrame, str]:
    """Read a CSV (or take a frame) and parse ``columns`` (and ``optional`` ones when present)."""
    if isinstance(path_or_frame, pd.DataFrame):
        table, source = path_or_frame.astype(str), what
    else:
        source = str(path_or_frame)
        if not Path(source).exists():
            raise ZoneoptInputError(f"the {what} file does not exist; check the path", file=source)
        try:
            table = pd.read_csv(source, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        except Exception as exc:  # noqa: BLE001 - any reader failure is a bad file for the user
            raise ZoneoptInputError(f"could not read the {what} CSV ({exc})", file=source) from None
    table.columns = [str(c).strip() for c in table.columns]
    for col in columns:
        if col not in table.columns:
            raise ZoneoptInputError(
                f"the {what} need columns {', '.join(columns)} (found: {', '.join(table.columns)})",
                file=source, column=col)
    out = pd.DataFrame({"unit_id": table["unit_id"].astype(str).str.strip()})
    for col in [*columns[1:], *(c for c in optional if c in table.columns)]:
        raw = table[col].astype(str).str.strip()
        num = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
        whole = col != "births"
        bad = ~np.isfinite(num) | (num < 0)
        if whole:
            bad |= np.abs(num - np.round(num)) > 1e-9
        if bad.any():
            r = int(np.flatnonzero(bad)[0])
            raise ZoneoptInputError(
                f"'{raw.iloc[r]}' is not allowed; {col} must be a "
                + ("whole number" if whole else "number") + " (0 or more)",
                file=source, row=f"line {r + 2}", column=col)
        out[col] = np.round(num).astype(np.int64) if whole else num
    return out, source


def read_history(history) -> pd.DataFrame:
    """Validate grade counts by unit for past years: ``unit_id,year,grade,students[,low_income]``.

    Raises
    ------
    ZoneoptInputError
        Missing columns, non-integer or negative counts, low_income above students, duplicate rows,
        fewer than two years or a gap between years.
    """
    table, source = _read(history, "history", ["unit_id", "year", "grade", "students"],
                          ("low_income",))
    if "low_income" not in table.columns:
        table["low_income"] = 0
    over = table["low_income"] > table["students"]
    if over.any():
        r = int(np.flatnonzero(over.to_numpy())[0])
        raise ZoneoptInputError("low_income is more than students", file=source,
                                row=f"line {r + 2}", column="low_income")
    dup = table.duplicated(["unit_id", "year", "grade"])
    if dup.any():
        r = int(np.flatnonzero(dup.to_numpy())[0])
        raise ZoneoptInputError("this unit, year and grade appear twice; keep one row",
                                file=source, row=f"line {r + 2}")
    years = sorted(table["year"].unique().tolist())
    if len(years) < 2:
        raise ZoneoptInputError(
            "the history needs at least two consecutive years of grade counts (the ratios compare "
            "each grade with the grade below the year before)", file=source, column="year")
    if years != list(range(years[0], years[-1] + 1)):
        raise ZoneoptInputError(f"the history's years have a gap ({years}); give every year",
                                file=source, column="year")
    return table


# ------------------------------------------------------------------------------ arithmetic


def _cube(table: pd.DataFrame, units: list[str], years: list[int], grades: int,
          col: str) -> np.ndarray:
    """``(n_units, n_years, grades)`` counts from long rows (missing rows are 0)."""
    out = np.zeros((len(units), len(years), grades))
    ui = {u: k for k, u in enumerate(units)}
    yi = {y: k for k, y in enumerate(years)}
    for u, y, g, v in zip(table["unit_id"], table["year"], table["grade"], table[col], strict=True):
        if g < grades:
            out[ui[u], yi[y], g] += v
    return out


def _shrunk(num: np.ndarray, den: np.ndarray, pooled: np.ndarray, shrink: float) -> np.ndarray:
    """Each unit's ratio num/den shrunk towards the district's ``pooled`` ratio by ``shrink`` students."""
    return (num + shrink * pooled) / (den + shrink) if shrink > 0 else np.divide(
        num, den, out=np.broadcast_to(pooled, num.shape).astype(float).copy(), where=den > 0)


def progression_ratios(counts: np.ndarray, method: Method) -> dict[str, np.ndarray]:
    """Unit grade progression ratios per series: ``{series: (n_units, grades)}`` (column 0 unused).

    Parameters
    ----------
    counts
        ``(n_units, n_years, grades)`` history.
    method
        Shrinkage and band.
    """
    num = counts[:, 1:, 1:].sum(axis=1)
    den = counts[:, :-1, :-1].sum(axis=1)
    pooled = num.sum(axis=0) / np.maximum(den.sum(axis=0), 1e-12)
    yearly = counts[:, 1:, 1:].sum(axis=0) / np.maximum(counts[:, :-1, :-1].sum(axis=0), 1e-12)
    if yearly.shape[0] > 1:
        low, high = yearly.min(axis=0), yearly.max(axis=0)
    else:
        low, high = pooled * (1 - method.band), pooled * (1 + method.band)
    unit = _shrunk(num, den, pooled[None, :], method.shrink)
    factor = {"low": low / np.where(pooled > 0, pooled, 1), "mid": np.ones_like(pooled),
              "high": high / np.where(pooled > 0, pooled, 1)}
    out = {}
    for s, f in factor.items():
        r = np.zeros((counts.shape[0], counts.shape[2]))
        r[:, 1:] = unit * f[None, :]
        out[s] = r
    return out


def _kinder_ratios(counts: np.ndarray, births: np.ndarray | None, method: Method,
                   ) -> dict[str, np.ndarray]:
    """Per series, each unit's kindergarten ratio (to births 5 years before, or to last year's K)."""
    k = counts[:, :, 0]
    if births is None:
        num, den = k[:, 1:], k[:, :-1]
    else:
        num, den = k, births
    pooled = num.sum() / max(den.sum(), 1e-12)
    yearly = num.sum(axis=0) / np.maximum(den.sum(axis=0), 1e-12)
    if len(yearly) > 1:
        low, high = yearly.min(), yearly.max()
    else:
        low, high = pooled * (1 - method.band), pooled * (1 + method.band)
    unit = _shrunk(num.sum(axis=1), den.sum(axis=1), np.array(pooled), method.shrink)
    scale = pooled if pooled > 0 else 1.0
    return {"low": unit * low / scale, "mid": unit, "high": unit * high / scale}


def project(
    history,
    *,
    years: int = 5,
    births=None,
    housing=None,
    method: Method | None = None,
) -> pd.DataFrame:
    """Project students by unit, year, grade and series with the cohort-survival method.

    Parameters
    ----------
    history
        Grade counts by unit for past years (CSV path or frame ``unit_id,year,grade,students
        [,low_income]``), at least two consecutive years.
    years
        How many years after the last history year to project.
    births
        Optional births by unit and year (``unit_id,year,births``); kindergarten then follows births
        five years earlier instead of the prior kindergarten.
    housing
        Optional new housing (``unit_id,year,housing_units``) completed in projection years.
    method
        Shrinkage, band, yield and top grade (:class:`Method` defaults).

    Returns
    -------
    pandas.DataFrame
        ``unit_id,year,series,grade,students,low_income`` for the last history year and the
        ``years`` after it, in the projections format of CONTRACT.md.

    Examples
    --------
    >>> hist = pd.DataFrame({"unit_id": ["A"] * 4, "year": [2024, 2024, 2025, 2025],
    ...                      "grade": [0, 1, 0, 1], "students": [10, 10, 12, 9]})
    >>> out = project(hist, years=1, method=Method(shrink=0, top_grade=1))
    >>> out[(out.series == "mid") & (out.year == 2026)].students.tolist()
    [14, 11]
    """
    method = method or Method()
    hist = read_history(history)
    grades = method.top_grade + 1
    units = sorted(hist["unit_id"].unique().tolist())
    hyears = sorted(hist["year"].unique().tolist())
    counts = _cube(hist, units, hyears, grades, "students")
    lows = _cube(hist, units, hyears, grades, "low_income")
    last = counts[:, -1, :]
    share_all = lows[:, -1].sum() / max(last.sum(), 1e-12)
    unit_tot = last.sum(axis=1)
    share = np.where(unit_tot > 0, lows[:, -1].sum(axis=1) / np.where(unit_tot > 0, unit_tot, 1),
                     share_all)
    base, future = hyears[-1], [hyears[-1] + k for k in range(1, years + 1)]
    birth_cube = None
    if births is not None:
        btab, bsrc = _read(births, "births", ["unit_id", "year", "births"])
        bt = {(u, int(y)): float(b) for u, y, b in zip(btab["unit_id"], btab["year"],
                                                        btab["births"], strict=True)}
        missing = [(u, y - 5) for u in units for y in hyears if (u, y - 5) not in bt]
        if missing:
            raise ZoneoptInputError(
                f"kindergarten in {missing[0][1] + 5} follows births in {missing[0][1]}, but "
                f"unit {missing[0][0]} has none; give births from {hyears[0] - 5} on",
                file=bsrc, row=missing[0][0], column="births")
        birth_cube = np.array([[bt[(u, y - 5)] for y in hyears] for u in units])

        def births_for(u: str, y: int) -> float:
            if (u, y) in bt:
                return bt[(u, y)]
            known = sorted(yy for (uu, yy) in bt if uu == u)[-3:]
            return float(np.mean([bt[(u, yy)] for yy in known]))
    add = {}
    if housing is not None:
        htab, _ = _read(housing, "housing", ["unit_id", "year", "housing_units"])
        for u, y, h in zip(htab["unit_id"], htab["year"], htab["housing_units"], strict=True):
            add[(u, int(y))] = add.get((u, int(y)), 0.0) + float(h)
    gpr = progression_ratios(counts, method)
    kr = _kinder_ratios(counts, birth_cube, method)
    housing_factor = {"low": method.housing_low, "mid": 1.0, "high": method.housing_high}
    rows = []

    def emit(year: int, series: str, grid: np.ndarray) -> None:
        st = np.rint(grid)
        lo = np.minimum(np.rint(st * share[:, None]), st)
        for i, u in enumerate(units):
            for g in range(grades):
                rows.append((u, year, series, g, int(st[i, g]), int(lo[i, g])))

    for series in SERIES:
        grid = last.copy()
        emit(base, series, grid)
        for y in future:
            nxt = np.zeros_like(grid)
            nxt[:, 1:] = grid[:, :-1] * gpr[series][:, 1:]
            if birth_cube is None:
                nxt[:, 0] = grid[:, 0] * kr[series]
            else:
                nxt[:, 0] = kr[series] * np.array([births_for(u, y - 5) for u in units])
            for i, u in enumerate(units):
                h = add.get((u, y), 0.0)
                if h:
                    nxt[i] += h * method.yield_per_unit * housing_factor[series] / grades
            grid = nxt
            emit(y, series, grid)
    return pd.DataFrame(rows, columns=["unit_id", "year", "series", "grade", "students",
                                       "low_income"])


def write_projections(frame: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write a projections frame as the CSV of ``[years] projections`` (atomically)."""
    from ..io import write_csv

    return write_csv(path, frame)


__all__ = ["Method", "SERIES", "project", "read_history", "progression_ratios",
           "write_projections"]
