"""Checks of the input frames, with messages that name the file, the id, the column and the fix.

Every function returns a cleaned *copy*; the caller's frames are never modified.
"""

from __future__ import annotations

import difflib
import warnings
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .errors import ZoneoptInputError
from .settings import INTEGER_TOLERANCE

#: Counts above this cannot be people in one unit or school: usually an id or a wrong column.
MAX_COUNT = 100_000_000


#: At most this many problems are listed in one error; the rest are counted.
MAX_LISTED = 25


class InputWarning(UserWarning):
    """Something in the input was repaired (e.g. an invalid polygon); the message names it."""


class Problems:
    """Every problem found in the input files, so that a planner fixes them all in one pass.

    Checks add a :class:`ZoneoptInputError` each (with its file, row and column) and go on;
    :meth:`raise_if_any` then raises one error holding the numbered list.
    """

    def __init__(self) -> None:
        self.errors: list[ZoneoptInputError] = []

    def add(self, message: str, *, file: Any = None, row: Any = None,
            column: str | None = None) -> None:
        """Record one problem (what is wrong and the fix), where it is."""
        self.errors.append(ZoneoptInputError(message, file=file, row=row, column=column))

    def extend(self, error: ZoneoptInputError) -> None:
        """Record every problem of an error raised by another check."""
        self.errors.extend(getattr(error, "problems", None) or [error])

    def __bool__(self) -> bool:
        return bool(self.errors)

    def __len__(self) -> int:
        return len(self.errors)

    def raise_if_any(self) -> None:
        """Raise the problems found: as they are when one, else as one numbered list."""
        if self.errors:
            raise combined_error(self.errors)


def combined_error(errors: list[ZoneoptInputError]) -> ZoneoptInputError:
    """One error for several problems: a numbered list (at most :data:`MAX_LISTED` lines).

    Parameters
    ----------
    errors
        The problems, each naming its file, row and column.

    Returns
    -------
    ZoneoptInputError
        ``errors[0]`` when alone; else an error whose message lists every problem (capped, with
        the count of the rest) and whose ``problems`` attribute holds them all. When they share
        one file, the file is named once in front.
    """
    if len(errors) == 1:
        return errors[0]
    files = {e.file for e in errors}
    one_file = len(files) == 1
    lines = []
    for k, e in enumerate(errors[:MAX_LISTED], 1):
        where = [] if one_file or not e.file else [e.file]
        if e.row is not None:
            where.append(f"row/id {e.row}")
        if e.column is not None:
            where.append(f"column '{e.column}'")
        lines.append(f"  {k}. " + (", ".join(where) + ": " if where else "") + e.detail)
    if len(errors) > MAX_LISTED:
        lines.append(f"  ... and {len(errors) - MAX_LISTED} more problem(s) of the same kinds")
    first = errors[0]
    err = ZoneoptInputError(
        f"{len(errors)} problems to fix:\n" + "\n".join(lines),
        file=first.file if one_file else None,
    )
    err.problems = list(errors)
    return err


def _did_you_mean(name: str, columns: list[str]) -> str:
    close = difflib.get_close_matches(name, [str(c) for c in columns], n=1, cutoff=0.6)
    if not close:
        lowered = {str(c).lower().strip(): str(c) for c in columns}
        if name in lowered:
            close = [lowered[name]]
    return f"; did you mean '{close[0]}'? (rename it to '{name}')" if close else ""


def require_columns(frame: pd.DataFrame, columns: list[str], *, source: str, what: str) -> None:
    """Raise a clear error for the first required column that is missing.

    Parameters
    ----------
    frame
        The table to check.
    columns
        Required column names, in the order they are checked.
    source, what
        The file name and what it holds ("units", "schools"), for the message.

    Raises
    ------
    ZoneoptInputError
        Naming every missing column, a near name when one exists ("did you mean 'Student'?"),
        the ``[columns]`` key that maps it, and the columns found.
    """
    problems = Problems()
    missing_columns(frame, columns, source=source, what=what, problems=problems)
    problems.raise_if_any()


