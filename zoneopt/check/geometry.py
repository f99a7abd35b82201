"""The checker's own reading of CONTRACT.md's geometric definitions.

Everything here is derived again from the units' polygons, the school points and the numbers of the
input files (``district.units`` / ``district.schools`` are validated copies of them, and the travel
matrix is re-read from its file). None of :class:`~zoneopt.district.District`'s derived arrays
(``dist_km``, ``adjacency``, ``home_unit``, ``home_owner``, ``islands``, ``status_quo``) is used, and
the code is written differently on purpose (line-on-polygon lengths from a geopandas spatial index,
``contains``-first point lookups), so a bug in the model's geometry cannot hide here as well.
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass, replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import connected_components

#: CONTRACT.md: neighbours share a boundary at least 1 cm long (metres, after projection).
SHARED_BOUNDARY_M = 0.01


@dataclass(frozen=True)
class Geometry:
    """The checker's derived arrays for one district (positions follow the input files' order).

    Attributes
    ----------
    unit_ids, school_ids : numpy.ndarray
        Ids as text.
    students, low_income : numpy.ndarray
        Counts per unit (float).
    capacity : numpy.ndarray
        Capacity per school (float).
    dist_km : numpy.ndarray
        ``(n_units, n_schools)`` km; inf for pairs a travel matrix leaves out.
    adjacency : scipy.sparse.csr_matrix
        Rook neighbours (shared boundary >= 1 cm).
    home : list of numpy.ndarray
        Per school, the units whose polygon holds the school point (several when on a boundary).
    home_unit : numpy.ndarray
        Per school, the home unit (the lowest position among ``home``).
    islands : numpy.ndarray
        Units in a part of the adjacency graph that holds no school.
    status_quo : numpy.ndarray
        Today's school per unit (current_school, else the nearest), -1 when neither exists.
    locked : numpy.ndarray
        Locked school position per unit, -1 where not locked.
    distance_source : str
        ``straight_line`` or the travel matrix's file name.
    """

    unit_ids: np.ndarray
    school_ids: np.ndarray
    students: np.ndarray
    low_income: np.ndarray
    capacity: np.ndarray
    dist_km: np.ndarray
    adjacency: sp.csr_matrix
    home: list
    home_unit: np.ndarray
    islands: np.ndarray
    status_quo: np.ndarray
    locked: np.ndarray
    distance_source: str

    def without_pairs(self, pairs) -> Geometry:
        """A copy where the unit pairs ``(i, j)`` are not neighbours (e.g. across a barrier)."""
        pairs = list(pairs)
        if not pairs:
            return self
        adj = self.adjacency.tolil(copy=True)
        for i, j in pairs:
            adj[i, j] = 0
            adj[j, i] = 0
        adj = adj.tocsr()
        adj.eliminate_zeros()
        _, comp = connected_components(adj, directed=False)
        islands = ~np.isin(comp, comp[self.home_unit[self.home_unit >= 0]])
        return replace(self, adjacency=adj, islands=islands)


_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def derive(district) -> Geometry:
    """The checker's geometry of ``district`` (computed once per district object).

    Parameters
    ----------
    district : zoneopt.district.District
        Only its validated input frames (``units``, ``schools``) and ``sources`` are read.

    Returns
    -------
    Geometry
    """
    try:
        return _CACHE[district]
    except (KeyError, TypeError):
        pass
    geo = _derive(district)
    try:
        _CACHE[district] = geo
    except TypeError:
        pass
    return geo


def _derive(district) -> Geometry:
    units_in: gpd.GeoDataFrame = district.units
    schools_in: gpd.GeoDataFrame = district.schools
    utm = units_in.estimate_utm_crs()
    units = units_in.to_crs(utm)
    schools = schools_in.to_crs(utm)
    polys = units.geometry.reset_index(drop=True)
    unit_ids = units["unit_id"].astype(str).to_numpy(dtype=object)
    school_ids = schools["school_id"].astype(str).to_numpy(dtype=object)
    sindex = {s: j for j, s in enumerate(school_ids)}

    adjacency = _rook(polys)
    home = _homes(polys, schools.geometry.reset_index(drop=True))
    home_unit = np.array([h[0] if len(h) else -1 for h in home], dtype=np.int64)
    dist, source = _distances(district, units, schools, unit_ids, school_ids)

    _, comp = connected_components(adjacency, directed=False)
    islands = ~np.isin(comp, comp[home_unit[home_unit >= 0]])

    finite = np.isfinite(dist)
    nearest = np.where(finite.any(axis=1), np.argmin(np.where(finite, dist, np.inf), axis=1), -1)
    current = units["current_school"] if "current_school" in units else pd.Series([None] * len(units))
    status_quo = np.array(
        [sindex.get(str(c), -1) if _given(c) else int(nearest[i]) for i, c in enumerate(current)],
        dtype=np.int64,
    )
    lock_col = units["locked_school"] if "locked_school" in units else pd.Series([None] * len(units))
    locked = np.array([sindex.get(str(c), -2) if _given(c) else -1 for c in lock_col], dtype=np.int64)
    return Geometry(
        unit_ids=unit_ids,
        school_ids=school_ids,
        students=units["students"].to_numpy(dtype=float),
        low_income=units["low_income"].to_numpy(dtype=float),
        capacity=schools["capacity"].to_numpy(dtype=float),
        dist_km=dist,
        adjacency=adjacency,
        home=home,
        home_unit=home_unit,
        islands=islands,
        status_quo=status_quo,
        locked=locked,
        distance_source=source,
    )


def _given(value) -> bool:
    if value is None:
        return False
    if isinstance(value, float) and math.isnan(value):
        return False
    return not (isinstance(value, str) and value == "")


def _rook(polys: gpd.GeoSeries) -> sp.csr_matrix:
    """Pairs whose boundaries run together for at least 1 cm.

    The length measured is the part of one unit's outline that lies on the other unit: the shared
    edge for polygons that touch, and still the edge's length where digitising leaves a sliver of
    overlap.
    """
    n = len(polys)
    a_idx, b_idx = polys.sindex.query(polys, predicate="intersects")
    pair = a_idx < b_idx
    a_idx, b_idx = a_idx[pair], b_idx[pair]
    rows, cols = [], []
    if len(a_idx):
        outlines = polys.boundary.to_numpy()
        shapes = polys.to_numpy()
        length = shapely.length(shapely.intersection(outlines[b_idx], shapes[a_idx]))
        keep = length >= SHARED_BOUNDARY_M
        rows, cols = a_idx[keep], b_idx[keep]
    data = np.ones(2 * len(rows), dtype=np.int8)
    r = np.concatenate([rows, cols]).astype(np.int64)
    c = np.concatenate([cols, rows]).astype(np.int64)
    return sp.coo_matrix((data, (r, c)), shape=(n, n)).tocsr()


def _homes(polys: gpd.GeoSeries, points: gpd.GeoSeries) -> list[np.ndarray]:
    """Per school, the units holding its point: inside first, else on the outline (sorted)."""
    out = []
    shapes = polys.to_numpy()
    for pt in points.to_numpy():
        inside = np.flatnonzero(shapely.contains(shapes, pt))
        if not len(inside):
            inside = np.flatnonzero(shapely.intersects(shapes, pt))
        out.append(np.sort(inside))
    return out


def _distances(district, units, schools, unit_ids, school_ids) -> tuple[np.ndarray, str]:
    """Straight-line km between unit centroids and schools, or the travel matrix file's values."""
    matrix_path = (getattr(district, "sources", {}) or {}).get("travel_matrix")
    frame = getattr(district, "travel_matrix", None)
    if matrix_path or frame is not None:
        # The file when there is one; else the matrix as the caller gave it (no file to re-read).
        raw = (pd.read_csv(matrix_path, dtype={"unit_id": str, "school_id": str}) if matrix_path
               else frame.astype({"unit_id": str, "school_id": str}))
        dist = np.full((len(unit_ids), len(school_ids)), np.inf)
        ui = {u: i for i, u in enumerate(unit_ids)}
        sj = {s: j for j, s in enumerate(school_ids)}
        for u, s, d in zip(raw["unit_id"].str.strip(), raw["school_id"].str.strip(),
                           raw["distance_km"], strict=True):
            if u in ui and s in sj and pd.notna(d):
                dist[ui[u], sj[s]] = float(d)
        return dist, Path(matrix_path).name if matrix_path else "travel matrix"
    cx = units.geometry.centroid
    ux, uy = cx.x.to_numpy(), cx.y.to_numpy()
    sx, sy = schools.geometry.x.to_numpy(), schools.geometry.y.to_numpy()
    dist = np.hypot(ux[:, None] - sx[None, :], uy[:, None] - sy[None, :]) / 1000.0
    return dist, "straight_line"


