"""Barriers: freeways, railways and rivers that no attendance zone should be joined across.

Definition ([travel] barriers, CONTRACT.md Additions): two neighbouring units are no longer
neighbours when their shared boundary runs *along* a barrier for most of its length. "Along" means
within :data:`BARRIER_TOLERANCE_M` metres of a barrier line (the unit boundaries of census files and
OpenStreetMap's centre lines seldom coincide exactly, and a divided freeway is mapped as two
carriageways 20 to 40 m apart), and "most" means more than :data:`BARRIER_SHARE` of the shared
boundary's length.

``zoneopt travel --barriers-out FILE`` writes, from the same OpenStreetMap extract: motorways and
trunk roads (``highway=motorway|trunk``, not their links, which are short ramps), railways
(``railway=rail|light_rail|narrow_gauge``) and rivers and canals (``waterway=river|canal``), each
except where it runs in a tunnel (``tunnel`` set and not ``no``), since a street crosses over it there.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import scipy.sparse as sp
import shapely

from .. import io
from ..errors import ZoneoptInputError

#: A shared boundary within this many metres of a barrier runs along it.
BARRIER_TOLERANCE_M = 30.0
#: Share of a shared boundary's length that must run along a barrier to cut the two units apart.
BARRIER_SHARE = 0.5

#: OpenStreetMap tags that make a barrier: key -> values.
BARRIER_TAGS: dict[str, frozenset[str]] = {
    "highway": frozenset({"motorway", "trunk"}),
    "railway": frozenset({"rail", "light_rail", "narrow_gauge"}),
    "waterway": frozenset({"river", "canal"}),
}


def osm_barriers(path: str | os.PathLike) -> gpd.GeoDataFrame:
    """The barrier lines of an OpenStreetMap extract (``.osm.pbf``, ``.osm``, ``.osm.bz2``).

    Returns
    -------
    geopandas.GeoDataFrame
        WGS84 lines with ``kind`` (``motorway``, ``trunk``, ``rail``, ``river``...), ``key``
        (``highway``, ``railway``, ``waterway``), ``name`` and ``osm_id``; possibly empty.
    """
    import osmium

    path = Path(path)
    if not path.exists():
        raise ZoneoptInputError("the network file does not exist", file=path)
    if path.name.lower().endswith(".graphml"):
        raise ZoneoptInputError(
            "--barriers-out needs an OpenStreetMap extract (.osm.pbf, .osm, .osm.bz2): a GraphML "
            "file holds only the streets of one mode", file=path)
    rows: list[dict[str, Any]] = []
    try:
        fp = (osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
              .with_locations()
              .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
              .with_filter(osmium.filter.KeyFilter(*BARRIER_TAGS)))
        for way in fp:
            tags = {t.k: t.v for t in way.tags}
            if tags.get("tunnel", "no") != "no":
                continue
            hit = next(((k, tags[k]) for k in BARRIER_TAGS if tags.get(k) in BARRIER_TAGS[k]), None)
            if hit is None:
                continue
            coords = [(nd.location.lon, nd.location.lat) for nd in way.nodes
                      if nd.location.valid()]
            if len(coords) < 2:
                continue
            rows.append({"kind": hit[1], "key": hit[0], "name": tags.get("name", ""),
                         "osm_id": int(way.id), "geometry": shapely.LineString(coords)})
    except RuntimeError as exc:
        raise ZoneoptInputError(f"could not read the OpenStreetMap file ({exc})", file=path) from None
    if not rows:
        return gpd.GeoDataFrame({"kind": [], "key": [], "name": [], "osm_id": []},
                                geometry=gpd.GeoSeries([], crs="EPSG:4326"), crs="EPSG:4326")
    return gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")


def write_barriers(frame: gpd.GeoDataFrame, path: str | os.PathLike) -> Path:
    """Write barrier lines atomically (the driver follows the extension: .gpkg, .geojson...)."""
    return io.write_vector(path, frame)


def read_barriers(path: str | os.PathLike) -> gpd.GeoDataFrame:
    """Read a barriers file: lines (or polygons, e.g. a river's area) with a CRS.

    Raises
    ------
    ZoneoptInputError
        Missing file, no CRS, or geometry that is neither lines nor polygons.
    """
    path = Path(path)
    if not path.exists():
        raise ZoneoptInputError(
            "the barriers file does not exist; check [travel] barriers (a path relative to the "
            "scenario file)", file=path, column="travel.barriers")
    try:
        frame = gpd.read_file(path)
    except Exception as exc:  # noqa: BLE001 - any reader failure is a bad file for the user
        raise ZoneoptInputError(
            f"could not read the barriers file as a vector dataset ({type(exc).__name__}: {exc}); "
            "give a GeoPackage, GeoJSON or Shapefile of lines", file=path, column="travel.barriers",
        ) from None
    if len(frame) == 0:
        return frame  # an extract with no freeway, railway or river: no barriers
    if frame.crs is None:
        raise ZoneoptInputError("the barriers file has no CRS; save it with one (e.g. EPSG:4326)",
                                file=path, column="geometry")
    kinds = set(frame.geometry.dropna().geom_type)
    bad = kinds - {"LineString", "MultiLineString", "Polygon", "MultiPolygon"}
    if bad:
        raise ZoneoptInputError(
            f"the barriers file holds {', '.join(sorted(bad))} geometry; barriers are lines "
            "(freeways, railways, rivers) or polygons", file=path, column="geometry")
    return frame[frame.geometry.notna() & ~frame.geometry.is_empty]


def blocked_by_barriers(
    geoms: np.ndarray,
    adjacency: sp.csr_matrix,
    barriers: np.ndarray,
    *,
    tolerance_m: float = BARRIER_TOLERANCE_M,
    share: float = BARRIER_SHARE,
) -> list[tuple[int, int]]:
    """The neighbour pairs ``(i, j)``, ``i < j``, whose shared boundary runs along a barrier.

    Parameters
    ----------
    geoms
        Unit polygons in a projected CRS (metres).
    adjacency
        Their rook adjacency.
    barriers
        Barrier geometries in the same CRS.
    tolerance_m, share
        See the module docstring.
    """
    if len(barriers) == 0 or adjacency.nnz == 0:
        return []
    upper = sp.triu(adjacency, k=1).tocoo()
    left, right = upper.row.astype(np.int64), upper.col.astype(np.int64)
    # The same shared boundary as the adjacency rule measures.
    shared = shapely.intersection(geoms[left], shapely.boundary(geoms[right]))
    tree = shapely.STRtree(barriers)
    pair_idx, bar_idx = tree.query(shared, predicate="dwithin", distance=tolerance_m)
    out = []
    for k in np.unique(pair_idx):
        near = bar_idx[pair_idx == k]
        zone = shapely.union_all(shapely.buffer(barriers[near], tolerance_m))
        total = shapely.length(shared[k])
        along = shapely.length(shapely.intersection(shared[k], zone))
        if total > 0 and along > share * total:
            out.append((int(left[k]), int(right[k])))
    return out


def without_pairs(adjacency: sp.csr_matrix, pairs: list[tuple[int, int]]) -> sp.csr_matrix:
    """The adjacency with the given pairs (both directions) removed."""
    if not pairs:
        return adjacency
    a = adjacency.tolil(copy=True)
    for i, j in pairs:
        a[i, j] = 0
        a[j, i] = 0
    out = a.tocsr()
    out.eliminate_zeros()
    out.sort_indices()
    return out