def missing_columns(frame: pd.DataFrame, columns: list[str], *, source: str, what: str,
                    problems: Problems) -> list[str]:
    """Record a problem for each required column missing from ``frame``; return those columns."""
    missing = [c for c in columns if c not in frame.columns]
    found = (
        [str(c) for c in frame.columns if c != frame.geometry.name]
        if isinstance(frame, gpd.GeoDataFrame) and frame._geometry_column_name in frame.columns
        else [str(c) for c in frame.columns]
    )
    for col in missing:
        key = _COLUMN_KEYS.get(col)
        mapping = f", or name your column in the scenario's [columns] {key} = \"...\"" if key else ""
        problems.add(
            f"the {what} need a '{col}' column{_did_you_mean(col, found)}{mapping} "
            f"(columns found: {', '.join(found) or 'none'})",
            file=source,
            column=col,
        )
    return missing


#: The scenario's [columns] key that names each contract column in the planner's files.
_COLUMN_KEYS = {
    "unit_id": "unit_id", "students": "students", "low_income": "low_income",
    "school_id": "school_id", "capacity": "capacity", "name": "school_name",
}


def _ids(frame: pd.DataFrame, column: str, *, source: str, what: str,
         problems: Problems | None = None) -> pd.Series:
    """The ids as text; rows without one are labelled "row N" (and reported)."""
    own = problems is None
    problems = Problems() if own else problems
    if column not in frame.columns:
        return pd.Series([f"row {i + 1}" for i in range(len(frame))], index=frame.index,
                         dtype=object)
    ids = frame[column]
    missing = ids.isna().to_numpy()
    for row in np.flatnonzero(missing):
        problems.add(
            f"row {row + 1} of the {what} has no {column}; every row needs a unique id",
            file=source,
            row=f"row {row + 1}",
            column=column,
        )
    ids = ids.astype(str)
    ids[missing] = [f"row {i + 1}" for i in np.flatnonzero(missing)]
    dup = ids.duplicated(keep=False).to_numpy() & ~missing
    for first in pd.unique(ids[dup]):
        rows = [str(i + 1) for i in np.flatnonzero((ids == first).to_numpy())]
        problems.add(
            f"id '{first}' appears {len(rows)} times (rows {', '.join(rows)}); ids must be unique",
            file=source,
            row=first,
            column=column,
        )
    if own:
        problems.raise_if_any()
    return ids


def _counts(
    frame: pd.DataFrame,
    column: str,
    ids: pd.Series,
    *,
    source: str,
    what: str,
    positive: bool = False,
    problems: Problems | None = None,
) -> np.ndarray:
    """The column as int64 counts; each bad row is reported (and counted as 0 for later checks)."""
    own = problems is None
    problems = Problems() if own else problems
    raw = frame[column]
    values = pd.to_numeric(raw, errors="coerce")
    need = "greater than 0" if positive else "0 or more"
    ok = np.ones(len(frame), dtype=bool)

    def report(row: int, message: str) -> None:
        ok[row] = False
        problems.add(message, file=source, row=ids.iloc[row], column=column)

    for row in np.flatnonzero(values.isna().to_numpy()):
        shown = raw.iloc[row]
        problem = "is empty" if _is_null(shown) else f"'{shown}' is not a number"
        text = str(shown).strip()
        if "," in text and pd.notna(pd.to_numeric(text.replace(",", ""), errors="coerce")):
            problem += " (remove the thousands separators: write 1200, not 1,200)"
        report(row, f"{problem}; {column} must be a whole number"
               + (" greater than 0" if positive else " (0 or more)"))
    values = values.to_numpy(dtype=float)
    filled = np.where(ok, values, 0.0)
    for row in np.flatnonzero(ok & ~np.isfinite(filled)):
        report(row, f"{values[row]} is not a finite count; fill in a whole number")
    filled = np.where(ok, filled, 0.0)
    for row in np.flatnonzero(ok & (np.abs(filled - np.round(filled)) > INTEGER_TOLERANCE)):
        report(row, f"{values[row]:g} is not a whole number; {column} counts people, round it")
    for row in np.flatnonzero(ok & (filled > MAX_COUNT)):
        report(row, f"{values[row]:g} is implausibly large for {column} (more than "
               f"{MAX_COUNT:,}); check the column holds counts of people (not ids, areas or money)")
    # Far below zero fits no int64: clip before the cast (such rows are reported just below).
    int_min = float(np.iinfo(np.int64).min)
    counts = np.round(np.maximum(np.where(ok, filled, 0.0), int_min)).astype(np.int64)
    low = counts <= 0 if positive else counts < 0
    for row in np.flatnonzero(ok & low):
        what = "is not allowed: it is negative" if counts[row] < 0 else "is not allowed"
        # numpy turns a missing value cast to int64 into -2**63: say so.
        hint = (" (a missing value that was cast to a whole number reads like this: fill in the "
                "count)" if filled[row] == int_min else "")
        report(row, f"{values[row]:g} {what}; {column} must be {need}{hint}")
    if own:
        problems.raise_if_any()
    return np.where(ok, counts, 0)


