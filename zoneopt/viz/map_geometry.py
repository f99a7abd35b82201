"""Map geometry: a metric copy of the frames, coverage simplification and compact encoding.

Geometry is simplified before it is embedded, with :data:`SIMPLIFY_TOLERANCE_M` metres of
tolerance, by *coverage* simplification (``GeoSeries.simplify_coverage``): each boundary shared
by two units is simplified once, so neighbours still share it exactly (no slivers, no gaps).
Coordinates are then rounded to :data:`COORD_DECIMALS` decimals of a degree (about 1 m) and
embedded as encoded polylines, which the page decodes to GeoJSON when it opens.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from zoneopt.errors import ZoneoptInputError

__all__ = [
    "SIMPLIFY_TOLERANCE_M",
    "COORD_DECIMALS",
    "to_local",
    "require_columns",
    "simplify_coverage",
    "feature_collection",
    "dissolve",
]

#: Tolerance of the topology-preserving simplification, in metres. Census block groups are
#: hundreds of metres across, so 10 m is invisible at the zooms a district is viewed at while it
#: removes most of TIGER's vertices.
SIMPLIFY_TOLERANCE_M = 10.0
#: Decimals of a degree kept in embedded coordinates (1e-5 degree is about 1.1 m).
COORD_DECIMALS = 5


def to_local(gdf: gpd.GeoDataFrame, what: str) -> gpd.GeoDataFrame:
    """A copy in a metric CRS: the frame's own if projected in metres, else its UTM zone."""
    if gdf.crs is None:
        raise ZoneoptInputError(
            f"the {what} have no coordinate reference system; set one (e.g. gdf.set_crs(...)) "
            "before drawing a map",
            column="geometry",
        )
    out = gdf.copy()
    units = {a.unit_name.lower() for a in out.crs.axis_info}
    # Geographic degrees, or a projection in feet (State Plane): move to the UTM zone, so that
    # tolerances and distances are metres.
    if out.crs.is_geographic or not units <= {"metre", "meter", "m"}:
        out = out.to_crs(out.estimate_utm_crs())
    return out


def require_columns(frame: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    for column in columns:
        if column not in frame.columns:
            raise ZoneoptInputError(
                f"the {what} have no column '{column}'; add it (see CONTRACT.md, Inputs)",
                column=column,
            )


def simplify_coverage(
    geoms: gpd.GeoSeries, tolerance: float = SIMPLIFY_TOLERANCE_M
) -> gpd.GeoSeries:
    """Simplify polygons that tile an area so that shared boundaries stay shared.

    Parameters
    ----------
    geoms
        Polygons in a metric CRS that do not overlap (a coverage, as census units are).
    tolerance
        Largest distance, in the CRS units (metres), a simplified edge may move.

    Returns
    -------
    geopandas.GeoSeries
        Simplified polygons, same index. When ``geoms`` is not a valid coverage (overlaps or
        edges that do not match), each polygon is simplified on its own with
        ``preserve_topology=True`` and a fifth of the tolerance, which keeps every polygon valid
        and bounds any gap between neighbours to that small distance.
    """
    values = geoms.values
    if len(values) and shapely.coverage_is_valid(values, gap_width=0.0):
        return geoms.simplify_coverage(tolerance)
    return geoms.simplify(tolerance / 5.0, preserve_topology=True)


def zigzag_encode(values: np.ndarray) -> str:
    """Signed integers in Google's encoded-polyline scheme: zigzag, then 5-bit groups + 63."""
    v = np.asarray(values, dtype=np.int64).ravel()
    if not len(v):
        return ""
    z = np.where(v < 0, ~(v << 1), v << 1).astype(np.uint64)
    groups = np.ones(len(z), dtype=np.int64)
    rest = z >> np.uint64(5)
    while (rest > 0).any():
        groups += rest > 0
        rest >>= np.uint64(5)
    starts = np.concatenate([[0], np.cumsum(groups)[:-1]])
    out = np.empty(int(groups.sum()), dtype=np.uint8)
    for k in range(int(groups.max())):
        has = groups > k
        chunk = (z[has] >> np.uint64(5 * k)) & np.uint64(0x1F)
        more = (groups[has] > k + 1).astype(np.uint64) * np.uint64(0x20)
        out[starts[has] + k] = (chunk | more) + np.uint64(63)
    return out.tobytes().decode("ascii")


def encode_ring(coords: np.ndarray, scale: int = 10**COORD_DECIMALS) -> str:
    """One ring as an encoded polyline (x then y, ``scale`` steps per degree, zigzag deltas)."""
    ints = np.round(np.asarray(coords)[:, :2] * scale).astype(np.int64)
    return zigzag_encode(np.diff(ints, axis=0, prepend=np.zeros((1, 2), dtype=np.int64)))


def encode_geometry(geom: Any, scale: int = 10**COORD_DECIMALS) -> list[list[str]]:
    """A (multi)polygon as polygons, each a list of encoded rings (exterior first)."""
    if geom is None or geom.is_empty:
        return []
    parts = (shapely.get_parts(geom) if geom.geom_type in ("MultiPolygon", "GeometryCollection")
             else [geom])
    return [
        [encode_ring(np.asarray(p.exterior.coords), scale)]
        + [encode_ring(np.asarray(r.coords), scale) for r in p.interiors]
        for p in parts
        if p.geom_type == "Polygon" and not p.is_empty
    ]


def feature_collection(geoms: Sequence, props: Sequence[dict]) -> list[dict]:
    """Features as ``{"p": properties, "g": encoded polygons}``; the page decodes them to GeoJSON.

    Encoding each ring as deltas of 1e-5 degree (Google's encoded-polyline scheme) takes about a
    quarter of the bytes of GeoJSON text; vertices land on the same 1e-5 grid as plain rounding,
    so boundaries shared by two units stay identical.
    """
    features = []
    for geom, p in zip(geoms, props, strict=True):
        if geom is None or geom.is_empty:
            continue
        features.append({"p": p, "g": encode_geometry(geom)})
    return features


def dissolve(geoms: gpd.GeoSeries, labels: pd.Series, order: Sequence[str]) -> dict[str, Any]:
    out = {}
    for school in order:
        mask = (labels == school).to_numpy()
        if mask.any():
            out[school] = shapely.union_all(geoms.values[mask])
    return out
