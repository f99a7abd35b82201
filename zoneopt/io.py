"""Reading the contract's input files and writing outputs atomically.

Readers return GeoDataFrames exactly as found (no validation beyond "is it readable"): validation lives in
:mod:`zoneopt.validate` so the same checks apply to frames passed from a notebook.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .errors import ZoneoptInputError

_TEXT_COLUMNS = ("unit_id", "school_id", "current_school", "locked_school", "name")


def _as_text_ids(frame: pd.DataFrame) -> pd.DataFrame:
    """Ids are text: GEOIDs keep their leading zeros, '12.0' from a float column becomes '12'."""
    frame = frame.copy()
    for col in _TEXT_COLUMNS:
        if col in frame.columns:
            frame[col] = pd.Series([_id_text(v) for v in frame[col]], dtype=object,
                                   index=frame.index)
    return frame


def _id_text(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, float):
        if np.isnan(value):
            return None
        if value.is_integer():
            return str(int(value))
    if value is pd.NA or value is pd.NaT:
        return None
    text = str(value).strip()
    return text if text else None


def read_vector(path: str | os.PathLike, *, what: str) -> gpd.GeoDataFrame:
    """Read any vector file geopandas reads; ids are read as text.

    Parameters
    ----------
    path
        GeoPackage, GeoJSON, Shapefile (or a .zip of one), GeoParquet, FlatGeobuf...
    what
        What the file is, for error messages ("units", "schools").

    Returns
    -------
    geopandas.GeoDataFrame
    """
    path = Path(path)
    if not path.exists():
        raise ZoneoptInputError(f"the {what} file does not exist; check the path", file=path)
    if path.is_file() and path.stat().st_size == 0:
        raise ZoneoptInputError(f"the {what} file is empty", file=path)
    try:
        if path.suffix.lower() in (".parquet", ".geoparquet"):
            frame = gpd.read_parquet(path)
        else:
            frame = gpd.read_file(path)
    except Exception as exc:  # noqa: BLE001 - any reader failure is a bad file for the user
        # GDAL appends advice about driver prefixes that does not help a planner: keep the first part.
        reason = str(exc).split("; It might help")[0].strip()
        kind = "a folder, not a file" if path.is_dir() else f"{type(exc).__name__}: {reason}"
        raise ZoneoptInputError(
            f"could not read the {what} file as a vector dataset ({kind}); "
            "give a GeoPackage, GeoJSON, Shapefile or GeoParquet file",
            file=path,
        ) from None
    if len(frame) == 0:
        raise ZoneoptInputError(f"the {what} file has no rows", file=path)
    return _as_text_ids(frame)


def read_units(path: str | os.PathLike) -> gpd.GeoDataFrame:
    """Read the units file (polygons with unit_id, students, low_income); see CONTRACT.md."""
    return read_vector(path, what="units")


def read_schools(path: str | os.PathLike) -> gpd.GeoDataFrame:
    """Read the schools file: a CSV with lon/lat (WGS84) or a vector file of points.

    Returns
    -------
    geopandas.GeoDataFrame
        Points with school_id, capacity and optional name.
    """
    path = Path(path)
    if path.suffix.lower() not in (".csv", ".txt", ".tsv"):
        return read_vector(path, what="schools")
    if not path.exists():
        raise ZoneoptInputError("the schools file does not exist; check the path", file=path)
    if path.is_file() and path.stat().st_size == 0:
        raise ZoneoptInputError("the schools file is empty", file=path)
    table = None
    # Spreadsheets save "CSV UTF-8" with a byte-order mark, or plain "CSV" in Windows-1252.
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            table = pd.read_csv(
                path, dtype=str, keep_default_na=False, sep=None, engine="python", encoding=encoding
            )
            break
        except UnicodeDecodeError:
            continue
        except Exception as exc:  # noqa: BLE001
            raise ZoneoptInputError(
                f"could not read the schools CSV ({type(exc).__name__}: {exc}); save it from the "
                "spreadsheet as CSV with a header row",
                file=path,
            ) from None
    if table is None:
        raise ZoneoptInputError(
            "the schools CSV is not text in UTF-8 or Windows-1252; save it from the spreadsheet "
            "as CSV UTF-8",
            file=path,
        )
    if len(table) == 0:
        raise ZoneoptInputError("the schools file has no rows", file=path)
    table.columns = [str(c).strip() for c in table.columns]
    lower = {c.lower(): c for c in table.columns}
    lon_col = next((lower[c] for c in ("lon", "longitude", "lng", "x") if c in lower), None)
    lat_col = next((lower[c] for c in ("lat", "latitude", "y") if c in lower), None)
    if lon_col is None or lat_col is None:
        raise ZoneoptInputError(
            "a schools CSV needs 'lon' and 'lat' columns in WGS84 degrees "
            f"(found: {', '.join(table.columns)})",
            file=path,
            column="lon" if lon_col is None else "lat",
        )
    # Every bad coordinate of the file is reported at once (one numbered list).
    from .validate import Problems

    problems = Problems()
    coords = {}
    for col in (lon_col, lat_col):
        values = pd.to_numeric(table[col].str.strip(), errors="coerce")
        for row in np.flatnonzero(values.isna().to_numpy()):
            problems.add(
                f"'{table[col].iloc[row]}' is not a number of degrees; fill in the coordinate",
                file=path,
                row=_row_label(table, int(row)),
                column=col,
            )
        coords[col] = values.to_numpy(dtype=float)
    lon, lat = coords[lon_col], coords[lat_col]
    with np.errstate(invalid="ignore"):
        out_of_range = (np.abs(lat) > 90) | (np.abs(lon) > 180)
    for row in np.flatnonzero(out_of_range):
        hint = (
            " (it looks like lon and lat are swapped)"
            if abs(lat[row]) <= 180 and abs(lon[row]) <= 90
            else " (are these projected coordinates? give WGS84 degrees)"
        )
        problems.add(
            f"coordinate out of range: lon={lon[row]}, lat={lat[row]}{hint}",
            file=path,
            row=_row_label(table, int(row)),
            column=lat_col,
        )
    problems.raise_if_any()
    rest = table.drop(columns=[lon_col, lat_col])
    frame = gpd.GeoDataFrame(
        rest, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326"
    )
    frame.attrs["lonlat_columns"] = (lon_col, lat_col)
    return _as_text_ids(frame)


def _row_label(table: pd.DataFrame, row: int) -> str:
    for col in ("school_id", "unit_id"):
        if col in table.columns and str(table[col].iloc[row]).strip():
            return f"{table[col].iloc[row]} (line {row + 2})"
    return f"line {row + 2}"


def read_travel_matrix(path: str | os.PathLike) -> pd.DataFrame:
    """Read a travel matrix CSV with columns unit_id, school_id, distance_km.

    Pairs missing from the matrix are not allowed in any plan (CONTRACT.md).
    """
    path = Path(path)
    if not path.exists():
        raise ZoneoptInputError(
            "the travel matrix file does not exist; check [travel] matrix (a path relative to the "
            "scenario file)",
            file=path,
        )
    if path.is_file() and path.stat().st_size == 0:
        raise ZoneoptInputError("the travel matrix file is empty", file=path)
    try:
        table = pd.read_csv(path, dtype={"unit_id": str, "school_id": str})
    except Exception as exc:  # noqa: BLE001
        raise ZoneoptInputError(
            f"could not read the travel matrix CSV ({type(exc).__name__}: {exc})", file=path
        ) from None
    for col in ("unit_id", "school_id", "distance_km"):
        if col not in table.columns:
            raise ZoneoptInputError(
                f"the travel matrix needs columns unit_id, school_id, distance_km "
                f"(found: {', '.join(map(str, table.columns))})",
                file=path,
                column=col,
            )
    dist = pd.to_numeric(table["distance_km"], errors="coerce")
    bad = dist.isna() | (dist < 0)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise ZoneoptInputError(
            f"distance '{table['distance_km'].iloc[row]}' is not a non-negative number of km",
            file=path,
            row=f"line {row + 2}",
            column="distance_km",
        )
    table = _as_text_ids(table[["unit_id", "school_id"]]).assign(distance_km=dist.to_numpy())
    for col in ("unit_id", "school_id"):
        missing = table[col].isna()
        if missing.any():
            row = int(np.flatnonzero(missing.to_numpy())[0])
            raise ZoneoptInputError(
                f"line {row + 2} has no {col}; fill it in or drop the line",
                file=path,
                row=f"line {row + 2}",
                column=col,
            )
    dup = table.duplicated(["unit_id", "school_id"])
    if dup.any():
        row = int(np.flatnonzero(dup.to_numpy())[0])
        raise ZoneoptInputError(
            f"pair ({table['unit_id'].iloc[row]}, {table['school_id'].iloc[row]}) appears twice; "
            "keep one distance per pair",
            file=path,
            row=f"line {row + 2}",
        )
    return table


# --------------------------------------------------------------------------------------- writing


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, _default_mode(0o666))  # mkstemp makes 0600: outputs are for sharing
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write bytes atomically (a temporary file in the same folder, then a rename)."""
    path = Path(path)
    _atomic_write_bytes(path, data)
    return path


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write text atomically (a temporary file in the same folder, then a rename)."""
    path = Path(path)
    _atomic_write_bytes(path, text.encode("utf-8"))
    return path


def write_json(path: str | os.PathLike, data: Any) -> Path:
    """Write JSON atomically; infinities are written as the strings "inf"/"-inf" (JSON has none)."""
    return write_text(path, json.dumps(_json_safe(data), indent=2, allow_nan=False) + "\n")


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        if np.isnan(value):
            return None
        if np.isinf(value):
            return "inf" if value > 0 else "-inf"
    return value


def write_csv(path: str | os.PathLike, frame: pd.DataFrame) -> Path:
    """Write a CSV atomically, without the index."""
    return write_text(path, frame.to_csv(index=False, lineterminator="\n"))


def _default_mode(base: int) -> int:
    """``base`` masked by the process umask (what open() would have given the file)."""
    mask = os.umask(0)
    os.umask(mask)
    return base & ~mask


def write_vector(path: str | os.PathLike, frame: gpd.GeoDataFrame, **kwargs: Any) -> Path:
    """Write a vector file atomically; the driver follows the extension (.gpkg, .geojson, ...).

    A shapefile's sidecar files (.shx, .dbf, .prj, .cpg) are moved into place with it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmpdir = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        tmp = tmpdir / path.name
        frame.to_file(tmp, **kwargs)
        # sidecars first, the main file last: a reader never sees a main file without them
        written = sorted(tmpdir.iterdir(), key=lambda p: p.name == path.name)
        for part in written:
            os.chmod(part, _default_mode(0o666))
            os.replace(part, path.parent / part.name)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    return path


@contextlib.contextmanager
def atomic_directory(target: str | os.PathLike) -> Iterator[Path]:
    """Build an output folder in a temporary sibling and move it into place only when complete.

    An existing folder at ``target`` is replaced whole, never half-overwritten; if anything fails, the
    old folder is left exactly as it was and the temporary one removed.

    Yields
    ------
    pathlib.Path
        The temporary folder to write into.
    """
    target = Path(target).resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
    os.chmod(tmp, _default_mode(0o777))  # mkdtemp makes 0700: the folder is for sharing
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
        os.replace(target, old / "previous")
    try:
        os.replace(tmp, target)
    except BaseException:
        if old is not None:
            os.replace(old / "previous", target)
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