def validate_units(
    units: gpd.GeoDataFrame, *, source: str = "units", require_low_income: bool = True
) -> gpd.GeoDataFrame:
    """Validate a units frame and return a clean copy (ids as text, counts as int64).

    Every check runs to the end: all the problems of the frame are reported at once.

    Parameters
    ----------
    units
        Polygons with ``unit_id``, ``students``, ``low_income`` and optional ``current_school`` and
        ``locked_school`` (CONTRACT.md).
    source
        The file name (or a label) used in error messages.
    require_low_income
        False when the scenario balances nothing (``balance = "none"``): a missing
        ``low_income`` column then counts 0 for every unit.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy with a RangeIndex; invalid polygons repaired (with an :class:`InputWarning`).

    Raises
    ------
    ZoneoptInputError
        With every problem found (a numbered list when there are several).
    """
    if not isinstance(units, gpd.GeoDataFrame):
        raise ZoneoptInputError(
            "units must be a GeoDataFrame of polygons (got a plain table); add the geometry",
            file=source,
        )
    if len(units) == 0:
        raise ZoneoptInputError("the units have no rows", file=source)
    _require_geometry(units, source=source, what="units")
    if units.crs is None:
        raise ZoneoptInputError(
            "the units have no coordinate reference system (CRS); set it, e.g. "
            "units.set_crs('EPSG:4269') for census files, or add the .prj file of a shapefile",
            file=source,
        )
    problems = Problems()
    out = units.copy()
    out = out.reset_index(drop=True)
    if not require_low_income and "low_income" not in out.columns:
        out["low_income"] = 0
    missing = missing_columns(out, ["unit_id", "students", "low_income"], source=source,
                              what="units", problems=problems)
    ids = _ids(out, "unit_id", source=source, what="units", problems=problems)
    out["unit_id"] = ids.to_numpy(dtype=object)
    zero = np.zeros(len(out), dtype=np.int64)
    students = zero if "students" in missing else _counts(
        out, "students", ids, source=source, what="units", problems=problems)
    low = zero if "low_income" in missing else _counts(
        out, "low_income", ids, source=source, what="units", problems=problems)
    # A row whose counts are already wrong would only repeat that problem here.
    reported = {e.row for e in problems.errors}
    for row in np.flatnonzero(low > students):
        if ids.iloc[row] in reported:
            continue
        problems.add(
            f"low_income ({low[row]}) is greater than students ({students[row]}); "
            "low_income counts students, so it must be between 0 and students",
            file=source,
            row=ids.iloc[row],
            column="low_income",
        )
    out["students"] = students
    out["low_income"] = low
    for col in ("current_school", "locked_school"):
        values = out[col] if col in out.columns else [None] * len(out)
        # object dtype: pandas would otherwise store the missing ids as NaN in a string column
        out[col] = pd.Series(
            [None if _is_null(v) else str(v) for v in values], dtype=object, index=out.index
        )
    out = _validate_geometry(out, ids, source=source, kind="polygon", what="units",
                             problems=problems)
    _check_degrees(out, ids, source=source, what="units", problems=problems)
    problems.raise_if_any()
    return out


