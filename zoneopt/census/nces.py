"""Schools from the NCES EDGE public-school geocode file, joined with the district's capacities.

The EDGE file (``EDGE_GEOCODE_PUBLICSCH_YYZZ``) lists every public school of the country with
NCESSCH (12-digit school id), LEAID (7-digit district id), NAME, LAT, LON and address fields. It is
published as a shapefile (zipped), an Excel sheet and text; this reader takes the shapefile or
GeoPackage, and the table saved as CSV or tab-separated text. Ids are text: a spreadsheet that
turned ``062271003230`` into the number ``62271003230`` is repaired by padding back to 12 digits
(LEAID to 7).
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from ..errors import ZoneoptInputError
from ..io import read_vector, write_csv

_ID_WIDTHS = {"NCESSCH": 12, "LEAID": 7}


def _ids(values: pd.Series, width: int) -> pd.Series:
    text = values.astype(str).str.strip().str.replace(r"\.0$", "", regex=True)
    return text.where(~text.str.fullmatch(r"\d+"), text.str.zfill(width))


def _read_table(path: Path) -> pd.DataFrame:
    if path.suffix.lower() in (".csv", ".txt", ".tsv", ".tab"):
        try:
            table = pd.read_csv(
                path, dtype=str, keep_default_na=False, sep=None, engine="python",
                encoding="utf-8-sig",
            )
        except Exception as exc:  # noqa: BLE001 - any parser failure is a bad file for the user
            raise ZoneoptInputError(f"could not read the school file ({exc})", file=path) from None
    else:
        table = pd.DataFrame(read_vector(path, what="NCES school").drop(columns="geometry"))
        table = table.astype(object).where(table.notna(), "").astype(str)
    table.columns = [str(c).strip().upper() for c in table.columns]
    return table


def read_nces_schools(
    geocode_file: str | os.PathLike,
    *,
    leaid: str,
    capacities: str | os.PathLike,
) -> gpd.GeoDataFrame:
    """The district's schools with their capacities, as the contract's schools.

    Parameters
    ----------
    geocode_file
        The NCES EDGE public-school geocode file (CSV/TXT, shapefile, zipped shapefile or GPKG)
        with NCESSCH, LEAID, NAME, LAT and LON.
    leaid
        The district's 7-digit NCES id (e.g. "0622710"); only its schools are kept.
    capacities
        A CSV with ``NCESSCH`` (or ``school_id``) and ``capacity`` (integer > 0). It selects the
        schools to zone: district schools missing from it (e.g. high schools when zoning
        elementary schools) are left out with a warning; a school in it that the geocode file does
        not list for this district is an error.

    Returns
    -------
    geopandas.GeoDataFrame
        Points in EPSG:4326 with ``school_id`` (= NCESSCH), ``name``, ``capacity``, ``lon``,
        ``lat`` and ``leaid``, in the order of the capacity file.

    Examples
    --------
    >>> schools = read_nces_schools(
    ...     "data/samples/EDGE_GEOCODE_PUBLICSCH_2223_sample.csv",
    ...     leaid="0699999",
    ...     capacities="data/samples/school_capacity_sample.csv",
    ... )                                                           # doctest: +SKIP
    >>> write_schools_csv(schools, "schools.csv")                   # doctest: +SKIP
    """
    path = Path(geocode_file)
    if not path.exists():
        raise ZoneoptInputError("the NCES school file does not exist; check the path", file=path)
    table = _read_table(path)
    for col in ("NCESSCH", "LEAID", "NAME", "LAT", "LON"):
        if col not in table.columns:
            raise ZoneoptInputError(
                f"the NCES EDGE geocode file needs a {col} column (columns found: "
                f"{', '.join(table.columns)})",
                file=path,
                column=col,
            )
    table["NCESSCH"] = _ids(table["NCESSCH"], 12)
    table["LEAID"] = _ids(table["LEAID"], 7)
    want = _ids(pd.Series([str(leaid)]), 7).iloc[0]
    district = table[table["LEAID"] == want]
    if len(district) == 0:
        raise ZoneoptInputError(
            f"no school has LEAID {want}; check the district's 7-digit NCES id (state FIPS + 5 "
            "digits, e.g. 0622710)",
            file=path,
            column="LEAID",
        )

    cap = _read_capacities(Path(capacities))
    known = set(district["NCESSCH"])
    unknown = [s for s in cap["school_id"] if s not in known]
    if unknown:
        raise ZoneoptInputError(
            f"school {unknown[0]} is not a school of district {want} in {path.name}; check the "
            "NCESSCH id (12 digits) and the LEAID",
            file=capacities,
            row=unknown[0],
            column="NCESSCH",
        )
    left_out = sorted(known - set(cap["school_id"]))
    if left_out:
        warnings.warn(
            f"{len(left_out)} schools of district {want} have no capacity in {capacities} and are "
            f"left out: {', '.join(left_out[:10])}" + (" ..." if len(left_out) > 10 else ""),
            stacklevel=2,
        )
    merged = cap.merge(
        district.drop_duplicates("NCESSCH"), left_on="school_id", right_on="NCESSCH", how="left"
    )
    coords = {}
    for col in ("LON", "LAT"):
        values = pd.to_numeric(merged[col].str.strip(), errors="coerce").to_numpy(dtype=float)
        limit = 180 if col == "LON" else 90
        bad = np.isnan(values) | (np.abs(values) > limit)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ZoneoptInputError(
                f"'{merged[col].iloc[i]}' is not a {col.lower()} in degrees",
                file=path,
                row=merged["school_id"].iloc[i],
                column=col,
            )
        coords[col] = values
    return gpd.GeoDataFrame(
        {
            "school_id": merged["school_id"].to_numpy(dtype=object),
            "name": merged["NAME"].str.strip().to_numpy(dtype=object),
            "capacity": merged["capacity"].to_numpy(dtype=np.int64),
            "lon": coords["LON"],
            "lat": coords["LAT"],
            "leaid": merged["LEAID"].to_numpy(dtype=object),
        },
        geometry=gpd.points_from_xy(coords["LON"], coords["LAT"]),
        crs="EPSG:4326",
    )


def _read_capacities(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise ZoneoptInputError("the capacity file does not exist; check the path", file=path)
    try:
        table = pd.read_csv(
            path, dtype=str, keep_default_na=False, sep=None, engine="python", encoding="utf-8-sig"
        )
    except Exception as exc:  # noqa: BLE001 - any parser failure is a bad file for the user
        raise ZoneoptInputError(f"could not read the capacity CSV ({exc})", file=path) from None
    table.columns = [str(c).strip().lower() for c in table.columns]
    id_col = next((c for c in ("ncessch", "school_id") if c in table.columns), None)
    if id_col is None or "capacity" not in table.columns:
        raise ZoneoptInputError(
            "the capacity CSV needs NCESSCH (or school_id) and capacity columns "
            f"(columns found: {', '.join(table.columns)})",
            file=path,
            column="capacity" if id_col else "NCESSCH",
        )
    if len(table) == 0:
        raise ZoneoptInputError("the capacity CSV has no rows", file=path)
    ids = _ids(table[id_col], 12)
    dup = ids.duplicated()
    if dup.any():
        raise ZoneoptInputError(
            "appears twice; give each school one capacity", file=path, row=ids[dup].iloc[0]
        )
    values = pd.to_numeric(table["capacity"].str.strip(), errors="coerce").to_numpy(dtype=float)
    bad = np.isnan(values) | (values <= 0) | (values != np.round(values))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ZoneoptInputError(
            f"capacity '{table['capacity'].iloc[i]}' must be a whole number of seats > 0",
            file=path,
            row=ids.iloc[i],
            column="capacity",
        )
    return pd.DataFrame({"school_id": ids.to_numpy(dtype=object), "capacity": values.astype(int)})


def write_schools_csv(schools: gpd.GeoDataFrame | pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write the contract's schools CSV (school_id,name,capacity,lon,lat) atomically.

    Parameters
    ----------
    schools
        From :func:`read_nces_schools` (or any frame with those columns, or points in place of
        lon/lat); not modified.
    path
        The CSV to write.

    Returns
    -------
    pathlib.Path
    """
    frame = schools.copy()
    if ("lon" not in frame.columns or "lat" not in frame.columns) and isinstance(
        frame, gpd.GeoDataFrame
    ):
        pts = frame.geometry.to_crs(4326)
        frame["lon"], frame["lat"] = pts.x.to_numpy(), pts.y.to_numpy()
    if "name" not in frame.columns:
        frame["name"] = ""
    for col in ("school_id", "capacity", "lon", "lat"):
        if col not in frame.columns:
            raise ZoneoptInputError(f"the schools have no '{col}' column", column=col)
    table = pd.DataFrame(frame[["school_id", "name", "capacity", "lon", "lat"]])
    return write_csv(path, table)
