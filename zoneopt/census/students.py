"""Students per unit: a district total spread by children of elementary age, or geocoded points.

Also small-count suppression for tables that are published.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from ..errors import ZoneoptInputError


def whole_total(total: object) -> int:
    """``total`` as an int, or a :class:`ZoneoptInputError` unless it is a whole number >= 0."""
    try:
        ok = not isinstance(total, bool) and float(total).is_integer() and float(total) >= 0
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ZoneoptInputError(
            f"the students total (--students-total) must be a whole number >= 0 (got {total!r})"
        )
    return int(float(total))


def largest_remainder(weights: np.ndarray | Sequence[float], total: int) -> np.ndarray:
    """Spread a whole number over weights so the parts are whole and sum exactly to ``total``.

    Each part gets the floor of its quota ``total x w / sum(w)``; the students left over go one each
    to the largest remainders (ties to the earlier position, so the result is repeatable).

    Parameters
    ----------
    weights
        Non-negative weights, e.g. children aged 5 to 10 per unit.
    total
        The whole number to spread (>= 0).

    Returns
    -------
    numpy.ndarray
        int64 parts, ``parts.sum() == total``.

    Examples
    --------
    >>> largest_remainder([94.0, 61.2, 44.8], 1000).tolist()
    [470, 306, 224]
    >>> largest_remainder([1, 1, 1], 10).tolist()
    [4, 3, 3]
    """
    w = np.asarray(weights, dtype=float)
    total = whole_total(total)
    if w.ndim != 1 or np.isnan(w).any() or (w < 0).any():
        raise ZoneoptInputError("weights for spreading students must be numbers >= 0")
    if total == 0:
        return np.zeros(len(w), dtype=np.int64)
    if w.sum() <= 0:
        raise ZoneoptInputError(
            f"cannot spread {total} students: no unit has any children of elementary age; "
            "check that the B01001 table covers these units"
        )
    quota = total * w / w.sum()
    parts = np.floor(quota).astype(np.int64)
    left = total - int(parts.sum())
    order = np.lexsort((np.arange(len(w)), -(quota - parts)))
    parts[order[:left]] += 1
    return parts


def read_student_points(path: str | os.PathLike) -> gpd.GeoDataFrame:
    """Read geocoded students: a CSV with ``lon``, ``lat`` (WGS84) and optional ``low_income`` 0/1.

    Parameters
    ----------
    path
        The CSV. One row per student; other columns are ignored.

    Returns
    -------
    geopandas.GeoDataFrame
        Points in EPSG:4326 with ``line`` (the line number in the file) and, when the file has
        it, ``low_income`` (int 0/1).
    """
    path = Path(path)
    if not path.is_file():
        raise ZoneoptInputError("the students file does not exist; check the path", file=path)
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, sep=None, engine="python")
    except Exception as exc:  # noqa: BLE001 - any parser failure is a bad file for the user
        raise ZoneoptInputError(f"could not read the students CSV ({exc})", file=path) from None
    table.columns = [str(c).strip().lower() for c in table.columns]
    if len(table) == 0:
        raise ZoneoptInputError("the students file has no rows", file=path)
    coords = {}
    for col in ("lon", "lat"):
        if col not in table.columns:
            raise ZoneoptInputError(
                f"the students CSV needs '{col}' (WGS84 degrees), one row per student "
                f"(columns found: {', '.join(table.columns)})",
                file=path,
                column=col,
            )
        values = pd.to_numeric(table[col].str.strip(), errors="coerce").to_numpy(dtype=float)
        limit = 180 if col == "lon" else 90
        bad = np.isnan(values) | (np.abs(values) > limit)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ZoneoptInputError(
                f"'{table[col].iloc[i]}' is not a {col} in WGS84 degrees",
                file=path,
                row=f"line {i + 2}",
                column=col,
            )
        coords[col] = values
    points = gpd.GeoDataFrame(
        {"line": np.arange(2, len(table) + 2)},
        geometry=gpd.points_from_xy(coords["lon"], coords["lat"]),
        crs="EPSG:4326",
    )
    if "low_income" in table.columns:
        flag = table["low_income"].str.strip().str.lower()
        mapped = flag.map({"0": 0, "1": 1, "0.0": 0, "1.0": 1, "true": 1, "false": 0})
        if mapped.isna().any():
            i = int(np.flatnonzero(mapped.isna().to_numpy())[0])
            raise ZoneoptInputError(
                f"low_income must be 0 or 1 for every student (found '{table['low_income'].iloc[i]}')",
                file=path,
                row=f"line {i + 2}",
                column="low_income",
            )
        points["low_income"] = mapped.to_numpy(dtype=np.int64)
    points.attrs["source"] = str(path)
    return points


def count_points(
    units: gpd.GeoDataFrame, points: gpd.GeoDataFrame
) -> tuple[np.ndarray, np.ndarray | None, gpd.GeoDataFrame]:
    """Count student points per unit.

    Parameters
    ----------
    units
        Polygons; the counts follow their row order.
    points
        From :func:`read_student_points`. A point on a shared edge counts once, in the first unit.

    Returns
    -------
    (students, low_income, outside)
        int64 counts per unit; low-income counts (None when the points have no ``low_income``);
        the points that fall in no unit (they are also reported with a warning).
    """
    pts = points.to_crs(units.crs)
    joined = gpd.sjoin(
        pts[["geometry"]], units[[units.geometry.name]].reset_index(drop=True),
        how="left", predicate="intersects",
    )
    joined = joined[~joined.index.duplicated(keep="first")].reindex(pts.index)
    pos = joined["index_right"]
    inside = pos.notna().to_numpy()
    idx = pos[inside].to_numpy(dtype=np.int64)
    students = np.bincount(idx, minlength=len(units)).astype(np.int64)
    low = None
    if "low_income" in points.columns:
        low = np.bincount(
            idx, weights=points["low_income"].to_numpy()[inside], minlength=len(units)
        ).astype(np.int64)
    outside = points[~inside]
    if len(outside):
        lines = ", ".join(str(x) for x in outside["line"].head(10)) if "line" in outside else ""
        warnings.warn(
            f"{len(outside)} of {len(points)} student points fall in no unit (outside the district "
            f"or the block groups) and are not counted" + (f"; lines {lines}" if lines else ""),
            stacklevel=2,
        )
    return students, low, outside


def suppress_small_counts(
    frame: pd.DataFrame,
    columns: Sequence[str] = ("students", "low_income"),
    *,
    threshold: int = 10,
    total: str = "students",
) -> pd.DataFrame:
    """A copy safe to publish: counts from 1 to ``threshold`` - 1 are blanked.

    Counts of 0 stay (they disclose nobody). A part of ``total`` (e.g. ``low_income`` of
    ``students``) is also blanked when the rest (``students - low_income``) is small, since it would
    be recovered by subtraction. Use it for anything published; the optimiser needs the exact counts.

    Parameters
    ----------
    frame
        Units or any table with count columns; not modified.
    columns
        The count columns to protect.
    threshold
        Smallest count that may be shown.
    total
        The column the others are parts of.

    Returns
    -------
    pandas.DataFrame
        Same type, counts as nullable integers (``<NA>`` where suppressed), and a boolean
        ``suppressed`` column marking rows where anything was blanked.

    Examples
    --------
    >>> t = pd.DataFrame({"students": [120, 8, 40], "low_income": [30, 2, 37]})
    >>> suppress_small_counts(t)
       students  low_income  suppressed
    0       120          30       False
    1      <NA>        <NA>        True
    2        40        <NA>        True
    """
    out = frame.copy()
    small = {}
    for col in columns:
        values = pd.to_numeric(out[col], errors="coerce")
        small[col] = ((values > 0) & (values < threshold)).to_numpy()
    if total in out.columns:
        tot = pd.to_numeric(out[total], errors="coerce").to_numpy(dtype=float)
        for col in columns:
            if col == total:
                continue
            rest = tot - pd.to_numeric(out[col], errors="coerce").to_numpy(dtype=float)
            small[col] = small[col] | ((rest > 0) & (rest < threshold)) | small.get(total, False)
    any_small = np.zeros(len(out), dtype=bool)
    for col in columns:
        values = pd.to_numeric(out[col], errors="coerce").astype("Int64")
        out[col] = values.mask(small[col])
        any_small |= small[col]
    out["suppressed"] = any_small
    return out