def _require_geometry(frame: gpd.GeoDataFrame, *, source: str, what: str) -> None:
    """A GeoDataFrame may lack an active geometry column (e.g. a CSV read as a vector file)."""
    name = frame._geometry_column_name
    if name is None or name not in frame.columns:
        raise ZoneoptInputError(
            f"the {what} have no geometry column; give a vector file ("
            + ("polygons of the units" if what == "units" else "points, or a CSV with lon/lat")
            + ") or set the geometry with set_geometry()",
            file=source,
            column="geometry",
        )


def _check_degrees(frame: gpd.GeoDataFrame, ids: pd.Series, *, source: str, what: str,
                   problems: Problems) -> None:
    """Coordinates in a geographic CRS must be degrees: catches swapped or projected numbers."""
    if frame.crs is None or not frame.crs.is_geographic:
        return
    geoms = frame.geometry.to_numpy()
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    b = shapely.bounds(geoms)
    bad = present & (
        (np.abs(b[:, [1, 3]]) > 90).any(axis=1)
        | (np.abs(b[:, [0, 2]]) > 180).any(axis=1)
        | ~np.isfinite(b).all(axis=1)
    )
    for row in np.flatnonzero(bad):
        x, y = b[row, 0], b[row, 1]
        if abs(y) > 90 and abs(y) <= 180 and abs(x) <= 90:
            hint = "it looks like longitude and latitude are swapped (x must be the longitude)"
        elif max(abs(x), abs(y)) > 1000:
            hint = (
                "these look like projected coordinates (metres or feet) labelled as degrees: "
                "set the file's real CRS instead"
            )
        else:
            hint = "check the coordinates and the CRS"
        problems.add(
            f"coordinates (x={x:g}, y={y:g}) are out of range for longitude/latitude degrees "
            f"in CRS {frame.crs.to_string()}; {hint}",
            file=source,
            row=ids.iloc[row],
            column="geometry",
        )


def school_outside_error(
    units: gpd.GeoDataFrame, schools: gpd.GeoDataFrame, j: int, *, source: str
) -> ZoneoptInputError:
    """The error for a school that falls in no unit, saying whether it is outside or in a gap.

    Parameters
    ----------
    units, schools
        Validated frames in the same projected CRS (metres).
    j
        Position of the school.
    source
        The schools file, for the message.

    Returns
    -------
    ZoneoptInputError
        To raise; it distinguishes a point outside the district's area (with its distance to the
        nearest unit) from one in a gap or hole between units.
    """
    sid = schools["school_id"].iloc[j]
    point = schools.geometry.iloc[j]
    wgs = gpd.GeoSeries([point], crs=schools.crs).to_crs("EPSG:4326").iloc[0]
    geoms = units.geometry.to_numpy()
    dist = shapely.distance(geoms, point)
    near = int(np.nanargmin(dist)) if np.isfinite(dist).any() else 0
    uid = units["unit_id"].iloc[near]
    d_m = float(dist[near])
    parts = shapely.get_parts(shapely.union_all(geoms))
    outline = shapely.union_all(shapely.polygons(shapely.get_exterior_ring(parts)))
    where = f"school '{sid}' at lon {wgs.x:.5f}, lat {wgs.y:.5f}"
    if outline.covers(point):
        msg = (
            f"{where} falls in no unit: it lies in a gap between units "
            f"({d_m:.0f} m from the nearest unit, {uid}): "
            "every school must fall inside a unit; close the gap in the units file (a unit is "
            "missing or the polygons do not meet) or correct the school's coordinates"
        )
    else:
        msg = (
            f"{where} falls in no unit: it lies outside the district's area "
            f"({d_m / 1000:.2f} km from the nearest unit, "
            f"{uid}): check its coordinates (are lon and lat swapped?) or drop the school if it is "
            "not in this district"
        )
    return ZoneoptInputError(msg, file=source, row=sid, column="geometry")


