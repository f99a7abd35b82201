"""TIGER/Line and cartographic-boundary polygons, and clipping them to a district boundary.

Reads ``tl_YYYY_SS_bg.zip`` (and tract ``_tract``, block ``_tabblock20`` files) and
``cb_YYYY_SS_bg_500k.zip`` straight from the zip, or the unzipped ``.shp``, or a GeoPackage. Field
names with the 2020 suffix (``GEOID20``, ``ALAND20``) and the 2010 one work the same as plain ones.
"""

from __future__ import annotations

import os
import warnings
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from ..errors import ZoneoptInputError
from ..io import read_vector

#: GEOID lengths of the census units that work as zoneopt units: tract, block group, block.
UNIT_GEOID_LENGTHS = {11: "tract", 12: "block group", 15: "block"}
#: GEOID prefix lengths of the enclosing geographies, finest first (for fallbacks).
PARENT_LEVELS = ((12, "block group"), (11, "tract"), (5, "county"), (2, "state"), (0, "all"))

#: Units with less than this share of their (land) area inside the boundary are dropped, and units
#: with more than 1 minus this are kept whole: district boundaries and block-group lines come from
#: different vintages and generalisations, and the slivers they leave are not real units.
SLIVER_SHARE = 0.005

_SUFFIXES = ("", "20", "10", "_20", "_10")
_COMPONENTS = ("STATEFP", "COUNTYFP", "TRACTCE", "BLKGRPCE")
_WIDTHS = {"STATEFP": 2, "COUNTYFP": 3, "TRACTCE": 6, "BLKGRPCE": 1, "BLOCKCE": 4}


def _field(frame: pd.DataFrame, stem: str) -> str | None:
    upper = {str(c).upper(): c for c in frame.columns}
    for suffix in _SUFFIXES:
        if stem + suffix in upper:
            return upper[stem + suffix]
    return None