def zone_pieces(geo: Geometry, pos: np.ndarray) -> dict[int, np.ndarray]:
    """Per school, the non-island units of its zone not connected inside it to its home unit.

    Where several schools share one home unit, that unit (held by one of them) counts as part of
    each sharing school's zone: every zone must touch it (CONTRACT.md).

    One connected-components pass over the edges that join two units of the same zone answers
    every school whose zone holds its home unit (the what-if editor asks after every move); a
    school whose home unit another school holds is flood-filled on its own, with that unit added.
    """
    out: dict[int, np.ndarray] = {}
    adj = geo.adjacency.tocoo()
    n = adj.shape[0]
    same = pos[adj.row] == pos[adj.col]
    graph = sp.csr_matrix((np.ones(int(same.sum()), dtype=np.int8),
                           (adj.row[same], adj.col[same])), shape=(n, n))
    _, label = connected_components(graph, directed=False)
    inside = ~geo.islands
    for j in range(len(geo.school_ids)):
        members = (pos == j) & inside
        h = int(geo.home_unit[j])
        if h < 0 or not members.any():
            continue
        if pos[h] == j:
            stray = np.flatnonzero(members & (label != label[h]))
        else:
            nodes = np.union1d(np.flatnonzero(members), [h])
            _, part = connected_components(geo.adjacency[nodes][:, nodes], directed=False)
            stray = nodes[part != part[np.searchsorted(nodes, h)]]
        if len(stray):
            out[j] = stray
    return out