def _is_null(value: Any) -> bool:
    if value is None:
        return True
    try:
        if pd.isna(value):
            return True
    except (TypeError, ValueError):
        pass
    return str(value).strip() == ""


def _validate_geometry(
    frame: gpd.GeoDataFrame, ids: pd.Series, *, source: str, kind: str, what: str,
    problems: Problems,
) -> gpd.GeoDataFrame:
    geoms = frame.geometry.to_numpy()
    null = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    for row in np.flatnonzero(null):
        problems.add(
            f"{what[:-1]} '{ids.iloc[row]}' has an empty or missing geometry; "
            "draw it or drop the row",
            file=source,
            row=ids.iloc[row],
            column="geometry",
        )
    types = shapely.get_type_id(geoms)
    polygonal = np.isin(types, [3, 6])  # Polygon, MultiPolygon
    pointlike = types == 0
    if kind == "polygon":
        for row in np.flatnonzero(~polygonal & ~null):
            extra = (
                " (points were given as units: units must be the census polygons; "
                "schools are the points)"
                if types[row] in (0, 4)
                else ""
            )
            problems.add(
                f"unit '{ids.iloc[row]}' is a {geoms[row].geom_type}, not a polygon{extra}",
                file=source,
                row=ids.iloc[row],
                column="geometry",
            )
        invalid = polygonal & ~shapely.is_valid(geoms)
        if invalid.any():
            fixed = shapely.make_valid(geoms[invalid])
            # make_valid can return collections; keep the polygonal part only.
            fixed = np.array([_polygonal_part(g) for g in fixed], dtype=object)
            flat = [k for k, g in enumerate(fixed) if shapely.area(g) <= 0 or g.is_empty]
            for k in flat:
                uid = ids[invalid].iloc[k]
                problems.add(
                    f"unit '{uid}' has an invalid polygon with no area (it collapses to a line or "
                    "a point when repaired); redraw it or drop the row",
                    file=source,
                    row=uid,
                    column="geometry",
                )
            if not flat:
                names = ", ".join(map(str, ids[invalid].iloc[:10]))
                more = "" if invalid.sum() <= 10 else f" and {invalid.sum() - 10} more"
                warnings.warn(
                    f"{source}: repaired {int(invalid.sum())} invalid polygon(s) "
                    "with shapely.make_valid: "
                    f"{names}{more}",
                    InputWarning,
                    stacklevel=3,
                )
                geoms = geoms.copy()
                geoms[invalid] = fixed
                frame = frame.set_geometry(
                    gpd.GeoSeries(geoms, crs=frame.crs, index=frame.index))
    else:
        for row in np.flatnonzero(~pointlike & ~null):
            problems.add(
                f"school '{ids.iloc[row]}' is a {geoms[row].geom_type}, not a point; give each "
                "school's location as a point (or lon/lat columns in a CSV)",
                file=source,
                row=ids.iloc[row],
                column="geometry",
            )
    return frame