def read_block_groups(path: str | os.PathLike | gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Read census polygons (block groups, tracts or blocks) from a TIGER/Line or CB file.

    Parameters
    ----------
    path
        ``tl_2020_06_bg.zip``, ``cb_2022_06_bg_500k.zip``, an unzipped ``.shp`` or a GeoPackage
        (or such a file already read into a GeoDataFrame, which is not modified),
        with a GEOID field (``GEOID``, ``GEOID20``; or the fully qualified ``GEOIDFQ`` /
        ``AFFGEOID``; or the STATEFP, COUNTYFP, TRACTCE, BLKGRPCE fields).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``GEOID`` (text, 11, 12 or 15 digits, all the same), ``ALAND`` and ``AWATER``
        (square metres, NaN when the file lacks them), ``POP`` (the 2020 block files' POP20, else
        NaN) and the geometry, in the file's CRS.

    Examples
    --------
    >>> bg = read_block_groups("data/samples/tl_2020_06_bg_sample.zip")
    >>> bg["GEOID"].head(2).tolist(), bg["ALAND"].head(2).tolist()
    (['060670001011', '060670001012'], [774626.0, 774626.0])
    """
    if isinstance(path, gpd.GeoDataFrame):
        frame, path = path, path.attrs.get("source", "block groups")
    else:
        frame = read_vector(path, what="block-group")
    if frame.crs is None:
        raise ZoneoptInputError(
            "the block-group file has no coordinate reference system; TIGER/Line files are in "
            "NAD83 (EPSG:4269): keep the .prj file next to the .shp",
            file=path,
        )
    geoid = _read_geoids(frame, path)
    out = gpd.GeoDataFrame(
        {"GEOID": geoid.to_numpy(dtype=object)}, geometry=frame.geometry.to_numpy(), crs=frame.crs
    )
    for stem in ("ALAND", "AWATER", "POP"):
        col = _field(frame, stem)
        out[stem] = (
            pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=float)
            if col is not None
            else np.nan
        )
    empty = out.geometry.isna() | out.geometry.is_empty
    if empty.any():
        raise ZoneoptInputError(
            "has no geometry; remove the row or use the complete file",
            file=path,
            row=out["GEOID"][empty].iloc[0],
        )
    dup = out["GEOID"].duplicated()
    if dup.any():
        raise ZoneoptInputError(
            "appears twice; each census unit must be one row (dissolve multi-part rows first)",
            file=path,
            row=out["GEOID"][dup].iloc[0],
            column="GEOID",
        )
    out.attrs["source"] = str(path)
    return out


def _read_geoids(frame: pd.DataFrame, path: Any) -> pd.Series:
    col = _field(frame, "GEOID")
    if col is not None and not pd.api.types.is_numeric_dtype(frame[col]):
        ids = frame[col].astype(str).str.strip()
    else:
        fq = _field(frame, "GEOIDFQ") or _field(frame, "AFFGEOID")
        parts = [_field(frame, c) for c in _COMPONENTS]
        block = _field(frame, "BLOCKCE")
        if fq is not None:
            ids = frame[fq].astype(str).str.strip().str.replace(r"^\d{7}US", "", regex=True)
        elif all(p is not None for p in parts[:3]):
            # Rebuild from the code fields: a numeric GEOID has lost its leading zero.
            use = parts[:3] + ([parts[3]] if parts[3] is not None else [])
            use += [block] if block is not None else []
            ids = pd.Series("", index=frame.index, dtype=object)
            for p in use:
                stem = next(s for s in _WIDTHS if str(p).upper().startswith(s))
                ids = ids + _codes(frame[p]).str.zfill(_WIDTHS[stem])
        elif col is not None:
            raise ZoneoptInputError(
                "GEOID is stored as a number, so GEOIDs of states 01-09 have lost their leading "
                "zero; use the original TIGER/Line file, or store GEOID as text",
                file=path,
                column=col,
            )
        else:
            raise ZoneoptInputError(
                "no GEOID field; expected GEOID (GEOID20 in 2020 files) as in the Census Bureau's "
                f"TIGER/Line files (fields found: {', '.join(map(str, frame.columns))})",
                file=path,
                column="GEOID",
            )
    bad = ~ids.str.fullmatch(r"\d+")
    if bad.any():
        raise ZoneoptInputError(
            f"'{ids[bad].iloc[0]}' is not a census GEOID (digits only)", file=path, column="GEOID"
        )
    lengths = set(ids.str.len())
    if len(lengths) != 1 or not lengths <= set(UNIT_GEOID_LENGTHS):
        raise ZoneoptInputError(
            f"GEOIDs have {sorted(lengths)} digits; units must all be tracts (11 digits), "
            "block groups (12) or blocks (15)",
            file=path,
            column="GEOID",
        )
    return ids


def _codes(values: pd.Series) -> pd.Series:
    if pd.api.types.is_numeric_dtype(values):
        return values.map(lambda v: str(int(v))).astype(object)
    return values.astype(str).str.strip()


# ---------------------------------------------------------------------------------- boundary


def read_boundary(
    boundary: str | os.PathLike | gpd.GeoDataFrame | gpd.GeoSeries | Any, crs: Any
) -> Any:
    """The district boundary as one shapely geometry in ``crs``.

    Parameters
    ----------
    boundary
        A polygon file (e.g. the TIGER unified school district layer cut to one district), a
        GeoDataFrame or GeoSeries, or a shapely geometry (taken to be in ``crs`` already). All
        polygons are united.
    crs
        The CRS of the units.

    Returns
    -------
    shapely.Geometry
    """
    if isinstance(boundary, str | os.PathLike):
        frame = read_vector(boundary, what="boundary")
        source = str(boundary)
    elif isinstance(boundary, gpd.GeoDataFrame | gpd.GeoSeries):
        frame = boundary
        source = "boundary"
    else:
        geom = shapely.make_valid(boundary)
        return _polygons(geom)
    if frame.crs is None:
        raise ZoneoptInputError(
            "the boundary has no coordinate reference system; add its .prj file or set it",
            file=source,
        )
    if len(frame) > 1:
        warnings.warn(
            f"the boundary {source} has {len(frame)} features; their union is used as the district "
            "(select one district's row first if the file is a whole state's layer)",
            stacklevel=3,
        )
    geom = shapely.make_valid(frame.to_crs(crs).geometry.union_all())
    geom = _polygons(geom)
    if geom.is_empty:
        raise ZoneoptInputError("the boundary holds no polygon", file=source)
    return geom


def _polygons(geom: Any) -> Any:
    """The polygonal part of a geometry (intersections also return lines and points)."""
    parts = [g for g in shapely.get_parts(geom) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def equal_area_crs(frame: gpd.GeoDataFrame) -> pyproj.CRS:
    """A Lambert azimuthal equal-area projection centred on the frame: areas in m^2, exactly."""
    bounds = frame.to_crs(4326).total_bounds
    lon, lat = (bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2
    return pyproj.CRS.from_proj4(
        f"+proj=laea +lat_0={lat:.6f} +lon_0={lon:.6f} +x_0=0 +y_0=0 +ellps=GRS80 +units=m"
    )


def clip_to_boundary(
    units: gpd.GeoDataFrame,
    boundary: Any,
    *,
    water: gpd.GeoDataFrame | str | os.PathLike | None = None,
    sliver_share: float = SLIVER_SHARE,
) -> gpd.GeoDataFrame:
    """Keep the part of each unit inside the boundary, and the share of its area that lies there.

    Parameters
    ----------
    units
        Polygons (any CRS); not modified.
    boundary
        See :func:`read_boundary`.
    water
        Optional water polygons (e.g. TIGER/Line ``tl_2020_06067_areawater.zip``). Where given,
        the share is of land area: water inside a unit holds nobody. Without it the share is of the
        polygon's area, which equals land area for units with ``AWATER`` = 0 and for cartographic
        boundary (``cb_``) files, whose polygons stop at the shoreline.
        Water only matters where a unit is cut: a unit wholly inside keeps all its people.
    sliver_share
        Shares below this drop the unit, shares above 1 minus this keep it whole.

    Returns
    -------
    geopandas.GeoDataFrame
        The units with some area inside, clipped, with ``inside_fraction`` (1 for whole units).
    """
    geom = read_boundary(boundary, units.crs)
    hits = units.sindex.query(geom, predicate="intersects")
    cand = units.iloc[np.sort(hits)].copy()
    if len(cand) == 0:
        raise ZoneoptInputError(
            "no unit overlaps the boundary; check that both files cover the same district "
            f"(units span {np.round(units.to_crs(4326).total_bounds, 3).tolist()} in lon/lat)",
            file=boundary if isinstance(boundary, str | os.PathLike) else None,
        )
    area_crs = equal_area_crs(cand)
    shapes = cand.geometry.to_crs(area_crs).make_valid()
    g = gpd.GeoSeries([geom], crs=units.crs).to_crs(area_crs).iloc[0]
    if water is not None:
        water_frame = (
            read_vector(water, what="water") if isinstance(water, str | os.PathLike) else water
        )
        if water_frame.crs is None:
            raise ZoneoptInputError("the water layer has no coordinate reference system")
        wet = water_frame.to_crs(area_crs).geometry
        # A state's water layer is large: only the water near the candidate units matters.
        wet = wet.iloc[wet.sindex.query(shapely.box(*shapes.total_bounds))]
        wet = shapely.make_valid(wet.union_all())
        land = shapes.difference(wet)
        # A unit that is all water keeps its polygon as the weight: it holds nobody either way.
        land = land.where(land.area > 0, shapes)
    else:
        land = shapes
    inside_land = land.intersection(g).area.to_numpy()
    fraction = np.clip(inside_land / land.area.to_numpy(), 0.0, 1.0)
    keep = fraction >= sliver_share
    whole = fraction > 1.0 - sliver_share
    fraction = np.where(whole, 1.0, fraction)
    clipped = cand.geometry.make_valid().intersection(geom).map(_polygons)
    kept = np.where(whole, cand.geometry.to_numpy(), clipped.to_numpy())
    cand = cand.set_geometry(gpd.GeoSeries(kept, index=cand.index, crs=units.crs))
    cand["inside_fraction"] = fraction
    return cand[keep]