def _polygonal_part(geom: Any) -> Any:
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [g for g in getattr(geom, "geoms", []) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else geom


def validate_schools(schools: gpd.GeoDataFrame, *, source: str = "schools") -> gpd.GeoDataFrame:
    """Validate a schools frame and return a clean copy (school_id, name, capacity, point geometry).

    Parameters
    ----------
    schools
        Points with ``school_id``, ``capacity`` (integer > 0) and optional ``name``.
    source
        The file name (or a label) used in error messages.

    Returns
    -------
    geopandas.GeoDataFrame
    """
    if not isinstance(schools, gpd.GeoDataFrame):
        raise ZoneoptInputError(
            "schools must be points (a GeoDataFrame, or a CSV with lon and lat columns)",
            file=source,
        )
    if len(schools) == 0:
        raise ZoneoptInputError("there are no schools", file=source)
    _require_geometry(schools, source=source, what="schools")
    if schools.crs is None:
        raise ZoneoptInputError(
            "the schools have no coordinate reference system (CRS); set it "
            "(e.g. schools.set_crs('EPSG:4326') for lon/lat)",
            file=source,
        )
    problems = Problems()
    out = schools.copy().reset_index(drop=True)
    missing = missing_columns(out, ["school_id", "capacity"], source=source, what="schools",
                              problems=problems)
    ids = _ids(out, "school_id", source=source, what="schools", problems=problems)
    out["school_id"] = ids.to_numpy(dtype=object)
    out["capacity"] = (
        np.ones(len(out), dtype=np.int64) if "capacity" in missing
        else _counts(out, "capacity", ids, source=source, what="schools", positive=True,
                     problems=problems)
    )
    if "name" in out.columns:
        out["name"] = [
            str(sid) if _is_null(n) else str(n) for sid, n in zip(ids, out["name"], strict=True)
        ]
    else:
        out["name"] = ids.to_numpy(dtype=object)
    out = _validate_geometry(out, ids, source=source, kind="point", what="schools",
                             problems=problems)
    geoms = out.geometry.to_numpy()
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    xy = shapely.get_coordinates(geoms[present])
    finite = np.ones(len(out), dtype=bool)
    if len(xy) == int(present.sum()):  # one coordinate pair per point
        finite[present] = np.isfinite(xy).all(axis=1)
    for row in np.flatnonzero(~finite):
        problems.add(
            "the school's coordinates are not finite numbers; fill in its location",
            file=source,
            row=ids.iloc[row],
            column="geometry",
        )
    _check_degrees(out[finite] if not finite.all() else out, ids[finite],
                   source=source, what="schools", problems=problems)
    problems.raise_if_any()
    return out[
        [
            "school_id",
            "name",
            "capacity",
            *[
                c
                for c in out.columns
                if c not in ("school_id", "name", "capacity", out.geometry.name)
            ],
            out.geometry.name,
        ]
    ]


def check_references(
    units: gpd.GeoDataFrame, school_ids: list[str], *, source: str = "units"
) -> None:
    """Every ``current_school`` and ``locked_school`` must name a school of the schools file.

    Parameters
    ----------
    units
        Validated units (from :func:`validate_units`).
    school_ids
        The ``school_id`` values of the schools file.
    source
        The units file name, for the message.

    Raises
    ------
    ZoneoptInputError
        Naming, for every unknown id, the first unit that uses it, the column, a suggestion
        (case-insensitive match or a near name) and exactly how many units use it.
    """
    problems = Problems()
    known = set(school_ids)
    folded = {k.strip().casefold(): k for k in known}
    for col in ("current_school", "locked_school"):
        values = units[col]
        unknown: dict[str, list[str]] = {}
        for u, v in zip(units["unit_id"], values, strict=True):
            if v is not None and v not in known:
                unknown.setdefault(v, []).append(u)
        for val, uids in unknown.items():
            hint = [folded[val.strip().casefold()]] if val.strip().casefold() in folded else []
            hint = hint or difflib.get_close_matches(val, sorted(known), n=1)
            extra = f"; did you mean '{hint[0]}'?" if hint else ""
            problems.add(
                f"{col} '{val}' is not a school_id of the schools file{extra} "
                f"({len(uids)} unit(s) affected); fix the id or leave it empty",
                file=source,
                row=uids[0],
                column=col,
            )
    problems.raise_if_any()
